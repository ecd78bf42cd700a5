-- A module loaded with require("lib.helper"): counts how often its body runs, which
-- shows that require caches modules.
local helper = { loads = 0 }
LOADS_OF_HELPER = (LOADS_OF_HELPER or 0) + 1
helper.loads = LOADS_OF_HELPER

function helper.greet(name)
  return "hello, " .. name
end

return helper
