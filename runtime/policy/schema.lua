-- schema.lua - what a valid config.lua looks like, and the settings the policy runs with.
--
-- The schema is data: each knob has a type, a default and its allowed values. settings()
-- checks config.lua against it, fills in defaults, applies the IMAGEGEN_* environment
-- overrides, and checks the cross-references (models exist, tiers exist). Any problem raises
-- an error naming the knob, which fails the function's start-up loudly instead of serving
-- requests under a policy nobody meant.

local models = require("models")

local M = {}

local function record(fields) return { type = "record", fields = fields } end
local function array(elements, extra)
  local s = { type = "array", elements = elements }
  for k, v in pairs(extra or {}) do s[k] = v end
  return s
end

local ORIGIN_PATTERN = "^https?://[%w%.%-]+:?%d*$"

local function check_origin(v)
  if v == "*" or v == "null" or v:match(ORIGIN_PATTERN) then return nil end
  return "must be \"*\" or an origin like \"https://app.example.com\" (scheme://host[:port], no path)"
end

local function check_header_name(v)
  if v:match("^[%w%-]+$") then return nil end
  return "must be a header name (letters, digits and '-')"
end

-- Allowed in the key prefix template: what S3 keys can hold without encoding, plus strftime
-- conversions that expand to digits.
local function check_key_prefix(v)
  if v:sub(1, 1) == "/" then return "must not start with \"/\"" end
  if v:find("..", 1, true) then return "must not contain \"..\"" end
  local rest = v:gsub("%%[YmdHjMSyU]", "")
  if not rest:match("^[%w/._%-]*$") then
    return "may hold only letters, digits, '/', '.', '_', '-' and the conversions %Y %m %d %H %j %M %S %y %U"
  end
  if #v > 256 then return "must be at most 256 characters" end
  return nil
end

local function check_header_value(v)
  if v:match("^[\32-\126]*$") then return nil end
  return "must be printable ASCII"
end

local TIER = record({
  { "rate", { type = "number", gt = 0, default = 1 } },
  { "burst", { type = "integer", between = { 1, 1000000 }, default = 10 } },
})

M.SCHEMA = record({
  { "allowed_models", array({ type = "string" }, { min_items = 1,
      default = { "stability.stable-image-core-v1:1", "stability.sd3-5-large-v1:0",
        "stability.stable-image-ultra-v1:1" } }) },
  { "default_model", { type = "string", default = "stability.stable-image-core-v1:1" } },
  -- model id -> the models to try next, in order, when it is retired, unavailable or still
  -- throttled after retries. Checked against the catalogue and allowed_models below.
  { "fallback", { type = "map", values = array({ type = "string" }), default = {} } },
  { "cors", record({
      { "origins", array({ type = "string", check = check_origin }, { default = {} }) },
      { "allow_headers", array({ type = "string", check = check_header_name },
          { default = { "content-type", "x-api-key", "authorization" } }) },
      { "expose_headers", array({ type = "string", check = check_header_name },
          { default = { "retry-after", "ratelimit-limit", "ratelimit-remaining", "ratelimit-reset" } }) },
      { "max_age", { type = "integer", between = { 0, 86400 }, default = 600 } },
    }) },
  { "storage", record({
      { "key_prefix", { type = "string", check = check_key_prefix, default = "images/%Y/%m/%d/" } },
      { "url_ttl", { type = "integer", between = { 1, 604800 }, default = 3600 } },
      { "cache_control", { type = "string", check = check_header_value, default = "private, max-age=3600" } },
      { "prompt_metadata", { type = "string", one_of = { "none", "sha256", "text" }, default = "none" } },
    }) },
  { "cache", record({
      { "enabled", { type = "boolean", default = false } },
      { "key_prefix", { type = "string", check = check_key_prefix, default = "images/cache/" } },
    }) },
  { "prompt", record({
      { "deny", array({ type = "string" }, { default = {} }) },
      { "max_input_bytes", { type = "integer", between = { 512, 1048576 }, default = 8192 } },
    }) },
  { "rate_limit", record({
      { "enabled", { type = "boolean", default = true } },
      { "cost", { type = "string", one_of = { "image", "request" }, default = "image" } },
      { "tiers", { type = "map", values = TIER, default = {
          anonymous = { rate = 0.1, burst = 5 },
          default = { rate = 0.5, burst = 10 },
          premium = { rate = 2, burst = 40 },
        } } },
      { "keys", { type = "map", values = { type = "string" }, default = {} } },
      { "key_tier", { type = "string", default = "default" } },
      { "anonymous_tier", { type = "string", default = "anonymous" } },
      { "refund_on_failure", { type = "boolean", default = true } },
      { "max_buckets", { type = "integer", between = { 1, 10000000 }, default = 10000 } },
    }) },
  { "limits", record({
      -- Most images one request may ask for, on every model; nil (the default): each model's
      -- own maximum.
      { "max_images_per_request", { type = "integer", between = { 1, 1000 } } },
    }) },
  { "logging", record({
      { "prompts", { type = "boolean", default = false } },
    }) },
})

