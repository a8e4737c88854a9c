# Payment reminders are service messages, but they still cost attention: only on working days
# in working hours (when the contact centre is open to take the calls they cause), and no more
# than three contacts a week across every product's reminders.
policy "reminders" {
  send_window   = "Mon-Fri 09:00-18:00"
  frequency_cap = "3 per 7d"
}
