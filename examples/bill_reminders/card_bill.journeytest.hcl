# Scenario tests for card statement reminders. London is on UTC in March (until the 29th), so
# the "Z" times below are also the customers' local times. Send window: Mon-Fri 09:00-18:00.
# March 2026: Mon 2, Fri 13, Mon 16, Tue 17, Wed 18, Thu 19, Fri 20, Sat 21, Sun 22, Mon 23.

test "app customer pays after the push: converted, never called" {
  start = "2026-03-02T10:00:00Z"
  customer = {
    id            = "k-10001"
    email         = "priya.shah@example.co.uk"
    first_name    = "Priya"
    phone         = "+447700900101"
    timezone      = "Europe/London"
    app_installed = true
    autopay       = false
    needs_agent   = false
  }

  event "bill_issued" {
    bill_id     = "cc-2603-10001"
    product     = "credit_card"
    amount_due  = 842.50
    minimum_due = 25.28
    due_date    = "2026-03-20T17:00:00Z"
  }
  expect {
    journey = "card_bill_reminder"
    stage   = "statement"
    status  = "active"
    sent    = ["statement_ready"]
  }

  wait "15d 8h" {} # Tue 17 18:00; the push went out at 17:00
  expect {
    journey = "card_bill_reminder"
    stage   = "due_soon_app"
    sent    = ["due_soon_push"]
  }

  wait "1h" {}
  event "bill_paid" {
    bill_id  = "cc-2603-10001"
    amount   = 842.50
    paid_via = "app"
  }
  expect {
    journey = "card_bill_reminder"
    status  = "converted"
    sent    = []
  }

  wait "7d" {}
  expect {
    journey  = "card_bill_reminder"
    sent     = []
    not_sent = ["last_call_push", "ivr_reminder", "overdue_notice", "agent_callback"]
  }
}

test "an ordinary late payer gets an overdue notice, not an agent" {
  start = "2026-03-02T10:00:00Z"
  customer = {
    id            = "k-10002"
    email         = "tom.evans@example.co.uk"
    first_name    = "Tom"
    phone         = "+447700900102"
    timezone      = "Europe/London"
    app_installed = true
    autopay       = false
    needs_agent   = false
  }

  event "bill_issued" {
    bill_id     = "cc-2603-10002"
    product     = "credit_card"
    amount_due  = 1310.00
    minimum_due = 39.30
    due_date    = "2026-03-20T17:00:00Z"
  }
  expect {
    journey = "card_bill_reminder"
    sent    = ["statement_ready"]
  }

  wait "17d 8h" {} # Thu 19 18:00
  expect {
    journey = "card_bill_reminder"
    stage   = "last_call_app"
    sent    = ["due_soon_push", "last_call_push"]
  }

  # Sat 21 17:00, a day past the cut-off: the notice is due, but it is the weekend.
  wait "2d" {}
  expect {
    journey = "card_bill_reminder"
    stage   = "overdue_notice"
    sent    = []
  }

  wait "2d" {} # Mon 23 18:00: it went out when the window opened at 09:00
  expect {
    journey  = "card_bill_reminder"
    stage    = "overdue_notice"
    sent     = ["overdue_notice"]
    not_sent = ["agent_callback"]
  }

  wait "5d" {}
  expect {
    journey = "card_bill_reminder"
    status  = "completed"
    sent    = []
  }
}

test "no app: email three days out, and an IVR call that waits from Sunday to Monday" {
  start = "2026-03-02T10:00:00Z"
  customer = {
    id            = "k-10003"
    email         = "margaret.hughes@example.co.uk"
    first_name    = "Margaret"
    phone         = "+447700900103"
    timezone      = "Europe/London"
    language      = "cy"
    app_installed = false
    autopay       = false
    needs_agent   = false
  }

  event "bill_issued" {
    bill_id     = "cc-2603-10003"
    product     = "credit_card"
    amount_due  = 264.10
    minimum_due = 25.00
    due_date    = "2026-03-23T17:00:00Z" # a Monday
  }
  expect {
    journey = "card_bill_reminder"
    sent    = ["statement_ready"]
  }

  wait "18d 8h" {} # Fri 20 18:00
  expect {
    journey  = "card_bill_reminder"
    stage    = "due_soon_web"
    sent     = ["due_soon_email"]
    not_sent = ["due_soon_push"]
  }

  wait "2d" {} # Sun 22 18:00: the call was due at 17:00 and is held
  expect {
    journey = "card_bill_reminder"
    stage   = "last_call_ivr"
    sent    = []
  }

  wait "15h 30m" {} # Mon 23 09:30
  expect {
    journey = "card_bill_reminder"
    stage   = "last_call_ivr"
    sent    = ["ivr_reminder"]
  }

  # She pays by keypad during the call.
  event "bill_paid" {
    bill_id  = "cc-2603-10003"
    amount   = 264.10
    paid_via = "ivr"
  }
  expect {
    journey = "card_bill_reminder"
    status  = "converted"
    sent    = []
  }
}

