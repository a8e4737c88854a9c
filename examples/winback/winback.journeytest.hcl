# Scenario tests for the win-back journey. Customers are in America/New_York, on daylight
# time (UTC-04:00) throughout April 2026: Mon 6, Wed 8, Sat 11, Mon 13, Sat 18.

test "a promoter (9) is invited to refer a friend" {
  start = "2026-04-06T10:00:00-04:00"
  customer = {
    id              = "ck-4101"
    email           = "hannah.price@example.com"
    first_name      = "Hannah"
    timezone        = "America/New_York"
    lifetime_orders = 4
    favourite_roast = "Kettle House Blend"
  }

  event "customer_lapsed" {
    days_inactive    = 45
    last_order_id    = "CK-88120"
    last_order_total = 38.50
  }
  expect {
    journey = "winback"
    stage   = "offer"
    status  = "active"
    sent    = ["winback_offer"]
  }

  wait "5d" {}
  expect {
    journey = "winback"
    stage   = "survey"
    sent    = ["nps_survey"]
  }

  wait "3h" {}
  event "nps_submitted" {
    score   = 9
    comment = "Great coffee, I just had too much at home."
  }
  expect {
    journey  = "winback"
    stage    = "promoter"
    sent     = ["referral_invite"]
    not_sent = ["new_roasts", "last_chance"]
  }

  wait "7d" {}
  expect {
    journey = "winback"
    status  = "completed"
    sent    = []
  }
}

test "a passive (7) hears about the new roasts" {
  start = "2026-04-06T10:00:00-04:00"
  customer = {
    id              = "ck-4102"
    email           = "marcus.bell@example.com"
    first_name      = "Marcus"
    timezone        = "America/New_York"
    lifetime_orders = 12
  }

  event "customer_lapsed" {
    days_inactive    = 33
    last_order_id    = "CK-88544"
    last_order_total = 61.00
  }
  wait "5d 3h" {}
  expect {
    journey = "winback"
    stage   = "survey"
    sent    = ["winback_offer", "nps_survey"]
  }

  event "nps_submitted" {
    score   = 7
    comment = "Fine, but shipping got slow."
  }
  expect {
    journey  = "winback"
    stage    = "passive"
    sent     = ["new_roasts"]
    not_sent = ["referral_invite"]
  }

  wait "6d 23h" {} # Sat 18 12:00: an hour before the week is up
  expect {
    journey = "winback"
    stage   = "passive"
    status  = "active"
    sent    = []
  }

  wait "1h" {} # Sat 18 13:00: a week after the answer, the attempt ends
  expect {
    journey  = "winback"
    status   = "completed"
    sent     = []
    not_sent = ["referral_invite", "last_chance"]
  }
}

test "a detractor (6) gets no more marketing and a personal follow-up from Customer Care" {
  start = "2026-04-08T10:00:00-04:00"
  customer = {
    id              = "ck-4103"
    email           = "olga.ivanova@example.com"
    first_name      = "Olga"
    timezone        = "America/New_York"
    lifetime_orders = 7
    favourite_roast = "Night Shift"
  }

  event "customer_lapsed" {
    days_inactive    = 38
    last_order_id    = "CK-87990"
    last_order_total = 44.00
  }
  expect {
    journey = "winback"
    sent    = ["winback_offer"]
  }

  wait "5d" {} # Mon 13 10:00
  expect {
    journey = "winback"
    stage   = "survey"
    sent    = ["nps_survey"]
  }

  # Mon 11:00: the emitted service_followup_requested admits her to service_recovery at once,
  # inside Customer Care's working hours.
  wait "1h" {}
  event "nps_submitted" {
    score   = 6
    comment = "Two bags arrived stale."
  }
  expect {
    journey = "service_recovery"
    stage   = "reach_out"
    status  = "active"
    sent    = ["helpdesk_ticket", "care_note"]
  }
  expect {
    journey  = "winback"
    stage    = "detractor"
    sent     = []
    not_sent = ["referral_invite", "new_roasts", "last_chance"]
  }

  wait "10d" {} # Thu 23 11:00
  expect {
    journey = "service_recovery"
    stage   = "check_in"
    sent    = ["care_check_in"]
  }

  # Maya's call worked. The purchase is a goal of both journeys.
  wait "1d" {}
  event "purchase_completed" {
    order_id = "CK-90412"
    total    = 52.00
    coupon   = "WELCOMEBACK20"
  }
  expect {
    journey = "service_recovery"
    status  = "converted"
    sent    = []
  }
  expect {
    journey = "winback"
    status  = "converted"
    sent    = []
  }
}

