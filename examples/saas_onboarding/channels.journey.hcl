# Transactional mail goes through the lifecycle sending domain, never the marketing one.
channel "email" {
  type     = "smtp"
  from     = "Nadia at Shipyard <nadia@mail.shipyard.dev>"
  addr     = env("SMTP_ADDR")
  username = env("SMTP_USERNAME")
  password = env("SMTP_PASSWORD")
}

# The CRM's inbound webhook: creates a task for the account's customer success manager.
channel "crm" {
  type   = "webhook"
  url    = env("CRM_WEBHOOK_URL")
  secret = env("CRM_WEBHOOK_SECRET")
}
