# A status page is imported by its id.
terraform import vedette_status_page.payments payments
