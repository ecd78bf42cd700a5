-- operator_config.lua - the example operator's changes to the shipped config.lua, as a function
-- of its table, so these specs run against the shipped policy folder. In your own deployment
-- these are plain edits in your copy of config.lua; load it with H.load() (no `config`) and run
-- `scripts/policy-test --policy-dir YOUR_POLICY YOUR_SPECS`.
return function(c)
  -- A deny-list of our own: whole words and phrases, compared case-insensitively.
  c.prompt.deny = { "gore", "blood bath", "competitor brand" }
  -- A tier of our own for partners: 20 images at once, then one image every 6 seconds; the
  -- partner's API Gateway key id is mapped to it.
  c.rate_limit.tiers.partner = { rate = 1 / 6, burst = 20 }
  c.rate_limit.keys = { ["partnerkey01"] = "partner" }
end
