-- requests.lua - builds `req` and `ctx` tables the way the C runtime does from an API Gateway
-- REST proxy event, and `result` tables the way it reports a generation.
-- Part of the policy test harness (harness.lua is the entry point operators use).
--
-- JSON bodies are decoded with dkjson so that integers stay integers and 512.0 stays a float
-- (as the runtime's jansson conversion does), null becomes cjson.null, arrays carry the
-- runtime's imagegen.array marker and objects no metatable. A body that is not UTF-8 or not
-- JSON gives body_error with the runtime's sentences.

local cjson = require("cjson")
local dkjson = require("dkjson")
local shim = require("shim")

local M = {}

M.REQUEST_ID = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"
M.GATEWAY_REQUEST_ID = "gw-1f1b5c1d"

local function mark(v)
  if type(v) ~= "table" then return v end
  local is_array = getmetatable(v) and getmetatable(v).__jsontype == "array"
  setmetatable(v, is_array and shim.ARRAY_MT or nil)
  for k, x in pairs(v) do v[k] = mark(x) end
  return v
end

-- Decodes JSON text like the runtime: the value, or nil and a sentence.
function M.decode(text)
  local value, pos, err = dkjson.decode(text, 1, cjson.null)
  if err then
    return nil, string.format("the request body is not valid JSON (position %d: %s)", pos or 0, err)
  end
  return mark(value)
end

-- What API Gateway (REST, no binary media types) hands the function for text that is not
-- UTF-8, in a query string or a body: each byte that does not start a valid sequence replaced
-- by U+FFFD, as the local gateway (runtime/local/gateway_event.c) does.
function M.as_gateway_text(s)
  local out, i = {}, 1
  while i <= #s do
    local len = 0
    for n = 1, 4 do
      local piece = s:sub(i, i + n - 1)
      if #piece == n and utf8.len(piece) == 1 and not piece:find("%z") then
        len = n
        break
      end
    end
    if len == 0 then
      out[#out + 1] = "\u{FFFD}"
      i = i + 1
    else
      out[#out + 1] = s:sub(i, i + len - 1)
      i = i + len
    end
  end
  return table.concat(out)
end

local function base(method, path, opts)
  opts = opts or {}
  local headers = {}
  for k, v in pairs(opts.headers or {}) do headers[k:lower()] = v end
  return {
    method = method,
    path = path,
    resource = path,
    query = {},
    multi_query = {},
    headers = headers,
    identity = opts.identity or { source_ip = "203.0.113.9", user_agent = "curl/8.0" },
    request_id = M.GATEWAY_REQUEST_ID,
    stage = "prod",
  }
end

-- GET with a query: values are strings, or lists of strings for a repeated key.
function M.get(path, query, opts)
  local req = base("GET", path, opts)
  for k, v in pairs(query or {}) do
    if type(v) == "table" then
      req.query[k] = v[#v] -- API Gateway keeps the last value in queryStringParameters
      req.multi_query[k] = setmetatable(v, shim.ARRAY_MT)
    else
      req.query[k] = v
      req.multi_query[k] = setmetatable({ v }, shim.ARRAY_MT)
    end
  end
  return req
end

-- POST with a body: a table (JSON-encoded) or the raw text. opts.content_type defaults to
-- application/json; opts.content_type = false sends no Content-Type.
function M.post(path, body, opts)
  opts = opts or {}
  local req = base("POST", path, opts)
  if opts.content_type ~= false then
    req.headers["content-type"] = opts.content_type or "application/json"
  end
  local raw = body
  if type(body) == "table" then raw = cjson.encode(body) end
  if raw ~= nil and not utf8.len(raw) then
    req.body_error = "the request body is not valid UTF-8" -- and no raw_body
  else
    req.raw_body = raw
    if raw ~= nil and raw ~= "" then
      local value, err = M.decode(raw)
      if err then req.body_error = err else req.body = value end
    end
  end
  for k, v in pairs(opts.query or {}) do
    req.query[k] = v
    req.multi_query[k] = setmetatable({ v }, shim.ARRAY_MT)
  end
  return req
end

function M.request(method, path, opts)
  return base(method, path, opts)
end

-- opts.fetched: the second admit() of a request whose uploads the runtime has fetched;
-- opts.jobs: the runtime keeps jobs (it has IMAGEGEN_TABLE); opts.images: it keeps image records
-- (the same table).
function M.ctx(opts)
  return {
    request_id = M.REQUEST_ID,
    deadline_ms = 1795000900000,
    remaining_ms = 899000,
    function_arn = "arn:aws:lambda:us-east-1:123456789012:function:imagegen",
    now = 1795000000.25,
    fetched = opts and opts.fetched or nil,
    jobs = opts and opts.jobs or nil,
    images = opts and opts.images or nil,
  }
end

-- Input images ------------------------------------------------------------------------------

-- The tokens of this invocation, as the runtime makes them: "igin:<nonce>:<n>:<kind>".
M.TOKEN_NONCE = "5f0c2a9e81d34b7aa6c4e2f1d9b07c33"
local token_count = 0

-- The facts table the runtime leaves in req.body for an input image (README: input images).
-- opts: field ("image"), index (1), source ("inline"; "multipart", "upload"), format ("png"),
-- width, height (1024), alpha (false), bytes (width x height), content_type, filename, key;
-- error and message for one the runtime could not use (no tokens then). A PNG with alpha also
-- carries mask_ref and mask_ref_inverted, and transparent_pixels (opts.transparent_pixels, else
-- a quarter of its pixels).
function M.image(opts)
  opts = opts or {}
  local f = {
    field = opts.field or "image",
    index = opts.index or 1,
    source = opts.source or "inline",
    content_type = opts.content_type,
    filename = opts.filename,
    key = opts.key,
  }
  if opts.error then
    f.error, f.message = opts.error, opts.message or "the image cannot be used"
    f.format, f.width, f.height, f.bytes = opts.format, opts.width, opts.height, opts.bytes
    return f
  end
  f.format = opts.format == nil and "png" or opts.format or nil
  f.width = opts.width or 1024
  f.height = opts.height or 1024
  f.bytes = opts.bytes or f.width * f.height
  f.alpha = opts.alpha or false
  local n = token_count
  token_count = token_count + 1
  f.ref = string.format("igin:%s:%d:0", M.TOKEN_NONCE, n)
  if f.format == "png" and f.alpha then
    f.transparent_pixels = opts.transparent_pixels or (f.width * f.height) // 4
    f.mask_ref = string.format("igin:%s:%d:1", M.TOKEN_NONCE, n)
    f.mask_ref_inverted = string.format("igin:%s:%d:2", M.TOKEN_NONCE, n)
  end
  return f
end

-- The facts of an upload the runtime fetched for `field` (opts as for M.image).
function M.uploaded(key, opts)
  opts = opts or {}
  opts.source, opts.key = "upload", key
  opts.content_type = opts.content_type or "image/" .. (opts.format or "png")
  return M.image(opts)
end

-- A multipart/form-data request (OpenAI's images.edit) as the runtime hands it over: text
-- fields as strings, files as facts tables (M.image with source "multipart"), lists for names
-- given twice or ending in [].
function M.multipart(path, fields, opts)
  local req = base("POST", path, opts)
  req.headers["content-type"] = "multipart/form-data; boundary=----imagegen-test"
  req.body_format = "multipart"
  local body = {}
  for k, v in pairs(fields or {}) do
    if type(v) == "table" and v[1] ~= nil then setmetatable(v, shim.ARRAY_MT) end
    body[k] = v
  end
  req.body = body
  return req
end

-- The result respond() receives after the runtime signed a presign_post: the form to upload.
function M.presigned(answer)
  local p = answer.presign_post
  return {
    ok = true,
    status = 200,
    request_id = M.REQUEST_ID,
    upload = {
      url = "https://bucket.s3.us-west-2.amazonaws.com/",
      fields = {
        key = p.key,
        ["Content-Type"] = p.content_type,
        ["x-amz-algorithm"] = "AWS4-HMAC-SHA256",
        ["x-amz-credential"] = "AKIDEXAMPLE/20261129/us-west-2/s3/aws4_request",
        ["x-amz-date"] = "20261129T150000Z",
        policy = "eyJleHBpcmF0aW9uIjoi...",
        ["x-amz-signature"] = "abc123",
      },
      key = p.key,
      expires_at = "2026-11-29T15:15:00Z",
    },
    context = p.context, -- handed back as the runtime does
  }
end

-- The result the runtime hands respond() after storing the plan's images, as the C runtime
-- reports it under the issue-11 contract: attempt `opts.attempt` (default 1) served; every
-- call of it gave its images, except those listed in opts.missing = { {call, index, reason} };
-- opts.fallback_from is passed through. Sizes are the ones the plan expects; opts.format
-- overrides the format the runtime "measured".
function M.success(plan, opts)
  opts = opts or {}
  local g = plan.generate
  local n = opts.attempt or 1
  local attempt = g.attempts and g.attempts[n] or {
    model = g.model, calls = { { body = g.body } }, context = g.context,
  }
  local context = attempt.context or g.context
  local skip = {}
  for _, m in ipairs(opts.missing or {}) do skip[m.call .. ":" .. m.index] = true end
  local per_call = #attempt.calls == 1 and g.expected_images or 1
  local images, k = {}, 0
  for call = 1, #attempt.calls do
    local body = attempt.calls[call].body
    local cfg = body.imageGenerationConfig or {}
    for index = 1, per_call do
      if not skip[call .. ":" .. index] then
        k = k + 1
        local format = opts.format or context.format or "png"
        local key = g.key_prefix .. string.format("00000000-0000-4000-8000-%012d.%s", k, format)
        images[#images + 1] = {
          url = "https://bucket.s3.amazonaws.com/" .. key .. "?X-Amz-Signature=abc",
          key = key,
          width = cfg.width or context.width,
          height = cfg.height or context.height,
          bytes = 123456,
          content_type = "image/" .. format,
          format = format,
          call = call,
          index = index,
        }
      end
    end
  end
  local missing
  if opts.missing then
    missing = {}
    for i, m in ipairs(opts.missing) do missing[i] = { call = m.call, index = m.index, reason = m.reason } end
  end
  return {
    ok = true,
    model = attempt.model,
    request_id = M.REQUEST_ID,
    cached = opts.cached or false,
    attempt = n,
    fallback_from = opts.fallback_from,
    images = images,
    missing = missing,
    expires_at = "2026-11-29T15:20:55Z",
    expires_at_epoch = 1795000000 + g.url_ttl,
    timings = { model_ms = 1234, upload_ms = 56 },
    context = context,
  }
end

-- A failed result as the runtime reports it.
function M.failure(plan, code, status, message, retry_after)
  return {
    ok = false,
    status = status,
    code = code,
    message = message,
    retry_after = retry_after,
    request_id = M.REQUEST_ID,
    model = plan and plan.generate.model,
    context = plan and plan.generate.context,
  }
end

return M
