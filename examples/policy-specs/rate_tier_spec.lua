-- rate_tier_spec.lua - our partner tier: the partner's key may spend 20 images at once, then
-- one every 6 seconds; anonymous callers keep the shipped tier.

local H = require("harness")
local operator_config = require("operator_config")

local function policy() return H.load({ config = operator_config }) end

local function generate(n, key)
  local identity = { source_ip = "198.51.100.7", api_key_id = key }
  return H.get("/generate-image", { prompt = "a lighthouse", numberOfImages = tostring(n) }, { identity = identity })
end

describe("the partner tier", function()
  it("allows a burst of 20 images, then answers 429 with Retry-After", function()
    local h = policy()
    for _ = 1, 4 do H.expect_plan(h, generate(5, "partnerkey01"), { expected_images = 5 }) end
    local a = H.expect_refusal(h, generate(1, "partnerkey01"), { status = 429, code = "rate_limited" })
    H.expect(a.headers, { ["Retry-After"] = "6", ["RateLimit-Limit"] = "20" }, "the headers")
  end)

  it("refills one image every 6 seconds", function()
    local h = policy()
    for _ = 1, 4 do h.plan(generate(5, "partnerkey01")) end
    h.ctl.advance(6)
    H.expect_plan(h, generate(1, "partnerkey01"))
    H.expect_refusal(h, generate(1, "partnerkey01"), { status = 429 })
  end)

  it("names the tier in the decision log", function()
    local h = policy()
    h.plan(generate(1, "partnerkey01"))
    H.expect(h.ctl.find_logs({ outcome = "generate" })[1], { fields = { tier = "partner", key_id = "partnerkey01" } },
      "the decision log line")
  end)

  it("leaves anonymous callers on the shipped tier (a burst of 5)", function()
    local h = policy()
    H.expect_plan(h, generate(5, nil), { expected_images = 5 })
    H.expect_refusal(h, generate(1, nil), { status = 429, code = "rate_limited" })
  end)
end)
