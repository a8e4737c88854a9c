# A small workspace for the API tests: a welcome journey with a counter loop.
channel "log" {
  type = "log"
}

customer {
  trait "email" { type = string }
  trait "plan" { type = string }
  trait "pings" { type = number }
}

event "signed_up" {
  property "source" { type = string }
}
event "ping" {}
event "ordered" {
  property "amount" { type = number }
}

journey "welcome" {
  reentry = "never"

  entry "signed_up" {}
  goal "ordered" {}

  stage "greet" {
    send "hello" {
      channel = channel.log
      data    = { text = "Hello, ${customer.id}" }
    }
    goto = stage.count
  }

  stage "count" {
    on "ping" { goto = stage.bump }
    after "30d" { goto = end }
  }

  stage "bump" {
    update { pings = coalesce(customer.pings, 0) + 1 }
    goto = stage.count
  }
}
