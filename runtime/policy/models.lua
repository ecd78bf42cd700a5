-- models.lua - the model catalogue, as data.
--
-- Every rule the API enforces about a model (prompt lengths, sizes or aspect ratios, ranges,
-- output formats, defaults, lifecycle) lives here and nowhere else, so that adding a model or
-- correcting a limit is one edit in one table. A model names its family; the family knows how
-- to build the Bedrock InvokeModel body, where the answer keeps its images and how many images
-- one call makes. Which catalogue entries are actually served is decided by config
-- (allowed_models), not here. docs/models.md gives the source of every fact below.

local M = {}

-- Titan Image Generator G1 accepts exactly these 25 width x height pairs (v1 and v2 alike).
local TITAN_SIZES = {
  -- square
  { 1024, 1024 }, { 768, 768 }, { 512, 512 },
  -- portrait
  { 768, 1152 }, { 384, 576 }, { 768, 1280 }, { 384, 640 }, { 896, 1152 }, { 448, 576 },
  { 768, 1408 }, { 384, 704 }, { 640, 1408 }, { 320, 704 },
  -- landscape
  { 1152, 768 }, { 576, 384 }, { 1280, 768 }, { 640, 384 }, { 1152, 896 }, { 576, 448 },
  { 1408, 768 }, { 704, 384 }, { 1408, 640 }, { 704, 320 }, { 1152, 640 }, { 1173, 640 },
}

-- The aspect ratios of Stability's text-to-image models (SD3.5 Large, Stable Image Core and
-- Ultra), in the order AWS lists them, each with the pixel size the model produces for it
-- (the usual one-megapixel buckets; the real image's size is measured by the runtime and
-- reported to the client, so a model that differs is reported as it is).
local STABILITY_RATIOS = {
  { ratio = "16:9", width = 1344, height = 768 },
  { ratio = "1:1", width = 1024, height = 1024 },
  { ratio = "21:9", width = 1536, height = 640 },
  { ratio = "2:3", width = 832, height = 1216 },
  { ratio = "3:2", width = 1216, height = 832 },
  { ratio = "4:5", width = 896, height = 1088 },
  { ratio = "5:4", width = 1088, height = 896 },
  { ratio = "9:16", width = 768, height = 1344 },
  { ratio = "9:21", width = 640, height = 1536 },
}

