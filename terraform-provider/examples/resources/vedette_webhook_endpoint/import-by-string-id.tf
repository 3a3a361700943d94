import {
  to = vedette_webhook_endpoint.payments_slack
  id = "payments-slack"
}
