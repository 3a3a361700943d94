import {
  to = vedette_status_page.payments
  id = "payments"
}
