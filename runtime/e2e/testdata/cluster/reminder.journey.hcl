journey "reminder" {
  description = "A timer per customer: a reminder three seconds after signing up, fired by whichever node owns the customer then."
  reentry     = "never"

  entry "signed_up" {}

  stage "wait" {
    after "3s" { goto = stage.remind }
  }

  stage "remind" {
    send "reminder" {
      channel = channel.hook
      data    = { customer = customer.id }
    }
    goto = end
  }
}
