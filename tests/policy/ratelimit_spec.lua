-- ratelimit_spec.lua - token buckets per API key or IP, by tier, on a clock the test moves.

local C = require("contract")
local R = require("requests")

local function gen(opts, query)
  local q = { prompt = "a cat" }
  for k, v in pairs(query or {}) do q[k] = v end
  return R.get("/generate-image", q, opts)
end

local function from_ip(ip, query) return gen({ identity = { source_ip = ip } }, query) end
local function from_key(key, ip, query) return gen({ identity = { source_ip = ip or "198.51.100.7", api_key_id = key } }, query) end

-- A policy whose anonymous tier allows `burst` images, refilled at `rate` per second.
local function limited(burst, rate, extra)
  return C.harness({ config = function(c)
    c.rate_limit.tiers.anonymous = { rate = rate, burst = burst }
    if extra then extra(c) end
  end })
end

describe("a bucket", function()
  it("allows the burst, then answers 429 with Retry-After and RateLimit headers", function()
    local h = limited(3, 1)
    for i = 1, 3 do
      local g = h.plan(from_ip("192.0.2.1"))
      assert.are.equal(3 - i, g.context.ratelimit.remaining)
    end
    local st, code, msg, a = h.refusal(from_ip("192.0.2.1"))
    assert.are.equal(429, st)
    assert.are.equal("rate_limited", code)
    assert.are.equal("rate limit reached for this IP address; try again in 1 second", msg)
    assert.are.equal("1", a.headers["Retry-After"])
    assert.are.equal("3", a.headers["RateLimit-Limit"])
    assert.are.equal("0", a.headers["RateLimit-Remaining"])
    assert.are.equal("3", a.headers["RateLimit-Reset"])
    assert.are.equal("application/json", a.headers["Content-Type"])
  end)

  it("computes Retry-After from the refill rate, rounded up", function()
    local h = limited(1, 0.1)
    h.plan(from_ip("192.0.2.1"))
    local _, _, _, a = h.refusal(from_ip("192.0.2.1"))
    assert.are.equal("10", a.headers["Retry-After"])
    h.ctl.advance(2.5)
    _, _, _, a = h.refusal(from_ip("192.0.2.1"))
    assert.are.equal("8", a.headers["Retry-After"])
  end)

  it("refills at the configured rate", function()
    local h = limited(2, 0.5)
    h.plan(from_ip("192.0.2.1"))
    h.plan(from_ip("192.0.2.1"))
    h.ctl.advance(1.9)
    assert.are.equal(429, (h.refusal(from_ip("192.0.2.1"))))
    h.ctl.advance(0.1)
    local g = h.plan(from_ip("192.0.2.1"))
    assert.are.equal(0, g.context.ratelimit.remaining)
  end)

  it("never holds more than its burst", function()
    local h = limited(4, 1)
    h.plan(from_ip("192.0.2.1"))
    h.ctl.advance(100000)
    assert.are.equal(3, h.plan(from_ip("192.0.2.1")).context.ratelimit.remaining)
  end)

  it("caps the refill at the burst even when the bucket is not swept", function()
    local h = C.harness()
    local lim = h.require("ratelimit").new({ tiers = { t = { rate = 1, burst = 4 } }, keys = {}, key_tier = "t",
      anonymous_tier = "t", max_buckets = 100 }, h.imagegen.monotonic)
    for _, ip in ipairs({ "a", "b", "target" }) do lim:take({ source_ip = ip }, 1) end
    h.ctl.advance(1000)
    -- the sweep drops the two idle buckets at the cold end; "target" is refilled, not recreated
    local d = lim:take({ source_ip = "target" }, 1)
    assert.are.equal(1, lim:size())
    assert.are.equal(3, d.remaining)
    assert.are.equal(1, d.reset)
  end)

  it("ignores a clock that goes backwards", function()
    local h = limited(1, 1)
    h.plan(from_ip("192.0.2.1"))
    h.ctl.mono = h.ctl.mono - 50
    assert.are.equal(429, (h.refusal(from_ip("192.0.2.1"))))
    h.ctl.advance(1)
    assert.are.equal(429, (h.refusal(from_ip("192.0.2.1"))))
  end)
end)