test "a promise to pay on the IVR call holds the overdue notice until three days past the cut-off" {
  start = "2026-03-02T10:00:00Z"
  customer = {
    id            = "k-10004"
    email         = "dev.patel@example.co.uk"
    first_name    = "Dev"
    phone         = "+447700900104"
    timezone      = "Europe/London"
    app_installed = false
    autopay       = false
    needs_agent   = false
  }

  event "bill_issued" {
    bill_id     = "cc-2603-10004"
    product     = "credit_card"
    amount_due  = 978.45
    minimum_due = 29.35
    due_date    = "2026-03-20T17:00:00Z"
  }
  expect {
    journey = "card_bill_reminder"
    sent    = ["statement_ready"]
  }

  wait "17d 8h" {} # Thu 19 18:00
  expect {
    journey = "card_bill_reminder"
    stage   = "last_call_ivr"
    sent    = ["due_soon_email", "ivr_reminder"]
  }

  wait "30m" {}
  event "ivr_call_completed" {
    bill_id = "cc-2603-10004"
    outcome = "promise_to_pay"
  }
  expect {
    journey = "card_bill_reminder"
    stage   = "promised"
    sent    = []
  }

  wait "2d" {} # Sat 21 18:30: without the promise the notice would be due by now
  expect {
    journey  = "card_bill_reminder"
    stage    = "promised"
    sent     = []
    not_sent = ["overdue_notice"]
  }

  wait "2d" {} # Mon 23 18:30: the promise was not kept (due + 72h = Mon 17:00)
  expect {
    journey = "card_bill_reminder"
    stage   = "overdue_notice"
    sent    = ["overdue_notice"]
  }
}

test "a customer flagged for assisted service is referred to an agent" {
  start = "2026-03-02T10:00:00Z"
  customer = {
    id            = "k-10005"
    email         = "eileen.walsh@example.co.uk"
    first_name    = "Eileen"
    phone         = "+447700900105"
    timezone      = "Europe/London"
    app_installed = false
    autopay       = false
    needs_agent   = true
  }

  event "bill_issued" {
    bill_id     = "cc-2603-10005"
    product     = "credit_card"
    amount_due  = 412.00
    minimum_due = 25.00
    due_date    = "2026-03-18T17:00:00Z" # a Wednesday
  }
  expect {
    journey = "card_bill_reminder"
    sent    = ["statement_ready"]
  }

  # Due-soon fell on Sun 15 17:00 and went out Mon 16 09:00; the call was Tue 17 17:00.
  wait "15d 8h" {} # Tue 17 18:00
  expect {
    journey = "card_bill_reminder"
    stage   = "last_call_ivr"
    sent    = ["due_soon_email", "ivr_reminder"]
  }

  wait "2d" {} # Thu 19 18:00
  expect {
    journey  = "card_bill_reminder"
    stage    = "agent_referral"
    sent     = ["agent_callback"]
    not_sent = ["overdue_notice"]
  }

  wait "7d" {}
  expect {
    journey = "card_bill_reminder"
    status  = "completed"
    sent    = []
  }
}

test "a large missed minimum goes to an agent even without a flag" {
  start = "2026-03-02T10:00:00Z"
  customer = {
    id            = "k-10006"
    email         = "r.okonkwo@example.co.uk"
    first_name    = "Remi"
    phone         = "+447700900106"
    timezone      = "Europe/London"
    app_installed = true
    autopay       = false
    needs_agent   = false
  }

  event "bill_issued" {
    bill_id     = "cc-2603-10006"
    product     = "credit_card"
    amount_due  = 20400.00
    minimum_due = 612.00
    due_date    = "2026-03-19T17:00:00Z" # a Thursday
  }

  wait "18d 8h" {} # Fri 20 18:00
  expect {
    journey  = "card_bill_reminder"
    stage    = "agent_referral"
    sent     = ["statement_ready", "due_soon_push", "last_call_push", "agent_callback"]
    not_sent = ["overdue_notice"]
  }
}

