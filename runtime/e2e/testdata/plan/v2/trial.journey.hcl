# The edit: welcome is removed (its customers go to intro), engaged is
# renamed active_user and waits an hour, parked is gone (its customers
# exit).
event "signed_up" {}
event "project_created" {}
event "park" {}
event "deployed" {}

journey "trial" {
  entry "signed_up" {}
  goal "deployed" {}

  stage "intro" {
    on "project_created" { goto = stage.active_user }
    after "2d" { goto = end }
  }

  stage "active_user" {
    after "1h" { goto = end }
  }

  moved {
    from = stage.engaged
    to   = stage.active_user
  }

  removed {
    from = stage.welcome
    goto = stage.intro
  }
}
