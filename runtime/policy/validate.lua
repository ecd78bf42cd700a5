-- validate.lua - reads the parameters of a /generate-image request and checks each against
-- the chosen model's rules.
--
-- GET takes parameters from the query string, where every value is a string and numbers are
-- parsed strictly (decimal digits only: no spaces, signs other than '-', exponents, hex or
-- fractions for integers). POST takes a JSON object, where numbers must be JSON numbers (a
-- numeric string is refused, so a client's type bug shows up at once). Either way the first
-- problem found is answered with a status, a code and a sentence naming the parameter and
-- what is allowed. Nothing here has side effects.

local models = require("models")
local params = require("params")
local sanitize = require("sanitize")
local hints = require("hints")
local text = require("text")

local M = {}

local KNOWN = {}
local KNOWN_LIST = {}
for i, p in ipairs(params) do
  KNOWN[p.name] = p
  KNOWN_LIST[i] = p.name
end

local function problem(status, code, message)
  return { status = status, code = code, message = message }
end

local function is_null(v)
  return v == cjson.null
end


-- How a JSON value's type is named in "must be ..." messages.
local function json_kind(v)
  if type(v) == "string" then return "the string " .. text.show(v) end
  return text.show(v)
end

local function format_limit(n)
  if math.type(n) == "integer" then return string.format("%d", n) end
  return string.format("%.10g", n)
end

local function between(name, lo, hi, got)
  return string.format("%s must be between %s and %s; got %s", name, format_limit(lo), format_limit(hi), got)
end

-- Integer parameter. `from` is "query" (string) or "json" (any JSON value).
local function parse_integer(name, raw, from, lo, hi)
  local n
  if from == "query" then
    if type(raw) ~= "string" or not raw:match("^%-?%d+$") then
      return nil, string.format("%s must be an integer between %s and %s; got %s",
        name, format_limit(lo), format_limit(hi), text.show(raw))
    end
    if #raw > 16 then return nil, between(name, lo, hi, text.show(raw)) end
    n = math.tointeger(tonumber(raw))
  else
    if type(raw) ~= "number" then
      return nil, string.format("%s must be an integer (a JSON number) between %s and %s; got %s",
        name, format_limit(lo), format_limit(hi), json_kind(raw))
    end
    n = math.tointeger(raw)
    if n == nil then
      if raw ~= raw or raw == math.huge or raw == -math.huge or raw == math.floor(raw) then
        return nil, between(name, lo, hi, text.show(raw))
      end
      return nil, string.format("%s must be an integer between %s and %s; got %s",
        name, format_limit(lo), format_limit(hi), text.show(raw))
    end
  end
  if n < lo or n > hi then return nil, between(name, lo, hi, text.show(n)) end
  return n
end

-- Decimal parameter: query strings take "8", "7.5" or "-1" (no exponent, no leading '.').
local function parse_number(name, raw, from, lo, hi)
  local n
  if from == "query" then
    if type(raw) ~= "string" or #raw > 32 or not (raw:match("^%-?%d+$") or raw:match("^%-?%d+%.%d+$")) then
      return nil, string.format("%s must be a number between %s and %s; got %s",
        name, format_limit(lo), format_limit(hi), text.show(raw))
    end
    n = tonumber(raw)
  else
    if type(raw) ~= "number" or raw ~= raw then
      return nil, string.format("%s must be a number (a JSON number) between %s and %s; got %s",
        name, format_limit(lo), format_limit(hi), json_kind(raw))
    end
    n = raw
  end
  if n < lo or n > hi then return nil, between(name, lo, hi, text.show(n)) end
  return n
end

local function parse_enum(name, raw, from, allowed)
  local list = table.concat(allowed, ", ")
  if type(raw) ~= "string" then
    return nil, string.format("%s must be one of %s; got %s", name, list,
      from == "json" and json_kind(raw) or text.show(raw))
  end
  for _, a in ipairs(allowed) do
    if raw == a then return raw end
  end
  return nil, string.format("%s must be one of %s; got %s", name, list, text.show(raw))
end

-- A prompt-like text: a string, valid UTF-8, cleaned, within the model's length range.
local function parse_text(name, raw, from, range, max_input_bytes)
  if type(raw) ~= "string" then
    return nil, string.format("%s must be a string of %d to %d characters; got %s",
      name, range.min, range.max, from == "json" and json_kind(raw) or text.show(raw))
  end
  if #raw > max_input_bytes then
    return nil, string.format("%s is too long (%d bytes); at most %d characters are allowed",
      name, #raw, range.max)
  end
  local len, bad = sanitize.utf8_length(raw)
  if not len then
    return nil, string.format("%s is not valid UTF-8 (bad byte sequence at byte %d)", name, bad)
  end
  local replaced = sanitize.replacement_character(raw)
  if replaced then
    return nil, string.format("%s holds U+FFFD, the replacement character, at character %d: the request "
      .. "carried bytes that are not UTF-8, which API Gateway replaces with it; send the text encoded in "
      .. "UTF-8 (percent-encoded in a query string)", name, replaced)
  end
  local text = sanitize.clean(raw)
  local n = utf8.len(text)
  if n == 0 then
    return nil, string.format("%s is empty once control characters and extra white space are removed; "
      .. "give %d to %d characters", name, range.min, range.max)
  end
  if n < range.min or n > range.max then
    return nil, string.format("%s must be %d to %d characters long; got %d characters",
      name, range.min, range.max, n)
  end
  return text
end

local function media_type(content_type)
  if type(content_type) ~= "string" then return nil end
  return (content_type:match("^%s*([^;%s]*)") or ""):lower()
end

local function is_json_media_type(mt)
  return mt == "application/json" or (mt ~= nil and mt:match("^application/[%w%.%-]+%+json$") ~= nil)
end

-- Types under which a body that is a JSON object is still taken as JSON.
local UNDECLARED_JSON = { ["application/x-www-form-urlencoded"] = true, ["text/plain"] = true }

local function body_is_object(req)
  local body = req.body
  if type(body) ~= "table" or text.is_array(body) then return false end
  if type(req.raw_body) == "string" then
    -- the text decides between {} and [] when no array marker says so
    return req.raw_body:match("^%s*(.)") == "{"
  end
  return true
end

-- How many unknown parameter names an answer shows; the rest are counted.
local MAX_NAMED = 3
-- How many keys of one table a check looks at, at most. Tens of thousands of keys (a 750 KB
-- body of them) must still get a 400 well within the instruction budget, whatever limits the
-- runtime puts on the request before the policy sees it.
local MAX_SCANNED = 10000

-- The smallest (in byte order) at most `limit` keys of table t for which want(k) holds, sorted;
-- how many keys want() holds for; and whether every key was looked at (false when t has more
-- than MAX_SCANNED keys: the count is then a lower bound). Constant work per key and at most
-- MAX_SCANNED keys: never a sort of them all.
local function first_keys(t, want, limit)
  local kept, count, scanned = {}, 0, 0
  for k in pairs(t) do
    if scanned == MAX_SCANNED then return kept, count, false end
    scanned = scanned + 1
    if want(k) then
      count = count + 1
      local name = tostring(k)
      local n = #kept
      if n < limit or name < kept[n] then
        -- insert into the short sorted list, dropping its largest when full
        local i = n < limit and n + 1 or n
        while i > 1 and kept[i - 1] > name do
          kept[i] = kept[i - 1]
          i = i - 1
        end
        kept[i] = name
      end
    end
  end
  return kept, count, true
end

local function is_unknown(k) return not KNOWN[k] end

local function unknown_problem(values)
  local names, count, complete = first_keys(values, is_unknown, MAX_NAMED)
  if count == 0 then return nil end
  local shown = {}
  for i, name in ipairs(names) do
    local hint = hints.for_name(name)
    shown[i] = text.show(name) .. (hint and " (" .. hint .. ")" or "")
  end
  local more = ""
  if not complete then
    more = string.format(" and at least %d more", count - #names)
  elseif count > #names then
    more = string.format(" and %d more", count - #names)
  end
  return problem(400, "unknown_parameter", string.format("unknown parameter%s %s%s; known parameters: %s",
    count > 1 and "s" or "", table.concat(shown, ", "), more, table.concat(KNOWN_LIST, ", ")))
end

local function always() return true end

-- The JSON object body of a POST to `route` ("/generate-image"), or nil and a problem: no
-- body, a declared type that is not JSON (415), a body the runtime could not decode, or JSON
-- that is not an object. `example` shows a body in the message for a missing one. The runtime
-- leaves out raw_body when the body carried images (its text holds their base64).
function M.json_object(req, route, example)
  local raw = req.raw_body
  local blank = type(raw) == "string" and not raw:find("%S")
  if blank or (raw == nil and req.body == nil and req.body_error == nil) then
    return nil, problem(400, "invalid_body",
      "POST " .. route .. " needs a JSON object body, e.g. " .. (example or "{\"prompt\":\"a lighthouse at dusk\"}"))
  end
  local headers = req.headers or {}
  local mt = media_type(headers["content-type"])
  -- A JSON object sent without a type, or with the type curl -d, urllib and HTML forms give
  -- by default, is what the client meant: served. Any other declared type is refused.
  local undeclared = mt == nil or mt == "" or UNDECLARED_JSON[mt]
  if not is_json_media_type(mt) and not (undeclared and req.body_error == nil and body_is_object(req)) then
    return nil, problem(415, "unsupported_media_type", string.format(
      "Content-Type must be application/json; got %s", mt and text.show(mt) or "none"))
  end
  if req.body_error then
    -- the runtime's sentence: invalid JSON (with line and column), UTF-8 or base64
    return nil, problem(400, "invalid_body", (text.clean_for_output(tostring(req.body_error), 300)))
  end
  if not body_is_object(req) then
    local got = req.body == nil and "nothing" or
      (type(req.body) == "table" and "an array" or json_kind(req.body))
    return nil, problem(400, "invalid_body", "the body must be a JSON object; got " .. got)
  end
  return req.body
end

-- The client's raw values: { values = {name -> raw}, from = "query"|"json" } or a problem.
-- `route` (default "/generate-image") is the path its messages name.
function M.read(req, route)
  route = route or "/generate-image"
  local query = req.query or {}
  local multi = req.multi_query or {}
  if req.method == "GET" then
    -- Unknown names first: past that check both maps hold only known names, so everything
    -- after it looks at a dozen keys at most.
    local p = unknown_problem(query) or unknown_problem(multi)
    if p then return nil, p end
    local repeated = first_keys(multi, function(k)
      local vs = multi[k]
      return type(vs) == "table" and #vs > 1
    end, 1)
    if repeated[1] then
      return nil, problem(400, "invalid_parameter", string.format(
        "%s is given %d times; give each parameter once", text.show(repeated[1]), #multi[repeated[1]]))
    end
    local values = {}
    for k, v in pairs(query) do values[k] = v end
    for k, vs in pairs(multi) do
      if values[k] == nil and type(vs) == "table" then values[k] = vs[1] end
    end
    return { values = values, from = "query" }
  end

  -- POST: a JSON object body.
  local q = first_keys(query, always, 1)
  if #q > 0 then
    return nil, problem(400, "invalid_parameter", string.format(
      "POST %s takes its parameters from the JSON body, not the query string; move %s into the body",
      route, text.show(tostring(q[1]))))
  end
  local _, bad = M.json_object(req, route)
  if bad then return nil, bad end
  local p = unknown_problem(req.body)
  if p then return nil, p end
  return { values = req.body, from = "json" }
end

local function model_problem(raw, settings)
  return problem(400, "unknown_model", string.format("model %s is not available; allowed models: %s",
    text.show(raw), table.concat(settings.allowed_models, ", ")))
end

local function pick_model(raw, settings)
  if raw == nil then return models.get(settings.default_model) end
  if type(raw) ~= "string" then return nil, model_problem(raw, settings) end
  for _, id in ipairs(settings.allowed_models) do
    if id == raw then return models.get(id) end
  end
  return nil, model_problem(raw, settings)
end

-- What a model takes, for "not supported" messages: "prompt, negativePrompt, ...".
local function taken_list(model)
  local out = {}
  for _, p in ipairs(params) do
    if p.kind ~= "model" and models.takes(model, p.name) then out[#out + 1] = p.name end
  end
  return table.concat(out, ", ")
end

local function unsupported(model, name)
  local hint = ""
  if name == "aspectRatio" then
    hint = "; give width and height instead (" .. models.describe_sizes(model) .. ")"
  elseif name == "quality" then
    hint = "; the model sets the quality: pick another model (GET /models lists them)"
  end
  return string.format("%s is not supported by %s, which takes %s%s",
    name, model.id, taken_list(model), hint)
end

-- Width and height on a ratio model: they must name one of its ratios, and agree with an
-- aspectRatio given with them. Sets out.aspectRatio and the pixel size the model makes.
local function settle_ratio(model, out, ratio_given)
  if out.width == nil then
    local r = models.ratio(model, out.aspectRatio or model.defaults.aspectRatio)
    out.aspectRatio, out.width, out.height = r.ratio, r.width, r.height
    return nil
  end
  local r = models.ratio_for_size(model, out.width, out.height)
  if not r then
    return string.format("width x height %s matches none of the aspect ratios of %s; give aspectRatio "
      .. "(one of %s) or a width x height in one of those proportions; %s",
      models.size_name(out.width, out.height), model.id, table.concat(models.ratio_names(model), ", "),
      models.describe_sizes(model))
  end
  if ratio_given and out.aspectRatio ~= r.ratio then
    return string.format("aspectRatio %s and width x height %s (%s) disagree; give one of them",
      text.show(out.aspectRatio), models.size_name(out.width, out.height), r.ratio)
  end
  out.aspectRatio, out.width, out.height = r.ratio, r.width, r.height
  return nil
end

-- Checks the client's values (`values`, read from `from`: "query" or "json") against one
-- model's rules. Returns a table of checked values:
--   { model = <catalogue entry>, prompt, negativePrompt (or nil), aspectRatio (ratio models),
--     width, height, cfgScale (or nil), seed (or nil when not given, or when it asks the model
--     for a random one), numberOfImages, quality (or nil), outputFormat }
-- or nil and a problem { status, code, message }. The plan calls it again for each fallback
-- model, to learn whether that model can serve the same request.
function M.check(values, from, model, settings)
  local out = { model = model }
  local max_bytes = settings.prompt.max_input_bytes
  local function bad(param, message)
    local p = problem(400, param.code, message)
    p.param = param.name -- the parameter at fault, for answers that name it apart (OpenAI's `param`)
    return nil, p
  end

  for _, param in ipairs(params) do
    local name, raw = param.name, values[param.name]
    if param.kind == "model" then
      -- chosen before the check
    elseif raw ~= nil and not models.takes(model, name) then
      return bad(param, unsupported(model, name))
    elseif param.kind == "text" then
      if raw == nil and param.required then
        return bad(param, string.format("%s is required: %d to %d characters describing the image",
          name, model[param.limit].min, model[param.limit].max))
      end
      if raw ~= nil then
        local text, msg = parse_text(name, raw, from, model[param.limit], max_bytes)
        if not text then return bad(param, msg) end
        out[name] = text
      end
    elseif param.kind == "ratio" then
      if raw ~= nil then
        local v, msg = parse_enum(name, raw, from, models.ratio_names(model))
        if not v then return bad(param, msg) end
        out[name] = v
      end
    elseif name == "width" or name == "height" then
      if raw ~= nil then
        local lo, hi = models.side_range(model)
        local n, msg = parse_integer(name, raw, from, lo, hi)
        if not n then return bad(param, msg) end
        out[name] = n
      end
    elseif not models.takes(model, name) then
      -- not given, and the model has no such setting: nothing to fill in
    elseif param.kind == "integer" or param.kind == "number" then
      if raw == nil then
        out[name] = model.defaults[name]
      else
        local range = model[param.limit]
        local hi, cap = range.max, name == "numberOfImages" and settings.limits.max_images_per_request
        if cap and cap < hi then hi = cap else cap = nil end
        local parse = param.kind == "integer" and parse_integer or parse_number
        local n, msg = parse(name, raw, from, range.min, hi)
        if not n then
          if cap then
            msg = string.format("%s; this service makes at most %d images per request (the model could make %d)",
              msg, cap, range.max)
          end
          return bad(param, msg)
        end
        out[name] = n
      end
    elseif param.kind == "enum" then
      if raw == nil then
        out[name] = model.defaults[name]
      else
        local v, msg = parse_enum(name, raw, from, model[param.limit])
        if not v then return bad(param, msg) end
        out[name] = v
      end
    end

    if name == "height" then
      -- The size is checked as a pair once both sides are known.
      if (out.width == nil) ~= (out.height == nil) then
        local default = models.uses_ratios(model) and models.ratio(model, model.defaults.aspectRatio)
          or model.defaults
        return bad(param, string.format("width and height go together: give both or neither (default %dx%d)",
          default.width, default.height))
      end
      if models.uses_ratios(model) then
        local msg = settle_ratio(model, out, values.aspectRatio ~= nil)
        if msg then return bad(param, msg) end
      elseif out.width == nil then
        out.width, out.height = model.defaults.width, model.defaults.height
      elseif not models.size_supported(model, out.width, out.height) then
        return bad(param, string.format("width x height %s is not supported by %s; %s",
          models.size_name(out.width, out.height), model.id, models.describe_sizes(model)))
      end
    end
  end
  if out.seed ~= nil and out.seed == model.seed.random then
    out.seed = nil -- the model's "random" value: the plan draws one and reports it
  end
  return out
end

-- Checks a request's parameters against the model it names (or the default model). Returns
-- the checked values of M.check, plus `input` = { values, from } (the client's values, so the
-- plan can check them against fallback models), or nil and a problem { status, code, message }.
function M.generate(req, settings, route)
  local input, p = M.read(req, route)
  if not input then return nil, p end
  local from, values = input.from, {}
  for k, v in pairs(input.values) do
    if not is_null(v) then values[k] = v end -- a JSON null means "not given"
  end

  local model
  model, p = pick_model(values.model, settings)
  if not model then return nil, p end

  local out
  out, p = M.check(values, from, model, settings)
  if not out then return nil, p end
  out.input = { values = values, from = from }
  return out
end

M.known = KNOWN_LIST

-- The readers of one value, for other requests with the same rules (edit.lua): each returns the
-- value, or nil and a sentence naming the parameter and what it takes.
M.parse_integer, M.parse_number, M.parse_enum, M.parse_text = parse_integer, parse_number, parse_enum, parse_text
M.first_keys = first_keys
M.MAX_SCANNED = MAX_SCANNED

return M
