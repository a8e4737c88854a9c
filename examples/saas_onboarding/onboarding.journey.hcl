journey "onboarding" {
  description = "New accounts: from an empty dashboard to a first production deploy within two weeks."
  policy      = policy.lifecycle
  reentry     = "never" # one onboarding per person, even if they later sign up a second team

  entry "signed_up" {}
  goal "first_deploy" {} # activation; checked on every event, so a deploy stops the nudges at once
  exit "account_deleted" {}
  exit "unsubscribed" {}

  stage "welcome" {
    send "welcome" {
      channel = channel.email
      to      = customer.email
      subject = "Welcome to Shipyard, ${customer.first_name}"
      body    = template("templates/welcome.txt")
      html    = template("templates/welcome.html")
    }
    on "project_created" { goto = stage.building }
    after "2d" { goto = stage.project_nudge }
  }

  stage "project_nudge" {
    send "project_nudge" {
      channel = channel.email
      to      = customer.email
      subject = "Your first project takes about four minutes"
      body    = template("templates/project_nudge.txt")
      html    = template("templates/project_nudge.html")
    }
    on "project_created" { goto = stage.building }
    after "3d" { goto = stage.by_plan }
  }

  # Five days in and still no project: how we help depends on what they signed up for.
  stage "by_plan" {
    branch {
      when = customer.plan == "enterprise"
      goto = stage.sales_assist
    }
    branch {
      when = customer.plan == "pro"
      goto = stage.office_hours
    }
    branch { goto = stage.starter_templates }
  }

  stage "sales_assist" {
    send "csm_handoff" {
      channel = channel.crm
      data = {
        task       = "onboarding_stalled"
        account_id = customer.id
        company    = customer.company
        seats      = customer.seats
        email      = customer.email
        note       = "Enterprise trial with no project after 5 days. Offer a guided setup call."
        created_at = now
      }
    }
    update { csm_assigned = true }
    on "project_created" { goto = stage.building }
    after "9d" { goto = end }
  }

  stage "office_hours" {
    send "office_hours_invite" {
      channel = channel.email
      to      = customer.email
      subject = "Bring your app to Thursday office hours"
      body    = template("templates/office_hours_invite.txt")
      html    = template("templates/office_hours_invite.html")
    }
    on "project_created" { goto = stage.building }
    after "9d" { goto = end }
  }

  stage "starter_templates" {
    send "starter_templates" {
      channel = channel.email
      to      = customer.email
      subject = "Six starter apps you can deploy in one click"
      body    = template("templates/starter_templates.txt")
      html    = template("templates/starter_templates.html")
    }
    on "project_created" { goto = stage.building }
    after "9d" { goto = end }
  }

  # Most people deploy within minutes of creating a project. Give them a day before saying
  # anything; the goal ends the journey the moment they deploy.
  stage "building" {
    after "1d" { goto = stage.deploy_help }
  }

  stage "deploy_help" {
    send "deploy_help" {
      channel = channel.email
      to      = customer.email
      subject = "Stuck on your first deploy? The three fixes that solve most builds"
      body    = template("templates/deploy_help.txt")
      html    = template("templates/deploy_help.html")
    }
    after "4d" { goto = end }
  }
}
