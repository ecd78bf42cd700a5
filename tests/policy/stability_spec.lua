-- stability_spec.lua - the Stability family (SD3.5 Large, Stable Image Core, Stable Image
-- Ultra) and the public API across families: aspect ratios, width/height on ratio models,
-- output formats, parameters a model does not take, inference-profile ids, and the plan's
-- attempts/calls with one call per image and seeds s, s+1, ...

local C = require("contract")
local R = require("requests")
local shim = require("shim")

local SD35 = "stability.sd3-5-large-v1:0"
local CORE = "stability.stable-image-core-v1:1"
local ULTRA = "stability.stable-image-ultra-v1:1"
local TITAN = "amazon.titan-image-generator-v1"
local TITAN2 = "amazon.titan-image-generator-v2:0"
local NOVA = "amazon.nova-canvas-v1:0"
local STABILITY = { SD35, CORE, ULTRA }
local RATIOS = "16:9, 1:1, 21:9, 2:3, 3:2, 4:5, 5:4, 9:16, 9:21"

local function get(q) return R.get("/generate-image", q) end
local function post(b) return R.post("/generate-image", b) end

-- No rate limit, so a spec can make as many plans as it likes.
local function unlimited(c) c.rate_limit.enabled = false end

local function refused(h, req, code, parts)
  local st, c, msg = h.refusal(req)
  assert.are.equal(400, st)
  assert.are.equal(code, c)
  for _, p in ipairs(parts or {}) do
    assert.matches(p, msg, 1, true)
  end
  return msg
end

describe("the shipped deployment", function()
  it("defaults to Stable Image Core and allows the three active models", function()
    local h = C.harness()
    local body = C.client_body(h.admit(R.get("/models")))
    assert.are.equal(CORE, body.defaultModel)
    assert.are.same({ CORE, SD35, ULTRA }, { body.models[1].id, body.models[2].id, body.models[3].id })
    assert.are.equal(CORE, h.plan(get({ prompt = "a lighthouse at dusk" })).model)
  end)

  it("refuses the legacy models until an operator allows them", function()
    refused(C.harness(), get({ prompt = "x", model = TITAN }), "unknown_model",
      { "allowed models: " .. CORE .. ", " .. SD35 .. ", " .. ULTRA })
  end)
end)

describe("GET /models for a Stability model", function()
  it("shows status, end of life (null), aspect ratios, their sizes and output formats", function()
    local m = C.client_body(C.harness().admit(R.get("/models"))).models[1]
    assert.are.equal(CORE, m.id)
    assert.are.equal("Stable Image Core", m.name)
    assert.are.equal("active", m.status)
    assert.are.equal(require("cjson").null, m.endOfLife)
    assert.are.same({ "16:9", "1:1", "21:9", "2:3", "3:2", "4:5", "5:4", "9:16", "9:21" }, m.aspectRatios)
    assert.are.same({ "1344x768", "1024x1024", "1536x640", "832x1216", "1216x832", "896x1088", "1088x896",
      "768x1344", "640x1536" }, m.sizes)
    assert.are.same({ "png", "jpeg", "webp" }, m.outputFormats)
    assert.are.same({ minLength = 1, maxLength = 10000 }, m.limits.prompt)
    assert.are.same({ minLength = 1, maxLength = 10000 }, m.limits.negativePrompt)
    assert.are.same({ min = 0, max = 4294967294 }, m.limits.seed)
    assert.are.same({ min = 1, max = 5 }, m.limits.numberOfImages)
    assert.is_nil(m.limits.cfgScale)
    assert.is_nil(m.limits.quality)
    assert.are.same({ aspectRatio = "1:1", outputFormat = "png", numberOfImages = 1 }, m.defaults)
  end)

  it("shows the legacy models' status and end of life when they are allowed", function()
    local h = C.harness({ config = function(c) c.allowed_models = { CORE, TITAN, TITAN2, NOVA } end })
    local list = C.client_body(h.admit(R.get("/models"))).models
    assert.are.same({ "active", "legacy", "legacy", "legacy" }, { list[1].status, list[2].status, list[3].status, list[4].status })
    assert.are.equal(require("cjson").null, list[2].endOfLife) -- Titan G1 v1: legacy, no date announced
    assert.are.equal("2026-06-30", list[3].endOfLife)
    assert.are.equal("2026-09-30", list[4].endOfLife)
    assert.is_nil(list[2].aspectRatios)
    assert.are.same({ "png" }, list[4].outputFormats)
  end)
end)