test "customers who pay by direct debit are not reminded" {
  start = "2026-03-02T10:00:00Z"
  customer = {
    id            = "k-10007"
    email         = "ahmed.karim@example.co.uk"
    first_name    = "Ahmed"
    timezone      = "Europe/London"
    app_installed = true
    autopay       = true
  }

  event "bill_issued" {
    bill_id     = "cc-2603-10007"
    product     = "credit_card"
    amount_due  = 150.00
    minimum_due = 25.00
    due_date    = "2026-03-20T17:00:00Z"
  }
  expect {
    journey = "card_bill_reminder"
    status  = "none"
    sent    = []
  }
}

test "switching reminders off exits the journey" {
  start = "2026-03-02T10:00:00Z"
  customer = {
    id            = "k-10008"
    email         = "sofia.rossi@example.co.uk"
    first_name    = "Sofia"
    timezone      = "Europe/London"
    app_installed = true
    autopay       = false
    needs_agent   = false
  }

  event "bill_issued" {
    bill_id     = "cc-2603-10008"
    product     = "credit_card"
    amount_due  = 95.20
    minimum_due = 25.00
    due_date    = "2026-03-20T17:00:00Z"
  }
  expect {
    journey = "card_bill_reminder"
    sent    = ["statement_ready"]
  }

  wait "1d" {}
  event "reminders_opted_out" {}
  expect {
    journey = "card_bill_reminder"
    status  = "exited"
    sent    = []
  }

  wait "20d" {}
  expect {
    journey  = "card_bill_reminder"
    sent     = []
    not_sent = ["due_soon_push", "last_call_push", "overdue_notice"]
  }
}

test "paying a different bill does not end this reminder" {
  start = "2026-03-02T10:00:00Z"
  customer = {
    id            = "k-10009"
    email         = "ben.carter@example.co.uk"
    first_name    = "Ben"
    timezone      = "Europe/London"
    app_installed = true
    autopay       = false
    needs_agent   = false
  }

  event "bill_issued" {
    bill_id     = "cc-2603-10009"
    product     = "credit_card"
    amount_due  = 530.00
    minimum_due = 25.00
    due_date    = "2026-03-20T17:00:00Z"
  }
  wait "1d" {}
  event "bill_paid" {
    bill_id  = "cc-2602-10009" # last month's statement, paid late
    amount   = 25.00
    paid_via = "web"
  }
  expect {
    journey = "card_bill_reminder"
    stage   = "statement"
    status  = "active"
    sent    = ["statement_ready"]
  }
}

test "next month's statement starts a fresh run" {
  start = "2026-03-02T10:00:00Z"
  customer = {
    id            = "k-10010"
    email         = "grace.lee@example.co.uk"
    first_name    = "Grace"
    timezone      = "Europe/London"
    app_installed = true
    autopay       = false
    needs_agent   = false
  }

  event "bill_issued" {
    bill_id     = "cc-2603-10010"
    product     = "credit_card"
    amount_due  = 300.00
    minimum_due = 25.00
    due_date    = "2026-03-20T17:00:00Z"
  }
  wait "3d" {}
  event "bill_paid" {
    bill_id  = "cc-2603-10010"
    amount   = 300.00
    paid_via = "app"
  }
  expect {
    journey = "card_bill_reminder"
    status  = "converted"
    sent    = ["statement_ready"]
  }

  wait "28d" {} # Thu 2 April, 11:00 in London (BST from 29 March)
  event "bill_issued" {
    bill_id     = "cc-2604-10010"
    product     = "credit_card"
    amount_due  = 188.60
    minimum_due = 25.00
    due_date    = "2026-04-20T17:00:00+01:00" # BST: due dates carry the local offset
  }
  expect {
    journey = "card_bill_reminder"
    stage   = "statement"
    status  = "active"
    sent    = ["statement_ready"]
  }
}
