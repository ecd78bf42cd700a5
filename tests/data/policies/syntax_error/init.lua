-- A policy that does not compile: the parameter list of M.broken is never closed, which
-- Lua notices at the `return` that follows it.
local M = {}
function M.admit(req, ctx) return { status = 200 } end
function M.respond(result, req) return { status = 200 } end
M.broken = function(
return M
