-- A policy whose top level fails while loading.
local config = { region = nil }
local region = config.region or error("configuration is broken: no region")
return { admit = function() end, respond = function() end, region = region }
