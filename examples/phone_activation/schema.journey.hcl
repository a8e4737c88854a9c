# An Orbit Mobile customer. Traits come from the shop, the CRM and the network's activation
# system; `id` is the customer account number.
customer {
  trait "email" { type = string }
  trait "first_name" { type = string }
  trait "phone" { type = string }    # E.164; the number the new phone will use
  trait "plan" { type = string }     # "standard" | "premium"
  trait "timezone" { type = string } # IANA name; used for quiet hours
  trait "ltv" { type = number }      # lifetime value, EUR
  trait "needs_call" { type = bool } # the contact centre should call this customer
}

event "order_completed" {
  description = "A checkout finished, in the web shop or in a store."
  property "order_id" { type = string }
  property "category" { type = string } # "phone" | "accessories" | "sim_only" | ...
  property "amount" { type = number }   # EUR, incl. VAT
}

event "device_activated" {
  description = "The network saw the new phone register with the customer's SIM for the first time."
  property "device_model" { type = string }
}

event "activation_help_requested" {
  description = "A premium buyer has not activated after three days; the contact centre is asked to call."
  property "order_id" { type = string }
}

event "support_ticket_opened" {
  description = "The customer opened a support ticket (chat, phone, store or web form)."
  property "ticket_id" { type = string }
  property "topic" { type = string } # "activation" | "delivery" | "billing" | "device" | ...
}

event "support_ticket_closed" {
  description = "Support closed the customer's ticket."
  property "ticket_id" { type = string }
  property "resolution" { type = string } # "solved" | "no_reply" | "duplicate"
}

event "unsubscribed" {
  description = "The customer opted out of marketing messages."
}

# The average order value: a plain mean over every order, attributed to the
# stage each of the customer's active journeys was in when it arrived.
metric "order_value" {
  kind  = "mean"
  event = "order_completed"
  value = event.amount
}
