-- edit.lua - reads and checks an edit request: POST /edit-image, and (through openai.lua) OpenAI's
-- POST /v1/images/edits.
--
-- The input images never reach Lua: before admit() the runtime decodes each image member
-- (init.lua's image_fields, or every file of a multipart form) and leaves in its place a facts
-- table (format, width, height, alpha, bytes, the tokens that stand for its bytes, or an error
-- and a sentence). An image uploaded earlier is named by {"upload": key}: the first admit()
-- answers `fetch` for it (after checking the key is the caller's own), the runtime reads it from
-- S3, and calls admit() again with ctx.fetched and the facts in place. Everything here is
-- checked in this order, the first problem answered: task, model, unknown names, the images
-- given (and whose they are), parameters, rules between parameters, the fetch, then each
-- image's facts against the model's limits and the rules between images. Nothing here has side
-- effects.

local tasks = require("tasks")
local validate = require("validate")
local hints = require("hints")
local text = require("text")
local ratelimit = require("ratelimit")

local M = {}

-- Images carried inline (base64 in a JSON body, or files of a multipart form) at most, together:
-- API Gateway takes a 10 MB request and Lambda a 6 MB event (6,291,456 bytes), in which base64
-- images of about 4.7 MB fit; larger ones must be uploaded (POST /uploads).
M.INLINE_MAX_BYTES = 4500000
-- The most bytes an InvokeModel body may have (base64 images included), and what is counted
-- for everything in it but the images (prompts, members) when checking a request against it.
M.BEDROCK_MAX_BODY = 25000000
local BODY_OVERHEAD = 262144
-- A token is a short string (the runtime's are about 50 bytes); a facts table whose ref is
-- longer was not made by the runtime (a client sending {"field":..,"ref":"<base64>"} to skip
-- the checks), and is refused.
local MAX_TOKEN_BYTES = 256
-- How many hex digits of the SHA-256 of the caller's identity name the owner of its uploads.
M.OWNER_DIGITS = 16

-- Upload content types and the key extension each gets.
M.UPLOAD_TYPES = { ["image/png"] = "png", ["image/jpeg"] = "jpg", ["image/webp"] = "webp" }
M.UPLOAD_TYPE_LIST = { "image/png", "image/jpeg", "image/webp" }
local EXTENSIONS = { png = true, jpg = true, webp = true }
local MAX_KEY_BYTES = 1024

local function problem(status, code, message, param)
  return { status = status, code = code, message = message, param = param }
end

local function thousands(n)
  local s = string.format("%d", n)
  local out = s:reverse():gsub("(%d%d%d)", "%1,"):reverse()
  return (out:gsub("^,", ""))
end
M.thousands = thousands

-- The owner of a caller's uploads: a short hash of who the caller is, as the rate limiter names
-- it (API Gateway's key id, or the source IP). Never the identity itself: keys are public.
function M.owner(identity)
  local client = ratelimit.client(identity)
  return imagegen.sha256(client):sub(1, M.OWNER_DIGITS)
end

-- The S3 key of a new upload of `content_type` for `owner`, under the uploads prefix.
function M.upload_key(prefix, owner, content_type)
  return prefix .. owner .. "/" .. imagegen.uuid() .. "." .. M.UPLOAD_TYPES[content_type]
end

-- True when `key` is an upload of `owner` under `prefix`, as upload_key makes them.
local function owned(key, prefix, owner)
  if #key > MAX_KEY_BYTES or key:sub(1, #prefix) ~= prefix then return false end
  local who, id, ext = key:sub(#prefix + 1):match("^(%x+)/([%x%-]+)%.(%a+)$")
  return who == owner and #id == 36 and EXTENSIONS[ext] == true
end

-- What a body member holds: "facts" (an image the runtime read), "upload" ({"upload": key}),
-- "list", "unread" (a string: the runtime did not read it as an image), or "bad".
local function kind_of(v)
  if type(v) == "string" then return "unread" end
  if type(v) ~= "table" or v == cjson.null then return "bad" end
  if text.is_array(v) then return "list" end
  if v.upload ~= nil then return "upload" end
  if type(v.field) ~= "string" then return "bad" end
  for _, k in ipairs({ "ref", "mask_ref", "mask_ref_inverted" }) do
    local t = v[k]
    if t ~= nil and (type(t) ~= "string" or #t > MAX_TOKEN_BYTES) then return "bad" end
  end
  if v.ref == nil and v.error == nil then return "bad" end
  return "facts"
end

local function how_to_send(name)
  return name .. " must be an image as base64 (or a data URL such as \"data:image/png;base64,...\"), or "
    .. "{\"upload\": key} naming an upload of POST /uploads"
end

-- The label of a variant in messages: "inpaint on stability.stable-image-inpaint-v1:0".
local function label(variant)
  return variant.task .. " on " .. variant.id
end

local function size_name(f)
  return string.format("%dx%d", f.width, f.height)
end

local function ratio_text(r)
  return (string.format("%.10g", r))
end

-- The first way facts `f` of `name` break `limits`, as a problem; nil when usable.
local function facts_problem(name, f, limits, variant)
  if f.error ~= nil then
    local why = text.clean_for_output(type(f.message) == "string" and f.message or tostring(f.error), 300)
    if f.error == "not_found" then
      return problem(404, "not_found", name .. ": " .. why, name)
    elseif f.error == "too_large" then
      return problem(413, "payload_too_large", name .. ": " .. why, name)
    end
    return problem(400, "invalid_image", name .. " is not a usable image: " .. why, name)
  end
  local formats = table.concat(limits.formats, ", ")
  if type(f.format) ~= "string" then
    return problem(400, "invalid_image", name .. " is not an image this service reads; " .. label(variant)
      .. " takes " .. formats, name)
  end
  local ok = false
  for _, fmt in ipairs(limits.formats) do ok = ok or fmt == f.format end
  if not ok then
    return problem(400, "invalid_image", string.format("%s is a %s image; %s takes %s", name, f.format:upper(),
      label(variant), formats), name)
  end
  local w, h = math.tointeger(f.width), math.tointeger(f.height)
  if not w or not h or w < 1 or h < 1 then
    return problem(400, "invalid_image", "the width and height of " .. name .. " could not be read", name)
  end
  local short, long, pixels = math.min(w, h), math.max(w, h), w * h
  local what = string.format("%s is %s pixels; %s takes", name, size_name(f), label(variant))
  if limits.min_side and short < limits.min_side then
    return problem(400, "invalid_image", string.format("%s images whose every side is at least %d pixels",
      what, limits.min_side), name)
  end
  if limits.max_side and long > limits.max_side then
    return problem(400, "invalid_image", string.format("%s images whose every side is at most %d pixels",
      what, limits.max_side), name)
  end
  if limits.min_pixels and pixels < limits.min_pixels then
    return problem(400, "invalid_image", string.format("%s images of at least %s pixels (width x height)",
      what, thousands(limits.min_pixels)), name)
  end
  if limits.max_pixels and pixels > limits.max_pixels then
    return problem(400, "invalid_image", string.format("%s images of at most %s pixels (width x height); this "
      .. "one has %s", what, thousands(limits.max_pixels), thousands(pixels)), name)
  end
  if limits.max_aspect and long > limits.max_aspect * short then
    return problem(400, "invalid_image", string.format("%s aspect ratios between 1:%s and %s:1",
      what, ratio_text(limits.max_aspect), ratio_text(limits.max_aspect)), name)
  end
  local bytes = math.tointeger(f.bytes)
  if limits.max_bytes and bytes and bytes > limits.max_bytes then
    return problem(400, "invalid_image", string.format("%s is %s bytes; %s takes images of at most %s bytes",
      name, thousands(bytes), label(variant), thousands(limits.max_bytes)), name)
  end
  return nil
end

-- The client's values for a variant's parameters, checked, defaults filled in where they are
-- always sent; or nil and a problem. max_images caps numberOfImages (limits.max_images_per_request).
local function check_params(variant, values, settings)
  local out = {}
  local max_bytes = settings.prompt.max_input_bytes
  local cap = settings.limits.max_images_per_request
  for _, spec in ipairs(variant.params) do
    local name, raw = spec.name, values[spec.name]
    if raw == nil then
      if spec.required then
        local code = spec.kind == "text" and "invalid_prompt" or "invalid_parameter"
        return nil, problem(400, code, string.format("%s is required by %s: %s", name, label(variant),
          spec.kind == "text" and string.format("%d to %d characters", spec.min, spec.max) or "see GET /models"), name)
      end
      if spec.send == "always" or name == "numberOfImages" then out[name] = spec.default end
    else
      local v, why
      if spec.kind == "text" then
        v, why = validate.parse_text(name, raw, "json", spec, max_bytes)
        if not v then return nil, problem(400, "invalid_prompt", why, name) end
      elseif spec.kind == "enum" then
        v, why = validate.parse_enum(name, raw, "json", spec.values)
      elseif spec.kind == "number" then
        v, why = validate.parse_number(name, raw, "json", spec.min, spec.max)
      else
        local hi = spec.max
        local capped = name == "numberOfImages" and cap and cap < hi
        if capped then hi = cap end
        v, why = validate.parse_integer(name, raw, "json", spec.min, hi)
        if not v and capped then
          why = string.format("%s; this service makes at most %d images per request (the model could make %d)",
            why, cap, spec.max)
        end
        if v and spec.kind == "seed" and v == spec.random then v = nil end -- drawn by the plan
      end
      if why then return nil, problem(400, "invalid_parameter", why, name) end
      out[name] = v
    end
  end
  return out
end

-- The images a variant takes, as given: for each input, its facts (or a list of them), and the
-- uploads still to be fetched. Returns facts_by_name, fetch list (possibly empty), or nil and a
-- problem.
local function read_inputs(variant, values, opts)
  local settings = opts.settings
  local prefix = settings.uploads.prefix
  local facts, fetch = {}, {}
  local owner
  for _, spec in ipairs(variant.inputs) do
    local raw = values[spec.name]
    local name = spec.name
    if raw == nil then
      if spec.required then
        return nil, nil, problem(400, "invalid_image", name .. " is required by " .. label(variant) .. ": "
          .. how_to_send(name), name)
      end
    else
      -- An input of one image takes no list, not even of one (its body member holds one image);
      -- an input of several is always a list, one image given alone included.
      local items, listed = { raw }, false
      if kind_of(raw) == "list" then
        local most = spec.max_count or 1
        if #raw == 0 or #raw > most or not spec.max_count then
          return nil, nil, problem(400, "invalid_image", most == 1
            and string.format("%s takes one image; got a list of %d", name, #raw)
            or string.format("%s takes 1 to %d images; got %d", name, most, #raw), name)
        end
        items, listed = raw, true
      end
      local got = {}
      for i, item in ipairs(items) do
        local at = listed and string.format("%s[%d]", name, i) or name
        local kind = kind_of(item)
        if kind == "facts" then
          got[i] = item
        elseif kind == "upload" then
          local key = item.upload
          if type(key) ~= "string" then
            return nil, nil, problem(400, "invalid_image", at .. ".upload must be the key POST /uploads answered; got "
              .. text.show(key), name)
          end
          owner = owner or M.owner(opts.identity)
          if not owned(key, prefix, owner) then
            -- Another caller's upload, or none: the same answer, so keys cannot be probed.
            return nil, nil, problem(404, "not_found", string.format("%s: no upload %s for this caller; keys come "
              .. "from POST /uploads (made with the same API key or from the same address) and expire after a day",
              at, text.show(key)), name)
          end
          local cap = settings.uploads.max_bytes
          if spec.limits.max_bytes and spec.limits.max_bytes < cap then cap = spec.limits.max_bytes end
          fetch[#fetch + 1] = { field = name, key = key, max_bytes = cap, index = listed and i or nil }
        elseif kind == "unread" then
          return nil, nil, problem(500, "policy_error", "the runtime did not read " .. at .. " as an image (its "
            .. "policy lists it in image_fields); see the function's log", name)
        else
          return nil, nil, problem(400, "invalid_image", how_to_send(at) .. "; got " .. text.show(item), name)
        end
      end
      facts[name] = spec.max_count and got or got[1]
    end
  end
  return facts, fetch
end

-- The image problems of the facts: each against its limits, masks by transparency, same sizes,
-- the inline total and the size of the model request.
local function check_facts(variant, facts, opts)
  local inline, request = 0, BODY_OVERHEAD
  for _, spec in ipairs(variant.inputs) do
    local given = facts[spec.name]
    if given ~= nil then
      local list = text.is_array(given) and given or { given }
      for i, f in ipairs(list) do
        local name = #list > 1 and string.format("%s[%d]", spec.name, i) or spec.name
        local by_alpha = spec.alpha or (spec.stability_mask and opts.alpha_masks)
        local p = facts_problem(name, f, by_alpha and { formats = { "png" } } or spec.limits, variant)
        if p then return p end
        -- The size first: a mask of another size (a header claiming 65535x65535 pixels on a few
        -- bytes, say) is answered as such, not by what its alpha channel could not tell.
        local other = spec.same_size_as and facts[spec.same_size_as]
        if other and not text.is_array(other) and other.width and (other.width ~= f.width or other.height ~= f.height) then
          return problem(400, "invalid_image", string.format("%s is %s pixels but %s is %s; the %s must have the %s's "
            .. "size", name, size_name(f), spec.same_size_as, size_name(other), spec.name, spec.same_size_as), name)
        end
        if by_alpha and not f.alpha then
          return problem(400, "invalid_image", name .. " must be a PNG with an alpha channel: its transparent pixels "
            .. "mark where to edit; this one has no transparency", name)
        end
        if by_alpha and not f.mask_ref then
          return problem(400, "invalid_image", string.format("%s%s has too many pixels for the runtime to read its "
            .. "transparency as a mask", name, f.width and f.height and " (" .. size_name(f) .. ")" or ""), name)
        end
        if by_alpha and f.transparent_pixels == 0 then
          return problem(400, "invalid_image", name .. " has an alpha channel but no transparent pixel, so it marks "
            .. "nothing to edit: make the area to edit transparent", name)
        end
        local bytes = math.tointeger(f.bytes) or 0
        if f.source == "inline" or f.source == "multipart" then inline = inline + bytes end
        request = request + 4 * ((bytes + 2) // 3)
      end
    end
  end
  if inline > M.INLINE_MAX_BYTES then
    return problem(413, "payload_too_large", string.format("the images sent in this request take %s bytes, more than "
      .. "the %s bytes a request can carry inline; upload each with POST /uploads and name it by {\"upload\": key}",
      thousands(inline), thousands(M.INLINE_MAX_BYTES)))
  end
  if request > M.BEDROCK_MAX_BODY then
    return problem(413, "payload_too_large", string.format("the images make a model request of about %s bytes as "
      .. "base64; Bedrock takes at most %s: send smaller images", thousands(request), thousands(M.BEDROCK_MAX_BODY)))
  end
  return nil
end

-- Checks the values of an edit on `variant` (values: the client's parameters and, for each
-- input, its facts, list of facts or {"upload": key}). opts: settings, identity (whose uploads),
-- fetched (ctx.fetched: the uploads were fetched already), alpha_masks (a Stability mask is
-- given by its transparency, as OpenAI's masks are). Returns one of
--   { fetch = { {field, key, max_bytes, index?} }, variant, p }   the uploads to read first
--                  (and the checked values, for the deny-list)
--   { edit = e }   e = { variant, task, p (checked values), inputs (facts by input name; for
--                  the body), n (images), width, height (expected output, or nil), pixels }
-- or nil and a problem { status, code, message, param }.
function M.check(variant, values, opts)
  local facts, fetch, bad = read_inputs(variant, values, opts)
  if not facts then return nil, bad end
  local p
  p, bad = check_params(variant, values, opts.settings)
  if not p then return nil, bad end
  if variant.check_params then
    local why = variant.check_params(p)
    if why then return nil, problem(400, "invalid_parameter", why) end
  end
  if #fetch > 0 then
    if opts.fetched then
      return nil, problem(500, "policy_error", "an upload was still unread after the runtime fetched the uploads; "
        .. "see the function's log")
    end
    return { fetch = fetch, variant = variant, p = p }
  end
  bad = check_facts(variant, facts, opts)
  if bad then return nil, bad end
  if variant.check then
    local why, code = variant.check(p, facts)
    if why then return nil, problem(400, code or "invalid_image", why) end
  end

  local inputs = {}
  for name, f in pairs(facts) do inputs[name] = f end
  if opts.alpha_masks then
    -- OpenAI's mask: transparent where to edit; Stability's: white there. The runtime makes that
    -- mask from the PNG's alpha channel (mask_ref), which goes where the mask goes.
    for _, spec in ipairs(variant.inputs) do
      local f = inputs[spec.name]
      if spec.stability_mask and f then inputs[spec.name] = setmetatable({ ref = f.mask_ref }, { __index = f }) end
    end
  end
  local image = facts.image
  if text.is_array(image) then image = image[1] end
  local e = { variant = variant, task = variant.task, p = p, inputs = inputs, n = p.numberOfImages or 1 }
  if image and variant.output.size then e.width, e.height = variant.output.size(p, image) end
  if image and variant.output.pixels then e.pixels = variant.output.pixels(p, image) end
  return { edit = e }
end

-- The names a request to `variant` may carry, for unknown-name checks and messages.
local function known_names(variant)
  local list, set = { "task", "model" }, { task = true, model = true }
  for _, spec in ipairs(variant.inputs) do
    list[#list + 1] = spec.name
    set[spec.name] = true
  end
  for _, spec in ipairs(variant.params) do
    list[#list + 1] = spec.name
    set[spec.name] = true
  end
  return list, set
end
M.known_names = known_names

local MAX_NAMED = 3

local function unknown_problem(body, variant, entry)
  local list, set = known_names(variant)
  local names, count, complete = validate.first_keys(body, function(k) return not set[k] end, MAX_NAMED)
  if count == 0 then return nil end
  local shown = {}
  for i, name in ipairs(names) do
    local hint = hints.for_edit_name(name, list)
    if not hint then
      -- a parameter another model of the task takes
      for _, other in ipairs(entry.variants) do
        if other ~= variant and not hint and (tasks.param(other, name) or tasks.input(other, name)) then
          hint = "taken by " .. other.id .. ", not by " .. variant.id
        end
      end
    end
    shown[i] = text.show(name) .. (hint and " (" .. hint .. ")" or "")
  end
  local more = ""
  if not complete then
    more = string.format(" and at least %d more", count - #names)
  elseif count > #names then
    more = string.format(" and %d more", count - #names)
  end
  return problem(400, "unknown_parameter", string.format("unknown parameter%s %s%s; %s takes %s",
    count > 1 and "s" or "", table.concat(shown, ", "), more, label(variant), table.concat(list, ", ")))
end

-- The served task a request names, or nil and a problem (missing, unknown, or not served here).
function M.pick_task(raw, served)
  local offered = {}
  for i, entry in ipairs(served.list) do offered[i] = entry.task.name end
  local list = #offered > 0 and table.concat(offered, ", ") or "none (no task is allowed)"
  if raw == nil then
    return nil, problem(400, "invalid_parameter", "task is required: the edit to make, one of " .. list, "task")
  end
  if type(raw) ~= "string" then
    return nil, problem(400, "unknown_task", "task must be a string naming the edit, one of " .. list .. "; got "
      .. text.show(raw), "task")
  end
  local entry = served.by_name[raw]
  if entry and #entry.variants > 0 then return entry end
  if tasks.get(raw) then
    return nil, problem(400, "unknown_task", string.format("task %s is not offered by this deployment%s; it offers %s",
      text.show(raw), entry and " (none of its models is allowed)" or "", list), "task")
  end
  local hint = hints.for_task(raw)
  return nil, problem(400, "unknown_task", string.format("unknown task %s%s; this service offers %s", text.show(raw),
    hint and " (" .. hint .. ")" or "", list), "task")
end

-- The variant of a served task the request's model names (the first served one when none), or
-- nil and a problem.
function M.pick_variant(entry, raw)
  local v = (raw == nil or type(raw) == "string") and tasks.variant(entry, raw) or nil
  if v then return v end
  local ids = {}
  for i, other in ipairs(entry.variants) do ids[i] = other.id end
  return nil, problem(400, "unknown_model", string.format("model %s does not serve %s here; %s is served by %s",
    text.show(raw), entry.task.name, entry.task.name, table.concat(ids, ", ")), "model")
end

-- POST /edit-image: the JSON body read and checked. Returns what M.check returns (fetch or
-- edit), or nil and a problem.
function M.read(req, served, opts)
  local route = req.path == "/jobs" and "/jobs" or "/edit-image"
  local q = validate.first_keys(req.query or {}, function() return true end, 1)
  if #q > 0 then
    return nil, problem(400, "invalid_parameter", string.format("POST %s takes its parameters from the JSON "
      .. "body, not the query string; move %s into the body", route, text.show(tostring(q[1]))))
  end
  local body, bad = validate.json_object(req, route,
    "{\"task\":\"upscale-fast\",\"image\":\"<base64>\"}")
  if not body then return nil, bad end
  local values = {}
  local count = 0
  for k, v in pairs(body) do
    count = count + 1
    if count > validate.MAX_SCANNED then break end
    if v ~= cjson.null then values[k] = v end -- a JSON null means "not given"
  end
  local entry
  entry, bad = M.pick_task(values.task, served)
  if not entry then return nil, bad end
  local variant
  variant, bad = M.pick_variant(entry, values.model)
  if not variant then return nil, bad end
  bad = unknown_problem(body, variant, entry)
  if bad then return nil, bad end
  return M.check(variant, values, opts)
end

return M
