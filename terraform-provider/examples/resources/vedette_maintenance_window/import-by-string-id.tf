import {
  to = vedette_maintenance_window.weekly_patching
  id = "weekly-patching"
}
