journey "service_recovery" {
  description = "Detractors from the win-back survey: Customer Care opens a ticket and writes personally, then checks in ten days later."
  policy      = policy.care
  reentry     = "after 30d"

  entry "service_followup_requested" {}
  goal "purchase_completed" {} # they gave us another chance

  stage "reach_out" {
    send "helpdesk_ticket" {
      channel = channel.helpdesk
      data = {
        queue       = "customer-care"
        priority    = "high"
        subject     = "Win-back detractor: please call or write personally"
        customer_id = customer.id
        email       = customer.email
        name        = customer.first_name
        tags        = ["winback", "nps-detractor"]
        details = {
          last_order_id   = entry.last_order_id
          days_inactive   = entry.days_inactive
          lifetime_orders = customer.lifetime_orders
          favourite_roast = customer.favourite_roast
        }
      }
    }
    send "care_note" {
      channel  = channel.care_email
      to       = customer.email
      reply_to = "care@copperkettle.coffee"
      subject  = "I'm sorry we let you down"
      body     = template("templates/care_note.txt")
      html     = template("templates/care_note.html")
    }
    after "10d" { goto = stage.check_in }
  }

  stage "check_in" {
    send "care_check_in" {
      channel  = channel.care_email
      to       = customer.email
      reply_to = "care@copperkettle.coffee"
      subject  = "Checking in"
      body     = template("templates/care_check_in.txt")
      html     = template("templates/care_check_in.html")
    }
    after "7d" { goto = end }
  }
}
