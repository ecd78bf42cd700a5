-- config_spec.lua - config.lua against its schema, the environment overrides, the model
-- catalogue's own consistency, and the README's list of knobs.

local C = require("contract")
local R = require("requests")
local loader = require("loader")

local TITAN = "amazon.titan-image-generator-v1"
local TITAN2 = "amazon.titan-image-generator-v2:0"
local NOVA = "amazon.nova-canvas-v1:0"
local CORE = "stability.stable-image-core-v1:1"
local SD35 = "stability.sd3-5-large-v1:0"
local ULTRA = "stability.stable-image-ultra-v1:1"

local function load_error(change, env)
  return loader.load_error({ config = change, env = env })
end

describe("the shipped config", function()
  it("loads, and init.lua returns admit and respond", function()
    local h = loader.load()
    assert.are.equal("function", type(h.policy.admit))
    assert.are.equal("function", type(h.policy.respond))
  end)

  it("says exactly what the schema defaults say", function()
    local h = loader.load()
    local schema = h.require("schema")
    assert.are.same(schema.settings({}, nil), schema.settings(h.require("config"), nil))
  end)
end)

describe("a bad config fails start-up with a sentence naming the knob", function()
  local cases = {
    { "a misspelt knob", function(c) c.rate_limit.tires = {} end, "config.lua: rate_limit.tires is not a known setting" },
    { "a misspelt top-level knob", function(c) c.allowed_model = {} end, "config.lua: allowed_model is not a known setting" },
    { "a wrong type", function(c) c.storage.url_ttl = "1h" end, "config.lua: storage.url_ttl must be a number; got a string" },
    { "a TTL of 0", function(c) c.storage.url_ttl = 0 end, "storage.url_ttl must be between 1 and 604800; got 0" },
    { "a TTL above 7 days", function(c) c.storage.url_ttl = 604801 end, "storage.url_ttl must be between 1 and 604800" },
    { "a fractional burst", function(c) c.rate_limit.tiers.default.burst = 2.5 end, "rate_limit.tiers.default.burst must be an integer" },
    { "a zero rate", function(c) c.rate_limit.tiers.default.rate = 0 end, "rate_limit.tiers.default.rate must be greater than 0" },
    { "an unknown model", function(c) c.allowed_models = { TITAN, "dall-e" } end,
      'allowed_models[2] names an unknown model "dall-e"; the catalogue holds ' .. SD35 .. ", us." .. SD35 },
    { "no model", function(c) c.allowed_models = {} end, "allowed_models must hold at least 1 entry" },
    { "a default that is not allowed", function(c) c.default_model = NOVA end, 'default_model "' .. NOVA .. '" is not in allowed_models' },
    { "a key mapped to a missing tier", function(c) c.rate_limit.keys = { k1 = "gold" } end, 'rate_limit.keys.k1 names an unknown tier "gold"' },
    { "a missing anonymous tier", function(c) c.rate_limit.anonymous_tier = "nobody" end, 'rate_limit.anonymous_tier names an unknown tier "nobody"' },
    { "a bad cost", function(c) c.rate_limit.cost = "token" end, 'rate_limit.cost must be one of "image", "request"; got "token"' },
    { "an origin with a path", function(c) c.cors.origins = { "https://a.example/app" } end, "cors.origins[1] must be" },
    { "a key prefix with a leading slash", function(c) c.storage.key_prefix = "/images/" end, 'storage.key_prefix must not start with "/"' },
    { "a key prefix with unsafe characters", function(c) c.storage.key_prefix = "images/%Y?x=" end, "storage.key_prefix may hold only" },
    { "a key prefix climbing up", function(c) c.storage.key_prefix = "images/../" end, 'must not contain ".."' },
    { "a Cache-Control with a line break", function(c) c.storage.cache_control = "private\r\nX: y" end, "storage.cache_control must be printable ASCII" },
    { "a deny-list that is not a list", function(c) c.prompt.deny = "ass" end, "prompt.deny must be a list" },
    { "a boolean as a string", function(c) c.rate_limit.enabled = "yes" end, "rate_limit.enabled must be true or false" },
  }
  for _, case in ipairs(cases) do
    it(case[1], function()
      local err = load_error(case[2])
      assert.is_string(err)
      assert.matches(case[3], err, 1, true)
    end)
  end
end)

