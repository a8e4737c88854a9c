# Scenario tests for phone activation and the accessories upsell, both under the marketing
# policy (quiet hours 21:00-08:00, "3 per 7d", suppressed while a support case is open).
# Customers are in Asia/Shanghai; the clock starts Monday 2 March 2026.

test "premium buyer is called back, not nudged" {
  start = "2026-03-02T10:00:00+08:00"
  customer = {
    id         = "c-1"
    email      = "li@example.com"
    first_name = "Li"
    plan       = "premium"
    timezone   = "Asia/Shanghai"
  }

  event "order_completed" {
    order_id = "SO-100231"
    category = "phone"
    amount   = 4999
  }
  expect {
    journey = "phone_activation"
    stage   = "guide"
    sent    = ["activation_guide"]
  }

  wait "3d" {}
  expect {
    journey  = "phone_activation"
    status   = "completed"
    sent     = ["call_request"]
    not_sent = ["sms_nudge", "email_nudge"]
  }
}

test "nudge split: the sms variant" {
  # The split hash is stable (runtime/engine/split.go): this customer id always lands in this variant.
  start = "2026-03-02T10:00:00+08:00"
  customer = {
    id         = "c-1001"
    email      = "wang.fang@example.com"
    first_name = "Fang"
    phone      = "+8613800138001"
    plan       = "standard"
    timezone   = "Asia/Shanghai"
  }

  event "order_completed" {
    order_id = "SO-100232"
    category = "phone"
    amount   = 2599
  }
  expect {
    journey = "phone_activation"
    sent    = ["activation_guide"]
  }

  wait "3d" {}
  expect {
    journey  = "phone_activation"
    stage    = "sms_nudge"
    status   = "active"
    sent     = ["sms_nudge"]
    not_sent = ["email_nudge", "call_request"]
  }

  wait "4d" {}
  expect {
    journey = "phone_activation"
    status  = "completed"
    sent    = []
  }
}

test "nudge split: the email variant, and an activation after the nudge converts" {
  # The split hash is stable (runtime/engine/split.go): this customer id always lands in this variant.
  start = "2026-03-02T10:00:00+08:00"
  customer = {
    id         = "c-1004"
    email      = "zhang.wei@example.com"
    first_name = "Wei"
    phone      = "+8613800138002"
    plan       = "standard"
    timezone   = "Asia/Shanghai"
  }

  event "order_completed" {
    order_id = "SO-100233"
    category = "phone"
    amount   = 3199
  }
  expect {
    journey = "phone_activation"
    sent    = ["activation_guide"]
  }

  wait "3d" {}
  expect {
    journey  = "phone_activation"
    stage    = "email_nudge"
    sent     = ["email_nudge"]
    not_sent = ["sms_nudge", "call_request"]
  }

  wait "1d" {}
  event "device_activated" {
    device_model = "Orbit X2"
  }
  expect {
    journey = "phone_activation"
    status  = "converted"
    sent    = []
  }
}

test "nudge split: the holdout gets no nudge" {
  # The split hash is stable (runtime/engine/split.go): this customer id always lands in this variant.
  start = "2026-03-02T10:00:00+08:00"
  customer = {
    id         = "c-1003"
    email      = "chen.jing@example.com"
    first_name = "Jing"
    phone      = "+8613800138003"
    plan       = "standard"
    timezone   = "Asia/Shanghai"
  }

  event "order_completed" {
    order_id = "SO-100234"
    category = "phone"
    amount   = 1899
  }
  expect {
    journey = "phone_activation"
    sent    = ["activation_guide"]
  }

  wait "3d" {}
  expect {
    journey  = "phone_activation"
    status   = "completed"
    sent     = []
    not_sent = ["sms_nudge", "email_nudge", "call_request"]
  }
}

