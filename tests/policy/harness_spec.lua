-- harness_spec.lua - the public test harness's own promises (policy-testing/harness.lua): it
-- loads the policy under the runtime's rules, and a failed expectation reads as expected
-- against got, member by member.

local H = require("harness")
local cjson = require("cjson")

describe("the harness", function()
  it("gives admit and respond as the runtime calls them", function()
    local h = H.load()
    local g = H.expect_plan(h, H.get("/generate-image", { prompt = "a cat", seed = "5" }), { expected_images = 1 })
    local a = h.respond(H.success({ generate = g }), H.get("/generate-image", { prompt = "a cat" }))
    H.expect(a, { status = 200, body = { model = g.model, images = { { seed = 5 } } } })
  end)

  it("runs every call under the instruction budget", function()
    local h = H.load()
    h.budget = 1000 -- a spec may lower it after the load
    local ok, err = pcall(h.admit, H.get("/generate-image", { prompt = "a cat" }))
    assert.is_false(ok)
    assert.matches("instruction budget of 1000 exhausted", tostring(err), 1, true)
  end)

  it("reports a policy that does not load", function()
    local err = H.load_error({ config = function(c) c.rate_limit.tiers.anonymous.burst = "five" end })
    assert.matches("rate_limit.tiers.anonymous.burst", err, 1, true)
  end)
end)

describe("a failed expectation", function()
  local answer = { status = 429, headers = { ["Retry-After"] = "6" }, body = { error = { code = "rate_limited" } } }

  it("names each differing member with expected and got, then the whole value", function()
    local diff = H.diff(answer, { status = 200, body = { error = { code = "rate_limited", message = "x" } } })
    assert.are.equal(table.concat({
      "expectation not met for the answer:",
      "  body.error.message  expected \"x\", got nil (absent)",
      "  status              expected 200, got 429",
      "the answer: {body: {error: {code: \"rate_limited\"}}, headers: {Retry-After: \"6\"}, status: 429}",
    }, "\n"), diff)
  end)

  it("matches members the expectation names only, and H.absent and H.contains", function()
    assert.is_nil(H.diff(answer, { status = 429, body = { error = { message = H.absent } } }))
    assert.is_nil(H.diff({ m = "prompt contains a word" }, { m = H.contains("a word") }))
    assert.matches("m  expected a string containing \"zzz\"", H.diff({ m = "abc" }, { m = H.contains("zzz") }), 1, true)
    assert.matches("expected absent, got 429", H.diff(answer, { status = H.absent }), 1, true)
    assert.matches("(value)  expected [1, 2], got [1]", H.diff({ 1 }, { 1, 2 }), 1, true)
    assert.is_nil(H.diff({ v = cjson.null }, { v = cjson.null }))
  end)

  it("fails the spec with that text", function()
    local ok, err = pcall(H.expect, answer, { status = 200 }, "the refusal")
    assert.is_false(ok)
    assert.matches("expectation not met for the refusal:\n  status  expected 200, got 429", tostring(err.message or err), 1, true)
  end)

  it("says what came instead of a refusal or a plan", function()
    local h = H.load()
    local ok, err = pcall(H.expect_refusal, h, H.get("/generate-image", { prompt = "a cat" }), { status = 400 })
    assert.is_false(ok)
    assert.matches("expected a refusal {status: 400}, got a plan for model stability.stable-image-core-v1:1",
      tostring(err.message or err), 1, true)
    ok, err = pcall(H.expect_plan, h, H.get("/generate-image", {}))
    assert.is_false(ok)
    assert.matches("expected a plan, got 400 invalid_prompt", tostring(err.message or err), 1, true)
  end)
end)
