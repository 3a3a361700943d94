import {
  to = vedette_discovery_source.edge_envoy
  id = "edge-envoy"
}