local function fail(path, sentence)
  error("config.lua: " .. path .. " " .. sentence, 0)
end

local function type_name(v)
  if math.type(v) == "integer" then return "an integer" end
  if math.type(v) == "float" then return "a number" end
  return "a " .. type(v)
end

local function list_words(t)
  local q = {}
  for i, v in ipairs(t) do q[i] = string.format("%q", v) end
  return table.concat(q, ", ")
end

local function deep_copy(v)
  if type(v) ~= "table" then return v end
  local out = {}
  for k, x in pairs(v) do out[k] = deep_copy(x) end
  return out
end

local check

local function check_record(spec, value, path)
  local known, out = {}, {}
  for _, f in ipairs(spec.fields) do
    local name, fspec = f[1], f[2]
    known[name] = true
    local v = value[name]
    local sub = path == "" and name or path .. "." .. name
    if v == nil then
      if fspec.type == "record" then
        out[name] = check(fspec, {}, sub)
      else
        out[name] = deep_copy(fspec.default)
      end
    else
      out[name] = check(fspec, v, sub)
    end
  end
  local unknown = {}
  for k in pairs(value) do
    if not known[k] then unknown[#unknown + 1] = tostring(k) end
  end
  if #unknown > 0 then
    table.sort(unknown)
    fail(path == "" and unknown[1] or path .. "." .. unknown[1], "is not a known setting")
  end
  return out
end

check = function(spec, value, path)
  local t = spec.type
  if t == "record" then
    if type(value) ~= "table" then fail(path, "must be a table; got " .. type_name(value)) end
    return check_record(spec, value, path)
  elseif t == "array" then
    if type(value) ~= "table" then fail(path, "must be a list; got " .. type_name(value)) end
    local n = #value
    for k in pairs(value) do
      if math.type(k) ~= "integer" or k < 1 or k > n then fail(path, "must be a list (keys 1..n)") end
    end
    if spec.min_items and n < spec.min_items then
      fail(path, "must hold at least " .. spec.min_items .. " entry")
    end
    local out = {}
    for i = 1, n do out[i] = check(spec.elements, value[i], path .. "[" .. i .. "]") end
    return out
  elseif t == "map" then
    if type(value) ~= "table" then fail(path, "must be a table; got " .. type_name(value)) end
    local out = {}
    for k, v in pairs(value) do
      if type(k) ~= "string" then fail(path, "must have string keys") end
      out[k] = check(spec.values, v, path .. "." .. k)
    end
    return out
  elseif t == "string" then
    if type(value) ~= "string" then fail(path, "must be a string; got " .. type_name(value)) end
    if spec.one_of then
      local ok = false
      for _, w in ipairs(spec.one_of) do ok = ok or w == value end
      if not ok then fail(path, "must be one of " .. list_words(spec.one_of) .. "; got " .. string.format("%q", value)) end
    end
  elseif t == "boolean" then
    if type(value) ~= "boolean" then fail(path, "must be true or false; got " .. type_name(value)) end
  elseif t == "integer" or t == "number" then
    if type(value) ~= "number" or value ~= value then fail(path, "must be a number; got " .. type_name(value)) end
    if t == "integer" then
      local i = math.tointeger(value)
      if i == nil then fail(path, "must be an integer; got " .. tostring(value)) end
      value = i
    end
    if spec.gt and not (value > spec.gt) then fail(path, "must be greater than " .. spec.gt .. "; got " .. value) end
    if spec.between and (value < spec.between[1] or value > spec.between[2]) then
      fail(path, "must be between " .. spec.between[1] .. " and " .. spec.between[2] .. "; got " .. value)
    end
  end
  if spec.check then
    local problem = spec.check(value)
    if problem then fail(path, problem .. "; got " .. string.format("%q", value)) end
  end
  return value
end

-- Splits "a, b,c" into {"a","b","c"}; empty items are dropped.
local function split_list(s)
  local out = {}
  for item in s:gmatch("[^,]+") do
    item = item:match("^%s*(.-)%s*$")
    if item ~= "" then out[#out + 1] = item end
  end
  return out
end

-- Environment overrides, applied on top of config.lua before validation. An empty variable
-- counts as unset. Each entry: variable name, and a function storing its value into the raw
-- config table.
M.ENV = {
  { "IMAGEGEN_ALLOWED_MODELS", function(c, v) c.allowed_models = split_list(v) end },
  { "IMAGEGEN_DEFAULT_MODEL", function(c, v) c.default_model = v end },
  { "IMAGEGEN_CORS_ORIGINS", function(c, v) c.cors = c.cors or {}; c.cors.origins = split_list(v) end },
  { "IMAGEGEN_URL_TTL", function(c, v)
      if not v:match("^%d+$") or #v > 7 then
        error("IMAGEGEN_URL_TTL must be a whole number of seconds between 1 and 604800; got "
          .. string.format("%q", v), 0)
      end
      c.storage = c.storage or {}
      c.storage.url_ttl = math.tointeger(tonumber(v))
    end },
  { "IMAGEGEN_LOG_PROMPTS", function(c, v) c.logging = c.logging or {}; c.logging.prompts = (v == "1") end },
  { "IMAGEGEN_KEY_PREFIX", function(c, v) c.storage = c.storage or {}; c.storage.key_prefix = v end },
  { "IMAGEGEN_CACHE_KEY_PREFIX", function(c, v) c.cache = c.cache or {}; c.cache.key_prefix = v end },
  { "IMAGEGEN_RATE_LIMIT", function(c, v)
      if v ~= "on" and v ~= "off" then
        error("IMAGEGEN_RATE_LIMIT must be \"on\" or \"off\"; got " .. string.format("%q", v), 0)
      end
      c.rate_limit = c.rate_limit or {}
      c.rate_limit.enabled = v == "on"
    end },
}

-- The runtime runs at most four attempts per request: the chosen model and three fallbacks.
M.MAX_FALLBACKS = 3

-- fallback: every key and every entry a catalogued model this deployment allows; no model
-- falls back to itself, and none is named twice in one list.
local function check_fallback(s)
  local allowed = {}
  for _, id in ipairs(s.allowed_models) do allowed[id] = true end
  local keys = {}
  for k in pairs(s.fallback) do keys[#keys + 1] = k end
  table.sort(keys)
  local function must_be_allowed(path, id)
    if not models.get(id) then
      fail(path, "names an unknown model " .. string.format("%q", id)
        .. "; the catalogue holds " .. table.concat(models.ids(), ", "))
    end
    if not allowed[id] then
      fail(path, "names " .. string.format("%q", id) .. ", which is not in allowed_models ("
        .. table.concat(s.allowed_models, ", ") .. ")")
    end
  end
  for _, key in ipairs(keys) do
    local base = "fallback[" .. string.format("%q", key) .. "]"
    must_be_allowed(base, key)
    if #s.fallback[key] > M.MAX_FALLBACKS then
      fail(base, string.format("names %d models; at most %d fallbacks (the runtime tries at most %d models "
        .. "per request)", #s.fallback[key], M.MAX_FALLBACKS, M.MAX_FALLBACKS + 1))
    end
    local seen = {}
    for i, id in ipairs(s.fallback[key]) do
      local path = base .. "[" .. i .. "]"
      if id == key then fail(path, "names the model itself; a model cannot fall back to itself") end
      if seen[id] then fail(path, "names " .. string.format("%q", id) .. " twice") end
      seen[id] = true
      must_be_allowed(path, id)
    end
  end
end

local function cross_check(s, env_allowed, env_default)
  for i, id in ipairs(s.allowed_models) do
    if not models.get(id) then
      fail("allowed_models[" .. i .. "]", "names an unknown model " .. string.format("%q", id)
        .. "; the catalogue holds " .. table.concat(models.ids(), ", "))
    end
  end
  local allowed = false
  for _, id in ipairs(s.allowed_models) do allowed = allowed or id == s.default_model end
  if not allowed then
    if env_allowed and not env_default then
      -- IMAGEGEN_ALLOWED_MODELS narrowed the list: its first model becomes the default.
      s.default_model = s.allowed_models[1]
    else
      fail("default_model", string.format("%q", s.default_model) .. " is not in allowed_models ("
        .. table.concat(s.allowed_models, ", ") .. ")")
    end
  end
  check_fallback(s)
  local rl = s.rate_limit
  for _, name in ipairs({ "key_tier", "anonymous_tier" }) do
    if not rl.tiers[rl[name]] then
      fail("rate_limit." .. name, "names an unknown tier " .. string.format("%q", rl[name]))
    end
  end
  for key, tier in pairs(rl.keys) do
    if not rl.tiers[tier] then
      fail("rate_limit.keys." .. key, "names an unknown tier " .. string.format("%q", tier))
    end
  end
end

-- The settings the policy runs with: config (a table as in config.lua) checked against the
-- schema, with defaults filled in and the environment (getenv(name) -> string or nil) applied.
function M.settings(config, getenv)
  local raw = deep_copy(config or {})
  local set = {}
  for _, e in ipairs(M.ENV) do
    local v = getenv and getenv(e[1])
    if v ~= nil and v ~= "" then
      e[2](raw, v)
      set[e[1]] = true
    end
  end
  local s = check(M.SCHEMA, raw, "")
  cross_check(s, set.IMAGEGEN_ALLOWED_MODELS, set.IMAGEGEN_DEFAULT_MODEL)
  return s
end

-- Every knob's dotted name, in schema order (README lists each of them).
function M.knobs()
  local out = {}
  local function walk(spec, path)
    for _, f in ipairs(spec.fields) do
      local p = path == "" and f[1] or path .. "." .. f[1]
      if f[2].type == "record" then walk(f[2], p) else out[#out + 1] = p end
    end
  end
  walk(M.SCHEMA, "")
  return out
end

return M
