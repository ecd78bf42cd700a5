-- cors.lua - which browser origins may call the API, and the CORS headers that say so.
--
-- Origins are compared exactly (scheme, host and port, case-insensitively). An allowed
-- origin is answered with the configured spelling, never with the request's header, so no
-- client bytes reach a response header. "*" allows every origin; the answer then carries
-- "*", which browsers accept only for requests without credentials (API keys still work:
-- they travel in x-api-key, not in cookies). Every answer carries Vary: Origin because it
-- depends on the Origin header.

local M = {}

local Cors = {}
Cors.__index = Cors

-- cfg: { origins = {...}, allow_headers = {...}, expose_headers = {...}, max_age = n }
function M.new(cfg)
  local self = setmetatable({ any = false, origins = {}, cfg = cfg }, Cors)
  for _, o in ipairs(cfg.origins) do
    if o == "*" then self.any = true else self.origins[o:lower()] = o end
  end
  self.allow_headers = table.concat(cfg.allow_headers, ", ")
  self.expose_headers = table.concat(cfg.expose_headers, ", ")
  return self
end

-- The Access-Control-Allow-Origin value for a request's Origin header, or nil.
function Cors:allowed(origin)
  if type(origin) ~= "string" or origin == "" then return nil end
  local configured = self.origins[origin:lower()]
  if configured then return configured end
  if self.any then return "*" end
  return nil
end

-- Headers for an actual (non-preflight) answer.
function Cors:headers(origin)
  local h = { Vary = "Origin" }
  local allow = self:allowed(origin)
  if allow then
    h["Access-Control-Allow-Origin"] = allow
    if self.expose_headers ~= "" then
      h["Access-Control-Expose-Headers"] = self.expose_headers
    end
  end
  return h
end

-- Headers for a preflight answer from an allowed origin; `methods` lists the route's methods.
function Cors:preflight_headers(origin, methods)
  local h = {
    Vary = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers",
    ["Access-Control-Allow-Origin"] = self:allowed(origin),
    ["Access-Control-Allow-Methods"] = table.concat(methods, ", "),
    ["Access-Control-Max-Age"] = string.format("%d", self.cfg.max_age),
  }
  if self.allow_headers ~= "" then
    h["Access-Control-Allow-Headers"] = self.allow_headers
  end
  return h
end

return M
