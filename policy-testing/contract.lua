-- contract.lua - checks that what the policy returns is what the C runtime accepts.
-- Part of the policy test harness (harness.lua is the entry point operators use).
--
-- Every admit() and respond() answer in the tests passes through here: an immediate answer
-- needs an integer status, string headers and a JSON-encodable body (sequences or
-- string-keyed tables only, strings in UTF-8, no functions, no NaN); errors need the JSON error shape with the
-- invocation's request id; a plan needs the fields the runtime reads, in their ranges.
-- `harness` wraps a loaded policy so that tests call admit/respond and get checked answers.

local cjson = require("cjson")
local loader = require("loader")
local shim = require("shim")
local R = require("requests")

local M = {}

local function fail(fmt, ...) error(string.format("contract: " .. fmt, ...), 3) end

local function check_json_value(v, path)
  local t = type(v)
  if v == cjson.null or t == "boolean" then return end
  if t == "string" then
    if not utf8.len(v) then fail("%s is not valid UTF-8", path) end
    return
  end
  if t == "number" then
    if v ~= v or v == math.huge or v == -math.huge then fail("%s is not a finite number", path) end
    return
  end
  if t ~= "table" then fail("%s is a %s, which JSON cannot carry", path, t) end
  local mt = getmetatable(v)
  if mt ~= nil and not (type(mt) == "table" and mt.__name == "imagegen.array") then fail("%s has a metatable", path) end
  local n, strings, ints = #v, 0, 0
  for k in pairs(v) do
    if type(k) == "string" then strings = strings + 1
    elseif math.type(k) == "integer" and k >= 1 and k <= n then ints = ints + 1
    else fail("%s has a key %s that is neither a string nor 1..n", path, tostring(k)) end
  end
  if strings > 0 and ints > 0 then fail("%s mixes a list and an object", path) end
  for k, x in pairs(v) do check_json_value(x, path .. "." .. tostring(k)) end
end

-- An error in OpenAI's shape {"error":{"message","type","param","code"}}, the request id in
-- X-Request-Id.
local function check_openai_error(a, request_id)
  local e = type(a.body) == "table" and a.body.error
  if type(e) ~= "table" or type(e.message) ~= "string" or e.message == "" or type(e.type) ~= "string" then
    fail("error body is not OpenAI's {error:{message,type,param,code}}")
  end
  if e.param ~= cjson.null and type(e.param) ~= "string" then fail("error.param must be a string or null") end
  if e.code ~= cjson.null and type(e.code) ~= "string" then fail("error.code must be a string or null") end
  for k in pairs(e) do
    if k ~= "message" and k ~= "type" and k ~= "param" and k ~= "code" then fail("error has an extra member %s", k) end
  end
  if request_id and a.headers["X-Request-Id"] ~= request_id then
    fail("X-Request-Id %s, want %s", tostring(a.headers["X-Request-Id"]), request_id)
  end
end

-- Checks an immediate answer { status, headers, body }. shape: "openai" for the answers of the
-- OpenAI-compatible routes, whose errors take OpenAI's shape; nil for ours.
function M.check_answer(a, request_id, shape)
  if type(a) ~= "table" then fail("answer is a %s", type(a)) end
  if math.type(a.status) ~= "integer" or a.status < 100 or a.status > 599 then
    fail("status %s is not an HTTP status", tostring(a.status))
  end
  if type(a.headers) ~= "table" then fail("headers missing") end
  for k, v in pairs(a.headers) do
    if type(k) ~= "string" or not k:match("^[%w%-]+$") then fail("bad header name %s", tostring(k)) end
    if type(v) ~= "string" or v:find("[%c\128-\255]") then fail("header %s value %s is not a clean string", k, tostring(v)) end
  end
  if type(a.body) ~= "table" and type(a.body) ~= "string" then fail("body is a %s", type(a.body)) end
  check_json_value(a.body, "body")
  if a.give_back ~= nil and a.give_back ~= true then fail("give_back must be true or absent") end
  if a.status >= 400 then
    if a.headers["Content-Type"] ~= "application/json" then fail("error without Content-Type application/json") end
    if shape == "openai" then return check_openai_error(a, request_id) end
    local e = type(a.body) == "table" and a.body.error
    if type(e) ~= "table" or type(e.code) ~= "string" or type(e.message) ~= "string" or e.message == "" then
      fail("error body is not {error:{code,message,requestId}}")
    end
    if request_id and e.requestId ~= request_id then fail("requestId %s, want %s", tostring(e.requestId), request_id) end
    for k in pairs(e) do
      if k ~= "code" and k ~= "message" and k ~= "requestId" then fail("error has an extra member %s", k) end
    end
  end
