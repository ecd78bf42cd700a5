-- openai_spec.lua - the OpenAI-compatible Images API: routes, every mapping of a request onto
-- the catalogue, every bad input (each a 400 naming the field in `param`), the 6 MB guard,
-- bearer keys, OpenAI's answer and error shapes, and its settings.

local cjson = require("cjson")
local C = require("contract")
local R = require("requests")
local shim = require("shim")

local CORE = "stability.stable-image-core-v1:1"
local SD35 = "stability.sd3-5-large-v1:0"
local ULTRA = "stability.stable-image-ultra-v1:1"
local TITAN = C.TITAN
local GEN = "/v1/images/generations"

-- A key and its hash, as an operator writes them: the hash in config.lua, the key in the client.
local KEY = "sk-imagegen-test-4f1c2a"
local KEY_HASH = shim.sha256(KEY)
local OTHER_KEY = "sk-imagegen-test-other"

local function post(body, opts)
  return R.post(GEN, body, opts)
end

local function bearer(key, body)
  return post(body or { prompt = "a lighthouse" }, { headers = { Authorization = "Bearer " .. key } })
end

local function with_keys(required, extra)
  return C.harness({ config = function(c)
    c.api_keys.required = required
    c.api_keys.keys = { { id = "team-a", sha256 = KEY_HASH, tier = "premium" } }
    if extra then extra(c) end
  end })
end

