-- shim.lua - a plain-Lua `imagegen` table with the functions the C runtime gives scripts.
-- Part of the policy test harness (harness.lua is the entry point operators use).
--
-- The policy tests run the real scripts against this table. It behaves like the C functions
-- (argument checks included, so a script calling one wrongly fails here too) and adds a
-- control side: clocks that move only when a test says so, scripted random numbers, a
-- chosen environment, and the log lines and metrics the scripts produced.

local M = {}

-- SHA-256 (FIPS 180-4) in Lua 5.4 integer arithmetic, for imagegen.sha256.
local K = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
}
local MASK = 0xffffffff

local function rotr(x, n) return ((x >> n) | (x << (32 - n))) & MASK end

function M.sha256(msg)
  local h = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 }
  local len = #msg
  msg = msg .. "\128" .. string.rep("\0", (55 - len) % 64) .. string.pack(">I8", len * 8)
  local w = {}
  for chunk = 1, #msg, 64 do
    for i = 0, 15 do w[i] = string.unpack(">I4", msg, chunk + i * 4) end
    for i = 16, 63 do
      local s0 = rotr(w[i - 15], 7) ~ rotr(w[i - 15], 18) ~ (w[i - 15] >> 3)
      local s1 = rotr(w[i - 2], 17) ~ rotr(w[i - 2], 19) ~ (w[i - 2] >> 10)
      w[i] = (w[i - 16] + s0 + w[i - 7] + s1) & MASK
    end
    local a, b, c, d, e, f, g, hh = h[1], h[2], h[3], h[4], h[5], h[6], h[7], h[8]
    for i = 0, 63 do
      local S1 = rotr(e, 6) ~ rotr(e, 11) ~ rotr(e, 25)
      local ch = (e & f) ~ (~e & g)
      local t1 = (hh + S1 + ch + K[i + 1] + w[i]) & MASK
      local S0 = rotr(a, 2) ~ rotr(a, 13) ~ rotr(a, 22)
      local maj = (a & b) ~ (a & c) ~ (b & c)
      local t2 = (S0 + maj) & MASK
      hh, g, f, e, d, c, b, a = g, f, e, (d + t1) & MASK, c, b, a, (t1 + t2) & MASK
    end
    h[1], h[2], h[3], h[4] = (h[1] + a) & MASK, (h[2] + b) & MASK, (h[3] + c) & MASK, (h[4] + d) & MASK
    h[5], h[6], h[7], h[8] = (h[5] + e) & MASK, (h[6] + f) & MASK, (h[7] + g) & MASK, (h[8] + hh) & MASK
  end
  return string.format(string.rep("%08x", 8), table.unpack(h))
end

local LEVELS = { debug = true, info = true, warn = true, error = true }

-- The metatable the runtime puts on every JSON array it hands to Lua (and imagegen.array
-- puts on a table), so that an empty array goes back out as [] and not {}.
M.ARRAY_MT = { __name = "imagegen.array" }

-- Like the runtime's Lua-to-JSON conversion: every string must be valid UTF-8.
local function check_utf8(v, where)
  if type(v) == "string" then
    assert(utf8.len(v), where .. ": a string that is not valid UTF-8")
  elseif type(v) == "table" then
    for k, x in pairs(v) do check_utf8(k, where); check_utf8(x, where) end
  end
end
M.check_utf8 = check_utf8