test "activation during the guide converts, and the accessories offer follows a day later" {
  start = "2026-03-02T10:00:00+08:00"
  customer = {
    id         = "c-101"
    email      = "liu.yang@example.com"
    first_name = "Yang"
    plan       = "standard"
    timezone   = "Asia/Shanghai"
  }

  event "order_completed" {
    order_id = "SO-100235"
    category = "phone"
    amount   = 5499
  }
  expect {
    journey = "phone_activation"
    sent    = ["activation_guide"]
  }

  wait "1d" {}
  event "device_activated" {
    device_model = "Orbit X2 Pro"
  }
  expect {
    journey = "phone_activation"
    status  = "converted"
    sent    = []
  }
  expect {
    journey = "accessories_upsell"
    stage   = "settle_in"
    status  = "active"
  }

  wait "1d" {}
  expect {
    journey = "accessories_upsell"
    stage   = "offer"
    sent    = ["accessories_offer"]
  }

  wait "1d" {}
  event "order_completed" {
    order_id = "SO-100410"
    category = "accessories"
    amount   = 59
  }
  expect {
    journey  = "accessories_upsell"
    status   = "converted"
    sent     = []
    not_sent = ["accessories_reminder"]
  }
}

test "a ticket opened while waiting pauses the journey; closing it resumes it" {
  start = "2026-03-02T10:00:00+08:00"
  customer = {
    id         = "c-102"
    email      = "huang.min@example.com"
    first_name = "Min"
    plan       = "premium"
    timezone   = "Asia/Shanghai"
  }

  event "order_completed" {
    order_id = "SO-100236"
    category = "phone"
    amount   = 6999
  }
  expect {
    journey = "phone_activation"
    sent    = ["activation_guide"]
  }

  wait "2d 2h" {} # Wed 12:00, in "check" since 10:00
  event "support_ticket_opened" {
    ticket_id = "T-5512"
    topic     = "activation"
  }
  expect {
    journey = "support_case"
    stage   = "acknowledge"
    sent    = ["ticket_received"]
  }
  expect {
    journey = "phone_activation"
    stage   = "in_support"
    sent    = []
  }

  wait "1d" {}
  event "support_ticket_closed" {
    ticket_id  = "T-5512"
    resolution = "solved"
  }
  expect {
    journey = "support_case"
    status  = "converted"
    sent    = []
  }
  expect {
    journey = "phone_activation"
    stage   = "check"
  }

  wait "1d" {} # back in "check" for a day, still not activated: route -> call back
  expect {
    journey = "phone_activation"
    status  = "completed"
    sent    = ["call_request"]
  }
}

test "a ticket open for two weeks ends the activation journey" {
  start = "2026-03-02T10:00:00+08:00"
  customer = {
    id         = "c-103"
    email      = "zhao.lei@example.com"
    first_name = "Lei"
    plan       = "premium"
    timezone   = "Asia/Shanghai"
  }

  event "order_completed" {
    order_id = "SO-100237"
    category = "phone"
    amount   = 4299
  }
  expect {
    journey = "phone_activation"
    sent    = ["activation_guide"]
  }

  wait "2d 2h" {}
  event "support_ticket_opened" {
    ticket_id = "T-5513"
    topic     = "device"
  }
  expect {
    journey = "support_case"
    sent    = ["ticket_received"]
  }

  wait "14d" {}
  expect {
    journey = "support_case"
    stage   = "escalate"
    status  = "active"
    sent    = ["ticket_update", "escalation"]
  }
  expect {
    journey  = "phone_activation"
    status   = "completed"
    sent     = []
    not_sent = ["call_request", "sms_nudge", "email_nudge"]
  }
}

