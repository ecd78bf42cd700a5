-- cors_origins that is not a list of origins: the policy must not load.
return {
  admit = function() return { status = 204 } end,
  respond = function() return { status = 500 } end,
  cors_origins = { "https://ok.example.com", 42 },
}
