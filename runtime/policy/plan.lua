-- plan.lua - turns checked parameters into the generation plan the C runtime carries out.
--
-- The plan lists attempts: the chosen model first, then each configured fallback model that
-- can express the same request. An attempt names the Bedrock model, where its answers keep the
-- images, and its calls: one InvokeModel per element, all run at once. A model that makes one
-- image per call (Stability) gets numberOfImages calls with seeds s, s+1, ...; Titan and Nova
-- get one call asking for numberOfImages. The plan also says how many images to expect, where
-- to store them (S3 key prefix, URL lifetime, object metadata, per call the call's seed) and a
-- context handed back to respond(). A seed is always sent: when the client gave none (or, on
-- Stability, 0, which asks for a random one), one is drawn here and returned to the client, so
-- any image can be made again. The prompt never goes into object metadata unless
-- storage.prompt_metadata says so. A request of the OpenAI-compatible API also says how the
-- images are delivered (deliver: "url", "inline" or "both"). The old single-call members
-- (model, body, images, error_field) are kept, copied from the first attempt, for runtimes
-- that read only those. An edit (M.edit) has the same shape: one attempt on the edit model.

local models = require("models")
local text = require("text")
local validate = require("validate")

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

-- The range a seed is drawn from: a seed range { min, max, random } (a model's `seed`, or an
-- edit model's seed parameter), less the value that means "random".
local function draw_range(range)
  local lo, hi = range.min, range.max
  if range.random == lo then lo = lo + 1 end
  return lo, hi
end

local function draw_seed(range)
  local lo, hi = draw_range(range)
  local seed = math.tointeger(imagegen.random(lo, hi))
  if not seed or seed < lo or seed > hi then
    error("imagegen.random returned a seed outside " .. lo .. ".." .. hi)
  end
  return seed
end

-- The seed after `s` for the next call: s + 1, wrapping to the bottom of the drawable range.
local function next_seed(range, s)
  local lo, hi = draw_range(range)
  if s >= hi then return lo end
  return s + 1
end

local function seed_string(s)
  return string.format("%d", s)
end

-- One attempt for checked parameters `p` (validate.check) on `p.model`, starting at `seed`.
-- `openai`: the OpenAI request's own values (openai.lua), copied into the context for respond().
local function attempt_for(p, seed, n, limit, openai)
  local model = p.model
  local family = models.family(model)
  local per_call = family.one_image_per_call
  local calls, seeds = {}, {}
  local s = seed
  for i = 1, per_call and n or 1 do
    seeds[i] = s
    calls[i] = {
      body = family.build_body({
        prompt = p.prompt,
        negativePrompt = p.negativePrompt,
        aspectRatio = p.aspectRatio,
        width = p.width,
        height = p.height,
        cfgScale = p.cfgScale,
        seed = s,
        numberOfImages = per_call and 1 or n,
        quality = p.quality,
        outputFormat = p.outputFormat,
      }, model),
      metadata = { seed = seed_string(s), model = model.id },
    }
    s = next_seed(model.seed, s)
  end

  -- What respond() needs: who served, the seed of each call, how many images one call makes
  -- (a batch: its images share the call's seed), the expected size and format. Never the prompt.
  local context = {
    model = model.id,
    seed = seeds[1],
    seeds = seeds,
    batch = per_call and 1 or n,
    width = p.width,
    height = p.height,
    aspectRatio = p.aspectRatio,
    format = p.outputFormat,
    quality = p.quality,
    numberOfImages = n,
  }
  if openai then
    context.api = "openai"
    context.response_format = openai.response_format
    context.openai_quality = openai.quality
    context.openai_model = openai.model
  end
  if limit then
    context.ratelimit = {
      key = limit.key, cost = limit.cost, limit = limit.limit,
      remaining = limit.remaining, reset = limit.reset,
    }
  end
  return {
    model = model.id,
    images = family.images,
    error_field = family.error_field,
    calls = calls,
    context = context,
  }
end

-- The fallback attempts for the chosen model: each configured fallback model that can express
-- the request the client sent (same values, checked against that model's rules). One that
-- cannot (a ratio, format or parameter it lacks, a prompt too long for it) is left out, and the
-- reason logged.
local function fallback_attempts(p, settings, first_seed, limit)
  local out = {}
  for _, id in ipairs(settings.fallback[p.model.id] or {}) do
    local model = models.get(id)
    local fp, problem = validate.check(p.input.values, p.input.from, model, settings)
    if fp then
      -- the client's seed when it gave one; else keep the one drawn for the first model when
      -- this one takes it (a seed that asked the first model for a random one counts as none)
      local seed = p.seed ~= nil and fp.seed or nil
      if seed == nil then
        local lo, hi = draw_range(model.seed)
        seed = (first_seed >= lo and first_seed <= hi) and first_seed or draw_seed(model.seed)
      end
      out[#out + 1] = attempt_for(fp, seed, p.numberOfImages, limit, p.openai)
    else
      imagegen.log("info", "fallback model skipped: it cannot serve this request", {
        model = p.model.id, fallback = id, reason = problem.message,
      })
    end
  end
  return out
end

-- p: the checked parameters (validate.generate); settings: the effective settings;
-- limit: the rate-limit decision or nil. Returns the admit answer { generate = ... }.
function M.build(p, settings, limit)
  local model = p.model
  local seed = p.seed or draw_seed(model.seed)
  local attempts = { attempt_for(p, seed, p.numberOfImages, limit, p.openai) }
  if p.input then
    for _, a in ipairs(fallback_attempts(p, settings, seed, limit)) do attempts[#attempts + 1] = a end
  end
  local first = attempts[1]

  local storage = settings.storage
  -- The runtime adds the measured width and height to every object itself; each call's
  -- metadata (its seed, its model) is merged over these.
  local metadata = {
    seed = seed_string(seed),
    model = model.id,
  }
  if storage.prompt_metadata == "sha256" then
    metadata["prompt-sha256"] = imagegen.sha256(p.prompt)
  elseif storage.prompt_metadata == "text" then
    metadata.prompt = (text.cut(p.prompt, MAX_PROMPT_METADATA_BYTES))
  end

  local g = {
    attempts = attempts,
    model = first.model,
    body = first.calls[1].body,
    images = first.images,
    error_field = first.error_field,
    expected_images = p.numberOfImages,
    key_prefix = imagegen.date(storage.key_prefix),
    url_ttl = storage.url_ttl,
    metadata = metadata,
    context = first.context,
  }
  if p.openai then
    -- "url": stored and presigned; "inline": each image comes back as base64 (b64), nothing
    -- stored; "both": stored, presigned and base64
    g.deliver = p.openai.deliver
  end
  if storage.cache_control ~= "" then
    g.cache_control = storage.cache_control
  end
  if settings.cache.enabled and p.seed ~= nil then
    -- Same models, same bodies (seeds included) give the same images: reuse stored objects.
    -- With one attempt of one call this is the key earlier versions computed, so images
    -- cached before stay valid.
    local parts = {}
    for _, a in ipairs(attempts) do
      parts[#parts + 1] = a.model
      for _, c in ipairs(a.calls) do parts[#parts + 1] = canonical(c.body) end
    end
    g.cache_key = imagegen.sha256(table.concat(parts, "\n"))
    g.key_prefix = imagegen.date(settings.cache.key_prefix)
  end
  return { generate = g }
end

-- The seed parameter of an edit model, or nil (background removal, fast upscale: no seed).
local function seed_param(variant)
  for _, spec in ipairs(variant.params) do
    if spec.kind == "seed" then return spec end
  end
  return nil
end

-- The plan of a checked edit (edit.check's e): one attempt on the edit model, whose calls each
-- carry one Bedrock body built by the catalogue entry (tasks.lua) with the input images' tokens
-- in it. A model that makes one image per call (Stability) gets n calls with seeds s, s+1, ...;
-- Titan and Nova one call asking for n images. A seed is drawn when the model takes one and the
-- client gave none. Edits are never cached: the cache key would need the input images' bytes,
-- which the policy never sees. openai: the OpenAI request's own values, as for a generation.
function M.edit(e, settings, limit, openai)
  local v = e.variant
  local family = models.families[v.family]
  local per_call = family.one_image_per_call
  local n = e.n
  local range = seed_param(v)
  local seed = e.p.seed
  if range and seed == nil then seed = draw_seed(range) end
  local calls, seeds = {}, {}
  local s = seed
  for i = 1, per_call and n or 1 do
    local p = {}
    for k, x in pairs(e.p) do p[k] = x end
    p.seed = s
    if range then p.numberOfImages = per_call and 1 or n end
    local metadata = { model = v.invoke, task = v.task }
    if s then
      seeds[i] = s
      metadata.seed = seed_string(s)
    end
    calls[i] = { body = v.body(p, e.inputs), metadata = metadata }
    if s then s = next_seed(range, s) end
  end

  local context = {
    model = v.invoke,
    task = v.task,
    seed = seeds[1],
    seeds = #seeds > 0 and seeds or nil,
    batch = per_call and 1 or n,
    width = e.width,
    height = e.height,
    format = e.p.outputFormat or v.formats[1],
    numberOfImages = n,
  }
  if openai then
    context.api = "openai"
    context.response_format = openai.response_format
    context.openai_quality = openai.quality
    context.openai_model = openai.model
  end
  if limit then
    context.ratelimit = {
      key = limit.key, cost = limit.cost, limit = limit.limit,
      remaining = limit.remaining, reset = limit.reset,
    }
  end
  local attempt = { model = v.invoke, images = family.images, error_field = family.error_field, calls = calls,
    context = context }
  local metadata = { model = v.invoke, task = v.task }
  if seed then metadata.seed = seed_string(seed) end
  local storage = settings.storage
  local g = {
    attempts = { attempt },
    model = attempt.model,
    body = calls[1].body,
    images = attempt.images,
    error_field = attempt.error_field,
    expected_images = n,
    key_prefix = imagegen.date(storage.key_prefix),
    url_ttl = storage.url_ttl,
    metadata = metadata,
    context = context,
  }
  if openai then g.deliver = openai.deliver end
  if storage.cache_control ~= "" then g.cache_control = storage.cache_control end
  return { generate = g }
end

return M
