-- fold.lua - the form in which the deny-list compares text: what a reader sees, not the bytes.
--
-- A denied word must not get past the deny-list by being written differently: with invisible
-- characters inside it (k<U+200D>ill, k<U+2062>ill, tag characters), in fullwidth, mathematical,
-- circled or small-capital letters (ｋｉｌｌ, 𝐤𝐢𝐥𝐥, ⓚⓘⓛⓛ, ᴋɪʟʟ), with look-alike Cyrillic or Greek
-- letters (кіӏӏ, ροκε), with accents or combining strokes (kíll, k̶i̶l̶l̶), or in another case.
-- fold(s) maps such text to one comparison form, for the comparison only: the text sent to the
-- model is never changed by it.
--
-- The form, in order of the tables below:
--   * removed: every format character (General_Category Cf, from UnicodeData.txt of Unicode
--     15.0), every other default-ignorable code point (Default_Ignorable_Code_Point: the
--     combining grapheme joiner U+034F, the variation selectors, the Hangul fillers, ...), all of
--     U+E0000..U+E0FFF (tags, variation selectors 17-256, and the reserved rest of that block),
--     and the combining marks of the diacritical-mark blocks (so that accents and strokes drawn
--     over letters do not split or hide them);
--   * folded to ASCII (a documented subset of NFKC, plus a few forms that only look alike):
--     fullwidth ASCII (U+FF01..U+FF5E), the mathematical alphanumeric symbols
--     (U+1D400..U+1D7FF) and the letterlike symbols that stand in their gaps (ℎ, ℬ, ℂ...),
--     circled, parenthesized, squared and negative letters and digits, regional indicators,
--     superscript, subscript and modifier letters and digits, Roman numerals, the ligatures
--     (ﬀ ﬁ ﬂ ﬃ ﬄ ﬅ ﬆ, Ĳ, Ǆ, Ǉ, Ǌ, Ǳ, æ, œ, ß, ſ);
--   * look-alikes (the common confusables): Cyrillic and Greek letters that look like Latin
--     ones (а е о р с у х і ј ѕ ԁ ԛ ԝ һ ӏ and capitals; ο α ν ρ τ ι κ υ χ ω and capitals), Latin
--     small capitals and IPA letters (ᴋ ɪ ʟ ı ɑ ɡ), a few Armenian letters (օ ս հ ո);
--   * Latin letters with diacritics (Latin-1, Latin Extended-A and -B, Latin Extended
--     Additional) to their base letter, from their canonical decompositions;
--   * case: ASCII, and what is left of Latin, Greek and Cyrillic capitals, to lower case.
--
-- fold() is two gsub calls over the text and one table lookup per non-ASCII character, all in
-- C: bounded work per byte and a handful of Lua instructions per call, whatever the text. The
-- table (about 3,000 entries, some 250 KB) is built once, when the policy loads.

local M = {}

-- Format characters: General_Category=Cf, Unicode 15.0, every range.
M.FORMAT_CHARACTERS = {
  { 0x00AD }, -- SOFT HYPHEN
  { 0x0600, 0x0605 }, -- ARABIC NUMBER SIGN..ARABIC NUMBER MARK ABOVE
  { 0x061C }, -- ARABIC LETTER MARK
  { 0x06DD }, -- ARABIC END OF AYAH
  { 0x070F }, -- SYRIAC ABBREVIATION MARK
  { 0x0890, 0x0891 }, -- ARABIC POUND MARK ABOVE..ARABIC PIASTRE MARK ABOVE
  { 0x08E2 }, -- ARABIC DISPUTED END OF AYAH
  { 0x180E }, -- MONGOLIAN VOWEL SEPARATOR
  { 0x200B, 0x200F }, -- ZERO WIDTH SPACE, ZWNJ, ZWJ, LRM, RLM
  { 0x202A, 0x202E }, -- bidi embeddings and overrides
  { 0x2060, 0x2064 }, -- WORD JOINER, FUNCTION APPLICATION, INVISIBLE TIMES, SEPARATOR, PLUS
  { 0x2066, 0x206F }, -- bidi isolates, deprecated format characters
  { 0xFEFF }, -- ZERO WIDTH NO-BREAK SPACE (BOM)
  { 0xFFF9, 0xFFFB }, -- interlinear annotation
  { 0x110BD }, -- KAITHI NUMBER SIGN
  { 0x110CD }, -- KAITHI NUMBER SIGN ABOVE
  { 0x13430, 0x1343F }, -- Egyptian hieroglyph format controls
  { 0x1BCA0, 0x1BCA3 }, -- shorthand format controls
  { 0x1D173, 0x1D17A }, -- musical symbol format controls
  { 0xE0001 }, -- LANGUAGE TAG
  { 0xE0020, 0xE007F }, -- TAG SPACE..CANCEL TAG
}

