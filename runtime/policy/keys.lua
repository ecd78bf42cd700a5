-- keys.lua - API keys presented the way OpenAI clients send them: `Authorization: Bearer KEY`.
--
-- The operator lists keys in config.lua (api_keys.keys) by their SHA-256 only, each with an id
-- and a tier; the keys themselves are never in the configuration, the policy or a log line. A
-- presented key is hashed (imagegen.sha256) and its hash looked up: a hit names the caller by
-- the key's id (rate-limit bucket, tier, the decision log's key_id), a miss is 401
-- invalid_api_key. Without a key the caller is anonymous (by source IP), or 401 when
-- api_keys.required is on. With no key configured at all the header is not looked at, so
-- clients that always send some key (every OpenAI SDK does) work on an open deployment.
-- Only the OpenAI-compatible routes (/v1/...) read the header: the other routes keep API
-- Gateway's own x-api-key mode.

local M = {}

local Keys = {}
Keys.__index = Keys

-- A header longer than this is not looked at any further: no key is that long.
local MAX_HEADER_BYTES = 1024

-- cfg: api_keys settings { required, keys = { { id, sha256, tier } } } (checked by schema.lua);
-- default_tier: the tier of a key that names none (rate_limit.key_tier).
function M.new(cfg, default_tier)
  local self = setmetatable({ required = cfg.required, by_hash = {}, count = 0 }, Keys)
  for _, k in ipairs(cfg.keys) do
    self.by_hash[k.sha256:lower()] = { id = k.id, tier = k.tier or default_tier }
    self.count = self.count + 1
  end
  return self
end

local function problem(message)
  return { status = 401, code = "invalid_api_key", message = message }
end

-- The token of an `Authorization: Bearer TOKEN` header; nil and a sentence for another form.
local function bearer_token(value)
  if type(value) ~= "string" or #value > MAX_HEADER_BYTES then
    return nil, "the Authorization header must be \"Bearer\" followed by an API key"
  end
  local scheme, token = value:match("^%s*(%a+)%s+(%S+)%s*$")
  if not scheme or scheme:lower() ~= "bearer" then
    return nil, "the Authorization header must be \"Bearer\" followed by an API key"
  end
  return token
end

-- Who is calling: { key_id, tier } for a valid key, {} for an anonymous caller this
-- deployment accepts; or nil and a problem { status = 401, code, message }. The message
-- never repeats the key.
function Keys:identify(headers)
  if self.count == 0 then return {} end
  local value = type(headers) == "table" and headers.authorization or nil
  if value == nil or value == "" then
    if self.required then
      return nil, problem("an API key is required: send it as \"Authorization: Bearer KEY\"")
    end
    return {}
  end
  local token, why = bearer_token(value)
  if not token then return nil, problem(why) end
  local hit = self.by_hash[imagegen.sha256(token)]
  if not hit then return nil, problem("the API key is not valid for this service") end
  return { key_id = hit.id, tier = hit.tier }
end

-- True when a key must be presented.
function Keys:enforced()
  return self.count > 0 and self.required
end

return M
