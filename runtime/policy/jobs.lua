-- jobs.lua - jobs: POST /jobs takes a generation's body and answers 202 at once; the client
-- polls GET /jobs/{id}. The runtime keeps the job in DynamoDB and runs it in the function's own
-- asynchronous invocation (the C side: runtime/src/handler/jobs.h); this module decides who owns
-- a job, what an Idempotency-Key may be, how long a job is kept, and the answers' shapes.
--
--   202  {"id", "status": "queued", "statusUrl"}                      POST /jobs
--   200  {"id", "status", "createdAt", "updatedAt", "statusUrl",        GET /jobs/{id}
--         ["result": the /generate-image answer (succeeded)],
--         ["error": {"code", "message"} (failed)]}

local ratelimit = require("ratelimit")
local text = require("text")

local M = {}

-- A job is a handle to poll, kept one day (the shortest life the bucket's lifecycle rule gives
-- its images: Terraform's image_retention_days is at least 1), then removed by the table's
-- time to live.
M.RETENTION_S = 86400

-- Idempotency-Key: 1..255 visible ASCII characters, as the payment APIs that made the header
-- common take it.
M.MAX_IDEMPOTENCY_KEY = 255

-- A job's id as the runtime makes them: 32 lower-case hex digits.
local ID_PATTERN = "^" .. string.rep("[0-9a-f]", 32) .. "$"

-- The owner of a caller's jobs: the SHA-256 of the name the rate limiter gives it ("key:<API
-- key id>", "bearer:<key id>", else "ip:<source IP>"), so the table holds no address.
function M.owner(identity)
  return imagegen.sha256((ratelimit.client(identity)))
end

-- The request's Idempotency-Key: nil when absent, the key, or nil and a problem.
function M.idempotency_key(headers)
  local key = type(headers) == "table" and headers["idempotency-key"] or nil
  if key == nil then return nil end
  if type(key) ~= "string" or #key < 1 or #key > M.MAX_IDEMPOTENCY_KEY or not key:match("^[\33-\126]+$") then
    return nil, { status = 400, code = "invalid_parameter", message = string.format(
      "the Idempotency-Key header must be 1 to %d visible ASCII characters (no spaces); got %s",
      M.MAX_IDEMPOTENCY_KEY, text.show(tostring(key))) }
  end
  return key
end

-- True when `id` can be a job's id (anything else is answered 404 without a lookup).
function M.id_valid(id)
  return type(id) == "string" and id:match(ID_PATTERN) ~= nil
end

-- Where the client polls: an absolute URL when the request names its host. API Gateway's own
-- domain (*.execute-api.*) puts the stage first in the path; a custom domain and the local
-- gateway do not. The scheme is X-Forwarded-Proto's (API Gateway sends https), else http.
function M.status_url(req, id)
  local path = "/jobs/" .. id
  local headers = type(req.headers) == "table" and req.headers or {}
  local host = headers.host
  if type(host) ~= "string" or not host:match("^[%w%.%-:%[%]]+$") then return path end
  if host:find("%.execute%-api%.") and type(req.stage) == "string" and req.stage:match("^[%w_%-]+$") then
    path = "/" .. req.stage .. path
  end
  local proto = headers["x-forwarded-proto"]
  proto = (proto == "https" or proto == "http") and proto or "http"
  return proto .. "://" .. host .. path
end

local function iso(ms)
  if math.type(ms) ~= "integer" then return nil end
  return imagegen.date("%Y-%m-%dT%H:%M:%SZ", ms // 1000)
end

-- POST /jobs's answer body from the runtime's job view.
function M.created_body(job, req)
  return { id = job.id, status = job.status, statusUrl = M.status_url(req, job.id) }
end

-- GET /jobs/{id}'s answer body. `success` and `failure` shape a finished job's result as the
-- synchronous route would (respond.success_body, respond.failure).
function M.status_body(job, req, success, failure)
  local body = { id = job.id, status = job.status, createdAt = iso(job.created_at), updatedAt = iso(job.updated_at),
    statusUrl = M.status_url(req, job.id) }
  local result = type(job.result) == "table" and job.result or nil
  if job.status == "succeeded" and result and result.ok == true then
    body.result = success(result)
  elseif job.status == "failed" then
    local f = failure(result or { code = "upstream_error" })
    body.error = { code = f.code, message = f.message }
  end
  return body
end

return M
