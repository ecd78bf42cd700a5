-- config.lua - the operator's settings for the imagegen policy, as plain data.
--
-- This is the one file an operator edits to change what the API allows. Every knob is listed
-- with its shipped value; schema.lua checks types and ranges when the function starts (a bad
-- value fails the start-up with a sentence naming the knob) and fills in the default for any
-- knob left out. Some knobs can also be set through environment variables (named below);
-- the variable wins over this file. README.md describes each knob.

return {
  -- Models served (ids from models.lua, or a cross-region inference profile id such as
  -- "us.stability.stable-image-core-v1:1"). The shipped list is Bedrock's active text-to-image
  -- models; Titan G1 and Nova Canvas are in the catalogue, marked legacy, for accounts that
  -- still have access. IMAGEGEN_ALLOWED_MODELS (comma-separated) replaces it.
  allowed_models = { "stability.stable-image-core-v1:1", "stability.sd3-5-large-v1:0",
    "stability.stable-image-ultra-v1:1" },
  -- The model used when a request names none. IMAGEGEN_DEFAULT_MODEL replaces it.
  default_model = "stability.stable-image-core-v1:1",
  -- Edit tasks served by POST /edit-image and POST /v1/images/edits (names from tasks.lua). The
  -- Stability image services need nothing more (one Bedrock subscription enrolls the account in
  -- all thirteen); image-to-image runs on SD3.5 Large and the legacy Titan/Nova tasks on those
  -- models, so they are offered only while allowed_models holds the model. "variation" (legacy
  -- only) may be added for accounts that allow a Titan or Nova model.
  -- IMAGEGEN_ALLOWED_TASKS (comma-separated) replaces it.
  allowed_tasks = { "image-to-image", "inpaint", "outpaint", "erase", "search-replace", "search-recolor",
    "remove-background", "upscale-fast", "upscale-conservative", "upscale-creative", "style-guide",
    "style-transfer", "sketch", "structure" },
  -- Per model, the models to try next (in order) when it is retired, unavailable or still
  -- throttled after retries; each must be in allowed_models. A fallback that cannot express a
  -- request (an aspect ratio, format or parameter it lacks) is skipped for that request.
  -- Example: { ["stability.stable-image-ultra-v1:1"] = { "stability.stable-image-core-v1:1" } }
  fallback = {},

  cors = {
    -- Origins allowed to call the API from a browser, e.g. { "https://app.example.com" }.
    -- { "*" } allows every origin (see README for the trade-off). Empty: no cross-origin use.
    -- IMAGEGEN_CORS_ORIGINS (comma-separated) replaces it.
    origins = {},
    allow_headers = { "content-type", "x-api-key", "authorization" },
    expose_headers = { "retry-after", "ratelimit-limit", "ratelimit-remaining", "ratelimit-reset" },
    max_age = 600,
  },

  storage = {
    -- S3 key prefix, a strftime pattern in UTC; the runtime appends "<uuid>.<format>".
    -- IMAGEGEN_KEY_PREFIX replaces it (Terraform sets it from image_prefix: the function's IAM
    -- policy allows writes under that prefix only).
    key_prefix = "images/%Y/%m/%d/",
    -- Presigned URL lifetime in seconds, 1..604800. IMAGEGEN_URL_TTL replaces it.
    url_ttl = 3600,
    cache_control = "private, max-age=3600",
    -- What the stored object's metadata says about the prompt: "none", "sha256" or "text".
    prompt_metadata = "none",
  },

  -- Images to edit, uploaded by clients with a presigned POST form (POST /uploads) and named by
  -- their key. Each caller has a folder of its own under the prefix; Terraform expires it after a
  -- day and lets the function read only there.
  uploads = {
    -- IMAGEGEN_UPLOADS_PREFIX replaces it. Must be apart from the image and cache prefixes.
    prefix = "uploads/",
    -- The largest upload, in bytes: one image's base64 fills most of Bedrock's 25,000,000-byte
    -- request body at this size.
    max_bytes = 18000000,
    -- Seconds the presigned form stays valid for the upload.
    url_ttl = 900,
  },

  -- Reuse stored images when a request repeats an explicit seed with identical parameters.
  cache = {
    enabled = false,
    -- Under the image prefix, so the same IAM grant and lifecycle rule cover cached images.
    -- IMAGEGEN_CACHE_KEY_PREFIX replaces it.
    key_prefix = "images/cache/",
  },

  prompt = {
    -- Words and phrases refused with 400 prompt_rejected in prompt or negativePrompt (whole
    -- words, compared with case, accents, invisible characters and look-alikes ignored).
    deny = {},
    -- Requests whose prompt is longer than this many bytes are refused before any processing.
    max_input_bytes = 8192,
  },

  rate_limit = {
    -- IMAGEGEN_RATE_LIMIT=off turns it off (scripts/run-local does, for one developer on
    -- 127.0.0.1), =on turns it on.
    enabled = true,
    -- What one generation costs: "image" (numberOfImages tokens) or "request" (1 token).
    cost = "image",
    -- Tokens per second (rate) and bucket size (burst) per tier.
    tiers = {
      anonymous = { rate = 0.1, burst = 5 },
      default = { rate = 0.5, burst = 10 },
      premium = { rate = 2, burst = 40 },
    },
    -- API key id (API Gateway's identity.apiKeyId) -> tier name.
    keys = {},
    -- Tier of requests with an API key not listed in `keys`, and of requests without one.
    key_tier = "default",
    anonymous_tier = "anonymous",
    -- Give the tokens back when a generation fails on the service side (upstream_error,
    -- model_retired, model_unavailable, timeout, storage_error); with the dynamodb backend, the
    -- shared count.
    refund_on_failure = true,
    -- Most buckets kept in memory; the least recently used one is dropped beyond it.
    max_buckets = 10000,
    -- "memory": the buckets above, in each execution environment (N warm environments grant
    -- N times the budget). "dynamodb": one counter per client and window in the function's
    -- table (IMAGEGEN_TABLE), shared by every environment: `burst` requests per `window`
    -- seconds (a tier's window defaults to burst / rate). IMAGEGEN_RATE_LIMIT_BACKEND
    -- overrides it.
    backend = "memory",
    -- With "dynamodb", when the table cannot be reached: "open" serves the request uncounted
    -- (and logs it), "closed" answers 503 rate_limit_unavailable.
    on_store_error = "open",
  },

  limits = {
    -- Most images one request may ask for (numberOfImages), on every model: a request for more
    -- is refused with 400 invalid_parameter naming the cap. nil: each model's own maximum (5 for
    -- every model in the catalogue).
    max_images_per_request = nil,
  },

  -- The OpenAI-compatible Images API (POST /v1/images/generations, GET /v1/models).
  openai = {
    -- OpenAI model names clients may send, each served by the first model of its list that
    -- allowed_models holds (or an allowed us. profile of it); a name none of whose models is
    -- allowed is not offered (a warning at start-up says so). Allowed model ids work as names too.
    models = {
      ["gpt-image-1"] = { "stability.stable-image-ultra-v1:1", "stability.sd3-5-large-v1:0",
        "stability.stable-image-core-v1:1" },
      ["gpt-image-1-mini"] = { "stability.stable-image-core-v1:1", "stability.sd3-5-large-v1:0",
        "stability.stable-image-ultra-v1:1" },
      ["dall-e-3"] = { "stability.sd3-5-large-v1:0", "stability.stable-image-ultra-v1:1",
        "stability.stable-image-core-v1:1" },
      ["dall-e-2"] = { "stability.stable-image-core-v1:1", "stability.sd3-5-large-v1:0",
        "stability.stable-image-ultra-v1:1" },
    },
    -- The response_format of a request that names none: "url" or "b64_json".
    response_format = "url",
    -- b64_json answers: "inline" (the images are only in the answer) or "both" (also stored in
    -- S3, as a url answer's are).
    b64_json_delivery = "inline",
  },

  -- Keys for the OpenAI-compatible routes, sent as "Authorization: Bearer KEY". Only the
  -- SHA-256 of each key is written here (hex; `printf %s KEY | sha256sum`), with an id that
  -- names the caller in rate limits and logs and, optionally, its rate-limit tier:
  --   keys = { { id = "team-a", sha256 = "9f86d0...", tier = "premium" } }
  -- With keys listed, a wrong key is 401 invalid_api_key; required = true refuses requests
  -- without one too. With none listed, the header is ignored.
  api_keys = {
    required = false,
    keys = {},
  },

  logging = {
    -- Put the prompt in the decision log line. IMAGEGEN_LOG_PROMPTS=1 turns it on.
    prompts = false,
  },

  -- Image records (GET /images/{id}, GET /images), kept when the function has IMAGEGEN_TABLE.
  images = {
    -- Days a record lives: keep it equal to the bucket's image lifecycle (Terraform's
    -- image_retention_days). IMAGEGEN_IMAGE_RETENTION_DAYS replaces it.
    retention_days = 30,
    -- What a record keeps of the prompt: "sha256" (its hash), "text" (the hash and the prompt)
    -- or "none". IMAGEGEN_RECORD_PROMPTS replaces it.
    prompt = "sha256",
    -- Records per page of GET /images when the request names no limit (1 to 100).
    page_size = 20,
  },
}