describe("the Stability body", function()
  for _, id in ipairs(STABILITY) do
    it("is exactly the text-to-image request on " .. id, function()
      local g = C.harness().plan(get({ model = id, prompt = "a red fox", negativePrompt = "snow",
        aspectRatio = "16:9", seed = "42", outputFormat = "jpeg" }))
      assert.are.equal(id, g.model)
      assert.are.same({
        prompt = "a red fox", negative_prompt = "snow", aspect_ratio = "16:9", mode = "text-to-image",
        seed = 42, output_format = "jpeg",
      }, g.attempts[1].calls[1].body)
      assert.are.equal("images", g.attempts[1].images)
      assert.are.equal("finish_reasons", g.attempts[1].error_field)
    end)
  end

  it("fills in 1:1 and png, and leaves negative_prompt out when none is given", function()
    local g = C.harness().plan(post({ prompt = "  a\tcat ", seed = 7 }))
    assert.are.same({ prompt = "a cat", aspect_ratio = "1:1", mode = "text-to-image", seed = 7, output_format = "png" },
      g.body)
    assert.is_nil(require("cjson").encode(g.body):find("negative", 1, true))
    assert.are.equal("integer", math.type(g.body.seed))
  end)

  it("takes a prompt of 10000 characters and refuses 10001", function()
    local h = C.harness({ config = function(c) c.prompt.max_input_bytes = 65536 end })
    assert.are.equal(10000, #h.plan(post({ prompt = string.rep("a", 10000) })).body.prompt)
    refused(h, post({ prompt = string.rep("a", 10001) }), "invalid_prompt",
      { "prompt must be 1 to 10000 characters long; got 10001 characters" })
  end)
end)

describe("numberOfImages on a one-image-per-call model", function()
  it("becomes n calls with seeds s, s+1, ... when the client gives s", function()
    local g = C.harness().plan(get({ model = CORE, prompt = "x", numberOfImages = "3", seed = "5" }))
    assert.are.equal(1, #g.attempts)
    local a = g.attempts[1]
    assert.are.equal(CORE, a.model)
    assert.are.equal(3, #a.calls)
    for i, s in ipairs({ 5, 6, 7 }) do
      assert.are.same({ prompt = "x", aspect_ratio = "1:1", mode = "text-to-image", seed = s, output_format = "png" },
        a.calls[i].body)
      assert.are.same({ seed = tostring(s), model = CORE }, a.calls[i].metadata)
    end
    assert.are.equal(3, g.expected_images)
    assert.are.same({ 5, 6, 7 }, a.context.seeds)
    assert.are.equal(5, g.context.seed)
    assert.are.equal("5", g.metadata.seed)
    -- the old single-call members still describe the first call
    assert.are.equal(CORE, g.model)
    assert.are.equal(a.calls[1].body, g.body)
    assert.are.equal("finish_reasons", g.error_field)
  end)

  it("draws s in 1..4294967294 when the client gives none", function()
    local h = C.harness()
    h.ctl.random_queue = { 4000000000 }
    local g = h.plan(get({ prompt = "x", numberOfImages = "2" }))
    assert.are.same({ { 1, 4294967294 } }, h.ctl.random_calls)
    assert.are.same({ 4000000000, 4000000001 }, g.context.seeds)
    assert.are.equal(4000000001, g.attempts[1].calls[2].body.seed)
  end)

  it("draws s when the client gives 0, which asks the model for a random seed", function()
    local h = C.harness()
    h.ctl.random_queue = { 99 }
    local g = h.plan(post({ prompt = "x", seed = 0 }))
    assert.are.equal(1, #h.ctl.random_calls)
    assert.are.equal(99, g.body.seed)
    assert.are.equal(99, g.context.seed)
  end)

  it("wraps past the top of the range to 1, never to 0", function()
    local g = C.harness().plan(post({ prompt = "x", seed = 4294967293, numberOfImages = 3 }))
    assert.are.same({ 4294967293, 4294967294, 1 }, g.context.seeds)
  end)

  it("accepts 1 to 5 and refuses 6", function()
    local h = C.harness({ config = unlimited })
    for n = 1, 5 do
      assert.are.equal(n, #h.plan(post({ prompt = "x", numberOfImages = n })).attempts[1].calls)
    end
    refused(h, post({ prompt = "x", numberOfImages = 6 }), "invalid_parameter",
      { "numberOfImages must be between 1 and 5; got 6" })
  end)

  it("stays one call asking for n images on Titan", function()
    local g = C.titan_harness().plan(get({ prompt = "x", numberOfImages = "3", seed = "5" }))
    assert.are.equal(1, #g.attempts[1].calls)
    assert.are.equal(3, g.attempts[1].calls[1].body.imageGenerationConfig.numberOfImages)
    assert.are.equal(5, g.attempts[1].calls[1].body.imageGenerationConfig.seed)
    assert.are.same({ 5 }, g.context.seeds)
    assert.are.equal("error", g.attempts[1].error_field)
  end)
end)

describe("aspectRatio and width/height on a ratio model", function()
  it("takes every ratio, and reports the size the model makes for it", function()
    local h = C.harness({ config = unlimited })
    local sizes = { ["16:9"] = { 1344, 768 }, ["1:1"] = { 1024, 1024 }, ["21:9"] = { 1536, 640 },
      ["2:3"] = { 832, 1216 }, ["3:2"] = { 1216, 832 }, ["4:5"] = { 896, 1088 }, ["5:4"] = { 1088, 896 },
      ["9:16"] = { 768, 1344 }, ["9:21"] = { 640, 1536 } }
    for ratio, s in pairs(sizes) do
      local g = h.plan(get({ prompt = "x", aspectRatio = ratio }))
      assert.are.equal(ratio, g.body.aspect_ratio)
      assert.are.same(s, { g.context.width, g.context.height }, ratio)
    end
  end)

  it("accepts width x height that reduce exactly to a ratio, or are its documented size", function()
    local h = C.harness({ config = unlimited })
    for _, case in ipairs({ { 1920, 1080, "16:9" }, { 1344, 768, "16:9" }, { 1000, 1000, "1:1" },
      { 640, 1536, "9:21" }, { 2100, 900, "21:9" }, { 896, 1088, "4:5" }, { 800, 1000, "4:5" } }) do
      local g = h.plan(post({ prompt = "x", width = case[1], height = case[2] }))
      assert.are.equal(case[3], g.body.aspect_ratio, case[1] .. "x" .. case[2])
      assert.is_nil(g.body.width)
    end
  end)

  it("refuses width x height that name no ratio, listing the ratios and their sizes", function()
    refused(C.harness(), get({ prompt = "x", width = "1000", height = "700" }), "invalid_parameter",
      { "width x height 1000x700 matches none of the aspect ratios of " .. CORE,
        "give aspectRatio (one of " .. RATIOS .. ")", "16:9 (1344x768)" })
  end)

  it("accepts aspectRatio with width and height that agree, and refuses them when they disagree", function()
    local h = C.harness()
    assert.are.equal("16:9", h.plan(get({ prompt = "x", aspectRatio = "16:9", width = "1920", height = "1080" })).body.aspect_ratio)
    refused(h, get({ prompt = "x", aspectRatio = "16:9", width = "1024", height = "1024" }), "invalid_parameter",
      { 'aspectRatio "16:9" and width x height 1024x1024 (1:1) disagree' })
  end)

  it("still wants width and height together", function()
    refused(C.harness(), get({ prompt = "x", width = "1024" }), "invalid_parameter",
      { "width and height go together: give both or neither (default 1024x1024)" })
  end)

  it("refuses a ratio the model does not have, naming the allowed ones", function()
    refused(C.harness(), get({ prompt = "x", aspectRatio = "4:3" }), "invalid_parameter",
      { 'aspectRatio must be one of ' .. RATIOS .. '; got "4:3"' })
    refused(C.harness(), post({ prompt = "x", aspectRatio = 1.5 }), "invalid_parameter", { "got 1.5" })
  end)
end)

describe("outputFormat", function()
  it("picks png, jpeg or webp on a Stability model", function()
    local h = C.harness({ config = unlimited })
    for _, f in ipairs({ "png", "jpeg", "webp" }) do
      local g = h.plan(get({ prompt = "x", outputFormat = f }))
      assert.are.equal(f, g.body.output_format)
      assert.are.equal(f, g.context.format)
    end
  end)

  it("is png only on Titan and Nova, and never sent to them", function()
    local h = C.titan_harness({ config = function(c) c.allowed_models = { TITAN, NOVA } end })
    local g = h.plan(get({ prompt = "x", outputFormat = "png" }))
    assert.is_nil(require("cjson").encode(g.body):find("png", 1, true))
    refused(h, get({ prompt = "x", outputFormat = "jpeg" }), "invalid_parameter",
      { 'outputFormat must be one of png; got "jpeg"' })
    refused(h, get({ prompt = "x", model = NOVA, outputFormat = "webp" }), "invalid_parameter",
      { 'outputFormat must be one of png; got "webp"' })
  end)
end)

describe("parameters a model does not take", function()
  for _, name in ipairs({ "cfgScale", "quality" }) do
    it(name .. " on a Stability model is a 400 naming the parameter and the model", function()
      local q = { prompt = "x" }
      q[name] = name == "cfgScale" and "7" or "premium"
      refused(C.harness(), get(q), "invalid_parameter",
        { name .. " is not supported by " .. CORE .. ", which takes prompt, negativePrompt, aspectRatio, width, "
          .. "height, seed, numberOfImages, outputFormat" })
    end)
  end

  it("aspectRatio on Titan is a 400 that points to width and height", function()
    refused(C.titan_harness(), get({ prompt = "x", aspectRatio = "1:1" }), "invalid_parameter",
      { "aspectRatio is not supported by " .. TITAN, "give width and height instead (supported sizes: 1024x1024" })
  end)

  it("a JSON null counts as not given", function()
    C.harness().plan(post('{"prompt":"x","cfgScale":null,"quality":null}'))
  end)
end)

-- For every model in the catalogue: each invalid parameter is a 400 that names the parameter
-- and what is allowed, and nothing is planned (no ImagesRequested metric, no plan).
describe("every invalid parameter, on every model", function()
  local loader = require("loader")
  local models = loader.load().require("models")
  for _, m in ipairs(models.list) do
    local ratio = m.aspect_ratios ~= nil
    local formats = table.concat(m.output_formats, ", ")
    local cases = {
      { "prompt", { prompt = string.rep("p", m.prompt.max + 1) },
        string.format("prompt must be 1 to %d characters long", m.prompt.max) },
      { "prompt", { prompt = "" }, string.format("give 1 to %d characters", m.prompt.max) },
      { "negativePrompt", { negativePrompt = string.rep("n", m.negative_prompt.max + 1) },
        string.format("negativePrompt must be 1 to %d characters long", m.negative_prompt.max) },
      { "seed", { seed = tostring(m.seed.max + 1) }, string.format("seed must be between 0 and %d", m.seed.max) },
      { "seed", { seed = "-1" }, string.format("seed must be between 0 and %d", m.seed.max) },
      { "numberOfImages", { numberOfImages = "0" }, "numberOfImages must be between 1 and 5" },
      { "numberOfImages", { numberOfImages = "six" }, "numberOfImages must be an integer between 1 and 5" },
      { "outputFormat", { outputFormat = "gif" }, "outputFormat must be one of " .. formats },
    }
    if ratio then
      cases[#cases + 1] = { "aspectRatio", { aspectRatio = "7:3" }, "aspectRatio must be one of " .. RATIOS }
      cases[#cases + 1] = { "width", { width = "1000", height = "333" }, "give aspectRatio (one of " .. RATIOS }
      cases[#cases + 1] = { "width", { width = "0", height = "1024" }, "width must be between 1 and 16384" }
      cases[#cases + 1] = { "cfgScale", { cfgScale = "7" }, "cfgScale is not supported by " .. m.id .. ", which takes" }
      cases[#cases + 1] = { "quality", { quality = "standard" }, "quality is not supported by " .. m.id .. ", which takes" }
    else
      cases[#cases + 1] = { "aspectRatio", { aspectRatio = "1:1" }, "aspectRatio is not supported by " .. m.id }
      cases[#cases + 1] = { "width", { width = "1000", height = "1001" }, models.describe_sizes(m) }
      cases[#cases + 1] = { "cfgScale", { cfgScale = "11" },
        string.format("cfgScale must be between %s and %s", m.cfg_scale.min, m.cfg_scale.max) }
      cases[#cases + 1] = { "quality", { quality = "ultra" }, "quality must be one of standard, premium" }
    end
    for _, case in ipairs(cases) do
      local name, q, want = case[1], case[2], case[3]
      it(m.id .. ": " .. name .. " " .. require("cjson").encode(q):sub(1, 60), function()
        local h = C.harness({ config = function(c)
          c.allowed_models = { m.id }; c.default_model = m.id
          c.prompt.max_input_bytes = 65536
        end })
        local query = { model = m.id, prompt = "a lighthouse" }
        for k, v in pairs(q) do query[k] = v end
        local st, code, msg = h.refusal(get(query))
        assert.are.equal(400, st)
        assert.is_truthy(code == "invalid_parameter" or code == "invalid_prompt", code)
        assert.matches(name, msg, 1, true)
        assert.matches(want, msg, 1, true)
        assert.are.equal(0, h.ctl.metric_total("ImagesRequested"))
      end)
    end
  end
end)

describe("cross-region inference profiles", function()
  local PROFILE = "us." .. CORE

  it("resolve to the same catalogue entry and are invoked under their own id", function()
    local h = C.harness({ config = function(c) c.allowed_models = { PROFILE, CORE }; c.default_model = PROFILE end })
    local g = h.plan(get({ prompt = "x", numberOfImages = "2", aspectRatio = "9:16" }))
    assert.are.equal(PROFILE, g.model)
    assert.are.equal(PROFILE, g.attempts[1].calls[2].metadata.model)
    assert.are.equal("9:16", g.body.aspect_ratio)
    assert.are.equal(2, #g.attempts[1].calls)
    local list = C.client_body(h.admit(R.get("/models"))).models
    assert.are.equal(PROFILE, list[1].id)
    assert.are.equal(CORE, list[1].foundationModel)
    assert.are.same(list[2].aspectRatios, list[1].aspectRatios)
    assert.is_nil(list[2].foundationModel)
  end)

  it("must be allowed like any model id", function()
    refused(C.harness(), get({ prompt = "x", model = PROFILE }), "unknown_model", { '"' .. PROFILE .. '"' })
  end)

  it("exist only for the models that list them", function()
    local err = require("loader").load_error({ config = function(c) c.allowed_models = { "us." .. TITAN } end })
    assert.matches('allowed_models[1] names an unknown model "us.' .. TITAN .. '"', err, 1, true)
  end)
end)

describe("the image cache with one call per image", function()
  local function cached(c) c.cache.enabled = true end

  it("keys the request by the model and every call's body", function()
    local h = C.harness({ config = function(c) cached(c); unlimited(c) end })
    local plan = h.require("plan")
    local a = h.plan(get({ prompt = "a cat", seed = "5", numberOfImages = "2" }))
    local parts = { CORE }
    for _, c in ipairs(a.attempts[1].calls) do parts[#parts + 1] = plan.canonical(c.body) end
    assert.are.equal(shim.sha256(table.concat(parts, "\n")), a.cache_key)
    assert.are.equal(a.cache_key, h.plan(post({ prompt = "a cat", seed = 5, numberOfImages = 2 })).cache_key)
    assert.are_not.equal(a.cache_key, h.plan(get({ prompt = "a cat", seed = "5", numberOfImages = "3" })).cache_key)
    assert.are_not.equal(a.cache_key, h.plan(get({ prompt = "a cat", seed = "5", numberOfImages = "2", outputFormat = "jpeg" })).cache_key)
  end)

  it("keeps Titan's key as it was, so images cached before stay valid", function()
    local h = C.titan_harness({ config = cached })
    local g = h.plan(get({ prompt = "a cat", seed = "1" }))
    assert.are.equal(shim.sha256(TITAN .. "\n" .. h.require("plan").canonical(g.body)), g.cache_key)
  end)

  it("is not used when seed 0 asks the model for a random one", function()
    assert.is_nil(C.harness({ config = cached }).plan(get({ prompt = "a cat", seed = "0" })).cache_key)
  end)
end)