test "a detractor on a Saturday: Customer Care writes on Monday at 09:00" {
  start = "2026-04-06T10:00:00-04:00"
  customer = {
    id         = "ck-4104"
    email      = "pete.novak@example.com"
    first_name = "Pete"
    timezone   = "America/New_York"
  }

  event "customer_lapsed" {
    days_inactive    = 31
    last_order_id    = "CK-88003"
    last_order_total = 19.00
  }
  wait "5d 4h" {} # Sat 11 14:00
  event "nps_submitted" {
    score   = 2
    comment = "Subscription charged me twice."
  }
  expect {
    journey = "winback"
    stage   = "detractor"
    sent    = ["winback_offer", "nps_survey"]
  }
  expect {
    journey = "service_recovery"
    stage   = "reach_out"
    status  = "active"
  }

  wait "1d 19h 30m" {} # Mon 13 09:30; both sends were held by the send window until 09:00
  expect {
    journey = "service_recovery"
    stage   = "reach_out"
    sent    = ["helpdesk_ticket", "care_note"]
  }

  # Tue 21 14:00: the care check-in, ten days after the hand-off. Sat 25 13:30: the win-back
  # still holds the detractor stage, half an hour before its fortnight is up.
  wait "12d 4h" {}
  expect {
    journey = "service_recovery"
    stage   = "check_in"
    sent    = ["care_check_in"]
  }
  expect {
    journey = "winback"
    stage   = "detractor"
    status  = "active"
    sent    = []
  }

  wait "1h" {} # Sat 25 14:30: two weeks after the answer, no purchase: the attempt ends
  expect {
    journey  = "winback"
    status   = "completed"
    sent     = []
    not_sent = ["referral_invite", "new_roasts", "last_chance"]
  }
  expect {
    journey = "service_recovery"
    stage   = "check_in"
    status  = "active"
  }
}

test "no answer to the survey: the last-chance email, then the journey ends" {
  start = "2026-04-06T10:00:00-04:00"
  customer = {
    id         = "ck-4105"
    email      = "ruth.adams@example.com"
    first_name = "Ruth"
    timezone   = "America/New_York"
  }

  event "customer_lapsed" {
    days_inactive    = 52
    last_order_id    = "CK-86112"
    last_order_total = 27.00
  }
  expect {
    journey = "winback"
    sent    = ["winback_offer"]
  }

  wait "12d" {} # Sat 18 10:00
  expect {
    journey = "winback"
    stage   = "last_chance"
    sent    = ["nps_survey", "last_chance"]
  }

  # A late answer, after the survey stage was left: nothing listens for it any more.
  wait "1d" {}
  event "nps_submitted" {
    score   = 10
    comment = "Sorry, only just saw this!"
  }
  expect {
    journey  = "winback"
    stage    = "last_chance"
    sent     = []
    not_sent = ["referral_invite"]
  }

  wait "2d" {}
  expect {
    journey = "winback"
    status  = "completed"
    sent    = []
  }
}