test "a call-back due while a case is open is suppressed" {
  start = "2026-03-02T10:00:00+08:00"
  customer = {
    id         = "c-104"
    email      = "sun.li@example.com"
    first_name = "Li"
    plan       = "premium"
    timezone   = "Asia/Shanghai"
  }

  event "order_completed" {
    order_id = "SO-100238"
    category = "phone"
    amount   = 7999
  }
  expect {
    journey = "phone_activation"
    sent    = ["activation_guide"]
  }

  # Opened during "guide", which does not listen for tickets: the journey carries on.
  wait "1d 3h" {}
  event "support_ticket_opened" {
    ticket_id = "T-5514"
    topic     = "delivery"
  }
  expect {
    journey = "support_case"
    sent    = ["ticket_received"]
  }

  # Thu 10:00: route -> call_back. The instance moves on, but the CRM request is dropped
  # and recorded as suppressed.
  wait "1d 23h" {}
  expect {
    journey  = "phone_activation"
    status   = "completed"
    sent     = []
    not_sent = ["call_request"]
  }

  wait "1d" {}
  event "support_ticket_closed" {
    ticket_id  = "T-5514"
    resolution = "solved"
  }
  expect {
    journey = "support_case"
    status  = "converted"
    sent    = ["ticket_update"]
  }
}

test "activating while a case is open converts, but the accessories journey refuses entry" {
  start = "2026-03-02T10:00:00+08:00"
  customer = {
    id         = "c-105"
    email      = "ma.jun@example.com"
    first_name = "Jun"
    plan       = "standard"
    timezone   = "Asia/Shanghai"
  }

  event "order_completed" {
    order_id = "SO-100239"
    category = "phone"
    amount   = 2999
  }
  expect {
    journey = "phone_activation"
    sent    = ["activation_guide"]
  }

  wait "1d" {}
  event "support_ticket_opened" {
    ticket_id = "T-5515"
    topic     = "activation"
  }
  expect {
    journey = "support_case"
    sent    = ["ticket_received"]
  }

  wait "3h" {}
  event "device_activated" {
    device_model = "Orbit A5"
  }
  expect {
    journey = "phone_activation"
    status  = "converted"
    sent    = []
  }
  expect {
    journey = "accessories_upsell"
    status  = "none"
    sent    = []
  }

  wait "1d" {}
  event "support_ticket_closed" {
    ticket_id  = "T-5515"
    resolution = "solved"
  }
  expect {
    journey = "support_case"
    status  = "converted"
    sent    = []
  }

  # The refused entry is not replayed when the case closes.
  wait "3d" {}
  expect {
    journey  = "accessories_upsell"
    status   = "none"
    sent     = []
    not_sent = ["accessories_offer"]
  }
}

test "an accessories offer due during a case is suppressed; the reminder after it goes out" {
  start = "2026-03-02T10:00:00+08:00"
  customer = {
    id         = "c-106"
    email      = "guo.xin@example.com"
    first_name = "Xin"
    plan       = "standard"
    timezone   = "Asia/Shanghai"
  }

  event "order_completed" {
    order_id = "SO-100240"
    category = "phone"
    amount   = 3599
  }
  expect {
    journey = "phone_activation"
    sent    = ["activation_guide"]
  }

  wait "1h" {}
  event "device_activated" {
    device_model = "Orbit X2"
  }
  expect {
    journey = "accessories_upsell"
    stage   = "settle_in"
  }

  wait "1h" {}
  event "support_ticket_opened" {
    ticket_id = "T-5516"
    topic     = "billing"
  }
  expect {
    journey = "support_case"
    sent    = ["ticket_received"]
  }

  wait "1d" {} # Tue 12:00; the offer was due at 11:00
  expect {
    journey  = "accessories_upsell"
    stage    = "offer"
    status   = "active"
    sent     = []
    not_sent = ["accessories_offer"]
  }

  wait "21h" {} # Wed 09:00
  event "support_ticket_closed" {
    ticket_id  = "T-5516"
    resolution = "solved"
  }
  expect {
    journey = "support_case"
    status  = "converted"
    sent    = []
  }

  wait "1d 3h" {} # Thu 12:00; the reminder was due at 11:00
  expect {
    journey = "accessories_upsell"
    stage   = "reminder"
    sent    = ["accessories_reminder"]
  }
}

