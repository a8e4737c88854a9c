# The cluster tests' workspace: the counter (each ping carries its number as
# the trait last_n, which the send echoes) and a short timer per customer.
# Every ping is a committed trait update and a webhook send, so that lost
# or doubled events and sends can be counted from outside.

channel "hook" {
  type   = "webhook"
  url    = env("E2E_HOOK_URL")
  secret = env("E2E_HOOK_SECRET")
}

customer {
  trait "pings" { type = number }
  trait "last_n" { type = number }
}

event "signed_up" {}
event "ping" {
  property "n" { type = number }
}
event "park" {}
event "unpark" {}
event "ordered" {}
