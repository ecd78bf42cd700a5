-- sanitize_spec.lua - what happens to a prompt before it reaches the model: UTF-8, control
-- characters, white space, and the deny-list.

local C = require("contract")
local R = require("requests")

local function get(q) return R.get("/generate-image", q) end
local function post(b) return R.post("/generate-image", b) end

local function sent(h, prompt)
  return h.plan(post({ prompt = prompt })).body.textToImageParams.text
end

local function deny(list)
  return { config = function(c) c.prompt.deny = list end }
end

describe("UTF-8", function()
  local bad = {
    ["a lone continuation byte"] = "ab\x80c",
    ["a truncated sequence"] = "abc\xC3",
    ["an overlong encoding of '/'"] = "a\xC0\xAFb",
    ["a UTF-16 surrogate"] = "a\xED\xA0\x80b",
    ["a code point above U+10FFFF"] = "a\xF4\x90\x80\x80",
    ["a byte that never occurs in UTF-8"] = "a\xFFb",
  }
  for what, text in pairs(bad) do
    it("refuses a prompt with " .. what, function()
      local st, code, msg = C.titan_harness().refusal(get({ prompt = text }))
      assert.are.equal(400, st)
      assert.are.equal("invalid_prompt", code)
      assert.matches("prompt is not valid UTF-8 (bad byte sequence at byte ", msg, 1, true)
    end)
  end

  it("says where the bad sequence is", function()
    local _, _, msg = C.titan_harness().refusal(get({ prompt = "abc\xFF" }))
    assert.matches("at byte 4)", msg, 1, true)
  end)

  it("checks negativePrompt too", function()
    local _, code, msg = C.titan_harness().refusal(get({ prompt = "a cat", negativePrompt = "\xC3(" }))
    assert.are.equal("invalid_prompt", code)
    assert.matches("^negativePrompt is not valid UTF%-8", msg)
  end)

  it("keeps valid multi-byte text as it is", function()
    local text = "un café à Zürich, 東京の夜, кот 🐱‍👤"
    assert.are.equal(text, sent(C.titan_harness(), text))
  end)
end)

describe("control characters", function()
  it("removes C0 controls and DEL", function()
    assert.are.equal("abcdef", sent(C.titan_harness(), "a\1b\27c\127d\0e\31f"))
  end)

  it("removes C1 controls (U+0080..U+009F)", function()
    assert.are.equal("abc", sent(C.titan_harness(), "a\u{80}b\u{9B}c\u{9F}"))
  end)

  it("turns tab, line breaks and NEL into spaces", function()
    assert.are.equal("a b c d e", sent(C.titan_harness(), "a\tb\nc\r\nd\u{85}e"))
  end)

  it("removes invisible formatting characters", function()
    -- zero width space, soft hyphen, word joiner, BOM, bidi override and isolate
    assert.are.equal("abcdefg", sent(C.titan_harness(), "a\u{200B}b\u{AD}c\u{2060}d\u{FEFF}e\u{202E}f\u{2066}g"))
  end)

  it("keeps the zero width joiner that emoji sequences need", function()
    assert.are.equal("👩\u{200D}🚀", sent(C.titan_harness(), "👩\u{200D}🚀"))
  end)

  it("cleans negativePrompt the same way", function()
    local g = C.titan_harness().plan(post({ prompt = "a cat", negativePrompt = "\tblurry\0\n\n  dark " }))
    assert.are.equal("blurry dark", g.body.textToImageParams.negativeText)
  end)
end)

