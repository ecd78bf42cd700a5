-- text.lua - safe ways to put client values into messages, logs and answers.
--
-- Everything the policy returns or logs crosses into JSON, which the runtime refuses when a
-- string is not valid UTF-8; a message that echoed a client's bytes, or cut a character in
-- half, would turn a 400 into a 500. So client values are shown through show() (quoted, cut
-- on a character boundary, control and stray bytes escaped) and long strings are shortened
-- with cut().

local M = {}

-- True for a JSON array handed over by the runtime (marked with the imagegen.array
-- metatable), or a table that is plainly a sequence.
function M.is_array(v)
  if type(v) ~= "table" then return false end
  local mt = getmetatable(v)
  if type(mt) == "table" and rawget(mt, "__name") == "imagegen.array" then return true end
  return v[1] ~= nil
end

-- At most `max` bytes of s, never ending inside a UTF-8 sequence; and whether it was cut.
function M.cut(s, max)
  if #s <= max then return s, false end
  local i = max
  while i > 0 do
    local b = s:byte(i + 1)
    if b < 0x80 or b >= 0xC0 then break end -- s[i+1] starts a character: cut before it
    i = i - 1
  end
  return s:sub(1, i), true
end

local function escape_byte(c)
  if c == "\"" or c == "\\" then return "\\" .. c end
  return string.format("\\x%02X", c:byte())
end

-- A client's value as it appears in a message: strings quoted, cut to 40 bytes, control
-- characters and (in invalid UTF-8) every non-ASCII byte escaped as \xNN.
function M.show(v)
  if v == cjson.null then return "null" end
  local t = type(v)
  if t == "string" then
    local s, was_cut = M.cut(v, 40)
    if utf8.len(s) then
      s = s:gsub("[%c\"\\]", escape_byte)
    else
      s = s:gsub("[%c\"\\\128-\255]", escape_byte)
    end
    return "\"" .. s .. (was_cut and "...\"" or "\"")
  elseif t == "number" then
    if math.type(v) == "integer" then return string.format("%d", v) end
    local short = string.format("%.15g", v)
    if tonumber(short) == v then return short end
    return string.format("%.17g", v)
  elseif t == "boolean" then
    return tostring(v)
  elseif t == "table" then
    return M.is_array(v) and "an array" or "an object"
  end
  return "a " .. t
end

-- A string from outside (a path, a runtime message) made fit for a log field or a message:
-- valid UTF-8 (else escaped as by show, without quotes) and at most `max` bytes.
function M.clean_for_output(s, max)
  if type(s) ~= "string" then return "" end
  if not utf8.len(s) then
    s = s:gsub("[\128-\255]", escape_byte)
  end
  local out, was_cut = M.cut(s, max)
  return out, was_cut
end

return M
