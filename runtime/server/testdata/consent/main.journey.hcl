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
