-- global_limits_spec.lua - rate_limit.backend "dynamodb": the settings, the `limit` admit() hands
-- the runtime beside its plan (who, how many, per how long, at what cost, open or closed), and
-- the answers respond() shapes from the runtime's count.

local C = require("contract")
local R = require("requests")
local shim = require("shim")
local loader = require("loader")

local TABLE = { IMAGEGEN_TABLE = "imagegen-local" }
local ANONYMOUS_OWNER = shim.sha256("ip:203.0.113.9"):sub(1, 16)
local UUID = "00000000-0000-4000-8000-000000000001"

local function shared(extra, env)
  local e = { IMAGEGEN_TABLE = "imagegen-local" }
  for k, v in pairs(env or {}) do e[k] = v end
  return C.harness({ env = e, config = function(c)
    c.rate_limit.backend = "dynamodb"
    if extra then extra(c) end
  end })
end

local function gen(identity, query)
  local q = { prompt = "a cat" }
  for k, v in pairs(query or {}) do q[k] = v end
  return R.get("/generate-image", q, { identity = identity })
end

local IP = { source_ip = "192.0.2.1" }
local KEY = { source_ip = "192.0.2.1", api_key_id = "k-1" }

describe("the backend setting", function()
  it("is memory by default, failing open when the table cannot be reached", function()
    local h = C.harness({ env = TABLE })
    local g, a = h.plan(gen(IP))
    assert.is_nil(a.limit)
    assert.are.equal(4, g.context.ratelimit.remaining) -- counted in this environment
  end)

  it("is chosen by IMAGEGEN_RATE_LIMIT_BACKEND over config.lua", function()
    local h = C.harness({ env = { IMAGEGEN_TABLE = "t", IMAGEGEN_RATE_LIMIT_BACKEND = "dynamodb" } })
    local _, a = h.plan(gen(IP))
    assert.are.same({ key = "ip:192.0.2.1", limit = 5, window_s = 50, cost = 1, on_error = "open" }, a.limit)
    h = shared(nil, { IMAGEGEN_RATE_LIMIT_BACKEND = "memory" })
    assert.is_nil(select(2, h.plan(gen(IP))).limit)
  end)

  it("refuses to start as dynamodb without IMAGEGEN_TABLE, naming both", function()
    local err = loader.load_error({ config = function(c) c.rate_limit.backend = "dynamodb" end })
    assert.matches("rate_limit.backend", err, 1, true)
    assert.matches("has no IMAGEGEN_TABLE", err, 1, true)
    err = loader.load_error({ env = { IMAGEGEN_RATE_LIMIT_BACKEND = "dynamodb" } })
    assert.matches("IMAGEGEN_RATE_LIMIT_BACKEND: rate_limit.backend is \"dynamodb\" but the function has no "
      .. "IMAGEGEN_TABLE", err, 1, true)
  end)

  it("starts without a table when limits are off: nothing is counted", function()
    assert.is_nil(loader.load_error({ config = function(c)
      c.rate_limit.backend = "dynamodb"
      c.rate_limit.enabled = false
    end }))
  end)

  it("refuses unknown backends and on_store_error values", function()
    local err = loader.load_error({ env = TABLE, config = function(c) c.rate_limit.backend = "redis" end })
    assert.matches("rate_limit.backend", err, 1, true)
    assert.matches("dynamodb", err, 1, true)
    err = loader.load_error({ env = { IMAGEGEN_RATE_LIMIT_BACKEND = "shared" } })
    assert.matches("IMAGEGEN_RATE_LIMIT_BACKEND", err, 1, true)
    err = loader.load_error({ env = TABLE, config = function(c) c.rate_limit.on_store_error = "maybe" end })
    assert.matches("rate_limit.on_store_error", err, 1, true)
    err = loader.load_error({ env = TABLE, config = function(c) c.rate_limit.tiers.default.window = 0 end })
    assert.matches("rate_limit.tiers.default.window", err, 1, true)
  end)
end)

