# Scenario tests for the support case journey (service policy: no quiet hours).

test "a case that stays open: acknowledgement, update, escalation, then it lapses" {
  start = "2026-03-02T10:00:00+08:00"
  customer = {
    id         = "c-201"
    email      = "deng.qi@example.com"
    first_name = "Qi"
    plan       = "premium"
    ltv        = 2140
    timezone   = "Asia/Shanghai"
  }

  event "support_ticket_opened" {
    ticket_id = "T-6001"
    topic     = "billing"
  }
  expect {
    journey = "support_case"
    stage   = "acknowledge"
    status  = "active"
    sent    = ["ticket_received"]
  }

  wait "2d" {}
  expect {
    journey = "support_case"
    stage   = "still_open"
    sent    = ["ticket_update"]
  }

  wait "5d" {}
  expect {
    journey = "support_case"
    stage   = "escalate"
    sent    = ["escalation"]
  }

  wait "30d" {}
  expect {
    journey = "support_case"
    status  = "completed"
    sent    = []
  }
}

test "closing the ticket converts the case and stops the updates" {
  start = "2026-03-02T10:00:00+08:00"
  customer = {
    id         = "c-202"
    email      = "feng.yu@example.com"
    first_name = "Yu"
    plan       = "standard"
    timezone   = "Asia/Shanghai"
  }

  event "support_ticket_opened" {
    ticket_id = "T-6002"
    topic     = "device"
  }
  wait "1d" {}
  event "support_ticket_closed" {
    ticket_id  = "T-6002"
    resolution = "solved"
  }
  expect {
    journey = "support_case"
    status  = "converted"
    sent    = ["ticket_received"]
  }

  wait "7d" {}
  expect {
    journey  = "support_case"
    sent     = []
    not_sent = ["ticket_update", "escalation"]
  }
}

test "a ticket opened at midnight is acknowledged at once: the service policy has no quiet hours" {
  start = "2026-03-02T23:50:00+08:00"
  customer = {
    id         = "c-203"
    email      = "cao.lan@example.com"
    first_name = "Lan"
    plan       = "standard"
    timezone   = "Asia/Shanghai"
  }

  event "support_ticket_opened" {
    ticket_id = "T-6003"
    topic     = "activation"
  }
  expect {
    journey = "support_case"
    sent    = ["ticket_received"]
  }
}

test "a new ticket after the last one closed opens a new case" {
  start = "2026-03-02T10:00:00+08:00"
  customer = {
    id         = "c-204"
    email      = "peng.bo@example.com"
    first_name = "Bo"
    plan       = "standard"
    timezone   = "Asia/Shanghai"
  }

  event "support_ticket_opened" {
    ticket_id = "T-6004"
    topic     = "delivery"
  }
  wait "4h" {}
  event "support_ticket_closed" {
    ticket_id  = "T-6004"
    resolution = "solved"
  }
  expect {
    journey = "support_case"
    status  = "converted"
    sent    = ["ticket_received"]
  }

  wait "3d" {}
  event "support_ticket_opened" {
    ticket_id = "T-6031"
    topic     = "billing"
  }
  expect {
    journey = "support_case"
    stage   = "acknowledge"
    status  = "active"
    sent    = ["ticket_received"]
  }
}
