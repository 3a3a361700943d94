# The public status page of the payments team, at /status/payments and at
# https://status.payments.example.com/ (the custom domain's requests get the page at /).
resource "vedette_status_page" "payments" {
  id            = "payments"
  title         = "Payments status"
  slug          = "payments"
  description   = "Card payments, refunds and the public API."
  logo_url      = "https://payments.example.com/logo.svg"
  custom_domain = "status.payments.example.com"

  groups = [
    {
      # Named monitors, shown in this order under the names given here.
      name = "Public API"
      monitors = [
        { id = vedette_monitor.payments_api.id, name = "Payments API" },
      ]
    },
    {
      # Every monitor of the team in production, under its own name.
      name     = "Backends"
      selector = "team=payments,env=prod"
    },
  ]

  # Uptime bars, incidents and maintenance are shown by default; add response times.
  show = {
    latency = true
  }

  announcement = "Refunds may take longer than usual until Monday."
}
