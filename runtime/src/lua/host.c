/* host.c - loading the policy and calling admit and respond.
 *
 * Each call runs in protected mode under fresh limits: the arguments are converted inside
 * the protected call (building them can run out of memory too), the result is converted
 * outside it (that conversion raises nothing, so no half-built JSON can leak). Whatever
 * goes wrong comes back as a code and one sentence with file:line; after an error the
 * state is collected, so the next warm invocation starts from what the policy keeps on
 * purpose and nothing more.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lua/host_internal.h"

/* ---- options -------------------------------------------------------------------------- */

static ig_err parse_env_u64(const char *name, uint64_t lo, uint64_t hi, const char *unit,
                               uint64_t *out, ig_error *err)
{
    const char *s = getenv(name);
    if (!s || !*s)
        return IG_OK;
    uint64_t v = 0;
    int ok = 1;
    for (const char *c = s; *c && ok; c++) {
        if (*c < '0' || *c > '9' || v > (UINT64_MAX - 9) / 10)
            ok = 0;
        else
            v = v * 10 + (uint64_t)(*c - '0');
    }
    if (!ok || v < lo || v > hi)
        return ig_error_set(err, IG_ERR_CONFIG,
                            "%s must be a whole number of %s from %llu to %llu, not \"%.64s\"", name,
                            unit, (unsigned long long)lo, (unsigned long long)hi, s);
    *out = v;
    return IG_OK;
}

/* 1 when dir holds a readable init.lua. */
static int policy_dir_usable(const char *dir)
{
    char path[4200];
    int n = snprintf(path, sizeof path, "%s/init.lua", dir);
    return n > 0 && (size_t)n < sizeof path && access(path, R_OK) == 0;
}

/* Without IMAGEGEN_POLICY_DIR, when the default (buf) holds no init.lua: the policy beside the
 * executable (the Lambda package's layout, unzipped anywhere), then the source tree's
 * runtime/policy seen from build/ (a developer's checkout). The first that holds init.lua
 * replaces buf; if none does, buf stays and loading it reports the missing file. */
static void policy_dir_fallback(char *buf, size_t size)
{
    if (policy_dir_usable(buf))
        return;
    char exe[4096];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0)
        return;
    exe[len] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return;
    *slash = '\0';
    static const char *const beside[] = {"policy", "../runtime/policy"};
    for (size_t i = 0; i < sizeof beside / sizeof beside[0]; i++) {
        char cand[4200];
        int n = snprintf(cand, sizeof cand, "%s/%s", exe, beside[i]);
        if (n > 0 && (size_t)n < size && policy_dir_usable(cand)) {
            memcpy(buf, cand, (size_t)n + 1);
            return;
        }
    }
}

ig_err ig_policy_options_from_env(ig_policy_options *o, ig_error *err)
{
    memset(o, 0, sizeof *o);
    o->memory_limit_bytes = (size_t)64 * 1024 * 1024;
    o->instruction_limit = 10000000;

    const char *dir = getenv("IMAGEGEN_POLICY_DIR");
    const char *root = getenv("LAMBDA_TASK_ROOT");
    int n;
    if (dir && *dir)
        n = snprintf(o->dir_buf, sizeof o->dir_buf, "%s", dir);
    else if (root && *root)
        n = snprintf(o->dir_buf, sizeof o->dir_buf, "%s/policy", root);
    else
        n = snprintf(o->dir_buf, sizeof o->dir_buf, "./policy");
    if (n < 0 || (size_t)n >= sizeof o->dir_buf)
        return ig_error_set(err, IG_ERR_CONFIG, "%s is longer than %zu bytes",
                            dir && *dir ? "IMAGEGEN_POLICY_DIR" : "LAMBDA_TASK_ROOT",
                            sizeof o->dir_buf - 1);
    if (!(dir && *dir))
        policy_dir_fallback(o->dir_buf, sizeof o->dir_buf);
    o->dir = o->dir_buf;

    uint64_t mb = 64, instructions = o->instruction_limit, time_ms = 1000;
    ig_err e = parse_env_u64("IMAGEGEN_LUA_MEMORY_MB", 1, 4096, "megabytes", &mb, err);
    if (e)
        return e;
    e = parse_env_u64("IMAGEGEN_LUA_INSTRUCTIONS", 1000, 1000000000000ULL, "instructions",
                         &instructions, err);
    if (e)
        return e;
    e = parse_env_u64("IMAGEGEN_LUA_TIME_MS", 10, 60000, "milliseconds", &time_ms, err);
    if (e)
        return e;
    o->memory_limit_bytes = (size_t)mb * 1024 * 1024;
    o->instruction_limit = instructions;
    o->time_limit_ms = time_ms;
    const char *allow = getenv("IMAGEGEN_POLICY_ENV");
    o->env_allow = allow && *allow ? allow : NULL;
    return IG_OK;
}

