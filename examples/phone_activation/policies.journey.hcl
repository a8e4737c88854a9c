# Consent: a customer who unsubscribes (the link in every email, POST /v1/subscriptions) gets
# nothing more from the journeys under the marketing policy. Service messages have no topic: they
# are transactional and always go out.
topic "marketing" {
  description = "Offers, tips and product news"
  default     = "subscribed" # opt-out: customers get it until they unsubscribe
}

# Anything that sells or nudges. While a customer has a support case open we say nothing
# promotional: a customer who cannot get their phone working does not want a discount on cases.
policy "marketing" {
  quiet_hours   = "21:00-08:00"          # in the customer's timezone; sends wait until it ends
  frequency_cap = "3 per 7d"             # across every journey under this policy
  suppressed_by = [journey.support_case] # no entries and no sends while a case is open
  topic         = topic.marketing        # every send under this policy needs the customer's consent
}

# Messages about a case the customer opened. They go out at any hour, because the customer is
# waiting for them; the cap only guards against a runaway loop.
policy "service" {
  frequency_cap = "6 per 1d"
}
