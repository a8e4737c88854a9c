journey "phone_activation" {
  description = "New phone buyers: guide them to activation; back off while they are in support."
  policy      = policy.marketing
  reentry     = "never"

  entry "order_completed" {
    when = event.category == "phone"
  }
  goal "device_activated" {}
  exit "unsubscribed" {}

  stage "guide" {
    send "activation_guide" {
      channel = channel.email
      to      = customer.email
      subject = "Three steps to activate your phone"
      body    = template("templates/activation_guide.txt")
      html    = template("templates/activation_guide.html")
    }
    after "2d" { goto = stage.check }
  }

  stage "check" {
    on "support_ticket_opened" { goto = stage.in_support }
    after "1d" { goto = stage.route }
  }

  stage "route" {
    branch {
      when = customer.plan == "premium"
      goto = stage.call_back
    }
    branch { goto = stage.nudge }
  }

  # An A/B test of the reminder channel, with a 10% holdout to measure what a nudge is worth.
  stage "nudge" {
    split {
      variant "sms" {
        weight = 45
        goto   = stage.sms_nudge
      }
      variant "email" {
        weight = 45
        goto   = stage.email_nudge
      }
      variant "holdout" {
        weight = 10
        goto   = end
      }
    }
  }

  # Wait after the nudge so that an activation it causes is counted as a conversion.
  stage "sms_nudge" {
    send "sms_nudge" {
      channel = channel.sms
      data = {
        to   = customer.phone
        text = "Orbit: your new phone is waiting for you! Pop in the SIM and follow orbitmobile.example/activate. Need help? Reply HELP."
      }
    }
    after "4d" { goto = end }
  }

  stage "email_nudge" {
    send "email_nudge" {
      channel = channel.email
      to      = customer.email
      subject = "Your new phone is still in its box?"
      body    = template("templates/activation_nudge.txt")
      html    = template("templates/activation_nudge.html")
    }
    after "4d" { goto = end }
  }

  stage "in_support" {
    on "support_ticket_closed" { goto = stage.check }
    after "14d" { goto = end }
  }

  stage "call_back" {
    send "call_request" {
      channel = channel.crm
      data    = { customer = customer.id, reason = "activation" }
    }
    update { needs_call = true }
    emit "activation_help_requested" { properties = { order_id = entry.order_id } }
    goto = end
  }
}