/* ---- errors --------------------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t len;
    unsigned min;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2, min = 0x80;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3, min = 0x800;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4, min = 0x10000;
    else
        return 0;
    if (n < len)
        return 0;
    unsigned cp = c & (0xffu >> (len + 1));
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3fu);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

/* Sets err to "prefix + text" with every invalid UTF-8 byte and control character of text
 * replaced, so that the sentence can go into a JSON log line as it is; a multi-byte
 * character cut by the length limit is dropped. */
static ig_err policy_fail(ig_error *err, ig_err code, const char *text)
{
    if (!err)
        return code;
    err->code = code;
    size_t o = 0, cap = sizeof err->message - 1;
    const unsigned char *s = (const unsigned char *)text;
    size_t n = strlen(text);
    for (size_t i = 0; i < n && o < cap;) {
        size_t len = utf8_seq(s + i, n - i);
        if (len == 0 || (len == 1 && s[i] < 0x20 && s[i] != '\n' && s[i] != '\t')) {
            err->message[o++] = '?';
            i++;
            continue;
        }
        if (o + len > cap)
            break;
        memcpy(err->message + o, s + i, len);
        o += len;
        i += len;
    }
    err->message[o] = '\0';
    return code;
}

/* The sentence for a pcall that ended with status (the message is on the stack top).
 * what names the call ("admit"); defined_at is where its function starts, if known. */
static ig_err policy_status_error(ig_policy *p, int status, const char *what,
                                     const char *defined_at, ig_error *err)
{
    lua_State *L = p->L;
    char text[1024];
    if (status == LUA_ERRMEM) {
        char limit[48];
        ig_lua_describe_limit(p->mem_limit, limit, sizeof limit);
        if (!p->mem_refusals)
            snprintf(text, sizeof text, "not enough memory in %s (the process is out of memory)",
                     what);
        else if (p->last_where[0])
            snprintf(text, sizeof text,
                     "%s: not enough memory in %s: the policy reached its memory limit of %s "
                     "(IMAGEGEN_LUA_MEMORY_MB); this is the last line seen before the failed "
                     "allocation",
                     p->last_where, what, limit);
        else if (defined_at && *defined_at)
            snprintf(text, sizeof text,
                     "%s: not enough memory in %s (the function starting here): the policy "
                     "reached its memory limit of %s (IMAGEGEN_LUA_MEMORY_MB)",
                     defined_at, what, limit);
        else
            snprintf(text, sizeof text,
                     "not enough memory in %s: the policy reached its memory limit of %s "
                     "(IMAGEGEN_LUA_MEMORY_MB)",
                     what, limit);
        return policy_fail(err, IG_ERR_POLICY, text);
    }
    const char *msg = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "(no message)";
    if (status == LUA_ERRERR)
        snprintf(text, sizeof text, "%s: error while reporting an error: %s", what, msg);
    else
        snprintf(text, sizeof text, "%s", msg);
    return policy_fail(err, IG_ERR_POLICY, text);
}

/* After an error: drop what the failed call left behind. */
static void policy_recover(ig_policy *p, int top)
{
    lua_settop(p->L, top);
    lua_gc(p->L, LUA_GCCOLLECT, 0);
}

/* ---- load ----------------------------------------------------------------------------- */

