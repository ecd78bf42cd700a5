-- tasks_spec.lua - the edit catalogue (tasks.lua): its consistency, GET /models' list of tasks,
-- and for every task the exact Bedrock body of a valid POST /edit-image (docs/edit-services.md
-- gives each member), with its model, calls, seeds and expected output size.

local cjson = require("cjson")
local C = require("contract")
local R = require("requests")

local SD35 = "stability.sd3-5-large-v1:0"
local CORE = "stability.stable-image-core-v1:1"
local TITAN = "amazon.titan-image-generator-v1"
local TITAN2 = "amazon.titan-image-generator-v2:0"
local NOVA = "amazon.nova-canvas-v1:0"

local function unlimited(c) c.rate_limit.enabled = false end

local function edit(body)
  return R.post("/edit-image", body)
end

-- A deployment that also allows the legacy models and the variation task.
local function legacy_harness()
  return C.harness({ config = function(c)
    unlimited(c)
    c.allowed_models = { CORE, SD35, TITAN, TITAN2, NOVA }
    c.allowed_tasks[#c.allowed_tasks + 1] = "variation"
  end })
end

describe("the edit catalogue", function()
  local h = C.harness()
  local tasks = h.require("tasks")

  it("holds the fourteen tasks of the Stability services and SD3.5, and the legacy variation", function()
    assert.are.same({ "image-to-image", "inpaint", "outpaint", "erase", "search-replace", "search-recolor",
      "remove-background", "upscale-fast", "upscale-conservative", "upscale-creative", "style-guide", "style-transfer",
      "sketch", "structure", "variation" }, tasks.names)
    assert.are.same({ "image-to-image", "inpaint", "outpaint", "erase", "search-replace", "search-recolor",
      "remove-background", "upscale-fast", "upscale-conservative", "upscale-creative", "style-guide", "style-transfer",
      "sketch", "structure" }, tasks.DEFAULT_ALLOWED)
  end)

  it("invokes every Stability image service through its us. inference profile, and SD3.5 by its own id", function()
    for _, t in ipairs(tasks.list) do
      for _, v in ipairs(t.variants) do
        if v.family == "stability" and v.id ~= SD35 then
          assert.are.equal("us." .. v.id, v.invoke, v.id)
          assert.matches("^stability%.stable%-[%w%-]+%-v1:0$", v.id)
          assert.are.equal("active", v.status)
        else
          assert.are.equal(v.id, v.invoke)
          assert.is_true(v.requires_allowed_model, v.id)
        end
      end
    end
  end)

  it("gives every parameter a default inside its own range, and every required input limits", function()
    for _, t in ipairs(tasks.list) do
      for _, v in ipairs(t.variants) do
        for _, p in ipairs(v.params) do
          local where = t.name .. " " .. v.id .. " " .. p.name
          if p.kind == "enum" then
            local ok = p.default == nil
            for _, x in ipairs(p.values) do ok = ok or x == p.default end
            assert.is_true(ok, where)
          elseif p.default ~= nil then
            assert.is_true(p.default >= p.min and p.default <= p.max, where)
          end
        end
        for _, spec in ipairs(v.inputs) do
          assert.is_table(spec.limits.formats, t.name .. " " .. spec.name)
        end
        assert.is_string(v.output.describe, t.name)
      end
    end
  end)

  it("tells the runtime which body members carry images (init.lua's image_fields)", function()
    assert.are.same({ "image", "mask", "styleImage" }, h.policy.image_fields)
  end)
end)

describe("GET /models", function()
  it("lists the tasks served, each with its models' inputs, parameters, limits, output and status", function()
    local body = C.client_body(C.harness().admit(R.get("/models")))
    local by_task = {}
    for _, t in ipairs(body.tasks) do by_task[t.task] = t end
    assert.are.equal(14, #body.tasks)
    assert.is_nil(by_task.variation)
    local inpaint = by_task.inpaint
    assert.are.equal("stability.stable-image-inpaint-v1:0", inpaint.defaultModel)
    assert.is_string(inpaint.summary)
    local m = inpaint.models[1]
    assert.are.equal("us.stability.stable-image-inpaint-v1:0", m.invokedAs)
    assert.are.equal("active", m.status)
    assert.are.equal(cjson.null, m.endOfLife)
    assert.are.same({ name = "image", required = true, formats = { "jpeg", "png", "webp" }, minSide = 64,
      maxPixels = 9437184, maxAspectRatio = 2.5 }, m.inputs[1])
    assert.are.equal("mask", m.inputs[2].name)
    assert.are.equal("image", m.inputs[2].sameSizeAs)
    assert.are.same({ name = "growMask", type = "integer", required = false, min = 0, max = 20, default = 5 },
      m.parameters[3])
    assert.are.same({ "png", "jpeg", "webp" }, m.output.formats)
    local fast = by_task["upscale-fast"].models[1]
    assert.are.same({ name = "image", required = true, formats = { "jpeg", "png", "webp" }, minSide = 32, maxSide = 1536,
      minPixels = 1024, maxPixels = 1048576 }, fast.inputs[1])
    assert.are.equal("4 times the input's width and height", fast.output.size)
    assert.are.same({ "png", "webp" }, by_task["remove-background"].models[1].output.formats)
    assert.is_nil(by_task["image-to-image"].models[1].invokedAs)
  end)

  it("lists the legacy models of a task, marked legacy with their end of life, when they are allowed", function()
    local body = C.client_body(legacy_harness().admit(R.get("/models")))
    local by_task = {}
    for _, t in ipairs(body.tasks) do by_task[t.task] = t end
    local ids = {}
    for i, m in ipairs(by_task.inpaint.models) do ids[i] = m.id end
    assert.are.same({ "stability.stable-image-inpaint-v1:0", TITAN, TITAN2, NOVA }, ids)
    assert.are.equal("legacy", by_task.inpaint.models[3].status)
    assert.are.equal("2026-06-30", by_task.inpaint.models[3].endOfLife)
    assert.are.equal(TITAN, by_task.variation.defaultModel)
    assert.are.equal(5, by_task.variation.models[1].inputs[1].maxCount)
    assert.are.equal(5000000, by_task.variation.models[1].inputs[1].maxBytes)
  end)

  it("caps numberOfImages at limits.max_images_per_request", function()
    local h = C.harness({ config = function(c) c.limits.max_images_per_request = 2 end })
    local body = C.client_body(h.admit(R.get("/models")))
    for _, p in ipairs(body.tasks[2].models[1].parameters) do
      if p.name == "numberOfImages" then assert.are.equal(2, p.max) end
    end
  end)
end)

-- One valid request per task, and the body it must send (seed given, so the body is exact).
describe("a valid edit", function()
  local function plan(h, body)
    local g = h.plan(edit(body))
    return g, g.attempts[1]
  end

  it("image-to-image runs SD3.5 Large in its image-to-image mode, with strength 0.7 unless given", function()
    local h = C.harness({ config = unlimited })
    local img = R.image({ format = "jpeg", width = 1216, height = 832 })
    local g = plan(h, { task = "image-to-image", image = img, prompt = "a watercolor harbor", seed = 42 })
    assert.are.equal(SD35, g.model)
    assert.are.same({ prompt = "a watercolor harbor", image = img.ref, mode = "image-to-image", strength = 0.7,
      seed = 42, output_format = "png" }, g.body)
    g = plan(h, { task = "image-to-image", image = img, prompt = "a harbor", strength = 0.35, negativePrompt = "fog",
      outputFormat = "webp", seed = 9 })
    assert.are.same({ prompt = "a harbor", image = img.ref, mode = "image-to-image", strength = 0.35,
      negative_prompt = "fog", seed = 9, output_format = "webp" }, g.body)
    assert.is_nil(g.context.width) -- "about one megapixel": the runtime reports the real size
    assert.are.equal("webp", g.context.format)
  end)

  it("inpaint sends the image and the mask as given (white where to edit)", function()
    local h = C.harness({ config = unlimited })
    local img, mask = R.image({ width = 1024, height = 768 }), R.image({ field = "mask", width = 1024, height = 768 })
    local g = plan(h, { task = "inpaint", image = img, mask = mask, prompt = "a red kite", seed = 7 })
    assert.are.equal("us.stability.stable-image-inpaint-v1:0", g.model)
    assert.are.same({ prompt = "a red kite", image = img.ref, mask = mask.ref, seed = 7, output_format = "png" }, g.body)
    assert.are.equal(1024, g.context.width)
    assert.are.equal(768, g.context.height)
    assert.are.equal("inpaint", g.context.task)
    assert.are.same({ model = "us.stability.stable-image-inpaint-v1:0", task = "inpaint", seed = "7" }, g.metadata)
    g = plan(h, { task = "inpaint", image = img, mask = mask, prompt = "a kite", negativePrompt = "birds",
      growMask = 12, stylePreset = "origami", outputFormat = "jpeg", seed = 8 })
    assert.are.same({ prompt = "a kite", negative_prompt = "birds", grow_mask = 12, style_preset = "origami",
      image = img.ref, mask = mask.ref, seed = 8, output_format = "jpeg" }, g.body)
  end)

  it("inpaint without a mask lets Bedrock take the image's transparency", function()
    local h = C.harness({ config = unlimited })
    local img = R.image({ alpha = true })
    local g = plan(h, { task = "inpaint", image = img, prompt = "a red kite", seed = 7 })
    assert.are.same({ prompt = "a red kite", image = img.ref, seed = 7, output_format = "png" }, g.body)
  end)

  it("outpaint sends only the directions given, and expects the canvas grown by them", function()
    local h = C.harness({ config = unlimited })
    local img = R.image({ format = "webp", width = 1024, height = 768 })
    local g = plan(h, { task = "outpaint", image = img, left = 256, up = 128, seed = 3 })
    assert.are.equal("us.stability.stable-outpaint-v1:0", g.model)
    assert.are.same({ image = img.ref, left = 256, up = 128, seed = 3, output_format = "png" }, g.body)
    assert.are.equal(1280, g.context.width)
    assert.are.equal(896, g.context.height)
    g = plan(h, { task = "outpaint", image = img, right = 2000, down = 1, prompt = "more sea", creativity = 0.9,
      stylePreset = "anime", seed = 3 })
    assert.are.same({ image = img.ref, right = 2000, down = 1, prompt = "more sea", creativity = 0.9,
      style_preset = "anime", seed = 3, output_format = "png" }, g.body)
  end)

  it("erase takes no prompt", function()
    local h = C.harness({ config = unlimited })
    local img, mask = R.image({ format = "jpeg" }), R.image({ field = "mask" })
    local g = plan(h, { task = "erase", image = img, mask = mask, growMask = 0, seed = 11 })
    assert.are.equal("us.stability.stable-image-erase-object-v1:0", g.model)
    assert.are.same({ image = img.ref, mask = mask.ref, grow_mask = 0, seed = 11, output_format = "png" }, g.body)
  end)

  it("search-replace and search-recolor send what to find beside the prompt", function()
    local h = C.harness({ config = unlimited })
    local img = R.image()
    local g = plan(h, { task = "search-replace", image = img, prompt = "a jacket", searchPrompt = "sweater", seed = 1 })
    assert.are.equal("us.stability.stable-image-search-replace-v1:0", g.model)
    assert.are.same({ prompt = "a jacket", search_prompt = "sweater", image = img.ref, seed = 1, output_format = "png" },
      g.body)
    g = plan(h, { task = "search-recolor", image = img, prompt = "a pink jacket", selectPrompt = "jacket", seed = 1 })
    assert.are.equal("us.stability.stable-image-search-recolor-v1:0", g.model)
    assert.are.same({ prompt = "a pink jacket", select_prompt = "jacket", image = img.ref, seed = 1,
      output_format = "png" }, g.body)
  end)

  it("remove-background takes no seed and makes one image, in png or webp", function()
    local h = C.harness({ config = unlimited })
    local img = R.image({ format = "jpeg", width = 800, height = 600 })
    local g = plan(h, { task = "remove-background", image = img })
    assert.are.equal("us.stability.stable-image-remove-background-v1:0", g.model)
    assert.are.same({ image = img.ref, output_format = "png" }, g.body)
    assert.are.equal(1, g.expected_images)
    assert.is_nil(g.metadata.seed)
    assert.is_nil(g.context.seed)
    assert.are.equal(800, g.context.width)
    assert.are.same({ image = img.ref, output_format = "webp" },
      plan(h, { task = "remove-background", image = img, outputFormat = "webp" }).body)
  end)

  it("upscale-fast expects 4 times the width and height", function()
    local h = C.harness({ config = unlimited })
    local img = R.image({ width = 512, height = 384 })
    local g = plan(h, { task = "upscale-fast", image = img, outputFormat = "jpeg" })
    assert.are.equal("us.stability.stable-fast-upscale-v1:0", g.model)
    assert.are.same({ image = img.ref, output_format = "jpeg" }, g.body)
    assert.are.equal(2048, g.context.width)
    assert.are.equal(1536, g.context.height)
  end)

  it("upscale-conservative and upscale-creative take a prompt and creativity", function()
    local h = C.harness({ config = unlimited })
    local img = R.image({ width = 1000, height = 1000 })
    local g = plan(h, { task = "upscale-conservative", image = img, prompt = "Big Ben", seed = 5 })
    assert.are.equal("us.stability.stable-conservative-upscale-v1:0", g.model)
    assert.are.same({ prompt = "Big Ben", image = img.ref, seed = 5, output_format = "png" }, g.body)
    g = plan(h, { task = "upscale-creative", image = img, prompt = "Big Ben", creativity = 0.45,
      stylePreset = "enhance", seed = 5 })
    assert.are.equal("us.stability.stable-creative-upscale-v1:0", g.model)
    assert.are.same({ prompt = "Big Ben", image = img.ref, creativity = 0.45, style_preset = "enhance", seed = 5,
      output_format = "png" }, g.body)
  end)

  it("style-guide takes the style reference as its image, and an aspect ratio for the output", function()
    local h = C.harness({ config = unlimited })
    local img = R.image()
    local g = plan(h, { task = "style-guide", image = img, prompt = "a metropolis", aspectRatio = "16:9",
      fidelity = 0.8, seed = 2 })
    assert.are.equal("us.stability.stable-image-style-guide-v1:0", g.model)
    assert.are.same({ prompt = "a metropolis", image = img.ref, aspect_ratio = "16:9", fidelity = 0.8, seed = 2,
      output_format = "png" }, g.body)
  end)

  it("style-transfer sends the image as init_image and styleImage as style_image", function()
    local h = C.harness({ config = unlimited })
    local img, style = R.image(), R.image({ field = "styleImage", format = "jpeg", width = 640, height = 960 })
    local g = plan(h, { task = "style-transfer", image = img, styleImage = style, seed = 4 })
    assert.are.equal("us.stability.stable-style-transfer-v1:0", g.model)
    assert.are.same({ init_image = img.ref, style_image = style.ref, seed = 4, output_format = "png" }, g.body)
    g = plan(h, { task = "style-transfer", image = img, styleImage = style, prompt = "statue", styleStrength = 0.5,
      compositionFidelity = 0.7, changeStrength = 0.1, seed = 4 })
    assert.are.same({ init_image = img.ref, style_image = style.ref, prompt = "statue", style_strength = 0.5,
      composition_fidelity = 0.7, change_strength = 0.1, seed = 4, output_format = "png" }, g.body)
  end)

  it("sketch and structure send control_strength when given", function()
    local h = C.harness({ config = unlimited })
    local img = R.image()
    local g = plan(h, { task = "sketch", image = img, prompt = "a house by a river", controlStrength = 0.5, seed = 6 })
    assert.are.equal("us.stability.stable-image-control-sketch-v1:0", g.model)
    assert.are.same({ prompt = "a house by a river", image = img.ref, control_strength = 0.5, seed = 6,
      output_format = "png" }, g.body)
    g = plan(h, { task = "structure", image = img, prompt = "a tunnel of sparks", seed = 6 })
    assert.are.equal("us.stability.stable-image-control-structure-v1:0", g.model)
    assert.are.same({ prompt = "a tunnel of sparks", image = img.ref, seed = 6, output_format = "png" }, g.body)
  end)
end)

describe("several images from one edit", function()
  it("are that many Stability calls with seeds s, s+1, ..., tokens in every body", function()
    local h = C.harness({ config = unlimited })
    local img = R.image()
    local g = h.plan(edit({ task = "sketch", image = img, prompt = "a house", numberOfImages = 3, seed = 10 }))
    assert.are.equal(3, g.expected_images)
    local a = g.attempts[1]
    assert.are.equal(3, #a.calls)
    for i, call in ipairs(a.calls) do
      assert.are.equal(9 + i, call.body.seed)
      assert.are.equal(img.ref, call.body.image)
      assert.are.equal(tostring(9 + i), call.metadata.seed)
    end
    assert.are.same({ 10, 11, 12 }, g.context.seeds)
    assert.are.equal(1, g.context.batch)
  end)

  it("draw a seed when none is given (or 0), and report it", function()
    local h = C.harness({ config = unlimited })
    h.ctl.random_queue = { 123456 }
    local g = h.plan(edit({ task = "erase", image = R.image({ alpha = true }), seed = 0 }))
    assert.are.equal(123456, g.body.seed)
    assert.are.same({ 1, 4294967294 }, h.ctl.random_calls[1])
  end)
end)

describe("a legacy Titan or Nova task", function()
  it("inpaint with maskPrompt on Titan G1", function()
    local h = legacy_harness()
    local img = R.image({ width = 1024, height = 1024 })
    local g = h.plan(edit({ task = "inpaint", model = TITAN, image = img, maskPrompt = "the sky",
      prompt = "a stormy sky", seed = 7 }))
    assert.are.equal(TITAN, g.model)
    assert.are.same({ taskType = "INPAINTING",
      inPaintingParams = { image = img.ref, text = "a stormy sky", maskPrompt = "the sky" },
      imageGenerationConfig = { numberOfImages = 1, seed = 7 } }, g.body)
    assert.are.equal("error", g.error_field)
  end)

  it("inpaint on Nova takes the mask's transparency, inverted to Bedrock's black-inside mask", function()
    local h = legacy_harness()
    local img, mask = R.image(), R.image({ field = "mask", alpha = true })
    local g = h.plan(edit({ task = "inpaint", model = NOVA, image = img, mask = mask, prompt = "a kite",
      numberOfImages = 2, cfgScale = 7, quality = "premium", seed = 5 }))
    assert.are.same({ taskType = "INPAINTING",
      inPaintingParams = { image = img.ref, text = "a kite", maskImage = mask.mask_ref_inverted },
      imageGenerationConfig = { numberOfImages = 2, cfgScale = 7, quality = "premium", seed = 5 } }, g.body)
    assert.are.equal(1, #g.attempts[1].calls) -- one call makes both images
    assert.are.equal(2, g.context.batch)
  end)

  it("outpaint on Titan G1 v2 keeps what maskPrompt names", function()
    local h = legacy_harness()
    local img = R.image({ format = "jpeg", width = 1024, height = 768 })
    local g = h.plan(edit({ task = "outpaint", model = TITAN2, image = img, maskPrompt = "the dog",
      prompt = "a beach", outPaintingMode = "PRECISE", seed = 1 }))
    assert.are.same({ taskType = "OUTPAINTING",
      outPaintingParams = { image = img.ref, maskPrompt = "the dog", text = "a beach", outPaintingMode = "PRECISE" },
      imageGenerationConfig = { numberOfImages = 1, seed = 1 } }, g.body)
    assert.are.equal(1024, g.context.width)
  end)

  it("variation takes one to five images", function()
    local h = legacy_harness()
    local a, b = R.image({ index = 1 }), R.image({ index = 2, format = "jpeg" })
    local g = h.plan(edit({ task = "variation", image = { a, b }, similarityStrength = 0.5, seed = 3 }))
    assert.are.equal(TITAN, g.model)
    assert.are.same({ taskType = "IMAGE_VARIATION",
      imageVariationParams = { images = { a.ref, b.ref }, similarityStrength = 0.5 },
      imageGenerationConfig = { numberOfImages = 1, seed = 3 } }, g.body)
  end)

  it("remove-background on Nova has no imageGenerationConfig and no seed", function()
    local h = legacy_harness()
    local img = R.image()
    local g = h.plan(edit({ task = "remove-background", model = NOVA, image = img }))
    assert.are.same({ taskType = "BACKGROUND_REMOVAL", backgroundRemovalParams = { image = img.ref } }, g.body)
    assert.is_nil(g.metadata.seed)
  end)

  it("is named by its model; the Stability service stays the default", function()
    local h = legacy_harness()
    assert.are.equal("us.stability.stable-image-inpaint-v1:0",
      h.plan(edit({ task = "inpaint", image = R.image({ alpha = true }), prompt = "x" })).model)
    assert.are.equal("us.stability.stable-image-inpaint-v1:0", h.plan(edit({ task = "inpaint",
      model = "us.stability.stable-image-inpaint-v1:0", image = R.image({ alpha = true }), prompt = "x" })).model)
  end)
end)

describe("the answer to an edit", function()
  it("is the generation's shape, with the task and each image's seed", function()
    local h = C.harness({ config = unlimited })
    local req = edit({ task = "inpaint", image = R.image({ alpha = true }), prompt = "a kite", seed = 7 })
    local a = h.admit(req)
    local out = C.client_body(h.respond(R.success(a), req))
    assert.are.equal("inpaint", out.task)
    assert.are.equal(7, out.images[1].seed)
    assert.are.equal("us.stability.stable-image-inpaint-v1:0", out.model)
    local line = h.ctl.find_logs({ outcome = "edit" })[1]
    assert.are.equal("inpaint", line.fields.task)
    assert.are.equal(1, line.fields.images)
  end)

  it("of a task without a seed carries none", function()
    local h = C.harness({ config = unlimited })
    local req = edit({ task = "upscale-fast", image = R.image({ width = 256, height = 256 }) })
    local a = h.admit(req)
    local out = C.client_body(h.respond(R.success(a), req))
    assert.is_nil(out.images[1].seed)
    assert.are.equal(1024, out.images[1].width)
  end)

  it("does not offer text-to-image models when the edit model is retired", function()
    local h = C.harness({ config = unlimited })
    local req = edit({ task = "inpaint", image = R.image({ alpha = true }), prompt = "a kite" })
    local a = h.admit(req)
    local out = h.respond(R.failure(a, "model_retired", 502, "This model version has reached the end of its life."), req)
    assert.are.equal(502, out.status)
    assert.is_nil(out.body.error.message:find(CORE, 1, true))
  end)
end)
