# Consent for promotional email; Care follow-ups are answers to the customer and have no topic.
topic "marketing" {
  description = "Win-back offers and restock alerts"
  default     = "subscribed"
}

# Promotional email: nothing at night, at most three a week across every marketing journey.
policy "marketing" {
  quiet_hours   = "21:00-08:00"
  frequency_cap = "3 per 7d"
  topic         = topic.marketing
}

# Customer Care follow-ups are written and answered by people: they go out in the team's
# working hours, in the customer's time zone.
policy "care" {
  send_window   = "Mon-Fri 09:00-17:00"
  frequency_cap = "2 per 7d"
}
