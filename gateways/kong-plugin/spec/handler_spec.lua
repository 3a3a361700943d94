-- busted tests of the Vedette Kong plugin against a small stand-in for the Kong PDK functions
-- it calls (kong.router, kong.response, kong.request, kong.log, ngx.now, ngx.timer.every) and a
-- stand-in POST that records what would be sent. cjson is the real library (Kong bundles it).
package.path = "./?.lua;./?/init.lua;" .. package.path
local cjson = require "cjson.safe"

local clock = 1000.0
local timers = {}
local logged = {}
local current = {}

_G.ngx = {
  now = function() return clock end,
  timer = {
    every = function(interval, fn)
      timers[#timers + 1] = { interval = interval, fn = fn }
      return true
    end,
  },
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

local conf = {
  endpoint = "http://127.0.0.1:1/api/v1/ingest/kong",
  token = "tok",
  flush_interval = 10,
  max_routes = 2,
  max_pending = 2,
  initial_backoff = 1,
  max_backoff = 4,
  timeout = 1,
}

local function request(route, status, latency)
  current = { route = route, status = status, latency = latency }
  handler:log(conf)
end

local orders = { id = "r-orders", name = "orders" }
local pay = { id = "r-pay", name = "payments" }

describe("vedette plugin", function()
  before_each(function()
    handler.reset()
    timers, logged = {}, {}
    clock = 1000.0
  end)

  it("aggregates counts, 5xx ratio and a latency histogram per route in the log phase", function()
    request(orders, 200, 3)
    request(orders, 503, 40)
    request(orders, 200, 20000)
    request(pay, 500, 7)
    assert.are.equal(1, #timers)
    assert.are.equal(10, timers[1].interval)
    local batch = handler.take_batch(clock)
    assert.are.equal(2, #batch.routes)
    local o = batch.routes[1]
    assert.are.equal("r-orders", o.route_id)
    assert.are.equal(3, o.requests)
    assert.are.equal(1, o.errors_5xx)
    assert.are.near(1 / 3, o.error_ratio_5xx, 1e-9)
    assert.are.equal(1, o.latency_buckets_ms[1].count)  -- <= 5 ms
    assert.are.equal(1, o.latency_buckets_ms[4].count)  -- <= 50 ms
    assert.are.equal("+Inf", o.latency_buckets_ms[#o.latency_buckets_ms].le)
    assert.are.equal(1, o.latency_buckets_ms[#o.latency_buckets_ms].count)
    assert.are.equal(1, batch.routes[2].error_ratio_5xx)
    assert.is_nil(handler.take_batch(clock))
  end)

  it("keeps memory bounded: routes beyond max_routes are counted as dropped", function()
    request(orders, 200, 1)
    request(pay, 200, 1)
    request({ id = "r-third" }, 200, 1)
    request({ id = "r-fourth" }, 200, 1)
    local batch = handler.take_batch(clock)
    assert.are.equal(2, #batch.routes)
    assert.are.equal(2, batch.dropped)
  end)

  it("flushes on the timer as JSON with the token, and retries with backoff", function()
    local sent, fail = {}, true
    local post = function(_, body)
      if fail then return nil, "connection refused" end
      sent[#sent + 1] = cjson.decode(body)
      return true
    end
    request(orders, 200, 1)
    handler.flush(conf, clock, post)
    assert.are.equal(1, #handler.state().pending)
    assert.are.equal(1, handler.state().backoff)
    assert.matches("connection refused", logged[1])
    -- A second failure doubles the backoff, up to max_backoff.
    handler.flush(conf, clock + 1, post)
    assert.are.equal(2, handler.state().backoff)
    handler.flush(conf, clock + 3, post)
    assert.are.equal(4, handler.state().backoff)
    handler.flush(conf, clock + 7, post)
    assert.are.equal(4, handler.state().backoff)
    -- While backing off nothing is sent; new batches queue, the oldest dropped past max_pending.
    request(pay, 200, 1)
    handler.flush(conf, clock + 8, post)
    request(orders, 500, 1)
    handler.flush(conf, clock + 9, post)
    assert.are.equal(2, #handler.state().pending)
    fail = false
    handler.flush(conf, clock + 20, post)
    assert.are.equal(0, #handler.state().pending)
    assert.are.equal(2, #sent)
    assert.are.equal("r-pay", sent[1].routes[1].route_id)
    assert.are.equal(1, sent[2].routes[1].errors_5xx)
    assert.is_nil(handler.state().backoff)
  end)

  it("runs the timer's flush through the stand-in timer", function()
    local posted = {}
    local real_post = handler.post
    handler.post = function(c, body)
      posted[#posted + 1] = { token = c.token, body = body }
      return true
    end
    request(orders, 200, 1)
    timers[1].fn(false)
    handler.post = real_post
    assert.are.equal(1, #posted)
    assert.are.equal("tok", posted[1].token)
    assert.are.equal("vedette-kong-plugin", cjson.decode(posted[1].body).source)
  end)
end)
