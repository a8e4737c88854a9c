# Scenario tests for the onboarding journey. Times are Berlin local (UTC+01:00 in March);
# the lifecycle policy's quiet hours are 21:00-08:00 in the customer's own zone.

test "hobby signup with no project: welcome, project nudge, starter templates" {
  start = "2026-03-02T09:00:00+01:00"
  customer = {
    id         = "u-1001"
    email      = "jonas@example.com"
    first_name = "Jonas"
    company    = "Kleinwerk"
    plan       = "hobby"
    timezone   = "Europe/Berlin"
  }

  event "signed_up" {
    plan   = "hobby"
    source = "web"
  }
  expect {
    journey = "onboarding"
    stage   = "welcome"
    status  = "active"
    sent    = ["welcome"]
  }

  wait "2d" {}
  expect {
    journey = "onboarding"
    stage   = "project_nudge"
    sent    = ["project_nudge"]
  }

  wait "3d" {}
  expect {
    journey  = "onboarding"
    stage    = "starter_templates"
    sent     = ["starter_templates"]
    not_sent = ["csm_handoff", "office_hours_invite"]
  }

  wait "9d" {}
  expect {
    journey = "onboarding"
    status  = "completed"
    sent    = []
  }
}

test "pro signup that stalls is invited to office hours, then deploys" {
  start = "2026-03-02T09:00:00+01:00"
  customer = {
    id         = "u-1002"
    email      = "amara@example.com"
    first_name = "Amara"
    company    = "Okafor Studio"
    plan       = "pro"
    timezone   = "Europe/Berlin"
  }

  event "signed_up" {
    plan   = "pro"
    source = "github"
  }
  expect {
    journey = "onboarding"
    sent    = ["welcome"]
  }

  wait "5d" {}
  expect {
    journey  = "onboarding"
    stage    = "office_hours"
    sent     = ["project_nudge", "office_hours_invite"]
    not_sent = ["starter_templates", "csm_handoff"]
  }

  wait "3h" {}
  event "project_created" {
    project_id = "prj-7f3a"
    framework  = "rails"
  }
  expect {
    journey = "onboarding"
    stage   = "building"
    sent    = []
  }

  wait "2h" {}
  event "first_deploy" {
    project_id    = "prj-7f3a"
    build_seconds = 212
  }
  expect {
    journey  = "onboarding"
    status   = "converted"
    sent     = []
    not_sent = ["deploy_help"]
  }
}

test "enterprise trial that stalls is handed to a customer success manager" {
  start = "2026-03-02T09:00:00+01:00"
  customer = {
    id         = "u-1003"
    email      = "p.lindqvist@northwind.example"
    first_name = "Petra"
    company    = "Northwind Logistics"
    plan       = "enterprise"
    seats      = 40
    timezone   = "Europe/Berlin"
  }

  event "signed_up" {
    plan   = "enterprise"
    source = "web"
  }
  expect {
    journey = "onboarding"
    sent    = ["welcome"]
  }

  wait "5d" {}
  expect {
    journey  = "onboarding"
    stage    = "sales_assist"
    sent     = ["project_nudge", "csm_handoff"]
    not_sent = ["starter_templates", "office_hours_invite"]
  }

  # The CSM's call works: a project, then a deploy.
  wait "2d" {}
  event "project_created" {
    project_id = "prj-91c0"
    framework  = "nextjs"
  }
  expect {
    journey = "onboarding"
    stage   = "building"
  }

  wait "4h" {}
  event "first_deploy" {
    project_id    = "prj-91c0"
    build_seconds = 95
  }
  expect {
    journey = "onboarding"
    status  = "converted"
    sent    = []
  }
}

test "a project on day one and a deploy the next morning: converted, no nudges" {
  start = "2026-03-02T09:00:00+01:00"
  customer = {
    id         = "u-1004"
    email      = "mei@example.com"
    first_name = "Mei"
    plan       = "hobby"
    timezone   = "Europe/Berlin"
  }

  event "signed_up" {
    plan   = "hobby"
    source = "cli"
  }
  expect {
    journey = "onboarding"
    sent    = ["welcome"]
  }

  wait "3h" {}
  event "project_created" {
    project_id = "prj-0042"
    framework  = "static"
  }
  expect {
    journey = "onboarding"
    stage   = "building"
    sent    = []
  }

  wait "20h" {}
  event "first_deploy" {
    project_id    = "prj-0042"
    build_seconds = 31
  }
  expect {
    journey = "onboarding"
    status  = "converted"
    sent    = []
  }

  wait "7d" {}
  expect {
    journey  = "onboarding"
    status   = "converted"
    sent     = []
    not_sent = ["project_nudge", "deploy_help"]
  }
}

