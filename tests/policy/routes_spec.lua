-- routes_spec.lua - routes, methods, /health, /models and CORS.

local C = require("contract")
local R = require("requests")

local TITAN = "amazon.titan-image-generator-v1"
local TITAN2 = "amazon.titan-image-generator-v2:0"
local NOVA = "amazon.nova-canvas-v1:0"
local CORE = "stability.stable-image-core-v1:1"
local APP = "https://app.example.com"

local function origins(list)
  return { config = function(c) c.cors.origins = list end }
end

describe("unknown routes", function()
  it("answer 404 not_found in the JSON error shape", function()
    local st, code, msg, a = C.harness().refusal(R.get("/generate"))
    assert.are.equal(404, st)
    assert.are.equal("not_found", code)
    assert.are.equal('no route "/generate"; this API serves /generate-image, /models, /health, /edit-image, '
      .. '/uploads, /v1/images/generations, /v1/images/edits, /v1/models, /jobs, /jobs/{id}, /images, /images/{id}, '
      .. '/, /web/{file}', msg)
    assert.are.equal("application/json", a.headers["Content-Type"])
    assert.are.equal(R.REQUEST_ID, a.body.error.requestId)
  end)

  it("include paths that differ by a trailing slash or case", function()
    local h = C.harness()
    assert.are.equal(404, (h.refusal(R.get("/health/"))))
    assert.are.equal(404, (h.refusal(R.get("/Health"))))
    assert.are.equal(404, (h.refusal(R.get("//"))))
    assert.are.equal(404, (h.refusal(R.get("/web/"))))
  end)

  it("answer OPTIONS with 404 too", function()
    assert.are.equal(404, (C.harness().refusal(R.request("OPTIONS", "/nope", { headers = { Origin = APP } }))))
  end)

  it("do not break on a missing or odd request", function()
    local h = C.harness()
    assert.are.equal(404, h.admit({}).status)
    assert.are.equal(404, h.admit({ method = "GET", path = 42 }).status)
    assert.are.equal(400, h.admit({ method = "GET", path = "/generate-image" }).status)
  end)

  it("log a long non-ASCII path cut on a character boundary", function()
    local h = C.harness()
    h.refusal(R.get("/" .. string.rep("é", 150)))
    local route = h.ctl.find_logs({ outcome = "not_found" })[1].fields.route
    assert.is_truthy(utf8.len(route))
    assert.is_true(#route <= 4 + 200)
  end)

  it("show a long or binary path cut and escaped", function()
    local _, _, msg = C.harness().refusal(R.get("/" .. string.rep("a", 100) .. "\n"))
    local routes = msg:match("; this API serves .*$")
    assert.is_true(#msg - #routes < 60) -- the path shown is cut to 40 bytes
    assert.is_nil(msg:find(string.rep("a", 41), 1, true))
    assert.is_nil(msg:find("\n", 1, true))
  end)
end)

describe("wrong methods", function()
  it("answer 405 method_not_allowed with an Allow header", function()
    local h = C.harness()
    local st, code, msg, a = h.refusal(R.request("DELETE", "/generate-image"))
    assert.are.equal(405, st)
    assert.are.equal("method_not_allowed", code)
    assert.are.equal('/generate-image does not answer "DELETE"; allowed methods: GET, POST, OPTIONS', msg)
    assert.are.equal("GET, POST, OPTIONS", a.headers.Allow)
    st, _, _, a = h.refusal(R.post("/health", { x = 1 }))
    assert.are.equal(405, st)
    assert.are.equal("GET, OPTIONS", a.headers.Allow)
    assert.are.equal(405, (h.refusal(R.request("HEAD", "/models"))))
    assert.are.equal(405, (h.refusal(R.request("PUT", "/generate-image"))))
  end)
end)

describe("GET /health", function()
  it("answers 200 {status: ok}", function()
    local a = C.harness().admit(R.get("/health"))
    assert.are.equal(200, a.status)
    assert.are.same({ status = "ok" }, C.client_body(a))
    assert.are.equal("application/json", a.headers["Content-Type"])
  end)
end)

describe("GET /models", function()
  it("lists the allowed models with sizes, limits and defaults", function()
    local body = C.client_body(C.titan_harness().admit(R.get("/models")))
    assert.are.equal(TITAN, body.defaultModel)
    assert.are.equal(2, #body.models)
    local m = body.models[1]
    assert.are.equal(TITAN, m.id)
    assert.are.equal("Amazon Titan Image Generator G1", m.name)
    assert.are.equal(25, #m.sizes)
    assert.are.equal("1024x1024", m.sizes[1])
    assert.are.same({ minLength = 1, maxLength = 512 }, m.limits.prompt)
    assert.are.same({ min = 1.1, max = 10 }, m.limits.cfgScale)
    assert.are.same({ min = 0, max = 2147483647 }, m.limits.seed)
    assert.are.same({ min = 1, max = 5 }, m.limits.numberOfImages)
    assert.are.same({ "standard", "premium" }, m.limits.quality)
    assert.are.same({ width = 1024, height = 1024, cfgScale = 8, numberOfImages = 1, quality = "standard",
      outputFormat = "png" }, m.defaults)
    assert.are.same({ "png" }, m.outputFormats)
    assert.are.equal("legacy", m.status)
    assert.are.equal(TITAN2, body.models[2].id)
    assert.are.equal("2026-06-30", body.models[2].endOfLife)
  end)

  it("shows only what config allows, and Nova's size rule", function()
    local h = C.harness({ config = function(c) c.allowed_models = { NOVA }; c.default_model = NOVA end })
    local body = C.client_body(h.admit(R.get("/models")))
    assert.are.equal(1, #body.models)
    assert.are.equal(NOVA, body.models[1].id)
    assert.is_nil(body.models[1].sizes)
    assert.are.same({ minSide = 320, maxSide = 4096, multipleOf = 16, maxAspectRatio = 4, maxPixels = 4194303 },
      body.models[1].sizeRule)
  end)

  it("may be cached briefly", function()
    assert.are.equal("max-age=300", C.harness().admit(R.get("/models")).headers["Cache-Control"])
  end)
end)

describe("CORS", function()
  it("allows no cross-origin use by default", function()
    local h = C.harness()
    local a = h.admit(R.get("/health", nil, { headers = { Origin = APP } }))
    assert.is_nil(a.headers["Access-Control-Allow-Origin"])
    assert.are.equal("Origin", a.headers.Vary)
  end)

  it("echoes an allowed origin on every answer, errors included", function()
    local h = C.harness(origins({ APP }))
    local hdr = { headers = { Origin = APP } }
    for _, a in ipairs({
      h.admit(R.get("/health", nil, hdr)),
      h.admit(R.get("/nope", nil, hdr)),
      h.admit(R.request("DELETE", "/health", hdr)),
      h.admit(R.get("/generate-image", { width = "1" }, hdr)),
    }) do
      assert.are.equal(APP, a.headers["Access-Control-Allow-Origin"])
      assert.are.equal("Origin", a.headers.Vary)
      assert.matches("ratelimit-remaining", a.headers["Access-Control-Expose-Headers"], 1, true)
    end
  end)

  it("adds nothing for an origin not on the list", function()
    local h = C.harness(origins({ APP }))
    local a = h.admit(R.get("/health", nil, { headers = { Origin = "https://evil.example" } }))
    assert.is_nil(a.headers["Access-Control-Allow-Origin"])
    assert.is_nil(a.headers["Access-Control-Expose-Headers"])
    a = h.admit(R.get("/health", nil, { headers = { Origin = APP .. ".evil.example" } }))
    assert.is_nil(a.headers["Access-Control-Allow-Origin"])
  end)

  it("matches case-insensitively and answers with the configured spelling", function()
    local a = C.harness(origins({ APP })).admit(R.get("/health", nil, { headers = { Origin = "HTTPS://APP.EXAMPLE.COM" } }))
    assert.are.equal(APP, a.headers["Access-Control-Allow-Origin"])
  end)

  it("answers * when every origin is allowed", function()
    local a = C.harness(origins({ "*" })).admit(R.get("/health", nil, { headers = { Origin = "https://any.example" } }))
    assert.are.equal("*", a.headers["Access-Control-Allow-Origin"])
  end)

  it("takes the list from IMAGEGEN_CORS_ORIGINS over config", function()
    local h = C.harness({ env = { IMAGEGEN_CORS_ORIGINS = " https://a.example , http://localhost:5173" },
      config = function(c) c.cors.origins = { APP } end })
    local function allow(o) return h.admit(R.get("/health", nil, { headers = { Origin = o } })).headers["Access-Control-Allow-Origin"] end
    assert.are.equal("https://a.example", allow("https://a.example"))
    assert.are.equal("http://localhost:5173", allow("http://localhost:5173"))
    assert.is_nil(allow(APP))
  end)

  it("carries the CORS headers on respond()'s answers", function()
    local h = C.harness(origins({ APP }))
    local req = R.get("/generate-image", { prompt = "x" }, { headers = { Origin = APP } })
    local _, plan = h.plan(req)
    assert.are.equal(APP, h.respond(R.success(plan), req).headers["Access-Control-Allow-Origin"])
    assert.are.equal(APP, h.respond(R.failure(plan, "timeout", 504, "slow"), req).headers["Access-Control-Allow-Origin"])
  end)
end)

describe("OPTIONS", function()
  it("answers a preflight from an allowed origin with 204 and the route's methods", function()
    local h = C.harness(origins({ APP }))
    local a = h.admit(R.request("OPTIONS", "/generate-image", { headers = {
      Origin = APP, ["Access-Control-Request-Method"] = "POST", ["Access-Control-Request-Headers"] = "content-type",
    } }))
    assert.are.equal(204, a.status)
    assert.are.equal("", a.body)
    assert.are.equal(APP, a.headers["Access-Control-Allow-Origin"])
    assert.are.equal("GET, POST, OPTIONS", a.headers["Access-Control-Allow-Methods"])
    assert.are.equal("content-type, x-api-key, authorization", a.headers["Access-Control-Allow-Headers"])
    assert.are.equal("600", a.headers["Access-Control-Max-Age"])
    assert.matches("Origin", a.headers.Vary, 1, true)
  end)

  it("answers on every route", function()
    local h = C.harness(origins({ APP }))
    for path, methods in pairs({ ["/generate-image"] = "GET, POST, OPTIONS", ["/models"] = "GET, OPTIONS", ["/health"] = "GET, OPTIONS" }) do
      local a = h.admit(R.request("OPTIONS", path, { headers = { Origin = APP } }))
      assert.are.equal(204, a.status)
      assert.are.equal(methods, a.headers["Access-Control-Allow-Methods"])
    end
  end)

  it("refuses a preflight from an origin not on the list with 403", function()
    local h = C.harness(origins({ APP }))
    local st, code, msg, a = h.refusal(R.request("OPTIONS", "/generate-image", { headers = { Origin = "https://evil.example" } }))
    assert.are.equal(403, st)
    assert.are.equal("origin_not_allowed", code)
    assert.are.equal('origin "https://evil.example" may not call this API from a browser', msg)
    assert.is_nil(a.headers["Access-Control-Allow-Origin"])
  end)

  it("without an Origin is not a preflight: 204 with Allow", function()
    local a = C.harness().admit(R.request("OPTIONS", "/health"))
    assert.are.equal(204, a.status)
    assert.are.equal("GET, OPTIONS", a.headers.Allow)
  end)

  it("uses the configured headers and max age", function()
    local h = C.harness({ config = function(c)
      c.cors.origins = { APP }
      c.cors.allow_headers = { "content-type" }
      c.cors.max_age = 60
    end })
    local a = h.admit(R.request("OPTIONS", "/models", { headers = { Origin = APP } }))
    assert.are.equal("content-type", a.headers["Access-Control-Allow-Headers"])
    assert.are.equal("60", a.headers["Access-Control-Max-Age"])
  end)
end)

describe("the decision log", function()
  it("has one line per request with route, outcome, status and key id", function()
    local h = C.harness()
    h.admit(R.get("/health"))
    h.admit(R.get("/nope"))
    h.admit(R.get("/generate-image", { prompt = "x" }, { identity = { source_ip = "192.0.2.5", api_key_id = "k-9" } }))
    assert.are.equal(3, #h.ctl.logs)
    assert.are.same({ route = "GET /health", outcome = "health", status = 200, source_ip = "203.0.113.9" }, h.ctl.logs[1].fields)
    assert.are.equal("not_found", h.ctl.logs[2].fields.outcome)
    assert.are.equal(404, h.ctl.logs[2].fields.status)
    local g = h.ctl.logs[3].fields
    assert.are.equal("generate", g.outcome)
    assert.are.equal("k-9", g.key_id)
    assert.are.equal(CORE, g.model)
    assert.is_nil(g.prompt)
  end)

  it("carries the prompt only when IMAGEGEN_LOG_PROMPTS=1", function()
    local h = C.harness({ env = { IMAGEGEN_LOG_PROMPTS = "1" } })
    h.admit(R.get("/generate-image", { prompt = "a  red fox" }))
    assert.are.equal("a red fox", h.ctl.find_logs({ outcome = "generate" })[1].fields.prompt)
    h = C.harness({ env = { IMAGEGEN_LOG_PROMPTS = "yes" } })
    h.admit(R.get("/generate-image", { prompt = "a red fox" }))
    assert.is_nil(h.ctl.find_logs({ outcome = "generate" })[1].fields.prompt)
  end)

  it("counts refusals in the Rejected metric", function()
    local h = C.harness()
    h.admit(R.get("/nope"))
    h.admit(R.get("/generate-image", {}))
    h.admit(R.get("/generate-image", { prompt = "x" }))
    assert.are.equal(2, h.ctl.metric_total("Rejected"))
    assert.are.equal(1, h.ctl.metric_total("ImagesRequested"))
  end)
end)
