-- A small policy for runtime tests: fixed routes that exercise the host's failure paths.
local M = {}

local function json(status, body)
  return { status = status, headers = { ["Content-Type"] = "application/json" }, body = body }
end

function M.admit(req, ctx)
  if req.path == "/health" then
    return json(200, { status = "ok", method = req.method, query = req.query, body = req.body,
                       body_error = req.body_error })
  elseif req.path == "/error" then
    error("deliberate failure")
  elseif req.path == "/loop" then
    while true do end
  elseif req.path == "/memory" then
    local s = string.rep("x", 1 << 30)
    return json(200, { size = #s })
  elseif req.path == "/bad-return" then
    return 42
  elseif req.path == "/bad-header" then
    return { status = 200, headers = { ["X-Injected"] = "a\r\nSet-Cookie: evil=1" }, body = "" }
  end
  return json(404, { error = { code = "not_found", message = "no route for " .. req.path,
                               requestId = ctx.request_id } })
end

function M.respond(result, req)
  return json(result.status or 200, { error = { code = result.code, message = result.message,
                                                requestId = result.request_id } })
end

return M
