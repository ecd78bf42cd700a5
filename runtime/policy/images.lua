-- images.lua - image records: a handle per stored image that turns into a fresh URL later, and
-- the caller's list of them. The runtime keeps one DynamoDB item per image (the C side:
-- runtime/src/handler/images.h) when a plan carries `record`; this module decides what a record
-- holds (owner, retention, parameters, the prompt's hash or text), who may read it, the page
-- sizes and the answers' shapes.
--
--   200  {"id", "url", "expiresAt", "createdAt", "model", ["task"], "width", "height",   GET /images/{id}
--         "bytes", "format", "contentType", ["seed"], "cached", ["parameters"],
--         ["promptSha256"], ["prompt"], "recordExpiresAt"}
--   200  {"images": [the same, newest first], ["next": cursor]}                      GET /images

local jobs = require("jobs")
local text = require("text")

local M = {}

-- An image's id: the uuid of its S3 key (8-4-4-4-12 lower-case hex).
local ID_PATTERN = "^%x%x%x%x%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%-%x%x%x%x%x%x%x%x%x%x%x%x$"

-- Most records one page may hold, and the longest cursor the runtime gives.
M.MAX_LIMIT = 100
M.MAX_CURSOR_BYTES = 512

-- Parameters never copied into a record: the prompt goes by its hash (or as itself when the
-- setting says so), the rest are records' own fields or not parameters at all.
local NOT_RECORDED = { prompt = true, negativePrompt = true, model = true, input = true, seed = true,
  openai = true }

-- The owner of a caller's images: the same as of its jobs (the SHA-256 of the rate limiter's
-- name for it), so the table holds no key and no address.
M.owner = jobs.owner

function M.id_valid(id)
  return type(id) == "string" and id:match(ID_PATTERN) ~= nil and id == id:lower()
end

-- The parameters a record keeps: the checked values that are plain strings, numbers or booleans.
local function parameters(p)
  local out, any = {}, false
  for k, v in pairs(p or {}) do
    local t = type(v)
    if type(k) == "string" and not NOT_RECORDED[k] and (t == "string" or t == "number" or t == "boolean") then
      out[k] = v
      any = true
    end
  end
  return any and out or nil
end

-- The plan's `record`: who owns the images, how long their records live (the bucket's image
-- lifecycle), the task of an edit, the parameters and the prompt's hash, or the prompt itself
-- when settings.images.prompt is "text" ("none" keeps neither).
function M.record(req, settings, p, task)
  local s = settings.images
  local r = { owner = M.owner(req.identity), retention_s = s.retention_days * 86400, task = task,
    parameters = parameters(p) }
  local prompt = type(p) == "table" and type(p.prompt) == "string" and p.prompt or nil
  if prompt and s.prompt ~= "none" then
    r.prompt_sha256 = imagegen.sha256(prompt)
    if s.prompt == "text" then r.prompt = prompt end
  end
  return r
end

-- GET /images's query: limit and next, or nil and a problem { status, code, message }.
function M.page(query, default_limit)
  query = type(query) == "table" and query or {}
  for k in pairs(query) do
    if k ~= "limit" and k ~= "next" then
      return nil, { status = 400, code = "unknown_parameter", message = string.format(
        "unknown parameter %s; GET /images takes limit (1 to %d) and next", text.show(tostring(k)), M.MAX_LIMIT) }
    end
  end
  local limit = default_limit
  if query.limit ~= nil then
    local l = type(query.limit) == "string" and query.limit:match("^%d+$") and #query.limit <= 3
      and math.tointeger(tonumber(query.limit)) or nil
    if not l or l < 1 or l > M.MAX_LIMIT then
      return nil, { status = 400, code = "invalid_parameter", message = string.format(
        "limit must be a whole number from 1 to %d; got %s", M.MAX_LIMIT, text.show(tostring(query.limit))) }
    end
    limit = l
  end
  local cursor = query.next
  if cursor ~= nil and (type(cursor) ~= "string" or #cursor < 1 or #cursor > M.MAX_CURSOR_BYTES
      or not cursor:match("^[%w%-_%.]+$")) then
    return nil, { status = 400, code = "invalid_cursor", message =
      "next is not a cursor this API gave you; start again without it" }
  end
  return { limit = limit, cursor = cursor }
end

local function iso(s)
  if math.type(s) ~= "integer" then return nil end
  return imagegen.date("%Y-%m-%dT%H:%M:%SZ", s)
end

local CONTENT_TYPES = { png = "image/png", jpeg = "image/jpeg", webp = "image/webp" }

-- One record as the client sees it, from the runtime's view.
function M.body(v)
  local created = math.tointeger(v.created_at)
  local b = {
    id = v.id, url = v.url, downloadUrl = v.download_url, expiresAt = iso(math.tointeger(v.url_expires_at)),
    createdAt = created and imagegen.date("%Y-%m-%dT%H:%M:%SZ", created // 1000) or nil,
    model = v.model, task = v.task, width = math.tointeger(v.width), height = math.tointeger(v.height),
    bytes = math.tointeger(v.bytes), format = v.format,
    contentType = v.content_type or (type(v.format) == "string" and CONTENT_TYPES[v.format]) or nil,
    seed = type(v.seed) == "string" and (math.tointeger(tonumber(v.seed)) or v.seed) or nil,
    cached = v.cached == true,
    parameters = type(v.parameters) == "table" and next(v.parameters) ~= nil and v.parameters or nil,
    promptSha256 = v.prompt_sha256, prompt = v.prompt,
    recordExpiresAt = iso(math.tointeger(v.expires_at)),
  }
  return b
end

-- GET /images's answer body. The runtime's list is rewritten in place: it keeps its mark as a
-- JSON array, so an empty page is [] and not {}.
function M.list_body(list, next_cursor)
  if type(list) ~= "table" then return nil end
  for i, v in ipairs(list) do list[i] = M.body(v) end
  return { images = list, next = type(next_cursor) == "string" and next_cursor or nil }
end

return M
