-- routes.lua - the API's routes, as data.
--
-- A route is an exact path, or a template whose `{name}` is one path segment (`/jobs/{id}`,
-- as API Gateway's resources), the methods it answers and the name of the handler that serves
-- it. OPTIONS (CORS preflight) is answered on every route without being listed. Only routes
-- marked `limited` spend rate-limit tokens; routes marked `api = "openai"` answer in OpenAI's
-- shapes. A path not listed is 404; a listed path with a method it does not answer is 405 with
-- an Allow header.

local M = {}

M.list = {
  { path = "/generate-image", methods = { "GET", "POST" }, handler = "generate", limited = true },
  { path = "/models", methods = { "GET" }, handler = "models" },
  { path = "/health", methods = { "GET" }, handler = "health" },
  -- Edits of an input image (edit.lua, tasks.lua), and the presigned forms to upload one.
  { path = "/edit-image", methods = { "POST" }, handler = "edit", limited = true },
  { path = "/uploads", methods = { "POST" }, handler = "uploads" },
  -- The OpenAI-compatible Images API (openai.lua): its answers and errors take OpenAI's shape.
  { path = "/v1/images/generations", methods = { "POST" }, handler = "openai_generate", limited = true, api = "openai" },
  { path = "/v1/images/edits", methods = { "POST" }, handler = "openai_edit", limited = true, api = "openai" },
  { path = "/v1/models", methods = { "GET" }, handler = "openai_models", api = "openai" },
  -- Jobs (jobs.lua): a generation the client polls for, past API Gateway's 29 seconds.
  { path = "/jobs", methods = { "POST" }, handler = "jobs_create", limited = true },
  { path = "/jobs/{id}", methods = { "GET" }, handler = "jobs_status" },
  -- Image records (images.lua): an image's record and a fresh URL, and the caller's images.
  { path = "/images", methods = { "GET" }, handler = "images_list" },
  { path = "/images/{id}", methods = { "GET" }, handler = "images_get" },
  -- The web page (the playground and the gallery): its HTML at /, its files under /web/. The
  -- runtime answers the bytes; these routes need no API key (terraform, the local gateway).
  { path = "/", methods = { "GET" }, handler = "page" },
  { path = "/web/{file}", methods = { "GET" }, handler = "page" },
}

-- Paths under this prefix belong to the OpenAI-compatible API: even unknown ones are answered
-- in its error shape.
M.OPENAI_PREFIX = "/v1/"

local by_path, templates = {}, {}
for _, r in ipairs(M.list) do
  if r.path:find("{", 1, true) then
    -- "/jobs/{id}" -> "^/jobs/([^/]+)$": each {name} one non-empty segment
    local pattern = "^" .. r.path:gsub("[%-%.%+%*%?%^%$%%%[%]%(%)]", "%%%0"):gsub("{[%w_]+}", "([^/]+)") .. "$"
    templates[#templates + 1] = { route = r, pattern = pattern }
  else
    by_path[r.path] = r
  end
end

-- The route for a path and, for a template, its segments ({ "3f2a..." } for /jobs/3f2a...);
-- nil when no route matches.
function M.find(path)
  local r = by_path[path]
  if r then return r, {} end
  for _, t in ipairs(templates) do
    local captures = { path:match(t.pattern) }
    if captures[1] then return t.route, captures end
  end
  return nil
end

-- True when the route answers `method` (OPTIONS excluded).
function M.answers(route, method)
  for _, m in ipairs(route.methods) do
    if m == method then return true end
  end
  return false
end

-- The methods a route answers, OPTIONS included, for Allow and preflight headers.
function M.methods(route)
  local out = {}
  for i, m in ipairs(route.methods) do out[i] = m end
  out[#out + 1] = "OPTIONS"
  return out
end

return M