end

-- Checks a plan { generate = {...} }.
function M.check_plan(p)
  local g = p.generate
  if type(g) ~= "table" then fail("plan has no generate table") end
  if type(g.model) ~= "string" or g.model == "" then fail("generate.model missing") end
  if type(g.body) ~= "table" then fail("generate.body must be a table") end
  check_json_value(g.body, "generate.body")
  if g.images ~= "images" and g.images ~= "artifacts[].base64" then fail("generate.images %s", tostring(g.images)) end
  if g.error_field ~= nil and type(g.error_field) ~= "string" then fail("error_field must be a string") end
  if math.type(g.expected_images) ~= "integer" or g.expected_images < 1 then fail("expected_images") end
  if type(g.key_prefix) ~= "string" or not g.key_prefix:match("^[%w/._%-]*$") then fail("key_prefix %s", tostring(g.key_prefix)) end
  if math.type(g.url_ttl) ~= "integer" or g.url_ttl < 1 or g.url_ttl > 604800 then fail("url_ttl %s", tostring(g.url_ttl)) end
  if g.cache_control ~= nil and type(g.cache_control) ~= "string" then fail("cache_control") end
  for k, v in pairs(g.metadata or {}) do
    if type(k) ~= "string" or not k:match("^[a-z0-9%-]+$") then fail("metadata name %s", tostring(k)) end
    if type(v) ~= "string" then fail("metadata %s is not a string", k) end
  end
  if g.cache_key ~= nil and (type(g.cache_key) ~= "string" or not g.cache_key:match("^[%w%-_.]+$")) then
    fail("cache_key %s", tostring(g.cache_key))
  end
  check_json_value(g.context, "generate.context")
  if g.deliver ~= nil and g.deliver ~= "url" and g.deliver ~= "inline" and g.deliver ~= "both" then
    fail("deliver %s is not url, inline or both", tostring(g.deliver))
  end
  if g.attempts ~= nil then M.check_attempts(g) end
  if g.record ~= nil then M.check_record(g.record) end
end

-- Checks a plan's image record: { owner, retention_s, task?, parameters?, prompt_sha256?, prompt? }.
function M.check_record(r)
  if type(r) ~= "table" or type(r.owner) ~= "string" or r.owner == "" then fail("record.owner must be a non-empty string") end
  if math.type(r.retention_s) ~= "integer" or r.retention_s < 60 then fail("record.retention_s must be an integer >= 60") end
  if r.task ~= nil and type(r.task) ~= "string" then fail("record.task must be a string") end
  if r.prompt_sha256 ~= nil and (type(r.prompt_sha256) ~= "string" or not r.prompt_sha256:match("^%x+$")) then
    fail("record.prompt_sha256 must be hex")
  end
  if r.prompt ~= nil and type(r.prompt) ~= "string" then fail("record.prompt must be a string") end
  check_json_value(r.parameters, "record.parameters")
end

-- Checks an image record lookup (GET /images/{id}) { id, owner, url_ttl } or a listing (GET
-- /images) { owner, limit 1..100, cursor?, url_ttl }.
function M.check_image_request(a)
  local r = a.image or a.images
  if type(r) ~= "table" or type(r.owner) ~= "string" or r.owner == "" then fail("image/images must name an owner") end
  if math.type(r.url_ttl) ~= "integer" or r.url_ttl < 1 or r.url_ttl > 604800 then fail("url_ttl must be 1..604800") end
  if a.image ~= nil and type(r.id) ~= "string" then fail("image.id must be a string") end
  if a.images ~= nil and (math.type(r.limit) ~= "integer" or r.limit < 1 or r.limit > 100) then
    fail("images.limit must be an integer of 1 to 100")
  end
  if a.images ~= nil and r.cursor ~= nil and type(r.cursor) ~= "string" then fail("images.cursor must be a string") end
