-- A module that does not compile.
local x = = 1
return x