describe("the limit beside the plan", function()
  it("names the client, its tier's burst per window and the request's cost", function()
    local h = shared()
    local _, a = h.plan(gen(KEY, { numberOfImages = "3" }))
    assert.are.same({ key = "key:k-1", limit = 10, window_s = 20, cost = 3, on_error = "open" }, a.limit)
    _, a = h.plan(gen({ source_ip = "192.0.2.9" }))
    assert.are.same({ key = "ip:192.0.2.9", limit = 5, window_s = 50, cost = 1, on_error = "open" }, a.limit)
  end)

  it("spends nothing in this environment: the runtime counts", function()
    local h = shared()
    for _ = 1, 12 do
      local g, a = h.plan(gen(IP))
      assert.is_nil(g.context.ratelimit)
      assert.are.equal(1, a.limit.cost)
    end
  end)

  it("takes a tier's own window, the request cost and on_store_error", function()
    local h = shared(function(c)
      c.rate_limit.tiers.anonymous = { rate = 1, burst = 3, window = 7 }
      c.rate_limit.cost = "request"
      c.rate_limit.on_store_error = "closed"
    end)
    local _, a = h.plan(gen(IP, { numberOfImages = "2" }))
    assert.are.same({ key = "ip:192.0.2.1", limit = 3, window_s = 7, cost = 1, on_error = "closed" }, a.limit)
  end)

  it("rounds a window up to whole seconds", function()
    local h = shared(function(c) c.rate_limit.tiers.anonymous = { rate = 3, burst = 4 } end)
    assert.are.equal(2, select(2, h.plan(gen(IP))).limit.window_s)
  end)

  it("refuses more images than the tier's limit at once, as the memory backend does", function()
    local h = shared(function(c) c.rate_limit.tiers.anonymous = { rate = 1, burst = 2 } end)
    local st, code, msg, a = h.refusal(gen(IP, { numberOfImages = "3" }))
    assert.are.equal(400, st)
    assert.are.equal("invalid_parameter", code)
    assert.are.equal("numberOfImages 3 is more than this client may ask for at once; ask for at most 2", msg)
    assert.is_nil(a.limit)
  end)

  it("goes beside POST /jobs' enqueue and POST /uploads' form, and only the second admit of an edit", function()
    local h = shared()
    local a = h.admit(R.post("/jobs", { prompt = "a lighthouse" }, { identity = KEY }), R.ctx({ jobs = true }))
    assert.is_table(a.enqueue)
    assert.are.same({ key = "key:k-1", limit = 10, window_s = 20, cost = 1, on_error = "open" }, a.limit)
    a = h.admit(R.post("/uploads", { contentType = "image/png" }, { identity = IP }))
    assert.is_table(a.presign_post)
    assert.are.equal(1, a.limit.cost)
    local key = "uploads/" .. ANONYMOUS_OWNER .. "/" .. UUID .. ".png"
    local body = { task = "sketch", prompt = "a house", image = { upload = key } }
    local function edit() return R.post("/edit-image", body, { identity = { source_ip = "203.0.113.9" } }) end
    a = h.admit(edit())
    assert.is_table(a.fetch)
    assert.is_nil(a.limit)
    local req = edit()
    req.body.image = R.uploaded(key, { width = 1024, height = 768 })
    a = h.admit(req, R.ctx({ fetched = true }))
    assert.is_table(a.generate)
    assert.are.same({ key = "ip:203.0.113.9", limit = 5, window_s = 50, cost = 1, on_error = "open" }, a.limit)
  end)

  it("is absent when limits are off", function()
    local h = shared(function(c) c.rate_limit.enabled = false end)
    assert.is_nil(select(2, h.plan(gen(IP))).limit)
  end)
end)

