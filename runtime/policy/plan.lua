-- plan.lua - turns checked parameters into the generation plan the C runtime carries out.
--
-- The plan names the Bedrock model and body (built by the model's family), where the images
-- are in the answer, how many to expect, where to store them (S3 key prefix, URL lifetime,
-- object metadata) and a context handed back to respond(). A seed is always sent: when the
-- client gave none, one is drawn here and returned to the client, so any image can be made
-- again. The prompt never goes into object metadata unless storage.prompt_metadata says so.

local models = require("models")
local text = require("text")

local M = {}

local MAX_PROMPT_METADATA_BYTES = 1024

-- JSON with object keys sorted, so that equal bodies always give the same cache key.
local function canonical(v)
  local t = type(v)
  if t == "table" then
    if v[1] ~= nil or next(v) == nil then
      local parts = {}
      for i, x in ipairs(v) do parts[i] = canonical(x) end
      return "[" .. table.concat(parts, ",") .. "]"
    end
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = k end
    table.sort(keys)
    local parts = {}
    for i, k in ipairs(keys) do parts[i] = string.format("%q", k) .. ":" .. canonical(v[k]) end
    return "{" .. table.concat(parts, ",") .. "}"
  elseif t == "string" then
    return string.format("%q", v)
  elseif math.type(v) == "integer" then
    return string.format("%d", v)
  elseif t == "number" then
    return string.format("%.17g", v)
  end
  return tostring(v)
end
M.canonical = canonical

local function draw_seed(model)
  local seed = math.tointeger(imagegen.random(model.seed.min, model.seed.max))
  if not seed or seed < model.seed.min or seed > model.seed.max then
    error("imagegen.random returned a seed outside " .. model.seed.min .. ".." .. model.seed.max)
  end
  return seed
end

-- p: the checked parameters (validate.generate); settings: the effective settings;
-- limit: the rate-limit decision or nil. Returns the admit answer { generate = ... }.
function M.build(p, settings, limit)
  local model = p.model
  local family = models.family(model)
  local seed = p.seed or draw_seed(model)
  local body = family.build_body({
    prompt = p.prompt,
    negativePrompt = p.negativePrompt,
    width = p.width,
    height = p.height,
    cfgScale = p.cfgScale,
    seed = seed,
    numberOfImages = p.numberOfImages,
    quality = p.quality,
  }, model)

  local storage = settings.storage
  -- The runtime adds the measured width and height to every object itself.
  local metadata = {
    seed = string.format("%d", seed),
    model = model.id,
  }
  if storage.prompt_metadata == "sha256" then
    metadata["prompt-sha256"] = imagegen.sha256(p.prompt)
  elseif storage.prompt_metadata == "text" then
    metadata.prompt = (text.cut(p.prompt, MAX_PROMPT_METADATA_BYTES))
  end

  local context = {
    model = model.id,
    seed = seed,
    width = p.width,
    height = p.height,
    quality = p.quality,
    numberOfImages = p.numberOfImages,
  }
  if limit then
    context.ratelimit = {
      key = limit.key, cost = limit.cost, limit = limit.limit,
      remaining = limit.remaining, reset = limit.reset,
    }
  end

  local g = {
    model = model.id,
    body = body,
    images = family.images,
    error_field = family.error_field,
    expected_images = p.numberOfImages,
    key_prefix = imagegen.date(storage.key_prefix),
    url_ttl = storage.url_ttl,
    metadata = metadata,
    context = context,
  }
  if storage.cache_control ~= "" then
    g.cache_control = storage.cache_control
  end
  if settings.cache.enabled and p.seed ~= nil then
    -- Same model, same body (seed included) gives the same image: reuse stored objects.
    g.cache_key = imagegen.sha256(model.id .. "\n" .. canonical(body))
    g.key_prefix = imagegen.date(settings.cache.key_prefix)
  end
  return { generate = g }
end

return M
