event "signed_up" {}
event "project_created" {}
event "deployed" {}

journey "trial" {
  entry "signed_up" {}
  goal "deployed" {}

  stage "welcome" {
    on "project_created" { goto = stage.engaged }
    after "2d" { goto = stage.nudge }
  }

  stage "nudge" {
    after "3d" { goto = end }
  }

  stage "engaged" {
    after "7d" { goto = end }
  }
}
