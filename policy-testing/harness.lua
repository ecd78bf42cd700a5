-- harness.lua - the policy test harness operators use for their own busted specs, and the one
-- tests/policy uses for the shipped policy.
--
-- It loads a policy folder the way the runtime (bootstrap) does: the same sandbox (string
-- without dump, table, math, utf8, cjson, the runtime's base functions, strict globals, a
-- require that loads only files of the policy folder), the runtime's instruction budget on the
-- load and on every admit and respond, and an `imagegen` table with the runtime's functions
-- (log, metric, clock, monotonic, sha256, uuid, random, array, env, date) whose clocks move only
-- when a spec says so. Every answer and plan is checked against what the runtime accepts.
-- Run specs with `scripts/policy-test [--policy-dir DIR] SPEC_DIR`; runtime/policy/README.md
-- ("Testing your policy") documents this module.
--
--   local H = require("harness")
--   local h = H.load()                                   -- the policy folder under test
--   H.expect(h.admit(H.get("/generate-image", { prompt = "a cat" })), { status = 400 })
--
-- Modules beside it: shim.lua (the imagegen table), loader.lua (sandbox and budget),
-- requests.lua (req, ctx and result builders), contract.lua (the runtime's contract).

local cjson = require("cjson")
local loader = require("loader")
local contract = require("contract")
local R = require("requests")
local shim = require("shim")

local M = {}

-- Loading ----------------------------------------------------------------------------------

-- Loads the policy under test and returns a handle h:
--   h.admit(req [, ctx])      the runtime's admit call: an answer {status, headers, body} or a
--                             plan {generate = ...}, checked against the runtime's contract
--   h.respond(result, req)    the runtime's respond call after a generation (see M.success)
--   h.plan(req)               admit, expecting a plan: returns the generate table
--   h.refusal(req)            admit, expecting an error: status, code, message, answer
--   h.ctl                     the shim's control side: ctl.advance(seconds) moves the clocks,
--                             ctl.logs, ctl.find_logs{...}, ctl.metric_total(name), ctl.env
--   h.require(name)           a module of the loaded policy (its own instance)
-- opts (all optional):
--   policy_dir  the folder to load (default: --policy-dir / IMAGEGEN_POLICY_DIR, else the
--               shipped runtime/policy)
--   config      function(c) changing config.lua's table before the policy is built
--   env         environment variables the policy reads through imagegen.env
--   budget      instruction budget per call (default the runtime's, 10^7)
--   now, monotonic, seed   starting clocks (epoch and monotonic seconds) and the PRNG seed
-- A fresh handle has fresh state: rate-limit buckets never leak between specs.
function M.load(opts)
  return contract.harness(opts)
end

-- The error a policy fails to load with (a config error, a syntax error), or nil.
M.load_error = loader.load_error

-- The policy folder specs load by default.
M.policy_dir = loader.POLICY_DIR

-- The runtime's instruction budget per call.
M.INSTRUCTION_BUDGET = loader.INSTRUCTION_BUDGET

-- Requests, as the runtime builds them from API Gateway's event ---------------------------

-- H.get(path, query, opts): query values are strings (a list of strings for a repeated key).
-- H.post(path, body, opts): body a table (sent as JSON) or raw text.
-- H.request(method, path, opts): any other method (OPTIONS, DELETE...).
-- opts: headers = {name = value}; identity = {source_ip, user_agent, api_key_id};
-- content_type (POST; false sends none); query (POST).
M.get, M.post, M.request, M.ctx = R.get, R.post, R.request, R.ctx

-- Input images (edits): H.image(opts) is the facts table the runtime leaves in req.body for an
-- image (opts: field, format, width, height, alpha, bytes, source; error and message);
-- H.uploaded(key, opts) the facts of a fetched upload; H.multipart(path, fields, opts) an
-- OpenAI images.edit form (files as H.image{source = "multipart"}); H.presigned(answer) the
-- result respond() gets for a presign_post answer. H.ctx{fetched = true} is the context of the
-- second admit() after a fetch; h.fetch(req) admits expecting a fetch and returns its list.
M.image, M.uploaded, M.multipart, M.presigned = R.image, R.uploaded, R.multipart, R.presigned

-- The result respond() receives after a generation: H.success(plan, opts) with opts.missing =
-- {{call, index, reason}}, opts.cached, opts.attempt, opts.fallback_from; H.failure(plan, code,
-- status, message, retry_after) for a failed one (code as the runtime names it: "throttled",
-- "timeout", "model_retired"...).
M.success, M.failure = R.success, R.failure

-- The invocation's request id that every error answer carries.
M.REQUEST_ID = R.REQUEST_ID

-- Readable expectations --------------------------------------------------------------------

local ABSENT = setmetatable({}, { __name = "harness.absent", __tostring = function() return "absent" end })
-- In an expectation: the member must be missing (nil).
M.absent = ABSENT

local CONTAINS = {}
-- In an expectation: a string that contains `text` (a plain find, no pattern).
function M.contains(text)
  return setmetatable({ text = text }, CONTAINS)
end

local function is_array(t)
  local n = #t
  if n == 0 then return getmetatable(t) == shim.ARRAY_MT end
  for k in pairs(t) do
    if math.type(k) ~= "integer" or k < 1 or k > n then return false end
  end
  return true
end

-- A value as JSON-like text with sorted keys, for failure messages.
local function show(v, depth)
  depth = depth or 0
  local t = type(v)
  if v == nil then return "nil (absent)" end
  if v == cjson.null then return "null" end
  if v == ABSENT then return "absent" end
  if t == "string" then return (string.format("%q", v):gsub("\\\n", "\\n")) end
  if t ~= "table" then return tostring(v) end
  if getmetatable(v) == CONTAINS then return "a string containing " .. show(v.text) end
  if depth > 6 then return "{...}" end
  local parts = {}
  if is_array(v) then
    for _, x in ipairs(v) do parts[#parts + 1] = show(x, depth + 1) end
    return "[" .. table.concat(parts, ", ") .. "]"
  end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  for _, k in ipairs(keys) do parts[#parts + 1] = tostring(k) .. ": " .. show(v[k], depth + 1) end
  return "{" .. table.concat(parts, ", ") .. "}"
end
M.show = show

local function compare(want, got, path, out)
  if want == ABSENT then
    if got ~= nil then out[#out + 1] = { path, "absent", show(got) } end
  elseif type(want) == "table" and getmetatable(want) == CONTAINS then
    if type(got) ~= "string" or not got:find(want.text, 1, true) then
      out[#out + 1] = { path, show(want), show(got) }
    end
  elseif type(want) == "table" and want ~= cjson.null then
    if type(got) ~= "table" or got == cjson.null then
      out[#out + 1] = { path, show(want), show(got) }
      return
    end
    if is_array(want) and #want ~= #got then
      out[#out + 1] = { path, show(want), show(got) }
      return
    end
    local keys = {}
    for k in pairs(want) do keys[#keys + 1] = k end
    table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
    for _, k in ipairs(keys) do
      local sub = math.type(k) == "integer" and (path .. "[" .. k .. "]") or (path == "" and k or path .. "." .. k)
      compare(want[k], got[k], sub, out)
    end
  elseif want ~= got then
    out[#out + 1] = { path, show(want), show(got) }
  end
end

-- Fails the spec with `msg`, pointing at the caller's caller: a busted failure (reported as
-- "Failure", like a failed assert) when busted runs the spec, a plain error otherwise.
local function fail(msg, level)
  local busted = package.loaded["busted"]
  if type(busted) == "table" and type(busted.fail) == "function" then busted.fail(msg, level + 1) end
  error(msg, level + 1)
end

local function cut(s, n)
  if #s <= n then return s end
  return s:sub(1, n) .. " ..."
end

-- The readable difference between `got` and the expectation `want` (see M.expect), or nil when
-- `got` matches.
function M.diff(got, want, what)
  local diffs = {}
  compare(want, got, "", diffs)
  if #diffs == 0 then return nil end
  local width = 0
  for _, d in ipairs(diffs) do
    if d[1] == "" then d[1] = "(value)" end
    width = math.max(width, #d[1])
  end
  local lines = { "expectation not met for " .. (what or "the answer") .. ":" }
  for _, d in ipairs(diffs) do
    lines[#lines + 1] = string.format("  %-" .. width .. "s  expected %s, got %s", d[1], d[2], d[3])
  end
  lines[#lines + 1] = (what or "the answer") .. ": " .. cut(show(got), 2000)
  return table.concat(lines, "\n")
end

-- Checks that `got` has every member `want` names (a table matches member by member, so name
-- only what the spec is about; a list must have the same length; H.absent and H.contains(text)
-- as above). On a mismatch it fails with one line per differing member, expected against got,
-- then the whole value:
--
--   expectation not met for the answer:
--     status             expected 429, got 200
--     body.error.code    expected "rate_limited", got nil (absent)
--   the answer: {body: {...}, headers: {...}, status: 200}
--
-- `what` names the value in the message (default "the answer"). Returns `got`.
function M.expect(got, want, what)
  local diff = M.diff(got, want, what)
  if diff then fail(diff, 2) end
  return got
end

-- admit(req) on h, expecting a refusal that matches `want` ({status, code, message} where code
-- and message are the error's; message may be H.contains(text)). Returns the answer.
function M.expect_refusal(h, req, want)
  local a = h.admit(req)
  if a.generate then
    fail("expected a refusal " .. show(want) .. ", got a plan for model " .. tostring(a.generate.model)
      .. ": " .. cut(show(a.generate.body), 600), 2)
  end
  local e = type(a.body) == "table" and type(a.body.error) == "table" and a.body.error or {}
  local got = { status = a.status, code = e.code, message = e.message }
  local diff = M.diff(got, want, "the refusal")
  if diff then fail(diff .. "\nthe answer: " .. cut(show(a), 2000), 2) end
  return a
end

-- admit(req) on h, expecting a plan whose generate table matches `want` (such as {model = ...,
-- expected_images = 2}). Returns the generate table.
function M.expect_plan(h, req, want)
  local a = h.admit(req)
  if not a.generate then
    local e = type(a.body) == "table" and type(a.body.error) == "table" and a.body.error or {}
    fail(string.format("expected a plan, got %d %s: %s", a.status, tostring(e.code), tostring(e.message)), 2)
  end
  local diff = M.diff(a.generate, want or {}, "the plan")
  if diff then fail(diff, 2) end
  return a.generate
end

return M
