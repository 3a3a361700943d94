-- A stand-in for lua-resty-http (which needs OpenResty's cosockets and is not packaged here)
-- with the three calls the plugin's post makes: new(), client:set_timeout(ms) and
-- client:request_uri(uri, { method, body, headers }), done for real over LuaSocket's socket.http
-- (Debian lua-socket). Every answer is kept in `responses` so a spec can read what Vedette said.
local http = require "socket.http"
local ltn12 = require "ltn12"

local M = { responses = {} }

local Client = {}
Client.__index = Client

function M.new()
  return setmetatable({ timeout_ms = 60000 }, Client)
end

function Client:set_timeout(ms)
  self.timeout_ms = ms
end

function Client:request_uri(uri, params)
  local chunks = {}
  local headers = {}
  for k, v in pairs(params.headers or {}) do
    headers[k] = v
  end
  local body = params.body
  if body then
    headers["Content-Length"] = tostring(#body)
  end
  http.TIMEOUT = self.timeout_ms / 1000
  local ok, status, response_headers = http.request {
    url = uri,
    method = params.method or "GET",
    headers = headers,
    source = body and ltn12.source.string(body) or nil,
    sink = ltn12.sink.table(chunks),
  }
  if not ok then
    return nil, status
  end
  local res = { status = status, headers = response_headers, body = table.concat(chunks) }
  M.responses[#M.responses + 1] = res
  return res
end

return M
