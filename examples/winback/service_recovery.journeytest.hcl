# Scenario tests for service recovery on its own (care policy: Mon-Fri 09:00-17:00).

test "a follow-up request: ticket and note, a check-in ten days later, then the case ends" {
  start = "2026-04-07T11:00:00-04:00" # Tuesday
  customer = {
    id              = "ck-6101"
    email           = "ivy.chen@example.com"
    first_name      = "Ivy"
    timezone        = "America/New_York"
    lifetime_orders = 3
  }

  event "service_followup_requested" {
    last_order_id = "CK-88888"
    days_inactive = 36
  }
  expect {
    journey = "service_recovery"
    stage   = "reach_out"
    status  = "active"
    sent    = ["helpdesk_ticket", "care_note"]
  }

  wait "10d" {} # Fri 17 11:00
  expect {
    journey = "service_recovery"
    stage   = "check_in"
    sent    = ["care_check_in"]
  }

  wait "7d" {}
  expect {
    journey = "service_recovery"
    status  = "completed"
    sent    = []
  }
}

test "a request after 17:00 waits for the next working morning" {
  start = "2026-04-07T17:30:00-04:00" # Tuesday, after hours
  customer = {
    id         = "ck-6102"
    email      = "leo.martin@example.com"
    first_name = "Leo"
    timezone   = "America/New_York"
  }

  event "service_followup_requested" {
    last_order_id = "CK-88990"
    days_inactive = 41
  }
  expect {
    journey = "service_recovery"
    sent    = []
  }

  wait "16h" {} # Wed 09:30
  expect {
    journey = "service_recovery"
    sent    = ["helpdesk_ticket", "care_note"]
  }
}
