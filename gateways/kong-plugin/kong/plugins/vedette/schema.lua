-- Configuration of the Vedette Kong plugin (Kong 3.x plugin schema): where to send batches of
-- per-route passive health, how often, and the bounds that keep its memory and retries small.
local typedefs = require "kong.db.schema.typedefs"

return {
  name = "vedette",
  fields = {
    { protocols = typedefs.protocols_http },
    { config = {
        type = "record",
        fields = {
          -- The ingest URL: https://vedette.example.com/api/v1/ingest/kong
          { endpoint = typedefs.url { required = true } },
          -- A Vedette API token with write scope; a vault reference ({vault://env/...}) works.
          { token = { type = "string", required = true, encrypted = true, referenceable = true } },
          -- Seconds between flushes.
          { flush_interval = { type = "number", default = 10, between = { 1, 3600 } } },
          -- Most routes aggregated between flushes; requests of further routes are dropped
          -- (and counted as dropped) until the next flush. A batch of 1500 routes (about
          -- 600 bytes each) stays under the 1 MiB Vedette takes in one request.
          { max_routes = { type = "integer", default = 1000, between = { 1, 1500 } } },
          -- Most batches kept for retry while the endpoint fails; the oldest is dropped first.
          { max_pending = { type = "integer", default = 10, between = { 1, 1000 } } },
          -- Seconds before the first retry; doubled after each failure up to max_backoff.
          { initial_backoff = { type = "number", default = 1, between = { 0.01, 3600 } } },
          { max_backoff = { type = "number", default = 60, between = { 0.01, 3600 } } },
          -- Seconds one POST may take.
          { timeout = { type = "number", default = 5, between = { 0.1, 60 } } },
        },
      },
    },
  },
}
