-- models.lua - the model catalogue, as data.
--
-- Every rule the API enforces about a model (prompt lengths, sizes, ranges, defaults) lives
-- here and nowhere else, so that adding a model or correcting a limit is one edit in one
-- table. A model names its family; the family knows how to build the Bedrock InvokeModel body
-- and where the answer keeps its images. Which catalogue entries are actually served is
-- decided by config (allowed_models), not here.

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

-- Families: how to talk to a group of models that share one request and answer format.
--   build_body(params, model) -> the InvokeModel body
--   images                    where the answer keeps the base64 images (see the C contract)
--   error_field               a string member of a 200 answer that means "output filtered"
M.families = {
  ["amazon-image"] = {
    build_body = amazon_text_image_body,
    images = "images",
    error_field = "error",
  },
}

-- The catalogue. Limits are inclusive ranges. A model either lists its sizes (`sizes`) or
-- states a rule (`size_rule`). `eol` is informational (shown by GET /models).
-- Titan Image Generator G1 v1 and v2 share every rule; only the id, name and lifecycle differ.
local function titan(id, name, eol)
  return {
    id = id,
    name = name,
    family = "amazon-image",
    prompt = { min = 1, max = 512 },
    negative_prompt = { min = 1, max = 512 },
    sizes = TITAN_SIZES,
    cfg_scale = { min = 1.1, max = 10 },
    -- 0 to 2^31-1, as AWS's Titan samples draw it (randint(0, 2147483647), inclusive). Some
    -- copies of the parameter table say 2,147,483,646; should Bedrock refuse the top value, its
    -- message reaches the client as 400 invalid_request.
    seed = { min = 0, max = 2147483647 },
    images = { min = 1, max = 5 },
    qualities = { "standard", "premium" },
    -- Titan documents a default size of 1408x1408, which is not a permitted size: always
    -- send an explicit one.
    defaults = { width = 1024, height = 1024, cfgScale = 8, numberOfImages = 1, quality = "standard" },
    eol = eol,
  }
end

M.list = {
  titan("amazon.titan-image-generator-v1", "Amazon Titan Image Generator G1"),
  titan("amazon.titan-image-generator-v2:0", "Amazon Titan Image Generator G1 v2", "2026-06-30"),
  {
    id = "amazon.nova-canvas-v1:0",
    name = "Amazon Nova Canvas",
    family = "amazon-image",
    prompt = { min = 1, max = 1024 },
    negative_prompt = { min = 1, max = 1024 },
    -- Each side 320..4096 and a multiple of 16, aspect ratio within 1:4..4:1, and fewer than
    -- 4,194,304 pixels in total.
    size_rule = { min_side = 320, max_side = 4096, multiple_of = 16, max_aspect = 4, max_pixels = 4194303 },
    cfg_scale = { min = 1.1, max = 10 },
    -- AWS sources disagree (table: 2,147,483,646; sample code: 858,993,459); the lower bound
    -- satisfies both.
    seed = { min = 0, max = 858993459 },
    images = { min = 1, max = 5 },
    qualities = { "standard", "premium" },
    defaults = { width = 1024, height = 1024, cfgScale = 6.5, numberOfImages = 1, quality = "standard" },
    eol = "2026-09-30",
  },
}

local by_id = {}
for _, m in ipairs(M.list) do
  by_id[m.id] = m
end

-- The catalogue entry for `id`, or nil.
function M.get(id)
  return by_id[id]
end

-- The family entry of a model.
function M.family(model)
  return M.families[model.family]
end

-- "1024x1024" for a pair.
function M.size_name(w, h)
  return string.format("%dx%d", w, h)
end

-- Smallest and largest side a model can accept, for the per-parameter range check.
function M.side_range(model)
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

-- True when the model accepts width x height.
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

-- What GET /models shows about a model: the public names of every limit and default.
function M.describe(model)
  local d = {
    id = model.id,
    name = model.name,
    limits = {
      prompt = { minLength = model.prompt.min, maxLength = model.prompt.max },
      negativePrompt = { minLength = model.negative_prompt.min, maxLength = model.negative_prompt.max },
      cfgScale = { min = model.cfg_scale.min, max = model.cfg_scale.max },
      seed = { min = model.seed.min, max = model.seed.max },
      numberOfImages = { min = model.images.min, max = model.images.max },
      quality = copy_list(model.qualities),
    },
    defaults = {
      width = model.defaults.width,
      height = model.defaults.height,
      cfgScale = model.defaults.cfgScale,
      numberOfImages = model.defaults.numberOfImages,
      quality = model.defaults.quality,
    },
  }
  if model.size_rule then
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
  if model.eol then
    d.endOfLife = model.eol
  end
  return d
end

return M