describe("clients", function()
  it("are separate per source IP", function()
    local h = limited(1, 0.01)
    h.plan(from_ip("192.0.2.1"))
    assert.are.equal(429, (h.refusal(from_ip("192.0.2.1"))))
    h.plan(from_ip("192.0.2.2"))
  end)

  it("are keyed by API key id when there is one, whatever the IP", function()
    local h = limited(1, 0.01, function(c) c.rate_limit.tiers.default = { rate = 0.01, burst = 1 } end)
    h.plan(from_key("k1", "192.0.2.1"))
    local st, _, msg = h.refusal(from_key("k1", "192.0.2.99"))
    assert.are.equal(429, st)
    assert.matches("for this API key", msg, 1, true)
    h.plan(from_key("k2", "192.0.2.1"))  -- another key on the same IP
    h.plan(from_ip("192.0.2.1"))         -- no key: the IP's own bucket
  end)

  it("without any identity share one bucket", function()
    local h = limited(1, 0.01)
    h.plan(gen({ identity = {} }))
    assert.are.equal(429, (h.refusal(gen({ identity = {} }))))
  end)
end)

describe("tiers", function()
  local function tiers(c)
    c.rate_limit.tiers = {
      anonymous = { rate = 0.01, burst = 1 },
      default = { rate = 0.01, burst = 2 },
      premium = { rate = 0.01, burst = 4 },
    }
    c.rate_limit.keys = { ["key-gold"] = "premium" }
  end

  local function allowed_before_429(h, make)
    local n = 0
    while true do
      local a = h.admit(make())
      if not a.generate then
        assert.are.equal(429, a.status)
        return n
      end
      n = n + 1
      assert.is_true(n < 100)
    end
  end

  it("give each client the burst of its tier", function()
    local h = C.harness({ config = tiers })
    assert.are.equal(1, allowed_before_429(h, function() return from_ip("192.0.2.1") end))
    assert.are.equal(2, allowed_before_429(h, function() return from_key("key-other") end))
    assert.are.equal(4, allowed_before_429(h, function() return from_key("key-gold") end))
  end)

  it("are named in the decision log", function()
    local h = C.harness({ config = tiers })
    h.plan(from_key("key-gold"))
    assert.are.equal("premium", h.ctl.find_logs({ outcome = "generate" })[1].fields.tier)
  end)
end)

describe("cost", function()
  it("is one token per image by default", function()
    local h = limited(5, 0.01)
    assert.are.equal(2, h.plan(from_ip("192.0.2.1", { numberOfImages = "3" })).context.ratelimit.remaining)
    local st, _, _, a = h.refusal(from_ip("192.0.2.1", { numberOfImages = "3" }))
    assert.are.equal(429, st)
    assert.are.equal("2", a.headers["RateLimit-Remaining"])
    h.plan(from_ip("192.0.2.1", { numberOfImages = "2" }))
  end)

  it("is one token per request when configured so", function()
    local h = limited(2, 0.01, function(c) c.rate_limit.cost = "request" end)
    assert.are.equal(1, h.plan(from_ip("192.0.2.1", { numberOfImages = "5" })).context.ratelimit.remaining)
  end)

  it("above the tier's burst is a 400, not a 429 that could never clear", function()
    local h = limited(3, 1)
    local st, code, msg, a = h.refusal(from_ip("192.0.2.1", { numberOfImages = "4" }))
    assert.are.equal(400, st)
    assert.are.equal("invalid_parameter", code)
    assert.matches("numberOfImages 4 is more than this client may ask for at once; ask for at most 3", msg, 1, true)
    assert.is_nil(a.headers["Retry-After"])
    assert.are.equal(2, h.plan(from_ip("192.0.2.1")).context.ratelimit.remaining) -- nothing was taken
  end)
end)

