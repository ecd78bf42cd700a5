-- A policy that does what req.action names, so that one file exercises the sandbox, the
-- imagegen functions, the conversion of return values and every way a call can fail.
local helper = require("lib.helper")

local M = {}
local calls = 0
local actions = {}

-- What the sandbox lets a script see.
function actions.globals()
  local out = {}
  for _, name in ipairs({ "io", "os", "debug", "load", "loadstring", "dofile", "loadfile",
                          "package", "warn", "coroutine", "string", "table", "math", "utf8",
                          "cjson", "imagegen", "require", "print", "pcall", "setmetatable" }) do
    out[name] = type(_G[name])
  end
  out["string.dump"] = type(string.dump)
  out["method dump"] = type(("").dump)
  out.cjson_via_require = require("cjson") == cjson
  out.cjson_round_trip = cjson.decode(cjson.encode({ a = { 1, 2 } })).a[2]
  out.rep = ("ab"):rep(3)
  out.metatable_index = setmetatable({}, { __index = { x = 1 } }).x
  out.gc_count = type(collectgarbage("count"))
  out.gc_collect = select(2, pcall(collectgarbage, "collect"))
  return { body = out }
end

-- require(req.name) under pcall: whether it worked and what it said.
function actions.require(req)
  local ok, value = pcall(require, req.name)
  return { ok = ok, value = ok and tostring(value) or nil, message = not ok and tostring(value) or nil }
end

function actions.modules()
  local again = require("lib.helper")
  return { loads = helper.loads, same = again == helper, greeting = again.greet("policy") }
end

function actions.env(req)
  local values = {}
  for _, name in ipairs(req.names) do
    values[name] = imagegen.env(name) or cjson.null
  end
  return { values = values }
end

function actions.log(req)
  imagegen.log("warn", "probe log line", { answer = 42, nested = { ok = true } })
  print("printed", 1, nil, true)
  return {}
end

function actions.metric()
  imagegen.metric("Probe.Count", 1, "Count")
  imagegen.metric("Probe.Count", 2, "Count")
  imagegen.metric("Probe.Latency", 1.5, "Milliseconds")
  imagegen.metric("Probe.Plain", 7)
  return {}
end

function actions.bad_metric(req)
  local ok, err = pcall(imagegen.metric, req.name, req.value, req.unit)
  return { ok = ok, message = tostring(err) }
end

function actions.api()
  local rolls, lo, hi = {}, math.huge, -math.huge
  for i = 1, 200 do
    local r = imagegen.random(1, 6)
    lo, hi = math.min(lo, r), math.max(hi, r)
  end
  return {
    sha = imagegen.sha256("abc"),
    uuid = imagegen.uuid(),
    uuid2 = imagegen.uuid(),
    random_lo = lo, random_hi = hi,
    random_full = math.type(imagegen.random(math.mininteger, math.maxinteger)),
    random_one = imagegen.random(5, 5),
    random_empty = select(2, pcall(imagegen.random, 2, 1)),
    date = imagegen.date("%Y-%m-%dT%H:%M:%SZ", 1795000000),
    date_float = imagegen.date("%Y/%m/%d", 86399.9),
    date_bad = select(2, pcall(imagegen.date, "%Q")),
    clock = imagegen.clock(),
    monotonic_type = math.type(imagegen.monotonic()),
    empty = imagegen.array(),
    kept = imagegen.array({ 1, 2 }),
  }
end

function actions.state()
  calls = calls + 1
  return { calls = calls }
end

function actions.error() error("boom") end
function actions.error_no_position() error("plain message", 0) end
function actions.error_table() error({ code = 1 }) end
function actions.runtime_error(req) return { n = req.missing.field } end
function actions.number() return 42 end
function actions.nothing() end
function actions.function_value() return { f = print } end
function actions.cycle() local t = {} t.self = t return { t = t } end
function actions.nan() return { x = 0 / 0 } end
function actions.inf() return { x = math.huge } end
function actions.bad_utf8() return { body = { text = "ok", s = "caf\xe9" } } end
function actions.bad_key() return { ["k\xff"] = 1 } end
function actions.mixed() return { list = { 1, 2, x = 3 } } end
function actions.sparse() return { list = { [1] = 1, [3] = 3 } } end
function actions.float_key() return { t = { [1.5] = 1 } } end
function actions.array_result() return { 1, 2, 3 } end
function actions.deep()
  local t = {}
  local cur = t
  for i = 1, 100 do cur.next = {} cur = cur.next end
  return t
end
function actions.spin(req)
  local x = 0
  for i = 1, req.n do x = x + i end
  return { x = x }
end
function actions.loop() while true do end end
function actions.pcall_loop()
  while true do pcall(function() while true do end end) end
end
function actions.memory() return { s = string.rep("x", 2 ^ 30) } end
function actions.memory_table()
  local t = {}
  for i = 1, 1e9 do t[i] = i end
  return t
end
function actions.memory_pcall()
  local ok = pcall(string.rep, "x", 2 ^ 30)
  return { caught = not ok, after = #string.rep("y", 1000) }
end
function actions.finalizer_loop()
  setmetatable({}, { __gc = function() while true do end end })
  return {}
end
function actions.marker_gc(req)
  local shown = getmetatable(req.list)
  shown.__gc = function() while true do end end
  return { name = shown.__name, still_array = getmetatable(req.list).__name,
           protected = select(2, pcall(setmetatable, req.list, {})) }
end
-- Loops of C calls that each take long: the instruction budget alone would never end them.
function actions.gsub_loop()
  local s = string.rep("ab", 4 * 1024 * 1024)
  while true do s = s:gsub("a", "a") end
end
-- A table that references one big string many times: cjson would build it outside the cap.
function actions.encode_big()
  local big = string.rep("x", 8 * 1024 * 1024)
  local t = {}
  for i = 1, 100 do t[i] = big end
  return { size = #cjson.encode(t) }
end
function actions.encode_small() return { text = cjson.encode({ a = { 1, "two", true } }) } end
-- Changing what every request shares: the string library and the strings' metatable.
function actions.change_strings()
  local out = {}
  out.metatable = tostring(getmetatable(""))
  out.set_upper = select(2, pcall(function() string.upper = function() return "pwned" end end))
  out.set_through_method = select(2, pcall(function() getmetatable("").__index.upper = nil end))
  out.upper = ("abc"):upper()
  return { body = out }
end
function actions.strings_after() return { body = { upper = ("abc"):upper(), format = string.format("%d", 7) } } end
function actions.policy_file(req)
  local text, message = imagegen.policy_file(req.name)
  return { found = text ~= nil, starts = text and text:sub(1, 40) or nil, message = message }
end
function actions.ok(req) return { status = 200, body = { echo = req.body } } end

function M.admit(req, ctx)
  local action = actions[req.action]
  if not action then
    return { status = 404, body = { error = "no action " .. tostring(req.action) } }
  end
  return action(req, ctx)
end

function M.respond(result, req)
  return { status = result.ok and 200 or 500, body = result }
end

-- The origins the runtime's own last-resort answers may name.
M.cors_origins = { "https://app.example.com" }

return M
