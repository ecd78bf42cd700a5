-- edit_spec.lua - POST /edit-image's refusals (each a 400, 404 or 413 naming the problem, with
-- no model call), uploads (POST /uploads, owner-scoped keys, the two-phase fetch and its rate
-- limit spent once), and the settings of edits (allowed_tasks, uploads).

local cjson = require("cjson")
local C = require("contract")
local R = require("requests")
local shim = require("shim")

local CORE = "stability.stable-image-core-v1:1"
local SD35 = "stability.sd3-5-large-v1:0"
local TITAN = "amazon.titan-image-generator-v1"
local ANONYMOUS_OWNER = shim.sha256("ip:203.0.113.9"):sub(1, 16)
local UUID = "00000000-0000-4000-8000-000000000001"

local function unlimited(c) c.rate_limit.enabled = false end

local function edit(body, opts)
  return R.post("/edit-image", body, opts)
end

local function refused(h, req, status, code, parts)
  local st, c, msg = h.refusal(req)
  assert.are.equal(code, c, msg)
  assert.are.equal(status, st, msg)
  for _, p in ipairs(parts or {}) do
    assert.matches(p, msg, 1, true)
  end
  return msg
end

describe("an edit refused for its images", function()
  local h = C.harness({ config = unlimited })

  it("not an image: 400 invalid_image naming the field and the runtime's sentence", function()
    refused(h, edit({ task = "upscale-fast", image = R.image({ error = "not_image", format = false,
      message = "the data is not a PNG, JPEG or WebP image" }) }), 400, "invalid_image",
      { "image is not a usable image: the data is not a PNG, JPEG or WebP image" })
  end)

  it("a truncated PNG: 400 invalid_image", function()
    refused(h, edit({ task = "remove-background", image = R.image({ error = "truncated", width = 800, height = 600,
      message = "the PNG ends before its IEND chunk (truncated)" }) }), 400, "invalid_image",
      { "image is not a usable image: the PNG ends before its IEND chunk" })
  end)

  it("bad base64: 400 invalid_image", function()
    refused(h, edit({ task = "upscale-fast", image = R.image({ error = "bad_base64", format = false,
      message = "image is not valid base64" }) }), 400, "invalid_image", { "image is not valid base64" })
  end)

  it("a format the model does not read: 400 naming the formats", function()
    refused(h, edit({ task = "upscale-fast", image = R.image({ format = false }) }), 400, "invalid_image",
      { "image is not an image this service reads; upscale-fast on stability.stable-fast-upscale-v1:0 takes jpeg, png, webp" })
  end)

  it("a mask of another size: 400 naming both sizes", function()
    refused(h, edit({ task = "inpaint", prompt = "a kite", image = R.image({ width = 1024, height = 1024 }),
      mask = R.image({ field = "mask", width = 512, height = 512 }) }), 400, "invalid_image",
      { "mask is 512x512 pixels but image is 1024x1024; the mask must have the image's size" })
  end)

  it("too small, too many pixels, too far from square: 400 naming the field and the limit", function()
    refused(h, edit({ task = "erase", image = R.image({ width = 40, height = 40, alpha = true }) }), 400, "invalid_image",
      { "image is 40x40 pixels; erase on stability.stable-image-erase-object-v1:0 takes images whose every side is at least 64 pixels" })
    refused(h, edit({ task = "inpaint", prompt = "x", image = R.image({ width = 4096, height = 4096, alpha = true }) }),
      400, "invalid_image", { "takes images of at most 9,437,184 pixels (width x height); this one has 16,777,216" })
    refused(h, edit({ task = "sketch", prompt = "x", image = R.image({ width = 3000, height = 1000 }) }), 400,
      "invalid_image", { "image is 3000x1000 pixels; sketch on stability.stable-image-control-sketch-v1:0 takes aspect ratios between 1:2.5 and 2.5:1" })
    refused(h, edit({ task = "upscale-fast", image = R.image({ width = 2048, height = 512 }) }), 400, "invalid_image",
      { "every side is at most 1536 pixels" })
    refused(h, edit({ task = "upscale-creative", prompt = "x", image = R.image({ width = 2000, height = 2000 }) }), 400,
      "invalid_image", { "at most 1,048,576 pixels" })
    refused(h, edit({ task = "style-transfer", image = R.image(), styleImage = R.image({ field = "styleImage",
      width = 50, height = 800 }) }), 400, "invalid_image", { "styleImage is 50x800 pixels" })
  end)

  it("the limits' edges pass: 64 px sides, 9,437,184 pixels, 2.5:1", function()
    h.plan(edit({ task = "erase", image = R.image({ width = 64, height = 160, alpha = true }) }))
    h.plan(edit({ task = "sketch", prompt = "x", image = R.image({ width = 3072, height = 3072, bytes = 3000000 }) }))
    h.plan(edit({ task = "upscale-fast", image = R.image({ width = 32, height = 32 }) }))
  end)

  it("inline images past what a request can carry: 413 pointing at POST /uploads", function()
    refused(h, edit({ task = "upscale-conservative", prompt = "x", image = R.image({ bytes = 4600000 }) }), 413,
      "payload_too_large", { "4,600,000 bytes", "upload each with POST /uploads" })
  end)

  it("images that would make the model request larger than Bedrock's 25,000,000 bytes: 413", function()
    local msg = refused(h, edit({ task = "style-transfer", image = R.uploaded("uploads/x", { bytes = 12000000 }),
      styleImage = R.uploaded("uploads/y", { field = "styleImage", bytes = 9000000 }) }), 413, "payload_too_large",
      { "Bedrock takes at most 25,000,000" })
    assert.matches("about 28,", msg, 1, true)
  end)

  it("a missing required image: 400 naming it and how to send it", function()
    refused(h, edit({ task = "upscale-fast" }), 400, "invalid_image",
      { "image is required by upscale-fast on stability.stable-fast-upscale-v1:0", "{\"upload\": key}" })
    refused(h, edit({ task = "style-transfer", image = R.image() }), 400, "invalid_image", { "styleImage is required" })
  end)

  it("inpaint and erase with neither a mask nor transparency: 400", function()
    refused(h, edit({ task = "inpaint", prompt = "x", image = R.image({ format = "jpeg" }) }), 400, "invalid_image",
      { "inpaint needs a mask" })
    refused(h, edit({ task = "erase", image = R.image() }), 400, "invalid_image", { "erase needs a mask" })
  end)

  it("a list where one image goes, or a value that is no image: 400", function()
    refused(h, edit({ task = "upscale-fast", image = { R.image(), R.image({ index = 2 }) } }), 400, "invalid_image",
      { "image takes one image; got a list of 2" })
    -- a list of one too: the model's body member holds one image, not a list
    refused(h, edit({ task = "style-transfer", image = R.image(), styleImage = { R.image({ field = "styleImage" }) } }),
      400, "invalid_image", { "styleImage takes one image; got a list of 1" })
    refused(h, edit({ task = "upscale-fast", image = { { upload = "uploads/x" } } }), 400, "invalid_image",
      { "image takes one image; got a list of 1" })
    refused(h, edit({ task = "upscale-fast", image = 42 }), 400, "invalid_image", { "image must be an image as base64" })
    refused(h, edit({ task = "upscale-fast", image = { url = "https://x/y.png" } }), 400, "invalid_image")
  end)

  it("a facts table the runtime did not make (a base64 ref): 400, its ref never sent", function()
    local forged = R.image()
    forged.ref = string.rep("iVBORw0KGgo", 100)
    refused(h, edit({ task = "upscale-fast", image = forged }), 400, "invalid_image")
  end)

  it("an image member the runtime left as text: 500 policy_error, logged", function()
    local hh = C.harness({ config = unlimited })
    refused(hh, edit({ task = "upscale-fast", image = "iVBORw0KGgo=" }), 500, "policy_error")
    assert.are.equal(1, #hh.ctl.find_logs({ level = "error", message = "the request could not be checked" }))
  end)
end)

describe("an edit refused for its task or parameters", function()
  local h = C.harness({ config = unlimited })

  it("an unknown task: 400 unknown_task with what was meant and the tasks offered", function()
    local msg = refused(h, edit({ task = "inpainting", image = R.image() }), 400, "unknown_task",
      { "unknown task \"inpainting\" (did you mean inpaint?)", "this service offers image-to-image, inpaint, outpaint" })
    assert.is_nil(msg:find("variation", 1, true))
    refused(h, edit({ task = "Remove_Background", image = R.image() }), 400, "unknown_task",
      { "did you mean remove-background?" })
    refused(h, edit({ task = "upscale", image = R.image() }), 400, "unknown_task",
      { "did you mean upscale-fast, upscale-conservative or upscale-creative?" })
    refused(h, edit({ task = 7 }), 400, "unknown_task", { "task must be a string" })
  end)

  it("no task: 400 naming the tasks", function()
    refused(h, edit({ image = R.image() }), 400, "invalid_parameter", { "task is required", "upscale-fast" })
  end)

  it("a task of the catalogue this deployment does not serve: 400 saying so", function()
    refused(h, edit({ task = "variation", image = R.image() }), 400, "unknown_task",
      { "task \"variation\" is not offered by this deployment" })
    local narrow = C.harness({ config = function(c) unlimited(c); c.allowed_models = { CORE } end })
    refused(narrow, edit({ task = "image-to-image", image = R.image(), prompt = "x" }), 400, "unknown_task",
      { "(none of its models is allowed)" })
  end)

  it("a model that does not serve the task: 400 unknown_model naming the ones that do", function()
    refused(h, edit({ task = "inpaint", model = CORE, image = R.image({ alpha = true }), prompt = "x" }), 400,
      "unknown_model", { "inpaint is served by stability.stable-image-inpaint-v1:0" })
  end)

  it("unknown parameters: 400 with what was meant", function()
    refused(h, edit({ task = "inpaint", image = R.image({ alpha = true }), prompt = "x", grow_mask = 3 }), 400,
      "unknown_parameter", { "\"grow_mask\" (did you mean growMask?)", "takes task, model, image, mask, prompt" })
    refused(h, edit({ task = "upscale-fast", image = R.image(), n = 2 }), 400, "unknown_parameter", { "\"n\"" })
    local legacy = C.harness({ config = function(c) unlimited(c); c.allowed_models = { CORE, TITAN } end })
    refused(legacy, edit({ task = "inpaint", image = R.image({ alpha = true }), prompt = "x", maskPrompt = "sky" }), 400,
      "unknown_parameter", { "\"maskPrompt\" (taken by " .. TITAN })
  end)

  it("refuses an image whose alpha channel marks nothing, with no mask", function()
    local h = C.harness()
    refused(h, edit({ task = "inpaint", prompt = "x", image = R.image({ alpha = true, transparent_pixels = 0 }) }), 400,
      "invalid_image", { "has an alpha channel but no transparent pixel" })
    refused(h, edit({ task = "erase", image = R.image({ alpha = true, transparent_pixels = 0 }) }), 400,
      "invalid_image", { "no transparent pixel" })
    h.plan(edit({ task = "erase", image = R.image({ alpha = true, transparent_pixels = 1 }) }))
  end)

  it("a missing or bad parameter: 400 naming it and its range", function()
    refused(h, edit({ task = "search-replace", image = R.image(), prompt = "a jacket" }), 400, "invalid_prompt",
      { "searchPrompt is required by search-replace" })
    refused(h, edit({ task = "inpaint", image = R.image({ alpha = true }) }), 400, "invalid_prompt",
      { "prompt is required by inpaint" })
    refused(h, edit({ task = "inpaint", image = R.image({ alpha = true }), prompt = "x", growMask = 21 }), 400,
      "invalid_parameter", { "growMask must be between 0 and 20; got 21" })
    refused(h, edit({ task = "upscale-creative", image = R.image(), prompt = "x", creativity = 0.6 }), 400,
      "invalid_parameter", { "creativity must be between 0.1 and 0.5; got 0.6" })
    refused(h, edit({ task = "image-to-image", image = R.image(), prompt = "x", strength = "0.5" }), 400,
      "invalid_parameter", { "strength must be a number (a JSON number)" })
    refused(h, edit({ task = "remove-background", image = R.image(), outputFormat = "jpeg" }), 400,
      "invalid_parameter", { "outputFormat must be one of png, webp; got \"jpeg\"" })
    refused(h, edit({ task = "sketch", image = R.image(), prompt = "x", stylePreset = "oil" }), 400, "invalid_parameter",
      { "stylePreset must be one of 3d-model" })
    refused(h, edit({ task = "sketch", image = R.image(), prompt = "x", numberOfImages = 6 }), 400, "invalid_parameter",
      { "numberOfImages must be between 1 and 5; got 6" })
  end)

  it("outpaint with no direction: 400", function()
    refused(h, edit({ task = "outpaint", image = R.image(), left = 0 }), 400, "invalid_parameter",
      { "outpaint needs at least one of left, right, up or down above 0" })
  end)

  it("a deny-listed prompt: 400 prompt_rejected, before anything is fetched", function()
    local hh = C.harness({ config = function(c) unlimited(c); c.prompt.deny = { "gore" } end })
    refused(hh, edit({ task = "search-replace", image = R.image(), prompt = "a jacket", searchPrompt = "gore" }), 400,
      "prompt_rejected", { "searchPrompt contains a word or phrase" })
    refused(hh, edit({ task = "sketch", prompt = "full of gore",
      image = { upload = "uploads/" .. ANONYMOUS_OWNER .. "/" .. UUID .. ".png" } }), 400, "prompt_rejected")
  end)

  it("a body that is not a JSON object, or a query string: 400", function()
    refused(h, R.post("/edit-image", nil), 400, "invalid_body", { "POST /edit-image needs a JSON object body" })
    refused(h, R.post("/edit-image", "[1]"), 400, "invalid_body")
    refused(h, edit({ task = "upscale-fast", image = R.image() }, { query = { task = "x" } }), 400, "invalid_parameter",
      { "not the query string" })
  end)

  it("a JSON null means not given", function()
    local g = h.plan(edit({ task = "sketch", image = R.image(), prompt = "x", seed = 5, controlStrength = cjson.null,
      model = cjson.null }))
    assert.is_nil(g.body.control_strength)
  end)

  it("a body whose images the runtime took out (no raw_body) is still read", function()
    local req = edit({ task = "upscale-fast", image = R.image() })
    req.raw_body = nil
    assert.are.equal("us.stability.stable-fast-upscale-v1:0", h.plan(req).model)
  end)
end)

describe("a legacy task refused", function()
  local h = C.harness({ config = function(c) unlimited(c); c.allowed_models = { CORE, TITAN } end })

  it("for Titan's limits: 1,408 px sides and 5 MB", function()
    refused(h, edit({ task = "inpaint", model = TITAN, image = R.image({ width = 1536, height = 1024 }),
      maskPrompt = "sky" }), 400, "invalid_image", { "every side is at most 1408 pixels" })
    refused(h, edit({ task = "inpaint", model = TITAN, image = R.uploaded("uploads/z", { bytes = 6000000 }),
      maskPrompt = "sky" }), 400, "invalid_image", { "images of at most 5,000,000 bytes" })
  end)

  it("with both a mask and maskPrompt, or neither", function()
    refused(h, edit({ task = "inpaint", model = TITAN, image = R.image(), maskPrompt = "sky",
      mask = R.image({ field = "mask", alpha = true }) }), 400, "invalid_parameter", { "give maskPrompt or mask, not both" })
    refused(h, edit({ task = "inpaint", model = TITAN, image = R.image() }), 400, "invalid_image",
      { "needs maskPrompt (what to edit, in words) or a mask" })
  end)

  it("with a mask that carries no transparency", function()
    refused(h, edit({ task = "inpaint", model = TITAN, image = R.image(), mask = R.image({ field = "mask" }) }), 400,
      "invalid_image", { "mask must be a PNG with an alpha channel" })
  end)
end)

describe("POST /uploads", function()
  it("answers a presigned POST for a key in the caller's own folder", function()
    local h = C.harness()
    local a = h.admit(R.post("/uploads", { contentType = "image/png" }))
    local spent = a.presign_post.context
    a.presign_post.context = nil
    assert.are.same({ key = "uploads/" .. ANONYMOUS_OWNER .. "/" .. UUID .. ".png", content_type = "image/png",
      max_bytes = 18000000, expires = 900 }, a.presign_post)
    assert.are.equal(1, spent.ratelimit.cost) -- handed back to respond() for the RateLimit headers
    local jpeg = h.admit(R.post("/uploads", { contentType = "image/JPEG" })).presign_post
    assert.matches("%.jpg$", jpeg.key)
    assert.are.equal("image/jpeg", jpeg.content_type)
    assert.are.equal(2, #h.ctl.find_logs({ outcome = "upload" }))
  end)

  it("names the folder after the API key the caller used, never the key itself", function()
    local a = C.harness().admit(R.post("/uploads", { contentType = "image/webp" },
      { identity = { source_ip = "203.0.113.9", api_key_id = "k3y1d" } }))
    local owner = shim.sha256("key:k3y1d"):sub(1, 16)
    assert.are.equal("uploads/" .. owner .. "/" .. UUID .. ".webp", a.presign_post.key)
    assert.is_nil(a.presign_post.key:find("k3y1d", 1, true))
  end)

  it("answers the signed form as {upload: {url, fields, key, expiresAt}, maxBytes}", function()
    local h = C.harness({ config = function(c) c.cors.origins = { "https://app.example.com" } end })
    local req = R.post("/uploads", { contentType = "image/png" }, { headers = { Origin = "https://app.example.com" } })
    local a = h.admit(req)
    local out = h.respond(R.presigned(a), req)
    assert.are.equal(200, out.status)
    local body = C.client_body(out)
    assert.are.equal(a.presign_post.key, body.upload.key)
    assert.are.equal("https://bucket.s3.us-west-2.amazonaws.com/", body.upload.url)
    assert.are.equal(a.presign_post.key, body.upload.fields.key)
    assert.are.equal("image/png", body.upload.fields["Content-Type"])
    assert.are.equal("2026-11-29T15:15:00Z", body.upload.expiresAt)
    assert.are.equal(18000000, body.maxBytes)
    assert.are.equal("https://app.example.com", out.headers["Access-Control-Allow-Origin"])
    assert.are.equal("no-store", out.headers["Cache-Control"])
  end)

  it("says when the form expires in whole seconds, though the runtime signs it to the millisecond", function()
    local h = C.harness()
    local req = R.post("/uploads", { contentType = "image/png" })
    local result = R.presigned(h.admit(req))
    result.upload.expires_at = "2026-11-29T15:15:00.000Z"
    assert.are.equal("2026-11-29T15:15:00Z", C.client_body(h.respond(result, req)).upload.expiresAt)
  end)

  it("refuses another content type, none, or another parameter", function()
    local h = C.harness()
    refused(h, R.post("/uploads", { contentType = "image/gif" }), 400, "invalid_parameter",
      { "contentType must be one of image/png, image/jpeg, image/webp; got \"image/gif\"" })
    refused(h, R.post("/uploads", {}), 400, "invalid_parameter", { "got nothing" })
    refused(h, R.post("/uploads", { content_type = "image/png" }), 400, "unknown_parameter",
      { "\"content_type\" (did you mean contentType?)" })
    refused(h, R.post("/uploads", nil), 400, "invalid_body")
    refused(h, R.get("/uploads"), 405, "method_not_allowed")
  end)

  it("spends one request's rate-limit tokens, and is refused 429 past them", function()
    local h = C.harness()
    for _ = 1, 2 do h.admit(R.post("/uploads", { contentType = "image/png" })) end
    assert.are.equal(2, h.plan(edit({ task = "upscale-fast", image = R.image() })).context.ratelimit.remaining)
    for _ = 1, 3 do h.admit(R.post("/uploads", { contentType = "image/png" })) end
    refused(h, R.post("/uploads", { contentType = "image/png" }), 429, "rate_limited")
  end)

  it("answers the form with the RateLimit headers of the tokens it spent", function()
    local h = C.harness()
    local req = R.post("/uploads", { contentType = "image/png" })
    local out = h.respond(R.presigned(h.admit(req)), req)
    assert.are.equal(200, out.status)
    assert.are.equal("5", out.headers["RateLimit-Limit"])
    assert.are.equal("4", out.headers["RateLimit-Remaining"])
    assert.truthy(tonumber(out.headers["RateLimit-Reset"]))
  end)

  it("takes its settings from uploads.*", function()
    local h = C.harness({ config = function(c) c.uploads = { prefix = "in/", max_bytes = 1000, url_ttl = 60 } end })
    local p = h.admit(R.post("/uploads", { contentType = "image/png" })).presign_post
    assert.are.equal("in/" .. ANONYMOUS_OWNER .. "/" .. UUID .. ".png", p.key)
    assert.are.equal(1000, p.max_bytes)
    assert.are.equal(60, p.expires)
  end)
end)

describe("an edit of an upload", function()
  local KEY = "uploads/" .. ANONYMOUS_OWNER .. "/" .. UUID .. ".png"

  it("asks the runtime to fetch the caller's upload, then plans with its facts", function()
    local h = C.harness()
    local body = { task = "sketch", prompt = "a house", image = { upload = KEY }, seed = 3 }
    assert.are.same({ { field = "image", key = KEY, max_bytes = 18000000 } }, h.fetch(edit(body)))
    local req = edit(body)
    local img = R.uploaded(KEY, { width = 1024, height = 768 })
    req.body.image = img
    local a = h.admit(req, R.ctx({ fetched = true }))
    assert.are.same({ prompt = "a house", image = img.ref, seed = 3, output_format = "png" }, a.generate.body)
  end)

  it("spends the rate-limit tokens once, at the plan", function()
    local h = C.harness()
    local body = { task = "sketch", prompt = "a house", image = { upload = KEY }, numberOfImages = 2 }
    h.fetch(edit(body))
    h.fetch(edit(body))
    local req = edit(body)
    req.body.image = R.uploaded(KEY)
    local g = h.admit(req, R.ctx({ fetched = true })).generate
    assert.are.equal(3, g.context.ratelimit.remaining) -- burst 5, less 2 images
  end)

  it("fetches each upload of a list by its index, and caps Titan's at 5 MB", function()
    local h = C.harness({ config = function(c)
      c.allowed_models = { CORE, TITAN }
      c.allowed_tasks = { "variation" }
    end })
    local other = "uploads/" .. ANONYMOUS_OWNER .. "/00000000-0000-4000-8000-000000000002.jpg"
    assert.are.same({
      { field = "image", key = KEY, max_bytes = 5000000, index = 1 },
      { field = "image", key = other, max_bytes = 5000000, index = 3 },
    }, h.fetch(edit({ task = "variation", image = { { upload = KEY }, R.image({ index = 2 }), { upload = other } } })))
  end)

  it("variation takes an image given alone as a list of one", function()
    local h = C.harness({ config = function(c)
      c.allowed_models = { CORE, TITAN }
      c.allowed_tasks = { "variation" }
    end })
    local img = R.image({ format = "jpeg", width = 512, height = 512 })
    local g = h.plan(edit({ task = "variation", image = img }))
    assert.are.same({ img.ref }, g.attempts[1].calls[1].body.imageVariationParams.images)
    assert.are.same({ { field = "image", key = KEY, max_bytes = 5000000 } },
      h.fetch(edit({ task = "variation", image = { upload = KEY } })))
    local req = edit({ task = "variation", image = R.uploaded(KEY, { width = 512, height = 512 }) })
    g = h.admit(req, R.ctx({ fetched = true })).generate
    assert.are.same({ req.body.image.ref }, g.attempts[1].calls[1].body.imageVariationParams.images)
  end)

  it("of another caller is 404 not_found, with nothing fetched", function()
    local h = C.harness()
    local theirs = "uploads/" .. shim.sha256("ip:198.51.100.7"):sub(1, 16) .. "/" .. UUID .. ".png"
    refused(h, edit({ task = "upscale-fast", image = { upload = theirs } }), 404, "not_found",
      { "image: no upload \"uploads/", "for this caller" })
    for _, key in ipairs({ "images/2026/11/29/" .. UUID .. ".png", "uploads/" .. ANONYMOUS_OWNER .. "/../x.png",
      "uploads/" .. ANONYMOUS_OWNER .. "/" .. UUID .. ".gif", KEY .. "?x", "" }) do
      refused(h, edit({ task = "upscale-fast", image = { upload = key } }), 404, "not_found")
    end
    refused(h, edit({ task = "upscale-fast", image = { upload = 7 } }), 400, "invalid_image",
      { "image.upload must be the key POST /uploads answered" })
  end)

  it("that is not there (expired) is 404, and one too large 413, naming the field", function()
    local h = C.harness()
    local req = edit({ task = "upscale-fast", image = R.uploaded(KEY, { error = "not_found",
      message = "no upload has this key (uploads expire after a day)" }) })
    refused(h, req, 404, "not_found", { "image: no upload has this key (uploads expire after a day)" })
    req = edit({ task = "upscale-fast", image = R.uploaded(KEY, { error = "too_large",
      message = "the upload is larger than 18000000 bytes" }) })
    refused(h, req, 413, "payload_too_large", { "image: the upload is larger than 18000000 bytes" })
  end)

  it("still unread at the second admit() is a policy_error, never a second fetch", function()
    local h = C.harness()
    local a = h.admit(edit({ task = "upscale-fast", image = { upload = KEY } }), R.ctx({ fetched = true }))
    assert.is_nil(a.fetch)
    assert.are.equal(500, a.status)
    assert.are.equal("policy_error", a.body.error.code)
  end)
end)

describe("edit settings", function()
  local loader = require("loader")

  it("allowed_tasks: an unknown or repeated task stops the start-up", function()
    local err = loader.load_error({ config = function(c) c.allowed_tasks = { "inpaint", "inpainting", "inpaint" } end })
    assert.matches('allowed_tasks[2] names an unknown task "inpainting"; the catalogue holds image-to-image', err, 1, true)
    assert.matches('allowed_tasks[3] names "inpaint" twice', err, 1, true)
  end)

  it("IMAGEGEN_ALLOWED_TASKS replaces the list", function()
    local h = C.harness({ env = { IMAGEGEN_ALLOWED_TASKS = "upscale-fast, remove-background" } })
    local body = C.client_body(h.admit(R.get("/models")))
    assert.are.equal(2, #body.tasks)
    refused(h, edit({ task = "inpaint", image = R.image({ alpha = true }), prompt = "x" }), 400, "unknown_task",
      { "it offers upscale-fast, remove-background" })
  end)

  it("no task at all: every edit is refused, GET /models lists none", function()
    local h = C.harness({ config = function(c) c.allowed_tasks = {} end })
    assert.are.equal(0, #C.client_body(h.admit(R.get("/models"))).tasks)
    refused(h, edit({ task = "inpaint" }), 400, "unknown_task", { "offers none (no task is allowed)" })
  end)

  it("a task whose model is not allowed is logged at start-up", function()
    local h = C.harness({ config = function(c) c.allowed_models = { CORE } end })
    local line = h.ctl.find_logs({ message = "allowed task not offered: none of its models is in allowed_models" })[1]
    assert.are.same({ task = "image-to-image", models = SD35 }, line.fields)
  end)

  it("uploads.prefix: a plain folder apart from the images'", function()
    local cases = {
      { "", "uploads.prefix must not be empty" },
      { "uploads", 'uploads.prefix must end with "/"' },
      { "/uploads/", 'must not start with "/"' },
      { "up/%Y/", "may hold only letters" },
      { "images/uploads/", 'uploads.prefix "images/uploads/" overlaps storage.key_prefix' },
    }
    for _, case in ipairs(cases) do
      local err = loader.load_error({ config = function(c) c.uploads.prefix = case[1] end })
      assert.matches(case[2], err, 1, true)
    end
    local err = loader.load_error({ env = { IMAGEGEN_UPLOADS_PREFIX = "images/cache/x/" } })
    assert.matches("IMAGEGEN_UPLOADS_PREFIX: uploads.prefix", err, 1, true)
    assert.matches("overlaps storage.key_prefix", err, 1, true)
    local h = C.harness({ env = { IMAGEGEN_UPLOADS_PREFIX = "incoming/" } })
    assert.matches("^incoming/", h.admit(R.post("/uploads", { contentType = "image/png" })).presign_post.key)
  end)

  it("uploads.max_bytes and url_ttl: within what the runtime takes", function()
    assert.matches("uploads.max_bytes must be between 1 and 67108864",
      loader.load_error({ config = function(c) c.uploads.max_bytes = 67108865 end }), 1, true)
    assert.matches("uploads.url_ttl must be between 1 and 604800",
      loader.load_error({ config = function(c) c.uploads.url_ttl = 0 end }), 1, true)
  end)
end)

describe("a model that is not a string", function()
  it("is refused naming it once", function()
    local h = C.harness({ config = unlimited })
    refused(h, edit({ task = "upscale-fast", image = R.image(), model = 42 }), 400, "unknown_model",
      { "model 42 does not serve upscale-fast here" })
  end)
end)
