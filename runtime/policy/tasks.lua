-- tasks.lua - the edit catalogue, as data: every task POST /edit-image (and OpenAI's
-- /v1/images/edits) can run on an input image.
--
-- A task (inpaint, outpaint, upscale-fast...) is one entry. It names the models that can run it
-- (its variants: the Stability image service first, then the legacy Titan/Nova task types where
-- Bedrock has one), and for each model: its lifecycle, the input images it takes and their
-- limits, its parameters (client name, type, range, default, the Bedrock body member), what the
-- output looks like, and body(params, inputs), which builds one InvokeModel body. `inputs` hold
-- the tokens the runtime swaps for the images' base64 (never the bytes: see README.md, input
-- images), so a body is plain JSON with a token where each image goes. Which tasks are served is
-- config (allowed_tasks, allowed_models), not here. docs/edit-services.md gives the source of
-- every fact; docs/models.md the choices made where no source decides.

local models = require("models")

local M = {}

-- Input limits. Each is a table of optional bounds:
--   formats      the formats accepted (from the image's magic, not its name)
--   min_side, max_side, min_pixels, max_pixels
--   max_aspect   the longer side may be at most this many times the shorter
--   max_bytes    the decoded image at most
local STABILITY_FORMATS = { "jpeg", "png", "webp" }
-- "std limits" of the Stability services: every side at least 64 px, at most 9,437,184 pixels,
-- aspect ratio within 1:2.5..2.5:1.
local STD = { formats = STABILITY_FORMATS, min_side = 64, max_pixels = 9437184, max_aspect = 2.5 }
local FAST_UPSCALE = { formats = STABILITY_FORMATS, min_side = 32, max_side = 1536, min_pixels = 1024,
  max_pixels = 1048576 }
local CREATIVE_UPSCALE = { formats = STABILITY_FORMATS, min_side = 64, min_pixels = 4096, max_pixels = 1048576 }
-- SD3.5 Large image-to-image: 64 px per side; no pixel budget or aspect bound is stated. The
-- budget is ours, the image services' 9,437,184 pixels: without one, a PNG whose header claims
-- 65535x65535 pixels on a few bytes would reach the model (docs/models.md).
local SD35_IMAGE = { formats = STABILITY_FORMATS, min_side = 64, max_pixels = 9437184 }
-- A Stability mask: an image of the image's size (our rule; Bedrock would resize it).
local STABILITY_MASK = { formats = STABILITY_FORMATS }
-- Titan: JPEG or PNG of at most 5 MB; inpainting and outpainting at most 1,408 px on the long side.
local TITAN_IMAGE = { formats = { "png", "jpeg" }, max_bytes = 5000000 }
local TITAN_EDIT_IMAGE = { formats = { "png", "jpeg" }, max_bytes = 5000000, max_side = 1408 }
-- Nova Canvas: JPEG or PNG; no size limit of its inputs is stated.
local NOVA_IMAGE = { formats = { "png", "jpeg" } }
-- A mask given by its transparency (Titan and Nova, and OpenAI's masks): a PNG with alpha.
local ALPHA_MASK = { formats = { "png" } }

M.STYLE_PRESETS = { "3d-model", "analog-film", "anime", "cinematic", "comic-book", "digital-art", "enhance",
  "fantasy-art", "isometric", "line-art", "low-poly", "modeling-compound", "neon-punk", "origami", "photographic",
  "pixel-art", "tile-texture" }

M.RATIOS = { "16:9", "1:1", "21:9", "2:3", "3:2", "4:5", "5:4", "9:16", "9:21" }

-- The most images one request may ask for (numberOfImages): Stability makes one per call, so
-- this many calls; Titan and Nova make them in one call. The same limit as text-to-image.
M.MAX_IMAGES = 5

-- Parameters. Each: name (as the client sends it), kind ("text", "integer", "number", "enum",
-- "seed"), the range (min/max: characters for text) or values, default (shown by GET /models and
-- used when the client gives none), required, body (the Bedrock member it becomes; nil when the
-- body builder places it), and send ("always": sent with its default when the client gives
-- none; otherwise only a value the client gave is sent, and Bedrock applies the same default).
local function text(name, body, required, max, extra)
  local p = { name = name, kind = "text", body = body, required = required, min = 1, max = max or 10000 }
  for k, v in pairs(extra or {}) do p[k] = v end
  return p
end
local function number(name, body, min, max, default)
  return { name = name, kind = "number", body = body, min = min, max = max, default = default }
end
local function integer(name, body, min, max, default)
  return { name = name, kind = "integer", body = body, min = min, max = max, default = default }
end
local function enum(name, body, values, default, send)
  return { name = name, kind = "enum", body = body, values = values, default = default, send = send }
end

local PROMPT = text("prompt", "prompt", true)
local OPTIONAL_PROMPT = text("prompt", "prompt", false)
local NEGATIVE = text("negativePrompt", "negative_prompt", false)
local STYLE = enum("stylePreset", "style_preset", M.STYLE_PRESETS)
local GROW_MASK = integer("growMask", "grow_mask", 0, 20, 5)
-- 0 asks the model for a random seed: the plan then draws one and reports it, as for text-to-image.
local SEED = { name = "seed", kind = "seed", body = "seed", min = 0, max = 4294967294, random = 0 }
-- The formats a Stability service makes, the default first.
local OUTPUT_FORMATS = { "png", "jpeg", "webp" }
local FORMAT = enum("outputFormat", "output_format", OUTPUT_FORMATS, "png", "always")
local COUNT = integer("numberOfImages", nil, 1, M.MAX_IMAGES, 1)

-- Output geometry: describe (a sentence for GET /models) and size(p, image) -> width, height
-- when the facts say it exactly, nil otherwise (the runtime reports the size it measured).
-- pixels(p, image): the most pixels an output can have, for the 6 MB guard of inline answers.
local function same_size(note)
  return {
    describe = "the input's size" .. (note or " (expected: no source states it; the answer reports the real size)"),
    size = function(_, image) return image.width, image.height end,
    pixels = function(_, image) return image.width * image.height end,
  }
end
local function one_megapixel(describe)
  return { describe = describe, pixels = function() return 1048576 end }
end
-- "4K resolution": Stability's own API says 4 megapixels; the exact size is not stated, and 4K
-- can mean up to 4096 x 4096.
local UPSCALED_4K = { describe = "about 4K resolution (\"4K\", Stability's API: 4 megapixels); the answer reports the real size",
  pixels = function() return 16777216 end }

-- A Stability image service: `service` is its name in the model id; the body is `fixed`, each
-- input's token at its member, and each parameter at its member.
local function stability(service, name, def)
  local id = "stability." .. service .. "-v1:0"
  local variant = {
    id = id,
    -- The services are invoked through their cross-Region inference profile: the bare id is not
    -- invokable on demand (docs/edit-services.md).
    invoke = "us." .. id,
    name = name,
    family = "stability",
    status = "active",
    inputs = def.inputs,
    params = def.params,
    fixed = def.fixed,
    output = def.output,
    formats = def.formats or OUTPUT_FORMATS,
    check_params = def.check_params,
    check = def.check,
  }
  variant.body = def.body or function(p, inputs)
    local body = {}
    for k, v in pairs(variant.fixed or {}) do body[k] = v end
    for _, spec in ipairs(variant.inputs) do
      local facts = inputs[spec.name]
      if facts ~= nil then body[spec.body] = facts.ref end
    end
    for _, spec in ipairs(variant.params) do
      if spec.body and p[spec.name] ~= nil then body[spec.body] = p[spec.name] end
    end
    return body
  end
  return variant
end

-- Rules between values. check_params(p) -> a sentence, or nil: between parameters, checked before
-- any upload is fetched. check(p, inputs) -> a sentence and an error code (invalid_image by
-- default), or nil: once the images' facts are known (inputs: the facts of each given image).

-- Inpaint and erase take a mask, or the image's own transparency (Bedrock derives the mask from
-- the alpha channel when none is given). Neither: nothing says what to edit.
local function mask_or_alpha(task)
  return function(_, inputs)
    if inputs.mask == nil and not (inputs.image and inputs.image.alpha) then
      return task .. " needs a mask (white where to edit, black where to keep) or an image whose transparent "
        .. "pixels mark where to edit; the image has no alpha channel and no mask was given"
    end
    if inputs.mask == nil and inputs.image.transparent_pixels == 0 then
      return task .. " needs a mask (white where to edit, black where to keep) or an image whose transparent "
        .. "pixels mark where to edit; the image has an alpha channel but no transparent pixel, and no mask was given"
    end
    return nil
  end
end

local function some_direction(p)
  if (p.left or 0) + (p.right or 0) + (p.up or 0) + (p.down or 0) == 0 then
    return "outpaint needs at least one of left, right, up or down above 0: the pixels to add on that side"
  end
  return nil
end

-- Legacy Titan G1 (v1, v2) and Nova Canvas task types, in the Amazon image envelope. Their
-- ranges (prompt, seed, cfgScale, quality) are the model's own, from models.lua.
local function amazon(model_id, task_type, def)
  local m = models.get(model_id)
  local params = {}
  local prompt_required = def.prompt_required
  if prompt_required == nil then prompt_required = model_id == "amazon.nova-canvas-v1:0" end
  if def.prompt ~= false then
    params[#params + 1] = text("prompt", nil, prompt_required, m.prompt.max)
    params[#params + 1] = text("negativePrompt", nil, false, m.negative_prompt.max)
  end
  for _, extra in ipairs(def.params or {}) do params[#params + 1] = extra end
  if def.config ~= false then
    params[#params + 1] = { name = "seed", kind = "seed", min = m.seed.min, max = m.seed.max, random = m.seed.random }
    params[#params + 1] = number("cfgScale", nil, m.cfg_scale.min, m.cfg_scale.max, m.defaults.cfgScale)
    params[#params + 1] = enum("quality", nil, m.qualities, m.defaults.quality)
    params[#params + 1] = COUNT
  end
  local variant = {
    id = model_id,
    invoke = model_id,
    name = m.name,
    family = "amazon-image",
    status = m.status,
    eol = m.eol,
    -- the same model as text-to-image: served only when allowed_models holds it
    requires_allowed_model = true,
    inputs = def.inputs,
    params = params,
    output = def.output,
    formats = { "png" },
    check = def.check,
  }
  variant.body = function(p, inputs)
    local task = def.task_params(p, inputs)
    if p.prompt ~= nil then task.text = p.prompt end
    if p.negativePrompt ~= nil then task.negativeText = p.negativePrompt end
    local body = { taskType = task_type, [def.params_member] = task }
    if def.config ~= false then
      body.imageGenerationConfig = {
        numberOfImages = p.numberOfImages, quality = p.quality, cfgScale = p.cfgScale, seed = p.seed,
      }
    end
    return body
  end
  return variant
end

local TITAN = "amazon.titan-image-generator-v1"
local TITAN2 = "amazon.titan-image-generator-v2:0"
local NOVA = "amazon.nova-canvas-v1:0"

local function titan_or_nova_image(id, edit)
  if id == NOVA then return NOVA_IMAGE end
  return edit and TITAN_EDIT_IMAGE or TITAN_IMAGE
end

-- Inpainting on Titan/Nova: exactly one of maskPrompt (the text naming what to edit) or a mask
-- given by transparency (a PNG whose transparent pixels mark the area; the image's own
-- transparency when no mask is given). Bedrock's mask is black inside: mask_ref_inverted.
local function legacy_inpaint(id)
  return amazon(id, "INPAINTING", {
    params_member = "inPaintingParams",
    prompt_required = id == NOVA,
    inputs = {
      { name = "image", required = true, limits = titan_or_nova_image(id, true) },
      { name = "mask", same_size_as = "image", limits = ALPHA_MASK, alpha = true },
    },
    params = { text("maskPrompt", nil, false, models.get(id).prompt.max) },
    output = same_size(" (Titan and Nova keep the input's size)"),
    check = function(p, inputs)
      local by_alpha = inputs.mask ~= nil or (inputs.image and inputs.image.alpha)
      if p.maskPrompt ~= nil and inputs.mask ~= nil then
        return "give maskPrompt or mask, not both: " .. id .. " takes exactly one", "invalid_parameter"
      end
      if p.maskPrompt == nil and not by_alpha then
        return "inpaint on " .. id .. " needs maskPrompt (what to edit, in words) or a mask: a PNG whose "
          .. "transparent pixels mark where to edit (or an image with such transparency)"
      end
      return nil
    end,
    task_params = function(p, inputs)
      local t = { image = inputs.image.ref }
      if p.maskPrompt ~= nil then
        t.maskPrompt = p.maskPrompt
      else
        t.maskImage = (inputs.mask or inputs.image).mask_ref_inverted
      end
      return t
    end,
  })
end

-- Outpainting on Titan/Nova keeps what maskPrompt names and regenerates the rest of the picture
-- at the input's size (it does not grow the canvas: that is the Stability outpaint).
local function legacy_outpaint(id)
  return amazon(id, "OUTPAINTING", {
    params_member = "outPaintingParams",
    prompt_required = true, -- Titan requires text; so does the Nova doc
    inputs = { { name = "image", required = true, limits = titan_or_nova_image(id, true) } },
    params = {
      text("maskPrompt", nil, true, models.get(id).prompt.max),
      enum("outPaintingMode", nil, { "DEFAULT", "PRECISE" }, "DEFAULT"),
    },
    output = same_size(" (Titan and Nova keep the input's size: what maskPrompt names is kept, the rest regenerated)"),
    task_params = function(p, inputs)
      local t = { image = inputs.image.ref, maskPrompt = p.maskPrompt }
      if p.outPaintingMode ~= nil then t.outPaintingMode = p.outPaintingMode end
      return t
    end,
  })
end

local function legacy_variation(id)
  return amazon(id, "IMAGE_VARIATION", {
    params_member = "imageVariationParams",
    inputs = { { name = "image", required = true, limits = titan_or_nova_image(id, false), max_count = 5 } },
    params = { number("similarityStrength", nil, 0.2, 1.0, 0.7) },
    output = { describe = "the model's default size (not stated for variations; the answer reports the real size)" },
    task_params = function(p, inputs)
      local refs = {}
      for i, f in ipairs(inputs.image) do refs[i] = f.ref end
      local t = { images = refs }
      if p.similarityStrength ~= nil then t.similarityStrength = p.similarityStrength end
      return t
    end,
  })
end

local function legacy_remove_background(id)
  return amazon(id, "BACKGROUND_REMOVAL", {
    params_member = "backgroundRemovalParams",
    prompt = false,
    config = false, -- no imageGenerationConfig: one image, no seed
    inputs = { { name = "image", required = true, limits = titan_or_nova_image(id, false) } },
    output = same_size(" (a PNG with an alpha channel)"),
    task_params = function(_, inputs) return { image = inputs.image.ref } end,
  })
end

-- The catalogue. Each task: name, summary (what it does, for GET /models), and its models in
-- order of preference (a request that names no model gets the first one this deployment serves).
-- Each model ("variant"):
--   id, invoke      the model id, and the id InvokeModel is called with (a us. profile)
--   name, family    family: the answer's shape (models.families: images, error_field)
--   status, eol     lifecycle, as in models.lua
--   requires_allowed_model   the model is also a text-to-image model: served only when
--                   allowed_models holds it (or its us. profile, which is then invoked)
--   inputs          { name, required, limits, same_size_as, max_count (a list of up to n),
--                     alpha (the image must carry transparency: a Titan/Nova mask),
--                     stability_mask (a Stability mask: white where to edit), body (the
--                     Bedrock member, Stability) }
--   params          see above; the order is the order they are checked
--   output          describe, size(p, image), pixels(p, image)
--   formats         the output formats (the default first)
--   check_params(p), check(p, inputs)   rules between values (see above)
--   body(p, inputs) one InvokeModel body; p holds the checked values (seed set per call),
--                   inputs each image's facts (a list of them for max_count > 1), whose
--                   tokens (ref, mask_ref_inverted) go where the base64 goes
M.list = {
  {
    name = "image-to-image",
    summary = "Makes a new image from the input image and a prompt; strength says how far it may move "
      .. "away from the input (0 keeps it, 1 ignores it).",
    variants = {
      (function()
        local v = stability("sd3-5-large", "Stable Diffusion 3.5 Large", {
          inputs = { { name = "image", body = "image", required = true, limits = SD35_IMAGE } },
          params = {
            PROMPT,
            -- Bedrock requires strength and states no default; 0.7 is the value of AWS's own example.
            { name = "strength", kind = "number", body = "strength", min = 0, max = 1, default = 0.7, send = "always" },
            NEGATIVE, SEED, FORMAT, COUNT,
          },
          fixed = { mode = "image-to-image" },
          output = one_megapixel("about one megapixel (\"1 megapixel resolution output\"); the exact size is not "
            .. "stated, and the answer reports the real size"),
        })
        -- SD3.5 Large is the text-to-image model: invoked by its own id (or an allowed us.
        -- profile of it), and served only when allowed_models holds it.
        v.invoke = v.id
        v.requires_allowed_model = true
        return v
      end)(),
    },
  },
  {
    name = "inpaint",
    summary = "Fills or replaces the masked area with what the prompt describes.",
    variants = {
      stability("stable-image-inpaint", "Stable Image Inpaint", {
        inputs = {
          { name = "image", body = "image", required = true, limits = STD },
          { name = "mask", body = "mask", same_size_as = "image", limits = STABILITY_MASK, stability_mask = true },
        },
        params = { PROMPT, NEGATIVE, GROW_MASK, STYLE, SEED, FORMAT, COUNT },
        output = same_size(),
        check = mask_or_alpha("inpaint"),
      }),
      legacy_inpaint(TITAN), legacy_inpaint(TITAN2), legacy_inpaint(NOVA),
    },
  },
  {
    name = "outpaint",
    summary = "Extends the image by the given number of pixels on each side, filling the new area.",
    variants = {
      stability("stable-outpaint", "Stable Image Outpaint", {
        inputs = { { name = "image", body = "image", required = true, limits = STD } },
        params = {
          integer("left", "left", 0, 2000, 0), integer("right", "right", 0, 2000, 0),
          integer("up", "up", 0, 2000, 0), integer("down", "down", 0, 2000, 0),
          OPTIONAL_PROMPT, number("creativity", "creativity", 0.1, 1.0, 0.5), STYLE, SEED, FORMAT, COUNT,
        },
        output = {
          describe = "the input grown by left + right pixels in width and up + down in height (by the parameters' "
            .. "meaning; no source states it)",
          size = function(p, image)
            return image.width + (p.left or 0) + (p.right or 0), image.height + (p.up or 0) + (p.down or 0)
          end,
          pixels = function(p, image)
            return (image.width + (p.left or 0) + (p.right or 0)) * (image.height + (p.up or 0) + (p.down or 0))
          end,
        },
        check_params = some_direction,
      }),
      legacy_outpaint(TITAN), legacy_outpaint(TITAN2), legacy_outpaint(NOVA),
    },
  },
  {
    name = "erase",
    summary = "Removes what the mask covers and fills it in from the surroundings.",
    variants = {
      stability("stable-image-erase-object", "Stable Image Erase Object", {
        inputs = {
          { name = "image", body = "image", required = true, limits = STD },
          { name = "mask", body = "mask", same_size_as = "image", limits = STABILITY_MASK, stability_mask = true },
        },
        params = { GROW_MASK, SEED, FORMAT, COUNT },
        output = same_size(),
        check = mask_or_alpha("erase"),
      }),
    },
  },
  {
    name = "search-replace",
    summary = "Finds what searchPrompt names and replaces it with what the prompt describes, without a mask.",
    variants = {
      stability("stable-image-search-replace", "Stable Image Search and Replace", {
        inputs = { { name = "image", body = "image", required = true, limits = STD } },
        params = { PROMPT, text("searchPrompt", "search_prompt", true), NEGATIVE, GROW_MASK, STYLE, SEED, FORMAT,
          COUNT },
        output = same_size(),
      }),
    },
  },
  {
    name = "search-recolor",
    summary = "Finds what selectPrompt names and recolors it as the prompt describes, without a mask.",
    variants = {
      stability("stable-image-search-recolor", "Stable Image Search and Recolor", {
        inputs = { { name = "image", body = "image", required = true, limits = STD } },
        params = { PROMPT, text("selectPrompt", "select_prompt", true), NEGATIVE, GROW_MASK, STYLE, SEED, FORMAT,
          COUNT },
        output = same_size(),
      }),
    },
  },
  {
    name = "remove-background",
    summary = "Keeps the subject and makes the background transparent.",
    variants = {
      stability("stable-image-remove-background", "Stable Image Remove Background", {
        inputs = { { name = "image", body = "image", required = true, limits = STD } },
        -- png and webp only: the formats that carry the alpha channel this task exists for
        params = { enum("outputFormat", "output_format", { "png", "webp" }, "png", "always") },
        formats = { "png", "webp" },
        output = same_size(),
      }),
      legacy_remove_background(TITAN2), legacy_remove_background(NOVA),
    },
  },
  {
    name = "upscale-fast",
    summary = "Makes the image 4 times wider and higher, quickly, without a prompt.",
    variants = {
      stability("stable-fast-upscale", "Stable Image Fast Upscale", {
        inputs = { { name = "image", body = "image", required = true, limits = FAST_UPSCALE } },
        params = { FORMAT },
        output = {
          describe = "4 times the input's width and height",
          size = function(_, image) return image.width * 4, image.height * 4 end,
          pixels = function(_, image) return image.width * image.height * 16 end,
        },
      }),
    },
  },
  {
    name = "upscale-conservative",
    summary = "Upscales to about 4K, changing as little as possible.",
    variants = {
      stability("stable-conservative-upscale", "Stable Image Conservative Upscale", {
        inputs = { { name = "image", body = "image", required = true, limits = STD } },
        params = { PROMPT, number("creativity", "creativity", 0.1, 0.5, 0.35), NEGATIVE, SEED, FORMAT, COUNT },
        output = UPSCALED_4K,
      }),
    },
  },
  {
    name = "upscale-creative",
    summary = "Upscales a small or degraded image (up to 1 megapixel) to about 4K, reimagining detail.",
    variants = {
      stability("stable-creative-upscale", "Stable Image Creative Upscale", {
        inputs = { { name = "image", body = "image", required = true, limits = CREATIVE_UPSCALE } },
        params = { PROMPT, number("creativity", "creativity", 0.1, 0.5, 0.3), NEGATIVE, STYLE, SEED, FORMAT, COUNT },
        output = UPSCALED_4K,
      }),
    },
  },
  {
    name = "style-guide",
    summary = "Makes a new image of what the prompt describes, in the style of the input image.",
    variants = {
      stability("stable-image-style-guide", "Stable Image Style Guide", {
        inputs = { { name = "image", body = "image", required = true, limits = STD } },
        params = { PROMPT, enum("aspectRatio", "aspect_ratio", M.RATIOS, "1:1"), number("fidelity", "fidelity", 0, 1, 0.5),
          NEGATIVE, STYLE, SEED, FORMAT, COUNT },
        output = one_megapixel("about one megapixel in aspectRatio (Stability's API: 1 megapixel, 1024x1024 by "
          .. "default); the answer reports the real size"),
      }),
    },
  },
  {
    name = "style-transfer",
    summary = "Redraws the input image in the style of styleImage, keeping its composition.",
    variants = {
      stability("stable-style-transfer", "Stable Image Style Transfer", {
        inputs = {
          { name = "image", body = "init_image", required = true, limits = STD },
          { name = "styleImage", body = "style_image", required = true, limits = STD },
        },
        params = { OPTIONAL_PROMPT, NEGATIVE, number("styleStrength", "style_strength", 0, 1, 1),
          number("compositionFidelity", "composition_fidelity", 0, 1, 0.9),
          number("changeStrength", "change_strength", 0.1, 1, 0.9), SEED, FORMAT, COUNT },
        output = one_megapixel("about one megapixel in the input's aspect ratio (Stability's API); the answer "
          .. "reports the real size"),
      }),
    },
  },
  {
    name = "sketch",
    summary = "Turns a sketch (or the edges of any image) into a finished image of what the prompt describes.",
    variants = {
      stability("stable-image-control-sketch", "Stable Image Control Sketch", {
        inputs = { { name = "image", body = "image", required = true, limits = STD } },
        params = { PROMPT, number("controlStrength", "control_strength", 0, 1, 0.7), NEGATIVE, STYLE, SEED, FORMAT,
          COUNT },
        output = { describe = "not stated by any source; the answer reports the real size" },
      }),
    },
  },
  {
    name = "structure",
    summary = "Makes an image of what the prompt describes that keeps the structure of the input image.",
    variants = {
      stability("stable-image-control-structure", "Stable Image Control Structure", {
        inputs = { { name = "image", body = "image", required = true, limits = STD } },
        params = { PROMPT, number("controlStrength", "control_strength", 0, 1, 0.7), NEGATIVE, STYLE, SEED, FORMAT,
          COUNT },
        output = { describe = "not stated by any source; the answer reports the real size" },
      }),
    },
  },
  {
    name = "variation",
    summary = "Makes variations of one to five input images (legacy Titan and Nova models only).",
    variants = { legacy_variation(TITAN), legacy_variation(TITAN2), legacy_variation(NOVA) },
  },
}

local by_name = {}
M.names = {}
for i, t in ipairs(M.list) do
  by_name[t.name] = t
  M.names[i] = t.name
  for _, v in ipairs(t.variants) do v.task = t.name end
end

-- The tasks an operator may list in allowed_tasks by default: those a Stability service or
-- SD3.5 Large serves (every task but the legacy-only variation).
M.DEFAULT_ALLOWED = {}
for _, t in ipairs(M.list) do
  if t.variants[1].status == "active" then M.DEFAULT_ALLOWED[#M.DEFAULT_ALLOWED + 1] = t.name end
end

-- The JSON body members that may carry input images: the runtime decodes and inspects them
-- before admit() (init.lua's image_fields).
M.IMAGE_FIELDS = {}
do
  local seen = {}
  for _, t in ipairs(M.list) do
    for _, v in ipairs(t.variants) do
      for _, spec in ipairs(v.inputs) do
        if not seen[spec.name] then
          seen[spec.name] = true
          M.IMAGE_FIELDS[#M.IMAGE_FIELDS + 1] = spec.name
        end
      end
    end
  end
end

-- The task named `name`, or nil.
function M.get(name)
  return by_name[name]
end

-- The tasks and models this deployment serves: { list = { { task, variants = {...} } },
-- by_name = { [name] = that entry } }. A task is served when allowed_tasks names it and at least
-- one of its models is available: a Stability image service always, a model that is also a
-- text-to-image model (SD3.5 Large, Titan, Nova) when allowed_models holds it or its us. profile
-- (which is then invoked). Each served variant is a copy with `invoke` settled.
function M.available(allowed_tasks, allowed_models)
  local allowed = {}
  for _, id in ipairs(allowed_models) do allowed[id] = true end
  local out = { list = {}, by_name = {} }
  for _, name in ipairs(allowed_tasks) do
    local t = by_name[name]
    if t and not out.by_name[name] then
      local served = {}
      for _, v in ipairs(t.variants) do
        local invoke = v.invoke
        if v.requires_allowed_model then
          invoke = (allowed[v.id] and v.id) or (allowed["us." .. v.id] and "us." .. v.id) or nil
        end
        if invoke then
          local copy = setmetatable({ invoke = invoke }, { __index = v })
          served[#served + 1] = copy
        end
      end
      local entry = { task = t, variants = served }
      out.by_name[name] = entry
      if #served > 0 then out.list[#out.list + 1] = entry end
    end
  end
  return out
end

-- Every model id the served tasks may invoke (the ids IAM must grant), in catalogue order.
function M.invoked_ids(available)
  local out, seen = {}, {}
  for _, entry in ipairs(available.list) do
    for _, v in ipairs(entry.variants) do
      if not seen[v.invoke] then
        seen[v.invoke] = true
        out[#out + 1] = v.invoke
      end
    end
  end
  return out
end

-- The variant of a served task that `model` names (its model id or the id it is invoked with),
-- or nil. With no model: the first served variant.
function M.variant(entry, model)
  if model == nil then return entry.variants[1] end
  for _, v in ipairs(entry.variants) do
    if v.id == model or v.invoke == model then return v end
  end
  return nil
end

-- The variant's parameter named `name`, or nil.
function M.param(variant, name)
  for _, p in ipairs(variant.params) do
    if p.name == name then return p end
  end
  return nil
end

-- The variant's input named `name`, or nil.
function M.input(variant, name)
  for _, spec in ipairs(variant.inputs) do
    if spec.name == name then return spec end
  end
  return nil
end

-- True when the variant draws a seed (and so can make several different images).
function M.takes_seed(variant)
  for _, p in ipairs(variant.params) do
    if p.kind == "seed" then return true end
  end
  return false
end

local function copy_list(t)
  local out = {}
  for i, v in ipairs(t) do out[i] = v end
  return out
end

local function describe_limits(limits)
  local d = { formats = copy_list(limits.formats) }
  d.minSide = limits.min_side
  d.maxSide = limits.max_side
  d.minPixels = limits.min_pixels
  d.maxPixels = limits.max_pixels
  d.maxAspectRatio = limits.max_aspect
  d.maxBytes = limits.max_bytes
  return d
end

local KIND_NAMES = { text = "string", integer = "integer", number = "number", enum = "string", seed = "integer" }

-- What GET /models shows about one served variant of a task.
function M.describe_variant(v, max_images)
  local inputs = {}
  for i, spec in ipairs(v.inputs) do
    local d = describe_limits(spec.limits)
    d.name = spec.name
    d.required = spec.required == true
    d.sameSizeAs = spec.same_size_as
    d.maxCount = spec.max_count
    if spec.alpha then
      d.meaning = "transparent pixels mark where to edit"
    elseif spec.stability_mask then
      d.meaning = "white where to edit, black where to keep (grays: partial strength); without a mask, the "
        .. "image's transparent pixels"
    end
    inputs[i] = d
  end
  local params = {}
  for i, p in ipairs(v.params) do
    local d = { name = p.name, type = KIND_NAMES[p.kind], required = p.required == true, default = p.default }
    if p.kind == "text" then
      d.minLength, d.maxLength = p.min, p.max
    elseif p.kind == "enum" then
      d.values = copy_list(p.values)
    else
      d.min, d.max = p.min, p.max
      if p.name == "numberOfImages" and max_images and max_images < d.max then d.max = max_images end
    end
    if p.kind == "seed" and p.random ~= nil then d.random = p.random end
    params[i] = d
  end
  local d = {
    id = v.id,
    name = v.name,
    status = v.status,
    endOfLife = v.eol or cjson.null,
    inputs = imagegen.array(inputs),
    parameters = imagegen.array(params), -- [] for a model without parameters, not {}
    output = { size = v.output.describe, formats = copy_list(v.formats) },
  }
  if v.invoke ~= v.id then d.invokedAs = v.invoke end
  return d
end

return M
