# One-off: the database upgrade on Saturday night, for two monitors.
resource "vedette_maintenance_window" "db_upgrade" {
  id       = "db-upgrade-2026-11"
  name     = "Database upgrade"
  start    = "2026-11-28T22:00:00Z"
  end      = "2026-11-29T02:00:00Z"
  monitors = ["postgres-primary", "payments-api"]
}

# Recurring by cron: every Sunday 02:00-03:30 UTC, for every monitor of the platform team.
resource "vedette_maintenance_window" "weekly_patching" {
  id          = "weekly-patching"
  name        = "Weekly patching"
  description = "OS patches; ask #platform"
  cron        = "0 2 * * 0"
  duration    = "1h30m"
  selector    = "team=platform"
}

# Recurring by RFC 5545 rule: the first Monday of every month, 06:00-08:00 UTC, from December on.
resource "vedette_maintenance_window" "monthly_release" {
  id       = "monthly-release"
  rrule    = "FREQ=MONTHLY;BYDAY=1MO;BYHOUR=6"
  start    = "2026-12-07T06:00:00Z"
  duration = "2h"
  selector = "env=prod"
}
