# Every production monitor of the payments team.
data "vedette_monitors" "payments_prod" {
  selector = "team=payments,env=prod"
}

# For example, to cover them all with a maintenance window by id.
resource "vedette_maintenance_window" "payments_freeze" {
  id       = "payments-freeze"
  start    = "2026-12-24T00:00:00Z"
  end      = "2026-12-27T00:00:00Z"
  monitors = data.vedette_monitors.payments_prod.ids
}
