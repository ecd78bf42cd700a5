-- A policy whose top level keeps everything it builds.
local keep = {}
for i = 1, 1e9 do keep[i] = { i } end
return { admit = function() end, respond = function() end }