-- Returns the `imagegen` table and its control table.
-- opts: env (name -> value), now (epoch seconds), monotonic (seconds), seed (PRNG seed),
-- files (name -> text, offered through imagegen.policy_file).
function M.new(opts)
  opts = opts or {}
  local ctl = {
    env = opts.env or {},
    now = opts.now or 1795000000.25,
    mono = opts.monotonic or 5000.0,
    logs = {},
    metrics = {},
    random_queue = {},
    random_calls = {},
    uuids = 0,
  }
  local rng = opts.seed or 12345

  -- Moves both clocks forward by `seconds`.
  function ctl.advance(seconds)
    ctl.now = ctl.now + seconds
    ctl.mono = ctl.mono + seconds
  end

  -- The log lines whose fields match every pair in `want`.
  function ctl.find_logs(want)
    local out = {}
    for _, l in ipairs(ctl.logs) do
      local ok = true
      for k, v in pairs(want) do
        if k == "level" or k == "message" then ok = ok and l[k] == v else ok = ok and l.fields[k] == v end
      end
      if ok then out[#out + 1] = l end
    end
    return out
  end

  -- The sum of the values recorded for metric `name`.
  function ctl.metric_total(name)
    local sum = 0
    for _, m in ipairs(ctl.metrics) do
      if m.name == name then sum = sum + m.value end
    end
    return sum
  end

  local api = {}

  function api.log(level, message, fields)
    assert(LEVELS[level], "imagegen.log: bad level " .. tostring(level))
    assert(type(message) == "string", "imagegen.log: message must be a string")
    assert(fields == nil or type(fields) == "table", "imagegen.log: fields must be a table")
    local copy = {}
    for k, v in pairs(fields or {}) do
      assert(type(k) == "string", "imagegen.log: field names must be strings")
      local t = type(v)
      assert(t == "string" or t == "number" or t == "boolean", "imagegen.log: field " .. k .. " is a " .. t)
      copy[k] = v
    end
    check_utf8(copy, "imagegen.log")
    ctl.logs[#ctl.logs + 1] = { level = level, message = message, fields = copy }
  end

  function api.metric(name, value, unit)
    assert(type(name) == "string" and name:match("^[%w_.-]+$"), "imagegen.metric: bad name")
    assert(type(value) == "number", "imagegen.metric: value must be a number")
    assert(unit == nil or type(unit) == "string", "imagegen.metric: unit must be a string")
    ctl.metrics[#ctl.metrics + 1] = { name = name, value = value, unit = unit }
  end

  function api.clock() return ctl.now end
  function api.monotonic() return ctl.mono end

  function api.sha256(s)
    assert(type(s) == "string", "imagegen.sha256: argument must be a string")
    return M.sha256(s)
  end

  function api.uuid()
    ctl.uuids = ctl.uuids + 1
    return string.format("00000000-0000-4000-8000-%012d", ctl.uuids)
  end

  function api.random(lo, hi)
    assert(math.type(lo) == "integer" and math.type(hi) == "integer" and lo <= hi,
      "imagegen.random: needs integers lo <= hi")
    ctl.random_calls[#ctl.random_calls + 1] = { lo, hi }
    if #ctl.random_queue > 0 then return table.remove(ctl.random_queue, 1) end
    -- A small LCG: deterministic across runs, spread over the whole range.
    rng = (rng * 6364136223846793005 + 1442695040888963407)
    local r = (rng >> 11) % (hi - lo + 1)
    return lo + r
  end

  function api.array(t)
    if t == nil then return setmetatable({}, M.ARRAY_MT) end
    assert(type(t) == "table", "imagegen.array: needs a table")
    if getmetatable(t) == M.ARRAY_MT then return t end
    assert(getmetatable(t) == nil, "imagegen.array: the table already has a metatable")
    return setmetatable(t, M.ARRAY_MT)
  end

  function api.env(name)
    assert(type(name) == "string", "imagegen.env: name must be a string")
    return ctl.env[name]
  end

  -- imagegen.policy_file(name): the text of a file in the policy directory. The runtime does
  -- not offer it yet; a spec asks for it with opts.files (see loader.lua's policy_file).
  if opts.files then
    function api.policy_file(name)
      assert(type(name) == "string", "imagegen.policy_file: name must be a string")
      return opts.files[name]
    end
  end

  function api.date(fmt, epoch)
    assert(type(fmt) == "string", "imagegen.date: format must be a string")
    for conv in fmt:gmatch("%%(.?)") do
      assert(conv ~= "" and ("aAbBcCdDeFgGhHIjmMnprRStTuUVwWxXyYzZ%"):find(conv, 1, true),
        "imagegen.date: unsupported conversion in format " .. fmt)
    end
    return os.date("!" .. fmt, math.floor(epoch or ctl.now))
  end

  return api, ctl
end

return M
