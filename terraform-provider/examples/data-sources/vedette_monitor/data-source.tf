# A monitor managed elsewhere (the UI, `vedette apply`, another Terraform configuration).
data "vedette_monitor" "payments_api" {
  id = "payments-api"
}

output "payments_api_url" {
  value = data.vedette_monitor.payments_api.http.url
}
