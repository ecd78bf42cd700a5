-- A policy table without respond.
local M = {}

function M.admit(req, ctx)
  return { status = 200 }
end

return M
