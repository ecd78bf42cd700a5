-- deny_list_spec.lua - our deny-list: listed words and phrases are refused with 400
-- prompt_rejected, whatever their case or spacing; ordinary prompts still generate.

local H = require("harness")
local operator_config = require("operator_config")

local function policy() return H.load({ config = operator_config }) end
local function prompt(text) return H.get("/generate-image", { prompt = text }) end

describe("our deny-list", function()
  it("refuses a listed word without echoing it", function()
    H.expect_refusal(policy(), prompt("a scene full of gore"), {
      status = 400,
      code = "prompt_rejected",
      message = "prompt contains a word or phrase this service does not accept; rephrase it",
    })
  end)

  it("refuses a listed phrase in any case and spacing", function()
    local h = policy()
    for _, text in ipairs({ "a BLOOD   BATH", "Competitor\tBrand logo", "blood, bath" }) do
      H.expect_refusal(h, prompt(text), { status = 400, code = "prompt_rejected" })
    end
  end)

  it("refuses it in a POST body and in the negative prompt too", function()
    local h = policy()
    H.expect_refusal(h, H.post("/generate-image", { prompt = "a cat", negativePrompt = "gore" }),
      { status = 400, code = "prompt_rejected" })
  end)

  it("lets other prompts through, words that merely contain a listed one included", function()
    local h = policy()
    local g = H.expect_plan(h, prompt("a gorege at dawn"), { model = "stability.stable-image-core-v1:1" })
    H.expect(g.body, { prompt = "a gorege at dawn", mode = "text-to-image" }, "the Bedrock body")
  end)

  it("is logged with the entry that matched, and counted", function()
    local h = policy()
    H.expect_refusal(h, prompt("competitor brand"), { code = "prompt_rejected" })
    H.expect(h.ctl.find_logs({ outcome = "prompt_rejected" })[1], { fields = { deny_entry = 3 } }, "the decision log line")
    assert.are.equal(1, h.ctl.metric_total("PromptRejected"))
  end)
end)
