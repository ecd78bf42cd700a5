-- openai_edit_spec.lua - OpenAI's POST /v1/images/edits (the multipart form of images.edit):
-- with a mask it is an inpaint whose mask is the PNG's transparency, without one image-to-image
-- on SD3.5 Large; n, size, formats, model names, the 6 MB guard, bearer keys, OpenAI's answer
-- and error shapes.

local C = require("contract")
local R = require("requests")
local shim = require("shim")

local SD35 = "stability.sd3-5-large-v1:0"
local CORE = "stability.stable-image-core-v1:1"
local INPAINT = "us.stability.stable-image-inpaint-v1:0"
local EDITS = "/v1/images/edits"

local function unlimited(c) c.rate_limit.enabled = false end

local function file(opts)
  opts = opts or {}
  opts.source = "multipart"
  opts.filename = opts.filename or "image.png"
  opts.content_type = opts.content_type or "image/png"
  return R.image(opts)
end

local function form(fields, opts)
  return R.multipart(EDITS, fields, opts)
end

local function refused(h, req, status, code, param, part)
  local st, c, p, msg = h.openai_refusal(req)
  assert.are.equal(code, c, msg)
  assert.are.equal(status, st, msg)
  assert.are.equal(param, p, msg)
  if part then assert.matches(part, msg, 1, true) end
  return msg
end

describe("POST /v1/images/edits with a mask", function()
  it("is an inpaint whose mask is made from the mask's transparency", function()
    local h = C.harness()
    local img, mask = file({ format = "jpeg", filename = "photo.jpg" }), file({ field = "mask", alpha = true })
    local g = h.plan(form({ image = { img }, mask = mask, prompt = "a red kite" }))
    assert.are.equal(INPAINT, g.model)
    assert.are.equal(img.ref, g.body.image)
    assert.are.equal(mask.mask_ref, g.body.mask)
    assert.are.equal("a red kite", g.body.prompt)
    assert.are.equal("png", g.body.output_format)
    assert.are.equal("openai", g.context.api)
    assert.are.equal("url", g.deliver)
    assert.are.equal(1024, g.context.width)
    assert.are.equal(1, g.context.ratelimit.cost)
  end)

  it("refuses a mask without transparency, or of another size, naming mask", function()
    local h = C.harness()
    refused(h, form({ image = file(), mask = file({ field = "mask" }), prompt = "x" }), 400, "invalid_image", "mask",
      "mask must be a PNG with an alpha channel: its transparent pixels mark where to edit")
    refused(h, form({ image = file(), mask = file({ field = "mask", format = "jpeg" }), prompt = "x" }), 400,
      "invalid_image", "mask", "mask is a JPEG image")
    refused(h, form({ image = file({ width = 1024, height = 1024 }), mask = file({ field = "mask", alpha = true,
      width = 512, height = 512 }), prompt = "x" }), 400, "invalid_image", "mask", "mask is 512x512 pixels but image is 1024x1024")
    refused(h, form({ image = file(), mask = file({ field = "mask", alpha = true, transparent_pixels = 0 }), prompt = "x" }),
      400, "invalid_image", "mask", "mask has an alpha channel but no transparent pixel")
  end)

  -- The runtime gives a PNG with alpha no mask tokens when it cannot read its transparency (a
  -- header claiming more pixels than the mask budget): its size is named, not "no transparency".
  it("names the size of a mask whose transparency the runtime could not read", function()
    local h = C.harness()
    local function unread(opts)
      local m = file(opts)
      m.mask_ref, m.mask_ref_inverted, m.transparent_pixels = nil, nil, nil
      return m
    end
    refused(h, form({ image = file({ width = 64, height = 64 }), mask = unread({ field = "mask", alpha = true,
      width = 65535, height = 65535 }), prompt = "x" }), 400, "invalid_image", "mask",
      "mask is 65535x65535 pixels but image is 64x64")
    refused(h, form({ image = file(), mask = unread({ field = "mask", alpha = true }), prompt = "x" }), 400,
      "invalid_image", "mask", "mask (1024x1024) has too many pixels for the runtime to read its transparency")
  end)
end)

