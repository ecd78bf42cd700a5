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

  -- API Gateway hands the function no bytes that are not UTF-8: it replaces each with U+FFFD,
  -- in query strings and (without binary media types) in bodies. So both paths see the same
  -- text, and a replacement character in a text parameter means the client's text was not UTF-8.
  it("refuses the replacement characters API Gateway puts for bytes that are not UTF-8, on GET and POST alike", function()
    local h = C.titan_harness()
    local bytes = "caf\xE9 \xFF\xFE"
    local text = R.as_gateway_text(bytes)
    assert.are.equal("caf\u{FFFD} \u{FFFD}\u{FFFD}", text)
    local want = "prompt holds U+FFFD, the replacement character, at character 4: the request carried bytes "
      .. "that are not UTF-8, which API Gateway replaces with it; send the text encoded in UTF-8 "
      .. "(percent-encoded in a query string)"
    local st, code, msg = h.refusal(get({ prompt = text }))
    assert.are.same({ 400, "invalid_prompt", want }, { st, code, msg })
    st, code, msg = h.refusal(R.post("/generate-image", R.as_gateway_text('{"prompt":"' .. bytes .. '"}')))
    assert.are.same({ 400, "invalid_prompt", want }, { st, code, msg })
  end)

  it("refuses a replacement character in negativePrompt too", function()
    local _, code, msg = C.harness().refusal(get({ prompt = "a cat", negativePrompt = R.as_gateway_text("\xFF") }))
    assert.are.equal("invalid_prompt", code)
    assert.matches("^negativePrompt holds U%+FFFD, the replacement character, at character 1:", msg)
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

  it("applies to negativePrompt too, naming it", function()
    for _, h in ipairs({ C.titan_harness(deny({ "blood" })), C.harness(deny({ "blood" })) }) do
      local st, code, msg = h.refusal(post({ prompt = "a calm lake", negativePrompt = "BLOOD, fog" }))
      assert.are.equal(400, st)
      assert.are.equal("prompt_rejected", code)
      assert.are.equal("negativePrompt contains a word or phrase this service does not accept; rephrase it", msg)
      local _, code2 = h.refusal(get({ prompt = "a calm lake", negativePrompt = "ｂｌｏｏｄ" }))
      assert.are.equal("prompt_rejected", code2)
    end
  end)

  it("logs which parameter held the entry", function()
    local h = C.titan_harness(deny({ "blood" }))
    h.refusal(post({ prompt = "a calm lake", negativePrompt = "blood" }))
    local line = h.ctl.find_logs({ outcome = "prompt_rejected" })[1]
    assert.are.same({ 1, "negativePrompt" }, { line.fields.deny_entry, line.fields.parameter })
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
  it("splits text into words in their comparison form", function()
    local s = C.titan_harness().require("sanitize")
    assert.are.same({ "don", "t", "stop", "cafe", "ecarlate", "2024" }, s.words("Don't STOP—Café, ÉCARLATE 2024!"))
  end)
end)

describe("deny-list against words written to slip past it", function()
  -- Each of these spells "kill" (or the entry named) so that a reader sees the word, and each
  -- got past the deny-list before it compared texts in their folded form.
  local bypasses = {
    { "a zero width joiner", "ki\u{200D}ll" },
    { "a zero width non-joiner", "k\u{200C}ill" },
    { "invisible operators U+2061..U+2064", "k\u{2061}i\u{2062}l\u{2063}l\u{2064}" },
    { "the combining grapheme joiner U+034F", "ki\u{34F}ll" },
    { "variation selectors U+FE00..U+FE0F", "k\u{FE0F}il\u{FE00}l" },
    { "variation selectors U+E0100..U+E01EF", "ki\u{E0100}ll\u{E01EF}" },
    { "tag characters U+E0020..U+E007F", "k\u{E0069}\u{E0020}ill\u{E007F}" },
    { "the language tag U+E0001", "\u{E0001}kill" },
    { "a Mongolian vowel separator and a Hangul filler", "k\u{180E}il\u{3164}l" },
    { "an Arabic letter mark and interlinear annotation", "k\u{61C}i\u{FFF9}ll\u{FFFB}" },
    { "fullwidth letters", "ｋｉｌｌ" },
    { "fullwidth capitals", "ＫＩＬＬ" },
    { "Cyrillic look-alikes", "кіӏӏ" },
    { "Cyrillic capitals", "КІӀӀ" },
    { "Latin with one Cyrillic letter", "kіll" },
    { "mathematical bold", "𝐤𝐢𝐥𝐥" },
    { "mathematical script", "𝓀𝒾𝓁𝓁" },
    { "mathematical monospace capitals", "𝙺𝙸𝙻𝙻" },
    { "mathematical double-struck", "𝕜𝕚𝕝𝕝" },
    { "circled letters", "ⓚⓘⓛⓛ" },
    { "circled capitals", "ⓀⒾⓁⓁ" },
    { "parenthesized letters", "⒦⒤⒧⒧" },
    { "squared capitals", "🄺🄸🄻🄻" },
    { "negative squared capitals", "🅺🅸🅻🅻" },
    { "regional indicators", "🇰🇮🇱🇱" },
    { "small capitals", "ᴋɪʟʟ" },
    { "Roman numerals for l", "kiⅼⅼ" },
    { "modifier letters", "ᵏⁱˡˡ" },
    { "a dotless i", "kıll" },
    { "accents", "kíĺľ" },
    { "combining strokes", "k\u{336}i\u{336}l\u{336}l\u{336}" },
    { "a combining enclosing circle", "k\u{20DD}ill" },
    { "mixed forms and case", "Ｋ\u{200D}ıⅬ𝐥" },
  }
  for _, case in ipairs(bypasses) do
    it("sees through " .. case[1], function()
      local h = C.harness(deny({ "kill" }))
      local _, code = h.refusal(post({ prompt = "how to " .. case[2] .. " time" }))
      assert.are.equal("prompt_rejected", code, case[2])
    end)
  end

  it("sees through Greek look-alikes", function()
    local h = C.harness(deny({ "poke" }))
    for _, bad in ipairs({ "ροκε", "ΡΟΚΕ", "рοκе" }) do
      local _, code = h.refusal(post({ prompt = bad }))
      assert.are.equal("prompt_rejected", code, bad)
    end
  end)

  it("sees through ligatures and letterlike symbols", function()
    local h = C.harness(deny({ "fight", "hate", "stiff" }))
    for _, bad in ipairs({ "a ﬁght", "ℎ𝑎𝑡𝑒", "ﬆiﬀ", "ℌ𝔞𝔱𝔢" }) do
      local _, code = h.refusal(post({ prompt = bad }))
      assert.are.equal("prompt_rejected", code, bad)
    end
  end)

  it("folds the entries the same way, so an entry in any of these forms matches them all", function()
    local h = C.harness(deny({ "ＫＩＬＬ", "ca\u{200D}fé" }))
    for _, bad in ipairs({ "kill", "𝐤𝐢𝐥𝐥", "CAFE", "cafe\u{301}", "café" }) do
      local _, code = h.refusal(post({ prompt = bad }))
      assert.are.equal("prompt_rejected", code, bad)
    end
  end)

  it("still matches whole words only", function()
    local h = C.harness(deny({ "kill" }))
    for _, ok in ipairs({ "skill", "ｓｋｉｌｌ", "killer whale", "kilt", "𝐤𝐢𝐥𝐭" }) do
      assert.are.equal("number", type(h.plan(post({ prompt = ok })).attempts[1].calls[1].body.seed), ok)
    end
  end)

  it("never changes the text sent to the model", function()
    local h = C.harness({ config = function(c) c.prompt.deny = { "kill" }; c.rate_limit.enabled = false end })
    for _, text in ipairs({ "ｓｋｉｌｌｆｕｌ 𝐭𝐞𝐱𝐭", "a flag 🇫🇷 and ☺\u{FE0F} and 👩\u{200D}🚀",
      "ⓗⓔⓛⓛⓞ ᴡᴏʀʟᴅ", "Кот и ρόδο", "a\u{2062}b", "x\u{E0041}y" }) do
      assert.are.equal(text, h.plan(post({ prompt = text })).body.prompt, text)
    end
  end)

  it("folds an 8 KB prompt of exotic characters within a tenth of the instruction budget", function()
    local h = C.harness({ budget = 1000000, config = function(c)
      c.prompt.deny = { "kill", "blood bath" }
      c.prompt.max_input_bytes = 10000
    end })
    local piece = "ｓｋｉｌｌ\u{200D}𝐟𝐮𝐥 кіt ⓐ\u{FE0F} "
    local prompt = string.rep(piece, math.floor(9900 / #piece))
    assert.is_true(#prompt > 8192)
    assert.are.equal("number", type(h.plan(post({ prompt = prompt })).attempts[1].calls[1].body.seed))
    local _, code = h.refusal(post({ prompt = prompt .. " 𝐛𝐥𝐨𝐨𝐝 𝐛𝐚𝐭𝐡" }))
    assert.are.equal("prompt_rejected", code)
  end)
end)

describe("the fold table", function()
  local fold = C.harness().require("fold")

  -- UnicodeData.txt (Debian's unicode-data package) names every format character.
  local ucd = io.open("/usr/share/unicode/UnicodeData.txt")
  local cf_test = ucd and it or pending
  cf_test("lists every format character (Cf) of UnicodeData.txt", function()
    local listed = {}
    for _, r in ipairs(fold.FORMAT_CHARACTERS) do
      for cp = r[1], r[2] or r[1] do listed[cp] = true end
    end
    local count = 0
    for line in ucd:lines() do
      local cp, category = line:match("^(%x+);[^;]*;(%a%a);")
      if category == "Cf" then
        count = count + 1
        assert.is_true(listed[tonumber(cp, 16)] == true, "U+" .. cp .. " is Cf but not listed")
        listed[tonumber(cp, 16)] = nil
      end
    end
    ucd:close()
    assert.is_nil(next(listed), "listed but not Cf")
    assert.is_true(count >= 170)
  end)

  it("removes every format character", function()
    for _, r in ipairs(fold.FORMAT_CHARACTERS) do
      for cp = r[1], r[2] or r[1] do
        assert.are.equal("ab", fold.fold("a" .. utf8.char(cp) .. "b"), string.format("U+%04X", cp))
      end
    end
    for cp = 0xE0000, 0xE0FFF do assert.are.equal("ab", fold.fold("a" .. utf8.char(cp) .. "b")) end
  end)

  it("folds every letter of the mathematical Latin alphabets", function()
    local alphabet = "abcdefghijklmnopqrstuvwxyz"
    for k = 0, 12 do
      for i = 0, 51 do
        local cp = 0x1D400 + 52 * k + i
        local want = alphabet:sub(i % 26 + 1, i % 26 + 1)
        local got = fold.fold(utf8.char(cp))
        -- the unassigned gaps fold too; the letters of the gaps are letterlike symbols
        assert.are.equal(want, got, string.format("U+%04X", cp))
      end
    end
  end)

  it("maps only to lower case", function()
    for from, to in pairs(fold.map) do
      assert.is_nil(to:find("%u"), from)
      assert.is_true(utf8.len(to) ~= nil, from)
    end
  end)
end)
