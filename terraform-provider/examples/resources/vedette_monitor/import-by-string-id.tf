import {
  to = vedette_monitor.payments_api
  id = "payments-api"
}
