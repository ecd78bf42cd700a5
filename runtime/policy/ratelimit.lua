-- ratelimit.lua - token buckets per client, kept in this Lua state.
--
-- A client is its API key id when API Gateway reports one (or the id of the bearer key it
-- presented on the OpenAI-compatible routes), else its source IP. Each client
-- has a bucket of `burst` tokens refilled at `rate` tokens per second, by tier. The buckets
-- live as long as the execution environment, so limits hold per container only: two warm
-- containers each grant the full budget. Global limits belong to API Gateway usage plans or
-- the shared store (backend "dynamodb": M.shared, counted by the runtime).
--
-- Memory is bounded: buckets form a least-recently-used list; a bucket that has refilled to
-- full carries no information and is dropped from the cold end as requests pass, and beyond
-- max_buckets the least recently used bucket is dropped even if not full (that client then
-- starts over with a full bucket). Every operation is O(1).

local text = require("text")

local M = {}

local Limiter = {}
Limiter.__index = Limiter

-- Tolerance for the floating-point sums of refills.
local EPSILON = 1e-9
-- Full buckets looked at (and dropped) at the cold end per request.
local SWEEP = 2
local MAX_ID_BYTES = 128

-- opts: { tiers = {name -> {rate, burst}}, keys = {key id -> tier}, key_tier, anonymous_tier,
--         max_buckets }; clock: a function returning monotonic seconds.
function M.new(opts, clock)
  return setmetatable({
    opts = opts, clock = clock, buckets = {}, count = 0, head = nil, tail = nil, evicted = 0,
  }, Limiter)
end

-- Who a request's identity names, whether or not limits are on: "bearer:<key id>" for a key
-- presented as a bearer token (keys.lua), "key:<API Gateway key id>", else "ip:<source IP>".
-- The bucket key below, and the owner of uploads (edit.lua).
function M.client(identity)
  identity = type(identity) == "table" and identity or {}
  local bearer = identity.bearer_key_id
  if type(bearer) == "string" and bearer ~= "" then
    return "bearer:" .. text.clean_for_output(bearer, MAX_ID_BYTES), "bearer"
  end
  local key_id = identity.api_key_id
  if type(key_id) == "string" and key_id ~= "" then
    return "key:" .. text.clean_for_output(key_id, MAX_ID_BYTES), "key"
  end
  local ip = identity.source_ip
  if type(ip) ~= "string" or ip == "" then ip = "unknown" end
  return "ip:" .. text.clean_for_output(ip, MAX_ID_BYTES), "ip"
end

-- The bucket key and tier name for a request's identity under settings `opts` (rate_limit). A
-- key presented as a bearer token (keys.lua) is its own bucket, in the tier its api_keys entry
-- names.
function M.identify(opts, identity)
  identity = identity or {}
  local key, kind = M.client(identity)
  if kind == "bearer" then
    local tier = identity.tier
    if type(tier) ~= "string" or not opts.tiers[tier] then tier = opts.key_tier end
    return key, tier
  elseif kind == "key" then
    return key, opts.keys[identity.api_key_id] or opts.key_tier
  end
  return key, opts.anonymous_tier
end

function Limiter:identify(identity)
  return M.identify(self.opts, identity)
end

-- The shared (dynamodb) backend's window of a tier, in whole seconds: its own, else the time
-- the bucket takes to refill from empty (burst / rate, rounded up), so that both backends
-- allow the same average rate.
function M.window(tier)
  if tier.window then return tier.window end
  return math.max(1, math.min(86400, math.ceil(tier.burst / tier.rate - EPSILON)))
end

-- What the runtime counts for the dynamodb backend: { key, limit, window_s, cost, on_error }
-- (runtime/policy/README.md, "Rate limits"), plus the tier; or over_burst as take() says it.
function M.shared(opts, identity, cost)
  local key, tier_name = M.identify(opts, identity)
  local tier = opts.tiers[tier_name]
  local d = { key = key, tier = tier_name, limit = tier.burst, cost = cost }
  if cost > tier.burst then
    d.over_burst, d.remaining, d.reset = true, tier.burst, 0
    return d
  end
  d.count = { key = key, limit = tier.burst, window_s = M.window(tier), cost = cost, on_error = opts.on_store_error }
  return d
