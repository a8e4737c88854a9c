# Scenario tests for the upgrade nudge, and for the lifecycle policy's frequency cap, which
# it shares with onboarding ("3 per 7d" across both journeys).

test "hobby account out of build minutes: the limit email, then a Pro trial, then an upgrade" {
  start = "2026-03-02T10:00:00+01:00"
  customer = {
    id         = "u-2001"
    email      = "noor@example.com"
    first_name = "Noor"
    plan       = "hobby"
    timezone   = "Europe/Berlin"
  }

  event "usage_limit_reached" {
    resource = "build_minutes"
    limit    = 300
  }
  expect {
    journey = "upgrade_nudge"
    stage   = "limit_hit"
    sent    = ["limit_reached"]
  }

  wait "3d" {}
  expect {
    journey = "upgrade_nudge"
    stage   = "trial_offer"
    sent    = ["pro_trial_offer"]
  }

  wait "1d" {}
  event "plan_upgraded" {
    from_plan = "hobby"
    to_plan   = "pro"
  }
  expect {
    journey = "upgrade_nudge"
    status  = "converted"
    sent    = []
  }
}

test "bandwidth limits and paid plans are not pitched" {
  start = "2026-03-02T10:00:00+01:00"
  customer = {
    id         = "u-2002"
    email      = "olu@example.com"
    first_name = "Olu"
    plan       = "hobby"
    timezone   = "Europe/Berlin"
  }

  event "usage_limit_reached" {
    resource = "bandwidth"
    limit    = 100
  }
  expect {
    journey = "upgrade_nudge"
    status  = "none"
    sent    = []
  }

  identify {
    plan = "pro"
  }
  event "usage_limit_reached" {
    resource = "build_minutes"
    limit    = 3000
  }
  expect {
    journey = "upgrade_nudge"
    status  = "none"
    sent    = []
  }
}

test "after 30d: no second pitch in the same month, a new one the month after" {
  start = "2026-03-02T10:00:00+01:00"
  customer = {
    id         = "u-2003"
    email      = "ines@example.com"
    first_name = "Inês"
    plan       = "hobby"
    timezone   = "Europe/Berlin"
  }

  event "usage_limit_reached" {
    resource = "build_minutes"
    limit    = 300
  }
  wait "7d" {}
  expect {
    journey = "upgrade_nudge"
    status  = "completed"
    sent    = ["limit_reached", "pro_trial_offer"]
  }

  # 13 days after the first pitch ended: refused.
  wait "13d" {}
  event "usage_limit_reached" {
    resource = "build_minutes"
    limit    = 300
  }
  expect {
    journey = "upgrade_nudge"
    status  = "completed"
    sent    = []
  }

  # 33 days after it ended: a new instance.
  wait "20d" {}
  event "usage_limit_reached" {
    resource = "build_minutes"
    limit    = 300
  }
  expect {
    journey = "upgrade_nudge"
    stage   = "limit_hit"
    status  = "active"
    sent    = ["limit_reached"]
  }
}

test "unsubscribing during the pitch exits before the trial offer" {
  start = "2026-03-02T10:00:00+01:00"
  customer = {
    id         = "u-2004"
    email      = "bo@example.com"
    first_name = "Bo"
    plan       = "hobby"
    timezone   = "Europe/Berlin"
  }

  event "usage_limit_reached" {
    resource = "build_minutes"
    limit    = 300
  }
  expect {
    journey = "upgrade_nudge"
    sent    = ["limit_reached"]
  }

  wait "1d" {}
  event "unsubscribed" {}
  wait "3d" {}
  expect {
    journey  = "upgrade_nudge"
    status   = "exited"
    sent     = []
    not_sent = ["pro_trial_offer"]
  }
}

test "a fourth email in a week is capped: the upgrade pitch after a busy onboarding" {
  start = "2026-03-02T09:00:00+01:00"
  customer = {
    id         = "u-2005"
    email      = "yuki@example.com"
    first_name = "Yuki"
    plan       = "hobby"
    timezone   = "Europe/Berlin"
  }

  event "signed_up" {
    plan   = "hobby"
    source = "web"
  }
  expect {
    journey = "onboarding"
    sent    = ["welcome"] # 1 of 3: Mon 09:00
  }

  wait "2d 6h" {}
  event "project_created" {
    project_id = "prj-c4p"
    framework  = "nextjs"
  }
  expect {
    journey = "onboarding"
    stage   = "building"
    sent    = ["project_nudge"] # 2 of 3: Wed 09:00
  }

  wait "1d" {}
  expect {
    journey = "onboarding"
    stage   = "deploy_help"
    sent    = ["deploy_help"] # 3 of 3: Thu 15:00
  }

  # Failing builds burn the free minutes. Fri 10:00: three lifecycle emails in the last
  # seven days, so the limit email is capped (dropped and recorded), not delayed.
  wait "19h" {}
  event "usage_limit_reached" {
    resource = "build_minutes"
    limit    = 300
  }
  expect {
    journey  = "upgrade_nudge"
    stage    = "limit_hit"
    status   = "active"
    sent     = []
    not_sent = ["limit_reached"]
  }

  wait "1d" {}
  event "plan_upgraded" {
    from_plan = "hobby"
    to_plan   = "pro"
  }
  expect {
    journey = "upgrade_nudge"
    status  = "converted"
    sent    = []
  }
}

test "a limit hit at night waits for 08:00; deleting the account drops the held trial offer" {
  start = "2026-03-02T22:30:00+01:00" # Mon 22:30, in quiet hours
  customer = {
    id         = "u-2006"
    email      = "mateo@example.com"
    first_name = "Mateo"
    plan       = "hobby"
    timezone   = "Europe/Berlin"
  }

  event "usage_limit_reached" {
    resource = "build_minutes"
    limit    = 300
  }
  expect {
    journey = "upgrade_nudge"
    stage   = "limit_hit"
    status  = "active"
    sent    = []
  }

  wait "10h" {} # Tue 3 08:30: released at 08:00
  expect {
    journey = "upgrade_nudge"
    sent    = ["limit_reached"]
  }

  # Thu 5 22:30: trial_offer, three days after the limit was hit; held by quiet hours.
  wait "2d 14h 15m" {} # Thu 5 22:45
  expect {
    journey  = "upgrade_nudge"
    stage    = "trial_offer"
    status   = "active"
    sent     = []
    not_sent = ["pro_trial_offer"]
  }

  wait "8h" {} # Fri 6 06:45
  event "account_deleted" {}
  expect {
    journey = "upgrade_nudge"
    status  = "exited"
    sent    = []
  }

  wait "2h" {} # Fri 6 08:45: quiet hours are over, but the held offer was dropped
  expect {
    journey  = "upgrade_nudge"
    status   = "exited"
    sent     = []
    not_sent = ["pro_trial_offer"]
  }
}
