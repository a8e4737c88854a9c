# A send that fails at run time for a customer without an email: the
# failed-send log, metrics and list (the API tests' other workspace).
channel "email" {
  type = "smtp"
  from = "Shop <shop@example.com>"
  addr = "127.0.0.1:2525"
}

customer {
  trait "email" { type = string }
}

event "subscribed" {}

journey "newsletter" {
  reentry = "always"

  entry "subscribed" {}

  stage "confirm" {
    send "confirm" {
      channel = channel.email
      subject = "Please confirm"
      body    = "Hello ${customer.id}"
      to      = customer.email
    }
    goto = end
  }
}
