journey "loan_instalment_reminder" {
  description = "Personal loan instalments: one reminder three days before, an arrears notice the day after a miss, and an agent only for customers flagged as needing one."
  policy      = policy.reminders
  reentry     = "always" # one run per monthly instalment

  entry "bill_issued" {
    when = event.product == "loan" && customer.autopay != true
  }
  goal "bill_paid" {
    when = event.bill_id == entry.bill_id
  }
  exit "reminders_opted_out" {}

  # Instalments are issued weeks ahead; nothing to say until three days before the cut-off.
  stage "scheduled" {
    at {
      time = timeadd(entry.due_date, "-72h")
      goto = stage.reminder
    }
  }

  stage "reminder" {
    branch {
      when = customer.app_installed == true
      goto = stage.reminder_app
    }
    branch { goto = stage.reminder_ivr }
  }

  stage "reminder_app" {
    send "instalment_push" {
      channel = channel.app_push
      data = {
        customer_id = customer.id
        category    = "bill_reminder"
        title       = "Loan instalment due ${formatdate("EEEE", entry.due_date)}"
        body        = "£${format("%.2f", entry.amount_due)} will be due. Check your balance covers it, or pay now."
        deep_link   = "kestrel://bills/${entry.bill_id}/pay"
      }
    }
    at {
      time = timeadd(entry.due_date, "24h")
      goto = stage.overdue
    }
  }

  stage "reminder_ivr" {
    send "instalment_ivr" {
      channel = channel.ivr
      headers = { "X-Kestrel-Campaign" = "loan-reminder-d3" }
      data = {
        customer_id = customer.id
        phone       = customer.phone
        language    = coalesce(customer.language, "en")
        script      = "loan_instalment_due"
        bill_id     = entry.bill_id
        amount_due  = entry.amount_due
        due_date    = entry.due_date
        take_card   = true
        offer_agent = customer.needs_agent == true
      }
    }
    at {
      time = timeadd(entry.due_date, "24h")
      goto = stage.overdue
    }
  }

  stage "overdue" {
    branch {
      when = customer.needs_agent == true
      goto = stage.agent_referral
    }
    branch { goto = stage.arrears_notice }
  }

  stage "agent_referral" {
    send "loan_agent_callback" {
      channel = channel.agent_desk
      data = {
        queue       = "assisted_service"
        priority    = "high"
        customer_id = customer.id
        phone       = customer.phone
        product     = "loan"
        bill_id     = entry.bill_id
        amount_due  = entry.amount_due
        due_date    = entry.due_date
        reason      = "Customer flagged for assisted service; loan instalment missed."
        referred_at = now
      }
    }
    after "7d" { goto = end }
  }

  stage "arrears_notice" {
    send "arrears_notice" {
      channel = channel.email
      to      = customer.email
      subject = "Your loan instalment of £${format("%.2f", entry.amount_due)} was missed"
      body    = template("templates/arrears_notice.txt")
      html    = template("templates/arrears_notice.html")
    }
    after "7d" { goto = end }
  }
}
