# The old flow rang every unpaid customer and offered "press 0 for an agent": 81% of the
# people it reached went to an agent, most of them only to pay. This one reminds people in the
# channel they already use, lets the IVR take the payment itself, and hands to an agent only
# the customers who need a person: those flagged by the vulnerability process and those whose
# missed payment is large.
journey "card_bill_reminder" {
  description = "Credit card statements: remind in the customer's own channel, let the IVR take payments, and refer to agents only those who need one."
  persona     = "Salaried customer paying a card bill, from the app or by phone"
  policy      = policy.reminders
  reentry     = "always" # every monthly statement starts a fresh run once the last one has ended

  entry "bill_issued" {
    when = event.product == "credit_card" && customer.autopay != true
  }
  goal "bill_paid" {
    when = event.bill_id == entry.bill_id # a payment to another bill does not end this one
  }
  exit "reminders_opted_out" {}

  stage "statement" {
    send "statement_ready" {
      channel = channel.email
      to      = customer.email
      subject = "Your Kestrel card statement: £${format("%.2f", entry.amount_due)} due ${formatdate("D MMMM", entry.due_date)}"
      body    = template("templates/statement_ready.txt")
      html    = template("templates/statement_ready.html")
    }
    at {
      time = timeadd(entry.due_date, "-72h")
      goto = stage.due_soon
    }
  }

  # Three days before the cut-off: one reminder, in the channel the customer uses.
  # (`== true` rather than the bare trait: a customer with no value takes the default path.)
  stage "due_soon" {
    branch {
      when = customer.app_installed == true
      goto = stage.due_soon_app
    }
    branch { goto = stage.due_soon_web }
  }

  stage "due_soon_app" {
    map {
      phase         = "use"
      touchpoint    = "app push"
      emotion       = 0
      pain_points   = ["does not know the due date"]
      opportunities = ["show the amount due in the push"]
    }
    send "due_soon_push" {
      channel = channel.app_push
      data = {
        customer_id = customer.id
        category    = "bill_reminder"
        title       = "Card payment due ${formatdate("EEEE", entry.due_date)}"
        body        = "£${format("%.2f", entry.minimum_due)} minimum, £${format("%.2f", entry.amount_due)} to clear. Tap to pay."
        deep_link   = "kestrel://bills/${entry.bill_id}/pay"
      }
    }
    at {
      time = timeadd(entry.due_date, "-24h")
      goto = stage.last_call_app
    }
  }

  stage "due_soon_web" {
    send "due_soon_email" {
      channel = channel.email
      to      = customer.email
      subject = "Reminder: your card payment is due ${formatdate("EEEE D MMMM", entry.due_date)}"
      body    = template("templates/due_soon.txt")
      html    = template("templates/due_soon.html")
    }
    at {
      time = timeadd(entry.due_date, "-24h")
      goto = stage.last_call_ivr
    }
  }

  stage "last_call_app" {
    send "last_call_push" {
      channel = channel.app_push
      data = {
        customer_id = customer.id
        category    = "bill_reminder"
        title       = "Card payment due tomorrow"
        body        = "Pay £${format("%.2f", entry.minimum_due)} by ${formatdate("hh:mm", entry.due_date)} tomorrow to avoid a late fee."
        deep_link   = "kestrel://bills/${entry.bill_id}/pay"
      }
    }
    at {
      time = timeadd(entry.due_date, "24h")
      goto = stage.overdue
    }
  }

  # Customers without the app get a call. The IVR takes a card payment by keypad or records a
  # promise to pay; it offers a transfer to an agent only to customers flagged as needing one.
  stage "last_call_ivr" {
    map {
      phase         = "use"
      touchpoint    = "IVR call"
      emotion       = -1
      pain_points   = ["a call at a bad time", "the old flow sent 81% of payers to an agent"]
      opportunities = ["take the card payment in the call itself"]
    }
    send "ivr_reminder" {
      channel = channel.ivr
      headers = { "X-Kestrel-Campaign" = "card-reminder-d1" }
      data = {
        customer_id = customer.id
        phone       = customer.phone
        language    = coalesce(customer.language, "en")
        script      = "card_payment_due_tomorrow"
        bill_id     = entry.bill_id
        minimum_due = entry.minimum_due
        amount_due  = entry.amount_due
        due_date    = entry.due_date
        take_card   = true
        offer_agent = customer.needs_agent == true
      }
    }
    on "ivr_call_completed" {
      when = event.bill_id == entry.bill_id && event.outcome == "promise_to_pay"
      goto = stage.promised
    }
    at {
      time = timeadd(entry.due_date, "24h")
      goto = stage.overdue
    }
  }

  # A promise made on the call buys quiet until three days past the cut-off.
  stage "promised" {
    at {
      time = timeadd(entry.due_date, "72h")
      goto = stage.overdue
    }
  }

  # The day after the cut-off, unpaid. Most late payers simply forgot: a notice with a pay
  # link settles it. A person calls only the customers who need one.
  stage "overdue" {
    branch {
      when = customer.needs_agent == true
      goto = stage.agent_referral
    }
    branch {
      when = entry.minimum_due >= 500
      goto = stage.agent_referral
    }
    branch { goto = stage.overdue_notice }
  }

  stage "agent_referral" {
    send "agent_callback" {
      channel = channel.agent_desk
      data = {
        queue       = customer.needs_agent == true ? "assisted_service" : "collections_early"
        priority    = customer.needs_agent == true ? "high" : "normal"
        customer_id = customer.id
        phone       = customer.phone
        product     = "credit_card"
        bill_id     = entry.bill_id
        minimum_due = entry.minimum_due
        amount_due  = entry.amount_due
        due_date    = entry.due_date
        reason      = customer.needs_agent == true ? "Customer flagged for assisted service; payment missed." : "Missed minimum payment of £500 or more."
        referred_at = now
      }
    }
    after "7d" { goto = end }
  }

  stage "overdue_notice" {
    send "overdue_notice" {
      channel = channel.email
      to      = customer.email
      subject = "Your card payment is overdue: pay £${format("%.2f", entry.minimum_due)} to avoid further charges"
      body    = template("templates/overdue_notice.txt")
      html    = template("templates/overdue_notice.html")
    }
    after "7d" { goto = end }
  }
}
