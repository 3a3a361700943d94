variable "slack_webhook_url" {
  type      = string
  sensitive = true
}

variable "ops_receiver_token" {
  type      = string
  sensitive = true
}

# Every monitor and incident event of the payments team, as JSON, to an in-house receiver that
# verifies the Standard Webhooks signature with `signing_secret`.
resource "vedette_webhook_endpoint" "ops_receiver" {
  id          = "ops-receiver"
  url         = "https://hooks.example.com/vedette"
  description = "Ops event bus"
  labels      = { team = "ops" }
  event_types = ["monitor.*", "incident.*"]
  selector    = "team=payments"
  timeout     = "10s"
  headers     = { X-Tenant = "acme" }

  # Terraform 1.11+: the token is written to the server but never stored in state. Bump the
  # version when the token changes. (With older Terraform, set `secret` instead: sensitive,
  # kept in state.)
  auth = {
    type              = "bearer"
    secret_wo         = var.ops_receiver_token
    secret_wo_version = 1
  }
}

# Slack through the integration catalog (see the vedette_integrations data source): the
# incoming webhook URL is a secret parameter.
resource "vedette_webhook_endpoint" "payments_slack" {
  id          = "payments-slack"
  event_types = ["monitor.down", "monitor.up", "incident.opened"]
  selector    = "team=payments,env=prod"

  integration = {
    name          = "slack"
    params        = jsonencode({ mention = "<!here>" })
    secret_params = { webhook_url = var.slack_webhook_url }
  }
}

# Give the receiver its signing secret, e.g. through a secret store.
output "ops_receiver_signing_secret" {
  value     = vedette_webhook_endpoint.ops_receiver.signing_secret
  sensitive = true
}