test "a late-night order: the activation guide waits for 08:00" {
  start = "2026-03-02T22:30:00+08:00"
  customer = {
    id         = "c-107"
    email      = "xu.ying@example.com"
    first_name = "Ying"
    plan       = "standard"
    timezone   = "Asia/Shanghai"
  }

  event "order_completed" {
    order_id = "SO-100241"
    category = "phone"
    amount   = 2199
  }
  expect {
    journey = "phone_activation"
    stage   = "guide"
    status  = "active"
    sent    = []
  }

  wait "9h" {} # 07:30
  expect {
    journey = "phone_activation"
    sent    = []
  }

  wait "1h" {} # 08:30
  expect {
    journey = "phone_activation"
    sent    = ["activation_guide"]
  }
}

test "a third marketing message in a week is the last: the accessories reminder is capped" {
  start = "2026-03-02T10:00:00+08:00"
  customer = {
    id         = "c-108"
    email      = "he.tao@example.com"
    first_name = "Tao"
    plan       = "premium"
    timezone   = "Asia/Shanghai"
  }

  event "order_completed" {
    order_id = "SO-100242"
    category = "phone"
    amount   = 8999
  }
  wait "3d" {}
  expect {
    journey = "phone_activation"
    status  = "completed"
    sent    = ["activation_guide", "call_request"] # Mon 10:00 and Thu 10:00
  }

  wait "2h" {}
  event "device_activated" {
    device_model = "Orbit X2 Ultra"
  }
  expect {
    journey = "accessories_upsell"
    stage   = "settle_in"
  }

  wait "1d" {}
  expect {
    journey = "accessories_upsell"
    stage   = "offer"
    sent    = ["accessories_offer"] # Fri 12:00: the third in seven days
  }

  # Sun 12:00: the window since the previous Sunday 12:00 already holds three.
  wait "2d" {}
  expect {
    journey  = "accessories_upsell"
    stage    = "reminder"
    sent     = []
    not_sent = ["accessories_reminder"]
  }
}

test "unsubscribing exits before any nudge" {
  start = "2026-03-02T10:00:00+08:00"
  customer = {
    id         = "c-109"
    email      = "lin.na@example.com"
    first_name = "Na"
    plan       = "standard"
    timezone   = "Asia/Shanghai"
  }

  event "order_completed" {
    order_id = "SO-100243"
    category = "phone"
    amount   = 2799
  }
  expect {
    journey = "phone_activation"
    sent    = ["activation_guide"]
  }

  wait "1d" {}
  event "unsubscribed" {}
  expect {
    journey = "phone_activation"
    status  = "exited"
  }

  wait "5d" {}
  expect {
    journey  = "phone_activation"
    sent     = []
    not_sent = ["sms_nudge", "email_nudge", "call_request"]
  }
}

test "only phone orders start the journey, and only once" {
  start = "2026-03-02T10:00:00+08:00"
  customer = {
    id         = "c-110"
    email      = "gao.hui@example.com"
    first_name = "Hui"
    plan       = "standard"
    timezone   = "Asia/Shanghai"
  }

  event "order_completed" {
    order_id = "SO-100244"
    category = "sim_only"
    amount   = 99
  }
  expect {
    journey = "phone_activation"
    status  = "none"
    sent    = []
  }

  event "order_completed" {
    order_id = "SO-100245"
    category = "phone"
    amount   = 3899
  }
  wait "1h" {}
  event "device_activated" {
    device_model = "Orbit A5"
  }
  expect {
    journey = "phone_activation"
    status  = "converted"
    sent    = ["activation_guide"]
  }

  # A second phone two months later: reentry = "never".
  wait "60d" {}
  event "order_completed" {
    order_id = "SO-100977"
    category = "phone"
    amount   = 4599
  }
  expect {
    journey  = "phone_activation"
    status   = "converted"
    sent     = []
    not_sent = ["activation_guide"]
  }
}

