-- A policy that hands back what it is given: the C side checks that values survive the
-- trip from JSON to Lua and back unchanged.
local M = {}

function M.admit(req, ctx)
  return { req = req, ctx = ctx }
end

function M.respond(result, req)
  return { result = result, req = req }
end

return M
