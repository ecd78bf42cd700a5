-- loader.lua - loads the policy scripts the way the C runtime does, once per test.
-- Part of the policy test harness (see harness.lua, the entry point operators use).
--
-- Each call builds a fresh sandbox: only string (without dump), table, math, utf8, cjson, the
-- base functions the runtime keeps, `imagegen` (the shim) and a require() that loads nothing
-- but <policy dir>/<name>.lua. Globals are strict: reading an undefined one or creating one
-- fails the test, so a script that reaches for io, os, debug, load or package is caught
-- here. A fresh sandbox per test means no state (rate-limit buckets) leaks between tests.

local cjson = require("cjson")
local shim = require("shim")

local M = {}

local here = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
-- The policy folder the specs load: IMAGEGEN_POLICY_DIR (scripts/policy-test --policy-dir sets
-- it), else the shipped runtime/policy beside this harness. opts.policy_dir overrides it per load.
M.POLICY_DIR = os.getenv("IMAGEGEN_POLICY_DIR") or (here .. "/../runtime/policy")

local BASE = {
  "assert", "error", "ipairs", "next", "pairs", "pcall", "rawequal", "rawget", "rawlen", "rawset",
  "select", "setmetatable", "getmetatable", "tonumber", "tostring", "type", "xpcall", "_VERSION",
}

local function copy(t)
  local out = {}
  for k, v in pairs(t) do out[k] = v end
  return out
end

local function sandbox_env(imagegen)
  local env = {}
  for _, name in ipairs(BASE) do env[name] = _G[name] end
  env.string = copy(string)
  env.string.dump = nil
  env.table = copy(table)
  env.math = copy(math)
  env.utf8 = copy(utf8)
  env.cjson = cjson
  env.imagegen = imagegen
  return env
end

local function strict(env)
  return setmetatable(env, {
    __index = function(_, k) error("policy script read undefined global " .. tostring(k), 2) end,
    __newindex = function(_, k) error("policy script created global " .. tostring(k), 2) end,
  })
end

-- The runtime's default instruction budget per call (IMAGEGEN_LUA_INSTRUCTIONS): loading the
-- policy, and each admit and respond, must finish within it.
M.INSTRUCTION_BUDGET = 10000000

-- Calls fn(...) under an instruction budget counted like the runtime's (VM instructions, C
-- functions not counted): past `budget` instructions the call fails with "instruction budget
-- ... exhausted", as the runtime's hook would make it.
function M.with_budget(budget, fn, ...)
  debug.sethook(function()
    debug.sethook()
    error(string.format("instruction budget of %d exhausted", budget), 2)
  end, "", budget)
  local results = table.pack(pcall(fn, ...))
  debug.sethook()
  if not results[1] then error(results[2], 0) end
  return table.unpack(results, 2, results.n)
end

-- opts:
--   policy_dir the policy folder to load (default M.POLICY_DIR)
--   budget     instruction budget of the load and of each call (default INSTRUCTION_BUDGET)
--   env        environment variables seen through imagegen.env
--   config     function(cfg) changing the shipped config.lua table before the policy is built
--   config_source  the text of a config.lua to load instead of the shipped one
--   policy_file    true: imagegen.policy_file offers config.lua's text (config_source, or the
--              shipped file), as the runtime is asked to; false/nil: the policy has no such function
--   capture    a table that receives `ctl` (the shim's control side), even when loading fails
--   now, monotonic, seed   shim clocks and PRNG seed
-- Returns { policy = {admit, respond}, imagegen = shim, ctl = shim control, require = fn }.
function M.load(opts)
  opts = opts or {}
  local policy_dir = opts.policy_dir or M.POLICY_DIR
  local shim_opts = setmetatable({}, { __index = opts })
  if opts.policy_file then
    -- imagegen.policy_file, as the runtime is asked to offer it: the text of a policy file
    local text = opts.config_source
    if not text then
      local f = assert(io.open(policy_dir .. "/config.lua"))
      text = f:read("a")
      f:close()
    end
    shim_opts.files = { ["config.lua"] = text }
  end
  local api, ctl = shim.new(shim_opts)
  if opts.capture then opts.capture.ctl = ctl end
  local env = sandbox_env(api)
  local cache = {}

  local function policy_require(name)
    assert(type(name) == "string", "require needs a module name")
    if name == "cjson" then return cjson end
    if cache[name] ~= nil then return cache[name] end
    assert(name:match("^[%w_]+[%w_.]*$"), "bad module name " .. name)
    local path = policy_dir .. "/" .. name:gsub("%.", "/") .. ".lua"
    local chunk, err
    if name == "config" and opts.config_source then
      chunk, err = load(opts.config_source, "=config.lua", "t", env)
    else
      chunk, err = loadfile(path, "t", env)
    end
    if not chunk then error(err, 2) end
    local value = chunk(name)
    if name == "config" and opts.config then
      opts.config(value)
    end
    if value == nil then value = true end
    cache[name] = value
    return value
  end

  env.require = policy_require
  strict(env)
  local budget = opts.budget or M.INSTRUCTION_BUDGET
  local policy = M.with_budget(budget, policy_require, "init")
  return { policy = policy, imagegen = api, ctl = ctl, require = policy_require, budget = budget,
           policy_dir = policy_dir }
end

-- Loads the policy and returns the error message, for tests of start-up failures.
function M.load_error(opts)
  local ok, err = pcall(M.load, opts)
  if ok then return nil end
  return tostring(err)
end

return M
