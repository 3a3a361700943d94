# A discovery source is imported by its id.
terraform import vedette_discovery_source.edge_envoy edge-envoy