-- Default-ignorable code points that are not Cf (Default_Ignorable_Code_Point, Unicode 15.0):
-- invisible when rendered, so as able to hide a word. U+E0000..U+E0FFF is removed whole by
-- PLANE14_PATTERN instead of being listed.
M.OTHER_INVISIBLE = {
  { 0x034F }, -- COMBINING GRAPHEME JOINER
  { 0x115F, 0x1160 }, -- HANGUL CHOSEONG FILLER, HANGUL JUNGSEONG FILLER
  { 0x17B4, 0x17B5 }, -- KHMER VOWEL INHERENT AQ, AA
  { 0x180B, 0x180D }, -- MONGOLIAN FREE VARIATION SELECTORS ONE..THREE
  { 0x180F }, -- MONGOLIAN FREE VARIATION SELECTOR FOUR
  { 0x2065 }, -- reserved, default ignorable
  { 0x3164 }, -- HANGUL FILLER
  { 0xFE00, 0xFE0F }, -- VARIATION SELECTOR-1..16
  { 0xFFA0 }, -- HALFWIDTH HANGUL FILLER
  { 0xFFF0, 0xFFF8 }, -- reserved, default ignorable
}

-- U+E0000..U+E0FFF in UTF-8: tags, VARIATION SELECTOR-17..256 (U+E0100..U+E01EF), reserved.
M.PLANE14_PATTERN = "\xF3\xA0[\x80-\xBF][\x80-\xBF]"

-- Combining marks drawn over or under a letter (General_Category Mn in these blocks):
-- diacritics, strokes, enclosing circles and keycaps.
M.COMBINING_MARKS = {
  { 0x0300, 0x036F }, -- Combining Diacritical Marks
  { 0x1AB0, 0x1AFF }, -- Combining Diacritical Marks Extended
  { 0x1DC0, 0x1DFF }, -- Combining Diacritical Marks Supplement
  { 0x20D0, 0x20FF }, -- Combining Diacritical Marks for Symbols
  { 0xFE20, 0xFE2F }, -- Combining Half Marks
}

-- Runs of code points that fold to consecutive ASCII characters: { first, last, ASCII of first }.
M.RUNS = {
  { 0xFF01, 0xFF5E, "!" }, -- FULLWIDTH EXCLAMATION MARK..FULLWIDTH TILDE
  { 0x2460, 0x2468, "1" }, -- ①..⑨
  { 0x2474, 0x247C, "1" }, -- ⑴..⑼
  { 0x2488, 0x2490, "1" }, -- ⒈..⒐
  { 0x249C, 0x24B5, "a" }, -- ⒜..⒵
  { 0x24B6, 0x24CF, "a" }, -- Ⓐ..Ⓩ
  { 0x24D0, 0x24E9, "a" }, -- ⓐ..ⓩ
  { 0x24EA, 0x24EA, "0" }, -- ⓪
  { 0x24F5, 0x24FD, "1" }, -- ⓵..⓽
  { 0x24FF, 0x24FF, "0" }, -- ⓿
  { 0x2776, 0x277E, "1" }, -- ❶..❾
  { 0x2780, 0x2788, "1" }, -- ➀..➈
  { 0x278A, 0x2792, "1" }, -- ➊..➒
  { 0x1F100, 0x1F100, "0" }, -- 🄀
  { 0x1F101, 0x1F10A, "0" }, -- 🄁..🄊 (digit comma)
  { 0x1F110, 0x1F129, "a" }, -- 🄐..🄩 parenthesized capitals
  { 0x1F130, 0x1F149, "a" }, -- 🄰..🅉 squared capitals
  { 0x1F150, 0x1F169, "a" }, -- 🅐..🅩 negative circled capitals
  { 0x1F170, 0x1F189, "a" }, -- 🅰..🆉 negative squared capitals
  { 0x1F1E6, 0x1F1FF, "a" }, -- regional indicators 🇦..🇿
  { 0x1D7CE, 0x1D7D7, "0" }, -- mathematical digits, five styles
  { 0x1D7D8, 0x1D7E1, "0" },
  { 0x1D7E2, 0x1D7EB, "0" },
  { 0x1D7EC, 0x1D7F5, "0" },
  { 0x1D7F6, 0x1D7FF, "0" },
}

