-- The plugin's schema.lua loaded against a stand-in for Kong's typedefs
-- (spec/support/kong/db/schema/typedefs.lua): its shape, required fields, defaults and bounds.
-- Kong's own schema engine (which applies them) cannot run here, so this checks what the
-- schema declares, not Kong's validation of it.
package.path = "./?.lua;./?/init.lua;./spec/support/?.lua;" .. package.path

local schema = require "kong.plugins.vedette.schema"

local function config_fields()
  for _, f in ipairs(schema.fields) do
    if f.config then
      local out = {}
      for _, entry in ipairs(f.config.fields) do
        local name, def = next(entry)
        out[name] = def
      end
      return out
    end
  end
end

describe("vedette plugin schema", function()
  it("is named vedette and limited to HTTP protocols", function()
    assert.are.equal("vedette", schema.name)
    assert.are.same({ "grpc", "grpcs", "http", "https" }, schema.fields[1].protocols.default)
  end)

  it("requires the endpoint URL and a secret, referenceable token", function()
    local f = config_fields()
    assert.is_true(f.endpoint.required)
    assert.are.equal("url", f.endpoint.custom_validator)
    assert.is_true(f.token.required)
    assert.is_true(f.token.encrypted)
    assert.is_true(f.token.referenceable)
  end)

  it("gives every bound a default inside it", function()
    local f = config_fields()
    for name, def in pairs(f) do
      if def.between then
        assert.is_not_nil(def.default, name)
        assert.is_true(def.default >= def.between[1] and def.default <= def.between[2], name)
      end
    end
  end)

  it("bounds max_routes so a batch fits the 1 MiB Vedette takes and its 5000 entries", function()
    local f = config_fields()
    assert.is_true(f.max_routes.between[2] * 600 <= 1024 * 1024)
    assert.is_true(f.max_routes.between[2] <= 5000)
  end)
end)
