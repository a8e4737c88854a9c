journey "upgrade_nudge" {
  description = "Hobby accounts that run out of build minutes: explain the limit, then offer a Pro trial."
  policy      = policy.lifecycle
  reentry     = "after 30d" # allowances reset monthly; do not pitch twice in one billing cycle

  entry "usage_limit_reached" {
    when = event.resource == "build_minutes" && customer.plan == "hobby"
  }
  goal "plan_upgraded" {}
  exit "account_deleted" {}
  exit "unsubscribed" {}

  stage "limit_hit" {
    send "limit_reached" {
      channel = channel.email
      to      = customer.email
      subject = "You've used this month's ${entry.limit} build minutes"
      body    = template("templates/limit_reached.txt")
      html    = template("templates/limit_reached.html")
    }
    after "3d" { goto = stage.trial_offer }
  }

  stage "trial_offer" {
    send "pro_trial_offer" {
      channel = channel.email
      to      = customer.email
      subject = "Try Pro free for 14 days: 10x the build minutes, no card needed"
      body    = template("templates/pro_trial_offer.txt")
      html    = template("templates/pro_trial_offer.html")
    }
    after "4d" { goto = end }
  }
}
