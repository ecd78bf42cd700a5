-- service.lua - admit() and respond(): the policy's two entry points, built from settings.
--
-- admit(req, ctx) routes the request and either answers at once (health, models, CORS
-- preflight, every refusal) or returns the plan for one generation or edit. respond(result, req)
-- shapes the answer after the C runtime has run the plan. The order of checks for a
-- generation is: route, method, parameters (validate.lua), deny-list, rate limit, plan; on the
-- OpenAI-compatible routes (openai.lua) the bearer key (keys.lua) comes before the parameters,
-- and answers and errors take OpenAI's shape. A refused request spends no rate-limit tokens.
-- An edit (edit.lua) that names uploads answers `fetch` first: the runtime reads them and calls
-- admit() again with ctx.fetched, and only that second call spends tokens. POST /uploads
-- answers `presign_post`, the form the runtime signs and hands to respond(). POST /jobs (jobs.lua)
-- checks a generation as /generate-image does and answers `enqueue`; GET /jobs/{id} answers
-- `job`: the runtime keeps and runs jobs, the policy names their owner and shapes the answers.
-- Every request leaves one decision log line, which names a caller by its key id, never by a
-- key or a hash.

local schema = require("schema")
local models = require("models")
local routes = require("routes")
local cors_module = require("cors")
local validate = require("validate")
local sanitize = require("sanitize")
local ratelimit = require("ratelimit")
local plan = require("plan")
local respond = require("respond")
local text = require("text")
local params = require("params")
local hints = require("hints")
local openai = require("openai")
local keys_module = require("keys")
local tasks = require("tasks")
local edit = require("edit")
local jobs = require("jobs")
local records = require("images")

local M = {}

local MAX_LOGGED_PATH_BYTES = 200

local function route_list()
  local paths = {}
  for i, r in ipairs(routes.list) do paths[i] = r.path end
  return table.concat(paths, ", ")
end

-- config.lua's text, for the line of a wrong setting, when the runtime offers it
-- (imagegen.policy_file); nil otherwise, and problems are reported without line numbers.
local function config_source()
  local read = rawget(imagegen, "policy_file")
  if type(read) ~= "function" then return nil end
  return read("config.lua")
end

-- The settings, or an error listing every problem with config.lua and the environment, one
-- per line, each at its config.lua line or variable. Each problem is also logged on its own,
-- so that none is lost should the start-up error be cut short.
local function settings_or_error(config)
  local settings, problems = schema.check(config, imagegen.env, config_source)
  if settings then return settings end
  for _, p in ipairs(problems) do
    imagegen.log("error", "policy setting is wrong; the function cannot start", { problem = p })
  end
  error(table.concat(problems, "\n"), 0)
end

