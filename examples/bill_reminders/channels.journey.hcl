# Web: statements and reminders by email, linking to online banking.
channel "email" {
  type     = "smtp"
  from     = "Kestrel Bank <reminders@kestrelbank.co.uk>"
  addr     = env("SMTP_ADDR")
  username = env("SMTP_USERNAME")
  password = env("SMTP_PASSWORD")
}

# App: the mobile notification gateway, which fans out to APNs and FCM by customer id.
channel "app_push" {
  type   = "webhook"
  url    = env("PUSH_GATEWAY_URL")
  secret = env("PUSH_GATEWAY_SECRET")
}

# IVR: the outbound dialler. It calls `phone`, plays the script, takes card payments by
# keypad, and reports back with `ivr_call_completed`.
channel "ivr" {
  type   = "webhook"
  url    = env("IVR_DIALLER_URL")
  secret = env("IVR_DIALLER_SECRET")
}

# Agents: the contact centre's task queue. Every task here costs an agent's time.
channel "agent_desk" {
  type   = "webhook"
  url    = env("AGENT_DESK_URL")
  secret = env("AGENT_DESK_SECRET")
}