-- Every line the policy logged, as one text, to look for what must never be there.
local function all_logs(h)
  local parts = {}
  for _, l in ipairs(h.ctl.logs) do
    parts[#parts + 1] = l.message
    for k, v in pairs(l.fields) do parts[#parts + 1] = k .. "=" .. tostring(v) end
  end
  return table.concat(parts, "\n")
end

describe("the OpenAI routes", function()
  it("plan a generation on POST /v1/images/generations", function()
    local g = C.harness().plan(post({ prompt = "a lighthouse at dusk" }))
    assert.are.equal(CORE, g.model)
    assert.are.equal("a lighthouse at dusk", g.body.prompt)
    assert.are.equal("url", g.deliver)
    assert.are.equal("openai", g.context.api)
    assert.are.equal(1, g.expected_images)
  end)

  it("list the OpenAI names and the allowed models on GET /v1/models, in OpenAI's list shape", function()
    local a = C.harness().admit(R.get("/v1/models"))
    assert.are.equal(200, a.status)
    local body = C.client_body(a)
    assert.are.equal("list", body.object)
    local by_id = {}
    for _, m in ipairs(body.data) do
      assert.are.equal("model", m.object)
      assert.is_number(m.created)
      assert.is_string(m.owned_by)
      by_id[m.id] = m
    end
    assert.are.equal(ULTRA, by_id["gpt-image-1"].root)
    assert.are.equal(CORE, by_id["gpt-image-1-mini"].root)
    assert.are.equal(SD35, by_id["dall-e-3"].root)
    assert.are.equal(CORE, by_id["dall-e-2"].root)
    assert.are.equal("stability", by_id[CORE].owned_by)
    assert.is_table(by_id[SD35])
    assert.is_table(by_id[ULTRA])
    assert.are.equal(7, #body.data)
    assert.are.equal("dall-e-2", body.data[1].id) -- names first, sorted
  end)

  it("answer an unknown /v1/ path with 404 in OpenAI's error shape", function()
    local st, code, param, msg, a = C.harness().openai_refusal(R.post("/v1/images/variations", { prompt = "x" }))
    assert.are.equal(404, st)
    assert.are.equal("not_found", code)
    assert.is_nil(param)
    assert.matches("/v1/images/generations", msg, 1, true)
    assert.are.equal("invalid_request_error", a.body.error.type)
    assert.are.equal(R.REQUEST_ID, a.headers["X-Request-Id"])
  end)

  it("answer a wrong method with 405 in OpenAI's error shape and an Allow header", function()
    local st, code, _, _, a = C.harness().openai_refusal(R.get(GEN, { prompt = "x" }))
    assert.are.equal(405, st)
    assert.are.equal("method_not_allowed", code)
    assert.are.equal("POST, OPTIONS", a.headers.Allow)
  end)

  it("answer a CORS preflight like every route", function()
    local app = "https://chat.example.com"
    local h = C.harness({ config = function(c) c.cors.origins = { app } end })
    local a = h.admit(R.request("OPTIONS", GEN, { headers = { Origin = app } }))
    assert.are.equal(204, a.status)
    assert.are.equal(app, a.headers["Access-Control-Allow-Origin"])
    assert.are.equal("POST, OPTIONS", a.headers["Access-Control-Allow-Methods"])
    assert.matches("authorization", a.headers["Access-Control-Allow-Headers"], 1, true)
  end)

  it("leave the other routes' error shape alone", function()
    local st, code, msg, a = C.harness().refusal(R.post("/generate-image", { prompt = "x", n = 2 }))
    assert.are.equal(400, st)
    assert.are.equal("unknown_parameter", code)
    assert.matches("numberOfImages", msg, 1, true)
    assert.are.equal(R.REQUEST_ID, a.body.error.requestId)
    assert.is_nil(a.body.error.type)
  end)
end)

describe("an OpenAI model name", function()
  local cases = {
    { "gpt-image-1", ULTRA }, { "gpt-image-1-mini", CORE }, { "dall-e-3", SD35 }, { "dall-e-2", CORE },
    { CORE, CORE }, { ULTRA, ULTRA },
  }
  for _, case in ipairs(cases) do
    it(case[1] .. " is served by " .. case[2], function()
      local h = C.harness()
      local g = h.plan(post({ prompt = "a kite", model = case[1] }))
      assert.are.equal(case[2], g.model)
      assert.are.equal(case[1], g.context.openai_model)
      assert.are.equal(case[1], h.ctl.find_logs({ outcome = "generate" })[1].fields.openai_model)
    end)
  end

  it("left out is the deployment's default model", function()
    assert.are.equal(CORE, C.harness().plan(post({ prompt = "a kite" })).model)
    assert.are.equal(CORE, C.harness().plan(post({ prompt = "a kite", model = cjson.null })).model)
  end)

  it("goes to the first of its models the deployment allows", function()
    local h = C.harness({ env = { IMAGEGEN_ALLOWED_MODELS = CORE } })
    for _, name in ipairs({ "gpt-image-1", "dall-e-3", "dall-e-2" }) do
      assert.are.equal(CORE, h.plan(post({ prompt = "a kite", model = name })).model)
    end
  end)

  it("goes to an allowed inference profile of its model", function()
    local h = C.harness({ config = function(c)
      c.allowed_models = { "us." .. ULTRA, CORE }
    end })
    assert.are.equal("us." .. ULTRA, h.plan(post({ prompt = "a kite", model = "gpt-image-1" })).model)
  end)

  it("none of whose models is allowed is not offered, and start-up says so", function()
    local h = C.harness({ config = function(c)
      c.openai.models = { ["dall-e-2"] = { CORE }, ["titan-ish"] = { TITAN } }
    end })
    local warn = h.ctl.find_logs({ level = "warn", name = "titan-ish" })
    assert.are.equal(1, #warn)
    assert.matches("not offered", warn[1].message, 1, true)
    local st, code, param, msg = h.openai_refusal(post({ prompt = "a kite", model = "titan-ish" }))
    assert.are.equal(400, st)
    assert.are.equal("model_not_found", code)
    assert.are.equal("model", param)
    assert.are.equal('model "titan-ish" is not available; this service offers dall-e-2, ' .. CORE .. ", " .. SD35
      .. ", " .. ULTRA, msg)
    local ids = {}
    for _, m in ipairs(C.client_body(h.admit(R.get("/v1/models"))).data) do ids[#ids + 1] = m.id end
    assert.are.same({ "dall-e-2", CORE, SD35, ULTRA }, ids)
  end)
end)

describe("OpenAI parameters map onto the model's", function()
  it("n is the number of images: n calls on Stability", function()
    local g = C.harness().plan(post({ prompt = "a kite", n = 3 }))
    assert.are.equal(3, g.expected_images)
    assert.are.equal(3, #g.attempts[1].calls)
  end)

  it("n is numberOfImages in one call on Titan", function()
    local g = C.titan_harness().plan(post({ prompt = "a kite", n = 2 }))
    assert.are.equal(1, #g.attempts[1].calls)
    assert.are.equal(2, g.body.imageGenerationConfig.numberOfImages)
  end)

  local sizes = {
    { "1024x1024", "1:1" }, { "256x256", "1:1" }, { "512x512", "1:1" }, { "1536x1024", "3:2" },
    { "1024x1536", "2:3" }, { "1344x768", "16:9" }, { "640x1536", "9:21" }, { "auto", "1:1" },
  }
  for _, case in ipairs(sizes) do
    it("size " .. case[1] .. " is aspect ratio " .. case[2] .. " on Stability", function()
      local g = C.harness().plan(post({ prompt = "a kite", size = case[1] }))
      assert.are.equal(case[2], g.body.aspect_ratio)
    end)
  end

  it("size is width and height on Titan, and auto its default", function()
    local h = C.titan_harness()
    local cfg = h.plan(post({ prompt = "a kite", size = "512x512" })).body.imageGenerationConfig
    assert.are.same({ 512, 512 }, { cfg.width, cfg.height })
    cfg = h.plan(post({ prompt = "a kite", size = "1152x640" })).body.imageGenerationConfig
    assert.are.same({ 1152, 640 }, { cfg.width, cfg.height })
    cfg = h.plan(post({ prompt = "a kite", size = "auto" })).body.imageGenerationConfig
    assert.are.same({ 1024, 1024 }, { cfg.width, cfg.height })
  end)

  local qualities = { { "auto", "standard" }, { "low", "standard" }, { "medium", "standard" },
    { "standard", "standard" }, { "high", "premium" }, { "hd", "premium" } }
  for _, case in ipairs(qualities) do
    it("quality " .. case[1] .. " is " .. case[2] .. " on Titan", function()
      local g = C.titan_harness().plan(post({ prompt = "a kite", quality = case[1] }))
      assert.are.equal(case[2], g.body.imageGenerationConfig.quality)
      assert.are.equal(case[1], g.context.openai_quality)
    end)
  end

  it("quality is accepted and ignored on Stability, which has no quality setting", function()
    for _, q in ipairs({ "low", "high", "hd" }) do
      local g = C.harness().plan(post({ prompt = "a kite", quality = q }))
      assert.is_nil(g.body.quality)
      assert.are.equal(q, g.context.openai_quality)
    end
  end)

  it("output_format is the model's output format", function()
    local h = C.harness()
    assert.are.equal("jpeg", h.plan(post({ prompt = "a kite", output_format = "jpeg" })).body.output_format)
    assert.are.equal("webp", h.plan(post({ prompt = "a kite", output_format = "webp" })).body.output_format)
    assert.are.equal("png", h.plan(post({ prompt = "a kite" })).body.output_format)
  end)

  it("response_format url stores the images; b64_json returns them inline, or both as configured", function()
    assert.are.equal("url", C.harness().plan(post({ prompt = "a kite", response_format = "url" })).deliver)
    local g = C.harness().plan(post({ prompt = "a kite", response_format = "b64_json" }))
    assert.are.equal("inline", g.deliver)
    assert.are.equal("b64_json", g.context.response_format)
    local both = C.harness({ config = function(c) c.openai.b64_json_delivery = "both" end })
    assert.are.equal("both", both.plan(post({ prompt = "a kite", response_format = "b64_json" })).deliver)
    local default_b64 = C.harness({ config = function(c) c.openai.response_format = "b64_json" end })
    assert.are.equal("inline", default_b64.plan(post({ prompt = "a kite" })).deliver)
  end)

  it("accepts and ignores what changes nothing here: user, style, moderation, compression, stream false", function()
    local g = C.harness().plan(post({ prompt = "a kite", user = "user-1234", style = "natural", moderation = "low",
      output_compression = 80, stream = false, partial_images = 0, background = "opaque" }))
    assert.are.same({ "aspect_ratio", "mode", "output_format", "prompt", "seed" }, (function()
      local ks = {}
      for k in pairs(g.body) do ks[#ks + 1] = k end
      table.sort(ks)
      return ks
    end)())
  end)

  it("sends the cleaned prompt, and the answer shows it as revised_prompt", function()
    local h = C.harness()
    local req = post({ prompt = "  a   kite\tin the wind " })
    local g = h.plan(req)
    assert.are.equal("a kite in the wind", g.body.prompt)
    local body = C.client_body(h.respond(R.success({ generate = g }), req))
    assert.are.equal("a kite in the wind", body.data[1].revised_prompt)
    req = post({ prompt = "a kite" })
    body = C.client_body(h.respond(R.success({ generate = h.plan(req) }), req))
    assert.is_nil(body.data[1].revised_prompt)
  end)

  it("keeps the seed it drew in the plan, as on /generate-image", function()
    local g = C.harness().plan(post({ prompt = "a kite", n = 2 }))
    assert.are.equal(g.attempts[1].calls[1].body.seed + 1, g.attempts[1].calls[2].body.seed)
  end)

  it("carries the OpenAI values to the fallbacks' contexts", function()
    local h = C.harness({ config = function(c) c.fallback = { [ULTRA] = { CORE } } end })
    local g = h.plan(post({ prompt = "a kite", model = "gpt-image-1", response_format = "b64_json" }))
    assert.are.equal(2, #g.attempts)
    assert.are.equal("openai", g.attempts[2].context.api)
    assert.are.equal("b64_json", g.attempts[2].context.response_format)
  end)
end)

describe("a bad OpenAI request is a 400 naming the field in param", function()
  local cases = {
    { "no prompt", { n = 1 }, "prompt", "missing_required_parameter" },
    { "a prompt that is a number", { prompt = 5 }, "prompt", "invalid_type" },
    { "an empty prompt", { prompt = "   " }, "prompt", "invalid_prompt" },
    { "a prompt too long", { prompt = string.rep("a", 10001) }, "prompt", "invalid_prompt" },
    { "n = 0", { prompt = "x", n = 0 }, "n", "invalid_value", "n must be between 1 and 5 on " .. CORE .. "; got 0" },
    { "n = 100", { prompt = "x", n = 100 }, "n", "invalid_value", "n must be between 1 and 5 on " .. CORE .. "; got 100" },
    { "n = -1", { prompt = "x", n = -1 }, "n", "invalid_value" },
    { "n = 1.5", { prompt = "x", n = 1.5 }, "n", "invalid_value", "n must be a whole number of images; got 1.5" },
    { "n as a string", { prompt = "x", n = "2" }, "n", "invalid_type",
      'n must be an integer (a JSON number), the number of images; got the string "2"' },
    { "n as a boolean", { prompt = "x", n = true }, "n", "invalid_type" },
    { "size 13x13", { prompt = "x", size = "13x13" }, "size", "invalid_value" },
    { "size 1792x1024 (not one of the model's ratios)", { prompt = "x", size = "1792x1024" }, "size", "invalid_value" },
    { "size 1000x1000", { prompt = "x", size = "1000x1000" }, "size", "invalid_value" },
    { "size 0x0", { prompt = "x", size = "0x0" }, "size", "invalid_value" },
    { "size big", { prompt = "x", size = "big" }, "size", "invalid_value" },
    { "size with spaces", { prompt = "x", size = "1024 x 1024" }, "size", "invalid_value" },
    { "size 123456x1", { prompt = "x", size = "123456x1" }, "size", "invalid_value" },
    { "size as a number", { prompt = "x", size = 1024 }, "size", "invalid_type" },
    { "quality ultra", { prompt = "x", quality = "ultra" }, "quality", "invalid_value",
      'quality must be one of "auto", "low", "medium", "high", "standard", "hd"; got "ultra"' },
    { "quality as a number", { prompt = "x", quality = 1 }, "quality", "invalid_type" },
    { "response_format png", { prompt = "x", response_format = "png" }, "response_format", "invalid_value",
      'response_format must be one of "url", "b64_json"; got "png"' },
    { "response_format as an object", { prompt = "x", response_format = { type = "url" } }, "response_format",
      "invalid_type" },
    { "output_format gif", { prompt = "x", output_format = "gif" }, "output_format", "invalid_value" },
    { "style anime", { prompt = "x", style = "anime" }, "style", "invalid_value" },
    { "background green", { prompt = "x", background = "green" }, "background", "invalid_value" },
    { "moderation off", { prompt = "x", moderation = "off" }, "moderation", "invalid_value" },
    { "output_compression 101", { prompt = "x", output_compression = 101 }, "output_compression", "invalid_value" },
    { "stream as a string", { prompt = "x", stream = "yes" }, "stream", "invalid_type" },
    { "user as a number", { prompt = "x", user = 42 }, "user", "invalid_type" },
    { "model as a number", { prompt = "x", model = 3 }, "model", "invalid_type" },
    { "an unknown model", { prompt = "x", model = "dall-e-4" }, "model", "model_not_found" },
    { "an unknown field", { prompt = "x", steps = 30 }, "steps", "unknown_parameter",
      'unknown parameter "steps"; this endpoint takes prompt, model, n, size, quality, response_format, '
        .. "output_format, style, background, moderation, output_compression, partial_images, stream, user" },
    { "our own API's names", { prompt = "x", numberOfImages = 2 }, "numberOfImages", "unknown_parameter" },
  }
  for _, case in ipairs(cases) do
    it(case[1], function()
      local h = C.harness()
      local st, code, param, msg, a = h.openai_refusal(post(case[2]))
      assert.are.equal(400, st, msg)
      assert.are.equal(case[4], code, msg)
      assert.are.equal(case[3], param, msg)
      assert.are.equal("invalid_request_error", a.body.error.type)
      if case[5] then assert.are.equal(case[5], msg) end
      assert.are.equal(0, #h.ctl.random_calls) -- refused before any plan
    end)
  end

  it("names the sizes the model makes when a size is not one", function()
    local _, _, _, msg = C.harness().openai_refusal(post({ prompt = "x", size = "1792x1024" }))
    assert.matches("1536x1024 is 3:2", msg, 1, true)
    assert.matches("1344x768 (16:9)", msg, 1, true)
    local _, _, param, tmsg = C.titan_harness().openai_refusal(post({ prompt = "x", size = "256x256" }))
    assert.are.equal("size", param)
    assert.matches("supported sizes: 1024x1024", tmsg, 1, true)
  end)

  it("a format the model does not make", function()
    local st, code, param, msg = C.titan_harness().openai_refusal(post({ prompt = "x", output_format = "jpeg" }))
    assert.are.same({ 400, "invalid_value", "output_format" }, { st, code, param })
    assert.matches('it makes "png"', msg, 1, true)
  end)

  it("n above limits.max_images_per_request", function()
    local h = C.harness({ config = function(c) c.limits.max_images_per_request = 2 end })
    local st, _, param, msg = h.openai_refusal(post({ prompt = "x", n = 3 }))
    assert.are.same({ 400, "n", "n must be between 1 and 2 on " .. CORE .. "; got 3" }, { st, param, msg })
  end)

  it("a transparent background, which no model here makes", function()
    local st, code, param, msg = C.harness().openai_refusal(post({ prompt = "x", background = "transparent" }))
    assert.are.same({ 400, "unsupported_value", "background" }, { st, code, param })
    assert.are.equal('background "transparent" cannot be honoured: ' .. CORE .. ' makes no transparent images; '
      .. 'send "auto" or "opaque"', msg)
  end)

  it("streaming, which this service does not do", function()
    local st, code, param = C.harness().openai_refusal(post({ prompt = "x", stream = true }))
    assert.are.same({ 400, "unsupported_value", "stream" }, { st, code, param })
  end)

  it("a body that is not a JSON object (no param)", function()
    local h = C.harness()
    local st, code, param, msg = h.openai_refusal(post("{not json"))
    assert.are.same({ 400, "invalid_body" }, { st, code })
    assert.is_nil(param)
    assert.matches("not valid JSON", msg, 1, true)
    st, code = h.openai_refusal(post("[1,2]"))
    assert.are.same({ 400, "invalid_body" }, { st, code })
    st, code, _, msg = h.openai_refusal(post(nil))
    assert.are.same({ 400, "invalid_body" }, { st, code })
    assert.matches("POST /v1/images/generations needs a JSON object body", msg, 1, true)
    st, code = h.openai_refusal(post('{"prompt":"x"}', { content_type = "text/csv" }))
    assert.are.same({ 415, "unsupported_media_type" }, { st, code })
  end)

  it("a word of the deny-list: content_policy_violation on prompt", function()
    local h = C.harness({ config = function(c) c.prompt.deny = { "forbidden" } end })
    local st, code, param = h.openai_refusal(post({ prompt = "a forbidden kite" }))
    assert.are.same({ 400, "content_policy_violation", "prompt" }, { st, code, param })
  end)

  it("takes a bounded look at a body of very many unknown keys", function()
    local body = { prompt = "x" }
    for i = 1, 20000 do body["k" .. i] = i end
    local st, code = C.harness().openai_refusal(post(body))
    assert.are.same({ 400, "unknown_parameter" }, { st, code })
  end)
end)

describe("the 6 MB guard", function()
  it("refuses b64_json whose worst case cannot fit, before any model call, naming what would", function()
    local h = C.harness()
    local st, code, param, msg = h.openai_refusal(post({ prompt = "x", n = 2, response_format = "b64_json" }))
    assert.are.same({ 400, "response_too_large", "n" }, { st, code, param })
    assert.are.equal('2 png images of 1024x1024 can take up to 8,460,264 bytes as b64_json, more than one answer '
      .. 'can carry (5,500,000 bytes: the function\'s response is limited to 6 MB); use response_format "url" or '
      .. 'n of at most 1 or output_format "jpeg", "webp"', msg)
    assert.are.equal(0, #h.ctl.random_calls)
    assert.are.equal(0, h.ctl.metric_total("ImagesRequested"))
  end)

  it("lets through what fits: one png, two jpeg, three webp", function()
    local h = C.harness({ config = function(c) c.rate_limit.enabled = false end })
    for _, case in ipairs({ { "png", 1 }, { "jpeg", 2 }, { "webp", 3 } }) do
      local g = h.plan(post({ prompt = "x", n = case[2], output_format = case[1], response_format = "b64_json" }))
      assert.are.equal("inline", g.deliver)
    end
    for _, case in ipairs({ { "jpeg", 3 }, { "webp", 4 } }) do
      local st, code = h.openai_refusal(post({ prompt = "x", n = case[2], output_format = case[1],
        response_format = "b64_json" }))
      assert.are.same({ 400, "response_too_large" }, { st, code })
    end
  end)

  it("does not apply to url answers", function()
    assert.are.equal(5, C.harness().plan(post({ prompt = "x", n = 5 })).expected_images)
  end)

  it("counts the image size the ratio makes", function()
    local h = C.harness()
    -- 1536x640 is 983,040 pixels: still one png at most
    assert.are.equal(400, (h.openai_refusal(post({ prompt = "x", n = 2, size = "1536x640",
      response_format = "b64_json" }))))
    assert.are.equal("inline", h.plan(post({ prompt = "x", size = "1536x640", response_format = "b64_json" })).deliver)
  end)

  it("counts a fallback model whose images could be larger", function()
    local h = C.harness({ config = function(c)
      c.allowed_models = { CORE, TITAN }
      c.fallback = { [CORE] = { TITAN } }
    end })
    -- Titan has no figure for jpeg: it cannot serve a jpeg request, so it does not count
    assert.are.equal("inline", h.plan(post({ prompt = "x", n = 2, output_format = "jpeg",
      response_format = "b64_json" })).deliver)
  end)

  it("names response_format when not even one image fits", function()
    local nova = "amazon.nova-canvas-v1:0"
    local h = C.harness({ config = function(c)
      c.allowed_models = { nova }
      c.default_model = nova
    end })
    local st, code, param, msg = h.openai_refusal(post({ prompt = "x", size = "2032x2048",
      response_format = "b64_json" }))
    assert.are.same({ 400, "response_too_large", "response_format" }, { st, code, param })
    assert.matches('; use response_format "url"$', msg)
    assert.are.equal("url", h.plan(post({ prompt = "x", size = "2032x2048" })).deliver)
  end)
end)

describe("bearer keys", function()
  it("a valid key names the caller by its id, in the plan's bucket and the decision log", function()
    local h = with_keys(false)
    local g = h.plan(bearer(KEY))
    assert.are.equal("bearer:team-a", g.context.ratelimit.key)
    assert.are.equal(40, g.context.ratelimit.limit) -- the premium tier its entry names
    local line = h.ctl.find_logs({ outcome = "generate" })[1]
    assert.are.equal("team-a", line.fields.key_id)
  end)

  it("a key without a tier takes rate_limit.key_tier", function()
    local h = C.harness({ config = function(c)
      c.api_keys.keys = { { id = "team-b", sha256 = KEY_HASH } }
    end })
    assert.are.equal(10, h.plan(bearer(KEY)).context.ratelimit.limit)
  end)

  it("a wrong key is 401 invalid_api_key with WWW-Authenticate", function()
    local h = with_keys(false)
    local st, code, param, msg, a = h.openai_refusal(bearer(OTHER_KEY))
    assert.are.same({ 401, "invalid_api_key" }, { st, code })
    assert.is_nil(param)
    assert.are.equal("the API key is not valid for this service", msg)
    assert.are.equal("authentication_error", a.body.error.type)
    assert.are.equal("Bearer", a.headers["WWW-Authenticate"])
    assert.are.equal(401, (h.openai_refusal(R.get("/v1/models", nil, {
      headers = { Authorization = "Bearer " .. OTHER_KEY } }))))
  end)

  it("no key is 401 when keys are required, and anonymous otherwise", function()
    local st, code, _, msg = with_keys(true).openai_refusal(post({ prompt = "x" }))
    assert.are.same({ 401, "invalid_api_key" }, { st, code })
    assert.matches("Authorization: Bearer KEY", msg, 1, true)
    assert.are.equal(401, (with_keys(true).openai_refusal(R.get("/v1/models"))))
    local g = with_keys(false).plan(post({ prompt = "x" }))
    assert.are.equal("ip:203.0.113.9", g.context.ratelimit.key)
  end)

  it("a header that is not Bearer KEY is 401", function()
    local h = with_keys(false)
    for _, v in ipairs({ "Basic dXNlcjpwYXNz", "Bearer", "Bearer a b", KEY, string.rep("x", 2000) }) do
      local st, code = h.openai_refusal(post({ prompt = "x" }, { headers = { Authorization = v } }))
      assert.are.same({ 401, "invalid_api_key" }, { st, code }, v)
    end
    assert.is_table(h.plan(post({ prompt = "x" }, { headers = { Authorization = "bearer  " .. KEY .. " " } })))
  end)

  it("are not looked at when none is configured: any key works", function()
    local g = C.harness().plan(bearer("sk-anything"))
    assert.are.equal("ip:203.0.113.9", g.context.ratelimit.key)
  end)

  it("are checked before the parameters", function()
    assert.are.equal(401, (with_keys(true).openai_refusal(post({ prompt = 5, n = 0 }))))
  end)

  it("apply to the OpenAI routes only: /generate-image keeps API Gateway's keys", function()
    local h = with_keys(true)
    local g = h.plan(R.post("/generate-image", { prompt = "x" }, { headers = { Authorization = "Bearer nope" } }))
    assert.are.equal("ip:203.0.113.9", g.context.ratelimit.key)
  end)

  it("never put a key or a hash in a log line", function()
    local h = with_keys(true, function(c) c.logging.prompts = true end)
    h.plan(bearer(KEY))
    h.openai_refusal(bearer(OTHER_KEY))
    h.openai_refusal(post({ prompt = "x" }))
    h.admit(R.get("/v1/models", nil, { headers = { Authorization = "Bearer " .. KEY } }))
    local text = all_logs(h)
    assert.matches("team-a", text, 1, true)
    for _, secret in ipairs({ KEY, OTHER_KEY, KEY_HASH, shim.sha256(OTHER_KEY), KEY_HASH:sub(1, 16) }) do
      assert.is_nil(text:find(secret, 1, true), secret)
    end
  end)

  it("each key is its own bucket, and a 429 arrives in OpenAI's shape with Retry-After", function()
    local h = with_keys(false, function(c)
      c.rate_limit.tiers.premium = { rate = 0.5, burst = 2 }
    end)
    h.plan(bearer(KEY, { prompt = "x", n = 2 }))
    local st, code, param, msg, a = h.openai_refusal(bearer(KEY))
    assert.are.same({ 429, "rate_limit_exceeded" }, { st, code })
    assert.is_nil(param)
    assert.are.equal("rate limit reached for this API key; try again in 2 seconds", msg)
    assert.are.equal("rate_limit_error", a.body.error.type)
    assert.are.equal("2", a.headers["Retry-After"])
    assert.is_table(h.plan(post({ prompt = "x" }))) -- another caller: its own bucket
    local over = { h.openai_refusal(bearer(KEY, { prompt = "x", n = 3 })) }
    assert.are.same({ 400, "invalid_parameter", "n" }, { over[1], over[2], over[3] })
    assert.matches("^n 3 is more than this client may ask for at once", over[4])
  end)
end)

describe("the answer", function()
  local function generated(body, opts)
    local h = C.harness(opts)
    local req = post(body)
    local g = h.plan(req)
    return h, req, { generate = g }
  end

  it("for url: created, data[{url}], output_format, size, quality, background, usage", function()
    local h, req, plan = generated({ prompt = "a kite", n = 2, size = "1536x1024", quality = "high" })
    local a = h.respond(R.success(plan), req)
    assert.are.equal(200, a.status)
    local body = C.client_body(a)
    assert.are.equal(1795000000, body.created)
    assert.are.equal(2, #body.data)
    for _, d in ipairs(body.data) do
      assert.matches("^https://bucket.s3.amazonaws.com/", d.url)
      assert.is_nil(d.b64_json)
    end
    assert.are.equal("png", body.output_format)
    assert.are.equal("1216x832", body.size)
    assert.are.equal("high", body.quality)
    assert.are.equal("opaque", body.background)
    assert.are.same({ images = 2, input_tokens = 0, output_tokens = 0, total_tokens = 0,
      input_tokens_details = { text_tokens = 0, image_tokens = 0 } }, body.usage)
    assert.is_nil(body.images)
    assert.is_string(a.headers["RateLimit-Remaining"])
  end)

  it("for b64_json: data[{b64_json}] holds each image's b64_ref, which the runtime replaces by its base64",
    function()
      local h, req, plan = generated({ prompt = "a kite", n = 2, output_format = "webp", response_format = "b64_json" })
      local result = R.success(plan)
      for i, img in ipairs(result.images) do
        img.url, img.key = nil, nil
        img.b64_ref = "imagegen-inline-image:" .. i
      end
      local body = C.client_body(h.respond(result, req))
      assert.are.same({ { b64_json = "imagegen-inline-image:1" }, { b64_json = "imagegen-inline-image:2" } }, body.data)
      assert.are.equal("webp", body.output_format)
    end)

  it("for b64_json from a runtime that hands over the base64 itself (b64)", function()
    local h, req, plan = generated({ prompt = "a kite", response_format = "b64_json" })
    local result = R.success(plan)
    result.images[1].b64 = "iVBORw0KGgo="
    assert.are.equal("iVBORw0KGgo=", C.client_body(h.respond(result, req)).data[1].b64_json)
  end)

  it("for b64_json without the runtime's inline data: 500 in OpenAI's shape, and a log line", function()
    local h, req, plan = generated({ prompt = "a kite", response_format = "b64_json" })
    local a = h.respond(R.success(plan), req)
    assert.are.equal(500, a.status)
    assert.are.equal("policy_error", a.body.error.code)
    assert.are.equal("server_error", a.body.error.type)
    assert.are.equal(1, #h.ctl.find_logs({ level = "error", message = "the runtime's result lacks what the request asked for" }))
  end)

  it("for a failure: OpenAI's shape, with OpenAI's codes and Retry-After", function()
    local h, req, plan = generated({ prompt = "a kite" })
    local a = h.respond(R.failure(plan, "content_filtered", 400, "blocked"), req)
    assert.are.same({ 400, "content_policy_violation", "invalid_request_error" },
      { a.status, a.body.error.code, a.body.error.type })
    a = h.respond(R.failure(plan, "throttled", 503, "busy", 7), req)
    assert.are.same({ 503, "throttled", "server_error", "7" },
      { a.status, a.body.error.code, a.body.error.type, a.headers["Retry-After"] })
    a = h.respond(R.failure(plan, "throttled", 429, "busy", 3), req)
    assert.are.same({ 429, "rate_limit_error" }, { a.status, a.body.error.type })
    a = h.respond(R.failure(plan, "upstream_error", 502, "broken"), req)
    assert.are.same({ 502, "server_error" }, { a.status, a.body.error.type })
    a = h.respond(R.failure(plan, "response_too_large", 400, "too big"), req)
    assert.are.same({ 400, "response_too_large", "too big" }, { a.status, a.body.error.code, a.body.error.message })
  end)

  it("for the runtime's own refusals on a /v1/ path (no plan): OpenAI's shape", function()
    local h = C.harness()
    local a = h.respond(R.failure(nil, "payload_too_large", 413, "the request is too large"), post({ prompt = "x" }))
    assert.are.same({ 413, "payload_too_large", "invalid_request_error" },
      { a.status, a.body.error.code, a.body.error.type })
  end)

  it("on /generate-image keeps its own shape", function()
    local h = C.harness()
    local req = R.post("/generate-image", { prompt = "x" })
    local body = C.client_body(h.respond(R.success({ generate = h.plan(req) }), req))
    assert.is_table(body.images)
    assert.is_nil(body.data)
  end)
end)

describe("the OpenAI settings", function()
  local loader = require("loader")
  local cases = {
    { "a hash that is not 64 hex digits", function(c) c.api_keys.keys = { { id = "a", sha256 = "abc" } } end,
      "api_keys.keys[1].sha256 must be the key's SHA-256 as 64 hex digits" },
    { "a key itself where its hash goes", function(c) c.api_keys.keys = { { id = "a", sha256 = KEY } } end,
      "never the key itself" },
    { "a key without an id", function(c) c.api_keys.keys = { { sha256 = KEY_HASH } } end,
      "api_keys.keys[1] needs an id" },
    { "two keys with one id", function(c)
      c.api_keys.keys = { { id = "a", sha256 = KEY_HASH }, { id = "a", sha256 = shim.sha256("other") } }
    end, 'api_keys.keys[2].id names "a" twice' },
    { "one hash twice", function(c)
      c.api_keys.keys = { { id = "a", sha256 = KEY_HASH }, { id = "b", sha256 = KEY_HASH:upper() } }
    end, "api_keys.keys[2].sha256 repeats the hash of key 1" },
    { "a tier that does not exist", function(c) c.api_keys.keys = { { id = "a", sha256 = KEY_HASH, tier = "gold" } } end,
      'api_keys.keys[1].tier names an unknown tier "gold"' },
    { "keys required but none listed", function(c) c.api_keys.required = true end,
      "api_keys.required is true but api_keys.keys lists no key" },
    { "an id with a space", function(c) c.api_keys.keys = { { id = "team a", sha256 = KEY_HASH } } end,
      "api_keys.keys[1].id must be 1 to 64 letters" },
    { "an OpenAI name for an unknown model", function(c) c.openai.models = { ["dall-e-2"] = { "stability.nope" } } end,
      'openai.models["dall-e-2"][1] names an unknown model "stability.nope"' },
    { "an OpenAI name with a space", function(c) c.openai.models = { ["my model"] = { CORE } } end,
      'openai.models["my model"] must be 1 to 128 letters' },
    { "an OpenAI name with no model", function(c) c.openai.models = { ["dall-e-2"] = {} } end,
      'openai.models["dall-e-2"] must hold at least 1 entry' },
    { "a bad response_format", function(c) c.openai.response_format = "png" end,
      'openai.response_format must be one of "url", "b64_json"; got "png"' },
    { "a bad b64_json_delivery", function(c) c.openai.b64_json_delivery = "s3" end,
      'openai.b64_json_delivery must be one of "inline", "both"' },
  }
  for _, case in ipairs(cases) do
    it("refuse " .. case[1], function()
      local err = loader.load_error({ config = case[2] })
      assert.is_string(err)
      assert.matches(case[3], err, 1, true)
    end)
  end

  it("accept an upper-case hash", function()
    local h = C.harness({ config = function(c)
      c.api_keys.keys = { { id = "team-a", sha256 = KEY_HASH:upper() } }
      c.api_keys.required = true
    end })
    assert.is_table(h.plan(bearer(KEY)))
  end)
end)
