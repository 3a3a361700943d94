-- The Vedette Kong plugin: in the log phase it adds each proxied request to its route's
-- aggregate (request count, 5xx count, latency histogram); a timer flushes the aggregates as one
-- JSON batch to Vedette's ingest endpoint, keeping failed batches (boundedly) for retries with
-- exponential backoff.
local cjson = require "cjson.safe"

local VedetteHandler = {
  PRIORITY = 12,
  VERSION = "0.1.0",
}

-- Upper bounds (milliseconds) of the latency histogram's buckets; the last bucket is +Inf.
VedetteHandler.BUCKETS = { 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000 }

-- One state per worker: aggregates since the last flush, batches waiting for a retry.
local state = {
  routes = {},
  route_count = 0,
  dropped = 0,
  pending = {},
  backoff = nil,
  next_attempt = 0,
  timer_started = false,
}

--- Forgets all aggregates and pending batches (tests, and a plugin reconfigured).
function VedetteHandler.reset()
  state.routes, state.route_count, state.dropped = {}, 0, 0
  state.pending, state.backoff, state.next_attempt = {}, nil, 0
  state.timer_started = false
end

--- The state, for tests.
function VedetteHandler.state()
  return state
end

local function bucket_of(ms)
  for i, upper in ipairs(VedetteHandler.BUCKETS) do
    if ms <= upper then
      return i
    end
  end
  return #VedetteHandler.BUCKETS + 1
end

--- Adds one request of `route` (id, name) with `status` and `latency_ms` to the aggregates;
--- beyond `max_routes` routes a request is counted as dropped.
function VedetteHandler.record(conf, route, status, latency_ms)
  local id = route and route.id or "unmatched"
  local agg = state.routes[id]
  if not agg then
    if state.route_count >= conf.max_routes then
      state.dropped = state.dropped + 1
      return
    end
    local buckets = {}
    for i = 1, #VedetteHandler.BUCKETS + 1 do
      buckets[i] = 0
    end
    agg = { route_id = id, route_name = route and route.name or nil,
            requests = 0, errors_5xx = 0, latency_sum_ms = 0, buckets = buckets }
    state.routes[id] = agg
    state.route_count = state.route_count + 1
  end
  agg.requests = agg.requests + 1
  if status >= 500 and status <= 599 then
    agg.errors_5xx = agg.errors_5xx + 1
  end
  agg.latency_sum_ms = agg.latency_sum_ms + latency_ms
  local b = bucket_of(latency_ms)
  agg.buckets[b] = agg.buckets[b] + 1
end

--- The aggregates as one batch (and empties them); nil when nothing was recorded.
function VedetteHandler.take_batch(now)
  if state.route_count == 0 and state.dropped == 0 then
    return nil
  end
  local routes = {}
  for _, agg in pairs(state.routes) do
    local buckets = {}
    for i, upper in ipairs(VedetteHandler.BUCKETS) do
      buckets[#buckets + 1] = { le = upper, count = agg.buckets[i] }
    end
    buckets[#buckets + 1] = { le = "+Inf", count = agg.buckets[#VedetteHandler.BUCKETS + 1] }
    routes[#routes + 1] = {
      route_id = agg.route_id,
      route_name = agg.route_name,
      requests = agg.requests,
      errors_5xx = agg.errors_5xx,
      error_ratio_5xx = agg.errors_5xx / agg.requests,
      latency_sum_ms = agg.latency_sum_ms,
      latency_buckets_ms = buckets,
    }
  end
  table.sort(routes, function(a, b) return a.route_id < b.route_id end)
  local batch = { source = "vedette-kong-plugin", version = VedetteHandler.VERSION,
                  at = now, dropped = state.dropped, routes = routes }
  state.routes, state.route_count, state.dropped = {}, 0, 0
  return batch
end

--- Sends pending batches, oldest first, unless backing off; a failure keeps the batch and
--- doubles the backoff. `post(conf, body)` returns true or nil and an error.
function VedetteHandler.flush(conf, now, post)
  local batch = VedetteHandler.take_batch(now)
  if batch then
    state.pending[#state.pending + 1] = batch
    while #state.pending > conf.max_pending do
      table.remove(state.pending, 1)
    end
  end
  if now < state.next_attempt then
    return
  end
  while #state.pending > 0 do
    local ok, err = post(conf, cjson.encode(state.pending[1]))
    if not ok then
      state.backoff = math.min((state.backoff or conf.initial_backoff / 2) * 2, conf.max_backoff)
      state.next_attempt = now + state.backoff
      kong.log.warn("vedette: flush failed, retrying in ", state.backoff, " s: ", err)
      return
    end
    table.remove(state.pending, 1)
    state.backoff, state.next_attempt = nil, 0
  end
end

--- POSTs `body` to the endpoint with the token; true on a 2xx answer.
function VedetteHandler.post(conf, body)
  local http = require "resty.http"
  local client = http.new()
  client:set_timeout(conf.timeout * 1000)
  local res, err = client:request_uri(conf.endpoint, {
    method = "POST",
    body = body,
    headers = {
      ["Content-Type"] = "application/json",
      ["Authorization"] = "Bearer " .. conf.token,
    },
  })
  if not res then
    return nil, err
  end
  if res.status < 200 or res.status > 299 then
    return nil, "status " .. res.status
  end
  return true
end

function VedetteHandler:log(conf)
  local route = kong.router.get_route()
  local status = kong.response.get_status()
  local latency = 0
  local started = kong.request.get_start_time and kong.request.get_start_time()
  if started then
    latency = math.max(ngx.now() * 1000 - started, 0)
  end
  VedetteHandler.record(conf, route, status, latency)
  if not state.timer_started then
    state.timer_started = true
    local ok, err = ngx.timer.every(conf.flush_interval, function(premature)
      if not premature then
        VedetteHandler.flush(conf, ngx.now(), VedetteHandler.post)
      end
    end)
    if not ok then
      state.timer_started = false
      kong.log.err("vedette: could not start the flush timer: ", err)
    end
  end
end

return VedetteHandler
