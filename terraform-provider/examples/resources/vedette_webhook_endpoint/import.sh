# A webhook endpoint is imported by its id. The API never shows secrets: after an import, the
# next apply writes the configured secret values, and signing_secret stays unknown (null).
terraform import vedette_webhook_endpoint.payments_slack payments-slack
