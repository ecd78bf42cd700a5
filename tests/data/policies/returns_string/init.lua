-- init.lua must return a table; this one returns a string.
return "policy"
