# The console tests' workspace: a welcome journey with a split, a wait
# with a loop back, and a goal.
channel "log" {
  type = "log"
}

customer {
  trait "email" { type = string }
  trait "pings" { type = number }
  trait "phone" { type = string }
}

event "signed_up" {
  property "source" { type = string }
}
event "ping" {}
event "ordered" {}
event "rated" {
  property "score" { type = number }
}

metric "nps" {
  kind  = "nps"
  event = "rated"
  value = event.score
}

journey "welcome" {
  description = "Greets new customers & counts their pings"
  persona     = "A new customer trying the shop"
  reentry     = "never"

  entry "signed_up" {}
  goal "ordered" {}

  stage "greet" {
    map {
      phase         = "interest"
      touchpoint    = "log message"
      emotion       = 1
      pain_points   = ["does not know what to do next"]
      opportunities = ["say what a ping does"]
    }
    send "hello" {
      channel = channel.log
      data    = { text = "Hello, ${customer.id}" }
    }
    split {
      variant "mail" {
        weight = 50
        goto   = stage.count
      }
      variant "holdout" {
        weight = 50
        goto   = stage.count
      }
    }
  }

  stage "count" {
    map {
      phase      = "use"
      touchpoint = "app"
      emotion    = -1
    }
    on "ping" { goto = stage.bump }
    after "30d" { goto = end }
  }

  stage "bump" {
    update { pings = coalesce(customer.pings, 0) + 1 }
    # No customer has a phone: this send fails (the failed sends).
    send "tally" {
      channel = channel.log
      data    = { text = "ping ${customer.phone}" }
    }
    goto = stage.count
  }
}