describe("what is limited", function()
  it("refused requests spend no tokens", function()
    local h = limited(1, 0.01, function(c) c.prompt.deny = { "ass" } end)
    for _ = 1, 5 do
      h.refusal(from_ip("192.0.2.1", { width = "bad" }))
      h.refusal(from_ip("192.0.2.1", { prompt = "ass" }))
      h.refusal(R.post("/generate-image", "[]", { identity = { source_ip = "192.0.2.1" } }))
    end
    h.plan(from_ip("192.0.2.1"))
  end)

  it("only /generate-image: /health, /models and OPTIONS are never limited", function()
    local h = limited(1, 0.01)
    h.plan(from_ip("192.0.2.1"))
    for _ = 1, 20 do
      assert.are.equal(200, h.admit(R.get("/health", nil, { identity = { source_ip = "192.0.2.1" } })).status)
      assert.are.equal(200, h.admit(R.get("/models", nil, { identity = { source_ip = "192.0.2.1" } })).status)
      assert.are.equal(204, h.admit(R.request("OPTIONS", "/generate-image", { identity = { source_ip = "192.0.2.1" } })).status)
    end
  end)

  it("counts a metric for every 429", function()
    local h = limited(1, 0.01)
    h.plan(from_ip("192.0.2.1"))
    h.refusal(from_ip("192.0.2.1"))
    h.refusal(from_ip("192.0.2.1"))
    assert.are.equal(2, h.ctl.metric_total("RateLimited"))
    assert.are.equal(2, #h.ctl.find_logs({ outcome = "rate_limited" }))
  end)

  it("can be switched off", function()
    local h = limited(1, 0.01, function(c) c.rate_limit.enabled = false end)
    for _ = 1, 10 do
      local g, a = h.plan(from_ip("192.0.2.1"))
      assert.is_nil(g.context.ratelimit)
      local answer = h.respond(R.success(a), from_ip("192.0.2.1"))
      assert.is_nil(answer.headers["RateLimit-Limit"])
    end
  end)
end)

describe("headers on answers", function()
  it("report the remaining budget on a successful generation", function()
    local h = limited(3, 0.5)
    local req = from_ip("192.0.2.1", { numberOfImages = "2" })
    local _, plan = h.plan(req)
    local a = h.respond(R.success(plan), req)
    assert.are.equal(200, a.status)
    assert.are.equal("3", a.headers["RateLimit-Limit"])
    assert.are.equal("1", a.headers["RateLimit-Remaining"])
    assert.are.equal("4", a.headers["RateLimit-Reset"])
    assert.is_nil(a.headers["Retry-After"])
  end)
end)

describe("refunds", function()
  it("give tokens back when the generation fails on the service side", function()
    local h = limited(2, 0.001)
    local req = from_ip("192.0.2.1", { numberOfImages = "2" })
    local _, plan = h.plan(req)
    local a = h.respond(R.failure(plan, "upstream_error", 502, "the model failed"), req)
    assert.are.equal("2", a.headers["RateLimit-Remaining"])
    h.plan(req) -- the two tokens are back
  end)

  it("do not happen for a filtered prompt or a refused request", function()
    for _, code in ipairs({ "content_filtered", "invalid_request", "throttled" }) do
      local h = limited(2, 0.001)
      local req = from_ip("192.0.2.1", { numberOfImages = "2" })
      local _, plan = h.plan(req)
      h.respond(R.failure(plan, code, code == "throttled" and 429 or 400, "no"), req)
      assert.are.equal(429, (h.refusal(req)), code)
    end
  end)

  it("can be switched off", function()
    local h = limited(1, 0.001, function(c) c.rate_limit.refund_on_failure = false end)
    local req = from_ip("192.0.2.1")
    local _, plan = h.plan(req)
    h.respond(R.failure(plan, "timeout", 504, "too slow"), req)
    assert.are.equal(429, (h.refusal(req)))
  end)
end)

describe("memory", function()
  it("holds at most max_buckets buckets, dropping the least recently used", function()
    local h = limited(1, 0.0001, function(c) c.rate_limit.max_buckets = 100 end)
    h.plan(from_ip("10.0.0.0"))
    for i = 1, 1000 do
      h.plan(from_ip("10.0." .. (i // 256) .. "." .. (i % 256)))
      -- 10.0.0.0 stays recent: it keeps its (empty) bucket
      if i % 50 == 0 then assert.are.equal(429, (h.refusal(from_ip("10.0.0.0")))) end
    end
    assert.are.equal(h.ctl.metric_total("RateLimitEvictions"), 1000 + 1 - 100)
    -- a client dropped long ago starts over
    h.plan(from_ip("10.0.0.1"))
  end)

  it("drops buckets that have refilled as requests pass", function()
    local h = limited(1, 1)
    local rl = h.require("ratelimit")
    local lim = rl.new({ tiers = { t = { rate = 1, burst = 1 } }, keys = {}, key_tier = "t", anonymous_tier = "t",
      max_buckets = 1000 }, h.imagegen.monotonic)
    for i = 1, 50 do lim:take({ source_ip = "ip" .. i }, 1) end
    assert.are.equal(50, lim:size())
    h.ctl.advance(2)
    for i = 1, 30 do lim:take({ source_ip = "new" .. i }, 1) end
    -- each request swept up to two full buckets from the cold end: the 50 idle ones are gone
    -- after 25 requests, and only the 30 new (empty) buckets remain
    assert.are.equal(30, lim:size())
    assert.are.equal(0, lim:take_evicted())
  end)

  it("keeps the work per request small even at the bucket cap", function()
    local h = limited(1, 0.0001, function(c) c.rate_limit.max_buckets = 10000 end)
    for i = 1, 10000 do h.plan(from_ip("b" .. i)) end
    local count = 0
    debug.sethook(function() count = count + 1 end, "", 1)
    for i = 1, 100 do h.policy.admit(from_ip("c" .. i), R.ctx()) end
    debug.sethook()
    -- the runtime's default budget is 10,000,000 instructions per call
    assert.is_true(count / 100 < 20000, "instructions per admit: " .. count / 100)
  end)
end)
