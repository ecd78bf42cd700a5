-- openai.lua - the OpenAI-compatible Images API: POST /v1/images/generations and GET /v1/models.
--
-- Existing clients, SDKs and chat front ends speak OpenAI's Images API; this module reads its
-- request, maps it onto the catalogue's models and parameters, and shapes answers and errors
-- the way OpenAI does, so that the official clients raise their own error classes. Mappings,
-- as data:
--   * model: an OpenAI name (config.lua's openai.models: gpt-image-1, dall-e-3 ...) served by
--     the first of its models that the deployment allows, or an allowed model id itself;
--   * size "WxH": on Stability, a size the model makes or one of OpenAI's sizes that is exactly
--     one of its aspect ratios (1536x1024 is 3:2, made at 1216x832); on Titan and Nova, a size
--     the model takes; "auto": the model's default;
--   * quality: the model's quality where it has one (QUALITY), accepted and ignored otherwise;
--   * n, output_format: numberOfImages and outputFormat;
--   * response_format: "url" (stored and presigned) or "b64_json" (inline, refused before any
--     model call when the answer could not fit in Lambda's 6 MB response).
-- Fields OpenAI accepts that change nothing here (user, style, moderation...) are checked and
-- ignored; values that cannot be honoured (a transparent background, streaming) are a 400 that
-- says so. Every refusal names the field in `param`. Nothing here has side effects.
-- POST /v1/images/edits (OpenAI's multipart form) becomes an edit (edit.lua): with a mask, an
-- inpaint whose mask is the PNG's transparency; without one, image-to-image.

local models = require("models")
local validate = require("validate")
local text = require("text")
local sanitize = require("sanitize")
local tasks = require("tasks")
local edit = require("edit")

local M = {}

-- The most base64 bytes of images one inline answer may carry: the runtime refuses more
-- (response_too_large), and the rest of Lambda's 6 MB response (6,291,456 bytes) is left for
-- the JSON around them.
M.INLINE_MAX_BASE64_BYTES = 5500000

-- OpenAI's quality -> the model's quality, for models that have one (Titan, Nova). Models
-- without a quality setting (Stability) accept every value and ignore it.
M.QUALITY = {
  auto = "standard", low = "standard", medium = "standard", standard = "standard",
  high = "premium", hd = "premium",
}
local QUALITIES = { "auto", "low", "medium", "high", "standard", "hd" }

local RESPONSE_FORMATS = { "url", "b64_json" }
local OUTPUT_FORMATS = { "png", "jpeg", "webp" }
local STYLES = { "vivid", "natural" }
local BACKGROUNDS = { "auto", "opaque", "transparent" }
local MODERATIONS = { "auto", "low" }

-- The most digits of one side of a size: "13x13" is read, "123456x1" is not a size.
local MAX_SIDE_DIGITS = 5

-- Error types by status, as OpenAI-compatible services name them; the official clients pick
-- their error class by status alone.
local function error_type(status)
  if status == 401 then return "authentication_error" end
  if status == 403 then return "permission_error" end
  if status == 429 then return "rate_limit_error" end
  if status >= 500 then return "server_error" end
  return "invalid_request_error"
end

-- Our codes -> the codes OpenAI uses for the same thing.
local CODES = {
  rate_limited = "rate_limit_exceeded",
  prompt_rejected = "content_policy_violation",
  content_filtered = "content_policy_violation",
}

-- An error answer in OpenAI's shape {"error":{"message","type","param","code"}}. The request
-- id goes in the X-Request-Id header, where OpenAI puts its own.
function M.error(status, code, message, param, request_id, ...)
  local headers = { ["Content-Type"] = "application/json", ["Cache-Control"] = "no-store" }
  if type(request_id) == "string" and request_id:match("^[%w%-]+$") and #request_id <= 128 then
    headers["X-Request-Id"] = request_id
  end
  for i = 1, select("#", ...) do
    local t = select(i, ...)
    if t then for k, v in pairs(t) do headers[k] = v end end
  end
  return {
    status = status,
    headers = headers,
    body = { error = {
      message = message,
      type = error_type(status),
      param = param or cjson.null,
      code = CODES[code] or code,
    } },
  }
end

local function problem(code, param, message, status)
  return { status = status or 400, code = code, param = param, message = message }
end

local function one_of_text(list)
  local q = {}
  for i, v in ipairs(list) do q[i] = "\"" .. v .. "\"" end
  return table.concat(q, ", ")
end

-- How a JSON value is named in "got ..." (the string "2", 2, true, an object).
local function shown(v)
  if type(v) == "string" then return "the string " .. text.show(v) end
  return text.show(v)
end

local function enum(name, raw, list)
  if type(raw) ~= "string" then
    return nil, problem("invalid_type", name, string.format("%s must be one of %s; got %s",
      name, one_of_text(list), shown(raw)))
  end
  for _, v in ipairs(list) do
    if v == raw then return raw end
  end
  return nil, problem("invalid_value", name, string.format("%s must be one of %s; got %s",
    name, one_of_text(list), text.show(raw)))
end

local function integer(name, raw, lo, hi)
  if type(raw) ~= "number" then
    return nil, problem("invalid_type", name, string.format(
      "%s must be an integer (a JSON number) between %d and %d; got %s", name, lo, hi, shown(raw)))
  end
  local n = math.tointeger(raw)
  if n == nil then
    return nil, problem("invalid_value", name, string.format("%s must be an integer between %d and %d; got %s",
      name, lo, hi, text.show(raw)))
  end
  if n < lo or n > hi then
    return nil, problem("invalid_value", name, string.format("%s must be between %d and %d; got %d",
      name, lo, hi, n))
  end
  return n
end

-- The fields of a generation request, in the order they are checked. `read` checks a given
-- value and stores what it means into `req_out`; fields without one are accepted and ignored.
local FIELDS = {}
local FIELD_NAMES = {}
local function field(name, read)
  FIELDS[#FIELDS + 1] = { name = name, read = read }
  FIELD_NAMES[name] = true
end

field("prompt", function(raw)
  if type(raw) ~= "string" then
    return nil, problem("invalid_type", "prompt", "prompt must be a string describing the image; got " .. shown(raw))
  end
  return raw
end)
field("model", function(raw)
  if type(raw) ~= "string" then
    return nil, problem("invalid_type", "model", "model must be a string naming a model (GET /v1/models lists them); got "
      .. shown(raw))
  end
  return raw
end)
field("n", function(raw)
  -- its range depends on the model: checked once the model is known
  if type(raw) ~= "number" then
    return nil, problem("invalid_type", "n", "n must be an integer (a JSON number), the number of images; got "
      .. shown(raw))
  end
  local n = math.tointeger(raw)
  if n == nil then
    return nil, problem("invalid_value", "n", "n must be a whole number of images; got " .. text.show(raw))
  end
  return n
end)
field("size", function(raw)
  if type(raw) ~= "string" then
    return nil, problem("invalid_type", "size", "size must be a string, \"auto\" or \"WIDTHxHEIGHT\" such as "
      .. "\"1024x1024\"; got " .. shown(raw))
  end
  if raw == "auto" then return raw end
  local w, h = raw:match("^(%d+)x(%d+)$")
  if not w or #w > MAX_SIDE_DIGITS or #h > MAX_SIDE_DIGITS or tonumber(w) == 0 or tonumber(h) == 0 then
    return nil, problem("invalid_value", "size", "size must be \"auto\" or \"WIDTHxHEIGHT\" such as \"1024x1024\"; got "
      .. text.show(raw))
  end
  return raw
end)
field("quality", function(raw) return enum("quality", raw, QUALITIES) end)
field("response_format", function(raw) return enum("response_format", raw, RESPONSE_FORMATS) end)
field("output_format", function(raw) return enum("output_format", raw, OUTPUT_FORMATS) end)
field("style", function(raw) return enum("style", raw, STYLES) end)
field("background", function(raw) return enum("background", raw, BACKGROUNDS) end)
field("moderation", function(raw) return enum("moderation", raw, MODERATIONS) end)
field("output_compression", function(raw) return integer("output_compression", raw, 0, 100) end)
field("partial_images", function(raw) return integer("partial_images", raw, 0, 3) end)
field("stream", function(raw)
  if type(raw) ~= "boolean" then
    return nil, problem("invalid_type", "stream", "stream must be true or false; got " .. shown(raw))
  end
  return raw
end)
field("user", function(raw)
  if type(raw) ~= "string" then
    return nil, problem("invalid_type", "user", "user must be a string; got " .. shown(raw))
  end
  return raw
end)

local FIELD_LIST = {}
for i, f in ipairs(FIELDS) do FIELD_LIST[i] = f.name end
M.FIELDS = FIELD_LIST

-- The first unknown field name in byte order, among at most `limit` keys looked at.
local MAX_SCANNED = 10000
local function unknown_field(body)
  local first, scanned = nil, 0
  for k in pairs(body) do
    scanned = scanned + 1
    if scanned > MAX_SCANNED then break end
    if not FIELD_NAMES[k] then
      local name = tostring(k)
      if first == nil or name < first then first = name end
    end
  end
  return first
end

-- The model names of config.lua's openai.models resolved against the models this deployment
-- allows: { names = { [name] = model id }, order = { names, sorted } }, and the names none of
-- whose models is allowed (to be logged once at start-up). A preference matches an allowed id
-- equal to it, or an allowed inference profile of it.
function M.resolve_aliases(aliases, allowed_models)
  local allowed = {}
  for _, id in ipairs(allowed_models) do
    allowed[id] = id
    local m = models.get(id)
    if m and m.foundation_model and allowed[m.foundation_model] == nil then allowed[m.foundation_model] = id end
  end
  local out, unresolved = { names = {}, order = {} }, {}
  local names = {}
  for name in pairs(aliases) do names[#names + 1] = name end
  table.sort(names)
  for _, name in ipairs(names) do
    local hit
    for _, pref in ipairs(aliases[name]) do
      hit = hit or allowed[pref]
    end
    if hit then
      out.names[name] = hit
      out.order[#out.order + 1] = name
    else
      unresolved[#unresolved + 1] = name
    end
  end
  return out, unresolved
end

-- The catalogue entry a request's model names, or nil and a problem.
local function pick_model(raw, settings, aliases)
  if raw == nil then return models.get(settings.default_model), settings.default_model end
  local id = aliases.names[raw]
  if not id then
    for _, allowed in ipairs(settings.allowed_models) do
      if allowed == raw then id = allowed end
    end
  end
  if not id then
    local names = {}
    for i, name in ipairs(aliases.order) do names[i] = name end
    for _, allowed in ipairs(settings.allowed_models) do names[#names + 1] = allowed end
    return nil, problem("model_not_found", "model", string.format(
      "model %s is not available; this service offers %s", text.show(raw), table.concat(names, ", ")))
  end
  return models.get(id), raw
end

-- The sizes a model can make, as OpenAI sizes, for messages.
local function size_choices(model)
  if models.uses_ratios(model) then
    local parts = {}
    for i, r in ipairs(model.aspect_ratios) do
      parts[i] = string.format("%s (%s)", models.size_name(r.width, r.height), r.ratio)
    end
    return "sizes in one of its aspect ratios, made at: " .. table.concat(parts, ", ")
  end
  return models.describe_sizes(model)
end

-- The sizes OpenAI's models take. On a ratio model one of them stands for the aspect ratio it
-- is exactly (1536x1024 is 3:2); any other size must be one the model itself makes.
M.OPENAI_SIZES = { "256x256", "512x512", "1024x1024", "1536x1024", "1024x1536", "1792x1024", "1024x1792" }
local OPENAI_SIZE = {}
for _, s in ipairs(M.OPENAI_SIZES) do OPENAI_SIZE[s] = true end

-- The aspect-ratio entry a size names on a ratio model: a size it makes, or one of OpenAI's
-- sizes in exactly one of its ratios; nil otherwise (13x13 is 1:1, but no size anyone makes).
local function ratio_of_size(model, size, w, h)
  for _, r in ipairs(model.aspect_ratios) do
    if r.width == w and r.height == h then return r end
  end
  if OPENAI_SIZE[size] then return models.ratio_for_size(model, w, h) end
  return nil
end

-- size -> the native values (aspectRatio, or width and height), or a problem.
local function map_size(size, model, values)
  if size == nil or size == "auto" then return true end
  local w, h = size:match("^(%d+)x(%d+)$")
  w, h = math.tointeger(tonumber(w)), math.tointeger(tonumber(h))
  if models.uses_ratios(model) then
    local r = ratio_of_size(model, size, w, h)
    if not r then
      return nil, problem("invalid_value", "size", string.format(
        "size %s is not a size %s can make; give \"auto\", an OpenAI size in one of its aspect ratios "
          .. "(256x256, 512x512 and 1024x1024 are 1:1, 1536x1024 is 3:2, 1024x1536 is 2:3) or one of its %s",
        text.show(size), model.id, size_choices(model)))
    end
    values.aspectRatio = r.ratio
    return true
  end
  if not models.size_supported(model, w, h) then
    return nil, problem("invalid_value", "size", string.format("size %s is not one %s can make; %s",
      text.show(size), model.id, size_choices(model)))
  end
  values.width, values.height = w, h
  return true
end

-- Which validate.check parameter is which OpenAI field.
local NATIVE_TO_FIELD = {
  prompt = "prompt", numberOfImages = "n", outputFormat = "output_format", aspectRatio = "size",
  width = "size", height = "size", quality = "quality", model = "model",
}

-- The figure the answer must fit: the most bytes the images of this request can take as
-- base64, over the chosen model and its configured fallbacks (one of which may serve).
local function worst_base64_bytes(p, settings)
  local worst = 0
  local ids = { p.model.id }
  for _, id in ipairs(settings.fallback[p.model.id] or {}) do ids[#ids + 1] = id end
  for _, id in ipairs(ids) do
    local m = models.get(id)
    local bytes = m and models.worst_image_bytes(m, p.outputFormat, p.width, p.height)
    if m == p.model and not bytes then
      bytes = math.ceil(p.width * p.height * 4) + models.IMAGE_OVERHEAD_BYTES -- no figure: 4 bytes a pixel
    end
    if bytes and bytes > worst then worst = bytes end
  end
  return 4 * math.ceil(worst / 3)
end

local function thousands(n)
  local s = string.format("%d", n)
  local out = s:reverse():gsub("(%d%d%d)", "%1,"):reverse()
  return (out:gsub("^,", ""))
end

-- The 6 MB guard: nil when n images of this request fit inline in the worst case, else a
-- problem telling the client what would fit.
local function inline_problem(p, settings, n)
  local each = worst_base64_bytes(p, settings)
  if n * each <= M.INLINE_MAX_BASE64_BYTES then return nil end
  local fits = M.INLINE_MAX_BASE64_BYTES // each
  local hint = "use response_format \"url\""
  if fits >= 1 then hint = hint .. string.format(" or n of at most %d", fits) end
  local others = {}
  for _, f in ipairs(p.model.output_formats) do
    if f ~= p.outputFormat then
      local b = models.worst_image_bytes(p.model, f, p.width, p.height)
      if b and n * 4 * math.ceil(b / 3) <= M.INLINE_MAX_BASE64_BYTES then others[#others + 1] = f end
    end
  end
  if #others > 0 then hint = hint .. " or output_format " .. one_of_text(others) end
  return problem("response_too_large", fits >= 1 and "n" or "response_format", string.format(
    "%d %s image%s of %s can take up to %s bytes as b64_json, more than one answer can carry (%s bytes: "
      .. "the function's response is limited to 6 MB); %s",
    n, p.outputFormat, n == 1 and "" or "s", models.size_name(p.width, p.height), thousands(n * each),
    thousands(M.INLINE_MAX_BASE64_BYTES), hint))
end

-- Reads and checks a generation request. Returns the checked values of validate.check plus
--   input = { values, from } (for the fallbacks), and openai = { model (as named),
--   response_format, quality, background, deliver }
-- or nil and a problem { status, code, param, message }.
function M.generate(req, settings, aliases)
  local body, bad = validate.json_object(req, "/v1/images/generations")
  if not body then
    bad.param = nil
    return nil, bad
  end
  local unknown = unknown_field(body)
  if unknown then
    return nil, problem("unknown_parameter", unknown, string.format(
      "unknown parameter %s; this endpoint takes %s", text.show(unknown), table.concat(FIELD_LIST, ", ")))
  end
  local given = {}
  for _, f in ipairs(FIELDS) do
    local raw = body[f.name]
    if raw ~= nil and raw ~= cjson.null then
      local v, p = f.read(raw)
      if v == nil then return nil, p end
      given[f.name] = v
    end
  end
  if given.prompt == nil then
    return nil, problem("missing_required_parameter", "prompt", "prompt is required: a text describing the image")
  end
  if given.stream then
    return nil, problem("unsupported_value", "stream",
      "stream is not supported: this service answers when every image is ready; send stream false or leave it out")
  end

  local model, named = pick_model(given.model, settings, aliases)
  if not model then return nil, named end

  if given.background == "transparent" and not model.transparent_background then
    return nil, problem("unsupported_value", "background", string.format(
      "background \"transparent\" cannot be honoured: %s makes no transparent images; send \"auto\" or \"opaque\"",
      model.id))
  end

  local values = { prompt = given.prompt, model = model.id }
  local cap = model.images.max
  local limit = settings.limits.max_images_per_request
  if limit and limit < cap then cap = limit end
  local n = given.n or 1
  if n < 1 or n > cap then
    return nil, problem("invalid_value", "n", string.format("n must be between 1 and %d on %s; got %d",
      cap, named, n))
  end
  values.numberOfImages = n
  if given.output_format then
    local ok = false
    for _, f in ipairs(model.output_formats) do ok = ok or f == given.output_format end
    if not ok then
      return nil, problem("invalid_value", "output_format", string.format(
        "output_format %s is not one %s makes; it makes %s", text.show(given.output_format), named,
        one_of_text(model.output_formats)))
    end
    values.outputFormat = given.output_format
  end
  local sized, p = map_size(given.size, model, values)
  if not sized then return nil, p end
  if model.qualities then
    values.quality = M.QUALITY[given.quality or "auto"]
  end

  local out
  out, p = validate.check(values, "json", model, settings)
  if not out then
    p.param = NATIVE_TO_FIELD[p.param] or p.param
    return nil, p
  end
  out.input = { values = values, from = "json" }

  local response_format = given.response_format or settings.openai.response_format
  if response_format == "b64_json" then
    p = inline_problem(out, settings, n)
    if p then return nil, p end
  end
  out.openai = {
    model = named,
    response_format = response_format,
    quality = given.quality or "auto",
    deliver = response_format == "url" and "url"
      or (settings.openai.b64_json_delivery == "both" and "both" or "inline"),
  }
  return out
end

-- POST /v1/images/edits ---------------------------------------------------------------------

local EDIT_FIELDS = { "image", "mask", "prompt", "model", "n", "size", "quality", "response_format", "output_format",
  "background", "input_fidelity", "output_compression", "partial_images", "stream", "user" }
local EDIT_FIELD = {}
for _, f in ipairs(EDIT_FIELDS) do EDIT_FIELD[f] = true end
M.EDIT_FIELDS = EDIT_FIELDS

-- A form's text field holding a whole number (or a JSON number).
local function form_integer(name, raw, lo, hi)
  if type(raw) == "string" then
    if not raw:match("^%d+$") or #raw > 9 then
      return nil, problem("invalid_value", name, string.format("%s must be a whole number between %d and %d; got %s",
        name, lo, hi, text.show(raw)))
    end
    raw = math.tointeger(tonumber(raw))
  end
  return integer(name, raw, lo, hi)
end

local function form_boolean(name, raw)
  if raw == true or raw == "true" then return true end
  if raw == false or raw == "false" then return false end
  return nil, problem("invalid_value", name, name .. " must be true or false; got " .. shown(raw))
end

-- The one file of a form field (image[] and repeated names are lists), or nil and a problem.
local function one_file(name, raw, required)
  if raw == nil then
    if required then
      return nil, problem("missing_required_parameter", name, name .. " is required: the image file to edit")
    end
    return nil
  end
  if text.is_array(raw) then
    if #raw > 1 then
      return nil, problem("invalid_value", name, string.format("this service edits one %s per request; got %d files",
        name, #raw))
    end
    raw = raw[1]
  end
  if type(raw) ~= "table" then
    return nil, problem("invalid_type", name, name .. " must be a file part of the form (an image file), not a text "
      .. "field; got " .. shown(raw))
  end
  return raw
end

-- Our codes for edit problems -> OpenAI's, and our parameter names -> its fields.
local EDIT_CODES = { invalid_parameter = "invalid_value", unknown_model = "model_not_found" }
local EDIT_PARAMS = { numberOfImages = "n", outputFormat = "output_format" }

-- The 6 MB guard of an edit: the most bytes its images can take as base64 (expected pixels of
-- the output at the catalogue's worst bytes per pixel for the format).
local function edit_inline_problem(e, n)
  local pixels = e.pixels or 1048576
  local bpp = models.WORST_BYTES_PER_PIXEL[e.p.outputFormat or "png"] or 4
  local each = 4 * math.ceil((math.ceil(pixels * bpp) + models.IMAGE_OVERHEAD_BYTES) / 3)
  if n * each <= M.INLINE_MAX_BASE64_BYTES then return nil end
  local fits = M.INLINE_MAX_BASE64_BYTES // each
  local hint = "use response_format \"url\""
  if fits >= 1 then hint = hint .. string.format(" or n of at most %d", fits) end
  return problem("response_too_large", fits >= 1 and "n" or "response_format", string.format(
    "%d %s image%s of about %s pixels can take up to %s bytes as b64_json, more than one answer can carry (%s bytes: "
      .. "the function's response is limited to 6 MB); %s", n, e.p.outputFormat or "png", n == 1 and "" or "s",
    thousands(pixels), thousands(n * each), thousands(M.INLINE_MAX_BASE64_BYTES), hint))
end

-- Reads and checks an edit request (OpenAI's multipart form). served: the tasks this deployment
-- serves (tasks.available). Returns the checked edit of edit.check (e) plus e.openai = { model
-- (as named), response_format, quality, deliver }, or nil and a problem { status, code, param,
-- message }.
function M.edit(req, settings, aliases, served)
  if req.body_format ~= "multipart" then
    return nil, problem("unsupported_media_type", nil, "POST /v1/images/edits takes multipart/form-data (the form "
      .. "OpenAI's images.edit sends: image, mask, prompt...); got " .. text.show(
        type(req.headers) == "table" and req.headers["content-type"] or "no Content-Type"), 415)
  end
  if req.body_error ~= nil then
    return nil, problem("invalid_body", nil, (text.clean_for_output(tostring(req.body_error), 300)))
  end
  local body = type(req.body) == "table" and req.body or {}
  local unknown, scanned = nil, 0
  for k in pairs(body) do
    scanned = scanned + 1
    if scanned > MAX_SCANNED then break end
    if not EDIT_FIELD[k] and (unknown == nil or tostring(k) < unknown) then unknown = tostring(k) end
  end
  if unknown then
    return nil, problem("unknown_parameter", unknown, string.format("unknown parameter %s; this endpoint takes %s",
      text.show(unknown), table.concat(EDIT_FIELDS, ", ")))
  end

  local prompt = body.prompt
  if prompt == nil then
    return nil, problem("missing_required_parameter", "prompt", "prompt is required: a text describing the edit")
  end
  if type(prompt) ~= "string" then
    return nil, problem("invalid_type", "prompt", "prompt must be text describing the edit; got " .. shown(prompt))
  end
  local image, bad = one_file("image", body.image, true)
  if not image then return nil, bad end
  local mask
  mask, bad = one_file("mask", body.mask, false)
  if bad then return nil, bad end

  local given = {}
  local readers = {
    quality = function(raw) return enum("quality", raw, QUALITIES) end,
    response_format = function(raw) return enum("response_format", raw, RESPONSE_FORMATS) end,
    output_format = function(raw) return enum("output_format", raw, OUTPUT_FORMATS) end,
    background = function(raw) return enum("background", raw, BACKGROUNDS) end,
    input_fidelity = function(raw) return enum("input_fidelity", raw, { "high", "low" }) end,
    output_compression = function(raw) return form_integer("output_compression", raw, 0, 100) end,
    partial_images = function(raw) return form_integer("partial_images", raw, 0, 3) end,
    stream = function(raw) return form_boolean("stream", raw) end,
    user = function(raw)
      if type(raw) ~= "string" then return nil, problem("invalid_type", "user", "user must be text; got " .. shown(raw)) end
      return raw
    end,
    model = function(raw)
      if type(raw) ~= "string" then
        return nil, problem("invalid_type", "model", "model must be text naming a model; got " .. shown(raw))
      end
      return raw
    end,
    size = function(raw)
      if type(raw) ~= "string" or (raw ~= "auto" and not raw:match("^%d%d?%d?%d?%d?x%d%d?%d?%d?%d?$")) then
        return nil, problem("invalid_value", "size", "size must be \"auto\" or \"WIDTHxHEIGHT\" such as \"1024x1024\"; got "
          .. shown(raw))
      end
      return raw
    end,
  }
  for _, name in ipairs(EDIT_FIELDS) do
    local read = readers[name]
    local raw = body[name]
    if read and raw ~= nil and raw ~= cjson.null then
      local v, p = read(raw)
      if v == nil then return nil, p end
      given[name] = v
    end
  end
  if given.stream then
    return nil, problem("unsupported_value", "stream",
      "stream is not supported: this service answers when every image is ready; send stream false or leave it out")
  end
  if given.background == "transparent" then
    return nil, problem("unsupported_value", "background", "background \"transparent\" cannot be honoured by an "
      .. "edit here; send \"auto\" or \"opaque\" (POST /edit-image with task \"remove-background\" makes a transparent "
      .. "background)")
  end

  -- With a mask: inpaint, where the mask's transparent pixels mark the area. Without: the whole
  -- image is remade from the prompt (image-to-image).
  local task = mask and "inpaint" or "image-to-image"
  local entry = served.by_name[task]
  if not entry or #entry.variants == 0 then
    return nil, problem("unsupported_value", mask and "mask" or "image", mask
      and "edits with a mask (inpaint) are not offered by this deployment"
      or "edits without a mask run image-to-image, which this deployment does not offer (it needs "
        .. "stability.sd3-5-large-v1:0 in allowed_models); send a mask whose transparent pixels mark where to edit")
  end
  local variant = entry.variants[1]
  local named = given.model
  if named ~= nil and not aliases.names[named] then
    variant = tasks.variant(entry, named)
    if not variant then
      local names = {}
      for i, name in ipairs(aliases.order) do names[i] = name end
      for _, v in ipairs(entry.variants) do names[#names + 1] = v.id end
      return nil, problem("model_not_found", "model", string.format("model %s does not edit images here; an edit %s "
        .. "takes %s", text.show(named), mask and "with a mask (inpaint)" or "without a mask (image-to-image)",
        table.concat(names, ", ")))
    end
  end

  local values = { prompt = prompt, image = image, mask = mask }
  if body.n ~= nil and body.n ~= cjson.null then
    -- its range depends on the model: read once the model is known
    local n
    n, bad = form_integer("n", body.n, 1, M.edit_cap(variant, settings))
    if not n then return nil, bad end
    given.n = n
  end
  if given.n and given.n > 1 and not tasks.param(variant, "numberOfImages") then
    return nil, problem("invalid_value", "n", "n must be 1 on " .. variant.id)
  end
  values.numberOfImages = given.n
  if given.output_format then
    if tasks.param(variant, "outputFormat") then
      values.outputFormat = given.output_format
    elseif given.output_format ~= variant.formats[1] then
      return nil, problem("invalid_value", "output_format", string.format("output_format %s is not one %s makes; it "
        .. "makes %s", text.show(given.output_format), variant.id, one_of_text(variant.formats)))
    end
  end

  local r
  r, bad = edit.check(variant, values, { settings = settings, identity = req.identity, fetched = true, alpha_masks = true })
  if not r then
    bad.code = EDIT_CODES[bad.code] or bad.code
    bad.param = EDIT_PARAMS[bad.param] or bad.param
    return nil, bad
  end
  local e = r.edit

  if given.size and given.size ~= "auto" then
    local made = e.width and models.size_name(e.width, e.height)
    if made ~= given.size then
      return nil, problem("invalid_value", "size", made and string.format("size %s is not the size this edit makes "
        .. "(%s: the input's %s); send \"auto\", \"%s\" or leave it out", text.show(given.size), task, made, made)
        or string.format("size %s cannot be honoured: %s on %s makes %s; send \"auto\" or leave it out",
          text.show(given.size), task, variant.id, variant.output.describe))
    end
  end

  local response_format = given.response_format or settings.openai.response_format
  if response_format == "b64_json" then
    bad = edit_inline_problem(e, e.n)
    if bad then return nil, bad end
  end
  e.openai = {
    model = named,
    response_format = response_format,
    quality = given.quality or "auto",
    deliver = response_format == "url" and "url"
      or (settings.openai.b64_json_delivery == "both" and "both" or "inline"),
  }
  return e
end

-- The most images one edit on `variant` may ask for.
function M.edit_cap(variant, settings)
  local spec = tasks.param(variant, "numberOfImages")
  local cap = spec and spec.max or 1
  local limit = settings.limits.max_images_per_request
  if limit and limit < cap then cap = limit end
  return cap
end

-- The prompt as the model received it, when the cleaning changed it (OpenAI's revised_prompt);
-- nil otherwise.
local function revised_prompt(req)
  local body = type(req) == "table" and req.body or nil
  local prompt = type(body) == "table" and body.prompt or nil
  if type(prompt) ~= "string" or not utf8.len(prompt) then return nil end
  local cleaned = sanitize.clean(prompt)
  if cleaned == prompt then return nil end
  return cleaned
end

-- The answer to a generation that gave images, in OpenAI's shape, or nil and a sentence when
-- the result lacks what the request asked for (inline data the runtime did not return).
function M.success_body(result, context, req)
  local b64 = context.response_format == "b64_json"
  local revised = revised_prompt(req)
  local data = {}
  local first = result.images[1]
  for i, img in ipairs(result.images) do
    local item = {}
    if b64 then
      -- b64_ref: a token the runtime replaces by the image's base64 once respond() has
      -- answered, so the bytes never enter Lua (b64: the base64 itself, from a runtime that
      -- hands it over)
      local data = img.b64_ref or img.b64
      if type(data) ~= "string" or data == "" then
        return nil, "the runtime returned no inline image (b64_ref); it may predate inline delivery"
      end
      item.b64_json = data
    else
      if type(img.url) ~= "string" then return nil, "the runtime returned an image without a URL" end
      item.url = img.url
    end
    item.revised_prompt = revised
    data[i] = item
  end
  local width = math.tointeger(first.width) or context.width
  local height = math.tointeger(first.height) or context.height
  local format = type(first.format) == "string" and first.format or context.format
  return {
    created = math.floor(imagegen.clock()),
    data = data,
    output_format = format,
    size = (width and height) and models.size_name(width, height) or cjson.null,
    quality = context.openai_quality or "auto",
    background = "opaque",
    -- Bedrock bills these models per image, not per token: the token counts are 0, and
    -- `images` counts the images delivered.
    usage = {
      images = #result.images,
      input_tokens = 0, output_tokens = 0, total_tokens = 0,
      input_tokens_details = { text_tokens = 0, image_tokens = 0 },
    },
  }
end

-- GET /v1/models: the OpenAI names this deployment serves, then the allowed model ids.
function M.models_body(settings, aliases)
  local data = {}
  for _, name in ipairs(aliases.order) do
    data[#data + 1] = { id = name, object = "model", created = 0, owned_by = "imagegen", root = aliases.names[name] }
  end
  for _, id in ipairs(settings.allowed_models) do
    local m = models.get(id)
    local provider = (m.foundation_model or id):match("^([%w%-]+)%.") or "bedrock"
    data[#data + 1] = { id = id, object = "model", created = 0, owned_by = provider, root = id }
  end
  return { object = "list", data = data }
end

return M
