-- mapping_spec.lua - from checked parameters to the plan the runtime carries out: the exact
-- Bedrock body, the seed, where images are stored and what the context hands back.

local C = require("contract")
local R = require("requests")
local shim = require("shim")

local TITAN = "amazon.titan-image-generator-v1"
local NOVA = "amazon.nova-canvas-v1:0"

local function get(q) return R.get("/generate-image", q) end
local function post(b) return R.post("/generate-image", b) end

describe("the Titan G1 body", function()
  it("is exactly the TEXT_IMAGE request", function()
    local g = C.titan_harness().plan(get({
      prompt = "a lighthouse at dusk", negativePrompt = "people", width = "1173", height = "640",
      cfgScale = "7.5", seed = "42", numberOfImages = "2", quality = "premium",
    }))
    assert.are.same({
      taskType = "TEXT_IMAGE",
      textToImageParams = { text = "a lighthouse at dusk", negativeText = "people" },
      imageGenerationConfig = {
        numberOfImages = 2, quality = "premium", width = 1173, height = 640, cfgScale = 7.5, seed = 42,
      },
    }, g.body)
  end)

  it("leaves negativeText out when no negativePrompt is given", function()
    local g = C.titan_harness().plan(get({ prompt = "a cat", seed = "1" }))
    assert.are.same({ text = "a cat" }, g.body.textToImageParams)
    local json = require("cjson").encode(g.body)
    assert.is_nil(json:find("negativeText", 1, true))
  end)

  it("sends the cleaned prompt", function()
    local g = C.titan_harness().plan(post({ prompt = "  a\tcat\0 " }))
    assert.are.equal("a cat", g.body.textToImageParams.text)
  end)

  it("carries integers as integers", function()
    local cfg = C.titan_harness().plan(get({ prompt = "x", seed = "7" })).body.imageGenerationConfig
    for _, k in ipairs({ "numberOfImages", "width", "height", "seed" }) do
      assert.are.equal("integer", math.type(cfg[k]), k)
    end
  end)

  it("tells the runtime where the images are and what a filtered answer looks like", function()
    local g = C.titan_harness().plan(get({ prompt = "x", numberOfImages = "3" }))
    assert.are.equal(TITAN, g.model)
    assert.are.equal("images", g.images)
    assert.are.equal("error", g.error_field)
    assert.are.equal(3, g.expected_images)
  end)

  it("uses the same envelope for Nova Canvas, with its own defaults", function()
    local h = C.titan_harness({ config = function(c) c.allowed_models = { TITAN, NOVA } end })
    local g = h.plan(get({ prompt = "x", model = NOVA, seed = "5" }))
    assert.are.equal(NOVA, g.model)
    assert.are.same({
      taskType = "TEXT_IMAGE",
      textToImageParams = { text = "x" },
      imageGenerationConfig = { numberOfImages = 1, quality = "standard", width = 1024, height = 1024, cfgScale = 6.5, seed = 5 },
    }, g.body)
  end)
end)