test "a project but no deploy: the deploy help arrives a day later" {
  start = "2026-03-02T09:00:00+01:00"
  customer = {
    id         = "u-1005"
    email      = "tomas@example.com"
    first_name = "Tomás"
    plan       = "hobby"
    timezone   = "Europe/Berlin"
  }

  event "signed_up" {
    plan   = "hobby"
    source = "web"
  }
  expect {
    journey = "onboarding"
    sent    = ["welcome"]
  }

  wait "1d" {}
  event "project_created" {
    project_id = "prj-5d2e"
    framework  = "django"
  }
  wait "1d" {}
  expect {
    journey  = "onboarding"
    stage    = "deploy_help"
    sent     = ["deploy_help"]
    not_sent = ["project_nudge"]
  }

  wait "4d" {}
  expect {
    journey = "onboarding"
    status  = "completed"
    sent    = []
  }
}

test "a late-night signup gets the welcome at 08:00, not at 23:30" {
  start = "2026-03-02T23:30:00+01:00"
  customer = {
    id         = "u-1006"
    email      = "lena@example.com"
    first_name = "Lena"
    plan       = "hobby"
    timezone   = "Europe/Berlin"
  }

  event "signed_up" {
    plan   = "hobby"
    source = "web"
  }
  expect {
    journey = "onboarding"
    stage   = "welcome"
    status  = "active"
    sent    = []
  }

  wait "8h" {} # 07:30: still quiet
  expect {
    journey = "onboarding"
    sent    = []
  }

  wait "1h" {} # 08:30: the held welcome went out at 08:00
  expect {
    journey = "onboarding"
    stage   = "welcome"
    sent    = ["welcome"]
  }
}

test "a night owl who deploys before morning never gets the held welcome" {
  start = "2026-03-02T22:00:00+01:00"
  customer = {
    id         = "u-1007"
    email      = "ravi@example.com"
    first_name = "Ravi"
    plan       = "hobby"
    timezone   = "Europe/Berlin"
  }

  event "signed_up" {
    plan   = "hobby"
    source = "cli"
  }
  wait "10m" {}
  event "project_created" {
    project_id = "prj-beef"
    framework  = "go"
  }
  wait "30m" {}
  event "first_deploy" {
    project_id    = "prj-beef"
    build_seconds = 48
  }
  expect {
    journey = "onboarding"
    status  = "converted"
    sent    = []
  }

  # Quiet hours end at 08:00; the welcome held since 22:00 is dropped, not sent.
  wait "12h" {}
  expect {
    journey  = "onboarding"
    status   = "converted"
    sent     = []
    not_sent = ["welcome"]
  }
}

test "unsubscribing exits the journey and stops the nudges" {
  start = "2026-03-02T09:00:00+01:00"
  customer = {
    id         = "u-1008"
    email      = "sam@example.com"
    first_name = "Sam"
    plan       = "hobby"
    timezone   = "Europe/Berlin"
  }

  event "signed_up" {
    plan   = "hobby"
    source = "web"
  }
  wait "2d" {}
  expect {
    journey = "onboarding"
    stage   = "project_nudge"
    sent    = ["welcome", "project_nudge"]
  }

  wait "1h" {}
  event "unsubscribed" {}
  expect {
    journey = "onboarding"
    status  = "exited"
  }

  wait "10d" {}
  expect {
    journey  = "onboarding"
    status   = "exited"
    sent     = []
    not_sent = ["starter_templates", "deploy_help"]
  }
}

test "deleting the account exits at once" {
  start = "2026-03-02T09:00:00+01:00"
  customer = {
    id         = "u-1009"
    email      = "kim@example.com"
    first_name = "Kim"
    plan       = "pro"
    timezone   = "Europe/Berlin"
  }

  event "signed_up" {
    plan   = "pro"
    source = "web"
  }
  expect {
    journey = "onboarding"
    sent    = ["welcome"]
  }

  wait "1d" {}
  event "account_deleted" {}
  expect {
    journey = "onboarding"
    status  = "exited"
    sent    = []
  }

  wait "5d" {}
  expect {
    journey  = "onboarding"
    sent     = []
    not_sent = ["project_nudge", "office_hours_invite"]
  }
}

test "signing up again never restarts onboarding" {
  start = "2026-03-02T09:00:00+01:00"
  customer = {
    id         = "u-1010"
    email      = "ana@example.com"
    first_name = "Ana"
    plan       = "hobby"
    timezone   = "Europe/Berlin"
  }

  event "signed_up" {
    plan   = "hobby"
    source = "web"
  }
  wait "1h" {}
  event "first_deploy" {
    project_id    = "prj-aa01"
    build_seconds = 64
  }
  expect {
    journey = "onboarding"
    status  = "converted"
    sent    = ["welcome"]
  }

  # A second team, a month later: reentry = "never".
  wait "30d" {}
  event "signed_up" {
    plan   = "pro"
    source = "web"
  }
  expect {
    journey  = "onboarding"
    status   = "converted"
    sent     = []
    not_sent = ["welcome"]
  }
}

