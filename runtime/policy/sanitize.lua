-- sanitize.lua - turns a client's prompt into the text sent to the model, and the deny-list.
--
-- A prompt must be valid UTF-8, without the replacement character U+FFFD that API Gateway puts
-- for bytes that are not. Control characters are removed (tab, line breaks and the
-- Unicode spaces first become plain spaces), invisible formatting characters that could hide
-- words from the deny-list are removed, runs of white space collapse to one space, and the
-- ends are trimmed. The deny-list matches whole words and phrases on the cleaned text in its
-- folded form (fold.lua: invisible characters removed, look-alikes, compatibility forms and
-- accents folded, case ignored) split into words, so punctuation, extra spaces or another way
-- of writing a letter do not slip past it, and "class" never matches "ass". The folded form is
-- for the comparison only: the text sent is the cleaned text. All work is byte-pattern work
-- in C (gsub), so a long prompt costs few Lua instructions.

local fold = require("fold")

local M = {}

-- Characters that act as white space: ASCII tab, LF, VT, FF, CR, NEL (U+0085), NBSP (U+00A0),
-- OGHAM SPACE (U+1680), U+2000..U+200A, LINE/PARAGRAPH SEPARATOR (U+2028, U+2029),
-- NNBSP (U+202F), MMSP (U+205F), IDEOGRAPHIC SPACE (U+3000).
local SPACE_PATTERNS = {
  "[\t\n\v\f\r]", "\xC2[\x85\xA0]", "\xE1\x9A\x80", "\xE2\x80[\x80-\x8A\xA8\xA9\xAF]",
  "\xE2\x81\x9F", "\xE3\x80\x80",
}

-- Removed outright: C0 controls and DEL (what is left of them after the spaces above), C1
-- controls (U+0080..U+009F), SOFT HYPHEN (U+00AD), ZERO WIDTH SPACE (U+200B), LRM/RLM
-- (U+200E, U+200F), bidi embeddings and overrides (U+202A..U+202E), WORD JOINER (U+2060),
-- bidi isolates (U+2066..U+2069) and the BOM / ZERO WIDTH NO-BREAK SPACE (U+FEFF).
-- ZWJ and ZWNJ (U+200C, U+200D) stay: scripts and emoji sequences need them.
local REMOVE_PATTERNS = {
  "[%z\1-\31\127]", "\xC2[\x80-\x9F\xAD]", "\xE2\x80[\x8B\x8E\x8F\xAA-\xAE]",
  "\xE2\x81[\xA0\xA6-\xA9]", "\xEF\xBB\xBF",
}

-- Punctuation that separates words for the deny-list, beyond ASCII: Latin-1 punctuation and
-- symbols (U+00A1..U+00BF, U+00D7, U+00F7), General Punctuation (U+2010..U+205E) and CJK
-- punctuation (U+3001..U+303F).
local SEPARATOR_PATTERNS = {
  "\xC2[\xA1-\xBF]", "\xC3[\x97\xB7]", "\xE2\x80[\x90-\xBF]", "\xE2\x81[\x80-\x9E]",
  "\xE3\x80[\x81-\xBF]",
}

-- Checks UTF-8 (strict: no overlong forms, surrogates or values above U+10FFFF).
-- Returns the number of characters, or nil and the byte position of the first bad sequence.
function M.utf8_length(s)
  return utf8.len(s)
end

-- The position (in characters) of the first U+FFFD REPLACEMENT CHARACTER in s (valid UTF-8),
-- or nil. API Gateway puts one in place of every byte of a query string or body that is not
-- UTF-8, so by the time the text reaches the policy this is all that is left of those bytes;
-- nobody means it in a prompt.
function M.replacement_character(s)
  local at = s:find("\xEF\xBF\xBD", 1, true)
  if not at then return nil end
  return utf8.len(s, 1, at - 1) + 1
end

-- The cleaned text (which may be empty). `s` must be valid UTF-8.
function M.clean(s)
  for _, p in ipairs(SPACE_PATTERNS) do s = s:gsub(p, " ") end
  for _, p in ipairs(REMOVE_PATTERNS) do s = s:gsub(p, "") end
  s = s:gsub(" +", " ")
  return (s:match("^ *(.-) *$"))
end

-- The words of a text as the deny-list compares them: the text in its comparison form
-- (fold.lua: invisible characters removed, look-alike, compatibility and accented letters
-- folded, case ignored), split into runs of ASCII letters and digits and other non-ASCII
-- characters at everything else (spaces, ASCII and common Unicode punctuation).
function M.words(s)
  s = fold.fold(s)
  for _, p in ipairs(SEPARATOR_PATTERNS) do s = s:gsub(p, " ") end
  local out = {}
  for w in s:gmatch("[%w\128-\255]+") do out[#out + 1] = w end
  return out
end

-- Compiles deny-list entries (words or phrases) into an index by first word.
-- Raises an error naming an entry that holds no word at all.
function M.denylist(entries)
  local index, count = {}, 0
  for i, entry in ipairs(entries) do
    local ws = M.words(entry)
    if #ws == 0 then
      error(string.format("config.lua: prompt.deny[%d] holds no word; got %q", i, entry), 0)
    end
    local list = index[ws[1]]
    if not list then
      list = {}
      index[ws[1]] = list
    end
    list[#list + 1] = { words = ws, entry = i }
    count = count + 1
  end
  return { index = index, count = count }
end

-- The position (index in the configured list) of the first deny-list entry found in
-- `text`, or nil.
function M.find_denied(deny, text)
  if deny.count == 0 then return nil end
  local ws = M.words(text)
  for i = 1, #ws do
    local candidates = deny.index[ws[i]]
    if candidates then
      for _, c in ipairs(candidates) do
        local n, match = #c.words, true
        if i + n - 1 > #ws then
          match = false
        else
          for j = 2, n do
            if ws[i + j - 1] ~= c.words[j] then
              match = false
              break
            end
          end
        end
        if match then return c.entry end
      end
    end
  end
  return nil
end

return M