end

local IMAGE_PATHS = { images = true, ["artifacts[].base64"] = true }

-- Checks g.attempts (the plan contract of issue 11): an ordered, non-empty list; each attempt
-- a model, where its images are, an error field, and 1..expected_images calls, each with a
-- JSON body and string metadata; every attempt makes expected_images images over its calls;
-- the old members are copied from the first attempt.
function M.check_attempts(g)
  local a = g.attempts
  if type(a) ~= "table" or #a < 1 then fail("attempts must be a non-empty list") end
  check_json_value(a, "generate.attempts")
  local seen = {}
  for i, at in ipairs(a) do
    local where = "attempts[" .. i .. "]"
    if type(at.model) ~= "string" or at.model == "" then fail("%s.model missing", where) end
    if seen[at.model] then fail("%s.model %s appears twice", where, at.model) end
    seen[at.model] = true
    if not IMAGE_PATHS[at.images] then fail("%s.images %s", where, tostring(at.images)) end
    if at.error_field ~= nil and type(at.error_field) ~= "string" then fail("%s.error_field", where) end
    if type(at.calls) ~= "table" or #at.calls < 1 or #at.calls > g.expected_images then
      fail("%s.calls must hold 1..expected_images calls", where)
    end
    for j, c in ipairs(at.calls) do
      if type(c.body) ~= "table" then fail("%s.calls[%d].body must be a table", where, j) end
      for k, v in pairs(c.metadata or {}) do
        if type(k) ~= "string" or not k:match("^[a-z0-9%-]+$") then fail("%s metadata name %s", where, tostring(k)) end
        if type(v) ~= "string" then fail("%s metadata %s is not a string", where, k) end
      end
    end
    if at.context ~= nil and type(at.context) ~= "table" then fail("%s.context must be a table", where) end
  end
  local first = a[1]
  if g.model ~= first.model then fail("generate.model is not attempts[1].model") end
  if g.images ~= first.images or g.error_field ~= first.error_field then fail("generate.images/error_field differ from attempts[1]") end
  if g.body ~= first.calls[1].body then fail("generate.body is not attempts[1].calls[1].body") end
end

-- The body as the client sees it: encoded to JSON and decoded again.
function M.client_body(a)
  if type(a.body) == "string" then return a.body end
  return cjson.decode(cjson.encode(a.body))
end

M.TITAN = "amazon.titan-image-generator-v1"
M.TITAN2 = "amazon.titan-image-generator-v2:0"

-- A harness whose deployment allows Titan G1 v1 and v2, with v1 the default: the settings the
-- policy shipped with before the Stability family, which the Titan specs describe. opts.config
-- runs after, so a spec can still change anything.
function M.titan_harness(opts)
  local o = {}
  for k, v in pairs(opts or {}) do o[k] = v end
  local change = o.config
  o.config = function(c)
    c.allowed_models = { M.TITAN, M.TITAN2 }
    c.default_model = M.TITAN
    if change then change(c) end
  end
  return M.harness(o)
end

-- The largest upload the runtime reads for a fetch (handler/inputs.h IG_INPUTS_FETCH_MAX), and
-- the most input images of one request (IG_INPUTS_MAX).
M.FETCH_MAX_BYTES = 64 * 1024 * 1024
M.INPUTS_MAX = 16

