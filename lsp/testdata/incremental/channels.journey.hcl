channel "email" {
  type     = "smtp"
  from     = "Orbit Mobile <care@orbitmobile.example>"
  addr     = env("SMTP_ADDR")
  username = env("SMTP_USERNAME")
  password = env("SMTP_PASSWORD")
}

# The SMS gateway: posts { to, text } and sends from the short code ORBIT.
channel "sms" {
  type   = "webhook"
  url    = env("SMS_GATEWAY_URL")
  secret = env("SMS_GATEWAY_SECRET")
}

# The CRM: creates call tasks for the contact centre and cases for escalations.
channel "crm" {
  type   = "webhook"
  url    = env("CRM_WEBHOOK_URL")
  secret = env("CRM_WEBHOOK_SECRET") # requests are signed with HMAC-SHA256
}