/* The last line holding code in the function at the top of the stack (popped), or 0. */
static int last_active_line(lua_State *L)
{
    lua_Debug ar;
    int last = 0;
    if (!lua_getinfo(L, ">L", &ar) || !lua_istable(L, -1)) {
        lua_pop(L, 1);
        return 0;
    }
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        if (lua_isinteger(L, -2) && lua_tointeger(L, -2) > last)
            last = (int)lua_tointeger(L, -2);
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return last;
}

/* Runs in protected mode: builds the sandbox, runs init.lua, checks and keeps its table. */
/* Lists the policy's table may carry, read once at load (the table is at index 2):
 * - cors_origins: the browser origins it allows ("*" allows any); the runtime gives its own
 *   last-resort answers the same CORS header the policy would have given;
 * - image_fields: the JSON body members that may carry input images; the runtime takes their
 *   bytes out of the request before admit() and leaves facts in their place (handler/inputs.c).
 * Each is a list of 1 to 100 strings of 1 to max_len bytes. */
static void read_string_list(lua_State *L, const char *name, size_t max_len, const char *what, json_t *into)
{
    int t = lua_getfield(L, 2, name);
    if (t == LUA_TNIL) {
        lua_pop(L, 1);
        return;
    }
    if (t != LUA_TTABLE)
        luaL_error(L, "init.lua: %s must be a list of strings, not a %s value", name, lua_typename(L, t));
    lua_Integer n = luaL_len(L, -1);
    if (n > 100)
        luaL_error(L, "init.lua: %s lists more than 100 entries", name);
    for (lua_Integer i = 1; i <= n; i++) {
        size_t len = 0;
        const char *o = lua_rawgeti(L, -1, i) == LUA_TSTRING ? lua_tolstring(L, -1, &len) : NULL;
        if (!o || len == 0 || len > max_len || strlen(o) != len)
            luaL_error(L, "init.lua: %s[%d] must be %s", name, (int)i, what);
        json_array_append_new(into, json_stringn(o, len));
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
}

const json_t *ig_policy_image_fields(const ig_policy *p)
{
    return p ? p->image_fields : NULL;
}

int ig_policy_origin_allowed(const ig_policy *p, const char *origin)
{
    if (!p || !origin || !*origin)
        return 0;
    size_t i;
    json_t *v;
    json_array_foreach(p->cors_origins, i, v)
    {
        const char *o = json_string_value(v);
        if (o && (strcmp(o, "*") == 0 || strcmp(o, origin) == 0))
            return 1;
    }
    return 0;
}

static int policy_load_main(lua_State *L)
{
    ig_policy *p = ig_lua_policy(L);
    ig_lua_sandbox_open(L);
    ig_lua_load_file(L, "init.lua"); /* 1: the chunk */
    lua_pushvalue(L, 1);
    lua_call(L, 0, 1); /* 2: what it returned */

    const char *problem = NULL;
    if (!lua_istable(L, 2)) {
        problem = lua_pushfstring(L, "init.lua must return a table with admit and respond "
                                     "functions, not a %s value",
                                  luaL_typename(L, 2));
    } else {
        static const char *const fns[] = {"admit", "respond"};
        for (int i = 0; i < 2 && !problem; i++) {
            int t = lua_getfield(L, 2, fns[i]);
            if (t != LUA_TFUNCTION)
                problem = lua_pushfstring(L, "the table init.lua returns has no %s function "
                                             "(its %s is a %s value)",
                                          fns[i], fns[i], lua_typename(L, t));
        }
    }
    if (problem) {
        lua_pushvalue(L, 1);
        int line = last_active_line(L);
        return line ? luaL_error(L, "init.lua:%d: %s", line, problem)
                    : luaL_error(L, "init.lua: %s", problem);
    }
    read_string_list(L, "cors_origins", 256, "an origin such as \"https://app.example.com\"", p->cors_origins);
    read_string_list(L, "image_fields", 64, "a body member name such as \"image\"", p->image_fields);
    lua_settop(L, 2);
    p->policy_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

ig_policy *ig_policy_load(const ig_policy_options *o, ig_error *err)
{
    if (!o || !o->dir || !*o->dir) {
        ig_error_set(err, IG_ERR_INVALID_ARG, "no policy directory given");
        return NULL;
    }
    if (o->memory_limit_bytes < 256 * 1024 || o->instruction_limit < 1000) {
        ig_error_set(err, IG_ERR_INVALID_ARG,
                     "the policy limits are too small (at least 256 KB and 1000 instructions)");
        return NULL;
    }
    ig_policy *p = calloc(1, sizeof *p);
    if (!p || !(p->dir = strdup(o->dir)) ||
        (o->env_allow && !(p->env_allow = strdup(o->env_allow))) || !(p->metrics = json_object()) ||
        !(p->cors_origins = json_array()) || !(p->image_fields = json_array())) {
        ig_policy_free(p);
        ig_error_set(err, IG_ERR_NOMEM, "out of memory creating the policy state");
        return NULL;
    }
    p->mem_limit = o->memory_limit_bytes;
    p->instr_limit = o->instruction_limit;
    p->time_limit_ms = o->time_limit_ms ? o->time_limit_ms : 1000;
    p->policy_ref = LUA_NOREF;
    p->L = lua_newstate(ig_lua_alloc, p);
    if (!p->L) {
        ig_policy_free(p);
        ig_error_set(err, IG_ERR_NOMEM, "out of memory creating the Lua state");
        return NULL;
    }
    memcpy(lua_getextraspace(p->L), &p, sizeof p);
    lua_setwarnf(p->L, ig_lua_warnf, p);
    ig_lua_limits_install(p);
    /* Loading may take longer than a request's call (Lambda gives init 10 s). */
    uint64_t call_limit = p->time_limit_ms;
    p->time_limit_ms = call_limit > IG_LUA_LOAD_TIME_MS ? call_limit : IG_LUA_LOAD_TIME_MS;
    ig_lua_limits_begin(p);
    p->time_limit_ms = call_limit;

    lua_State *L = p->L;
    lua_pushcfunction(L, ig_lua_msgh);
    lua_pushcfunction(L, policy_load_main);
    int status = lua_pcall(L, 0, 0, 1);
    ig_lua_limits_end(p);
    if (status != LUA_OK) {
        policy_status_error(p, status, "init.lua", NULL, err);
        ig_policy_free(p);
        return NULL;
    }
    lua_settop(L, 0);
    lua_gc(L, LUA_GCCOLLECT, 0);
    return p;
}

void ig_policy_free(ig_policy *p)
{
    if (!p)
        return;
    if (p->L) {
        ig_lua_limits_begin(p); /* finalizers run at close, under a fresh budget */
        lua_close(p->L);
        ig_lua_limits_end(p);
    }
    json_decref(p->metrics);
    free(p->dir);
    free(p->env_allow);
    json_decref(p->cors_origins);
    json_decref(p->image_fields);
    free(p);
}

/* ---- calls ---------------------------------------------------------------------------- */

typedef struct {
    const char *fn;          /* "admit" or "respond" */
    json_t *args[2];
    const char *arg_names[2];
    int converting;          /* 1 while the arguments are being built */
    char where[200];         /* "init.lua:5" where fn is defined */
} ig_call;

/* Runs in protected mode: fetches policy[fn], builds the arguments, calls. */
static int policy_call_main(lua_State *L)
{
    ig_call *c = lua_touserdata(L, 1);
    ig_policy *p = ig_lua_policy(L);
    lua_settop(L, 0);
    lua_rawgeti(L, LUA_REGISTRYINDEX, p->policy_ref);
    lua_getfield(L, 1, c->fn);
    if (!lua_isfunction(L, 2))
        return luaL_error(L, "the policy table has no %s function any more", c->fn);
    lua_Debug ar;
    lua_pushvalue(L, 2);
    if (lua_getinfo(L, ">S", &ar) && ar.linedefined > 0)
        snprintf(c->where, sizeof c->where, "%s:%d", ar.short_src, ar.linedefined);
    c->converting = 1;
    for (int i = 0; i < 2; i++)
        ig_lua_push_json(L, c->args[i], c->arg_names[i]);
    c->converting = 0;
    lua_call(L, 2, 1);
    return 1;
}

static ig_err policy_call(ig_policy *p, ig_call *c, json_t **out, ig_error *err)
{
    *out = NULL;
    if (!p || !p->L)
        return ig_error_set(err, IG_ERR_INVALID_ARG, "no policy loaded");
    lua_State *L = p->L;
    int top = lua_gettop(L);
    if (!lua_checkstack(L, 8))
        return ig_error_set(err, IG_ERR_POLICY, "the Lua stack is exhausted");
    ig_lua_limits_begin(p);
    c->where[0] = '\0';
    c->converting = 0;
    lua_pushcfunction(L, ig_lua_msgh);
    lua_pushcfunction(L, policy_call_main);
    lua_pushlightuserdata(L, c);
    int status = lua_pcall(L, 1, 1, top + 1);
    ig_lua_limits_end(p);
    if (status != LUA_OK) {
        ig_err code;
        if (c->converting && status == LUA_ERRMEM) {
            char limit[48];
            ig_lua_describe_limit(p->mem_limit, limit, sizeof limit);
            code = ig_error_set(err, IG_ERR_TOO_LARGE,
                                "the arguments of %s do not fit in the policy's memory limit of %s",
                                c->fn, limit);
        } else if (c->converting) {
            code = policy_fail(err, IG_ERR_INVALID_ARG,
                                  lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : c->fn);
        } else {
            code = policy_status_error(p, status, c->fn, c->where, err);
        }
        policy_recover(p, top);
        return code;
    }
    const char *where = c->where[0] ? c->where : "init.lua";
    char text[1024];
    if (!lua_istable(L, -1)) {
        snprintf(text, sizeof text, "%s: %s returned a %s value, not a table", where, c->fn,
                 luaL_typename(L, -1));
        policy_recover(p, top);
        return policy_fail(err, IG_ERR_POLICY, text);
    }
    char msg[512];
    json_t *j = ig_lua_to_json(L, -1, "", msg, sizeof msg);
    lua_settop(L, top);
    if (j && !json_is_object(j)) {
        json_decref(j);
        j = NULL;
        snprintf(msg, sizeof msg, "a list (array) instead of a table with named fields");
    }
    if (!j) {
        snprintf(text, sizeof text, "%s: %s returned %s", where, c->fn, msg);
        return policy_fail(err, IG_ERR_POLICY, text);
    }
    *out = j;
    return IG_OK;
}

ig_err ig_policy_admit(ig_policy *p, json_t *req, json_t *ctx, json_t **out, ig_error *err)
{
    ig_call c = {.fn = "admit", .args = {req, ctx}, .arg_names = {"req", "ctx"}};
    return policy_call(p, &c, out, err);
}

ig_err ig_policy_respond(ig_policy *p, json_t *result, json_t *req, json_t **out, ig_error *err)
{
    ig_call c = {.fn = "respond", .args = {result, req}, .arg_names = {"result", "req"}};
    return policy_call(p, &c, out, err);
}

json_t *ig_policy_take_metrics(ig_policy *p)
{
    json_t *fresh = json_object();
    if (!p)
        return fresh;
    json_t *m = p->metrics;
    if (!fresh)
        return json_incref(m); /* keep collecting into the same object */
    p->metrics = fresh;
    return m;
}

size_t ig_policy_memory_in_use(const ig_policy *p)
{
    return p ? p->mem_used : 0;
}

void ig_policy_collect(ig_policy *p)
{
    if (p && p->L) {
        ig_lua_limits_begin(p);
        lua_gc(p->L, LUA_GCCOLLECT, 0);
        ig_lua_limits_end(p);
    }
}

void ig_policy_set_deadline(ig_policy *p, int64_t deadline_ms)
{
    if (p)
        p->deadline_ms = deadline_ms > 0 ? deadline_ms : 0;
}
