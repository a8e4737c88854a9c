# What Shipyard knows about an account owner. Traits arrive through `identify` calls from the
# app's backend; `id` (the user id) is always there and is not declared.
customer {
  trait "email" { type = string }
  trait "first_name" { type = string }
  trait "company" { type = string }
  trait "plan" { type = string }       # "hobby" | "pro" | "enterprise"
  trait "timezone" { type = string }   # IANA zone taken from the browser at signup
  trait "seats" { type = number }      # seats on the subscription (enterprise trials: quoted seats)
  trait "csm_assigned" { type = bool } # set when a customer success manager takes the account
}

event "signed_up" {
  description = "A new Shipyard account was created, from the website, the CLI or the GitHub app."
  property "plan" { type = string }
  property "source" { type = string } # "web" | "cli" | "github"
}

event "project_created" {
  description = "The account created a project (connected a repository or picked a template)."
  property "project_id" { type = string }
  property "framework" { type = string } # detected framework, e.g. "nextjs", "rails", "static"
}

event "first_deploy" {
  description = "The account's first successful production deploy. This is activation: accounts that deploy in their first two weeks are the ones that stay."
  property "project_id" { type = string }
  property "build_seconds" { type = number }
}

event "usage_limit_reached" {
  description = "The account used up a monthly allowance of its plan."
  property "resource" { type = string } # "build_minutes" | "bandwidth"
  property "limit" { type = number }    # the allowance, in the resource's unit
}

event "plan_upgraded" {
  description = "The account moved to a paid plan or a larger one."
  property "from_plan" { type = string }
  property "to_plan" { type = string }
}

event "account_deleted" {
  description = "The owner deleted the account. Nothing more may be sent."
}

event "unsubscribed" {
  description = "The customer clicked unsubscribe in a lifecycle email or turned lifecycle email off in settings."
}
