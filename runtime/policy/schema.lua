-- schema.lua - what a valid config.lua looks like, and the settings the policy runs with.
--
-- The schema is data: each knob has a type, a default and its allowed values. check()
-- checks config.lua against it, fills in defaults, applies the IMAGEGEN_* environment
-- overrides, and checks the cross-references (models exist, tiers exist). It reports every
-- problem at once, each naming the knob and where it was set: config.lua's line (found in the
-- file's text by configsource.lua, when the runtime hands the policy that text) or the
-- environment variable. Any problem fails the function's start-up loudly instead of serving
-- requests under a policy nobody meant.

local models = require("models")
local tasks = require("tasks")
local sanitize = require("sanitize")
local configsource = require("configsource")

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

-- The uploads prefix: a plain S3 prefix (no date conversions: the owner's folder follows it),
-- ending with "/" so that Terraform's one-day expiry and IAM grant cover exactly that folder.
local function check_uploads_prefix(v)
  if v == "" then return "must not be empty: uploads need a folder of their own" end
  if v:sub(1, 1) == "/" then return "must not start with \"/\"" end
  if v:find("..", 1, true) then return "must not contain \"..\"" end
  if not v:match("^[%w/._%-]*$") then return "may hold only letters, digits, '/', '.', '_' and '-'" end
  if v:sub(-1) ~= "/" then return "must end with \"/\"" end
  if #v > 256 then return "must be at most 256 characters" end
  return nil
end

local function check_header_value(v)
  if v:match("^[\32-\126]*$") then return nil end
  return "must be printable ASCII"
end

-- A deny-list entry must hold at least one word as the deny-list compares words.
local function check_deny_entry(v)
  if #sanitize.words(v) == 0 then return "holds no word" end
  return nil
end

-- An API key's id: it names the caller in rate limits and log lines.
local function check_key_id(v)
  if v:match("^[%w._%-]+$") and #v <= 64 then return nil end
  return "must be 1 to 64 letters, digits, '.', '_' or '-'"
end

-- The SHA-256 of an API key, in hex: never the key itself.
local function check_sha256(v)
  if #v == 64 and v:match("^%x+$") then return nil end
  return "must be the key's SHA-256 as 64 hex digits (printf %s KEY | sha256sum), never the key itself"
end

-- An OpenAI model name clients may send.
local function check_model_name(v)
  if v:match("^[%w._:%-]+$") and #v <= 128 then return nil end
  return "must be 1 to 128 letters, digits, '.', '_', ':' or '-'"
end
M.check_model_name = check_model_name

local TIER = record({
  { "rate", { type = "number", gt = 0, default = 1 } },
  { "burst", { type = "integer", between = { 1, 1000000 }, default = 10 } },
  -- The dynamodb backend's window in seconds (burst requests per window); nil: burst / rate,
  -- rounded up, the bucket's own average rate.
  { "window", { type = "integer", between = { 1, 86400 } } },
})

M.SCHEMA = record({
  { "allowed_models", array({ type = "string" }, { min_items = 1,
      default = { "stability.stable-image-core-v1:1", "stability.sd3-5-large-v1:0",
        "stability.stable-image-ultra-v1:1" } }) },
  { "default_model", { type = "string", default = "stability.stable-image-core-v1:1" } },
  -- The edit tasks served (tasks.lua); a task whose model is also a text-to-image model (SD3.5
  -- Large's image-to-image, the legacy Titan/Nova tasks) also needs that model in allowed_models.
  { "allowed_tasks", array({ type = "string" }, { default = tasks.DEFAULT_ALLOWED }) },
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
  { "uploads", record({
      -- Where POST /uploads lets clients put images to edit: <prefix><owner>/<uuid>.<ext>.
      { "prefix", { type = "string", check = check_uploads_prefix, default = "uploads/" } },
      -- The largest upload: one image's base64 in Bedrock's 25,000,000-byte request body.
      { "max_bytes", { type = "integer", between = { 1, 67108864 }, default = 18000000 } },
      -- Seconds a presigned upload form stays valid.
      { "url_ttl", { type = "integer", between = { 1, 604800 }, default = 900 } },
    }) },
  { "cache", record({
      { "enabled", { type = "boolean", default = false } },
      { "key_prefix", { type = "string", check = check_key_prefix, default = "images/cache/" } },
    }) },
  { "prompt", record({
      { "deny", array({ type = "string", check = check_deny_entry }, { default = {} }) },
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
      -- Where the counts live: "memory" (token buckets in each execution environment, so each
      -- grants the whole budget) or "dynamodb" (one fixed-window counter per client in the
      -- function's table, IMAGEGEN_TABLE, shared by every environment).
      { "backend", { type = "string", one_of = { "memory", "dynamodb" }, default = "memory" } },
      -- With dynamodb, when the table cannot be reached: "open" serves the request uncounted,
      -- "closed" answers 503 rate_limit_unavailable.
      { "on_store_error", { type = "string", one_of = { "open", "closed" }, default = "open" } },
    }) },
  { "limits", record({
      -- Most images one request may ask for, on every model; nil (the default): each model's
      -- own maximum.
      { "max_images_per_request", { type = "integer", between = { 1, 1000 } } },
    }) },
  { "openai", record({
      { "models", { type = "map", values = array({ type = "string" }, { min_items = 1 }), default = {
          ["gpt-image-1"] = { "stability.stable-image-ultra-v1:1", "stability.sd3-5-large-v1:0",
            "stability.stable-image-core-v1:1" },
          ["gpt-image-1-mini"] = { "stability.stable-image-core-v1:1", "stability.sd3-5-large-v1:0",
            "stability.stable-image-ultra-v1:1" },
          ["dall-e-3"] = { "stability.sd3-5-large-v1:0", "stability.stable-image-ultra-v1:1",
            "stability.stable-image-core-v1:1" },
          ["dall-e-2"] = { "stability.stable-image-core-v1:1", "stability.sd3-5-large-v1:0",
            "stability.stable-image-ultra-v1:1" },
        } } },
      { "response_format", { type = "string", one_of = { "url", "b64_json" }, default = "url" } },
      { "b64_json_delivery", { type = "string", one_of = { "inline", "both" }, default = "inline" } },
    }) },
  { "api_keys", record({
      { "required", { type = "boolean", default = false } },
      { "keys", array(record({
          { "id", { type = "string", check = check_key_id } },
          { "sha256", { type = "string", check = check_sha256 } },
          { "tier", { type = "string" } },
        }), { default = {} }) },
    }) },
  { "logging", record({
      { "prompts", { type = "boolean", default = false } },
    }) },
  { "images", record({
      -- Days a record is kept: the bucket's image lifecycle (Terraform's image_retention_days).
      { "retention_days", { type = "integer", between = { 1, 3650 }, default = 30 } },
      -- What a record keeps of the prompt: its SHA-256, the text too, or neither.
      { "prompt", { type = "string", one_of = { "none", "sha256", "text" }, default = "sha256" } },
      -- Records in a page of GET /images when the request names no limit.
      { "page_size", { type = "integer", between = { 1, 100 }, default = 20 } },
    }) },
})

-- Problems are collected, not raised one by one: an operator fixing config.lua learns of every
-- wrong setting at once. Each problem is { keys = {"rate_limit", "tiers", "default", "burst"},
-- sentence = "must be ..." } (a setting of config.lua or of an environment variable), or
-- { text = "..." } (a variable that could not be read at all).
local function add(problems, keys, sentence)
  local copy = {}
  for i, k in ipairs(keys) do copy[i] = k end
  problems[#problems + 1] = { keys = copy, sentence = sentence }
end

local function with(keys, k)
  local out = {}
  for i, x in ipairs(keys) do out[i] = x end
  out[#out + 1] = k
  return out
end

-- "rate_limit.tiers.default.burst", "allowed_models[2]", fallback["stability.x:0"][1].
function M.path(keys)
  local out = {}
  for i, k in ipairs(keys) do
    if math.type(k) == "integer" then
      out[#out + 1] = "[" .. k .. "]"
    elseif type(k) == "string" and k:match("^[%a_][%w_]*$") then
      out[#out + 1] = (i > 1 and "." or "") .. k
    else
      out[#out + 1] = "[" .. string.format("%q", tostring(k)) .. "]"
    end
  end
  return table.concat(out)
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

local function sorted(keys_of)
  local ks = {}
  for k in pairs(keys_of) do ks[#ks + 1] = k end
  table.sort(ks, function(a, b) return tostring(a) < tostring(b) end)
  return ks
end

local check

-- A wrong value is reported and replaced by the knob's default, so that the checks that follow
-- (and the cross-checks) see a settings table of the right shape.
local function fallback_value(spec, keys, problems)
  if spec.type == "record" then return check(spec, {}, keys, problems) end
  return deep_copy(spec.default)
end

local function check_record(spec, value, keys, problems)
  local known, out = {}, {}
  for _, f in ipairs(spec.fields) do
    local name, fspec = f[1], f[2]
    known[name] = true
    local v = value[name]
    if v == nil then
      out[name] = fallback_value(fspec, with(keys, name), problems)
    else
      out[name] = check(fspec, v, with(keys, name), problems)
    end
  end
  for _, k in ipairs(sorted(value)) do
    if not known[k] then add(problems, with(keys, k), "is not a known setting") end
  end
  return out
end

local function check_scalar(spec, value, keys, problems)
  local t = spec.type
  local function bad(sentence)
    add(problems, keys, sentence)
    return false
  end
  if t == "string" then
    if type(value) ~= "string" then return bad("must be a string; got " .. type_name(value)) end
    if spec.one_of then
      local ok = false
      for _, w in ipairs(spec.one_of) do ok = ok or w == value end
      if not ok then return bad("must be one of " .. list_words(spec.one_of) .. "; got " .. string.format("%q", value)) end
    end
  elseif t == "boolean" then
    if type(value) ~= "boolean" then return bad("must be true or false; got " .. type_name(value)) end
  elseif t == "integer" or t == "number" then
    if type(value) ~= "number" or value ~= value then return bad("must be a number; got " .. type_name(value)) end
    if t == "integer" and math.tointeger(value) == nil then
      return bad("must be an integer; got " .. tostring(value))
    end
    if spec.gt and not (value > spec.gt) then return bad("must be greater than " .. spec.gt .. "; got " .. value) end
    if spec.between and (value < spec.between[1] or value > spec.between[2]) then
      return bad("must be between " .. spec.between[1] .. " and " .. spec.between[2] .. "; got " .. value)
    end
  end
  if spec.check then
    local problem = spec.check(value)
    if problem then return bad(problem .. "; got " .. string.format("%q", value)) end
  end
  return true
end

check = function(spec, value, keys, problems)
  local t = spec.type
  if t == "record" then
    if type(value) ~= "table" then
      add(problems, keys, "must be a table; got " .. type_name(value))
      return fallback_value(spec, keys, {})
    end
    return check_record(spec, value, keys, problems)
  elseif t == "array" then
    if type(value) ~= "table" then
      add(problems, keys, "must be a list; got " .. type_name(value))
      return deep_copy(spec.default)
    end
    local n = #value
    for _, k in ipairs(sorted(value)) do
      if math.type(k) ~= "integer" or k < 1 or k > n then
        add(problems, keys, "must be a list (keys 1..n)")
        return deep_copy(spec.default)
      end
    end
    if spec.min_items and n < spec.min_items then
      add(problems, keys, "must hold at least " .. spec.min_items .. " entry")
      return deep_copy(spec.default)
    end
    local out, before = {}, #problems
    for i = 1, n do out[i] = check(spec.elements, value[i], with(keys, i), problems) end
    if #problems > before then return deep_copy(spec.default) end
    return out
  elseif t == "map" then
    if type(value) ~= "table" then
      add(problems, keys, "must be a table; got " .. type_name(value))
      return deep_copy(spec.default)
    end
    local out = {}
    for _, k in ipairs(sorted(value)) do
      if type(k) ~= "string" then
        add(problems, keys, "must have string keys; got the key " .. tostring(k))
      else
        local before = #problems
        local v = check(spec.values, value[k], with(keys, k), problems)
        if #problems == before then out[k] = v end
      end
    end
    return out
  end
  if not check_scalar(spec, value, keys, problems) then return deep_copy(spec.default) end
  if t == "integer" then return math.tointeger(value) end
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
-- counts as unset. Each entry: variable name, the setting it replaces, and a function storing
-- its value into the raw config table (or returning a sentence when the value cannot be read).
M.ENV = {
  { "IMAGEGEN_ALLOWED_MODELS", { "allowed_models" }, function(c, v) c.allowed_models = split_list(v) end },
  { "IMAGEGEN_DEFAULT_MODEL", { "default_model" }, function(c, v) c.default_model = v end },
  { "IMAGEGEN_CORS_ORIGINS", { "cors", "origins" }, function(c, v)
      c.cors = type(c.cors) == "table" and c.cors or {}
      c.cors.origins = split_list(v)
    end },
  { "IMAGEGEN_URL_TTL", { "storage", "url_ttl" }, function(c, v)
      if not v:match("^%d+$") or #v > 7 then
        return "IMAGEGEN_URL_TTL must be a whole number of seconds between 1 and 604800; got "
          .. string.format("%q", v)
      end
      c.storage = type(c.storage) == "table" and c.storage or {}
      c.storage.url_ttl = math.tointeger(tonumber(v))
    end },
  { "IMAGEGEN_IMAGE_RETENTION_DAYS", { "images", "retention_days" }, function(c, v)
      if not v:match("^%d+$") or #v > 4 then
        return "IMAGEGEN_IMAGE_RETENTION_DAYS must be a whole number of days between 1 and 3650; got "
          .. string.format("%q", v)
      end
      c.images = type(c.images) == "table" and c.images or {}
      c.images.retention_days = math.tointeger(tonumber(v))
    end },
  { "IMAGEGEN_RECORD_PROMPTS", { "images", "prompt" }, function(c, v)
      c.images = type(c.images) == "table" and c.images or {}
      c.images.prompt = v
    end },
  { "IMAGEGEN_LOG_PROMPTS", { "logging", "prompts" }, function(c, v)
      c.logging = type(c.logging) == "table" and c.logging or {}
      c.logging.prompts = (v == "1")
    end },
  { "IMAGEGEN_KEY_PREFIX", { "storage", "key_prefix" }, function(c, v)
      c.storage = type(c.storage) == "table" and c.storage or {}
      c.storage.key_prefix = v
    end },
  { "IMAGEGEN_CACHE_KEY_PREFIX", { "cache", "key_prefix" }, function(c, v)
      c.cache = type(c.cache) == "table" and c.cache or {}
      c.cache.key_prefix = v
    end },
  { "IMAGEGEN_ALLOWED_TASKS", { "allowed_tasks" }, function(c, v) c.allowed_tasks = split_list(v) end },
  { "IMAGEGEN_UPLOADS_PREFIX", { "uploads", "prefix" }, function(c, v)
      c.uploads = type(c.uploads) == "table" and c.uploads or {}
      c.uploads.prefix = v
    end },
  { "IMAGEGEN_RATE_LIMIT", { "rate_limit", "enabled" }, function(c, v)
      if v ~= "on" and v ~= "off" then
        return "IMAGEGEN_RATE_LIMIT must be \"on\" or \"off\"; got " .. string.format("%q", v)
      end
      c.rate_limit = type(c.rate_limit) == "table" and c.rate_limit or {}
      c.rate_limit.enabled = v == "on"
    end },
  { "IMAGEGEN_RATE_LIMIT_BACKEND", { "rate_limit", "backend" }, function(c, v)
      c.rate_limit = type(c.rate_limit) == "table" and c.rate_limit or {}
      c.rate_limit.backend = v
    end },
}

-- The runtime runs at most four attempts per request: the chosen model and three fallbacks.
M.MAX_FALLBACKS = 3

-- fallback: every key and every entry a catalogued model this deployment allows; no model
-- falls back to itself, and none is named twice in one list.
local function check_fallback(s, problems)
  local allowed = {}
  for _, id in ipairs(s.allowed_models) do allowed[id] = true end
  local function must_be_allowed(keys, id)
    if not models.get(id) then
      add(problems, keys, "names an unknown model " .. string.format("%q", id)
        .. "; the catalogue holds " .. table.concat(models.ids(), ", "))
    elseif not allowed[id] then
      add(problems, keys, "names " .. string.format("%q", id) .. ", which is not in allowed_models ("
        .. table.concat(s.allowed_models, ", ") .. ")")
    end
  end
  for _, key in ipairs(sorted(s.fallback)) do
    local base = { "fallback", key }
    must_be_allowed(base, key)
    if #s.fallback[key] > M.MAX_FALLBACKS then
      add(problems, base, string.format("names %d models; at most %d fallbacks (the runtime tries at most %d "
        .. "models per request)", #s.fallback[key], M.MAX_FALLBACKS, M.MAX_FALLBACKS + 1))
    end
    local seen = {}
    for i, id in ipairs(s.fallback[key]) do
      local keys = with(base, i)
      if id == key then
        add(problems, keys, "names the model itself; a model cannot fall back to itself")
      elseif seen[id] then
        add(problems, keys, "names " .. string.format("%q", id) .. " twice")
      else
        must_be_allowed(keys, id)
      end
      seen[id] = true
    end
  end
end

-- Checks between settings. `failed` holds the paths (M.path) of the settings, and of their
-- tables, that already had a problem: a check that reads one of them is skipped rather than
-- reporting a consequence as a second problem.
-- openai.models: names a client can send, lists of catalogued models.
local function check_openai(s, problems, failed)
  if failed["openai.models"] then return end
  for _, name in ipairs(sorted(s.openai.models)) do
    local bad = check_model_name(name)
    if bad then add(problems, { "openai", "models", name }, bad) end
    for i, id in ipairs(s.openai.models[name]) do
      if not models.get(id) then
        add(problems, { "openai", "models", name, i }, "names an unknown model " .. string.format("%q", id)
          .. "; the catalogue holds " .. table.concat(models.ids(), ", "))
      end
    end
  end
end

-- api_keys: every key has an id and a hash, no id or hash twice, tiers that exist, and
-- required only with at least one key.
local function check_api_keys(s, problems, failed)
  if failed["api_keys.keys"] then return end
  local ids, hashes = {}, {}
  for i, k in ipairs(s.api_keys.keys) do
    local keys = { "api_keys", "keys", i }
    if k.id == nil then add(problems, keys, "needs an id, the name the caller is known by in rate limits and logs") end
    if k.sha256 == nil then add(problems, keys, "needs sha256, the SHA-256 of the key in hex") end
    if k.id and ids[k.id] then add(problems, with(keys, "id"), "names " .. string.format("%q", k.id) .. " twice") end
    if k.sha256 and hashes[k.sha256:lower()] then add(problems, with(keys, "sha256"), "repeats the hash of key "
      .. hashes[k.sha256:lower()]) end
    if k.id then ids[k.id] = true end
    if k.sha256 then hashes[k.sha256:lower()] = string.format("%d", i) end
    if k.tier and not failed["rate_limit.tiers"] and not s.rate_limit.tiers[k.tier] then
      add(problems, with(keys, "tier"), "names an unknown tier " .. string.format("%q", k.tier))
    end
  end
  if s.api_keys.required and #s.api_keys.keys == 0 and not failed["api_keys.required"] then
    add(problems, { "api_keys", "required" }, "is true but api_keys.keys lists no key: no client could call the "
      .. "OpenAI-compatible routes")
  end
end

-- allowed_tasks: catalogued task names, none twice. uploads.prefix: a folder apart from the
-- images' (their one-day expiry must not reach generated images, nor their prefix uploads).
local function check_edits(s, problems, failed)
  if not failed.allowed_tasks then
    local seen = {}
    for i, name in ipairs(s.allowed_tasks) do
      if not tasks.get(name) then
        add(problems, { "allowed_tasks", i }, "names an unknown task " .. string.format("%q", name)
          .. "; the catalogue holds " .. table.concat(tasks.names, ", "))
      elseif seen[name] then
        add(problems, { "allowed_tasks", i }, "names " .. string.format("%q", name) .. " twice")
      end
      seen[name] = true
    end
  end
  if not failed["uploads.prefix"] then
    local up = s.uploads.prefix
    for _, other in ipairs({ { "storage", "key_prefix" }, { "cache", "key_prefix" } }) do
      if not failed[M.path(other)] then
        -- the part of the prefix before its first date conversion
        local fixed = s[other[1]][other[2]]:match("^([^%%]*)")
        if fixed ~= "" and (fixed:sub(1, #up) == up or up:sub(1, #fixed) == fixed) then
          add(problems, { "uploads", "prefix" }, string.format("%q overlaps %s (%q): uploads expire after a day and "
            .. "must live in a folder of their own", up, M.path(other), s[other[1]][other[2]]))
        end
      end
    end
  end
end

local function cross_check(s, problems, failed, env_allowed, env_default, table_name)
  if not failed.allowed_models then
    for i, id in ipairs(s.allowed_models) do
      if not models.get(id) then
        add(problems, { "allowed_models", i }, "names an unknown model " .. string.format("%q", id)
          .. "; the catalogue holds " .. table.concat(models.ids(), ", "))
        failed.allowed_models = true
      end
    end
  end
  if not failed.allowed_models and not failed.default_model then
    local allowed = false
    for _, id in ipairs(s.allowed_models) do allowed = allowed or id == s.default_model end
    if not allowed then
      if env_allowed and not env_default then
        -- IMAGEGEN_ALLOWED_MODELS narrowed the list: its first model becomes the default.
        s.default_model = s.allowed_models[1]
      else
        add(problems, { "default_model" }, string.format("%q", s.default_model) .. " is not in allowed_models ("
          .. table.concat(s.allowed_models, ", ") .. ")")
      end
    end
  end
  if not failed.allowed_models and not failed.fallback then check_fallback(s, problems) end
  check_openai(s, problems, failed)
  check_api_keys(s, problems, failed)
  check_edits(s, problems, failed)
  local rl = s.rate_limit
  if not failed["rate_limit.tiers"] then
    for _, name in ipairs({ "key_tier", "anonymous_tier" }) do
      if not failed["rate_limit." .. name] and not rl.tiers[rl[name]] then
        add(problems, { "rate_limit", name }, "names an unknown tier " .. string.format("%q", rl[name]))
      end
    end
    if not failed["rate_limit.keys"] then
      for _, key in ipairs(sorted(rl.keys)) do
        if not rl.tiers[rl.keys[key]] then
          add(problems, { "rate_limit", "keys", key }, "names an unknown tier " .. string.format("%q", rl.keys[key]))
        end
      end
    end
  end
  if rl.enabled and rl.backend == "dynamodb" and not failed["rate_limit.backend"] and not table_name then
    add(problems, { "rate_limit", "backend" }, "is \"dynamodb\" but the function has no IMAGEGEN_TABLE, where the "
      .. "shared counters live: set IMAGEGEN_TABLE, or use \"memory\" (limits per execution environment)")
  end
end

-- Where a problem comes from, and the line saying so: "config.lua:57: rate_limit.tires is not
-- a known setting", "config.lua: default_model ..." (no line known), or "IMAGEGEN_URL_TTL:
-- storage.url_ttl must be ..." (a setting the variable replaced).
local function describe(problem, env_keys, tree)
  if problem.text then return problem.text, nil end
  local path = M.path(problem.keys)
  for name, keys in pairs(env_keys) do
    local prefix = M.path(keys)
    if path == prefix or path:sub(1, #prefix + 1) == prefix .. "." or path:sub(1, #prefix + 1) == prefix .. "[" then
      return name .. ": " .. path .. " " .. problem.sentence, nil
    end
  end
  local line = configsource.line_of(tree, problem.keys)
  if line then return string.format("config.lua:%d: %s %s", line, path, problem.sentence), line end
  return "config.lua: " .. path .. " " .. problem.sentence, nil
end

-- Checks config (a table as in config.lua) against the schema, fills in defaults and applies
-- the environment (getenv(name) -> string or nil). Returns the settings the policy runs with,
-- or nil and every problem found, one sentence each, in the order of config.lua's lines (those
-- from environment variables, or at no known line, last). read_source, when given, returns
-- config.lua's text, from which each problem gets its line.
function M.check(config, getenv, read_source)
  local raw = deep_copy(type(config) == "table" and config or {})
  local problems, env_keys = {}, {}
  local set = {}
  for _, e in ipairs(M.ENV) do
    local v = getenv and getenv(e[1])
    if v ~= nil and v ~= "" then
      local trouble = e[3](raw, v)
      if trouble then
        problems[#problems + 1] = { text = trouble }
      else
        set[e[1]] = true
        env_keys[e[1]] = e[2]
      end
    end
  end
  local s = check(M.SCHEMA, raw, {}, problems)
  local failed = {}
  for _, p in ipairs(problems) do
    for depth = 1, math.min(2, #(p.keys or {})) do
      failed[M.path({ table.unpack(p.keys, 1, depth) })] = true
    end
  end
  local table_name = getenv and getenv("IMAGEGEN_TABLE")
  cross_check(s, problems, failed, set.IMAGEGEN_ALLOWED_MODELS, set.IMAGEGEN_DEFAULT_MODEL,
    table_name ~= nil and table_name ~= "" and table_name or nil)
  if #problems == 0 then return s end

  local tree = nil
  if read_source then
    local ok, source = pcall(read_source)
    if ok and type(source) == "string" then
      local parsed, t = pcall(configsource.parse, source)
      tree = parsed and t or nil
    end
  end
  local lines = {}
  for i, p in ipairs(problems) do
    local sentence, line = describe(p, env_keys, tree)
    lines[i] = { sentence = sentence, line = line or math.huge, order = i }
  end
  table.sort(lines, function(a, b)
    if a.line ~= b.line then return a.line < b.line end
    return a.order < b.order
  end)
  local out = {}
  for i, l in ipairs(lines) do out[i] = l.sentence end
  return nil, out
end

-- The settings, or an error listing every problem, one per line.
function M.settings(config, getenv, read_source)
  local s, problems = M.check(config, getenv, read_source)
  if not s then error(table.concat(problems, "\n"), 0) end
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
