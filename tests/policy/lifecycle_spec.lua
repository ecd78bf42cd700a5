-- lifecycle_spec.lua - model lifecycle and fallback: the WARN at start-up for an allowed model
-- past its end of life, the fallback setting and its checks, the attempts a plan lists, and
-- the answers when a fallback served or a model is retired.

local C = require("contract")
local R = require("requests")
local loader = require("loader")

local SD35 = "stability.sd3-5-large-v1:0"
local CORE = "stability.stable-image-core-v1:1"
local ULTRA = "stability.stable-image-ultra-v1:1"
local TITAN = "amazon.titan-image-generator-v1"
local TITAN2 = "amazon.titan-image-generator-v2:0"
local NOVA = "amazon.nova-canvas-v1:0"

local NOV_2026 = 1795000000 -- 2026-11-18, after Titan G1 v2's and Nova Canvas's end of life
local MAY_2026 = 1780000000 -- 2026-05-28, before both

local function get(q) return R.get("/generate-image", q) end

local function warnings(h)
  return h.ctl.find_logs({ level = "warn" })
end

describe("at start-up", function()
  it("logs a WARN naming each allowed model past its end of life", function()
    local h = loader.load({ now = NOV_2026, config = function(c)
      c.allowed_models = { CORE, TITAN, TITAN2, NOVA }
    end })
    local w = warnings(h)
    assert.are.equal(2, #w)
    assert.are.same({ model = TITAN2, end_of_life = "2026-06-30", status = "legacy", today = "2026-11-18" }, w[1].fields)
    assert.are.same({ model = NOVA, end_of_life = "2026-09-30", status = "legacy", today = "2026-11-18" }, w[2].fields)
    assert.matches("past its end of life", w[1].message, 1, true)
  end)

  it("logs nothing before the end-of-life date, nor for models without one", function()
    local h = loader.load({ now = MAY_2026, config = function(c) c.allowed_models = { CORE, TITAN, TITAN2, NOVA } end })
    assert.are.equal(0, #warnings(h))
  end)

  it("warns on the end-of-life day itself", function()
    local h = loader.load({ now = 1782820800, config = function(c) c.allowed_models = { CORE, TITAN2 } end }) -- 2026-06-30 12:00 UTC
    assert.are.equal(1, #warnings(h))
  end)

  it("logs nothing for the shipped config", function()
    assert.are.equal(0, #loader.load({ now = NOV_2026 }).ctl.logs)
  end)

  it("still starts: a retired model is the operator's call, and fallback can cover it", function()
    local h = C.harness({ now = NOV_2026, config = function(c)
      c.allowed_models = { TITAN2, CORE }; c.default_model = TITAN2
      c.fallback = { [TITAN2] = { CORE } }
    end })
    local g = h.plan(get({ prompt = "x" }))
    assert.are.same({ TITAN2, CORE }, { g.attempts[1].model, g.attempts[2].model })
  end)
end)

describe("the fallback setting", function()
  it("is empty by default, and then a plan holds one attempt", function()
    local h = C.harness()
    assert.are.same({}, h.require("schema").settings({}, nil).fallback)
    assert.are.equal(1, #h.plan(get({ prompt = "x", numberOfImages = "2" })).attempts)
  end)

  local cases = {
    { "a key that is not catalogued", { ["dall-e"] = { CORE } }, 'fallback["dall-e"] names an unknown model "dall-e"' },
    { "a key that is not allowed", { [TITAN] = { CORE } },
      'fallback["' .. TITAN .. '"] names "' .. TITAN .. '", which is not in allowed_models' },
    { "an entry that is not catalogued", { [ULTRA] = { CORE, "gpt-image" } },
      'fallback["' .. ULTRA .. '"][2] names an unknown model "gpt-image"' },
    { "an entry that is not allowed", { [ULTRA] = { NOVA } },
      'fallback["' .. ULTRA .. '"][1] names "' .. NOVA .. '", which is not in allowed_models' },
    { "a model falling back to itself", { [CORE] = { SD35, CORE } },
      'fallback["' .. CORE .. '"][2] names the model itself' },
    { "an entry named twice", { [CORE] = { SD35, SD35 } }, 'fallback["' .. CORE .. '"][2] names "' .. SD35 .. '" twice' },
    { "a list that is not a list", { [CORE] = SD35 }, 'fallback["' .. CORE .. '"] must be a list' },
    { "more than three fallbacks", { [TITAN] = { CORE, SD35, ULTRA, TITAN2 } },
      'fallback["' .. TITAN .. '"] names 4 models; at most 3 fallbacks (the runtime tries at most 4 models per request)',
      { TITAN, TITAN2, CORE, SD35, ULTRA } },
    { "a table that is not a map", { CORE }, "fallback must have string keys" },
  }
  for _, case in ipairs(cases) do
    it("refuses " .. case[1] .. ", naming the knob", function()
      local err = loader.load_error({ config = function(c)
        c.fallback = case[2]
        if case[4] then c.allowed_models = case[4] end
      end })
      assert.is_string(err)
      assert.matches("config.lua: ", err, 1, true)
      assert.matches(case[3], err, 1, true)
    end)
  end

  it("is checked against the allowed list as IMAGEGEN_ALLOWED_MODELS narrows it", function()
    local err = loader.load_error({ env = { IMAGEGEN_ALLOWED_MODELS = ULTRA },
      config = function(c) c.fallback = { [ULTRA] = { CORE } } end })
    assert.matches('fallback["' .. ULTRA .. '"][1] names "' .. CORE .. '", which is not in allowed_models (' .. ULTRA .. ")",
      err, 1, true)
  end)
end)

describe("a plan with fallbacks", function()
  local function chain(extra)
    return C.harness({ config = function(c)
      c.rate_limit.enabled = false
      c.allowed_models = { ULTRA, CORE, SD35, TITAN }
      c.default_model = ULTRA
      c.fallback = { [ULTRA] = { CORE, TITAN, SD35 } }
      if extra then extra(c) end
    end })
  end

  it("lists the chosen model first, then each fallback that can express the request", function()
    local g = chain().plan(get({ prompt = "x", numberOfImages = "3", seed = "5" }))
    local ids = {}
    for i, a in ipairs(g.attempts) do ids[i] = a.model end
    assert.are.same({ ULTRA, CORE, TITAN, SD35 }, ids)
    assert.are.equal(ULTRA, g.model)
    -- Stability fallbacks: the same n calls and seeds
    assert.are.same({ 5, 6, 7 }, g.attempts[2].context.seeds)
    assert.are.equal(3, #g.attempts[2].calls)
    assert.are.same({ seed = "6", model = CORE }, g.attempts[2].calls[2].metadata)
    assert.are.equal(CORE, g.attempts[2].context.model)
    -- Titan: one call for all three images, with the client's seed
    local t = g.attempts[3]
    assert.are.equal(1, #t.calls)
    assert.are.same({ numberOfImages = 3, quality = "standard", width = 1024, height = 1024, cfgScale = 8, seed = 5 },
      t.calls[1].body.imageGenerationConfig)
    assert.are.equal("error", t.error_field)
    assert.are.equal("images", t.images)
    assert.are.same({ 5 }, t.context.seeds)
  end)

  it("carries the rate-limit decision in every attempt's context, for refunds", function()
    local h = C.harness({ config = function(c)
      c.fallback = { [CORE] = { SD35 } }
    end })
    local g = h.plan(get({ prompt = "x" }))
    assert.are.same(g.attempts[1].context.ratelimit, g.attempts[2].context.ratelimit)
    assert.is_table(g.attempts[2].context.ratelimit)
  end)

  it("skips, and logs, a fallback that lacks the requested ratio, format or parameter", function()
    local h = chain()
    local g = h.plan(get({ prompt = "x", aspectRatio = "16:9" }))
    assert.are.same({ ULTRA, CORE, SD35 }, { g.attempts[1].model, g.attempts[2].model, g.attempts[3].model })
    local skipped = h.ctl.find_logs({ fallback = TITAN })
    assert.are.equal(1, #skipped)
    assert.are.equal("info", skipped[1].level)
    assert.are.equal(ULTRA, skipped[1].fields.model)
    assert.matches("aspectRatio is not supported by " .. TITAN, skipped[1].fields.reason, 1, true)

    assert.are.equal(3, #h.plan(get({ prompt = "x", outputFormat = "jpeg" })).attempts)
    assert.are.equal(3, #h.plan(get({ prompt = "x", seed = "3000000000" })).attempts)
    assert.are.equal(3, #h.plan(get({ prompt = string.rep("y", 600) })).attempts)
  end)

  it("keeps a drawn seed for the fallbacks that take it, and draws again for one that does not", function()
    local h = chain()
    h.ctl.random_queue = { 3000000000, 1234 }
    local g = h.plan(get({ prompt = "x", numberOfImages = "2" }))
    assert.are.same({ 3000000000, 3000000001 }, g.attempts[2].context.seeds)
    assert.are.same({ { 1, 4294967294 }, { 0, 2147483647 } }, h.ctl.random_calls)
    assert.are.equal(1234, g.attempts[3].calls[1].body.imageGenerationConfig.seed)
    h.ctl.random_queue = { 77 }
    g = h.plan(get({ prompt = "x" }))
    assert.are.equal(77, g.attempts[3].calls[1].body.imageGenerationConfig.seed)
  end)

  it("treats a seed of 0 that asked the first model for a random one as none", function()
    local h = chain()
    h.ctl.random_queue = { 42 }
    local g = h.plan(get({ prompt = "x", seed = "0" }))
    assert.are.equal(42, g.attempts[3].calls[1].body.imageGenerationConfig.seed)
  end)

  it("is not transitive: only the chosen model's list is used", function()
    local h = chain(function(c) c.fallback[CORE] = { SD35 } end)
    assert.are.equal(2, #h.plan(get({ prompt = "x", model = CORE })).attempts)
  end)

  it("keys the cache by every attempt", function()
    local h = chain(function(c) c.cache.enabled = true end)
    local with = h.plan(get({ prompt = "x", seed = "1" })).cache_key
    local without = C.harness({ config = function(c)
      c.allowed_models = { ULTRA }; c.default_model = ULTRA; c.cache.enabled = true
    end }).plan(get({ prompt = "x", seed = "1" })).cache_key
    assert.are_not.equal(with, without)
  end)
end)

describe("the answer", function()
  local function setup()
    local h = C.harness({ config = function(c)
      c.rate_limit.tiers.anonymous = { rate = 0.5, burst = 10 }
      c.allowed_models = { ULTRA, CORE, SD35, TITAN }
      c.default_model = ULTRA
      c.fallback = { [ULTRA] = { CORE } }
    end })
    local req = get({ prompt = "x", numberOfImages = "3", seed = "5" })
    local _, plan = h.plan(req)
    return h, plan, req
  end

  it("says which model served and which it fell back from", function()
    local h, plan, req = setup()
    local result = R.success(plan, { attempt = 2, fallback_from = {
      { model = ULTRA, code = "model_retired", message = "This model version has reached the end of its life." } } })
    local body = C.client_body(h.respond(result, req))
    assert.are.equal(CORE, body.model)
    assert.are.same({ { model = ULTRA, code = "model_retired" } }, body.fallbackFrom)
    assert.are.same({ 5, 6, 7 }, { body.images[1].seed, body.images[2].seed, body.images[3].seed })
    assert.are.equal(1, h.ctl.metric_total("FallbackServed"))
    assert.are.equal(1, #h.ctl.find_logs({ message = "generation served by a fallback model" }))
  end)

  it("has no fallbackFrom when the first model served", function()
    local h, plan, req = setup()
    local body = C.client_body(h.respond(R.success(plan), req))
    assert.are.equal(ULTRA, body.model)
    assert.is_nil(body.fallbackFrom)
    assert.is_nil(body.missing)
    assert.is_nil(body.filtered)
  end)

  it("for model_retired is 502, names the other active models the deployment allows, and refunds", function()
    local h, plan, req = setup()
    local a = h.respond(R.failure(plan, "model_retired", 502,
      "This model version has reached the end of its life. Please refer to the AWS documentation for more details."), req)
    assert.are.equal(502, a.status)
    assert.are.equal("model_retired", a.body.error.code)
    assert.are.equal("This model version has reached the end of its life. Please refer to the AWS documentation "
      .. "for more details; active models this deployment allows: " .. CORE .. ", " .. SD35, a.body.error.message)
    assert.are.equal("10", a.headers["RateLimit-Remaining"]) -- the 3 tokens came back
  end)

  it("for model_unavailable after a fallback names what was tried", function()
    local h, plan, req = setup()
    local result = R.failure(plan, "model_unavailable", 502, "Access denied.")
    result.model = CORE
    result.fallback_from = { { model = ULTRA, code = "model_retired", message = "end of its life" } }
    local a = h.respond(result, req)
    assert.are.equal("Access denied; tried before it: " .. ULTRA .. " (model_retired); active models this "
      .. "deployment allows: " .. ULTRA .. ", " .. SD35, a.body.error.message)
    assert.are.equal("10", a.headers["RateLimit-Remaining"])
  end)

  it("leaves legacy and retired models out of the active list", function()
    local h = C.harness({ now = NOV_2026, config = function(c)
      c.allowed_models = { TITAN, TITAN2, NOVA }; c.default_model = TITAN
    end })
    local req = get({ prompt = "x" })
    local _, plan = h.plan(req)
    local msg = h.respond(R.failure(plan, "model_retired", 502, "gone"), req).body.error.message
    assert.are.equal("gone; this deployment allows no other active model, so the operator must allow one", msg)
  end)
end)
