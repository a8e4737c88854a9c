journey "counter" {
  description = "Counts pings: each one bumps a trait and sends a webhook carrying the ping's number, so that order can be checked from outside."
  reentry     = "never"

  entry "signed_up" {}

  stage "greet" {
    send "welcome" {
      channel = channel.hook
      data    = { customer = customer.id }
    }
    goto = stage.count
  }

  stage "count" {
    on "ping" { goto = stage.bump }
  }

  stage "bump" {
    update { pings = coalesce(customer.pings, 0) + 1 }
    send "pinged" {
      channel = channel.hook
      data    = { customer = customer.id, pings = customer.pings, n = customer.last_n }
    }
    goto = stage.count
  }
}
