# A maintenance window is imported by its id.
terraform import vedette_maintenance_window.weekly_patching weekly-patching
