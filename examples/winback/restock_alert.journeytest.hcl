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
