-- jobs_spec.lua - POST /jobs and GET /jobs/{id}: what admit() hands the runtime, and the
-- answers respond() shapes from the runtime's job results.

local C = require("contract")
local R = require("requests")

local JOBS = R.ctx({ jobs = true })
local ID = "0123456789abcdef0123456789abcdef"

local function post_job(body, opts)
  return R.post("/jobs", body or { prompt = "a lighthouse at dusk" }, opts)
end

describe("POST /jobs", function()
  it("hands the runtime the same plan as /generate-image, with the owner and a retention", function()
    local h = C.harness()
    local a = h.admit(post_job(), JOBS)
    assert.is_table(a.enqueue)
    assert.is_table(a.enqueue.generate.attempts)
    assert.are.equal(64, #a.enqueue.owner)
    assert.is_nil(a.enqueue.idempotency_key)
    assert.are.equal(86400, a.enqueue.retention_s)
    local sync = h.plan(R.post("/generate-image", { prompt = "a lighthouse at dusk" }))
    assert.are.equal(sync.attempts[1].model, a.enqueue.generate.attempts[1].model)
  end)

  it("names the owner by API key id, else by source IP", function()
    local h = C.harness()
    local k1 = h.admit(post_job(nil, { identity = { source_ip = "1.2.3.4", api_key_id = "k1" } }), JOBS).enqueue.owner
    local k1b = h.admit(post_job(nil, { identity = { source_ip = "5.6.7.8", api_key_id = "k1" } }), JOBS).enqueue.owner
    local ip = h.admit(post_job(nil, { identity = { source_ip = "1.2.3.4" } }), JOBS).enqueue.owner
    assert.are.equal(k1, k1b)
    assert.are_not.equal(k1, ip)
  end)

  it("passes an Idempotency-Key on and refuses a malformed one", function()
    local h = C.harness()
    local a = h.admit(post_job(nil, { headers = { ["Idempotency-Key"] = "order-42" } }), JOBS)
    assert.are.equal("order-42", a.enqueue.idempotency_key)
    for _, bad in ipairs({ "", "has space", string.rep("x", 256) }) do
      local r = h.admit(post_job(nil, { headers = { ["Idempotency-Key"] = bad } }), JOBS)
      assert.are.equal(400, r.status)
      assert.are.equal("invalid_parameter", r.body.error.code)
      assert.truthy(r.body.error.message:find("Idempotency-Key", 1, true))
    end
  end)

  it("refuses bad bodies as /generate-image does, naming /jobs", function()
    local h = C.harness()
    local r = h.admit(R.post("/jobs", nil), JOBS)
    assert.are.equal(400, r.status)
    assert.are.equal("invalid_body", r.body.error.code)
    assert.truthy(r.body.error.message:find("POST /jobs", 1, true))
    r = h.admit(post_job({ prompt = "x", nope = 1 }), JOBS)
    assert.are.equal(400, r.status)
    assert.are.equal("unknown_parameter", r.body.error.code)
    r = h.admit(post_job({ prompt = "x", numberOfImages = 99 }), JOBS)
    assert.are.equal(400, r.status)
  end)

  it("takes an edit's body (one naming a task) with the caller's uploads folder for its images", function()
    local h = C.harness()
    local a = h.admit(post_job({ task = "upscale-fast", image = R.image() }), JOBS)
    assert.is_table(a.enqueue, a.body and a.body.error and a.body.error.message)
    local sync = h.plan(R.post("/edit-image", { task = "upscale-fast", image = R.image() }))
    assert.are.equal(sync.attempts[1].model, a.enqueue.generate.attempts[1].model)
    assert.matches("^uploads/%x+/$", a.enqueue.inputs_prefix)
    -- an upload is fetched first, as on /edit-image, then planned
    local up = { task = "upscale-fast", image = { upload = a.enqueue.inputs_prefix .. "00000000-0000-4000-8000-000000000001.png" } }
    local f = h.admit(post_job(up), JOBS)
    assert.is_table(f.fetch)
    assert.are.equal(up.image.upload, f.fetch[1].key)
  end)

  it("refuses a bad edit as /edit-image does, naming /jobs", function()
    local h = C.harness()
    local r = h.admit(post_job({ task = "no-such-task", image = R.image() }), JOBS)
    local sync = h.admit(R.post("/edit-image", { task = "no-such-task", image = R.image() }), JOBS)
    assert.are.equal(sync.status, r.status)
    assert.are.equal(sync.body.error.code, r.body.error.code)
    r = h.admit(R.post("/jobs", { task = "upscale-fast", image = R.image() }, { query = { x = "1" } }), JOBS)
    assert.are.equal(400, r.status)
    assert.truthy(r.body.error.message:find("POST /jobs", 1, true))
  end)

  it("gives a repeat's tokens back: it answers the first job", function()
    local h = C.harness({ config = function(c) c.rate_limit.tiers.anonymous = { rate = 0.001, burst = 2 } end })
    local req = post_job(nil, { headers = { ["Idempotency-Key"] = "k" } })
    local job = { id = ID, status = "queued", created_at = 1, updated_at = 1, attempts = 0 }
    local first = h.admit(req, JOBS)
    assert.are.equal(202, h.respond({ ok = true, status = 202, jobs = "create", job = job, repeated = false,
      context = first.enqueue.generate.context }, req).status)
    for _ = 1, 3 do
      local a = h.admit(req, JOBS)
      assert.is_table(a.enqueue, "a repeat was refused: its tokens were not given back")
      assert.are.equal(202, h.respond({ ok = true, status = 202, jobs = "create", job = job, repeated = true,
        context = a.enqueue.generate.context }, req).status)
    end
    -- a new job spends the second token; the third request finds the bucket empty
    h.admit(req, JOBS)
    assert.are.equal(429, h.admit(post_job(), JOBS).status)
  end)

  it("answers 503 jobs_unavailable when the runtime keeps no jobs", function()
    local r = C.harness().admit(post_job(), R.ctx())
    assert.are.equal(503, r.status)
    assert.are.equal("jobs_unavailable", r.body.error.code)
    assert.truthy(r.body.error.message:find("IMAGEGEN_TABLE", 1, true))
  end)

  it("answers 405 to GET", function()
    local r = C.harness().admit(R.get("/jobs", { prompt = "x" }), JOBS)
    assert.are.equal(405, r.status)
  end)

  it("answers 202 {id, status, statusUrl}", function()
    local h = C.harness()
    local req = post_job(nil, { headers = { Host = "abc.execute-api.us-east-1.amazonaws.com",
      ["X-Forwarded-Proto"] = "https" } })
    local a = h.respond({ ok = true, status = 202, jobs = "create", request_id = R.REQUEST_ID,
      job = { id = ID, status = "queued", created_at = 1795000000000, updated_at = 1795000000000 } }, req)
    assert.are.equal(202, a.status)
    assert.are.same({ id = ID, status = "queued",
      statusUrl = "https://abc.execute-api.us-east-1.amazonaws.com/prod/jobs/" .. ID }, a.body)
    local local_req = post_job(nil, { headers = { Host = "127.0.0.1:8080" } })
    a = h.respond({ ok = true, status = 202, jobs = "create", job = { id = ID, status = "queued" } }, local_req)
    assert.are.equal("http://127.0.0.1:8080/jobs/" .. ID, a.body.statusUrl)
  end)
end)

describe("GET /jobs/{id}", function()
  it("asks the runtime for the job with the caller as owner", function()
    local h = C.harness()
    local a = h.admit(R.get("/jobs/" .. ID), JOBS)
    assert.are.equal(ID, a.job.id)
    assert.are.equal(h.admit(post_job(), JOBS).enqueue.owner, a.job.owner)
    assert.are.equal(3600, a.job.url_ttl)
  end)

  it("answers 404 for an id that cannot be a job's, and for paths below it", function()
    local h = C.harness()
    for _, path in ipairs({ "/jobs/nope", "/jobs/" .. ID:upper() }) do
      local r = h.admit(R.get(path), JOBS)
      assert.are.equal(404, r.status)
      assert.are.equal("not_found", r.body.error.code)
    end
    assert.are.equal(404, h.admit(R.get("/jobs/" .. ID .. "/x"), JOBS).status)
  end)

  it("shapes a succeeded job's result as /generate-image's answer", function()
    local h = C.harness()
    local a = h.respond({ ok = true, status = 200, jobs = "status", job = { id = ID, status = "succeeded",
      created_at = 1795000000000, updated_at = 1795000005000,
      result = { ok = true, model = "amazon.titan-image-generator-v1", expires_at = "2026-11-29T15:20:55Z",
        images = { { url = "https://s3/x.png", key = "images/x.png", width = 512, height = 512, format = "png",
          content_type = "image/png", call = 1, index = 1 } },
        context = { seed = 7, seeds = { 7 } } } } }, R.get("/jobs/" .. ID))
    assert.are.equal(200, a.status)
    assert.are.equal("succeeded", a.body.status)
    assert.are.equal("2026-11-18T11:06:40Z", a.body.createdAt)
    assert.are.equal("https://s3/x.png", a.body.result.images[1].url)
    assert.are.equal(7, a.body.result.images[1].seed)
    assert.is_nil(a.body.error)
  end)

  it("shows a failed job's code and message, a running one's status", function()
    local h = C.harness()
    local a = h.respond({ ok = true, status = 200, jobs = "status", job = { id = ID, status = "failed",
      created_at = 1, updated_at = 2, result = { ok = false, status = 504, code = "timeout",
        message = "the job did not finish in time" } } }, R.get("/jobs/" .. ID))
    assert.are.same({ code = "timeout", message = "the job did not finish in time" }, a.body.error)
    a = h.respond({ ok = true, status = 200, jobs = "status", job = { id = ID, status = "running",
      created_at = 1, updated_at = 2 } }, R.get("/jobs/" .. ID))
    assert.are.equal("running", a.body.status)
    assert.is_nil(a.body.result)
    assert.is_nil(a.body.error)
  end)

  it("answers the runtime's 404 and 503 in the error shape", function()
    local h = C.harness()
    local a = h.respond({ ok = false, status = 404, code = "not_found", message = "No job has this id.",
      jobs = "status", request_id = R.REQUEST_ID }, R.get("/jobs/" .. ID))
    assert.are.equal(404, a.status)
    assert.are.equal("not_found", a.body.error.code)
    a = h.respond({ ok = false, status = 503, code = "jobs_unavailable", message = "The job could not be read.",
      jobs = "status", request_id = R.REQUEST_ID }, R.get("/jobs/" .. ID))
    assert.are.equal(503, a.status)
  end)
end)
