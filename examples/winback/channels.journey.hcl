channel "email" {
  type     = "smtp"
  from     = "Copper Kettle Coffee <hello@copperkettle.coffee>"
  addr     = env("SMTP_ADDR")
  username = env("SMTP_USERNAME")
  password = env("SMTP_PASSWORD")
}

# Personal notes from Customer Care come from a person, not from the brand.
channel "care_email" {
  type     = "smtp"
  from     = "Maya Ortiz, Copper Kettle <maya@copperkettle.coffee>"
  addr     = env("SMTP_ADDR")
  username = env("SMTP_USERNAME")
  password = env("SMTP_PASSWORD")
}

# The survey tool's API: sends a one-question NPS survey and posts the answer back to our
# ingest as `nps_submitted`.
channel "surveys" {
  type   = "webhook"
  url    = env("SURVEY_API_URL")
  secret = env("SURVEY_API_SECRET")
}

# The helpdesk: creates a ticket assigned to the Customer Care queue.
channel "helpdesk" {
  type   = "webhook"
  url    = env("HELPDESK_WEBHOOK_URL")
  secret = env("HELPDESK_WEBHOOK_SECRET")
}
