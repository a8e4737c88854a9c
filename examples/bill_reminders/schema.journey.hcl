# Kestrel Bank's retail customer, as the reminder service sees it. Traits are synced nightly
# from the core banking system and the mobile app backend; `id` is the customer number.
customer {
  trait "email" { type = string }
  trait "first_name" { type = string }
  trait "phone" { type = string }       # E.164, used by the IVR dialler
  trait "timezone" { type = string }    # IANA zone of the correspondence address
  trait "language" { type = string }    # "en" | "cy": the IVR reads prompts in this language
  trait "app_installed" { type = bool } # has the mobile app, with notifications on
  trait "autopay" { type = bool }       # pays this product by direct debit
  trait "needs_agent" { type = bool }   # flagged by the vulnerability / hardship process
}

event "bill_issued" {
  description = "A statement or instalment was issued and payment is now expected."
  property "bill_id" { type = string }
  property "product" { type = string }     # "credit_card" | "loan"
  property "amount_due" { type = number }  # statement balance, GBP
  property "minimum_due" { type = number } # smallest payment that keeps the account in order, GBP
  property "due_date" { type = string }    # payment cut-off, RFC 3339 with its offset, e.g. "2026-03-20T17:00:00Z"
}

event "bill_paid" {
  description = "A payment of at least the minimum due was received against a bill."
  property "bill_id" { type = string }
  property "amount" { type = number }
  property "paid_via" { type = string } # "app" | "web" | "ivr" | "branch" | "agent" | "transfer"
}

event "ivr_call_completed" {
  description = "The outbound IVR dialler finished a reminder call and reported its outcome."
  property "bill_id" { type = string }
  property "outcome" { type = string } # "promise_to_pay" | "paid" | "no_answer" | "hung_up" | "agent_transfer"
}

event "reminders_opted_out" {
  description = "The customer switched bill reminders off in the app or online banking."
}