-- The thirteen Latin alphabets of the Mathematical Alphanumeric Symbols: 52 code points each
-- (A..Z, a..z) from U+1D400 (bold) to U+1D670 (monospace). Their gaps are unassigned; the
-- letters that fill them are in LETTERLIKE.
M.MATH_LATIN = { first = 0x1D400, alphabets = 13 }
-- The five Greek alphabets, 58 code points each from U+1D6A8: Α..Ω (with ϴ after Ρ), ∇,
-- α..ω (with ς after ρ), ∂, ϵ ϑ ϰ ϕ ϱ ϖ. Folded to the Greek letter, then as Greek.
M.MATH_GREEK = { first = 0x1D6A8, alphabets = 5,
  letters = "ΑΒΓΔΕΖΗΘΙΚΛΜΝΞΟΠΡϴΣΤΥΦΧΨΩ∇αβγδεζηθικλμνξοπρςστυφχψω∂ϵϑϰϕϱϖ" }
M.MATH_DOTLESS = { [0x1D6A4] = "i", [0x1D6A5] = "j" }

-- Single code points and what they fold to (a lower-case ASCII string, or another character
-- that folds on).
M.SINGLES = {
  -- letterlike symbols (the mathematical alphabets' gaps, and their kin)
  [0x2102] = "c", [0x210A] = "g", [0x210B] = "h", [0x210C] = "h", [0x210D] = "h", [0x210E] = "h",
  [0x210F] = "h", [0x2110] = "i", [0x2111] = "i", [0x2112] = "l", [0x2113] = "l", [0x2115] = "n",
  [0x2119] = "p", [0x211A] = "q", [0x211B] = "r", [0x211C] = "r", [0x211D] = "r", [0x2124] = "z",
  [0x2128] = "z", [0x212A] = "k", [0x212B] = "a", [0x212C] = "b", [0x212D] = "c", [0x212F] = "e",
  [0x2130] = "e", [0x2131] = "f", [0x2133] = "m", [0x2134] = "o", [0x2139] = "i", [0x2145] = "d",
  [0x2146] = "d", [0x2147] = "e", [0x2148] = "i", [0x2149] = "j",
  -- ligatures and letters written as two
  [0xFB00] = "ff", [0xFB01] = "fi", [0xFB02] = "fl", [0xFB03] = "ffi", [0xFB04] = "ffl",
  [0xFB05] = "st", [0xFB06] = "st", [0x0132] = "ij", [0x0133] = "ij", [0x01C4] = "dz",
  [0x01C5] = "dz", [0x01C6] = "dz", [0x01C7] = "lj", [0x01C8] = "lj", [0x01C9] = "lj",
  [0x01CA] = "nj", [0x01CB] = "nj", [0x01CC] = "nj", [0x01F1] = "dz", [0x01F2] = "dz",
  [0x01F3] = "dz", [0x00C6] = "ae", [0x00E6] = "ae", [0x0152] = "oe", [0x0153] = "oe",
  [0x00DF] = "ss", [0x1E9E] = "ss", [0x017F] = "s",
  -- Latin letters with a stroke or bar, which have no decomposition
  [0x00D8] = "o", [0x00F8] = "o", [0x0110] = "d", [0x0111] = "d", [0x0126] = "h", [0x0127] = "h",
  [0x0141] = "l", [0x0142] = "l", [0x0166] = "t", [0x0167] = "t", [0x0180] = "b", [0x0197] = "i",
  [0x0268] = "i", [0x0289] = "u", [0x01B5] = "z", [0x01B6] = "z",
  -- Latin small capitals and IPA letters that look like ASCII letters
  [0x0131] = "i", [0x0237] = "j", [0x0251] = "a", [0x0261] = "g", [0x0269] = "i", [0x026A] = "i",
  [0x029F] = "l", [0x0274] = "n", [0x0280] = "r", [0x028F] = "y", [0x029C] = "h", [0x0262] = "g",
  [0x0299] = "b", [0x01C0] = "l", [0x1D00] = "a", [0x1D04] = "c", [0x1D05] = "d", [0x1D07] = "e",
  [0xA730] = "f", [0x1D0A] = "j", [0x1D0B] = "k", [0x1D0D] = "m", [0x1D0F] = "o", [0x1D18] = "p",
  [0x01EB] = "q", [0xA731] = "s", [0x1D1B] = "t", [0x1D1C] = "u", [0x1D20] = "v", [0x1D21] = "w",
  [0x1D22] = "z",
  -- Cyrillic that looks Latin (capitals and small letters)
  [0x0410] = "a", [0x0412] = "b", [0x0415] = "e", [0x041A] = "k", [0x041C] = "m", [0x041D] = "h",
  [0x041E] = "o", [0x0420] = "p", [0x0421] = "c", [0x0422] = "t", [0x0423] = "y", [0x0425] = "x",
  [0x0405] = "s", [0x0406] = "i", [0x0407] = "i", [0x0408] = "j", [0x0400] = "e", [0x0401] = "e",
  [0x051A] = "q", [0x051C] = "w", [0x04BA] = "h", [0x04C0] = "l", [0x04AE] = "y", [0x0500] = "d",
  [0x0474] = "v",
  [0x0430] = "a", [0x0432] = "b", [0x0435] = "e", [0x043A] = "k", [0x043C] = "m", [0x043D] = "h",
  [0x043E] = "o", [0x0440] = "p", [0x0441] = "c", [0x0442] = "t", [0x0443] = "y", [0x0445] = "x",
  [0x0455] = "s", [0x0456] = "i", [0x0457] = "i", [0x0458] = "j", [0x0450] = "e", [0x0451] = "e",
  [0x051B] = "q", [0x051D] = "w", [0x04BB] = "h", [0x04CF] = "l", [0x04AF] = "y", [0x0501] = "d",
  [0x0475] = "v",
  -- Greek that looks Latin (capitals, small letters, and the accented ones)
  [0x0391] = "a", [0x0392] = "b", [0x0395] = "e", [0x0396] = "z", [0x0397] = "h", [0x0399] = "i",
  [0x039A] = "k", [0x039C] = "m", [0x039D] = "n", [0x039F] = "o", [0x03A1] = "p", [0x03A4] = "t",
  [0x03A5] = "y", [0x03A7] = "x", [0x03F9] = "c", [0x037F] = "j", [0x03AA] = "i", [0x03AB] = "y",
  [0x0386] = "a", [0x0388] = "e", [0x0389] = "h", [0x038A] = "i", [0x038C] = "o", [0x038E] = "y",
  [0x03B1] = "a", [0x03B2] = "b", [0x03B3] = "y", [0x03B5] = "e", [0x03B7] = "n", [0x03B9] = "i",
  [0x03BA] = "k", [0x03BC] = "u", [0x03BD] = "v", [0x03BF] = "o", [0x03C1] = "p", [0x03C4] = "t",
  [0x03C5] = "u", [0x03C7] = "x", [0x03C9] = "w", [0x03F2] = "c", [0x03F3] = "j", [0x03D0] = "b",
  [0x03F5] = "e", [0x03F1] = "p", [0x03F0] = "k", [0x00B5] = "u",
  [0x03AC] = "a", [0x03AD] = "e", [0x03AE] = "n", [0x03AF] = "i", [0x03CC] = "o", [0x03CD] = "u",
  [0x03CE] = "w", [0x03CA] = "i", [0x03CB] = "u", [0x0390] = "i", [0x03B0] = "u",
  [0x03C2] = "σ", -- final sigma compares as sigma
  -- Armenian that looks Latin
  [0x0585] = "o", [0x057D] = "u", [0x0570] = "h", [0x0578] = "n",
  -- superscript, subscript and modifier letters and digits (their <super>/<sub> decomposition)
  [0x00AA] = "a", [0x00B2] = "2", [0x00B3] = "3", [0x00B9] = "1", [0x00BA] = "o", [0x02B0] = "h",
  [0x02B2] = "j", [0x02B3] = "r", [0x02B7] = "w", [0x02B8] = "y", [0x02E1] = "l", [0x02E2] = "s",
  [0x02E3] = "x", [0x1D2C] = "a", [0x1D2E] = "b", [0x1D30] = "d", [0x1D31] = "e", [0x1D33] = "g",
  [0x1D34] = "h", [0x1D35] = "i", [0x1D36] = "j", [0x1D37] = "k", [0x1D38] = "l", [0x1D39] = "m",
  [0x1D3A] = "n", [0x1D3C] = "o", [0x1D3E] = "p", [0x1D3F] = "r", [0x1D40] = "t", [0x1D41] = "u",
  [0x1D42] = "w", [0x1D43] = "a", [0x1D47] = "b", [0x1D48] = "d", [0x1D49] = "e", [0x1D4D] = "g",
  [0x1D4F] = "k", [0x1D50] = "m", [0x1D52] = "o", [0x1D56] = "p", [0x1D57] = "t", [0x1D58] = "u",
  [0x1D5B] = "v", [0x1D62] = "i", [0x1D63] = "r", [0x1D64] = "u", [0x1D65] = "v", [0x1D9C] = "c",
  [0x1DA0] = "f", [0x1DBB] = "z", [0x2070] = "0", [0x2071] = "i", [0x2074] = "4", [0x2075] = "5",
  [0x2076] = "6", [0x2077] = "7", [0x2078] = "8", [0x2079] = "9", [0x207F] = "n", [0x2080] = "0",
  [0x2081] = "1", [0x2082] = "2", [0x2083] = "3", [0x2084] = "4", [0x2085] = "5", [0x2086] = "6",
  [0x2087] = "7", [0x2088] = "8", [0x2089] = "9", [0x2090] = "a", [0x2091] = "e", [0x2092] = "o",
  [0x2093] = "x", [0x2095] = "h", [0x2096] = "k", [0x2097] = "l", [0x2098] = "m", [0x2099] = "n",
  [0x209A] = "p", [0x209B] = "s", [0x209C] = "t",
}

-- Roman numerals U+2160..U+216F and U+2170..U+217F (capital and small): their NFKC letters.
M.ROMAN = { "i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi", "xii", "l", "c", "d", "m" }

-- Latin letters with diacritics: the base letter of each code point in rows of 16 from the
-- row's first code point, from the canonical decompositions ('.': no base letter here).
M.LATIN_BASE = {
  [0x00C0] = "aaaaaa.ceeeeiiii", [0x00D0] = ".nooooo..uuuuy..",
  [0x00E0] = "aaaaaa.ceeeeiiii", [0x00F0] = ".nooooo..uuuuy.y",
  [0x0100] = "aaaaaaccccccccdd", [0x0110] = "..eeeeeeeeeegggg",
  [0x0120] = "gggghh..iiiiiiii", [0x0130] = "i...jjkk.llllll.",
  [0x0140] = "...nnnnnn...oooo", [0x0150] = "oo..rrrrrrssssss",
  [0x0160] = "sstttt..uuuuuuuu", [0x0170] = "uuuuwwyyyzzzzzz.",
  [0x01A0] = "oo.............u", [0x01B0] = "u...............",
  [0x01C0] = ".............aai", [0x01D0] = "ioouuuuuuuuuu.aa",
  [0x01E0] = "aa....ggkkoooo..", [0x01F0] = "j...gg..nnaa....",
  [0x0200] = "aaaaeeeeiiiioooo", [0x0210] = "rrrruuuusstt..hh",
  [0x0220] = "......aaeeoooooo", [0x0230] = "ooyy............",
  [0x1E00] = "aabbbbbbccdddddd", [0x1E10] = "ddddeeeeeeeeeeff",
  [0x1E20] = "gghhhhhhhhhhiiii", [0x1E30] = "kkkkkkllllllllmm",
  [0x1E40] = "mmmmnnnnnnnnoooo", [0x1E50] = "oooopppprrrrrrrr",
  [0x1E60] = "sssssssssstttttt", [0x1E70] = "ttuuuuuuuuuuvvvv",
  [0x1E80] = "wwwwwwwwwwxxxxyy", [0x1E90] = "zzzzzzhtwy......",
  [0x1EA0] = "aaaaaaaaaaaaaaaa", [0x1EB0] = "aaaaaaaaeeeeeeee",
  [0x1EC0] = "eeeeeeeeiiiioooo", [0x1ED0] = "oooooooooooooooo",
  [0x1EE0] = "oooouuuuuuuuuuuu", [0x1EF0] = "uuyyyyyyyy......",
}

-- Capitals folded to small letters when nothing above folds them: { first, last, offset }.
M.CASE_RUNS = {
  { 0x00C0, 0x00DE, 0x20 }, -- Latin-1 capitals (Þ -> þ; × U+00D7 is skipped below)
  { 0x0391, 0x03A9, 0x20 }, -- Greek capitals (U+03A2 is unassigned)
  { 0x0410, 0x042F, 0x20 }, -- Cyrillic А..Я
  { 0x0400, 0x040F, 0x50 }, -- Cyrillic Ѐ..Џ
}

-- Builds the table from code point (as UTF-8) to its comparison form.
local function build()
  local map = {}
  local function set(cp, to)
    if map[utf8.char(cp)] == nil then map[utf8.char(cp)] = to end
  end
  for _, list in ipairs({ M.FORMAT_CHARACTERS, M.OTHER_INVISIBLE, M.COMBINING_MARKS }) do
    for _, r in ipairs(list) do
      for cp = r[1], r[2] or r[1] do set(cp, "") end
    end
  end
  for cp, to in pairs(M.SINGLES) do set(cp, to) end
  for cp, to in pairs(M.MATH_DOTLESS) do set(cp, to) end
  for _, r in ipairs(M.RUNS) do
    local base = r[3]:byte()
    for cp = r[1], r[2] do set(cp, string.char(base + cp - r[1]):lower()) end
  end
  for k = 0, M.MATH_LATIN.alphabets - 1 do
    local first = M.MATH_LATIN.first + 52 * k
    for i = 0, 25 do
      set(first + i, string.char(97 + i))
      set(first + 26 + i, string.char(97 + i))
    end
  end
  local greek = {}
  for _, c in utf8.codes(M.MATH_GREEK.letters) do greek[#greek + 1] = utf8.char(c) end
  for k = 0, M.MATH_GREEK.alphabets - 1 do
    for i, letter in ipairs(greek) do set(M.MATH_GREEK.first + 58 * k + i - 1, letter) end
  end
  for i, letters in ipairs(M.ROMAN) do
    set(0x2160 + i - 1, letters)
    set(0x2170 + i - 1, letters)
  end
  for row, bases in pairs(M.LATIN_BASE) do
    for i = 1, #bases do
      local b = bases:sub(i, i)
      if b ~= "." then set(row + i - 1, b) end
    end
  end
  for _, r in ipairs(M.CASE_RUNS) do
    for cp = r[1], r[2] do
      if cp ~= 0x00D7 and cp ~= 0x03A2 then set(cp, utf8.char(cp + r[3])) end
    end
  end
  -- A result that is itself folded (a Greek mathematical letter, final sigma, a capital's
  -- small letter) takes that letter's form.
  for _ = 1, 3 do
    for from, to in pairs(map) do
      local next_form = map[to]
      if next_form ~= nil then map[from] = next_form end
    end
  end
  return map
end

local MAP = build()

-- One UTF-8 character that is not ASCII (the text is valid UTF-8).
local CHAR = "[\xC2-\xF4][\x80-\xBF]+"

-- The comparison form of s (valid UTF-8).
function M.fold(s)
  s = s:lower():gsub(M.PLANE14_PATTERN, "")
  return (s:gsub(CHAR, MAP))
end

-- The table, for tests.
M.map = MAP

return M