describe("the seed", function()
  it("is drawn from imagegen.random over the model's range when not given", function()
    local h = C.titan_harness()
    h.ctl.random_queue = { 123456789 }
    local g = h.plan(get({ prompt = "x" }))
    assert.are.same({ { 0, 2147483647 } }, h.ctl.random_calls)
    assert.are.equal(123456789, g.body.imageGenerationConfig.seed)
    assert.are.equal(123456789, g.context.seed)
    assert.are.equal("123456789", g.metadata.seed)
  end)

  it("drawn at random stays in range over many requests", function()
    local h = C.titan_harness({ config = function(c) c.rate_limit.enabled = false end })
    local seen = {}
    for _ = 1, 200 do
      local s = h.plan(get({ prompt = "x" })).body.imageGenerationConfig.seed
      assert.is_true(s >= 0 and s <= 2147483647)
      seen[s] = true
    end
    local distinct = 0
    for _ in pairs(seen) do distinct = distinct + 1 end
    assert.is_true(distinct > 190)
  end)

  it("uses Nova Canvas's range", function()
    local h = C.titan_harness({ config = function(c) c.allowed_models = { NOVA }; c.default_model = NOVA end })
    h.plan(get({ prompt = "x" }))
    assert.are.same({ { 0, 858993459 } }, h.ctl.random_calls)
  end)

  it("is not drawn when the client gives one", function()
    local h = C.titan_harness()
    assert.are.equal(0, h.plan(get({ prompt = "x", seed = "0" })).body.imageGenerationConfig.seed)
    assert.are.equal(0, #h.ctl.random_calls)
  end)

  it("is returned to the client with every image", function()
    local h = C.titan_harness()
    h.ctl.random_queue = { 31337 }
    local req = get({ prompt = "x", numberOfImages = "2" })
    local _, plan = h.plan(req)
    local body = C.client_body(h.respond(R.success(plan), req))
    assert.are.equal(31337, body.images[1].seed)
    assert.are.equal(31337, body.images[2].seed)
  end)

  it("from a broken random source is a policy error, not a bad request", function()
    local h = C.titan_harness()
    h.ctl.random_queue = { 2147483648 }
    assert.has_error(function() h.policy.admit(get({ prompt = "x" }), R.ctx()) end)
  end)
end)

describe("storage", function()
  it("puts images under images/YYYY/MM/DD/ of the current UTC day", function()
    local h = C.titan_harness({ now = 1795000000 })
    assert.are.equal("images/" .. os.date("!%Y/%m/%d", 1795000000) .. "/", h.plan(get({ prompt = "x" })).key_prefix)
    h.ctl.advance(86400)
    assert.are.equal("images/" .. os.date("!%Y/%m/%d", 1795086400) .. "/", h.plan(get({ prompt = "x" })).key_prefix)
  end)

  it("takes the prefix pattern from config", function()
    local h = C.titan_harness({ config = function(c) c.storage.key_prefix = "gen/%Y-%m/" end, now = 1795000000 })
    assert.are.equal("gen/" .. os.date("!%Y-%m", 1795000000) .. "/", h.plan(get({ prompt = "x" })).key_prefix)
  end)

  it("gives URLs a lifetime of 3600 seconds unless configured", function()
    assert.are.equal(3600, C.titan_harness().plan(get({ prompt = "x" })).url_ttl)
    assert.are.equal(60, C.titan_harness({ config = function(c) c.storage.url_ttl = 60 end }).plan(get({ prompt = "x" })).url_ttl)
    assert.are.equal(604800, C.titan_harness({ env = { IMAGEGEN_URL_TTL = "604800" } }).plan(get({ prompt = "x" })).url_ttl)
  end)

  it("sends the configured Cache-Control, or none when empty", function()
    assert.are.equal("private, max-age=3600", C.titan_harness().plan(get({ prompt = "x" })).cache_control)
    assert.is_nil(C.titan_harness({ config = function(c) c.storage.cache_control = "" end }).plan(get({ prompt = "x" })).cache_control)
  end)

  it("stores seed and model as metadata (the runtime adds the size), never the prompt by default", function()
    local g = C.titan_harness().plan(get({ prompt = "secret plans", seed = "9", width = "512", height = "512" }))
    assert.are.same({ seed = "9", model = TITAN }, g.metadata)
  end)

  it("stores the prompt's SHA-256 or text when configured", function()
    local h = C.titan_harness({ config = function(c) c.storage.prompt_metadata = "sha256" end })
    assert.are.equal(shim.sha256("a cat"), h.plan(get({ prompt = " a  cat " }))["metadata"]["prompt-sha256"])
    h = C.titan_harness({ config = function(c) c.storage.prompt_metadata = "text" end })
    assert.are.equal("a cat", h.plan(get({ prompt = " a  cat " })).metadata.prompt)
  end)

  it("cuts a stored prompt text to 1024 bytes on a character boundary", function()
    local h = C.titan_harness({ config = function(c) c.storage.prompt_metadata = "text" end })
    local stored = h.plan(post({ prompt = string.rep("€", 500) })).metadata.prompt -- 3 bytes each
    assert.are.equal(1023, #stored)
    assert.are.equal(341, utf8.len(stored))
  end)
end)

describe("the context", function()
  it("holds what respond needs", function()
    local h = C.titan_harness()
    local g = h.plan(get({ prompt = "x", seed = "3", width = "768", height = "1152", quality = "premium" }))
    assert.are.equal(3, g.context.seed)
    assert.are.equal(768, g.context.width)
    assert.are.equal(1152, g.context.height)
    assert.are.equal(TITAN, g.context.model)
    assert.are.equal("premium", g.context.quality)
    assert.are.equal(1, g.context.numberOfImages)
  end)

  it("never holds the prompt", function()
    local g = C.titan_harness().plan(get({ prompt = "very private words" }))
    assert.is_nil(require("cjson").encode(g.context):find("private", 1, true))
  end)
end)

describe("the image cache", function()
  local function cached(c) c.cache.enabled = true end

  it("is off by default", function()
    assert.is_nil(C.titan_harness().plan(get({ prompt = "x", seed = "1" })).cache_key)
  end)

  it("keys a request with an explicit seed by a hash of model and body", function()
    local h = C.titan_harness({ config = cached })
    local a = h.plan(get({ prompt = "a cat", seed = "1" }))
    local b = h.plan(post({ prompt = "a  cat", seed = 1 }))
    assert.are.equal(64, #a.cache_key)
    assert.are.equal(a.cache_key, b.cache_key)
    assert.are.equal("images/cache/", a.key_prefix)
    assert.are_not.equal(a.cache_key, h.plan(get({ prompt = "a dog", seed = "1" })).cache_key)
    assert.are_not.equal(a.cache_key, h.plan(get({ prompt = "a cat", seed = "2" })).cache_key)
  end)

  it("is not used without an explicit seed", function()
    local g = C.titan_harness({ config = cached }).plan(get({ prompt = "a cat" }))
    assert.is_nil(g.cache_key)
    assert.matches("^images/", g.key_prefix)
  end)

  it("marks a cached answer", function()
    local h = C.titan_harness({ config = cached })
    local req = get({ prompt = "a cat", seed = "1" })
    local _, plan = h.plan(req)
    assert.is_true(C.client_body(h.respond(R.success(plan, { cached = true }), req)).cached)
    assert.is_nil(C.client_body(h.respond(R.success(plan), req)).cached)
  end)
end)

describe("the shim's SHA-256", function()
  it("matches the FIPS 180-4 examples", function()
    assert.are.equal("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", shim.sha256(""))
    assert.are.equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", shim.sha256("abc"))
    assert.are.equal("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1",
      shim.sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))
  end)
end)
