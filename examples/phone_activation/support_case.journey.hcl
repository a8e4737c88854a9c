journey "support_case" {
  description = "An open support ticket: keep the customer informed, escalate if it drags on. While it is active, marketing journeys stay silent."
  policy      = policy.service
  reentry     = "always" # every new ticket after the last one closed is a new case

  entry "support_ticket_opened" {}
  goal "support_ticket_closed" {} # a closed ticket ends the case and lifts the marketing suppression

  stage "acknowledge" {
    send "ticket_received" {
      channel  = channel.email
      to       = customer.email
      reply_to = "support@orbitmobile.example"
      subject  = "We've got your request (ticket ${entry.ticket_id})"
      body     = template("templates/ticket_received.txt")
      html     = template("templates/ticket_received.html")
    }
    after "2d" { goto = stage.still_open }
  }

  stage "still_open" {
    send "ticket_update" {
      channel  = channel.email
      to       = customer.email
      reply_to = "support@orbitmobile.example"
      subject  = "An update on ticket ${entry.ticket_id}"
      body     = template("templates/ticket_update.txt")
      html     = template("templates/ticket_update.html")
    }
    after "5d" { goto = stage.escalate }
  }

  # A week open: a team lead takes the case and calls.
  stage "escalate" {
    send "escalation" {
      channel = channel.crm
      data = {
        type         = "escalation"
        customer     = customer.id
        ticket_id    = entry.ticket_id
        topic        = entry.topic
        plan         = customer.plan
        ltv          = customer.ltv
        escalated_at = now
      }
    }
    update { needs_call = true }
    after "30d" { goto = end } # a ticket forgotten for a month no longer blocks marketing
  }
}
