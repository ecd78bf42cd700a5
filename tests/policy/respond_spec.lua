-- respond_spec.lua - the answer after a generation: the success shape and every failure code
-- the runtime reports.

local C = require("contract")
local R = require("requests")

local TITAN = "amazon.titan-image-generator-v1"

-- A harness with one plan made for a GET request.
local function planned(query)
  local h = C.titan_harness({ config = function(c) c.rate_limit.tiers.anonymous = { rate = 0.5, burst = 10 } end })
  local req = R.get("/generate-image", query or { prompt = "a lighthouse", numberOfImages = "2", seed = "77" })
  local _, plan = h.plan(req)
  return h, plan, req
end

describe("success", function()
  it("has exactly images, model, requestId and expiresAt", function()
    local h, plan, req = planned()
    local result = R.success(plan)
    local a = h.respond(result, req)
    assert.are.equal(200, a.status)
    assert.are.equal("application/json", a.headers["Content-Type"])
    assert.are.equal("no-store", a.headers["Cache-Control"])
    local body = C.client_body(a)
    assert.are.same({
      images = {
        { url = result.images[1].url, key = result.images[1].key, width = 1024, height = 1024, seed = 77,
          batchIndex = 1, batchSize = 2, format = "png", contentType = "image/png" },
        { url = result.images[2].url, key = result.images[2].key, width = 1024, height = 1024, seed = 77,
          batchIndex = 2, batchSize = 2, format = "png", contentType = "image/png" },
      },
      model = TITAN,
      requestId = R.REQUEST_ID,
      expiresAt = "2026-11-29T15:20:55Z",
    }, body)
  end)

  it("reports the image size the runtime measured, else the requested one", function()
    local h, plan, req = planned({ prompt = "x", width = "512", height = "512" })
    local result = R.success(plan)
    result.images[1].width, result.images[1].height = 640, 384
    assert.are.same({ 640, 384 }, { C.client_body(h.respond(result, req)).images[1].width,
      C.client_body(h.respond(result, req)).images[1].height })
    result.images[1].width, result.images[1].height = nil, nil
    local img = C.client_body(h.respond(result, req)).images[1]
    assert.are.same({ 512, 512 }, { img.width, img.height })
  end)

  it("never passes the runtime's byte counts, timings or content types to the client", function()
    local h, plan, req = planned()
    local json = require("cjson").encode(h.respond(R.success(plan), req).body)
    for _, word in ipairs({ "bytes", "timings", "content_type", "model_ms", "ratelimit" }) do
      assert.is_nil(json:find(word, 1, true), word)
    end
  end)

  it("with no images is an upstream_error", function()
    local h, plan, req = planned()
    local result = R.success(plan)
    result.images = {}
    local a = h.respond(result, req)
    assert.are.equal(502, a.status)
    assert.are.equal("upstream_error", a.body.error.code)
    assert.are.equal("the model returned no images", a.body.error.message)
  end)

  it("counts delivered images", function()
    local h, plan, req = planned()
    h.respond(R.success(plan), req)
    assert.are.equal(2, h.ctl.metric_total("ImagesDelivered"))
  end)
end)

