-- validation_spec.lua - every parameter of /generate-image, and every class of bad value.

local C = require("contract")
local R = require("requests")

local TITAN = "amazon.titan-image-generator-v1"
local TITAN2 = "amazon.titan-image-generator-v2:0"
local NOVA = "amazon.nova-canvas-v1:0"

local function get(q) return R.get("/generate-image", q) end
local function post(b, opts) return R.post("/generate-image", b, opts) end

local function with_nova(cfg)
  cfg.allowed_models = { TITAN, TITAN2, NOVA }
end

-- Asserts a 400 refusal with `code` whose message contains every string in `parts`.
local function refused(h, req, code, parts, status)
  local st, c, msg = h.refusal(req)
  assert.are.equal(status or 400, st)
  assert.are.equal(code, c)
  for _, p in ipairs(parts or {}) do
    assert.matches(p, msg, 1, true)
  end
  return msg
end

describe("defaults", function()
  it("fills in every parameter from the default model's defaults when only a prompt is given", function()
    local h = C.titan_harness()
    local g = h.plan(get({ prompt = "a lighthouse at dusk" }))
    local cfg = g.body.imageGenerationConfig
    assert.are.equal(TITAN, g.model)
    assert.are.equal(1024, cfg.width)
    assert.are.equal(1024, cfg.height)
    assert.are.equal(8, cfg.cfgScale)
    assert.are.equal(1, cfg.numberOfImages)
    assert.are.equal("standard", cfg.quality)
  end)
end)