test "an enterprise trial that never starts a project: the CSM hand-off, then the journey ends nine days on" {
  start = "2026-03-02T09:00:00+01:00"
  customer = {
    id         = "u-1011"
    email      = "r.haddad@contoso.example"
    first_name = "Rania"
    company    = "Contoso Freight"
    plan       = "enterprise"
    seats      = 120
    timezone   = "Europe/Berlin"
  }

  event "signed_up" {
    plan   = "enterprise"
    source = "web"
  }
  expect {
    journey = "onboarding"
    sent    = ["welcome"]
  }

  wait "5d" {} # Sat 7 09:00
  expect {
    journey  = "onboarding"
    stage    = "sales_assist"
    status   = "active"
    sent     = ["project_nudge", "csm_handoff"]
    not_sent = ["starter_templates", "office_hours_invite"]
  }

  wait "8d 23h" {} # Mon 16 08:00: an hour to go
  expect {
    journey = "onboarding"
    stage   = "sales_assist"
    status  = "active"
    sent    = []
  }

  wait "1h" {} # Mon 16 09:00: nine days after the hand-off
  expect {
    journey  = "onboarding"
    status   = "completed"
    sent     = []
    not_sent = ["deploy_help"]
  }
}

test "a pro signup late at night: every email waits for 08:00, and the office hours invite ends the journey nine days on" {
  start = "2026-03-02T22:00:00+01:00" # Mon 22:00, in quiet hours
  customer = {
    id         = "u-1012"
    email      = "felix@example.com"
    first_name = "Felix"
    company    = "Brandt & Söhne"
    plan       = "pro"
    timezone   = "Europe/Berlin"
  }

  event "signed_up" {
    plan   = "pro"
    source = "web"
  }
  expect {
    journey = "onboarding"
    stage   = "welcome"
    status  = "active"
    sent    = []
  }

  wait "10h 30m" {} # Tue 3 08:30
  expect {
    journey = "onboarding"
    sent    = ["welcome"]
  }

  # Wed 4 22:00 project_nudge (held until Thu 08:00); Sat 7 22:00 office_hours (held).
  wait "4d 14h" {} # Sat 7 22:30
  expect {
    journey  = "onboarding"
    stage    = "office_hours"
    status   = "active"
    sent     = ["project_nudge"]
    not_sent = ["office_hours_invite", "starter_templates", "csm_handoff"]
  }

  wait "10h" {} # Sun 8 08:30: the third email in seven days, so not capped
  expect {
    journey = "onboarding"
    stage   = "office_hours"
    sent    = ["office_hours_invite"]
  }

  # Nine days count from entering office_hours (Sat 7 22:00), not from the send.
  wait "8d 14h" {} # Mon 16 22:30
  expect {
    journey  = "onboarding"
    status   = "completed"
    sent     = []
    not_sent = ["deploy_help"]
  }
}

test "a project after the starter templates: building, then deploy help a day later" {
  start = "2026-03-02T09:00:00+01:00"
  customer = {
    id         = "u-1013"
    email      = "oskar@example.com"
    first_name = "Oskar"
    plan       = "hobby"
    timezone   = "Europe/Berlin"
  }

  event "signed_up" {
    plan   = "hobby"
    source = "github"
  }
  wait "5d" {} # Sat 7 09:00
  expect {
    journey  = "onboarding"
    stage    = "starter_templates"
    sent     = ["welcome", "project_nudge", "starter_templates"]
    not_sent = ["csm_handoff", "office_hours_invite"]
  }

  wait "1d 1h" {} # Sun 8 10:00: one of the starters, deployed with one click... almost
  event "project_created" {
    project_id = "prj-st4r"
    framework  = "nextjs"
  }
  expect {
    journey = "onboarding"
    stage   = "building"
    status  = "active"
    sent    = []
  }

  # Mon 9 10:00: the welcome (Mon 2 09:00) has left the seven-day window, so this is allowed.
  wait "1d" {}
  expect {
    journey = "onboarding"
    stage   = "deploy_help"
    sent    = ["deploy_help"]
  }

  wait "2h" {}
  event "first_deploy" {
    project_id    = "prj-st4r"
    build_seconds = 74
  }
  expect {
    journey = "onboarding"
    status  = "converted"
    sent    = []
  }
}
