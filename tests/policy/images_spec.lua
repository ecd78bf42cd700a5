-- images_spec.lua - image records: the `record` a plan carries (owner, retention, parameters,
-- the prompt's hash), what GET /images/{id} and GET /images hand the runtime, and the answers
-- respond() shapes from the runtime's records.

local C = require("contract")
local R = require("requests")
local shim = require("shim")

local TABLE = R.ctx({ images = true, jobs = true })
local ID = "0f8e4b1c-2d3a-4b5c-8d9e-0a1b2c3d4e5f"
local ALICE = { source_ip = "1.2.3.4", api_key_id = "k-alice" }
local BOB = { source_ip = "1.2.3.4", api_key_id = "k-bob" }

local function unlimited(c) c.rate_limit.enabled = false end

local function view(over)
  local v = { id = ID, key = "images/2026/12/07/" .. ID .. ".png", created_at = 1795000000123, model = "m",
    width = 1024, height = 1024, bytes = 1234, format = "png", content_type = "image/png", seed = "42",
    cached = false, expires_at = 1797592000, url = "http://s3/x?sig", url_expires_at = 1795003600,
    download_url = "http://s3/x?response-content-disposition=attachment&sig",
    parameters = { aspectRatio = "1:1", outputFormat = "png" }, prompt_sha256 = string.rep("a", 64) }
  for k, x in pairs(over or {}) do v[k] = x end
  return v
end

describe("the record a plan carries", function()
  it("names the owner, the bucket's retention, the parameters and the prompt's hash, not the prompt", function()
    local h = C.harness({ config = unlimited })
    local a = h.admit(R.post("/generate-image", { prompt = "a red fox", aspectRatio = "16:9" }, { identity = ALICE }),
      TABLE)
    local r = a.generate.record
    assert.is_table(r)
    assert.are.equal(64, #r.owner)
    assert.are.equal(30 * 86400, r.retention_s)
    assert.are.equal("647c3a6520b87d387c85a08faff768cf92f436d1477dabb951d7c6417813beb4", r.prompt_sha256)
    assert.is_nil(r.prompt)
    assert.are.equal("16:9", r.parameters.aspectRatio)
    assert.is_nil(r.parameters.prompt)
    assert.is_nil(r.parameters.seed) -- the seed goes per image, from the call
    -- the same owner as the caller's jobs
    local job = h.admit(R.post("/jobs", { prompt = "a red fox" }, { identity = ALICE }), TABLE)
    assert.are.equal(r.owner, job.enqueue.owner)
    assert.are.same(r.owner, job.enqueue.generate.record.owner) -- a job's images get records too
  end)

  it("keeps the prompt itself only when images.prompt is text, and neither with none", function()
    local h = C.harness({ config = function(c) unlimited(c); c.images = { prompt = "text", retention_days = 2 } end })
    local r = h.admit(R.post("/generate-image", { prompt = "a red fox" }), TABLE).generate.record
    assert.are.equal("a red fox", r.prompt)
    assert.are.equal(2 * 86400, r.retention_s)
    h = C.harness({ config = unlimited, env = { IMAGEGEN_RECORD_PROMPTS = "none" } })
    r = h.admit(R.post("/generate-image", { prompt = "a red fox" }), TABLE).generate.record
    assert.is_nil(r.prompt_sha256)
    assert.is_nil(r.prompt)
  end)

  it("is left out when the runtime keeps no records", function()
    local h = C.harness({ config = unlimited })
    assert.is_nil(h.admit(R.post("/generate-image", { prompt = "a red fox" }), R.ctx()).generate.record)
  end)

  it("rejects a retention that is not whole days from 1 to 3650", function()
    local H = require("harness")
    for _, bad in ipairs({ "0", "3651", "x", "1.5" }) do
      local problem = H.load_error({ env = { IMAGEGEN_IMAGE_RETENTION_DAYS = bad } })
      assert.truthy(problem and problem:find("IMAGEGEN_IMAGE_RETENTION_DAYS", 1, true), bad)
    end
    assert.is_nil(H.load_error({ env = { IMAGEGEN_IMAGE_RETENTION_DAYS = "7" } }))
  end)
end)

describe("GET /images/{id}", function()
  it("hands the runtime the id, the caller as owner and the URL lifetime", function()
    local h = C.harness()
    local a = h.admit(R.get("/images/" .. ID, nil, { identity = ALICE }), TABLE)
    assert.are.equal(ID, a.image.id)
    assert.are.equal(64, #a.image.owner)
    assert.are.equal(3600, a.image.url_ttl)
    local b = h.admit(R.get("/images/" .. ID, nil, { identity = BOB }), TABLE)
    assert.are_not.equal(a.image.owner, b.image.owner)
  end)

  it("answers 404 at once for an id that is not an image's", function()
    local h = C.harness()
    for _, bad in ipairs({ "nope", string.upper(ID), ID .. "0", "0123456789abcdef0123456789abcdef" }) do
      local a = h.admit(R.get("/images/" .. bad), TABLE)
      assert.are.equal(404, a.status, bad)
      assert.are.equal("not_found", a.body.error.code)
    end
  end)

  it("answers 503 images_unavailable without a table, and 405 to POST", function()
    local h = C.harness()
    local a = h.admit(R.get("/images/" .. ID), R.ctx())
    assert.are.equal(503, a.status)
    assert.are.equal("images_unavailable", a.body.error.code)
    assert.truthy(a.body.error.message:find("IMAGEGEN_TABLE", 1, true))
    assert.are.equal(405, h.admit(R.post("/images/" .. ID, {}), TABLE).status)
  end)

  it("shapes the runtime's record: fresh URL, times in RFC 3339, seed a number", function()
    local a = C.harness().respond({ ok = true, status = 200, records = "get", image = view(),
      request_id = R.REQUEST_ID }, R.get("/images/" .. ID))
    assert.are.equal(200, a.status)
    local b = a.body
    assert.are.equal(ID, b.id)
    assert.are.equal("http://s3/x?sig", b.url)
    assert.are.equal("http://s3/x?response-content-disposition=attachment&sig", b.downloadUrl)
    assert.are.equal("2026-11-18T11:06:40Z", b.createdAt)
    assert.are.equal("2026-11-18T12:06:40Z", b.expiresAt)
    assert.are.equal("2026-12-18T11:06:40Z", b.recordExpiresAt)
    assert.are.equal(42, b.seed)
    assert.are.equal(false, b.cached)
    assert.are.equal("image/png", b.contentType)
    assert.are.equal("1:1", b.parameters.aspectRatio)
    assert.are.equal(string.rep("a", 64), b.promptSha256)
    assert.is_nil(b.key)
    assert.is_nil(b.owner)
  end)

  it("answers the runtime's 404 as not_found", function()
    local a = C.harness().respond({ ok = false, status = 404, code = "not_found", message = "No image has this id.",
      records = "get", request_id = R.REQUEST_ID }, R.get("/images/" .. ID))
    assert.are.equal(404, a.status)
    assert.are.equal("not_found", a.body.error.code)
  end)
end)

describe("GET /images", function()
  it("hands the runtime the owner, limit (20 by default) and the cursor", function()
    local h = C.harness()
    local a = h.admit(R.get("/images", nil, { identity = ALICE }), TABLE)
    assert.are.equal(20, a.images.limit)
    assert.is_nil(a.images.cursor)
    a = h.admit(R.get("/images", { limit = "7", next = "abc_-.def" }, { identity = ALICE }), TABLE)
    assert.are.equal(7, a.images.limit)
    assert.are.equal("abc_-.def", a.images.cursor)
    h = C.harness({ config = function(c) c.images = { page_size = 50 } end })
    assert.are.equal(50, h.admit(R.get("/images"), TABLE).images.limit)
  end)

  it("refuses a limit outside 1..100, a malformed cursor and unknown parameters", function()
    local h = C.harness()
    for _, bad in ipairs({ "0", "101", "-1", "7.5", "x", "1000" }) do
      local a = h.admit(R.get("/images", { limit = bad }), TABLE)
      assert.are.equal(400, a.status, bad)
      assert.are.equal("invalid_parameter", a.body.error.code)
      assert.truthy(a.body.error.message:find("1 to 100", 1, true))
    end
    for _, bad in ipairs({ "", "has space", "a/b", string.rep("a", 513) }) do
      local a = h.admit(R.get("/images", { next = bad }), TABLE)
      assert.are.equal(400, a.status)
      assert.are.equal("invalid_cursor", a.body.error.code)
    end
    local a = h.admit(R.get("/images", { page = "2" }), TABLE)
    assert.are.equal(400, a.status)
    assert.are.equal("unknown_parameter", a.body.error.code)
  end)

  it("shapes a page: the records in order, next when there is more, [] when empty", function()
    local h = C.harness()
    local list = setmetatable({ view(), view({ id = "1f8e4b1c-2d3a-4b5c-8d9e-0a1b2c3d4e5f" }) }, shim.ARRAY_MT)
    local a = h.respond({ ok = true, status = 200, records = "list", list = list, next = "cur.sor",
      request_id = R.REQUEST_ID }, R.get("/images"))
    assert.are.equal(200, a.status)
    assert.are.equal(2, #a.body.images)
    assert.are.equal(ID, a.body.images[1].id)
    assert.are.equal("cur.sor", a.body.next)
    local empty = setmetatable({}, shim.ARRAY_MT) -- the runtime's [] arrives marked as an array
    a = h.respond({ ok = true, status = 200, records = "list", list = empty, request_id = R.REQUEST_ID }, R.get("/images"))
    assert.are.equal(shim.ARRAY_MT, getmetatable(a.body.images))
    assert.are.equal(0, #a.body.images)
    assert.is_nil(a.body.next)
  end)

  it("answers the runtime's refusal of a cursor as 400 invalid_cursor", function()
    local a = C.harness().respond({ ok = false, status = 400, code = "invalid_cursor",
      message = "next is not a cursor this API gave you", records = "list", request_id = R.REQUEST_ID },
      R.get("/images"))
    assert.are.equal(400, a.status)
    assert.are.equal("invalid_cursor", a.body.error.code)
  end)
end)

describe("a generation's answer", function()
  it("gives each image its record's id", function()
    local h = C.harness({ config = unlimited })
    local _, plan = h.plan(R.post("/generate-image", { prompt = "a red fox" }))
    local result = R.success(plan)
    result.images[1].id = ID
    local a = h.respond(result, R.post("/generate-image", { prompt = "a red fox" }))
    assert.are.equal(ID, a.body.images[1].id)
  end)
end)