describe("prompt", function()
  it("is required", function()
    local h = C.titan_harness()
    refused(h, get({ width = "512", height = "512" }), "invalid_prompt", { "prompt is required", "1 to 512 characters" })
    refused(h, post({}), "invalid_prompt", { "prompt is required" })
  end)

  it("treats a JSON null as not given", function()
    refused(C.titan_harness(), post('{"prompt":null}'), "invalid_prompt", { "prompt is required" })
  end)

  it("refuses an empty string", function()
    refused(C.titan_harness(), get({ prompt = "" }), "invalid_prompt", { "prompt is empty", "give 1 to 512 characters" })
  end)

  it("accepts 512 characters and refuses 513", function()
    local h = C.titan_harness()
    assert.are.equal(512, #h.plan(get({ prompt = string.rep("a", 512) })).body.textToImageParams.text)
    refused(h, get({ prompt = string.rep("a", 513) }), "invalid_prompt",
      { "prompt must be 1 to 512 characters long; got 513 characters" })
  end)

  it("counts characters, not bytes", function()
    local h = C.titan_harness()
    local e512 = string.rep("é", 512) -- 1024 bytes
    assert.are.equal(e512, h.plan(get({ prompt = e512 })).body.textToImageParams.text)
    refused(h, get({ prompt = string.rep("é", 513) }), "invalid_prompt", { "got 513 characters" })
    local emoji = string.rep("🐱", 512) -- 4 bytes each
    assert.are.equal(emoji, h.plan(post({ prompt = emoji })).body.textToImageParams.text)
  end)

  it("refuses a huge prompt by its size before cleaning it", function()
    local h = C.titan_harness()
    local msg = refused(h, post({ prompt = string.rep("x", 1024 * 1024) }), "invalid_prompt",
      { "prompt is too long (1048576 bytes)", "at most 512 characters" })
    assert.is_true(#msg < 200)
  end)

  it("removes NUL bytes", function()
    assert.are.equal("ab c", C.titan_harness().plan(get({ prompt = "a\0b\0 c\0" })).body.textToImageParams.text)
  end)

  it("must be a string in a JSON body", function()
    local h = C.titan_harness()
    refused(h, post({ prompt = 42 }), "invalid_prompt", { "prompt must be a string of 1 to 512 characters; got 42" })
    refused(h, post({ prompt = true }), "invalid_prompt", { "got true" })
    refused(h, post('{"prompt":["a","b"]}'), "invalid_prompt", { "got an array" })
    refused(h, post('{"prompt":{"text":"a"}}'), "invalid_prompt", { "got an object" })
  end)

  it("allows up to 1024 characters on Nova Canvas", function()
    local h = C.titan_harness({ config = with_nova })
    local long = string.rep("n", 1024)
    assert.are.equal(long, h.plan(post({ model = NOVA, prompt = long })).body.textToImageParams.text)
    refused(h, post({ model = NOVA, prompt = long .. "n" }), "invalid_prompt", { "1 to 1024 characters" })
  end)
end)

describe("negativePrompt", function()
  it("is optional", function()
    local g = C.titan_harness().plan(get({ prompt = "a cat" }))
    assert.is_nil(g.body.textToImageParams.negativeText)
  end)

  it("is sent as negativeText when given", function()
    local g = C.titan_harness().plan(post({ prompt = "a cat", negativePrompt = "dogs" }))
    assert.are.equal("dogs", g.body.textToImageParams.negativeText)
  end)

  it("refuses an empty or blank value", function()
    local h = C.titan_harness()
    refused(h, get({ prompt = "a cat", negativePrompt = "" }), "invalid_prompt", { "negativePrompt is empty" })
    refused(h, post({ prompt = "a cat", negativePrompt = " \t\n " }), "invalid_prompt", { "negativePrompt is empty" })
  end)

  it("refuses more than 512 characters", function()
    refused(C.titan_harness(), post({ prompt = "a cat", negativePrompt = string.rep("d", 513) }), "invalid_prompt",
      { "negativePrompt must be 1 to 512 characters long; got 513" })
  end)

  it("must be a string", function()
    refused(C.titan_harness(), post({ prompt = "a cat", negativePrompt = 7 }), "invalid_prompt",
      { "negativePrompt must be a string" })
  end)
end)

describe("width and height", function()
  it("accepts every one of Titan's 25 sizes, on v1 and v2", function()
    local h = C.titan_harness({ config = function(c) c.rate_limit.enabled = false end })
    local models = h.require("models")
    local sizes = models.get(TITAN).sizes
    assert.are.equal(25, #sizes)
    for _, model in ipairs({ TITAN, TITAN2 }) do
      for _, s in ipairs(sizes) do
        local g = h.plan(get({ prompt = "x", model = model, width = tostring(s[1]), height = tostring(s[2]) }))
        assert.are.equal(s[1], g.body.imageGenerationConfig.width)
        assert.are.equal(s[2], g.body.imageGenerationConfig.height)
      end
    end
  end)

  it("refuses a size Titan does not offer, listing the supported sizes", function()
    local msg = refused(C.titan_harness(), get({ prompt = "x", width = "1000", height = "1000" }), "invalid_parameter",
      { "width x height 1000x1000 is not supported by amazon.titan-image-generator-v1; supported sizes: 1024x1024, " })
    assert.matches("1173x640", msg, 1, true)
    -- swapped sides are not automatically allowed: 1173x640 exists, 640x1173 does not
    refused(C.titan_harness(), post({ prompt = "x", width = 640, height = 1173 }), "invalid_parameter", { "640x1173" })
  end)

  it("refuses a side outside the model's range before checking the pair", function()
    local h = C.titan_harness()
    refused(h, get({ prompt = "x", width = "2048", height = "1024" }), "invalid_parameter",
      { "width must be between 320 and 1408; got 2048" })
    refused(h, get({ prompt = "x", width = "1024", height = "0" }), "invalid_parameter",
      { "height must be between 320 and 1408; got 0" })
  end)

  it("requires both or neither", function()
    local h = C.titan_harness()
    refused(h, get({ prompt = "x", width = "512" }), "invalid_parameter",
      { "width and height go together: give both or neither (default 1024x1024)" })
    refused(h, post({ prompt = "x", height = 512 }), "invalid_parameter", { "width and height go together" })
  end)

  for _, bad in ipairs({ "10abc", "1e3", " 512", "512 ", "0x200", "512.0", "", "+512", "5 12", "٥١٢", "512\0" }) do
    it("refuses the query value " .. string.format("%q", bad) .. " as not an integer", function()
      refused(C.titan_harness(), get({ prompt = "x", width = bad, height = "512" }), "invalid_parameter",
        { "width must be an integer between 320 and 1408; got \"" })
    end)
  end

  it("names the bad value in the message, escaped", function()
    local h = C.titan_harness()
    refused(h, get({ prompt = "x", width = "10abc", height = "512" }), "invalid_parameter", { 'got "10abc"' })
    refused(h, get({ prompt = "x", width = "512\0", height = "512" }), "invalid_parameter", { 'got "512\\x00"' })
  end)

  it("refuses a numeric string in a JSON body", function()
    refused(C.titan_harness(), post({ prompt = "x", width = "512", height = 512 }), "invalid_parameter",
      { 'width must be an integer (a JSON number) between 320 and 1408; got the string "512"' })
  end)

  it("refuses a fraction in a JSON body but accepts a whole number written as 512.0", function()
    local h = C.titan_harness()
    refused(h, post('{"prompt":"x","width":512.5,"height":512}'), "invalid_parameter",
      { "width must be an integer between 320 and 1408; got 512.5" })
    local g = h.plan(post('{"prompt":"x","width":512.0,"height":512}'))
    assert.are.equal(512, g.body.imageGenerationConfig.width)
    assert.are.equal("integer", math.type(g.body.imageGenerationConfig.width))
  end)

  it("refuses other JSON types", function()
    local h = C.titan_harness()
    refused(h, post({ prompt = "x", width = true, height = 512 }), "invalid_parameter", { "got true" })
    refused(h, post('{"prompt":"x","width":[512],"height":512}'), "invalid_parameter", { "got an array" })
    refused(h, post('{"prompt":"x","width":1e300,"height":512}'), "invalid_parameter",
      { "width must be between 320 and 1408; got 1e+300" })
  end)

  it("follows Nova Canvas's size rule", function()
    local h = C.titan_harness({ config = with_nova })
    local function size(w, h2) return post({ model = NOVA, prompt = "x", width = w, height = h2 }) end
    assert.are.equal(2048, h.plan(size(2048, 1024)).body.imageGenerationConfig.width)
    assert.are.equal(320, h.plan(size(320, 1280)).body.imageGenerationConfig.width) -- exactly 1:4
    refused(h, size(1000, 1000), "invalid_parameter", { "multiple of 16" })         -- not multiple of 16
    refused(h, size(320, 1296), "invalid_parameter", { "1:4" })                     -- beyond 1:4
    refused(h, size(2048, 2048), "invalid_parameter", { "at most 4194303 pixels" }) -- 4,194,304 pixels
    refused(h, size(4096, 1024), "invalid_parameter", { "4096x1024" })             -- 4,194,304 pixels
    refused(h, size(304, 320), "invalid_parameter", { "width must be between 320 and 4096" })
  end)
end)

describe("cfgScale", function()
  it("accepts 1.1 to 10", function()
    local h = C.titan_harness()
    assert.are.equal(1.1, h.plan(get({ prompt = "x", cfgScale = "1.1" })).body.imageGenerationConfig.cfgScale)
    assert.are.equal(10, h.plan(get({ prompt = "x", cfgScale = "10" })).body.imageGenerationConfig.cfgScale)
    assert.are.equal(7.5, h.plan(post({ prompt = "x", cfgScale = 7.5 })).body.imageGenerationConfig.cfgScale)
  end)

  it("refuses values outside 1.1 to 10", function()
    local h = C.titan_harness()
    refused(h, get({ prompt = "x", cfgScale = "1.0" }), "invalid_parameter", { "cfgScale must be between 1.1 and 10; got 1" })
    refused(h, get({ prompt = "x", cfgScale = "10.01" }), "invalid_parameter", { "got 10.01" })
    refused(h, post({ prompt = "x", cfgScale = -3 }), "invalid_parameter", { "got -3" })
  end)

  for _, bad in ipairs({ "abc", "1e1", "8.", ".5", "8,5", " 8", "nan", "inf", "0x8" }) do
    it("refuses the query value " .. string.format("%q", bad), function()
      refused(C.titan_harness(), get({ prompt = "x", cfgScale = bad }), "invalid_parameter",
        { "cfgScale must be a number between 1.1 and 10" })
    end)
  end

  it("refuses a string in a JSON body", function()
    refused(C.titan_harness(), post({ prompt = "x", cfgScale = "8" }), "invalid_parameter",
      { 'cfgScale must be a number (a JSON number) between 1.1 and 10; got the string "8"' })
  end)
end)

describe("seed", function()
  it("accepts 0 to 2147483647 on Titan", function()
    local h = C.titan_harness()
    assert.are.equal(0, h.plan(get({ prompt = "x", seed = "0" })).body.imageGenerationConfig.seed)
    assert.are.equal(2147483647, h.plan(post({ prompt = "x", seed = 2147483647 })).body.imageGenerationConfig.seed)
    assert.are.equal(2147483647, h.plan(get({ prompt = "x", seed = "2147483647" })).body.imageGenerationConfig.seed)
  end)

  it("refuses values outside the range", function()
    local h = C.titan_harness()
    refused(h, get({ prompt = "x", seed = "2147483648" }), "invalid_parameter",
      { "seed must be between 0 and 2147483647; got 2147483648" })
    refused(h, get({ prompt = "x", seed = "-1" }), "invalid_parameter", { "got -1" })
    refused(h, get({ prompt = "x", seed = "99999999999999999999" }), "invalid_parameter",
      { 'seed must be between 0 and 2147483647; got "99999999999999999999"' })
    refused(h, post({ prompt = "x", seed = 1.5 }), "invalid_parameter", { "seed must be an integer" })
  end)

  it("uses Nova Canvas's narrower range", function()
    local h = C.titan_harness({ config = with_nova })
    assert.are.equal(858993459, h.plan(post({ model = NOVA, prompt = "x", seed = 858993459 })).body.imageGenerationConfig.seed)
    refused(h, post({ model = NOVA, prompt = "x", seed = 858993460 }), "invalid_parameter", { "between 0 and 858993459" })
  end)
end)

describe("numberOfImages", function()
  it("accepts 1 to 5", function()
    local h = C.titan_harness({ config = function(c) c.rate_limit.tiers.anonymous.burst = 100 end })
    for n = 1, 5 do
      local g = h.plan(get({ prompt = "x", numberOfImages = tostring(n) }))
      assert.are.equal(n, g.body.imageGenerationConfig.numberOfImages)
      assert.are.equal(n, g.expected_images)
    end
  end)

  it("refuses 0, 6 and non-integers", function()
    local h = C.titan_harness()
    refused(h, get({ prompt = "x", numberOfImages = "0" }), "invalid_parameter", { "numberOfImages must be between 1 and 5; got 0" })
    refused(h, post({ prompt = "x", numberOfImages = 6 }), "invalid_parameter", { "got 6" })
    refused(h, get({ prompt = "x", numberOfImages = "two" }), "invalid_parameter", { "numberOfImages must be an integer" })
  end)
end)

describe("quality", function()
  it("accepts standard and premium", function()
    local h = C.titan_harness()
    assert.are.equal("premium", h.plan(get({ prompt = "x", quality = "premium" })).body.imageGenerationConfig.quality)
    assert.are.equal("standard", h.plan(post({ prompt = "x", quality = "standard" })).body.imageGenerationConfig.quality)
  end)

  it("is case-sensitive and refuses anything else", function()
    local h = C.titan_harness()
    refused(h, get({ prompt = "x", quality = "Premium" }), "invalid_parameter",
      { 'quality must be one of standard, premium; got "Premium"' })
    refused(h, post({ prompt = "x", quality = 1 }), "invalid_parameter", { "got 1" })
  end)
end)

describe("model", function()
  it("defaults to Titan G1 v1 and accepts v2", function()
    local h = C.titan_harness()
    assert.are.equal(TITAN, h.plan(get({ prompt = "x" })).model)
    assert.are.equal(TITAN2, h.plan(get({ prompt = "x", model = TITAN2 })).model)
  end)

  it("refuses a model outside the allowed list, naming the allowed ones", function()
    local h = C.titan_harness()
    refused(h, get({ prompt = "x", model = NOVA }), "unknown_model",
      { 'model "amazon.nova-canvas-v1:0" is not available; allowed models: ' .. TITAN .. ", " .. TITAN2 })
    refused(h, get({ prompt = "x", model = "gpt-image" }), "unknown_model", { '"gpt-image"' })
    refused(h, post({ prompt = "x", model = 3 }), "unknown_model", { "model 3 is not available" })
  end)

  it("serves Nova Canvas once allowed", function()
    assert.are.equal(NOVA, C.titan_harness({ config = with_nova }).plan(get({ prompt = "x", model = NOVA })).model)
  end)
end)

describe("unknown and repeated parameters", function()
  it("refuses an unknown parameter, listing the known ones", function()
    refused(C.titan_harness(), get({ prompt = "x", vibe = "calm" }), "unknown_parameter",
      { 'unknown parameter "vibe"; known parameters: model, prompt, negativePrompt, aspectRatio, width, height, '
        .. "cfgScale, seed, numberOfImages, quality, outputFormat" })
  end)

  it("is case-sensitive about names", function()
    refused(C.titan_harness(), post({ Prompt = "x" }), "unknown_parameter", { '"Prompt"' })
  end)

  it("names every unknown parameter", function()
    refused(C.titan_harness(), post({ prompt = "x", b = 1, a = 2 }), "unknown_parameter", { 'unknown parameters "a", "b";' })
  end)

  it("names at most three unknown parameters, in order, and counts the rest", function()
    local msg = refused(C.titan_harness(), post({ prompt = "x", e = 1, d = 1, c = 1, b = 1, a = 1 }), "unknown_parameter",
      { 'unknown parameters "a", "b", "c" and 2 more; known parameters: model, prompt' })
    assert.is_nil(msg:find('"d"', 1, true))
  end)

  it("runs under the runtime's instruction budget in these specs (a runaway loop fails)", function()
    assert.has_error(function()
      require("loader").with_budget(100000, function()
        local x = 0
        for i = 1, 1000000 do x = x + i end
        return x
      end)
    end, "instruction budget of 100000 exhausted")
  end)

  it("refuses a body of 10,000 unknown keys with a 400, naming the first three and counting the rest", function()
    local body = { prompt = "x" }
    for i = 1, 9999 do body[string.format("k%05d", i)] = 1 end
    refused(C.titan_harness({ budget = 2000000 }), post(body), "unknown_parameter",
      { 'unknown parameters "k00001", "k00002", "k00003" and 9996 more;' })
  end)

  it("refuses a body of 50,000 unknown keys with a 400, within a fifth of the instruction budget", function()
    -- 750 KB of {"k00001":1,...}: sorting every key used to exhaust the budget (a 500)
    local body, parts = {}, {}
    for i = 1, 50000 do
      local k = string.format("k%05d", i)
      body[k] = 1
      parts[i] = string.format("%q:1", k)
    end
    local req = R.request("POST", "/generate-image", { headers = { ["content-type"] = "application/json" } })
    req.raw_body = "{" .. table.concat(parts, ",") .. "}"
    req.body = body
    local msg = refused(C.titan_harness({ budget = 2000000 }), req, "unknown_parameter", { " and at least 9997 more;" })
    assert.matches('^unknown parameters "k%d+", "k%d+", "k%d+" and at least', msg)
  end)

  it("refuses a query string of 5,000 unknown keys, or of repeated unknown keys, within the budget", function()
    local q = {}
    for i = 1, 5000 do q[string.format("k%05d", i)] = "1" end
    refused(C.titan_harness(), get(q), "unknown_parameter", { 'unknown parameters "k00001", "k00002", "k00003" and 4997 more;' })
    for i = 1, 5000 do q[string.format("k%05d", i)] = { "1", "2" } end
    refused(C.titan_harness(), get(q), "unknown_parameter", { 'unknown parameters "k00001", "k00002", "k00003" and 4997 more;' })
  end)

  it("looks at 10,000 keys at most: beyond, it counts at least the rest", function()
    local q = {}
    for i = 1, 50000 do q[string.format("k%05d", i)] = "1" end
    local msg = refused(C.titan_harness({ budget = 2000000 }), get(q), "unknown_parameter", { " and at least 9997 more;" })
    assert.matches('^unknown parameters "k%d+", "k%d+", "k%d+" and at least', msg)
  end)

  it("names an unknown key before a repeated one", function()
    refused(C.titan_harness(), get({ prompt = { "a", "b" }, colour = "red" }), "unknown_parameter", { '"colour"' })
  end)

  it("refuses a query string on POST naming its first key", function()
    local q = {}
    for i = 1, 5000 do q[string.format("k%05d", i)] = "1" end
    refused(C.titan_harness(), post({ prompt = "x" }, { query = q }), "invalid_parameter", { 'move "k00001" into the body' })
  end)

  it("refuses a query key given twice", function()
    refused(C.titan_harness(), get({ prompt = { "a cat", "a dog" } }), "invalid_parameter",
      { '"prompt" is given 2 times; give each parameter once' })
  end)
end)

describe("names from other image APIs", function()
  -- unknown_parameter with a hint at the parameter meant
  local cases = {
    { { n = 2 }, '"n" (did you mean numberOfImages?)' },
    { { num_images = 2 }, '"num_images" (did you mean numberOfImages?)' },
    { { size = "1024x1024" }, '"size" (did you mean width and height, or aspectRatio?)' },
    { { response_format = "b64_json" }, '"response_format" (not needed: every image is returned as a URL; '
      .. "POST /v1/images/generations takes OpenAI's request, b64_json included)" },
    { { negative_prompt = "fog" }, '"negative_prompt" (did you mean negativePrompt?)' },
    { { negativeText = "fog" }, '"negativeText" (did you mean negativePrompt?)' },
    { { cfg_scale = 7 }, '"cfg_scale" (did you mean cfgScale?)' },
    { { guidance_scale = 7 }, '"guidance_scale" (did you mean cfgScale?)' },
    { { aspect_ratio = "16:9" }, '"aspect_ratio" (did you mean aspectRatio?)' },
    { { output_format = "png" }, '"output_format" (did you mean outputFormat?)' },
    { { style = "vivid" }, '"style" (no style setting: describe the style in the prompt)' },
    { { Prompt = "x" }, '"Prompt" (did you mean prompt? names are case-sensitive)' },
    { { modelId = "x" }, '"modelId" (did you mean model?)' },
  }
  for _, case in ipairs(cases) do
    local name = next(case[1])
    it("hints at the parameter meant by " .. name, function()
      local body = { prompt = "a cat" }
      for k, v in pairs(case[1]) do body[k] = v end
      local msg = refused(C.harness(), post(body), "unknown_parameter", { "unknown parameter " .. case[2] .. "; known parameters: " })
      assert.matches("; known parameters: model, prompt, negativePrompt", msg, 1, true)
    end)
  end

  it("hints on GET too, and for each parameter it names", function()
    refused(C.harness(), get({ prompt = "x", n = "2", cfg_scale = "7" }), "unknown_parameter",
      { 'unknown parameters "cfg_scale" (did you mean cfgScale?), "n" (did you mean numberOfImages?); known' })
  end)

  it("gives no hint for a name nothing resembles", function()
    refused(C.harness(), post({ prompt = "x", frobnicate = 1 }), "unknown_parameter",
      { 'unknown parameter "frobnicate"; known parameters: ' })
  end)

  it("says, for quality on a model without it, that the model sets the quality", function()
    refused(C.harness(), post({ prompt = "x", quality = "hd" }), "invalid_parameter",
      { "quality is not supported by stability.stable-image-core-v1:1, which takes prompt",
        "; the model sets the quality: pick another model (GET /models lists them)" })
  end)
end)

describe("POST body", function()
  it("must be present", function()
    local h = C.titan_harness()
    refused(h, post(nil), "invalid_body", { "needs a JSON object body" })
    refused(h, post("  \n"), "invalid_body", { "needs a JSON object body" })
  end)

  it("must be sent as JSON (415 otherwise)", function()
    local h = C.titan_harness()
    refused(h, post("prompt=x", { content_type = "application/x-www-form-urlencoded" }), "unsupported_media_type",
      { 'Content-Type must be application/json; got "application/x-www-form-urlencoded"' }, 415)
    refused(h, post("prompt=x", { content_type = false }), "unsupported_media_type", { "got none" }, 415)
    refused(h, post({ prompt = "x" }, { content_type = "multipart/form-data; boundary=x" }), "unsupported_media_type",
      { 'got "multipart/form-data"' }, 415)
    refused(h, post({ prompt = "x" }, { content_type = "application/xml" }), "unsupported_media_type", {}, 415)
    refused(h, post('["x"]', { content_type = "text/plain" }), "unsupported_media_type", { 'got "text/plain"' }, 415)
  end)

  it("takes a JSON object sent without a type, as text/plain or as a form (curl -d, urllib)", function()
    local h = C.titan_harness()
    for _, ct in ipairs({ false, "text/plain", "text/plain; charset=utf-8", "application/x-www-form-urlencoded" }) do
      local plan = h.plan(post({ prompt = "a harbour", seed = 7 }, { content_type = ct }))
      assert.are.equal("a harbour", plan.body.textToImageParams.text, tostring(ct))
      assert.are.equal(7, plan.body.imageGenerationConfig.seed, tostring(ct))
    end
  end)

  it("accepts JSON media types with parameters or a +json suffix", function()
    local h = C.titan_harness()
    h.plan(post({ prompt = "x" }, { content_type = "application/json; charset=utf-8" }))
    h.plan(post({ prompt = "x" }, { content_type = "Application/JSON" }))
    h.plan(post({ prompt = "x" }, { content_type = "application/vnd.imagegen+json" }))
  end)

  it("must be valid JSON, and the runtime's sentence says where it breaks", function()
    local req = post('{"prompt": }')
    assert.is_string(req.body_error)
    local msg = refused(C.titan_harness(), req, "invalid_body", { "the request body is not valid JSON (position 12" })
    assert.are.equal(req.body_error, msg)
  end)

  it("must be UTF-8: the runtime's sentence is passed on", function()
    local req = post('{"prompt":"caf\xE9"}')
    assert.is_nil(req.raw_body)
    refused(C.titan_harness(), req, "invalid_body", { "the request body is not valid UTF-8" })
  end)

  it("must be sent as JSON even when it is not UTF-8", function()
    refused(C.titan_harness(), post("\xFF\xFE", { content_type = "text/plain" }), "unsupported_media_type", {}, 415)
  end)

  it("must be an object", function()
    local h = C.titan_harness()
    refused(h, post("null"), "invalid_body", { "the body must be a JSON object; got null" })
    refused(h, post('["a cat"]'), "invalid_body", { "got an array" })
    refused(h, post("[]"), "invalid_body", { "got an array" })
    refused(h, post('"a cat"'), "invalid_body", { 'got the string "a cat"' })
    refused(h, post("42"), "invalid_body", { "got 42" })
    refused(h, post("true"), "invalid_body", { "got true" })
  end)

  it("takes no query parameters", function()
    refused(C.titan_harness(), post({ prompt = "x" }, { query = { width = "512" } }), "invalid_parameter",
      { 'takes its parameters from the JSON body, not the query string; move "width" into the body' })
  end)

  it("reads every parameter from the body", function()
    local g = C.titan_harness({ config = function(c) c.rate_limit.enabled = false end }).plan(post({
      prompt = "a red fox", negativePrompt = "snow", width = 768, height = 1152, cfgScale = 6.5,
      seed = 99, numberOfImages = 3, quality = "premium", model = TITAN2,
    }))
    assert.are.same({
      taskType = "TEXT_IMAGE",
      textToImageParams = { text = "a red fox", negativeText = "snow" },
      imageGenerationConfig = { numberOfImages = 3, quality = "premium", width = 768, height = 1152, cfgScale = 6.5, seed = 99 },
    }, g.body)
    assert.are.equal(TITAN2, g.model)
  end)
end)

describe("check order", function()
  it("reports the first problem in parameter order", function()
    local _, code, msg = C.titan_harness().refusal(get({ prompt = "", width = "x", height = "y" }))
    assert.are.equal("invalid_prompt", code)
    assert.matches("^prompt ", msg)
  end)
end)

describe("messages", function()
  it("stay valid UTF-8 whatever bytes the client sent", function()
    local h = C.titan_harness()
    -- the contract check refuses any answer holding a string that is not UTF-8
    local _, _, msg = h.refusal(get({ prompt = "x", width = "\xFF\xFE1", height = "512" }))
    assert.matches('got "\\xFF\\xFE1"', msg, 1, true)
    _, _, msg = h.refusal(get({ prompt = "x", quality = string.rep("é", 30) }))
    assert.matches(string.rep("é", 20) .. '..."', msg, 1, true)
  end)

  it("name empty JSON arrays as arrays (the runtime marks them)", function()
    local h = C.titan_harness()
    local _, _, msg = h.refusal(post('{"prompt":[]}'))
    assert.matches("got an array", msg, 1, true)
    _, _, msg = h.refusal(post('{"prompt":{}}'))
    assert.matches("got an object", msg, 1, true)
  end)
end)

describe("text module", function()
  local text = C.titan_harness().require("text")

  it("cuts on a character boundary", function()
    assert.are.same({ "ab", true }, { text.cut("abé", 3) })
    assert.are.same({ "abé", false }, { text.cut("abé", 4) })
    assert.are.same({ "", true }, { text.cut("€", 2) })
  end)

  it("shows values the way messages quote them", function()
    assert.are.equal('"a\\"b\\\\"', text.show('a"b\\'))
    assert.are.equal('"tab\\x09"', text.show("tab\t"))
    assert.are.equal("0.1", text.show(0.1))
    assert.are.equal("null", text.show(require("cjson").null))
  end)
end)

describe("limits.max_images_per_request", function()
  local function capped(n, more)
    return function(c)
      c.rate_limit.enabled = false
      c.limits = c.limits or {}
      c.limits.max_images_per_request = n
      if more then more(c) end
    end
  end

  it("is each model's own maximum when not set", function()
    local h = C.harness({ config = capped(nil) })
    assert.are.equal(5, #h.plan(get({ prompt = "x", numberOfImages = "5" })).attempts[1].calls)
    refused(h, get({ prompt = "x", numberOfImages = "6" }), "invalid_parameter",
      { "numberOfImages must be between 1 and 5; got 6" })
  end)

  it("caps numberOfImages on every model, with a 400 naming the cap", function()
    local h = C.harness({ config = capped(2, function(c)
      c.allowed_models = { "stability.stable-image-core-v1:1", TITAN }
    end) })
    assert.are.equal(2, #h.plan(get({ prompt = "x", numberOfImages = "2" })).attempts[1].calls)
    for _, model in ipairs({ "stability.stable-image-core-v1:1", TITAN }) do
      local msg = refused(h, get({ prompt = "x", numberOfImages = "3", model = model }), "invalid_parameter",
        { "numberOfImages must be between 1 and 2; got 3",
          "this service makes at most 2 images per request (the model could make 5)" })
      assert.is_nil(msg:find("limits.", 1, true)) -- the client is not told about settings
      refused(h, post({ prompt = "x", numberOfImages = 5, model = model }), "invalid_parameter", { "between 1 and 2; got 5" })
    end
    assert.are.equal(2, C.titan_harness({ config = capped(2) }).plan(get({ prompt = "x", numberOfImages = "2" }))
      .body.imageGenerationConfig.numberOfImages)
  end)

  it("applies to fallback models too", function()
    local CORE, ULTRA = "stability.stable-image-core-v1:1", "stability.stable-image-ultra-v1:1"
    local h = C.harness({ config = capped(3, function(c) c.fallback = { [ULTRA] = { CORE } } end) })
    local g = h.plan(get({ prompt = "x", numberOfImages = "3", model = ULTRA }))
    assert.are.equal(2, #g.attempts)
    refused(h, get({ prompt = "x", numberOfImages = "4", model = ULTRA }), "invalid_parameter", { "between 1 and 3; got 4" })
  end)

  it("changes nothing when it is above the model's own maximum", function()
    local h = C.harness({ config = capped(50) })
    refused(h, get({ prompt = "x", numberOfImages = "6" }), "invalid_parameter", { "numberOfImages must be between 1 and 5; got 6" })
  end)

  it("shows in GET /models as the numberOfImages maximum", function()
    local body = C.client_body(C.harness({ config = capped(2) }).admit(R.get("/models")))
    for _, m in ipairs(body.models) do assert.are.same({ min = 1, max = 2 }, m.limits.numberOfImages) end
  end)

  it("is checked at start-up", function()
    for _, bad in ipairs({ 0, 2.5, "3", -1 }) do
      local err = require("loader").load_error({ config = capped(bad) })
      assert.matches("limits.max_images_per_request must be", err, 1, true)
    end
  end)
end)
