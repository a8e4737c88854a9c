# A Copper Kettle Coffee customer. Traits are synced from the shop platform; `id` is the shop's
# customer id.
customer {
  trait "email" { type = string }
  trait "first_name" { type = string }
  trait "timezone" { type = string }
  trait "lifetime_orders" { type = number }
  trait "favourite_roast" { type = string } # most-ordered coffee, e.g. "Kettle House Blend"
  trait "nps_segment" { type = string }     # "promoter" | "passive" | "detractor", from the last survey
}

event "customer_lapsed" {
  description = "Raised by the nightly job for customers whose last order is at least 21 days old."
  property "days_inactive" { type = number }
  property "last_order_id" { type = string }
  property "last_order_total" { type = number } # USD
}

event "purchase_completed" {
  description = "An order was placed in the web shop or through a subscription renewal."
  property "order_id" { type = string }
  property "total" { type = number } # USD
  property "coupon" { type = string }
}

event "nps_submitted" {
  description = "The survey tool received an answer to \"How likely are you to recommend Copper Kettle to a friend?\" (0-10)."
  property "score" { type = number }
  property "comment" { type = string }
}

metric "nps" {
  description = "Net Promoter Score of the win-back survey, by the stage each customer was in when they answered."
  kind        = "nps"
  event       = "nps_submitted"
  value       = event.score
}

event "service_followup_requested" {
  description = "A customer told us we let them down; Customer Care should reach out personally."
  property "last_order_id" { type = string }
  property "days_inactive" { type = number }
}

event "back_in_stock" {
  description = "A coffee the customer asked to be told about is available again."
  property "product_id" { type = string }
  property "product_name" { type = string }
}

event "unsubscribed" {
  description = "The customer opted out of marketing email."
}
