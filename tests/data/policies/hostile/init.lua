-- A policy that tries to leave its sandbox: files, commands, code loading, modules outside its
-- directory, the environment beyond the allow-list, finalizers. admit() reports what each
-- attempt got, so a test can check from the outside that every one of them came back empty.
local M = {}

-- Runs f in protected mode; the outcome as a string: "error: ..." or "value: <type>".
local function try(f)
  local ok, v = pcall(f)
  if not ok then return "error: " .. tostring(v) end
  if v == nil then return "nil" end
  return "value: " .. type(v) .. " " .. tostring(v)
end

local function attempts()
  return {
    io_open = try(function() return io.open("/etc/passwd") end),
    io_popen = try(function() return io.popen("id") end),
    os_execute = try(function() return os.execute("id") end),
    os_getenv = try(function() return os.getenv("AWS_SECRET_ACCESS_KEY") end),
    os_remove = try(function() return os.remove("/tmp/imagegen-sandbox-probe") end),
    load = try(function() return load("return 1") end),
    loadstring = try(function() return loadstring("return 1") end),
    dofile = try(function() return dofile("/etc/passwd") end),
    loadfile = try(function() return loadfile("/etc/passwd") end),
    require_parent = try(function() return require("../../../../etc/passwd") end),
    require_dotted = try(function() return require("..init") end),
    require_absolute = try(function() return require("/etc/passwd") end),
    require_io = try(function() return require("io") end),
    require_os = try(function() return require("os") end),
    package = try(function() return package.loadlib("libc.so.6", "system") end),
    debug = try(function() return debug.getregistry() end),
    string_dump = try(function() return string.dump(try) end),
    collectgarbage_collect = try(function() return collectgarbage("collect") end),
    gc_finalizer = try(function() return setmetatable({}, { __gc = function() end }) and "installed" end),
    env_secret = try(function() return imagegen.env("AWS_SECRET_ACCESS_KEY") end),
    env_token = try(function() return imagegen.env("AWS_SESSION_TOKEN") end),
    env_access_key = try(function() return imagegen.env("AWS_ACCESS_KEY_ID") end),
    env_listed = try(function() return imagegen.env("TZ") end),
    env_unlisted = try(function() return imagegen.env("LANG") end),
    env_path = try(function() return imagegen.env("PATH") end),
    env_imagegen_secret = try(function() return imagegen.env("IMAGEGEN_TEST_SECRET_TOKEN") end),
    env_bucket = try(function() return imagegen.env("IMAGEGEN_BUCKET") end),
    env_region = try(function() return imagegen.env("AWS_REGION") end),
  }
end

function M.admit(req, ctx)
  return { status = 200, headers = { ["Content-Type"] = "application/json" },
           body = { attempts = attempts(), requestId = ctx.request_id } }
end

function M.respond(result, req)
  return { status = result.status or 500, headers = { ["Content-Type"] = "application/json" },
           body = { error = { code = result.code, message = result.message } } }
end

return M
