terraform {
  required_providers {
    vedette = {
      source  = "vedette-dev/vedette"
      version = "~> 0.1"
    }
  }
}

# endpoint and token fall back to the VEDETTE_URL and VEDETTE_TOKEN environment variables,
# so this block can be empty.
provider "vedette" {
  endpoint        = "https://vedette.example.com"
  token           = var.vedette_token
  request_timeout = "30s"
}

variable "vedette_token" {
  description = "A Vedette API token with the write scope (vdt_...)."
  type        = string
  sensitive   = true
}