-- Checks a fetch answer { fetch = { {field, key, max_bytes, index?} } } (edits naming uploads):
-- 1..16 entries, each a body member, an S3 key, a byte cap the runtime takes; and never from the
-- second admit() (ctx.fetched), where a fetch is a policy_error.
function M.check_fetch(a, ctx)
  if type(ctx) == "table" and ctx.fetched then fail("admit() asked to fetch again after ctx.fetched") end
  local list = a.fetch
  if type(list) ~= "table" or #list < 1 or #list > M.INPUTS_MAX then fail("fetch must be a list of 1 to %d uploads", M.INPUTS_MAX) end
  check_json_value(list, "fetch")
  for i, f in ipairs(list) do
    if type(f.field) ~= "string" or f.field == "" then fail("fetch[%d].field missing", i) end
    if type(f.key) ~= "string" or f.key == "" or #f.key > 1024 or f.key:find("[%c\\]") then fail("fetch[%d].key %s", i, tostring(f.key)) end
    if math.type(f.max_bytes) ~= "integer" or f.max_bytes < 1 or f.max_bytes > M.FETCH_MAX_BYTES then
      fail("fetch[%d].max_bytes %s is not 1..%d", i, tostring(f.max_bytes), M.FETCH_MAX_BYTES)
    end
    if f.index ~= nil and (math.type(f.index) ~= "integer" or f.index < 1) then fail("fetch[%d].index %s", i, tostring(f.index)) end
  end
end

-- Checks a presign_post answer { presign_post = { key, content_type, max_bytes, expires } }.
function M.check_presign_post(a)
  local p = a.presign_post
  if type(p) ~= "table" then fail("presign_post must be a table") end
  check_json_value(p, "presign_post")
  if type(p.key) ~= "string" or p.key == "" or not p.key:match("^[%w/._%-]+$") then fail("presign_post.key %s", tostring(p.key)) end
  if type(p.content_type) ~= "string" or not p.content_type:match("^image/[%w.+-]+$") then
    fail("presign_post.content_type %s", tostring(p.content_type))
  end
  if math.type(p.max_bytes) ~= "integer" or p.max_bytes < 1 then fail("presign_post.max_bytes %s", tostring(p.max_bytes)) end
  if math.type(p.expires) ~= "integer" or p.expires < 1 or p.expires > 604800 then fail("presign_post.expires %s", tostring(p.expires)) end
  if p.context ~= nil and type(p.context) ~= "table" then fail("presign_post.context must be a table") end
end

-- "openai" for a request to the OpenAI-compatible API (a path under /v1/), nil otherwise.
function M.shape(req)
  local path = type(req) == "table" and req.path or nil
  if type(path) == "string" and path:sub(1, 4) == "/v1/" then return "openai" end
  return nil
end

-- Checks an enqueue (POST /jobs): { generate = a plan, owner, idempotency_key?, retention_s }.
function M.check_enqueue(a)
  local e = a.enqueue
  if type(e) ~= "table" then fail("enqueue is not a table") end
  M.check_plan({ generate = e.generate })
  if type(e.owner) ~= "string" or e.owner == "" then fail("enqueue.owner must be a non-empty string") end
  if e.idempotency_key ~= nil and type(e.idempotency_key) ~= "string" then fail("enqueue.idempotency_key must be a string") end
  if math.type(e.retention_s) ~= "integer" or e.retention_s < 60 then fail("enqueue.retention_s must be an integer >= 60") end
  if e.generate.deliver ~= nil and e.generate.deliver ~= "url" then fail("a job's images must be stored (deliver url)") end
end

-- Checks the shared rate limit's count beside a plan, enqueue or presign_post (rate_limit.backend
-- "dynamodb"): { key, limit, window_s, cost, on_error }, as the runtime takes it.
function M.check_limit(a)
  local l = a.limit
  if type(l) ~= "table" then fail("limit must be a table") end
  if a.generate == nil and a.enqueue == nil and a.presign_post == nil then
    fail("limit goes beside generate, enqueue or presign_post")
  end
  if type(l.key) ~= "string" or l.key == "" or #l.key > 300 then fail("limit.key must be a string of 1 to 300 bytes") end
  if math.type(l.limit) ~= "integer" or l.limit < 1 then fail("limit.limit must be an integer >= 1") end
  if math.type(l.window_s) ~= "integer" or l.window_s < 1 or l.window_s > 86400 then
    fail("limit.window_s must be an integer of 1 to 86400")
  end
  if math.type(l.cost) ~= "integer" or l.cost < 1 or l.cost > l.limit then fail("limit.cost must be 1 to limit.limit") end
  if l.on_error ~= "open" and l.on_error ~= "closed" then fail("limit.on_error must be \"open\" or \"closed\"") end
