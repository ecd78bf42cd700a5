-- hints.lua - what a client probably meant by a parameter name this API does not know.
--
-- Clients come from other image APIs (OpenAI's images API, Stability's REST API, Titan's
-- Bedrock body, Stable Diffusion front ends) and bring their names with them: `n`, `size`,
-- `negative_prompt`, `cfg_scale`. An unknown_parameter answer names, beside each unknown name
-- it shows, the parameter meant or why none is needed. Two sources, as data:
--   * spelling: the same name in snake_case, kebab-case or another letter case
--     (`negative_prompt`, `Output-Format`, `Prompt`) is found by comparing names with case,
--     '_' and '-' ignored;
--   * ALIASES: other names for the same thing, or a sentence when nothing here corresponds.
-- Only the few names an answer shows are looked up, so a hostile request cannot make this cost
-- more than a handful of table lookups. The same for edits (POST /edit-image): its parameter
-- names, and the task names (`inpainting` for inpaint, `img2img` for image-to-image).

local params = require("params")

local M = {}

-- name -> the parameter meant (a known name), or a table { say = "sentence" }.
M.ALIASES = {
  -- numberOfImages: OpenAI `n`, Stability `samples`, SD front ends `batch_size`, Replicate
  -- `num_outputs`
  n = "numberOfImages", num_images = "numberOfImages", numImages = "numberOfImages",
  num_outputs = "numberOfImages", samples = "numberOfImages", batch_size = "numberOfImages",
  image_count = "numberOfImages", count = "numberOfImages",
  -- OpenAI `size` ("1024x1024")
  size = { say = "did you mean width and height, or aspectRatio?" },
  image_size = { say = "did you mean width and height, or aspectRatio?" },
  resolution = { say = "did you mean width and height, or aspectRatio?" },
  ratio = "aspectRatio",
  -- OpenAI `response_format` ("url" or "b64_json")
  response_format = { say = "not needed: every image is returned as a URL; POST /v1/images/generations takes "
    .. "OpenAI's request, b64_json included" },
  -- Titan's body
  text = "prompt",
  negativeText = "negativePrompt", negative_text = "negativePrompt", negative = "negativePrompt",
  taskType = { say = "not needed: this API always generates an image from text" },
  mode = { say = "not needed: this API always generates an image from text" },
  -- guidance: diffusers and Replicate
  guidance_scale = "cfgScale", guidance = "cfgScale", cfg = "cfgScale", scale = "cfgScale",
  -- output format
  format = "outputFormat", image_format = "outputFormat", file_format = "outputFormat",
  -- seed
  random_seed = "seed", noise_seed = "seed",
  -- model: Stability `engine_id`, Bedrock `modelId`
  modelId = "model", model_id = "model", engine = "model", engine_id = "model",
  -- settings these models do not have
  style = { say = "no style setting: describe the style in the prompt" },
  style_preset = { say = "no style setting: describe the style in the prompt" },
  steps = { say = "no such setting: these models choose their own steps" },
  num_inference_steps = { say = "no such setting: these models choose their own steps" },
  sampler = { say = "no such setting: these models choose their own sampler" },
}

local function squash(name)
  return (name:lower():gsub("[_%-]", ""))
end

local BY_SQUASHED = {}
for _, p in ipairs(params) do BY_SQUASHED[squash(p.name)] = p.name end

-- The hint for an unknown parameter name, as it appears in parentheses after the name
-- ("did you mean numberOfImages?"), or nil.
function M.for_name(name)
  if type(name) ~= "string" or #name > 64 then return nil end
  local alias = M.ALIASES[name]
  if type(alias) == "table" then return alias.say end
  if alias then return "did you mean " .. alias .. "?" end
  local known = BY_SQUASHED[squash(name)]
  if known then
    if known:lower() == name:lower() then
      return "did you mean " .. known .. "? names are case-sensitive"
    end
    return "did you mean " .. known .. "?"
  end
  return nil
end

-- Edits (POST /edit-image) -------------------------------------------------------------------

-- Other names for an edit parameter or input: name -> the name meant.
M.EDIT_ALIASES = {
  n = "numberOfImages", num_images = "numberOfImages", samples = "numberOfImages", count = "numberOfImages",
  format = "outputFormat", image_format = "outputFormat",
  init_image = "image", input_image = "image", images = "image", source_image = "image", picture = "image",
  mask_image = "mask", maskImage = "mask",
  style_image = "styleImage", reference_image = "styleImage", style_reference = "styleImage",
  search = "searchPrompt", select = "selectPrompt",
  style = "stylePreset", preset = "stylePreset",
  text = "prompt", negativeText = "negativePrompt", negative_text = "negativePrompt", negative = "negativePrompt",
  ratio = "aspectRatio", modelId = "model", model_id = "model", operation = "task", type = "task", mode = "task",
  taskType = "task",
}

-- A hint for an unknown edit parameter `name`, given the names the task takes (`known`): the
-- same name in another case or spelling (grow_mask for growMask), or an alias that is known.
function M.for_edit_name(name, known)
  if type(name) ~= "string" or #name > 64 then return nil end
  local squashed = squash(name)
  for _, k in ipairs(known) do
    if squash(k) == squashed then
      if k:lower() == name:lower() then return "did you mean " .. k .. "? names are case-sensitive" end
      return "did you mean " .. k .. "?"
    end
  end
  local alias = M.EDIT_ALIASES[name]
  if alias then
    for _, k in ipairs(known) do
      if k == alias then return "did you mean " .. k .. "?" end
    end
  end
  return nil
end

-- Other names for a task: name (squashed: lower case, no '-', '_' or space) -> the task meant,
-- or { say = "sentence" } when several could be meant.
M.TASK_ALIASES = {
  inpainting = "inpaint", fill = "inpaint", generativefill = "inpaint",
  outpainting = "outpaint", extend = "outpaint", expand = "outpaint", uncrop = "outpaint",
  eraseobject = "erase", remove = "erase", removeobject = "erase", objectremoval = "erase",
  searchandreplace = "search-replace", replace = "search-replace",
  searchandrecolor = "search-recolor", recolor = "search-recolor",
  removebg = "remove-background", backgroundremoval = "remove-background", background = "remove-background",
  rmbg = "remove-background",
  upscale = { say = "did you mean upscale-fast, upscale-conservative or upscale-creative?" },
  fastupscale = "upscale-fast", conservativeupscale = "upscale-conservative", creativeupscale = "upscale-creative",
  img2img = "image-to-image", imagetoimage = "image-to-image", i2i = "image-to-image", edit = "image-to-image",
  styleguide = "style-guide", styletransfer = "style-transfer", restyle = "style-transfer",
  controlsketch = "sketch", sketchtoimage = "sketch", controlstructure = "structure",
  variations = "variation", imagevariation = "variation",
}

local function squash_task(name)
  return (name:lower():gsub("[_%- ]", ""))
end

local TASK_BY_SQUASHED = {}
for _, name in ipairs(require("tasks").names) do TASK_BY_SQUASHED[squash_task(name)] = name end

-- The hint for an unknown task name ("did you mean inpaint?"), or nil.
function M.for_task(name)
  if type(name) ~= "string" or #name > 64 then return nil end
  local squashed = squash_task(name)
  local known = TASK_BY_SQUASHED[squashed]
  if known then return "did you mean " .. known .. "?" end
  local alias = M.TASK_ALIASES[squashed]
  if type(alias) == "table" then return alias.say end
  if alias then return "did you mean " .. alias .. "?" end
  return nil
end

return M
