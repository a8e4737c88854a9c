journey "counter" {
  description = "Counts pings: each one bumps a trait and sends a webhook."
  reentry     = "never"

  entry "signed_up" {}
  goal "ordered" {}

  stage "greet" {
    send "welcome" {
      channel = channel.hook
      data    = { customer = customer.id }
    }
    goto = stage.count
  }

  stage "count" {
    on "ping" { goto = stage.bump }
    on "park" { goto = stage.parked }
    after "30d" { goto = end }
  }

  stage "bump" {
    update { pings = coalesce(customer.pings, 0) + 1 }
    send "pinged" {
      channel = channel.hook
      data    = { customer = customer.id, pings = customer.pings }
    }
    goto = stage.count
  }

  stage "parked" {
    on "unpark" { goto = stage.count }
  }
}