end

local function unlink(self, b)
  if b.prev then b.prev.next = b.next else self.head = b.next end
  if b.next then b.next.prev = b.prev else self.tail = b.prev end
  b.prev, b.next = nil, nil
end

local function push_front(self, b)
  b.next = self.head
  if self.head then self.head.prev = b end
  self.head = b
  if not self.tail then self.tail = b end
end

local function drop(self, b)
  unlink(self, b)
  self.buckets[b.key] = nil
  self.count = self.count - 1
end

local function refill(b, now)
  local dt = now - b.stamp
  if dt > 0 then
    b.tokens = math.min(b.burst, b.tokens + dt * b.rate)
    b.stamp = now
  end
end

local function is_full(b, now)
  return b.tokens + math.max(0, now - b.stamp) * b.rate >= b.burst - EPSILON
end

-- Drops up to `n` buckets at the cold end that have refilled completely.
local function sweep(self, now, n)
  for _ = 1, n do
    local b = self.tail
    if not b or not is_full(b, now) then return end
    drop(self, b)
  end
end

local function seconds_until(tokens_needed, rate)
  if tokens_needed <= EPSILON then return 0 end
  return math.ceil(tokens_needed / rate - EPSILON)
end

-- Takes `cost` tokens from the client's bucket. Returns a decision:
--   { allowed = bool, key, tier, limit (burst), remaining (whole tokens left), reset (seconds
--     until the bucket is full), retry_after (seconds, >= 1, when not allowed),
--     over_burst = true when cost exceeds the tier's burst (nothing is taken) }
function Limiter:take(identity, cost)
  local now = self.clock()
  local key, tier_name = self:identify(identity)
  local tier = self.opts.tiers[tier_name]
  local d = { key = key, tier = tier_name, limit = tier.burst, cost = cost }
  if cost > tier.burst then
    d.allowed, d.over_burst, d.remaining, d.reset = false, true, tier.burst, 0
    return d
  end

  sweep(self, now, SWEEP)
  local b = self.buckets[key]
  if b then
    unlink(self, b)
    refill(b, now)
  else
    b = { key = key, tokens = tier.burst, stamp = now, rate = tier.rate, burst = tier.burst }
    self.buckets[key] = b
    self.count = self.count + 1
  end
  push_front(self, b)
  while self.count > self.opts.max_buckets and self.tail ~= b do
    drop(self, self.tail)
    self.evicted = self.evicted + 1
  end

  if b.tokens + EPSILON >= cost then
    b.tokens = math.max(0, b.tokens - cost)
    d.allowed = true
  else
    d.allowed = false
    d.retry_after = math.max(1, seconds_until(cost - b.tokens, b.rate))
  end
  d.remaining = math.floor(b.tokens + EPSILON)
  d.reset = seconds_until(b.burst - b.tokens, b.rate)
  return d
end

-- Gives `cost` tokens back to a bucket (never above its burst). Unknown keys are ignored.
function Limiter:refund(key, cost)
  local b = self.buckets[key]
  if not b then return end
  refill(b, self.clock())
  b.tokens = math.min(b.burst, b.tokens + cost)
end

-- Number of buckets held.
function Limiter:size()
  return self.count
end

-- Buckets dropped while not yet full since the last call (and resets the count).
function Limiter:take_evicted()
  local n = self.evicted
  self.evicted = 0
  return n
end

-- The standard headers for a decision (RateLimit-* and, when refused, Retry-After).
function M.headers(d)
  local h = {
    ["RateLimit-Limit"] = string.format("%d", d.limit),
    ["RateLimit-Remaining"] = string.format("%d", d.remaining),
    ["RateLimit-Reset"] = string.format("%d", d.reset),
  }
  if d.retry_after then
    h["Retry-After"] = string.format("%d", d.retry_after)
  end
  return h
end

return M
