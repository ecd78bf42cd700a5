-- respond.lua - the shapes of every answer the API gives.
--
-- One place builds JSON answers, so every answer (success, refusal, or a failure the C
-- runtime reports after generation) has the same shape, Content-Type and caching rule:
--   success  {"images":[{"url","key","width","height","seed"}],"model","requestId","expiresAt"}
--   error    {"error":{"code","message","requestId"}}
-- The C runtime's failure codes are mapped here to statuses and client-safe sentences.

local text = require("text")

local M = {}

-- Failure codes the C runtime reports after generation: default status and sentence.
-- `refund` marks failures on the service side (the client's tokens are given back).
M.FAILURES = {
  invalid_request = { status = 400, message = "the model refused the request's parameters" },
  content_filtered = { status = 400,
    message = "the prompt or the generated image was blocked by the model's content filter; change the prompt" },
  model_unavailable = { status = 502, refund = true, message = "the model is not available at the moment" },
  upstream_error = { status = 502, refund = true, message = "the model failed to produce an image; try again" },
  throttled = { status = 503, message = "the model is busy; try again later" },
  timeout = { status = 504, refund = true, message = "the model did not answer in time; try again" },
  storage_error = { status = 502, refund = true, message = "the image could not be stored; try again" },
  -- the request itself could not be handed to the policy (too large, or nested too deeply)
  payload_too_large = { status = 413, message = "the request is too large" },
  -- the runtime found the plan unusable (a policy bug): the operator must act
  policy_error = { status = 500, refund = true, message = "the request policy failed; see the function's log" },
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

-- Classifies a failed result: code, status, message and whether to refund.
function M.failure(result)
  local code = result.code
  local known = M.FAILURES[code]
  if not known then
    code = "upstream_error"
    known = M.FAILURES.upstream_error
  end
  local status = math.tointeger(result.status)
  if not status or status < 400 or status > 599 then status = known.status end
  return {
    code = code,
    status = status,
    message = safe_message(result.message, known.message),
    refund = known.refund == true,
    retry_after = M.retry_after(result.retry_after),
  }
end

-- The success body for a result: one entry per stored image.
function M.success_body(result, context)
  local images = {}
  for i, img in ipairs(result.images) do
    images[i] = {
      url = img.url,
      key = img.key,
      width = math.tointeger(img.width) or context.width,
      height = math.tointeger(img.height) or context.height,
      seed = context.seed,
    }
  end
  local body = {
    images = images,
    model = result.model or context.model,
    requestId = result.request_id,
    expiresAt = result.expires_at,
  }
  if result.cached == true then body.cached = true end
  return body
end

return M