-- Builds the policy from a config table (as in config.lua). Raises an error naming every wrong
-- knob when the config is not valid.
function M.new(config)
  local settings = settings_or_error(config)
  local deny = sanitize.denylist(settings.prompt.deny)
  local cors = cors_module.new(settings.cors)
  local rl = settings.rate_limit
  local limiter = rl.enabled and rl.backend == "memory" and ratelimit.new(rl, imagegen.monotonic) or nil
  local ROUTES = route_list()
  local api_keys = keys_module.new(settings.api_keys, rl.key_tier)
  local served = tasks.available(settings.allowed_tasks, settings.allowed_models)
  for _, name in ipairs(settings.allowed_tasks) do
    local entry = served.by_name[name]
    if entry and #entry.variants == 0 then
      local ids = {}
      for i, v in ipairs(entry.task.variants) do ids[i] = v.id end
      imagegen.log("info", "allowed task not offered: none of its models is in allowed_models", {
        task = name, models = table.concat(ids, ", "),
      })
    end
  end
  local aliases, unresolved = openai.resolve_aliases(settings.openai.models, settings.allowed_models)
  for _, name in ipairs(unresolved) do
    imagegen.log("warn", "OpenAI model name not offered: none of its models is in allowed_models", {
      name = name, models = table.concat(settings.openai.models[name], ", "),
    })
  end

  -- Lifecycle: a model past its end of life no longer answers at Bedrock. Say so at start-up,
  -- once per model, so the operator learns it from the log before clients do.
  local today = imagegen.date("%Y-%m-%d")
  local active = {}
  for _, id in ipairs(settings.allowed_models) do
    local m = models.get(id)
    if models.past_end_of_life(m, today) then
      imagegen.log("warn", "allowed model is past its end of life at Bedrock; its requests will fail "
        .. "with model_retired: remove it from allowed_models or configure a fallback", {
          model = id, end_of_life = m.eol, status = m.status, today = today,
        })
    elseif m.status == "active" then
      active[#active + 1] = id
    end
  end

  -- The key prefix must expand to a usable S3 prefix now, not at the first request.
  for _, prefix in ipairs({ settings.storage.key_prefix, settings.cache.key_prefix }) do
    local expanded = imagegen.date(prefix)
    if type(expanded) ~= "string" or not expanded:match("^[%w/._%-]*$") then
      error("config.lua: key prefix " .. string.format("%q", prefix) .. " does not expand to a valid S3 prefix", 0)
    end
  end

  -- One line per request: route, outcome, status and who asked. The prompt only when
  -- logging.prompts (IMAGEGEN_LOG_PROMPTS=1) is on.
  local function log_decision(req, status, outcome, extra)
    local identity = req.identity or {}
    local path = text.clean_for_output(req.path, MAX_LOGGED_PATH_BYTES)
    local fields = {
      route = text.clean_for_output(tostring(req.method), 16) .. " " .. path,
      status = status,
      outcome = outcome,
      key_id = (type(identity.bearer_key_id) == "string" and text.clean_for_output(identity.bearer_key_id, 128))
        or (type(identity.api_key_id) == "string" and text.clean_for_output(identity.api_key_id, 128)) or nil,
      source_ip = type(identity.source_ip) == "string" and text.clean_for_output(identity.source_ip, 64) or nil,
    }
    for k, v in pairs(extra or {}) do fields[k] = v end
    if fields.prompt and not settings.logging.prompts then fields.prompt = nil end
    local level = status >= 500 and "error" or "info"
    imagegen.log(level, "policy decision", fields)
  end

  -- A refusal: error answer (in OpenAI's shape on its routes, naming the field at fault in
  -- `param`), decision line and metric.
  local function refuse(req, ctx, base, status, code, message, extra_headers, log_fields, param)
    log_decision(req, status, code, log_fields)
    imagegen.metric("Rejected", 1, "Count")
    if ctx.openai then
      return openai.error(status, code, message, param, ctx.request_id, base, extra_headers)
    end
    return respond.error(status, code, message, ctx.request_id, base, extra_headers)
  end

  local handlers = {}

  function handlers.health(req, _, base)
    log_decision(req, 200, "health")
    return respond.json(200, { status = "ok" }, base)
  end

  function handlers.models(req, _, base)
    local list = {}
    local cap = settings.limits.max_images_per_request
    for i, id in ipairs(settings.allowed_models) do
      local d = models.describe(models.get(id))
      local images = d.limits.numberOfImages
      if cap and cap < images.max then images.max = cap end
      list[i] = d
    end
    local task_list = {}
    for i, entry in ipairs(served.list) do
      local variants = {}
      for j, v in ipairs(entry.variants) do variants[j] = tasks.describe_variant(v, cap) end
      task_list[i] = { task = entry.task.name, summary = entry.task.summary, defaultModel = entry.variants[1].id,
        models = variants }
    end
    log_decision(req, 200, "models")
    return respond.json(200, { models = list, defaultModel = settings.default_model, tasks = imagegen.array(task_list) },
      base, { ["Cache-Control"] = "max-age=300" })
  end

  -- The deny-list on every text parameter of a request (`specs`: params.lua's list, or an edit
  -- model's): a negative prompt reaches the model as text too. nil, or the refusal.
  local function denied(req, ctx, base, specs, p, model)
    for _, param in ipairs(specs) do
      local value = param.kind == "text" and p[param.name] or nil
      local hit = value and sanitize.find_denied(deny, value)
      if hit then
        imagegen.metric("PromptRejected", 1, "Count")
        return refuse(req, ctx, base, 400, "prompt_rejected",
          param.name .. " contains a word or phrase this service does not accept; rephrase it",
          nil, { deny_entry = hit, parameter = param.name, prompt = p.prompt, model = model }, param.name)
      end
    end
    return nil
  end

  -- Spends the tokens of `n` images (or one request). Returns the decision (nil when limits are
  -- off), or nil and the refusal. `count` names the number of images as the client's API does.
  -- With the dynamodb backend nothing is spent here: the decision carries `count`, what the
  -- runtime counts in the shared table before it does the work (the answer's `limit`).
  local function spend(req, ctx, base, n, count)
    if not rl.enabled then return nil end
    local cost = rl.cost == "image" and n or 1
    local decision
    if limiter then
      decision = limiter:take(req.identity, cost)
      local evicted = limiter:take_evicted()
      if evicted > 0 then imagegen.metric("RateLimitEvictions", evicted, "Count") end
    else
      decision = ratelimit.shared(rl, req.identity, cost)
    end
    if decision.over_burst then
      return nil, refuse(req, ctx, base, 400, "invalid_parameter", string.format(
        "%s %d is more than this client may ask for at once; ask for at most %d",
        count, n, decision.limit), ratelimit.headers(decision), { tier = decision.tier }, count)
    end
    if decision.allowed == false then
      imagegen.metric("RateLimited", 1, "Count")
      return nil, refuse(req, ctx, base, 429, "rate_limited", string.format(
        "rate limit reached for this %s; try again in %d second%s",
        decision.key:sub(1, 3) == "ip:" and "IP address" or "API key",
        decision.retry_after, decision.retry_after == 1 and "" or "s"),
        ratelimit.headers(decision), { tier = decision.tier })
    end
    return decision
  end

  -- A generation whose parameters are checked (p: validate.check's values): deny-list, rate
  -- limit, plan. `count` names the number of images as the client's API does.
  local function generate_checked(req, ctx, base, p, count)
    local refused = denied(req, ctx, base, params, p, p.model.id)
    if refused then return refused end
    local decision
    decision, refused = spend(req, ctx, base, p.numberOfImages, count)
    if refused then return refused end

    local answer = plan.build(p, settings, decision and not decision.count and decision or nil)
    answer.limit = decision and decision.count
    if ctx.images then answer.generate.record = records.record(req, settings, p) end
    imagegen.metric("ImagesRequested", p.numberOfImages, "Count")
    log_decision(req, 200, "generate", {
      model = p.model.id, images = p.numberOfImages, seed = answer.generate.context.seed,
      tier = decision and decision.tier, prompt = p.prompt,
      openai_model = p.openai and p.openai.model or nil,
      response_format = p.openai and p.openai.response_format or nil,
    })
    return answer
  end

  function handlers.generate(req, ctx, base)
    local p, problem = validate.generate(req, settings)
    if not p then
      return refuse(req, ctx, base, problem.status, problem.code, problem.message)
    end
    return generate_checked(req, ctx, base, p, "numberOfImages")
  end

  -- An edit whose values and images are checked (e: edit.check's edit): deny-list, rate limit,
  -- plan. `count` names the number of images as the client's API does.
  local function edit_checked(req, ctx, base, e, count)
    local refused = denied(req, ctx, base, e.variant.params, e.p, e.variant.id)
    if refused then return refused end
    local decision
    decision, refused = spend(req, ctx, base, e.n, count)
    if refused then return refused end
    local answer = plan.edit(e, settings, decision and not decision.count and decision or nil, e.openai)
    answer.limit = decision and decision.count
    if ctx.images then answer.generate.record = records.record(req, settings, e.p, e.task) end
    imagegen.metric("ImagesRequested", e.n, "Count")
    log_decision(req, 200, "edit", {
      task = e.task, model = e.variant.invoke, images = e.n, seed = answer.generate.context.seed,
      tier = decision and decision.tier, prompt = e.p.prompt,
      openai_model = e.openai and e.openai.model or nil,
      response_format = e.openai and e.openai.response_format or nil,
    })
    return answer
  end

  local function refuse_problem(req, ctx, base, problem)
    if problem.status >= 500 then
      imagegen.log("error", "the request could not be checked", { problem = problem.message })
    end
    return refuse(req, ctx, base, problem.status, problem.code, problem.message, nil, nil, problem.param)
  end

  -- POST /edit-image. A request naming uploads gets `fetch` first (deny-list checked before
  -- anything is read); the second admit() (ctx.fetched) has their facts.
  function handlers.edit(req, ctx, base)
    local r, problem = edit.read(req, served, { settings = settings, identity = req.identity, fetched = ctx.fetched })
    if not r then return refuse_problem(req, ctx, base, problem) end
    if r.fetch then
      local refused = denied(req, ctx, base, r.variant.params, r.p, r.variant.id)
      if refused then return refused end
      return { fetch = r.fetch }
    end
    return edit_checked(req, ctx, base, r.edit, "numberOfImages")
  end

  -- POST /uploads: a presigned POST form for one image in the caller's own folder. A form
  -- costs one request's tokens: each lets its holder store up to uploads.max_bytes.
  function handlers.uploads(req, ctx, base)
    local body, problem = validate.json_object(req, "/uploads", "{\"contentType\":\"image/png\"}")
    if not body then return refuse(req, ctx, base, problem.status, problem.code, problem.message) end
    local types = table.concat(edit.UPLOAD_TYPE_LIST, ", ")
    local unknown = validate.first_keys(body, function(k) return k ~= "contentType" end, 1)
    if unknown[1] then
      local hint = hints.for_edit_name(unknown[1], { "contentType" })
      return refuse(req, ctx, base, 400, "unknown_parameter", string.format("unknown parameter %s%s; POST /uploads "
        .. "takes contentType (%s)", text.show(unknown[1]), hint and " (" .. hint .. ")" or "", types))
    end
    local ct = body.contentType
    ct = type(ct) == "string" and ct:lower() or ct
    if not edit.UPLOAD_TYPES[ct] then
      return refuse(req, ctx, base, 400, "invalid_parameter", string.format("contentType must be one of %s; got %s",
        types, ct == nil and "nothing" or text.show(ct)), nil, nil, "contentType")
    end
    local decision, refused = spend(req, ctx, base, 1, "uploads")
    if refused then return refused end
    local key = edit.upload_key(settings.uploads.prefix, edit.owner(req.identity), ct)
    log_decision(req, 200, "upload")
    -- the tokens spent, for the answer's RateLimit-* headers (the memory backend's; the shared
    -- count's come back as result.limit)
    local spent = decision and not decision.count and { ratelimit = { key = decision.key, cost = decision.cost,
      limit = decision.limit, remaining = decision.remaining, reset = decision.reset } } or nil
    return { presign_post = { key = key, content_type = ct, max_bytes = settings.uploads.max_bytes,
      expires = settings.uploads.url_ttl, context = spent }, limit = decision and decision.count }
  end

  -- Jobs are kept in the runtime's table: without one (ctx.jobs false) the routes say so.
  local function jobs_refused(req, ctx, base)
    if ctx.jobs then return nil end
    return refuse(req, ctx, base, 503, "jobs_unavailable",
      "jobs are not configured on this deployment (the function has no IMAGEGEN_TABLE); use POST /generate-image")
  end

  -- POST /jobs: the body of POST /generate-image, or of POST /edit-image (a body naming a
  -- `task`), checked and charged the same way; the plan goes to the runtime as `enqueue`. An
  -- edit's input images are kept for the job under the caller's uploads folder (inputs_prefix).
  function handlers.jobs_create(req, ctx, base)
    local refused = jobs_refused(req, ctx, base)
    if refused then return refused end
    local key, problem = jobs.idempotency_key(req.headers)
    if problem then return refuse(req, ctx, base, problem.status, problem.code, problem.message) end
    local answer
    if type(req.body) == "table" and req.body.task ~= nil then
      answer = handlers.edit(req, ctx, base)
      if answer.fetch then return answer end
    else
      local p
      p, problem = validate.generate(req, settings, "/jobs")
      if not p then return refuse(req, ctx, base, problem.status, problem.code, problem.message) end
      answer = generate_checked(req, ctx, base, p, "numberOfImages")
    end
    if not answer.generate then return answer end
    answer.generate.deliver = nil -- a job's images are stored, and fetched by URL
    return { enqueue = { generate = answer.generate, owner = jobs.owner(req.identity), idempotency_key = key,
      retention_s = jobs.RETENTION_S, inputs_prefix = settings.uploads.prefix .. edit.owner(req.identity) .. "/" },
      limit = answer.limit }
  end

  -- GET /jobs/{id}: another owner's job, like an unknown one, is 404 (ids cannot be probed).
  function handlers.jobs_status(req, ctx, base, _, segments)
    local refused = jobs_refused(req, ctx, base)
    if refused then return refused end
    local id = segments[1]
    if not jobs.id_valid(id) then
      return refuse(req, ctx, base, 404, "not_found", "no job has the id " .. text.show(id or ""))
    end
    log_decision(req, 200, "job_status", { job = id })
    return { job = { id = id, owner = jobs.owner(req.identity), url_ttl = settings.storage.url_ttl } }
  end

  -- Image records are kept in the runtime's table: without one (ctx.images false) the routes
  -- say so.
  local function images_refused(req, ctx, base)
    if ctx.images then return nil end
    return refuse(req, ctx, base, 503, "images_unavailable",
      "image records are not configured on this deployment (the function has no IMAGEGEN_TABLE)")
  end

  -- GET /images/{id}: another owner's image, like an unknown one, is 404 (ids cannot be probed).
  function handlers.images_get(req, ctx, base, _, segments)
    local refused = images_refused(req, ctx, base)
    if refused then return refused end
    local id = segments[1]
    if not records.id_valid(id) then
      return refuse(req, ctx, base, 404, "not_found", "no image has the id " .. text.show(id or ""))
    end
    log_decision(req, 200, "image_record", { image = id })
    return { image = { id = id, owner = records.owner(req.identity), url_ttl = settings.storage.url_ttl } }
  end

  -- GET /images?limit=&next=: the caller's images, newest first, a page at a time.
  function handlers.images_list(req, ctx, base)
    local refused = images_refused(req, ctx, base)
    if refused then return refused end
    local page, problem = records.page(req.query, settings.images.page_size)
    if not page then return refuse(req, ctx, base, problem.status, problem.code, problem.message) end
    log_decision(req, 200, "image_list", { limit = page.limit, next = page.cursor ~= nil })
    return { images = { owner = records.owner(req.identity), limit = page.limit, cursor = page.cursor,
      url_ttl = settings.storage.url_ttl } }
  end

  -- On API Gateway's own domain the page is at /<stage>/; opened as /<stage>, without the slash,
  -- its relative URLs (web/app.js, models) would miss the stage. The path with the slash, or nil.
  local function page_slash(req)
    local host = type(req.headers) == "table" and req.headers.host or nil
    local stage = req.stage
    if type(host) ~= "string" or not host:find("%.execute%-api%.") or type(stage) ~= "string"
      or not stage:match("^[%w_%-]+$") or req.request_path ~= "/" .. stage then
      return nil
    end
    return "/" .. stage .. "/"
  end

  -- GET / and GET /web/{file}: the web page. The runtime holds the files and answers them; the
  -- policy names the file and the answer for one this function does not ship. A name that is
  -- not a plain file name (no path, no dot file) is 404 at once.
  function handlers.page(req, ctx, base, _, segments)
    local slash = page_slash(req)
    if slash and not segments[1] then
      log_decision(req, 301, "page_redirect")
      return respond.json(301, { location = slash }, base, { Location = slash, ["Cache-Control"] = "max-age=300" })
    end
    local file = segments[1] or "index.html"
    local not_found = "no page file " .. text.show(file) .. "; the page is served at /"
    if not file:match("^[a-z0-9][a-z0-9%-]*%.[a-z]+$") or #file > 72 then
      return refuse(req, ctx, base, 404, "not_found", not_found)
    end
    log_decision(req, 200, "page", { file = file })
    return { page = { file = file,
      not_found = respond.error(404, "not_found", not_found, ctx.request_id, base) } }
  end

  -- The caller of an OpenAI-compatible route, by its bearer key: nil when it may go on (the
  -- request's identity then names the key), else the 401 answer.
  local function authenticate(req, ctx, base)
    local caller, problem = api_keys:identify(req.headers)
    if not caller then
      return refuse(req, ctx, base, problem.status, problem.code, problem.message,
        { ["WWW-Authenticate"] = "Bearer" })
    end
    if caller.key_id then
      local identity = type(req.identity) == "table" and req.identity or {}
      req.identity = {
        source_ip = identity.source_ip, api_key_id = identity.api_key_id,
        bearer_key_id = caller.key_id, tier = caller.tier,
      }
    end
    return nil
  end

  function handlers.openai_generate(req, ctx, base)
    local refused = authenticate(req, ctx, base)
    if refused then return refused end
    local p, problem = openai.generate(req, settings, aliases)
    if not p then
      return refuse(req, ctx, base, problem.status, problem.code, problem.message, nil, nil, problem.param)
    end
    return generate_checked(req, ctx, base, p, "n")
  end

  function handlers.openai_edit(req, ctx, base)
    local refused = authenticate(req, ctx, base)
    if refused then return refused end
    local e, problem = openai.edit(req, settings, aliases, served)
    if not e then return refuse_problem(req, ctx, base, problem) end
    return edit_checked(req, ctx, base, e, "n")
  end

  function handlers.openai_models(req, ctx, base)
    local refused = authenticate(req, ctx, base)
    if refused then return refused end
    log_decision(req, 200, "models")
    return respond.json(200, openai.models_body(settings, aliases), base, { ["Cache-Control"] = "max-age=300" })
  end

  local function preflight(req, ctx, base, route)
    local origin = (req.headers or {}).origin
    local methods = routes.methods(route)
    if origin == nil then
      -- Not a CORS preflight: say which methods the route answers.
      log_decision(req, 204, "options")
      return { status = 204, headers = respond.merge({ Allow = table.concat(methods, ", ") }, base), body = "" }
    end
    if not cors:allowed(origin) then
      return refuse(req, ctx, base, 403, "origin_not_allowed",
        "origin " .. text.show(origin) .. " may not call this API from a browser")
    end
    log_decision(req, 204, "preflight")
    return { status = 204, headers = cors:preflight_headers(origin, methods), body = "" }
  end

  local function admit(req, ctx)
    req, ctx = req or {}, ctx or {}
    ctx = { request_id = ctx.request_id or req.request_id, fetched = ctx.fetched == true, jobs = ctx.jobs == true,
      images = ctx.images == true }
    local base = cors:headers((req.headers or {}).origin)
    local route, segments
    if type(req.path) == "string" then route, segments = routes.find(req.path) end
    ctx.openai = (route and route.api == "openai")
      or (route == nil and type(req.path) == "string" and req.path:sub(1, #routes.OPENAI_PREFIX) == routes.OPENAI_PREFIX)
    if not route then
      return refuse(req, ctx, base, 404, "not_found", string.format(
        "no route %s; this API serves %s", text.show(req.path or ""), ROUTES))
    end
    if req.method == "OPTIONS" then
      return preflight(req, ctx, base, route)
    end
    if not routes.answers(route, req.method) then
      local allow = table.concat(routes.methods(route), ", ")
      return refuse(req, ctx, base, 405, "method_not_allowed", string.format(
        "%s does not answer %s; allowed methods: %s", route.path, text.show(tostring(req.method)), allow),
        { Allow = allow })
    end
    return handlers[route.handler](req, ctx, base, route, segments)
  end

  -- The answers of POST /jobs and GET /jobs/{id}; a job's result takes /generate-image's shape.
  local function jobs_answer(result, req, base, context, limit_headers)
    local job = type(result.job) == "table" and result.job or nil
    if result.ok == true and job and type(job.id) == "string" then
      if result.jobs == "create" then
        if result.repeated ~= true then
          imagegen.metric("JobsQueued", 1, "Count")
        elseif limiter and type(context.ratelimit) == "table" then
          -- a repeat answers the first job: it costs nothing
          limiter:refund(context.ratelimit.key, context.ratelimit.cost)
        end
        return respond.json(202, jobs.created_body(job, req), base, limit_headers)
      end
      local success = function(r)
        local c = type(r.context) == "table" and r.context or {}
        local body = respond.success_body(r, c)
        body.requestId = nil
        return body
      end
      local failure = function(r) return respond.failure(r, false) end
      return respond.json(200, jobs.status_body(job, req, success, failure), base)
    end
    local f = respond.failure(result, false)
    if f.refund and result.jobs == "create" and limiter and rl.refund_on_failure and type(context.ratelimit) == "table" then
      limiter:refund(context.ratelimit.key, context.ratelimit.cost)
    end
    imagegen.log(f.status >= 500 and "error" or "info", "job request failed", { code = f.code, status = f.status })
    return respond.error(f.status, f.code, f.message, result.request_id or req.request_id, base)
  end

  -- The runtime's refusal by the shared counter (backend dynamodb): 429 rate_limited with
  -- Retry-After (seconds to the window's end), or 503 rate_limit_unavailable (on_store_error
  -- "closed" and the table unreachable).
  local function shared_refusal(f, result, req, base, limit_headers, as_openai)
    local message = f.message
    if f.code == "rate_limited" and f.retry_after then
      local key = type(result.limit) == "table" and result.limit.key or ""
      local s = tonumber(f.retry_after)
      message = string.format("rate limit reached for this %s; try again in %d second%s",
        type(key) == "string" and key:sub(1, 3) == "ip:" and "IP address" or "API key", s, s == 1 and "" or "s")
    end
    if f.code == "rate_limited" then imagegen.metric("RateLimited", 1, "Count") end
    imagegen.metric("Rejected", 1, "Count")
    log_decision(req, f.status, f.code)
    local retry = f.retry_after and { ["Retry-After"] = f.retry_after } or nil
    local id = result.request_id or req.request_id
    if as_openai then return openai.error(f.status, f.code, message, nil, id, base, limit_headers, retry) end
    return respond.error(f.status, f.code, message, id, base, limit_headers, retry)
  end

  -- The answers of GET /images/{id} and GET /images.
  local function images_answer(result, req, base)
    if result.ok == true and result.records == "get" and type(result.image) == "table" then
      return respond.json(200, records.body(result.image), base)
    end
    local body = result.ok == true and result.records == "list" and records.list_body(result.list, result.next)
    if body then return respond.json(200, body, base) end
    local f = respond.failure(result.ok == true and { code = "policy_error",
      message = "the runtime's image records lack what the answer needs; see the function's log" } or result, false)
    imagegen.log(f.status >= 500 and "error" or "info", "image record request failed",
      { code = f.code, status = f.status })
    return respond.error(f.status, f.code, f.message, result.request_id or req.request_id, base)
  end

  local function respond_to(result, req)
    req = req or {}
    local context = type(result.context) == "table" and result.context or {}
    local base = cors:headers((req.headers or {}).origin)
    local limit = context.ratelimit
    if type(result.limit) == "table" then -- the runtime's shared counter (backend dynamodb)
      limit = not result.limit.unavailable and result.limit or nil
      if result.limit.unavailable then imagegen.metric("RateLimitStoreUnavailable", 1, "Count") end
    end
    local limit_headers = type(limit) == "table" and ratelimit.headers(limit) or nil
    local path = type(req.path) == "string" and req.path or ""
    local as_openai = context.api == "openai" or path:sub(1, #routes.OPENAI_PREFIX) == routes.OPENAI_PREFIX

    if result.jobs ~= nil then return jobs_answer(result, req, base, context, limit_headers) end
    if result.records ~= nil then return images_answer(result, req, base) end
    local f
    if result.ok == true and result.upload ~= nil then
      -- POST /uploads: the form the runtime signed
      local body = respond.upload_body(result, settings.uploads.max_bytes)
      if body then return respond.json(200, body, base, limit_headers) end
      imagegen.log("error", "the runtime's presigned upload lacks url, fields or key")
      f = respond.failure({ code = "policy_error", message = "the upload form could not be made; see the function's log" })
    elseif result.ok == true and type(result.images) == "table" and #result.images > 0 then
      imagegen.metric("ImagesDelivered", #result.images, "Count")
      local body = respond.success_body(result, context)
      if body.missing then imagegen.metric("ImagesMissing", #body.missing, "Count") end
      if body.fallbackFrom then
        imagegen.metric("FallbackServed", 1, "Count")
        imagegen.log("warn", "generation served by a fallback model",
          { model = body.model, fallback_from = body.fallbackFrom[1].model, code = body.fallbackFrom[1].code })
      end
      if not as_openai then return respond.json(200, body, base, limit_headers) end
      local answer, why = openai.success_body(result, context, req)
      if answer then return respond.json(200, answer, base, limit_headers) end
      imagegen.log("error", "the runtime's result lacks what the request asked for", { problem = why })
      f = respond.failure({ code = "policy_error", message = "the images could not be returned as asked; see the "
        .. "function's log" })
    elseif result.ok == true then
      f = respond.failure({ code = "upstream_error", message = "the model returned no images" })
    else
      -- an edit's model cannot be replaced by a text-to-image model: name none
      f = respond.failure(result, context.task == nil and active or false)
    end
    if f.refund and limiter and rl.refund_on_failure and type(limit) == "table" then
      limiter:refund(limit.key, limit.cost)
      limit_headers = ratelimit.headers({ limit = limit.limit,
        remaining = math.min(limit.limit, limit.remaining + limit.cost), reset = limit.reset })
    end
    if f.code == "rate_limited" or f.code == "rate_limit_unavailable" then
      return shared_refusal(f, result, req, base, limit_headers, as_openai)
    end
    imagegen.metric("GenerationFailed", 1, "Count")
    imagegen.log(f.status >= 500 and "error" or "warn", "generation failed",
      { code = f.code, status = f.status, model = type(result.model) == "string" and result.model or context.model })
    local retry = f.retry_after and { ["Retry-After"] = f.retry_after } or nil
    if as_openai then
      return openai.error(f.status, f.code, f.message, nil, result.request_id or req.request_id, base, limit_headers,
        retry)
    end
    return respond.error(f.status, f.code, f.message, result.request_id or req.request_id, base, limit_headers, retry)
  end

  -- With the dynamodb backend the runtime counted the request before the work (result.limit):
  -- what the memory backend refunds (a failure on the service side, with refund_on_failure) and
  -- a job's repeat (it answers the first job) are given back there, which the answer asks by
  -- give_back; its RateLimit-Remaining counts them back too.
  local function shared_give_back(result)
    local limit = result.limit
    if type(limit) ~= "table" or limit.unavailable or math.type(limit.cost) ~= "integer" then return false end
    if result.jobs == "create" and result.ok == true then return result.repeated == true end
    if result.ok == true and (result.jobs ~= nil or result.records ~= nil or result.upload ~= nil
        or (type(result.images) == "table" and #result.images > 0)) then
      return false
    end
    return rl.refund_on_failure and respond.failure(result.ok == true and { code = "upstream_error" } or result).refund
  end

  local function respond_counted(result, req)
    local answer = respond_to(result, req)
    if shared_give_back(result) then
      answer.give_back = true
      local h = answer.headers
      local left = h and tonumber(h["RateLimit-Remaining"])
      if left then
        h["RateLimit-Remaining"] = string.format("%d", math.min(result.limit.limit, left + result.limit.cost))
      end
    end
    return answer
  end

  return { admit = admit, respond = respond_counted, cors_origins = settings.cors.origins,
    image_fields = tasks.IMAGE_FIELDS }
end

return M
