# Consent: an opt-out topic on a policy, an opt-in topic, and a journey that
# sends one marketing message on each "promo" (the API tests' consent workspace).
channel "log" {
  type = "log"
}

topic "marketing" {
  description = "Offers"
}

topic "beta" {
  default = "unsubscribed"
}

policy "marketing" {
  topic = topic.marketing
}

event "promo" {}

journey "promo" {
  policy  = policy.marketing
  reentry = "always"
  entry "promo" {}

  stage "s" {
    send "offer" {
      channel = channel.log
      data    = customer.id
    }
  }
}

channel "sms" {
  type        = "twilio"
  account_sid = env("TWILIO_ACCOUNT_SID")
  auth_token  = env("TWILIO_AUTH_TOKEN")
  from        = env("TWILIO_FROM")
}

event "sms_promo" {}

# An SMS of the marketing topic, to the phone trait: a STOP from that
# number unsubscribes the customer from marketing.
journey "sms_promo" {
  policy  = policy.marketing
  reentry = "always"
  entry "sms_promo" {}

  stage "s" {
    send "text" {
      channel = channel.sms
      to      = customer.phone
      body    = "20% off"
    }
  }
}