end

-- Checks a job lookup (GET /jobs/{id}): { id, owner, url_ttl }.
function M.check_job(a)
  local j = a.job
  if type(j) ~= "table" or type(j.id) ~= "string" or type(j.owner) ~= "string" or j.owner == "" then
    fail("job must be {id, owner, url_ttl}")
  end
  if math.type(j.url_ttl) ~= "integer" or j.url_ttl < 1 then fail("job.url_ttl must be an integer >= 1") end
end

-- admit()'s page (GET / and /web/{file}): the file the runtime serves, and the 404 answer for a
-- file it does not ship, in the error shape.
function M.check_page(a)
  local p = a.page
  if type(p) ~= "table" or type(p.file) ~= "string" or not p.file:match("^[a-z0-9][a-z0-9%-]*%.[a-z]+$") then
    fail("page must be {file = a plain file name, not_found}")
  end
  M.check_answer(p.not_found, R.REQUEST_ID)
  if p.not_found.status ~= 404 then fail("page.not_found must be a 404 answer") end
end

-- A loaded policy whose answers are checked against the contract.
function M.harness(opts)
  local h = loader.load(opts)
  function h.admit(req, ctx)
    ctx = ctx or R.ctx()
    local a = loader.with_budget(h.budget, h.policy.admit, req, ctx)
    if type(a) == "table" and a.generate ~= nil then
      M.check_plan(a)
    elseif type(a) == "table" and a.fetch ~= nil then
      M.check_fetch(a, ctx)
    elseif type(a) == "table" and a.presign_post ~= nil then
      M.check_presign_post(a)
    elseif type(a) == "table" and a.enqueue ~= nil then
      M.check_enqueue(a)
    elseif type(a) == "table" and a.job ~= nil then
      M.check_job(a)
    elseif type(a) == "table" and a.page ~= nil then
      M.check_page(a)
    elseif type(a) == "table" and (a.image ~= nil or a.images ~= nil) then
      M.check_image_request(a)
    else
      M.check_answer(a, R.REQUEST_ID, M.shape(req))
    end
    if type(a) == "table" and a.limit ~= nil then M.check_limit(a) end
    return a
  end
  -- admit, expecting a fetch: returns the list of uploads to read.
  function h.fetch(req)
    local a = h.admit(req)
    if not a.fetch then
      error("expected a fetch, got " .. tostring(a.status) .. " " .. cjson.encode(a.body or a.generate and "a plan" or a), 2)
    end
    return a.fetch
  end
  function h.respond(result, req)
    local a = loader.with_budget(h.budget, h.policy.respond, result, req)
    local context = type(result) == "table" and type(result.context) == "table" and result.context or {}
    M.check_answer(a, R.REQUEST_ID, context.api == "openai" and "openai" or M.shape(req))
    return a
  end
  -- admit, expecting an error: returns status, code, message, answer.
  function h.refusal(req)
    local a = h.admit(req)
    if a.generate then error("expected a refusal, got a plan", 2) end
    local e = a.body.error or {}
    return a.status, e.code, e.message, a
  end
  -- admit on an OpenAI-compatible route, expecting an error: returns status, code, param (nil
  -- for JSON null), message, answer.
  function h.openai_refusal(req)
    local a = h.admit(req)
    if a.generate then error("expected a refusal, got a plan", 2) end
    local e = a.body.error or {}
    local param = e.param
    if param == cjson.null then param = nil end
    return a.status, e.code, param, e.message, a
  end
  -- admit, expecting a plan: returns the generate table.
  function h.plan(req)
    local a = h.admit(req)
    if not a.generate then
      error("expected a plan, got " .. a.status .. " " .. cjson.encode(a.body), 2)
    end
    return a.generate, a
  end
  return h
end

return M