test "nudge split: an email nudge due at night waits for 08:00, and with no activation the journey ends four days on" {
  # The split hash is stable (runtime/engine/split.go): this customer id always lands in the email variant.
  start = "2026-03-02T21:30:00+08:00" # Mon 21:30, in quiet hours
  customer = {
    id         = "c-1101"
    email      = "deng.hao@example.com"
    first_name = "Hao"
    phone      = "+8613800138004"
    plan       = "standard"
    timezone   = "Asia/Shanghai"
  }

  event "order_completed" {
    order_id = "SO-100246"
    category = "phone"
    amount   = 2899
  }
  expect {
    journey = "phone_activation"
    stage   = "guide"
    sent    = []
  }

  wait "11h" {} # Tue 08:30
  expect {
    journey = "phone_activation"
    sent    = ["activation_guide"]
  }

  # Thu 21:30: check -> route -> nudge -> email_nudge, three days after the order; the
  # nudge is held by quiet hours.
  wait "2d 13h 30m" {} # Thu 22:00
  expect {
    journey  = "phone_activation"
    stage    = "email_nudge"
    status   = "active"
    sent     = []
    not_sent = ["email_nudge", "sms_nudge", "call_request"]
  }

  wait "10h 30m" {} # Fri 08:30: released at 08:00
  expect {
    journey  = "phone_activation"
    stage    = "email_nudge"
    sent     = ["email_nudge"]
    not_sent = ["sms_nudge"]
  }

  # The four days count from entering the stage (Thu 21:30), not from the send.
  wait "3d 12h 30m" {} # Mon 9, 21:00
  expect {
    journey = "phone_activation"
    stage   = "email_nudge"
    status  = "active"
    sent    = []
  }

  wait "1h" {} # Mon 9, 22:00
  expect {
    journey = "phone_activation"
    status  = "completed"
    sent    = []
  }
}

test "unsubscribing after the accessories offer exits the upsell: no reminder, and a later order does not convert it" {
  start = "2026-03-02T10:00:00+08:00"
  customer = {
    id         = "c-111"
    email      = "tang.yu@example.com"
    first_name = "Yu"
    plan       = "standard"
    timezone   = "Asia/Shanghai"
  }

  event "order_completed" {
    order_id = "SO-100247"
    category = "phone"
    amount   = 3299
  }
  wait "1h" {}
  event "device_activated" {
    device_model = "Orbit A5"
  }
  expect {
    journey = "phone_activation"
    status  = "converted"
    sent    = ["activation_guide"]
  }

  wait "1d" {} # Tue 11:00
  expect {
    journey = "accessories_upsell"
    stage   = "offer"
    status  = "active"
    sent    = ["accessories_offer"]
  }

  wait "1d" {} # Wed 11:00
  event "unsubscribed" {}
  expect {
    journey = "accessories_upsell"
    status  = "exited"
    sent    = []
  }

  wait "2d" {} # Fri 11:00: the reminder would have gone out on Thu 11:00
  event "order_completed" {
    order_id = "SO-100248"
    category = "accessories"
    amount   = 39
  }
  expect {
    journey  = "accessories_upsell"
    status   = "exited"
    sent     = []
    not_sent = ["accessories_reminder"]
  }
}

test "a customer who unsubscribes gets nothing more from the marketing topic" {
  # The same customer as the email variant above: after the unsubscribe (the link in the
  # activation guide, or POST /v1/subscriptions), the nudge is dropped as unsubscribed, not sent.
  start = "2026-03-02T10:00:00+08:00"
  customer = {
    id         = "c-1004"
    email      = "zhang.wei@example.com"
    first_name = "Wei"
    phone      = "+8613800138002"
    plan       = "standard"
    timezone   = "Asia/Shanghai"
  }

  event "order_completed" {
    order_id = "SO-100233"
    category = "phone"
    amount   = 3199
  }
  expect {
    journey = "phone_activation"
    sent    = ["activation_guide"]
  }

  subscription {
    topic  = "marketing"
    status = "unsubscribed"
  }
  wait "3d" {}
  expect {
    journey      = "phone_activation"
    stage        = "email_nudge"
    sent         = []
    unsubscribed = ["email_nudge"]
  }

  wait "4d" {}
  expect {
    journey = "phone_activation"
    status  = "completed"
    sent    = []
  }
}
