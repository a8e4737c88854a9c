journey "restock_alert" {
  description = "A coffee the customer asked about is back: one email while it lasts."
  policy      = policy.marketing
  reentry     = "always" # every restock the customer asked about

  entry "back_in_stock" {}
  goal "purchase_completed" {}
  exit "unsubscribed" {}

  stage "alert" {
    send "restock_alert" {
      channel = channel.email
      to      = customer.email
      subject = "${entry.product_name} is back"
      body    = template("templates/restock_alert.txt")
      html    = template("templates/restock_alert.html")
    }
    after "3d" { goto = end } # small lots sell out in days; after that the alert is moot
  }
}