describe("white space", function()
  it("collapses runs and trims the ends", function()
    assert.are.equal("a lighthouse at dusk", sent(C.titan_harness(), "   a  lighthouse \t\t at\n\ndusk  "))
  end)

  it("treats Unicode spaces as white space", function()
    assert.are.equal("a b c d", sent(C.titan_harness(), "\u{3000}a\u{A0}b\u{2003}\u{2003}c\u{202F}d\u{2029}"))
  end)

  it("refuses a prompt that is only white space and controls", function()
    local _, code, msg = C.titan_harness().refusal(get({ prompt = " \t\0\u{200B}\u{3000}\n" }))
    assert.are.equal("invalid_prompt", code)
    assert.matches("prompt is empty once control characters and extra white space are removed", msg, 1, true)
  end)

  it("checks the length after cleaning", function()
    local h = C.titan_harness()
    local padded = string.rep("ab   ", 150) -- 750 characters, 449 once collapsed and trimmed
    assert.are.equal(449, #sent(h, padded))
  end)
end)

describe("deny-list", function()
  it("refuses a listed word with 400 prompt_rejected, without echoing it", function()
    local h = C.titan_harness(deny({ "ass" }))
    local st, code, msg = h.refusal(get({ prompt = "a donkey is an ass" }))
    assert.are.equal(400, st)
    assert.are.equal("prompt_rejected", code)
    assert.are.equal("prompt contains a word or phrase this service does not accept; rephrase it", msg)
  end)

  it("matches whole words only", function()
    local h = C.titan_harness(deny({ "ass" }))
    for _, ok in ipairs({ "a classic glass class", "assess the passage", "bass guitar", "ASSUME nothing" }) do
      assert.are.equal(ok, sent(h, ok))
    end
  end)

  it("ignores case, including Latin-1 and Cyrillic letters", function()
    local h = C.titan_harness(deny({ "ass", "écarlate", "кот" }))
    for _, bad in ipairs({ "ASS", "an Ass here", "ÉCARLATE", "Écarlate rose", "КОТ", "Кот спит" }) do
      local _, code = h.refusal(get({ prompt = bad }))
      assert.are.equal("prompt_rejected", code, bad)
    end
  end)

  it("treats punctuation as word boundaries", function()
    local h = C.titan_harness(deny({ "ass" }))
    for _, bad in ipairs({ "ass!", "(ass)", "bad-ass", "ass—hat", "«ass»", "x.ass.y", "an_ass" }) do
      local _, code = h.refusal(get({ prompt = bad }))
      assert.are.equal("prompt_rejected", code, bad)
    end
  end)

  it("matches phrases across any white space or punctuation between their words", function()
    local h = C.titan_harness(deny({ "blood bath" }))
    for _, bad in ipairs({ "a blood bath", "BLOOD   BATH", "blood\n\tbath", "blood, bath", "blood\u{3000}bath" }) do
      local _, code = h.refusal(get({ prompt = bad }))
      assert.are.equal("prompt_rejected", code, bad)
    end
    for _, ok in ipairs({ "bloodbath", "bath blood", "blood orange bath", "a blood" }) do
      assert.are.equal(ok, sent(h, ok))
    end
  end)

  it("sees through characters that hide words", function()
    local h = C.titan_harness(deny({ "ass" }))
    for _, bad in ipairs({ "a\u{200B}ss", "as\u{AD}s", "a\0ss", "as\u{2060}s" }) do
      local _, code = h.refusal(get({ prompt = bad }))
      assert.are.equal("prompt_rejected", code)
    end
  end)

  it("does not apply to negativePrompt", function()
    local g = C.titan_harness(deny({ "blood" })).plan(post({ prompt = "a calm lake", negativePrompt = "blood" }))
    assert.are.equal("blood", g.body.textToImageParams.negativeText)
  end)

  it("logs the entry's position and counts a metric, but not the prompt", function()
    local h = C.titan_harness(deny({ "fine", "ass" }))
    h.refusal(get({ prompt = "an ass" }))
    local lines = h.ctl.find_logs({ outcome = "prompt_rejected" })
    assert.are.equal(1, #lines)
    assert.are.equal(2, lines[1].fields.deny_entry)
    assert.is_nil(lines[1].fields.prompt)
    assert.are.equal(1, h.ctl.metric_total("PromptRejected"))
  end)

  it("logs the prompt when IMAGEGEN_LOG_PROMPTS=1", function()
    local h = C.titan_harness({ env = { IMAGEGEN_LOG_PROMPTS = "1" }, config = function(c) c.prompt.deny = { "ass" } end })
    h.refusal(get({ prompt = "an  ass" }))
    assert.are.equal("an ass", h.ctl.find_logs({ outcome = "prompt_rejected" })[1].fields.prompt)
  end)

  it("refuses at start-up an entry that holds no word", function()
    local err = require("loader").load_error(deny({ "fine", " -- " }))
    assert.matches("prompt.deny[2] holds no word", err, 1, true)
  end)

  it("is empty by default", function()
    local h = C.titan_harness()
    assert.are.equal("ass", sent(h, "ass"))
  end)
end)

describe("sanitize module", function()
  it("splits text into case-folded words", function()
    local s = C.titan_harness().require("sanitize")
    assert.are.same({ "don", "t", "stop", "café", "écarlate", "2024" }, s.words("Don't STOP—Café, ÉCARLATE 2024!"))
  end)
end)