test "buying after the offer converts, and no survey is sent" {
  start = "2026-04-06T10:00:00-04:00"
  customer = {
    id              = "ck-4106"
    email           = "jin.park@example.com"
    first_name      = "Jin"
    timezone        = "America/New_York"
    lifetime_orders = 15
  }

  event "customer_lapsed" {
    days_inactive    = 40
    last_order_id    = "CK-87001"
    last_order_total = 72.00
  }
  expect {
    journey = "winback"
    sent    = ["winback_offer"]
  }

  wait "2d" {}
  event "purchase_completed" {
    order_id = "CK-90001"
    total    = 0
    coupon   = "WELCOMEBACK-FREE"
  }
  expect {
    journey = "winback"
    status  = "converted"
    sent    = []
  }

  wait "10d" {}
  expect {
    journey  = "winback"
    sent     = []
    not_sent = ["nps_survey", "last_chance"]
  }
}

test "three weeks without an order is not a lapse yet" {
  start = "2026-04-06T10:00:00-04:00"
  customer = {
    id         = "ck-4107"
    email      = "ali.hassan@example.com"
    first_name = "Ali"
    timezone   = "America/New_York"
  }

  event "customer_lapsed" {
    days_inactive    = 21
    last_order_id    = "CK-89100"
    last_order_total = 24.00
  }
  expect {
    journey = "winback"
    status  = "none"
    sent    = []
  }
}

test "reentry after 90d: no second win-back two months later, a new one three months later" {
  start = "2026-04-06T10:00:00-04:00"
  customer = {
    id         = "ck-4108"
    email      = "claire.dubois@example.com"
    first_name = "Claire"
    timezone   = "America/New_York"
  }

  event "customer_lapsed" {
    days_inactive    = 35
    last_order_id    = "CK-87450"
    last_order_total = 33.00
  }
  wait "1d" {}
  event "purchase_completed" {
    order_id = "CK-90050"
    total    = 29.60
    coupon   = "WELCOMEBACK20"
  }
  expect {
    journey = "winback"
    status  = "converted"
    sent    = ["winback_offer"]
  }

  wait "60d" {}
  event "customer_lapsed" {
    days_inactive    = 59
    last_order_id    = "CK-90050"
    last_order_total = 29.60
  }
  expect {
    journey = "winback"
    status  = "converted"
    sent    = []
  }

  wait "31d" {} # 91 days after the first instance converted
  event "customer_lapsed" {
    days_inactive    = 90
    last_order_id    = "CK-90050"
    last_order_total = 29.60
  }
  expect {
    journey = "winback"
    stage   = "offer"
    status  = "active"
    sent    = ["winback_offer"]
  }
}

test "lapse detected at 21:00 sharp: the offer is held until 08:00" {
  start = "2026-04-07T01:00:00Z" # Mon 6 April, 21:00 in New York: quiet hours are [21:00, 08:00)
  customer = {
    id         = "ck-4109"
    email      = "sam.oneill@example.com"
    first_name = "Sam"
    timezone   = "America/New_York"
  }

  event "customer_lapsed" {
    days_inactive    = 30
    last_order_id    = "CK-88700"
    last_order_total = 41.00
  }
  expect {
    journey = "winback"
    stage   = "offer"
    status  = "active"
    sent    = []
  }

  wait "10h 59m" {} # 07:59
  expect {
    journey = "winback"
    sent    = []
  }

  wait "1m" {} # 08:00: no longer quiet
  expect {
    journey = "winback"
    sent    = ["winback_offer"]
  }
}

test "unsubscribing exits the win-back" {
  start = "2026-04-06T10:00:00-04:00"
  customer = {
    id         = "ck-4110"
    email      = "erin.walsh@example.com"
    first_name = "Erin"
    timezone   = "America/New_York"
  }

  event "customer_lapsed" {
    days_inactive    = 44
    last_order_id    = "CK-87222"
    last_order_total = 18.00
  }
  wait "2d" {}
  event "unsubscribed" {}
  expect {
    journey = "winback"
    status  = "exited"
    sent    = ["winback_offer"]
  }

  wait "12d" {}
  expect {
    journey  = "winback"
    sent     = []
    not_sent = ["nps_survey", "last_chance"]
  }
}
