-- page_spec.lua - GET / and GET /web/{file}: the policy names the file the runtime serves and
-- the 404 answer for one it does not ship; names that are not plain file names are refused here.

local C = require("contract")
local R = require("requests")

describe("the web page", function()
  it("GET / names index.html, with a 404 answer in the error shape for a function without it", function()
    local a = C.harness().admit(R.get("/"))
    assert.are.equal("index.html", a.page.file)
    assert.are.equal(404, a.page.not_found.status)
    assert.are.equal("not_found", a.page.not_found.body.error.code)
    assert.are.equal('no page file "index.html"; the page is served at /', a.page.not_found.body.error.message)
  end)

  it("GET /web/{file} names the file", function()
    assert.are.equal("app.js", C.harness().admit(R.get("/web/app.js")).page.file)
    assert.are.equal("app-2.css", C.harness().admit(R.get("/web/app-2.css")).page.file)
  end)

  it("needs no API key and spends no rate-limit tokens", function()
    local h = C.harness({ config = function(c) c.rate_limit.tiers.anonymous = { rate = 0.001, burst = 1 } end })
    for _ = 1, 5 do assert.are.equal("index.html", h.admit(R.get("/")).page.file) end
  end)

  it("refuses names that are not plain file names with 404, before the runtime looks", function()
    local h = C.harness()
    for _, path in ipairs({ "/web/..", "/web/.env", "/web/%2e%2e%2fpolicy%2fconfig.lua", "/web/App.js",
      "/web/app", "/web/-x.js", "/web/a.b.js", "/web/" .. string.rep("a", 80) .. ".js", "/web/app.js%00" }) do
      local st, code = h.refusal(R.get(path))
      assert.are.equal(404, st, path)
      assert.are.equal("not_found", code, path)
    end
  end)

  it("answers only GET", function()
    local st, code = C.harness().refusal(R.post("/", {}))
    assert.are.equal(405, st)
    assert.are.equal("method_not_allowed", code)
  end)
end)

describe("the web page on API Gateway's own domain", function()
  local HOST = "a1b2c3d4e5.execute-api.us-east-1.amazonaws.com"
  local function at(request_path, host)
    local req = R.get("/", nil, { headers = { Host = host or HOST } })
    req.stage, req.request_path = "prod", request_path
    return req
  end

  it("sends /prod, without its slash, to /prod/, where the page's relative URLs work", function()
    local a = C.harness().admit(at("/prod"))
    assert.are.equal(301, a.status)
    assert.are.equal("/prod/", a.headers.Location)
  end)

  it("serves /prod/ and leaves other hosts alone", function()
    assert.are.equal("index.html", C.harness().admit(at("/prod/")).page.file)
    assert.are.equal("index.html", C.harness().admit(at("/prod", "images.example.com")).page.file)
    assert.are.equal("index.html", C.harness().admit(at(nil)).page.file)
  end)
end)