describe("failures", function()
  local cases = {
    { "invalid_request", 400, "ValidationException: bad size" },
    { "content_filtered", 400, "This request has been blocked by our content filters." },
    -- these two also name the active models the deployment allows: a Titan-only deployment has none
    { "model_unavailable", 502, "Access denied. This Model is marked by provider as Legacy",
      "; this deployment allows no other active model, so the operator must allow one" },
    { "model_retired", 502, "This model version has reached the end of its life",
      "; this deployment allows no other active model, so the operator must allow one" },
    { "upstream_error", 502, "the model failed" },
    { "throttled", 429, "too many requests" },
    { "throttled", 503, "service unavailable" },
    { "timeout", 504, "the model did not answer in time" },
    { "storage_error", 502, "could not store" },
    { "policy_error", 500, "The request policy failed; see the function's log." },
  }
  for _, case in ipairs(cases) do
    local code, status, message, suffix = case[1], case[2], case[3], case[4] or ""
    it(code .. " " .. status .. " keeps its code, status and message", function()
      local h, plan, req = planned()
      local a = h.respond(R.failure(plan, code, status, message), req)
      assert.are.equal(status, a.status)
      assert.are.same({ error = { code = code, message = message .. suffix, requestId = R.REQUEST_ID } },
        C.client_body(a))
      assert.are.equal("application/json", a.headers["Content-Type"])
      assert.is_nil(a.headers["Retry-After"])
    end)
  end

  it("pass Retry-After in whole seconds, at least 1", function()
    local h, plan, req = planned()
    for _, pair in ipairs({ { 7, "7" }, { 7.2, "8" }, { 0.2, "1" }, { 0, "1" } }) do
      local a = h.respond(R.failure(plan, "throttled", 429, "slow down", pair[1]), req)
      assert.are.equal(pair[2], a.headers["Retry-After"])
    end
  end)

  it("use the default status for a code when the runtime suggests none or a non-error", function()
    local h, plan, req = planned()
    assert.are.equal(504, h.respond(R.failure(plan, "timeout", nil, "slow"), req).status)
    assert.are.equal(502, h.respond(R.failure(plan, "storage_error", 200, "no"), req).status)
    assert.are.equal(503, h.respond(R.failure(plan, "throttled", "x", "busy"), req).status)
  end)

  it("use a default sentence when the runtime gives no message", function()
    local h, plan, req = planned()
    local a = h.respond(R.failure(plan, "timeout", 504, nil), req)
    assert.are.equal("the model did not answer in time; try again", a.body.error.message)
    a = h.respond(R.failure(plan, "content_filtered", 400, "  "), req)
    assert.matches("content filter", a.body.error.message, 1, true)
  end)

  it("cut a very long message", function()
    local h, plan, req = planned()
    local a = h.respond(R.failure(plan, "invalid_request", 400, string.rep("é", 1000)), req)
    assert.is_true(#a.body.error.message <= 503)
    assert.is_truthy(utf8.len(a.body.error.message))
  end)

  it("map an unknown code to upstream_error", function()
    local h, plan, req = planned()
    local a = h.respond(R.failure(plan, "kaboom", 500, "weird"), req)
    assert.are.equal(500, a.status)
    assert.are.equal("upstream_error", a.body.error.code)
  end)

  it("keep the rate-limit headers", function()
    local h, plan, req = planned()
    local a = h.respond(R.failure(plan, "content_filtered", 400, "blocked"), req)
    assert.are.equal("10", a.headers["RateLimit-Limit"])
    assert.are.equal("8", a.headers["RateLimit-Remaining"])
  end)

  it("are logged and counted without the prompt", function()
    local h, plan, req = planned()
    h.respond(R.failure(plan, "storage_error", 502, "no bucket"), req)
    local lines = h.ctl.find_logs({ message = "generation failed" })
    assert.are.equal(1, #lines)
    assert.are.equal("error", lines[1].level)
    assert.are.same({ code = "storage_error", status = 502, model = TITAN }, lines[1].fields)
    assert.are.equal(1, h.ctl.metric_total("GenerationFailed"))
  end)

  it("survive a result without context", function()
    local h = C.titan_harness()
    local a = h.respond({ ok = false, code = "timeout", status = 504, message = "slow", request_id = R.REQUEST_ID },
      R.get("/generate-image"))
    assert.are.equal(504, a.status)
  end)
end)

describe("what makes each image again", function()
  -- Titan and Nova make a batch of n images in one call from one seed: image k of it is made
  -- again only by the same request with the same numberOfImages, so each image reports its
  -- place in the batch as well as the seed.
  it("is, for an image of a Titan batch, the seed, its index in the batch and the batch's size", function()
    local h, plan, req = planned({ prompt = "a lighthouse", numberOfImages = "3", seed = "7" })
    local body = C.client_body(h.respond(R.success(plan), req))
    for i = 1, 3 do
      assert.are.same({ 7, i, 3 }, { body.images[i].seed, body.images[i].batchIndex, body.images[i].batchSize })
    end
  end)

  it("uses the runtime's index, so a filtered image leaves no gap unexplained", function()
    local h, plan, req = planned({ prompt = "a lighthouse", numberOfImages = "3", seed = "7" })
    local body = C.client_body(h.respond(R.success(plan, { missing = { { call = 1, index = 2, reason = "Filter reason: x" } } }), req))
    assert.are.same({ 1, 3 }, { body.images[1].batchIndex, body.images[2].batchIndex })
  end)

  it("keeps the batch index of cached Titan images", function()
    local h, plan, req = planned({ prompt = "a lighthouse", numberOfImages = "2", seed = "7" })
    local body = C.client_body(h.respond(R.success(plan, { cached = true }), req))
    assert.are.same({ 1, 2 }, { body.images[1].batchIndex, body.images[2].batchIndex })
  end)

  it("is the seed alone for a single image, and for a model that makes one image per call", function()
    local h, plan, req = planned({ prompt = "a lighthouse", seed = "7" })
    local img = C.client_body(h.respond(R.success(plan), req)).images[1]
    assert.are.same({ 7 }, { img.seed, img.batchIndex, img.batchSize })
    local hs = C.harness()
    local sreq = R.get("/generate-image", { prompt = "a lighthouse", numberOfImages = "2", seed = "7" })
    local _, splan = hs.plan(sreq)
    local body = C.client_body(hs.respond(R.success(splan), sreq))
    assert.are.same({ 7, 8 }, { body.images[1].seed, body.images[2].seed })
    assert.is_nil(body.images[1].batchIndex)
    assert.is_nil(body.images[2].batchSize)
  end)

  it("is described by the plan's context: images per call", function()
    local _, plan = planned({ prompt = "x", numberOfImages = "3" })
    assert.are.equal(3, plan.generate.attempts[1].context.batch)
    local _, splan = C.harness().plan(R.get("/generate-image", { prompt = "x", numberOfImages = "3" }))
    assert.are.equal(1, splan.generate.attempts[1].context.batch)
  end)
end)

describe("success with one call per image (Stability)", function()
  local CORE = "stability.stable-image-core-v1:1"

  local function stability(query)
    local h = C.harness({ config = function(c) c.rate_limit.tiers.anonymous = { rate = 0.5, burst = 10 } end })
    local req = R.get("/generate-image", query or { prompt = "a lighthouse", numberOfImages = "3", seed = "5" })
    local _, plan = h.plan(req)
    return h, plan, req
  end

  it("gives each image the seed of the call that made it, its format and content type", function()
    local h, plan, req = stability()
    local result = R.success(plan)
    local body = C.client_body(h.respond(result, req))
    assert.are.equal(CORE, body.model)
    assert.are.equal(3, #body.images)
    for i, s in ipairs({ 5, 6, 7 }) do
      assert.are.same({ url = result.images[i].url, key = result.images[i].key, width = 1024, height = 1024,
        format = "png", contentType = "image/png", seed = s }, body.images[i])
    end
  end)

  it("gives cached images their calls' seeds in order, since the cache does not say which call made them", function()
    local h, plan, req = stability()
    local result = R.success(plan, { cached = true })
    for _, img in ipairs(result.images) do img.call, img.index = 1, nil end -- as the runtime reports a cache hit
    local body = C.client_body(h.respond(result, req))
    assert.is_true(body.cached)
    assert.are.same({ 5, 6, 7 }, { body.images[1].seed, body.images[2].seed, body.images[3].seed })
  end)

  it("reports JPEG and WebP as the runtime measured them", function()
    local h, plan, req = stability({ prompt = "x", outputFormat = "jpeg", aspectRatio = "16:9" })
    local img = C.client_body(h.respond(R.success(plan), req)).images[1]
    assert.are.same({ "jpeg", "image/jpeg", 1344, 768 }, { img.format, img.contentType, img.width, img.height })
    local result = R.success(plan, { format = "webp" })
    result.images[1].format = nil -- only the content type: the format follows from it
    img = C.client_body(h.respond(result, req)).images[1]
    assert.are.same({ "webp", "image/webp" }, { img.format, img.contentType })
  end)

  it("says which images are missing and how many were filtered, never hiding one", function()
    local h, plan, req = stability()
    local result = R.success(plan, { missing = { { call = 2, index = 1, reason = "Filter reason: output image" } } })
    local a = h.respond(result, req)
    assert.are.equal(200, a.status)
    local body = C.client_body(a)
    assert.are.same({ 5, 7 }, { body.images[1].seed, body.images[2].seed })
    assert.are.equal(1, body.filtered)
    assert.are.same({ { seed = 6, reason = "Filter reason: output image" } }, body.missing)
    assert.are.equal(2, h.ctl.metric_total("ImagesDelivered"))
    assert.are.equal(1, h.ctl.metric_total("ImagesMissing"))
  end)

  it("counts an inference error as missing but not filtered", function()
    local h, plan, req = stability()
    local body = C.client_body(h.respond(R.success(plan, { missing = {
      { call = 1, index = 1, reason = "Inference error" },
      { call = 3, index = 1, reason = "Filter reason: prompt" },
    } }), req))
    assert.are.equal(1, #body.images)
    assert.are.equal(6, body.images[1].seed)
    assert.are.equal(1, body.filtered)
    assert.are.same({ { seed = 5, reason = "Inference error" }, { seed = 7, reason = "Filter reason: prompt" } }, body.missing)
  end)

  it("counts Titan's content-filter sentence as filtered", function()
    local h = C.titan_harness()
    local req = R.get("/generate-image", { prompt = "x", numberOfImages = "2", seed = "9" })
    local _, plan = h.plan(req)
    local body = C.client_body(h.respond(R.success(plan, { missing = { { call = 1, index = 2,
      reason = "Some of the generated images have been blocked by our content filters." } } }), req))
    assert.are.equal(1, #body.images)
    assert.are.equal(1, body.filtered)
    assert.are.equal(9, body.missing[1].seed)
  end)

  it("keeps content_filtered a 400 when every image is missing", function()
    local h, plan, req = stability()
    local a = h.respond(R.failure(plan, "content_filtered", 400, "Filter reason: prompt"), req)
    assert.are.equal(400, a.status)
    assert.are.equal("content_filtered", a.body.error.code)
    assert.are.equal("7", a.headers["RateLimit-Remaining"]) -- 10 - 3, nothing back: not a service failure
  end)
end)
