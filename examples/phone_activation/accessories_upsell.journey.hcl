journey "accessories_upsell" {
  description = "A day after a phone is activated, offer the accessories that fit it. Never while the customer is in support."
  policy      = policy.marketing
  reentry     = "after 180d"

  entry "device_activated" {}
  goal "order_completed" {
    when = event.category == "accessories"
  }
  exit "unsubscribed" {}

  stage "settle_in" {
    after "1d" { goto = stage.offer }
  }

  stage "offer" {
    send "accessories_offer" {
      channel = channel.email
      to      = customer.email
      subject = "Made for your ${entry.device_model}: cases, chargers and 15% off"
      body    = template("templates/accessories_offer.txt")
      html    = template("templates/accessories_offer.html")
    }
    after "2d" { goto = stage.reminder }
  }

  stage "reminder" {
    send "accessories_reminder" {
      channel = channel.email
      to      = customer.email
      subject = "Three days left: 15% off accessories for your ${entry.device_model}"
      body    = template("templates/accessories_reminder.txt")
      html    = template("templates/accessories_reminder.html")
    }
    after "3d" { goto = end }
  }
}

# This journey was called accessory_offer before it became a sequence of two
# emails. Customers who entered it under that name carry on here; keep the
# block while a running version may still hold the old name.
moved {
  from = journey.accessory_offer
  to   = journey.accessories_upsell
}
