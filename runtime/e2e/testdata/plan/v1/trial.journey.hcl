# The plan test's running workspace: customers wait in welcome, engaged or
# parked.
event "signed_up" {}
event "project_created" {}
event "park" {}
event "deployed" {}

journey "trial" {
  entry "signed_up" {}
  goal "deployed" {}

  stage "welcome" {
    on "project_created" { goto = stage.engaged }
    on "park" { goto = stage.parked }
    after "2d" { goto = end }
  }

  stage "engaged" {
    after "7d" { goto = end }
  }

  stage "parked" {
    on "project_created" { goto = stage.engaged }
  }
}
