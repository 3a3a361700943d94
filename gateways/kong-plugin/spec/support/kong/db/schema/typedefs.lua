-- A stand-in for the two typedefs of Kong 3.x (kong/db/schema/typedefs.lua) the plugin's schema
-- uses: protocols_http (a set of the HTTP protocols) and url (a string field taking overrides).
local typedefs = {}

typedefs.protocols_http = {
  type = "set",
  required = true,
  default = { "grpc", "grpcs", "http", "https" },
  elements = { type = "string", one_of = { "grpc", "grpcs", "http", "https" } },
}

function typedefs.url(overrides)
  local field = { type = "string", custom_validator = "url" }
  for k, v in pairs(overrides or {}) do
    field[k] = v
  end
  return field
end

return typedefs
