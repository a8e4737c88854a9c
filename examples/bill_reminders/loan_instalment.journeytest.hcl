# Scenario tests for loan instalment reminders (Europe/London, UTC in March).
# March 2026: Mon 2, Mon 23, Thu 26, Fri 27.

test "app customer: a push three days before, then paid" {
  start = "2026-03-02T10:00:00Z"
  customer = {
    id            = "k-20001"
    email         = "lucy.brennan@example.co.uk"
    first_name    = "Lucy"
    timezone      = "Europe/London"
    app_installed = true
    autopay       = false
    needs_agent   = false
  }

  event "bill_issued" {
    bill_id     = "ln-2603-20001"
    product     = "loan"
    amount_due  = 286.40
    minimum_due = 286.40
    due_date    = "2026-03-26T12:00:00Z" # a Thursday
  }
  expect {
    journey = "loan_instalment_reminder"
    stage   = "scheduled"
    status  = "active"
    sent    = []
  }

  wait "21d 3h" {} # Mon 23 13:00; the push went out at 12:00
  expect {
    journey  = "loan_instalment_reminder"
    stage    = "reminder_app"
    sent     = ["instalment_push"]
    not_sent = ["instalment_ivr"]
  }

  wait "1d" {}
  event "bill_paid" {
    bill_id  = "ln-2603-20001"
    amount   = 286.40
    paid_via = "app"
  }
  expect {
    journey = "loan_instalment_reminder"
    status  = "converted"
    sent    = []
  }
}

test "no app: an IVR call, then an arrears notice when the instalment is missed" {
  start = "2026-03-02T10:00:00Z"
  customer = {
    id            = "k-20002"
    email         = "g.morgan@example.co.uk"
    first_name    = "Gareth"
    phone         = "+447700900202"
    timezone      = "Europe/London"
    language      = "cy"
    app_installed = false
    autopay       = false
    needs_agent   = false
  }

  event "bill_issued" {
    bill_id     = "ln-2603-20002"
    product     = "loan"
    amount_due  = 412.75
    minimum_due = 412.75
    due_date    = "2026-03-26T12:00:00Z"
  }

  wait "21d 3h" {} # Mon 23 13:00
  expect {
    journey = "loan_instalment_reminder"
    stage   = "reminder_ivr"
    sent    = ["instalment_ivr"]
  }

  wait "4d" {} # Fri 27 13:00; overdue since 12:00
  expect {
    journey  = "loan_instalment_reminder"
    stage    = "arrears_notice"
    sent     = ["arrears_notice"]
    not_sent = ["loan_agent_callback"]
  }

  wait "7d" {}
  expect {
    journey = "loan_instalment_reminder"
    status  = "completed"
    sent    = []
  }
}

test "a customer flagged for assisted service who misses an instalment gets an agent" {
  start = "2026-03-02T10:00:00Z"
  customer = {
    id            = "k-20003"
    email         = "harold.finch@example.co.uk"
    first_name    = "Harold"
    phone         = "+447700900203"
    timezone      = "Europe/London"
    app_installed = false
    autopay       = false
    needs_agent   = true
  }

  event "bill_issued" {
    bill_id     = "ln-2603-20003"
    product     = "loan"
    amount_due  = 198.00
    minimum_due = 198.00
    due_date    = "2026-03-26T12:00:00Z"
  }

  wait "25d 3h" {} # Fri 27 13:00
  expect {
    journey  = "loan_instalment_reminder"
    stage    = "agent_referral"
    sent     = ["instalment_ivr", "loan_agent_callback"]
    not_sent = ["arrears_notice"]
  }
}

test "switching reminders off exits before the instalment reminder" {
  start = "2026-03-02T10:00:00Z"
  customer = {
    id            = "k-20004"
    email         = "nina.k@example.co.uk"
    first_name    = "Nina"
    timezone      = "Europe/London"
    app_installed = true
    autopay       = false
    needs_agent   = false
  }

  event "bill_issued" {
    bill_id     = "ln-2603-20004"
    product     = "loan"
    amount_due  = 150.00
    minimum_due = 150.00
    due_date    = "2026-03-26T12:00:00Z"
  }
  wait "5d" {}
  event "reminders_opted_out" {}
  expect {
    journey = "loan_instalment_reminder"
    status  = "exited"
    sent    = []
  }

  wait "20d" {}
  expect {
    journey  = "loan_instalment_reminder"
    sent     = []
    not_sent = ["instalment_push", "arrears_notice"]
  }
}
