-- The plugin's flushes against a real `vedette serve` (started by scripts/test-kong-plugin,
-- which names it in VEDETTE_URL with an admin token in VEDETTE_TOKEN): the handler's own post
-- sends each batch over HTTP (through spec/support/resty/http.lua, a LuaSocket stand-in for
-- lua-resty-http), Vedette's answer says which routes matched, and the figures show up in the
-- monitor's status.passive. A wrong token keeps the batch for a retry.
package.path = "./?.lua;./?/init.lua;./spec/support/?.lua;" .. package.path
local cjson = require "cjson.safe"

local base = os.getenv("VEDETTE_URL")
local token = os.getenv("VEDETTE_TOKEN")
assert(base and token, "VEDETTE_URL and VEDETTE_TOKEN must name a running vedette serve (scripts/test-kong-plugin)")

local clock = 1000.0
local current = {}
local logged = {}

_G.ngx = {
  now = function() return clock end,
  timer = { every = function() return true end },
}
_G.kong = {
  router = { get_route = function() return current.route end },
  response = { get_status = function() return current.status end },
  request = { get_start_time = function() return clock * 1000 - current.latency end },
  log = {
    warn = function(...) logged[#logged + 1] = table.concat({ ... }) end,
    err = function(...) logged[#logged + 1] = table.concat({ ... }) end,
  },
}

local handler = require "kong.plugins.vedette.handler"
local resty_http = require "resty.http"

local function api(method, path, body, bearer)
  local client = resty_http.new()
  client:set_timeout(5000)
  local res, err = client:request_uri(base .. path, {
    method = method,
    body = body and cjson.encode(body) or nil,
    headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. (bearer or token) },
  })
  assert(res, err)
  return res.status, cjson.decode(res.body)
end

local function conf(with_token)
  return {
    endpoint = base .. "/api/v1/ingest/kong",
    token = with_token or token,
    flush_interval = 10,
    max_routes = 100,
    max_pending = 5,
    initial_backoff = 1,
    max_backoff = 4,
    timeout = 5,
  }
end

local function request(c, route, status, latency)
  current = { route = route, status = status, latency = latency }
  handler:log(c)
end

local orders = { id = "b7e1c2d0-0000-4000-8000-0000000000e1", name = "orders-e2e" }
local ghost = { id = "b7e1c2d0-0000-4000-8000-00000000dead", name = "not-discovered" }

describe("vedette plugin flushing to vedette serve", function()
  setup(function()
    local status, body = api("PUT", "/api/v1/monitors/kong-orders-e2e", {
      labels = { ["kong-route-id"] = orders.id },
      spec = { http = { url = "http://127.0.0.1:9/orders" }, interval = "1h", timeout = "1s" },
    })
    assert.is_true(status == 200 or status == 201, cjson.encode(body))
  end)

  before_each(function()
    handler.reset()
    resty_http.responses = {}
    logged = {}
    clock = clock + 100
  end)

  it("posts a batch that Vedette takes and shows as the monitor's passive health", function()
    local c = conf()
    request(c, orders, 200, 3)
    request(c, orders, 503, 40)
    request(c, orders, 200, 30)
    request(c, ghost, 200, 1)
    handler.flush(c, clock, handler.post)
    assert.are.equal(0, #handler.state().pending)
    assert.are.equal(1, #resty_http.responses)
    local answer = resty_http.responses[1]
    assert.are.equal(200, answer.status)
    local report = cjson.decode(answer.body)
    assert.are.same({ entries = 2, matched = 1, monitors = 1, unknown = 1,
                      unknown_route_ids = { ghost.id } }, report)

    local status, monitor = api("GET", "/api/v1/monitors/kong-orders-e2e")
    assert.are.equal(200, status)
    local passive = monitor.status.passive
    assert.are.equal(3, passive.requests)
    assert.are.equal(1, passive.errors_5xx)
    assert.are.near(1 / 3, passive.error_ratio_5xx, 1e-9)
    assert.are.equal(50, passive.latency_p50_ms)
    assert.are.equal("kong-plugin", passive.reported_by)
  end)

  it("sends an empty batch (only dropped requests) that Vedette takes", function()
    local c = conf()
    c.max_routes = 1
    request(c, orders, 200, 3)
    handler.take_batch(clock)
    handler.state().dropped = 2
    handler.flush(c, clock, handler.post)
    assert.are.equal(0, #handler.state().pending)
    assert.are.equal(200, resty_http.responses[1].status)
    assert.are.equal(0, cjson.decode(resty_http.responses[1].body).entries)
  end)

  it("keeps the batch for a retry when Vedette refuses the token, then delivers it", function()
    local bad = conf("vdt_not-a-token-of-this-server-000000000000")
    request(bad, orders, 200, 7)
    handler.flush(bad, clock, handler.post)
    assert.are.equal(1, #handler.state().pending)
    assert.are.equal(401, resty_http.responses[1].status)
    assert.is_truthy(logged[1]:find("status 401", 1, true))
    assert.is_falsy(logged[1]:find("vdt_not", 1, true))

    local _, before = api("GET", "/api/v1/monitors/kong-orders-e2e")
    local good = conf()
    handler.flush(good, clock + 2, handler.post)
    assert.are.equal(0, #handler.state().pending)
    assert.are.equal(200, resty_http.responses[2].status)
    local _, after = api("GET", "/api/v1/monitors/kong-orders-e2e")
    assert.are.equal(before.status.passive.requests + 1, after.status.passive.requests)
  end)

  it("gets a 422 naming the field for a batch Vedette cannot take", function()
    local c = conf()
    request(c, orders, 200, 7)
    local batch = handler.take_batch(clock)
    batch.routes[1].errors_5xx = 5
    local ok, err = handler.post(c, cjson.encode(batch))
    assert.is_nil(ok)
    assert.are.equal("status 422", err)
    local problem = cjson.decode(resty_http.responses[1].body)
    assert.are.equal("routes[0].errors_5xx", problem.errors[1].field)
  end)
end)
