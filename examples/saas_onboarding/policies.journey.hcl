# Tips and nudges are mail the customer can turn off; the link is in every one of them.
topic "lifecycle" {
  description = "Getting-started tips and upgrade suggestions"
  default     = "subscribed"
}

# Everything we send on our own initiative during and after onboarding. Developers forgive a
# lot, but not an inbox full of nudges: three a week at most, and never at night.
policy "lifecycle" {
  quiet_hours   = "21:00-08:00"
  frequency_cap = "3 per 7d"
  topic         = topic.lifecycle
}
