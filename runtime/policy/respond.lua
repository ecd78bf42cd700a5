-- respond.lua - the shapes of every answer the API gives.
--
-- One place builds JSON answers, so every answer (success, refusal, or a failure the C
-- runtime reports after generation) has the same shape, Content-Type and caching rule:
--   success  {"images":[{"url","key","width","height","format","contentType","seed",
--                        ["batchIndex","batchSize"]}],
--             "model","requestId","expiresAt", ["task"] (an edit),
--             ["fallbackFrom":[{"model","code"}]], ["filtered":n, "missing":[{"seed","reason"}]]}
--   error    {"error":{"code","message","requestId"}}
--   upload   {"upload":{"url","fields","key","expiresAt"},"maxBytes"} (POST /uploads)
-- The C runtime's failure codes are mapped here to statuses and client-safe sentences.

local text = require("text")

local M = {}

-- Failure codes the C runtime reports after generation: default status and sentence.
-- `refund` marks failures on the service side (the client's tokens are given back).
M.FAILURES = {
  invalid_request = { status = 400, message = "the model refused the request's parameters" },
  content_filtered = { status = 400,
    message = "the prompt or the generated image was blocked by the model's content filter; change the prompt" },
  model_retired = { status = 502, refund = true,
    message = "the model has reached its end of life at Bedrock and no longer answers" },
  model_unavailable = { status = 502, refund = true, message = "the model is not available at the moment" },
  upstream_error = { status = 502, refund = true, message = "the model failed to produce an image; try again" },
  throttled = { status = 503, message = "the model is busy; try again later" },
  timeout = { status = 504, refund = true, message = "the model did not answer in time; try again" },
  storage_error = { status = 502, refund = true, message = "the image could not be stored; try again" },
  -- inline images (OpenAI's b64_json) larger than one answer can carry, though the policy's
  -- worst case said they would fit
  response_too_large = { status = 400, refund = true,
    message = "the images are too large to return inline; use response_format url or a smaller n" },
  -- the request itself could not be handed to the policy (too large, or nested too deeply)
  payload_too_large = { status = 413, message = "the request is too large" },
  -- a body the runtime could not read (a multipart form without its boundary, malformed)
  invalid_body = { status = 400, message = "the request body could not be read" },
  -- the runtime failed on its own side before any model call (memory, randomness)
  internal_error = { status = 500, refund = true, message = "the request could not be processed; try again" },
  -- jobs (jobs.lua): the job store or Lambda's queue could not be reached, an unknown job (or
  -- another owner's), an Idempotency-Key of another job
  jobs_unavailable = { status = 503, refund = true, message = "jobs are not available at the moment; try again" },
  not_found = { status = 404, message = "no job has this id" },
  idempotency_conflict = { status = 409, message = "this Idempotency-Key names another job" },
  idempotency_key_reused = { status = 422,
    message = "this Idempotency-Key was first sent with another request; send the same body, or a new key" },
  -- an edit job whose input image was removed from the bucket before its worker read it
  input_missing = { status = 410, message = "an input image of this job is no longer stored; send the edit again" },
  -- image records (images.lua): the table could not be reached, a listing's `next` that is not
  -- one of this caller's cursors (altered, another caller's)
  images_unavailable = { status = 503, message = "image records are not available at the moment; try again" },
  invalid_cursor = { status = 400, message = "next is not a cursor this API gave you; start again without it" },
  -- the runtime found the plan unusable (a policy bug): the operator must act
  policy_error = { status = 500, refund = true, message = "the request policy failed; see the function's log" },
  -- the shared rate limit (rate_limit.backend "dynamodb"), counted by the runtime
  rate_limited = { status = 429, message = "rate limit reached; try again later" },
  rate_limit_unavailable = { status = 503,
    message = "the rate limit cannot be checked at the moment, and this deployment does not serve unchecked; try again" },
}

local MAX_MESSAGE_BYTES = 500

-- Copies every pair of each table in `...` into `into`; later tables win.
function M.merge(into, ...)
  for i = 1, select("#", ...) do
    local t = select(i, ...)
    if t then
      for k, v in pairs(t) do into[k] = v end
    end
  end
  return into
end

-- A JSON answer. `headers` are added to the defaults.
function M.json(status, body, ...)
  local headers = M.merge({ ["Content-Type"] = "application/json", ["Cache-Control"] = "no-store" }, ...)
  return { status = status, headers = headers, body = body }
end

-- An error answer.
function M.error(status, code, message, request_id, ...)
  return M.json(status, { error = { code = code, message = message, requestId = request_id } }, ...)
end

-- A message from the runtime, cut to a sane length on a character boundary.
local function safe_message(m, fallback)
  if type(m) ~= "string" or not m:find("%S") then return fallback end
  local out, was_cut = text.clean_for_output(m, MAX_MESSAGE_BYTES)
  return was_cut and out .. "..." or out
end

-- Retry-After in whole seconds (at least 1) from the runtime's retry_after, or nil.
function M.retry_after(v)
  if type(v) ~= "number" or v ~= v then return nil end
  return string.format("%d", math.max(1, math.min(86400, math.ceil(v))))
end

-- Failures that mean "this model cannot serve, pick another": their message names the
-- active models the deployment allows.
local NAMES_ACTIVE_MODELS = { model_retired = true, model_unavailable = true }

-- The runtime's fallback_from list, as the client sees it: { model, code } per entry.
local function fallback_list(fallback_from)
  if type(fallback_from) ~= "table" then return {} end
  local out = {}
  for _, f in ipairs(fallback_from) do
    if type(f) == "table" and type(f.model) == "string" and type(f.code) == "string" then
      out[#out + 1] = { model = (text.clean_for_output(f.model, 200)), code = (text.clean_for_output(f.code, 64)) }
    end
  end
  return out
end

-- Classifies a failed result: code, status, message and whether to refund. `active` lists the
-- active models the deployment allows, named (less the model that failed) for model_retired
-- and model_unavailable; false names none (an edit: text-to-image models cannot serve it).
function M.failure(result, active)
  local code = result.code
  local known = M.FAILURES[code]
  if not known then
    code = "upstream_error"
    known = M.FAILURES.upstream_error
  end
  local status = math.tointeger(result.status)
  if not status or status < 400 or status > 599 then status = known.status end
  local message = safe_message(result.message, known.message)
  local tried = fallback_list(result.fallback_from)
  if #tried > 0 or (NAMES_ACTIVE_MODELS[code] and active ~= false) then
    message = message:gsub("[%.%s]+$", "") -- "...its end of life." + "; ..." reads as one sentence
  end
  if #tried > 0 then
    local parts = {}
    for i, f in ipairs(tried) do parts[i] = f.model .. " (" .. f.code .. ")" end
    message = message .. "; tried before it: " .. table.concat(parts, ", ")
  end
  if NAMES_ACTIVE_MODELS[code] and active ~= false then
    local others = {}
    for _, id in ipairs(active or {}) do
      if id ~= result.model then others[#others + 1] = id end
    end
    if #others > 0 then
      message = message .. "; active models this deployment allows: " .. table.concat(others, ", ")
    else
      message = message .. "; this deployment allows no other active model, so the operator must allow one"
    end
  end
  return {
    code = code,
    status = status,
    message = message,
    refund = known.refund == true,
    retry_after = M.retry_after(result.retry_after),
  }
end

local CONTENT_TYPES = { png = "image/png", jpeg = "image/jpeg", webp = "image/webp" }
local FORMATS = { ["image/png"] = "png", ["image/jpeg"] = "jpeg", ["image/webp"] = "webp" }

-- True when a reason for a missing image is a content filter (Stability's "Filter reason: ...",
-- or Titan/Nova's sentence about content filters) rather than an error.
function M.is_filter_reason(reason)
  if type(reason) ~= "string" then return false end
  return reason:match("^Filter reason") ~= nil or reason:lower():find("content filter", 1, true) ~= nil
end

-- The seed of the images of call `call` (1-based) of the attempt that served.
local function seed_of(context, call)
  local seeds = context.seeds
  if type(seeds) == "table" then
    local s = seeds[math.tointeger(call) or 1]
    if s ~= nil then return s end
  end
  return context.seed
end

-- How many images one call of the served attempt made: its context's batch, or for plans
-- without it, numberOfImages when every image came from one seed.
local function batch_size(context)
  local b = math.tointeger(context.batch)
  if b then return b end
  local seeds = type(context.seeds) == "table" and #context.seeds or 1
  local n = math.tointeger(context.numberOfImages) or 1
  return seeds <= 1 and n or 1
end

-- The success body for a result: one entry per stored image, and what is missing. An image
-- from a batch (Titan, Nova: n images from one call and one seed) also carries batchIndex and
-- batchSize, since the seed alone does not make it again: the same request with numberOfImages
-- = batchSize does, and the image is the batchIndex-th of its answer.
function M.success_body(result, context)
  local images = {}
  -- Images served from the cache do not say which call made them; with one image per call
  -- (as many seeds as images) the i-th image is the i-th call's.
  local by_position = result.cached == true and type(context.seeds) == "table"
    and #context.seeds == #result.images and #context.seeds > 1
  local batch = batch_size(context)
  for i, img in ipairs(result.images) do
    local ct = type(img.content_type) == "string" and img.content_type:lower() or nil
    local format = (type(img.format) == "string" and CONTENT_TYPES[img.format] and img.format)
      or FORMATS[ct] or context.format or "png"
    images[i] = {
      url = img.url,
      key = img.key,
      id = type(img.id) == "string" and img.id or nil,
      width = math.tointeger(img.width) or context.width,
      height = math.tointeger(img.height) or context.height,
      format = format,
      contentType = CONTENT_TYPES[format],
      seed = seed_of(context, by_position and i or img.call),
    }
    if batch > 1 then
      local index = math.tointeger(img.index)
      images[i].batchIndex = (index and index >= 1 and index <= batch) and index or i
      images[i].batchSize = batch
    end
  end
  local body = {
    images = images,
    model = result.model or context.model,
    requestId = result.request_id,
    expiresAt = result.expires_at,
  }
  if type(context.task) == "string" then body.task = context.task end
  if result.cached == true then body.cached = true end
  local tried = fallback_list(result.fallback_from)
  if #tried > 0 then body.fallbackFrom = tried end
  if type(result.missing) == "table" and #result.missing > 0 then
    local missing, filtered = {}, 0
    for i, m in ipairs(result.missing) do
      m = type(m) == "table" and m or {}
      local reason = type(m.reason) == "string" and m.reason:find("%S")
        and (text.clean_for_output(m.reason, 200)) or "the model returned no image"
      if M.is_filter_reason(reason) then filtered = filtered + 1 end
      missing[i] = { seed = seed_of(context, m.call), reason = reason }
    end
    body.missing = missing
    body.filtered = filtered
  end
  return body
end

-- The answer to POST /uploads once the runtime has signed the form: result.upload = { url,
-- fields, key, expires_at }. The client POSTs the fields and then the file (named "file", last)
-- to url as multipart/form-data, and names the upload by key in POST /edit-image. nil when the
-- result lacks what the answer needs.
function M.upload_body(result, max_bytes)
  local u = result.upload
  if type(u) ~= "table" or type(u.url) ~= "string" or type(u.key) ~= "string" or type(u.fields) ~= "table" then
    return nil
  end
  local fields = {}
  for k, v in pairs(u.fields) do
    if type(k) == "string" and type(v) == "string" then fields[k] = v end
  end
  -- The runtime gives the policy's expiration as S3 POST policies write it, to the millisecond
  -- ("2026-11-29T15:15:00.000Z"); the answer says it in whole seconds, as every other expiresAt.
  local expires = type(u.expires_at) == "string"
    and (u.expires_at:gsub("^(%d%d%d%d%-%d%d%-%d%dT%d%d:%d%d:%d%d)%.%d+Z$", "%1Z")) or nil
  return {
    upload = { url = u.url, fields = fields, key = u.key, expiresAt = expires },
    maxBytes = max_bytes,
  }
end

return M
