-- A policy for pipeline tests: the POST body names the model and the exact InvokeModel body, and
-- respond() echoes the runtime's result, so a test sees what the C pipeline decided. A body
-- with `attempts` (models, parallel calls, fallbacks) passes them through as they are.
local M = {}

function M.admit(req, ctx)
  if req.path == "/health" then
    return { status = 200, headers = { ["Content-Type"] = "application/json" }, body = { status = "ok" } }
  end
  local b = req.body
  if type(b) ~= "table" then
    return { status = 400, body = { error = { code = "invalid_body", message = req.body_error or "send JSON" } } }
  end
  return { generate = {
    model = b.model or "amazon.titan-image-generator-v1",
    body = b.body,
    attempts = b.attempts,
    deliver = b.deliver,
    images = b.images or "images",
    error_field = "error",
    expected_images = b.expected or 1,
    key_prefix = b.key_prefix or "test/",
    url_ttl = b.ttl or 600,
    cache_key = b.cache_key,
    metadata = b.metadata,
    context = { echo = "context" },
  } }
end

function M.respond(result, req)
  local headers = { ["Content-Type"] = "application/json" }
  if result.retry_after then
    headers["Retry-After"] = tostring(result.retry_after)
  end
  return { status = result.ok and 200 or result.status, headers = headers, body = result }
end

return M
