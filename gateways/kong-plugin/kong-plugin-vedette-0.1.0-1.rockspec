package = "kong-plugin-vedette"
version = "0.1.0-1"
source = {
  url = "git+https://github.com/vedette/vedette.git",
  dir = "gateways/kong-plugin",
}
description = {
  summary = "Kong plugin sending per-route passive health (requests, 5xx ratio, latency histogram) to Vedette",
  license = "Apache-2.0",
}
dependencies = {
  "lua >= 5.1",
}
build = {
  type = "builtin",
  modules = {
    ["kong.plugins.vedette.handler"] = "kong/plugins/vedette/handler.lua",
    ["kong.plugins.vedette.schema"] = "kong/plugins/vedette/schema.lua",
  },
}
