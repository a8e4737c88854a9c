# Everything we send on our own initiative during and after onboarding. Developers forgive a
# lot, but not an inbox full of nudges: three a week at most, and never at night.
policy "lifecycle" {
  quiet_hours   = "21:00-08:00"
  frequency_cap = "3 per 7d"
}
