# The reminders policy across both journeys: "3 per 7d" counts every reminder contact for a
# customer, whichever product it is about.

test "two bills in one week: the fourth contact, the card's IVR call, is capped" {
  start = "2026-03-02T10:00:00Z"
  customer = {
    id            = "k-30001"
    email         = "olivia.grant@example.co.uk"
    first_name    = "Olivia"
    phone         = "+447700900301"
    timezone      = "Europe/London"
    app_installed = false
    autopay       = false
    needs_agent   = false
  }

  event "bill_issued" {
    bill_id     = "ln-2603-30001"
    product     = "loan"
    amount_due  = 310.00
    minimum_due = 310.00
    due_date    = "2026-03-19T12:00:00Z" # Thu 19
  }
  expect {
    journey = "loan_instalment_reminder"
    stage   = "scheduled"
    sent    = []
  }

  wait "11d" {} # Fri 13 10:00
  event "bill_issued" {
    bill_id     = "cc-2603-30001"
    product     = "credit_card"
    amount_due  = 1240.00
    minimum_due = 37.20
    due_date    = "2026-03-20T17:00:00Z" # Fri 20
  }
  expect {
    journey = "card_bill_reminder"
    stage   = "statement"
    sent    = ["statement_ready"] # contact 1: Fri 13 10:00
  }

  wait "3d 3h" {} # Mon 16 13:00
  expect {
    journey = "loan_instalment_reminder"
    stage   = "reminder_ivr"
    sent    = ["instalment_ivr"] # contact 2: Mon 16 12:00
  }

  wait "1d 5h" {} # Tue 17 18:00
  expect {
    journey = "card_bill_reminder"
    stage   = "due_soon_web"
    sent    = ["due_soon_email"] # contact 3: Tue 17 17:00
  }

  wait "1h" {}
  event "bill_paid" {
    bill_id  = "ln-2603-30001"
    amount   = 310.00
    paid_via = "ivr"
  }
  expect {
    journey = "loan_instalment_reminder"
    status  = "converted"
    sent    = []
  }

  # Thu 19 17:00: three contacts since Thu 12 17:00, so the call is dropped and recorded as
  # capped. Paying the loan does not take back the contacts already made.
  wait "2d" {}
  expect {
    journey  = "card_bill_reminder"
    stage    = "last_call_ivr"
    status   = "active"
    sent     = []
    not_sent = ["ivr_reminder"]
  }

  event "bill_paid" {
    bill_id  = "cc-2603-30001"
    amount   = 1240.00
    paid_via = "web"
  }
  expect {
    journey = "card_bill_reminder"
    status  = "converted"
    sent    = []
  }
}