describe("POST /v1/images/edits without a mask", function()
  it("is image-to-image on SD3.5 Large", function()
    local h = C.harness()
    local img = file({ width = 1216, height = 832 })
    local g = h.plan(form({ ["image"] = { img }, prompt = "make it winter", n = "2", output_format = "webp" }))
    assert.are.equal(SD35, g.model)
    assert.are.equal(2, #g.attempts[1].calls)
    local b = g.attempts[1].calls[2].body
    assert.are.equal("image-to-image", b.mode)
    assert.are.equal(img.ref, b.image)
    assert.are.equal(0.7, b.strength)
    assert.are.equal("webp", b.output_format)
    assert.are.equal("make it winter", b.prompt)
  end)

  it("is refused when SD3.5 Large is not allowed, saying what to send instead", function()
    local h = C.harness({ config = function(c) c.allowed_models = { CORE } end })
    refused(h, form({ image = file(), prompt = "x" }), 400, "unsupported_value", "image",
      "send a mask whose transparent pixels mark where to edit")
  end)
end)

describe("the fields of an edit", function()
  local h = C.harness({ config = unlimited })

  it("image: one file; more, none or a text field is a 400 naming image", function()
    refused(h, form({ image = { file(), file({ index = 2 }) }, prompt = "x" }), 400, "invalid_value", "image",
      "this service edits one image per request; got 2 files")
    refused(h, form({ prompt = "x" }), 400, "missing_required_parameter", "image")
    refused(h, form({ image = "not a file", prompt = "x" }), 400, "invalid_type", "image")
    refused(h, form({ image = file({ error = "truncated", message = "the PNG ends before its IEND chunk" }),
      prompt = "x" }), 400, "invalid_image", "image", "the PNG ends before its IEND chunk")
    refused(h, form({ image = file({ width = 32, height = 32 }), prompt = "x" }), 400, "invalid_image", "image",
      "every side is at least 64 pixels")
  end)

  it("prompt is required", function()
    refused(h, form({ image = file() }), 400, "missing_required_parameter", "prompt")
  end)

  it("n: a whole number within the model's range", function()
    refused(h, form({ image = file(), prompt = "x", n = "abc" }), 400, "invalid_value", "n")
    refused(h, form({ image = file(), prompt = "x", n = "6" }), 400, "invalid_value", "n", "n must be between 1 and 5")
  end)

  it("size: auto, or the size the edit makes", function()
    local img = file({ width = 1024, height = 768 })
    h.plan(form({ image = img, mask = file({ field = "mask", alpha = true, width = 1024, height = 768 }), prompt = "x",
      size = "1024x768" }))
    refused(h, form({ image = img, mask = file({ field = "mask", alpha = true, width = 1024, height = 768 }),
      prompt = "x", size = "1024x1024" }), 400, "invalid_value", "size",
      "size \"1024x1024\" is not the size this edit makes (inpaint: the input's 1024x768)")
    refused(h, form({ image = img, prompt = "x", size = "1024x1024" }), 400, "invalid_value", "size",
      "cannot be honoured: image-to-image")
    h.plan(form({ image = img, prompt = "x", size = "auto" }))
    refused(h, form({ image = img, prompt = "x", size = "big" }), 400, "invalid_value", "size")
  end)

  it("model: an OpenAI name, or a model of the task; a text-to-image model does not edit", function()
    assert.are.equal(INPAINT, h.plan(form({ image = file(), mask = file({ field = "mask", alpha = true }),
      prompt = "x", model = "gpt-image-1" })).model)
    assert.are.equal(SD35, h.plan(form({ image = file(), prompt = "x", model = "dall-e-2" })).model)
    assert.are.equal(SD35, h.plan(form({ image = file(), prompt = "x", model = SD35 })).model)
    refused(h, form({ image = file(), prompt = "x", model = CORE }), 400, "model_not_found", "model",
      "does not edit images here")
  end)

  it("output_format, quality, background, stream and the rest are read as OpenAI does", function()
    refused(h, form({ image = file(), prompt = "x", output_format = "gif" }), 400, "invalid_value", "output_format")
    refused(h, form({ image = file(), prompt = "x", background = "transparent" }), 400, "unsupported_value", "background")
    refused(h, form({ image = file(), prompt = "x", stream = "true" }), 400, "unsupported_value", "stream")
    refused(h, form({ image = file(), prompt = "x", input_fidelity = "max" }), 400, "invalid_value", "input_fidelity")
    local g = h.plan(form({ image = file(), prompt = "x", quality = "high", stream = "false", input_fidelity = "high",
      output_compression = "80", user = "u1", background = "opaque", partial_images = "0" }))
    assert.are.equal("high", g.context.openai_quality)
  end)

  it("an unknown field is refused naming it", function()
    refused(h, form({ image = file(), prompt = "x", strength = "0.5" }), 400, "unknown_parameter", "strength")
  end)

  it("a JSON body is 415: images.edit sends a form", function()
    refused(h, R.post(EDITS, { image = "x", prompt = "y" }), 415, "unsupported_media_type", nil, "multipart/form-data")
  end)

  it("a deny-listed prompt is content_policy_violation", function()
    local hh = C.harness({ config = function(c) c.prompt.deny = { "gore" } end })
    refused(hh, form({ image = file(), prompt = "more gore" }), 400, "content_policy_violation", "prompt")
  end)
end)

describe("b64_json edits", function()
  it("fit when the expected image does, and are refused before any model call when it cannot", function()
    local h = C.harness({ config = unlimited })
    local g = h.plan(form({ image = file(), mask = file({ field = "mask", alpha = true }), prompt = "x",
      response_format = "b64_json" }))
    assert.are.equal("inline", g.deliver)
    local big = file({ width = 2048, height = 2048, bytes = 2000000 })
    refused(h, form({ image = big, mask = file({ field = "mask", alpha = true, width = 2048, height = 2048,
      bytes = 100000 }), prompt = "x", response_format = "b64_json" }), 400, "response_too_large", "response_format",
      "use response_format \"url\"")
    refused(h, form({ image = file(), prompt = "x", n = "3", response_format = "b64_json" }), 400,
      "response_too_large", "n", "or n of at most 1")
  end)

  it("are answered in OpenAI's shape with the runtime's tokens", function()
    local h = C.harness({ config = unlimited })
    local req = form({ image = file(), prompt = "make it winter", response_format = "b64_json" })
    local a = h.admit(req)
    local result = R.success(a)
    result.images[1].b64_ref = "igout:" .. string.rep("a", 32) .. ":1"
    local out = C.client_body(h.respond(result, req))
    assert.are.equal(result.images[1].b64_ref, out.data[1].b64_json)
    assert.are.equal(1, out.usage.images)
  end)
end)

describe("bearer keys on the edits route", function()
  it("are checked before the form", function()
    local key = "sk-imagegen-edit"
    local h = C.harness({ config = function(c)
      c.api_keys.required = true
      c.api_keys.keys = { { id = "team-a", sha256 = shim.sha256(key) } }
    end })
    refused(h, form({ prompt = "x" }), 401, "invalid_api_key", nil)
    local g = h.plan(form({ image = file(), prompt = "x" }, { headers = { Authorization = "Bearer " .. key } }))
    assert.are.equal("bearer:team-a", g.context.ratelimit.key)
  end)
end)