describe("answers from the runtime's count", function()
  it("carry the window's RateLimit headers on success", function()
    local h = shared()
    local req = gen(IP)
    local _, plan = h.plan(req)
    local result = R.success(plan)
    result.limit = { key = "ip:192.0.2.1", limit = 5, remaining = 2, reset = 31 }
    local a = h.respond(result, req)
    assert.are.equal(200, a.status)
    assert.are.equal("5", a.headers["RateLimit-Limit"])
    assert.are.equal("2", a.headers["RateLimit-Remaining"])
    assert.are.equal("31", a.headers["RateLimit-Reset"])
    assert.is_nil(a.headers["Retry-After"])
  end)

  it("answer a refused count 429 rate_limited with Retry-After to the window's end", function()
    local h = shared()
    local req = gen(IP)
    local a = h.respond({ ok = false, status = 429, code = "rate_limited", message = "Rate limit reached.",
      retry_after = 7, request_id = R.REQUEST_ID, limit = { key = "ip:192.0.2.1", limit = 5, remaining = 0, reset = 7 } },
      req)
    assert.are.equal(429, a.status)
    local e = a.body.error
    assert.are.equal("rate_limited", e.code)
    assert.are.equal("rate limit reached for this IP address; try again in 7 seconds", e.message)
    assert.are.equal("7", a.headers["Retry-After"])
    assert.are.equal("0", a.headers["RateLimit-Remaining"])
    assert.are.equal("5", a.headers["RateLimit-Limit"])
    assert.are.equal(1, h.ctl.metric_total("RateLimited"))
    assert.are.equal(0, h.ctl.metric_total("GenerationFailed"))
    assert.are.equal(1, #h.ctl.find_logs({ outcome = "rate_limited", status = 429 }))
  end)

  it("answer in OpenAI's shape on its routes", function()
    local h = shared()
    local req = R.post("/v1/images/generations", { prompt = "a kite" }, { identity = KEY })
    local a = h.respond({ ok = false, status = 429, code = "rate_limited", retry_after = 1, request_id = R.REQUEST_ID,
      limit = { key = "key:k-1", limit = 10, remaining = 0, reset = 1 } }, req)
    assert.are.equal(429, a.status)
    local e = a.body.error
    assert.are.equal("rate_limit_exceeded", e.code) -- OpenAI's name, as for the memory backend
    assert.are.equal("rate limit reached for this API key; try again in 1 second", e.message)
    assert.are.equal("1", a.headers["Retry-After"])
  end)

  it("answer 503 rate_limit_unavailable when the table failed and the setting is closed", function()
    local h = shared(function(c) c.rate_limit.on_store_error = "closed" end)
    local a = h.respond({ ok = false, status = 503, code = "rate_limit_unavailable", request_id = R.REQUEST_ID,
      message = "The rate limit cannot be checked; try again.", limit = { key = "ip:192.0.2.1", unavailable = true } },
      gen(IP))
    assert.are.equal(503, a.status)
    assert.are.equal("rate_limit_unavailable", a.body.error.code)
    assert.is_nil(a.headers["RateLimit-Limit"])
    assert.are.equal(1, h.ctl.metric_total("RateLimitStoreUnavailable"))
  end)

  it("serve without RateLimit headers, and count the failure, when the table failed and the setting is open",
    function()
      local h = shared()
      local req = gen(IP)
      local _, plan = h.plan(req)
      local result = R.success(plan)
      result.limit = { key = "ip:192.0.2.1", unavailable = true }
      local a = h.respond(result, req)
      assert.are.equal(200, a.status)
      assert.is_nil(a.headers["RateLimit-Limit"])
      assert.are.equal(1, h.ctl.metric_total("RateLimitStoreUnavailable"))
    end)
end)

describe("a count given back", function()
  local LIMIT = { key = "ip:192.0.2.1", limit = 5, remaining = 2, reset = 31, cost = 1 }
  local function failed(code, extra)
    local r = { ok = false, status = 502, code = code, message = "x", request_id = R.REQUEST_ID, limit = LIMIT }
    for k, v in pairs(extra or {}) do r[k] = v end
    return r
  end

  it("for a failure on the service side, with RateLimit-Remaining counting it back", function()
    local h = shared()
    local a = h.respond(failed("upstream_error"), gen(IP))
    assert.are.equal(502, a.status)
    assert.is_true(a.give_back)
    assert.are.equal("3", a.headers["RateLimit-Remaining"])
    a = h.respond(failed("storage_error"), gen(IP))
    assert.is_true(a.give_back)
  end)

  it("not for the client's own failures, a success, or with refund_on_failure off", function()
    local h = shared()
    local a = h.respond(failed("content_filtered", { status = 400 }), gen(IP))
    assert.are.equal(400, a.status)
    assert.is_nil(a.give_back)
    assert.are.equal("2", a.headers["RateLimit-Remaining"])
    local req = gen(IP)
    local _, plan = h.plan(req)
    local ok = R.success(plan)
    ok.limit = LIMIT
    assert.is_nil(h.respond(ok, req).give_back)
    local off = shared(function(c) c.rate_limit.refund_on_failure = false end)
    assert.is_nil(off.respond(failed("upstream_error"), gen(IP)).give_back)
  end)

  it("for a job's repeat, which answers the first job, whatever refund_on_failure says", function()
    local h = shared(function(c) c.rate_limit.refund_on_failure = false end)
    local req = R.post("/jobs", { prompt = "a lighthouse" }, { identity = IP })
    local job = { id = string.rep("a", 32), status = "queued", created_at = 1, updated_at = 1, attempts = 0 }
    local first = h.respond({ ok = true, status = 202, jobs = "create", job = job, repeated = false, limit = LIMIT }, req)
    assert.are.equal(202, first.status)
    assert.is_nil(first.give_back)
    local again = h.respond({ ok = true, status = 202, jobs = "create", job = job, repeated = true, limit = LIMIT }, req)
    assert.is_true(again.give_back)
  end)

  it("not when the table was not reached: nothing was counted", function()
    local h = shared()
    local a = h.respond(failed("upstream_error", { limit = { key = "ip:192.0.2.1", unavailable = true } }), gen(IP))
    assert.is_nil(a.give_back)
  end)
end)