describe("every problem at once, each where it was set", function()
  -- A config.lua with three mistakes, at lines 4, 8 and 11.
  local BROKEN = table.concat({
    "-- a deployment's settings",               -- 1
    "return {",                                 -- 2
    "  storage = {",                            -- 3
    "    url_ttl = 0, -- { not = a_key }",       -- 4
    "  },",                                     -- 5
    "  rate_limit = {",                         -- 6
    "    tiers = { default = { rate = 1, burst = 10 }, anonymous = { rate = 1, burst = 5 } },",
    "    tires = {},",                           -- 8
    "  },",                                     -- 9
    "  prompt = { deny = { \"ok\", \"{\" } },",  -- 10
    "  cors = { max_age = -1 },",               -- 11
    "}",                                        -- 12
  }, "\n")

  it("reports them all, one per line, naming each knob", function()
    local err = loader.load_error({ config_source = BROKEN })
    assert.are.same({ -- in the schema's order, as no line is known
      "config.lua: cors.max_age must be between 0 and 86400; got -1",
      "config.lua: storage.url_ttl must be between 1 and 604800; got 0",
      'config.lua: prompt.deny[2] holds no word; got "{"',
      "config.lua: rate_limit.tires is not a known setting",
    }, (function() local t = {} for l in err:gmatch("[^\n]+") do t[#t + 1] = l end return t end)())
  end)

  it("gives each its config.lua line when the runtime offers the file's text, in line order", function()
    local err = loader.load_error({ config_source = BROKEN, policy_file = true })
    assert.are.equal(table.concat({
      "config.lua:4: storage.url_ttl must be between 1 and 604800; got 0",
      "config.lua:8: rate_limit.tires is not a known setting",
      'config.lua:10: prompt.deny[2] holds no word; got "{"',
      "config.lua:11: cors.max_age must be between 0 and 86400; got -1",
    }, "\n"), err)
  end)

  it("starts with a file:line position, so the runtime does not put its own in front", function()
    local err = loader.load_error({ config_source = BROKEN, policy_file = true })
    assert.matches("^config%.lua:%d+: ", err)
  end)

  it("finds the line of a list entry, a map entry and a nested knob of the shipped file", function()
    local function first_line(change)
      return loader.load_error({ policy_file = true, config = change })
    end
    local src = assert(io.open(loader.POLICY_DIR .. "/config.lua")):read("a")
    local function line_of(text)
      local n = 1
      for l in src:gmatch("([^\n]*)\n") do
        if l:find(text, 1, true) then return n end
        n = n + 1
      end
    end
    assert.matches(string.format("^config%%.lua:%d: allowed_models%%[2%%] names an unknown model", line_of('"stability.sd3-5-large-v1:0"')),
      first_line(function(c) c.allowed_models[2] = "dall-e" end))
    assert.matches(string.format("^config%%.lua:%d: rate_limit.tiers.premium.burst must be an integer", line_of("premium = {")),
      first_line(function(c) c.rate_limit.tiers.premium.burst = 2.5 end))
    assert.matches(string.format("^config%%.lua:%d: cors.max_age must be between", line_of("max_age = 600")),
      first_line(function(c) c.cors.max_age = -5 end))
  end)

  it("names the variable for a setting an environment variable made, with the config.lua ones", function()
    local err = loader.load_error({ config_source = BROKEN, policy_file = true,
      env = { IMAGEGEN_URL_TTL = "0", IMAGEGEN_RATE_LIMIT = "maybe", IMAGEGEN_CORS_ORIGINS = "app.example.com" } })
    local lines = {}
    for l in err:gmatch("[^\n]+") do lines[#lines + 1] = l end
    assert.are.same({
      "config.lua:8: rate_limit.tires is not a known setting",
      'config.lua:10: prompt.deny[2] holds no word; got "{"',
      "config.lua:11: cors.max_age must be between 0 and 86400; got -1",
      'IMAGEGEN_RATE_LIMIT must be "on" or "off"; got "maybe"',
      "IMAGEGEN_CORS_ORIGINS: cors.origins[1] must be \"*\" or an origin like \"https://app.example.com\" "
        .. '(scheme://host[:port], no path); got "app.example.com"',
      "IMAGEGEN_URL_TTL: storage.url_ttl must be between 1 and 604800; got 0",
    }, lines)
  end)

  it("does not report the consequences of a problem as more problems", function()
    local err = loader.load_error({ config = function(c)
      c.allowed_models = "stability.stable-image-core-v1:1"
      c.default_model = "amazon.nova-canvas-v1:0"
      c.rate_limit.tiers = { gold = { rate = 0, burst = 1 } }
    end })
    assert.are.equal(table.concat({
      "config.lua: allowed_models must be a list; got a string",
      "config.lua: rate_limit.tiers.gold.rate must be greater than 0; got 0",
    }, "\n"), err)
  end)

  it("logs each problem on its own line too", function()
    local capture = {}
    loader.load_error({ config_source = BROKEN, policy_file = true, capture = capture })
    local logged = capture.ctl.find_logs({ level = "error", message = "policy setting is wrong; the function cannot start" })
    assert.are.equal(4, #logged)
    assert.are.equal("config.lua:4: storage.url_ttl must be between 1 and 604800; got 0", logged[1].fields.problem)
  end)

  it("reads long strings, long comments and cut-off text without losing its place", function()
    local source = loader.load().require("configsource")
    local tree = source.parse('return { a = 1, ["b"] = { 2, [[x\ny]], c = 3 }, --[[ z = 1\n]] d = "}{" }')
    assert.are.same({ 2, true }, { source.line_of(tree, { "b", "c" }) })
    assert.are.same({ 3, true }, { source.line_of(tree, { "d" }) })
    assert.are.same({ 1, false }, { source.line_of(tree, { "b", "nope" }) })
    for _, cut in ipairs({ "return { a = [", "return { [", "return { a = { b = ", "return {", "local x = 1" }) do
      local tree_of_cut = source.parse(cut)
      assert.is_nil((source.line_of(tree_of_cut, { "zz" })), cut)
    end
  end)

  it("finds every knob of the schema in the shipped config.lua", function()
    local h = loader.load()
    local schema, source = h.require("schema"), h.require("configsource")
    local tree = source.parse(assert(io.open(loader.POLICY_DIR .. "/config.lua")):read("a"))
    for _, knob in ipairs(schema.knobs()) do
      local keys = {}
      for k in knob:gmatch("[^.]+") do keys[#keys + 1] = k end
      local line, whole = source.line_of(tree, keys)
      assert.is_number(line, knob)
      assert.is_true(whole, knob)
    end
  end)
end)

describe("omitted knobs", function()
  it("take their defaults", function()
    local h = C.harness({ config = function(c)
      for k in pairs(c) do c[k] = nil end
    end })
    local g = h.plan(R.get("/generate-image", { prompt = "x" }))
    assert.are.equal(3600, g.url_ttl)
    assert.are.equal(CORE, g.model)
    assert.are.equal(4, g.context.ratelimit.remaining)
  end)
end)

describe("environment overrides", function()
  it("IMAGEGEN_ALLOWED_MODELS replaces the list; its first model becomes the default if needed", function()
    local h = C.harness({ env = { IMAGEGEN_ALLOWED_MODELS = NOVA .. ", " .. TITAN2 } })
    local body = C.client_body(h.admit(R.get("/models")))
    assert.are.equal(NOVA, body.defaultModel)
    assert.are.same({ NOVA, TITAN2 }, { body.models[1].id, body.models[2].id })
    assert.are.equal(NOVA, h.plan(R.get("/generate-image", { prompt = "x" })).model)
    assert.are.equal("unknown_model", select(2, h.refusal(R.get("/generate-image", { prompt = "x", model = TITAN }))))
  end)

  it("IMAGEGEN_ALLOWED_MODELS keeps the configured default when it is listed", function()
    local h = C.harness({ env = { IMAGEGEN_ALLOWED_MODELS = ULTRA .. "," .. CORE } })
    assert.are.equal(CORE, h.plan(R.get("/generate-image", { prompt = "x" })).model)
  end)

  it("IMAGEGEN_ALLOWED_MODELS with an unknown model fails start-up", function()
    local err = load_error(nil, { IMAGEGEN_ALLOWED_MODELS = "amazon.titan-image-generator-v9" })
    assert.matches('allowed_models[1] names an unknown model "amazon.titan-image-generator-v9"', err, 1, true)
  end)

  it("IMAGEGEN_DEFAULT_MODEL picks the default, which must be allowed", function()
    local h = C.harness({ env = { IMAGEGEN_DEFAULT_MODEL = ULTRA } })
    assert.are.equal(ULTRA, h.plan(R.get("/generate-image", { prompt = "x" })).model)
    local err = load_error(nil, { IMAGEGEN_DEFAULT_MODEL = NOVA })
    assert.matches("default_model", err, 1, true)
  end)

  it("IMAGEGEN_URL_TTL must be a whole number of seconds in range", function()
    assert.are.equal(120, C.harness({ env = { IMAGEGEN_URL_TTL = "120" } }).plan(R.get("/generate-image", { prompt = "x" })).url_ttl)
    for _, bad in ipairs({ "1h", "-5", "1e3", "99999999" }) do
      assert.is_string(load_error(nil, { IMAGEGEN_URL_TTL = bad }), bad)
    end
    assert.matches("storage.url_ttl must be between 1 and 604800; got 0", load_error(nil, { IMAGEGEN_URL_TTL = "0" }), 1, true)
  end)

  it("IMAGEGEN_RATE_LIMIT turns the per-client limits off and on, and nothing else", function()
    local function spend(env, config)
      local h = C.harness({ env = env, config = config })
      local statuses = {}
      for i = 1, 7 do
        statuses[i] = h.admit(R.get("/generate-image", { prompt = "x" })).status
      end
      return statuses
    end
    local limited = spend({})
    assert.are.equal(429, limited[7])
    for _, st in ipairs(spend({ IMAGEGEN_RATE_LIMIT = "off" })) do assert.are.equal(200, st) end
    local on = spend({ IMAGEGEN_RATE_LIMIT = "on" }, function(c) c.rate_limit.enabled = false end)
    assert.are.equal(429, on[7])
    for _, bad in ipairs({ "0", "false", "OFF", "no", " off" }) do
      assert.matches('IMAGEGEN_RATE_LIMIT must be "on" or "off"', load_error(nil, { IMAGEGEN_RATE_LIMIT = bad }), 1, true)
    end
  end)

  it("an empty variable counts as unset", function()
    local h = C.harness({ env = { IMAGEGEN_ALLOWED_MODELS = "", IMAGEGEN_URL_TTL = "" } })
    assert.are.equal(3600, h.plan(R.get("/generate-image", { prompt = "x" })).url_ttl)
  end)

  it("IMAGEGEN_CORS_ORIGINS entries are checked like config entries", function()
    assert.matches("cors.origins[1] must be", load_error(nil, { IMAGEGEN_CORS_ORIGINS = "app.example.com" }), 1, true)
  end)
end)

describe("the model catalogue", function()
  local h = loader.load()
  local models = h.require("models")

  it("has unique ids, each with a known family", function()
    local seen = {}
    for _, m in ipairs(models.list) do
      assert.is_nil(seen[m.id], m.id)
      seen[m.id] = true
      assert.is_table(models.family(m), m.id)
      assert.is_function(models.family(m).build_body)
    end
  end)

  it("keeps every model's defaults within its own rules", function()
    local function one_of(list, v)
      for _, x in ipairs(list) do if x == v then return true end end
      return false
    end
    for _, m in ipairs(models.list) do
      local d = m.defaults
      if models.uses_ratios(m) then
        assert.is_table(models.ratio(m, d.aspectRatio), m.id)
        assert.is_nil(d.width, m.id)
      else
        assert.is_true(models.size_supported(m, d.width, d.height), m.id)
      end
      if m.cfg_scale then
        assert.is_true(d.cfgScale >= m.cfg_scale.min and d.cfgScale <= m.cfg_scale.max, m.id)
      else
        assert.is_nil(d.cfgScale, m.id)
      end
      assert.is_true(d.numberOfImages >= m.images.min and d.numberOfImages <= m.images.max, m.id)
      if m.qualities then assert.is_true(one_of(m.qualities, d.quality), m.id) else assert.is_nil(d.quality, m.id) end
      assert.is_true(one_of(m.output_formats, d.outputFormat), m.id)
      assert.are.equal(m.output_formats[1], d.outputFormat, m.id)
    end
  end)

  it("lists Titan's 25 sizes once each, none above 1408 pixels a side", function()
    local sizes = models.get(TITAN).sizes
    local seen = {}
    for _, s in ipairs(sizes) do
      local name = models.size_name(s[1], s[2])
      assert.is_nil(seen[name], name)
      seen[name] = true
      assert.is_true(s[1] <= 1408 and s[2] <= 1408 and s[1] >= 320 and s[2] >= 320, name)
    end
    assert.are.equal(25, #sizes)
    assert.is_nil(seen["1408x1408"]) -- Titan's documented default is not a permitted size
  end)
end)

describe("runtime/policy/README.md", function()
  local f = assert(io.open(loader.POLICY_DIR .. "/README.md"))
  local readme = f:read("a")
  f:close()
  local h = loader.load()

  it("documents every knob of the schema", function()
    for _, knob in ipairs(h.require("schema").knobs()) do
      assert.is_truthy(readme:find("`" .. knob .. "`", 1, true), knob)
    end
  end)

  it("documents every environment variable the policy reads", function()
    for _, e in ipairs(h.require("schema").ENV) do
      assert.is_truthy(readme:find(e[1], 1, true), e[1])
    end
  end)

  it("documents every error code the policy answers with", function()
    for _, code in ipairs({ "not_found", "method_not_allowed", "invalid_parameter", "unknown_parameter", "invalid_prompt",
      "prompt_rejected", "unknown_model", "invalid_body", "unsupported_media_type", "rate_limited", "origin_not_allowed" }) do
      assert.is_truthy(readme:find("`" .. code .. "`", 1, true), code)
    end
    for code in pairs(h.require("respond").FAILURES) do
      assert.is_truthy(readme:find("`" .. code .. "`", 1, true), code)
    end
  end)

  it("says that rate limits hold per container", function()
    assert.is_truthy(readme:find("per container", 1, true))
    assert.is_truthy(readme:find("usage plan", 1, true))
  end)
end)
