-- A policy with a syntax error on line 4, for the init-error test.
local M = {}

function M.admit(req, ctx
  return nil
end

return M
