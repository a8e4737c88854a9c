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

test "app customer who misses the instalment: the arrears notice due on a Saturday waits for Monday" {
  # Fri 27 March is the cut-off; Sat 28 is overdue; London moves to BST (UTC+01:00) on Sun 29.
  start = "2026-03-02T10:00:00Z"
  customer = {
    id            = "k-20005"
    email         = "priya.shah@example.co.uk"
    first_name    = "Priya"
    timezone      = "Europe/London"
    app_installed = true
    autopay       = false
    needs_agent   = false
  }

  event "bill_issued" {
    bill_id     = "ln-2603-20005"
    product     = "loan"
    amount_due  = 240.10
    minimum_due = 240.10
    due_date    = "2026-03-27T12:00:00Z" # a Friday
  }

  wait "22d 3h" {} # Tue 24 13:00; the push went out at 12:00 (due - 72h)
  expect {
    journey  = "loan_instalment_reminder"
    stage    = "reminder_app"
    status   = "active"
    sent     = ["instalment_push"]
    not_sent = ["instalment_ivr"]
  }

  # Sat 28 13:00: overdue since 12:00 (due + 24h), but the notice is outside Mon-Fri 09:00-18:00.
  wait "4d" {}
  expect {
    journey  = "loan_instalment_reminder"
    stage    = "arrears_notice"
    status   = "active"
    sent     = []
    not_sent = ["arrears_notice", "loan_agent_callback"]
  }

  wait "1d 19h 30m" {} # Mon 30 09:30 BST (08:30Z): released when the window opened at 09:00
  expect {
    journey  = "loan_instalment_reminder"
    stage    = "arrears_notice"
    sent     = ["arrears_notice"]
    not_sent = ["loan_agent_callback"]
  }
}

test "a flagged app customer who misses the instalment gets an agent; the referral lapses after a week" {
  start = "2026-03-02T10:00:00Z"
  customer = {
    id            = "k-20006"
    email         = "edith.cole@example.co.uk"
    first_name    = "Edith"
    phone         = "+447700900206"
    timezone      = "Europe/London"
    app_installed = true
    autopay       = false
    needs_agent   = true
  }

  event "bill_issued" {
    bill_id     = "ln-2603-20006"
    product     = "loan"
    amount_due  = 175.00
    minimum_due = 175.00
    due_date    = "2026-03-26T12:00:00Z" # a Thursday
  }

  wait "21d 3h" {} # Mon 23 13:00
  expect {
    journey  = "loan_instalment_reminder"
    stage    = "reminder_app"
    sent     = ["instalment_push"]
    not_sent = ["instalment_ivr"]
  }

  wait "4d" {} # Fri 27 13:00; overdue since 12:00
  expect {
    journey  = "loan_instalment_reminder"
    stage    = "agent_referral"
    status   = "active"
    sent     = ["loan_agent_callback"]
    not_sent = ["arrears_notice"]
  }

  wait "6d 22h" {} # Fri 3 April 11:00Z: the referral has an hour to go
  expect {
    journey = "loan_instalment_reminder"
    stage   = "agent_referral"
    status  = "active"
    sent    = []
  }

  wait "2h" {} # 13:00Z: seven days after the referral, the run ends
  expect {
    journey  = "loan_instalment_reminder"
    status   = "completed"
    sent     = []
    not_sent = ["arrears_notice", "loan_agent_callback"]
  }
}