-- The most bytes one image can take, per pixel and output format, for answers that carry the
-- images inline (OpenAI's b64_json), which must fit in Lambda's 6 MB response. PNG: an 8-bit RGB
-- image whose pixels do not compress (the grain of real photos comes close: 2.7-2.8 bytes per
-- pixel measured, noise 3.0) is its raw size plus a filter byte per row and the container;
-- JPEG and WebP: measured on one-megapixel photo-like images with grain, at quality 95 (JPEG
-- with full-resolution colour), with a margin. docs/models.md says how they were measured.
local PNG_RGB_WORST_BYTES_PER_PIXEL = 3.01
local STABILITY_WORST_BYTES_PER_PIXEL = { png = PNG_RGB_WORST_BYTES_PER_PIXEL, jpeg = 1.5, webp = 1.0 }
-- Bytes of an image file beyond its pixels (headers, metadata a model adds), at most.
M.IMAGE_OVERHEAD_BYTES = 16384
-- The same figures, for the edit models (tasks.lua) that answer in these formats.
M.WORST_BYTES_PER_PIXEL = STABILITY_WORST_BYTES_PER_PIXEL

-- width and height given to a ratio model are only a way to name a ratio: any side up to this
-- many pixels is read, and the pair must then reduce to one of the model's ratios.
M.RATIO_SIDE_MAX = 16384

-- The Amazon image envelope shared by Titan G1 and Nova Canvas for text-to-image.
-- negativeText is sent only when the caller gave one: both models reject an empty string.
local function amazon_text_image_body(p)
  local text = { text = p.prompt }
  if p.negativePrompt ~= nil then
    text.negativeText = p.negativePrompt
  end
  return {
    taskType = "TEXT_IMAGE",
    textToImageParams = text,
    imageGenerationConfig = {
      numberOfImages = p.numberOfImages,
      quality = p.quality,
      width = p.width,
      height = p.height,
      cfgScale = p.cfgScale,
      seed = p.seed,
    },
  }
end

-- Stability's text-to-image body (SD3.5 Large, Stable Image Core, Stable Image Ultra): one
-- image per call, so it carries no count. Bedrock refuses unknown keys; these are all known.
-- negative_prompt is sent only when the caller gave one.
local function stability_text_image_body(p)
  local body = {
    prompt = p.prompt,
    aspect_ratio = p.aspectRatio,
    mode = "text-to-image",
    seed = p.seed,
    output_format = p.outputFormat,
  }
  if p.negativePrompt ~= nil then
    body.negative_prompt = p.negativePrompt
  end
  return body
end

-- Families: how to talk to a group of models that share one request and answer format.
--   build_body(params, model) -> the InvokeModel body for one call
--   images                    where the answer keeps the base64 images (see the C contract)
--   error_field               a string member of a 200 answer that means "output filtered"
--                             (Titan/Nova), or an array of per-image reasons, null for an
--                             image that was made (Stability)
--   one_image_per_call        true: numberOfImages=n is n calls, each with its own seed;
--                             false: one call makes all n images (numberOfImages in the body)
M.families = {
  ["amazon-image"] = {
    build_body = amazon_text_image_body,
    images = "images",
    error_field = "error",
    one_image_per_call = false,
  },
  ["stability"] = {
    build_body = stability_text_image_body,
    images = "images",
    error_field = "finish_reasons",
    one_image_per_call = true,
  },
}

-- The catalogue. Limits are inclusive ranges. Each entry carries:
--   id, name, family
--   status        "active" or "legacy" (Bedrock's lifecycle state)
--   eol           end-of-life date "YYYY-MM-DD", or nil when none is announced
--   profiles      optional: geography prefixes of cross-region inference profiles ("us"):
--                 "us." .. id is then the same model, invoked through the profile
--   prompt, negative_prompt   length ranges in characters
--   either aspect_ratios (a list of { ratio, width, height }) or sizes (a list of
--                 { width, height }) or size_rule
--   output_formats the formats the model can return, the default first
--   seed          range; `random` names the value that asks the model for a random seed
--   images        range of numberOfImages
--   cfg_scale, qualities  only for models that take them
--   defaults      the value of every parameter the client may leave out

-- Stability's text-to-image models share every rule; only the id, name and lifecycle differ.
local function stability(id, name, status, eol)
  return {
    id = id,
    name = name,
    family = "stability",
    status = status,
    eol = eol,
    profiles = { "us" },
    prompt = { min = 1, max = 10000 },
    negative_prompt = { min = 1, max = 10000 },
    aspect_ratios = STABILITY_RATIOS,
    output_formats = { "png", "jpeg", "webp" },
    -- 0 asks for a random seed; the top value is the one both AWS pages accept (Core's page
    -- says 4294967295, SD3.5 Large's and Stability's own API 4294967294).
    seed = { min = 0, max = 4294967294, random = 0 },
    images = { min = 1, max = 5 },
    worst_bytes_per_pixel = STABILITY_WORST_BYTES_PER_PIXEL,
    defaults = { aspectRatio = "1:1", outputFormat = "png", numberOfImages = 1 },
  }
end

-- Titan Image Generator G1 v1 and v2 share every rule; only the id, name and lifecycle differ.
local function titan(id, name, status, eol)
  return {
    id = id,
    name = name,
    family = "amazon-image",
    status = status,
    eol = eol,
    prompt = { min = 1, max = 512 },
    negative_prompt = { min = 1, max = 512 },
    sizes = TITAN_SIZES,
    output_formats = { "png" },
    cfg_scale = { min = 1.1, max = 10 },
    -- 0 to 2^31-1, as AWS's Titan samples draw it (randint(0, 2147483647), inclusive). Some
    -- copies of the parameter table say 2,147,483,646; should Bedrock refuse the top value, its
    -- message reaches the client as 400 invalid_request.
    seed = { min = 0, max = 2147483647 },
    images = { min = 1, max = 5 },
    qualities = { "standard", "premium" },
    worst_bytes_per_pixel = { png = PNG_RGB_WORST_BYTES_PER_PIXEL },
    -- Titan documents a default size of 1408x1408, which is not a permitted size: always
    -- send an explicit one.
    defaults = { width = 1024, height = 1024, cfgScale = 8, numberOfImages = 1, quality = "standard",
      outputFormat = "png" },
  }
end

M.list = {
  stability("stability.sd3-5-large-v1:0", "Stable Diffusion 3.5 Large", "active"),
  stability("stability.stable-image-core-v1:1", "Stable Image Core", "active"),
  stability("stability.stable-image-ultra-v1:1", "Stable Image Ultra", "active"),
  titan("amazon.titan-image-generator-v1", "Amazon Titan Image Generator G1", "legacy"),
  titan("amazon.titan-image-generator-v2:0", "Amazon Titan Image Generator G1 v2", "legacy", "2026-06-30"),
  {
    id = "amazon.nova-canvas-v1:0",
    name = "Amazon Nova Canvas",
    family = "amazon-image",
    status = "legacy",
    eol = "2026-09-30",
    prompt = { min = 1, max = 1024 },
    negative_prompt = { min = 1, max = 1024 },
    -- Each side 320..4096 and a multiple of 16, aspect ratio within 1:4..4:1, and fewer than
    -- 4,194,304 pixels in total.
    size_rule = { min_side = 320, max_side = 4096, multiple_of = 16, max_aspect = 4, max_pixels = 4194303 },
    output_formats = { "png" },
    cfg_scale = { min = 1.1, max = 10 },
    -- AWS sources disagree (table: 2,147,483,646; sample code: 858,993,459); the lower bound
    -- satisfies both.
    seed = { min = 0, max = 858993459 },
    images = { min = 1, max = 5 },
    qualities = { "standard", "premium" },
    worst_bytes_per_pixel = { png = PNG_RGB_WORST_BYTES_PER_PIXEL },
    defaults = { width = 1024, height = 1024, cfgScale = 6.5, numberOfImages = 1, quality = "standard",
      outputFormat = "png" },
  },
}

local by_id = {}
local all_ids = {}

-- A cross-region inference profile of `model`: the same entry under the profile's id, with
-- the foundation model it routes to.
local function profile_entry(model, geo)
  local p = {}
  for k, v in pairs(model) do p[k] = v end
  p.id = geo .. "." .. model.id
  p.name = model.name .. " (" .. geo:upper() .. " cross-region inference profile)"
  p.foundation_model = model.id
  p.profile = geo
  p.profiles = nil
  return p
end

for _, m in ipairs(M.list) do
  by_id[m.id] = m
  all_ids[#all_ids + 1] = m.id
  for _, geo in ipairs(m.profiles or {}) do
    local p = profile_entry(m, geo)
    by_id[p.id] = p
    all_ids[#all_ids + 1] = p.id
  end
end

-- The catalogue entry for `id` (a model id or an inference-profile id), or nil.
function M.get(id)
  return by_id[id]
end

-- Every id the catalogue answers to, profiles included, in catalogue order.
function M.ids()
  local out = {}
  for i, id in ipairs(all_ids) do out[i] = id end
  return out
end

-- The family entry of a model.
function M.family(model)
  return M.families[model.family]
end

-- True when the model is chosen by aspect ratio (Stability); false for width x height.
function M.uses_ratios(model)
  return model.aspect_ratios ~= nil
end

-- True when the date "YYYY-MM-DD" `today` is on or after the model's end of life.
function M.past_end_of_life(model, today)
  return model.eol ~= nil and today >= model.eol
end

-- The most bytes one image of width x height in `format` can take from this model (see
-- worst_bytes_per_pixel), or nil when the catalogue has no figure for that format.
function M.worst_image_bytes(model, format, width, height)
  local bpp = model.worst_bytes_per_pixel and model.worst_bytes_per_pixel[format]
  if not bpp then return nil end
  return math.ceil(width * height * bpp) + M.IMAGE_OVERHEAD_BYTES
end

-- The public parameters a model takes, in the order params.lua checks them. width and height
-- are taken by every model: by a ratio model only as a way to name one of its ratios.
function M.takes(model, name)
  if name == "aspectRatio" then return M.uses_ratios(model) end
  if name == "cfgScale" then return model.cfg_scale ~= nil end
  if name == "quality" then return model.qualities ~= nil end
  return true
end

-- "1024x1024" for a pair.
function M.size_name(w, h)
  return string.format("%dx%d", w, h)
end

-- The ratio names of a ratio model, in catalogue order.
function M.ratio_names(model)
  local out = {}
  for i, r in ipairs(model.aspect_ratios) do out[i] = r.ratio end
  return out
end

-- The aspect-ratio entry named `name`, or nil.
function M.ratio(model, name)
  for _, r in ipairs(model.aspect_ratios) do
    if r.ratio == name then return r end
  end
  return nil
end

-- The aspect-ratio entry that width x height names: the pair has exactly the ratio's
-- proportions (1920x1080 is 16:9, 2100x900 is 21:9), or it is the pixel size the model makes
-- for that ratio (1344x768 is 16:9, though not exactly 16:9).
function M.ratio_for_size(model, w, h)
  for _, r in ipairs(model.aspect_ratios) do
    local a, b = r.ratio:match("^(%d+):(%d+)$")
    if w * tonumber(b) == h * tonumber(a) or (r.width == w and r.height == h) then return r end
  end
  return nil
end

-- Smallest and largest side a model can accept, for the per-parameter range check.
function M.side_range(model)
  if M.uses_ratios(model) then
    return 1, M.RATIO_SIDE_MAX
  end
  if model.size_rule then
    return model.size_rule.min_side, model.size_rule.max_side
  end
  local lo, hi = math.huge, 0
  for _, s in ipairs(model.sizes) do
    lo = math.min(lo, s[1], s[2])
    hi = math.max(hi, s[1], s[2])
  end
  return lo, hi
end

-- True when a size model accepts width x height.
function M.size_supported(model, w, h)
  local rule = model.size_rule
  if rule then
    return w >= rule.min_side and w <= rule.max_side
      and h >= rule.min_side and h <= rule.max_side
      and w % rule.multiple_of == 0 and h % rule.multiple_of == 0
      and w * rule.max_aspect >= h and h * rule.max_aspect >= w
      and w * h <= rule.max_pixels
  end
  for _, s in ipairs(model.sizes) do
    if s[1] == w and s[2] == h then
      return true
    end
  end
  return false
end

-- A sentence naming what the model accepts, for error messages.
function M.describe_sizes(model)
  if M.uses_ratios(model) then
    local parts = {}
    for i, r in ipairs(model.aspect_ratios) do
      parts[i] = string.format("%s (%s)", r.ratio, M.size_name(r.width, r.height))
    end
    return "aspect ratios and the sizes made for them: " .. table.concat(parts, ", ")
  end
  local rule = model.size_rule
  if rule then
    return string.format(
      "each side must be %d to %d pixels and a multiple of %d, the aspect ratio between 1:%d and %d:1, "
        .. "and width x height at most %d pixels",
      rule.min_side, rule.max_side, rule.multiple_of, rule.max_aspect, rule.max_aspect, rule.max_pixels)
  end
  local names = {}
  for i, s in ipairs(model.sizes) do
    names[i] = M.size_name(s[1], s[2])
  end
  return "supported sizes: " .. table.concat(names, ", ")
end

local function copy_list(t)
  local out = {}
  for i, v in ipairs(t) do
    out[i] = v
  end
  return out
end

-- What GET /models shows about a model: its lifecycle and the public names of every limit
-- and default. endOfLife is JSON null when no date is announced.
function M.describe(model)
  local d = {
    id = model.id,
    name = model.name,
    status = model.status,
    endOfLife = model.eol or cjson.null,
    outputFormats = copy_list(model.output_formats),
    limits = {
      prompt = { minLength = model.prompt.min, maxLength = model.prompt.max },
      negativePrompt = { minLength = model.negative_prompt.min, maxLength = model.negative_prompt.max },
      seed = { min = model.seed.min, max = model.seed.max },
      numberOfImages = { min = model.images.min, max = model.images.max },
    },
    defaults = {},
  }
  for k, v in pairs(model.defaults) do d.defaults[k] = v end
  if model.cfg_scale then
    d.limits.cfgScale = { min = model.cfg_scale.min, max = model.cfg_scale.max }
  end
  if model.qualities then
    d.limits.quality = copy_list(model.qualities)
  end
  if model.foundation_model then
    d.foundationModel = model.foundation_model
  end
  if M.uses_ratios(model) then
    d.aspectRatios = M.ratio_names(model)
    d.sizes = {}
    for i, r in ipairs(model.aspect_ratios) do
      d.sizes[i] = M.size_name(r.width, r.height)
    end
  elseif model.size_rule then
    local r = model.size_rule
    d.sizeRule = {
      minSide = r.min_side, maxSide = r.max_side, multipleOf = r.multiple_of,
      maxAspectRatio = r.max_aspect, maxPixels = r.max_pixels,
    }
  else
    d.sizes = {}
    for i, s in ipairs(model.sizes) do
      d.sizes[i] = M.size_name(s[1], s[2])
    end
  end
  return d
end

return M
