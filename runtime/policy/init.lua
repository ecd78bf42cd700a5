-- init.lua - the policy the imagegen runtime loads at start-up.
--
-- The runtime calls admit(req, ctx) for every request and respond(result, req) after a
-- generation. Building the policy checks config.lua (and the IMAGEGEN_* overrides) once; a
-- bad setting fails the start-up with a sentence naming it. See README.md.

return require("service").new(require("config"))
