# Envoy's admin interface: every route under *.example.com (but /internal) becomes a monitor
# checked through Envoy, labelled discovered-by=edge-envoy.
resource "vedette_discovery_source" "edge_envoy" {
  id       = "edge-envoy"
  name     = "Edge Envoy"
  type     = "envoy"
  interval = "1m"

  endpoint = {
    url = "http://envoy-admin.internal:9901"
  }

  filters = {
    include = { hosts = ["*.example.com"] }
    exclude = { paths = ["/internal/*"] }
  }

  template = {
    name            = "{host}{path}"
    url             = "{base}{path}"
    interval        = "30s"
    expected_status = 200
    labels          = { team = "platform", gateway = "{gateway}" }
  }
}

# Kong's Admin API with its token read by the server from an environment variable (never sent
# by Terraform nor kept in the state); only routes tagged vedette:on are monitored, and a route
# that disappears keeps its monitor for an hour first.
resource "vedette_discovery_source" "kong" {
  id           = "kong-prod"
  type         = "kong"
  grace_period = "1h"

  endpoint = {
    url = "https://kong-admin.internal:8444"
    credentials = {
      header = {
        name  = "Kong-Admin-Token"
        value = { env = "VEDETTE_DISCOVERY_KONG_TOKEN" }
      }
    }
  }

  selection = {
    opt_in = true
  }
}

output "edge_envoy_monitors" {
  value = vedette_discovery_source.edge_envoy.status.monitors_owned
}
