# The journey of the analytics tests and benchmark (runtime/store/sqlite):
# about ten records an instance (transitions, sends, a metric response),
# a split, a goal, an exit and timers, run by the engine.
channel "log" {
  type = "log"
}

event "bill_issued" {}
event "paid" {}
event "opted_out" {}
event "rated" {
  property "score" { type = number }
}

metric "nps" {
  kind  = "nps"
  event = "rated"
  value = event.score
}

journey "bill" {
  entry "bill_issued" {}
  goal "paid" {}
  exit "opted_out" {}

  stage "issued" {
    send "statement" {
      channel = channel.log
      data    = { text = "Your bill, ${customer.id}" }
    }
    send "statement_sms" {
      channel = channel.log
      data    = { text = "Your bill is ready" }
    }
    after "1h" { goto = stage.reminded }
  }

  stage "reminded" {
    send "reminder" {
      channel = channel.log
      data    = { text = "A reminder" }
    }
    on "rated" { goto = stage.thanks }
    after "1h" { goto = stage.offer }
  }

  # A loop: back to reminded, which the instance enters again (its timer
  # starts over).
  stage "thanks" {
    goto = stage.reminded
  }

  stage "offer" {
    split {
      variant "discount" {
        weight = 50
        goto   = stage.last_call
      }
      variant "control" {
        weight = 50
        goto   = stage.last_call
      }
    }
  }

  stage "last_call" {
    send "last_call" {
      channel = channel.log
      data    = { text = "Last call" }
    }
    after "2h" { goto = end }
  }
}
