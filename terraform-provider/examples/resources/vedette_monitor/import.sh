# A monitor is imported by its id.
terraform import vedette_monitor.payments_api payments-api

# `vedette export --format terraform` writes the resource blocks and import blocks of every
# existing monitor (optionally only those matching --selector) for you.
