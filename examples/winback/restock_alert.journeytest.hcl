# Scenario tests for restock alerts, and for the marketing cap they share with win-back.

test "a restock alert, and a purchase that converts it" {
  start = "2026-04-06T10:00:00-04:00"
  customer = {
    id         = "ck-5101"
    email      = "nora.quinn@example.com"
    first_name = "Nora"
    timezone   = "America/New_York"
  }

  event "back_in_stock" {
    product_id   = "eth-guji-natural"
    product_name = "Ethiopia Guji Natural"
  }
  expect {
    journey = "restock_alert"
    stage   = "alert"
    status  = "active"
    sent    = ["restock_alert"]
  }

  wait "5h" {}
  event "purchase_completed" {
    order_id = "CK-90777"
    total    = 21.00
    coupon   = ""
  }
  expect {
    journey = "restock_alert"
    status  = "converted"
    sent    = []
  }
}

test "a fourth marketing email in a week is capped: the restock alert after a win-back week" {
  start = "2026-04-06T10:00:00-04:00"
  customer = {
    id              = "ck-5102"
    email           = "diego.ramos@example.com"
    first_name      = "Diego"
    timezone        = "America/New_York"
    lifetime_orders = 9
  }

  event "customer_lapsed" {
    days_inactive    = 47
    last_order_id    = "CK-87777"
    last_order_total = 36.00
  }
  expect {
    journey = "winback"
    sent    = ["winback_offer"] # 1 of 3: Mon 6 10:00
  }

  wait "5d" {}
  expect {
    journey = "winback"
    stage   = "survey"
    sent    = ["nps_survey"] # 2 of 3: Sat 11 10:00
  }

  wait "2h" {}
  event "nps_submitted" {
    score   = 10
    comment = "Best beans in town."
  }
  expect {
    journey = "winback"
    stage   = "promoter"
    sent    = ["referral_invite"] # 3 of 3: Sat 11 12:00
  }

  # Sun 12 12:00: three marketing emails since Sun 5 12:00; the alert is dropped, not delayed.
  wait "1d" {}
  event "back_in_stock" {
    product_id   = "col-huila-washed"
    product_name = "Colombia Huila Washed"
  }
  expect {
    journey  = "restock_alert"
    stage    = "alert"
    status   = "active"
    sent     = []
    not_sent = ["restock_alert"]
  }

  wait "3d" {}
  expect {
    journey = "restock_alert"
    status  = "completed"
    sent    = []
  }
}

test "a late-night restock is held; unsubscribing before 08:00 exits and drops it" {
  start = "2026-04-07T02:30:00Z" # Mon 6 April, 22:30 in New York: quiet hours
  customer = {
    id         = "ck-5103"
    email      = "tess.morgan@example.com"
    first_name = "Tess"
    timezone   = "America/New_York"
  }

  event "back_in_stock" {
    product_id   = "ken-aa-kirinyaga"
    product_name = "Kenya AA Kirinyaga"
  }
  expect {
    journey = "restock_alert"
    stage   = "alert"
    status  = "active"
    sent    = []
  }

  wait "9h" {} # Tue 7 07:30: still quiet
  event "unsubscribed" {}
  expect {
    journey = "restock_alert"
    status  = "exited"
    sent    = []
  }

  wait "1h" {} # 08:30: quiet hours are over, but the held alert was dropped with the exit
  expect {
    journey  = "restock_alert"
    status   = "exited"
    sent     = []
    not_sent = ["restock_alert"]
  }

  # A purchase afterwards does not turn an exited instance into a conversion.
  wait "1d" {}
  event "purchase_completed" {
    order_id = "CK-90801"
    total    = 23.00
    coupon   = ""
  }
  expect {
    journey = "restock_alert"
    status  = "exited"
    sent    = []
  }
}
