# An HTTP check with assertions, thresholds and labels.
resource "vedette_monitor" "payments_api" {
  id     = "payments-api"
  name   = "Payments API"
  labels = { team = "payments", env = "prod" }

  http = {
    url          = "https://payments.example.com/healthz"
    headers      = { Accept = "application/json" }
    bearer_token = var.payments_probe_token
  }

  interval          = "30s"
  timeout           = "5s"
  degraded_after    = "800ms"
  failure_threshold = 2
  assertions = [
    "status == 200",
    "response_time < 300ms",
    "body.$.status == \"UP\"",
  ]
}

variable "payments_probe_token" {
  type      = string
  sensitive = true
}

# A TCP port.
resource "vedette_monitor" "postgres_primary" {
  id       = "postgres-primary"
  name     = "PostgreSQL primary"
  labels   = { team = "platform", env = "prod" }
  tcp      = { host = "db.example.com", port = 5432 }
  interval = "15s"
  timeout  = "3s"
}

# A DNS answer from a given resolver.
resource "vedette_monitor" "public_dns" {
  id     = "public-dns"
  name   = "Public DNS"
  labels = { team = "platform" }
  dns    = { name = "example.com", record_type = "A", resolver = "1.1.1.1" }
}

# Certificate validity and expiry (a certificate.expiring event 21 days ahead).
resource "vedette_monitor" "www_certificate" {
  id       = "www-certificate"
  labels   = { team = "web" }
  tls      = { host = "www.example.com", expiry_warning = "21d" }
  interval = "1h"
}

# A heartbeat: the nightly backup job calls push_url when it succeeds; a missed call is an outage.
resource "vedette_monitor" "nightly_backup" {
  id        = "nightly-backup"
  name      = "Nightly backup"
  labels    = { team = "platform", env = "prod" }
  heartbeat = { schedule = "0 3 * * *", grace = "30m" }
}

output "nightly_backup_push_url" {
  value     = vedette_monitor.nightly_backup.push_url
  sensitive = true
}
