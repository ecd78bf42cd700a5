-- A careless policy: patterns and string work on inputs large enough to run for minutes inside
-- single C functions, where no instruction is counted. The runtime's time limit must end both.
local M = {}

function M.admit(req)
  if req.path == "/gsub" then
    local s = ("ab"):rep(4 * 1024 * 1024)
    while true do s = s:gsub("a", "a") end
  elseif req.path == "/backtrack" then
    -- 2^40 ways to fail: one call to find that never returns to the VM
    local found = ("a"):rep(40):find(("a?"):rep(40) .. ("a"):rep(40) .. "b")
    return { status = 200, body = { found = found } }
  end
  return { status = 200, headers = { ["Content-Type"] = "application/json" }, body = { ok = true } }
end

function M.respond(result)
  return { status = result.status or 500, headers = { ["Content-Type"] = "application/json" },
           body = { error = { code = result.code, message = result.message } } }
end

return M
