-- configsource.lua - where each setting is written in config.lua, so that a bad one is reported
-- at its line.
--
-- config.lua is one table constructor (`return { ... }`) of plain data. lines(source) reads
-- its text (comments, short and long strings, nested tables; expressions are skipped over)
-- into a tree of the keys written in it, each with the line where its entry starts; line_of()
-- then finds the deepest key of a setting's path that the file spells out. Nothing is run: the
-- text is only scanned, once, when a setting is wrong. The policy gets the text from the
-- runtime (imagegen.policy_file); without it, problems are reported without line numbers.

local M = {}

-- Splits source into tokens { kind, value, line }: kind is "name", "string", "number",
-- "symbol" or "eof". Comments are dropped.
local function tokenize(src)
  local tokens, i, line, n = {}, 1, 1, #src
  local function add(kind, value, at) tokens[#tokens + 1] = { kind = kind, value = value, line = at } end
  local function count_lines(s)
    local _, k = s:gsub("\n", "")
    line = line + k
  end
  -- A long bracket [[ ]] / [==[ ]==] starting at i: returns its contents and the index after it.
  local function long_bracket(at)
    local eq = src:match("^%[(=*)%[", at)
    if not eq then return nil end
    local open_len = #eq + 2
    local close = "]" .. eq .. "]"
    local stop = src:find(close, at + open_len, true)
    if not stop then return src:sub(at + open_len), n + 1 end
    return src:sub(at + open_len, stop - 1), stop + #close
  end
  while i <= n do
    local c = src:sub(i, i)
    if c == "\n" then
      line = line + 1
      i = i + 1
    elseif c:match("%s") then
      i = i + 1
    elseif src:sub(i, i + 1) == "--" then
      local body, after = long_bracket(i + 2)
      if body then
        count_lines(src:sub(i, after - 1))
        i = after
      else
        local stop = src:find("\n", i, true) or n + 1
        i = stop
      end
    elseif c == "\"" or c == "'" then
      local at, j, out = line, i + 1, {}
      while j <= n do
        local d = src:sub(j, j)
        if d == c then break end
        if d == "\\" then
          local e = src:sub(j + 1, j + 1)
          if e == "\n" then line = line + 1 end
          out[#out + 1] = e
          j = j + 2
        else
          if d == "\n" then line = line + 1 end
          out[#out + 1] = d
          j = j + 1
        end
      end
      add("string", table.concat(out), at)
      i = j + 1
    elseif c == "[" and src:match("^%[=*%[", i) then
      local at = line
      local body, after = long_bracket(i)
      count_lines(src:sub(i, after - 1))
      add("string", body, at)
      i = after
    elseif c:match("[%a_]") then
      local name = src:match("^[%a_][%w_]*", i)
      add("name", name, line)
      i = i + #name
    elseif c:match("%d") or (c == "." and src:sub(i + 1, i + 1):match("%d")) then
      local num = src:match("^[%w%.]+", i)
      add("number", num, line)
      i = i + #num
    else
      local two = src:sub(i, i + 1)
      if two == "==" or two == "~=" or two == "<=" or two == ">=" or two == ".." or two == "//" then
        add("symbol", two, line)
        i = i + 2
      else
        add("symbol", c, line)
        i = i + 1
      end
    end
  end
  add("eof", nil, line)
  -- past the end, every token is the end
  return setmetatable(tokens, { __index = function() return tokens[#tokens] end })
end

local CLOSE = { ["{"] = "}", ["("] = ")", ["["] = "]" }

-- Reads the table constructor whose "{" is tokens[pos]; returns its node
-- { line, keys = { [key] = node } } and the position after its "}". A node's `keys` holds the
-- entries written with a key (name = v, ["k"] = v, [1] = v) and the positional ones (1, 2...).
local function read_table(tokens, pos)
  local node = { line = tokens[pos].line, keys = {} }
  pos = pos + 1
  local index = 0
  while tokens[pos].kind ~= "eof" do
    local t = tokens[pos]
    if t.kind == "symbol" and t.value == "}" then return node, pos + 1 end
    if t.kind == "symbol" and (t.value == "," or t.value == ";") then
      pos = pos + 1
    else
      local key
      local nxt = tokens[pos + 1]
      if t.kind == "name" and nxt.kind == "symbol" and nxt.value == "=" then
        key = t.value
        pos = pos + 2
      elseif t.kind == "symbol" and t.value == "[" and tokens[pos + 2].kind == "symbol"
        and tokens[pos + 2].value == "]" and tokens[pos + 3].kind == "symbol" and tokens[pos + 3].value == "=" then
        local k = tokens[pos + 1]
        key = k.kind == "number" and math.tointeger(tonumber(k.value)) or k.value
        pos = pos + 4
      else
        index = index + 1
        key = index
      end
      local entry = { line = t.line }
      if tokens[pos].kind == "symbol" and tokens[pos].value == "{" then
        local sub
        sub, pos = read_table(tokens, pos)
        entry.keys = sub.keys
        -- a table value followed by more of an expression is not a plain table: skip the rest
      end
      -- skip to the end of this entry's value
      local depth = 0
      while tokens[pos].kind ~= "eof" do
        local v = tokens[pos]
        if v.kind == "symbol" then
          if CLOSE[v.value] then
            depth = depth + 1
          elseif v.value == "}" or v.value == ")" or v.value == "]" then
            if depth == 0 then break end
            depth = depth - 1
          elseif depth == 0 and (v.value == "," or v.value == ";") then
            break
          end
        end
        pos = pos + 1
      end
      if key ~= nil then node.keys[key] = entry end
    end
  end
  return node, pos
end

-- The tree of keys written in config.lua's text, or nil when the text holds no
-- `return { ... }` outside brackets.
function M.parse(source)
  if type(source) ~= "string" then return nil end
  local tokens = tokenize(source)
  local depth, last = 0, nil
  for pos = 1, #tokens - 1 do
    local t = tokens[pos]
    if t.kind == "symbol" then
      if CLOSE[t.value] then depth = depth + 1
      elseif t.value == "}" or t.value == ")" or t.value == "]" then depth = depth - 1 end
    elseif t.kind == "name" and t.value == "return" and depth == 0
      and tokens[pos + 1].kind == "symbol" and tokens[pos + 1].value == "{" then
      last = pos + 1 -- the chunk's own return is the last one at the top level
    end
  end
  return last and (read_table(tokens, last)) or nil
end

-- The line of the deepest key of `keys` (a list of strings and integers, from the top) that
-- the tree holds, and whether it holds them all; nil when it holds not even the first.
function M.line_of(tree, keys)
  if not tree then return nil end
  local node, line = tree, nil
  for i, k in ipairs(keys) do
    local entry = node and node.keys and node.keys[k]
    if not entry then return line, false end
    line = entry.line
    node = entry
    if i == #keys then return line, true end
  end
  return line, true
end

return M
