/* api.c - the imagegen table: the C functions a policy may call.
 *
 * Each function is the narrowest door to something the sandbox otherwise closes: time,
 * randomness, hashing, structured logs and metrics, and a filtered view of the
 * environment. imagegen.env returns only the variables every policy may read (the documented
 * config overrides) and those the operator lists in IMAGEGEN_POLICY_ENV, and never a
 * credential-like name, whatever the list says: values a script can read can end up in a
 * response or a log.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "codec/hash.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/random.h"
#include "lua/host_internal.h"

/* ---- environment allow-list ----------------------------------------------------------- */

static const char *const ig_env_never[] = {
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
};

/* Words that mark a name as credential-like: refused even when the operator lists it. */
static const char *const ig_env_secret_words[] = {"SECRET", "TOKEN", "PASSWORD", "PASSWD", "PASS",
                                                  "CREDENTIAL", "PRIVATE", "KEY", "AUTH", "SESSION",
                                                  "SIGNATURE", "COOKIE", "DSN", "SALT"};

/* What every policy may read: where it runs, and the settings the shipped policy documents as
 * overrides of config.lua (runtime/policy/README.md). Anything else must be listed by the
 * operator in IMAGEGEN_POLICY_ENV. */
static const char *const ig_env_always[] = {
    "AWS_REGION", "AWS_LAMBDA_FUNCTION_NAME", "IMAGEGEN_BEDROCK_REGION", "IMAGEGEN_ALLOWED_MODELS",
    "IMAGEGEN_DEFAULT_MODEL", "IMAGEGEN_CORS_ORIGINS", "IMAGEGEN_URL_TTL", "IMAGEGEN_KEY_PREFIX",
    "IMAGEGEN_CACHE_KEY_PREFIX", "IMAGEGEN_LOG_PROMPTS", "IMAGEGEN_RATE_LIMIT", "IMAGEGEN_RATE_LIMIT_BACKEND",
    "IMAGEGEN_TABLE"};

/* 1 when word (upper case) occurs in name, ignoring case. */
static int contains_word(const char *name, const char *word)
{
    size_t n = strlen(word);
    for (const char *s = name; *s; s++) {
        if (strncasecmp(s, word, n) == 0)
            return 1;
    }
    return 0;
}

static int env_name_ok(const char *name)
{
    if (!*name || strlen(name) > 128)
        return 0;
    for (const char *c = name; *c; c++) {
        if (!(*c == '_' || (*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'z') ||
              (*c >= 'A' && *c <= 'Z')))
            return 0;
    }
    return 1;
}

static int in_list(const char *name, const char *list)
{
    size_t n = strlen(name);
    for (const char *s = list; s && *s;) {
        while (*s == ',' || *s == ' ' || *s == '\t')
            s++;
        const char *e = s;
        while (*e && *e != ',')
            e++;
        const char *t = e;
        while (t > s && (t[-1] == ' ' || t[-1] == '\t'))
            t--;
        if ((size_t)(t - s) == n && strncmp(s, name, n) == 0)
            return 1;
        s = e;
    }
    return 0;
}

int ig_lua_env_allowed(const char *name, const char *allow_list)
{
    if (!env_name_ok(name))
        return 0;
    for (size_t i = 0; i < sizeof ig_env_always / sizeof ig_env_always[0]; i++) {
        if (strcmp(name, ig_env_always[i]) == 0)
            return 1;
    }
    for (size_t i = 0; i < sizeof ig_env_never / sizeof ig_env_never[0]; i++) {
        if (strcasecmp(name, ig_env_never[i]) == 0)
            return 0;
    }
    for (size_t i = 0; i < sizeof ig_env_secret_words / sizeof ig_env_secret_words[0]; i++) {
        if (contains_word(name, ig_env_secret_words[i]))
            return 0;
    }
    return in_list(name, allow_list);
}

static int api_env(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    const char *v = ig_lua_env_allowed(name, ig_lua_policy(L)->env_allow) ? getenv(name) : NULL;
    if (v)
        lua_pushstring(L, v);
    else
        lua_pushnil(L);
    return 1;
}

/* ---- logs and metrics ----------------------------------------------------------------- */

static int api_log(lua_State *L)
{
    static const char *const names[] = {"debug", "info", "warn", "error", NULL};
    static const ig_log_level levels[] = {IG_LOG_DEBUG, IG_LOG_INFO, IG_LOG_WARN, IG_LOG_ERROR};
    ig_log_level level = levels[luaL_checkoption(L, 1, NULL, names)];
    const char *message = luaL_checkstring(L, 2);
    if (!lua_isnoneornil(L, 3))
        luaL_checktype(L, 3, LUA_TTABLE);
    if (!ig_log_enabled(level))
        return 0;
    json_t *fields;
    if (lua_istable(L, 3)) {
        char msg[256];
        fields = ig_lua_to_json(L, 3, "fields", msg, sizeof msg);
        if (!fields)
            return luaL_error(L, "imagegen.log: %s", msg);
        if (!json_is_object(fields)) {
            json_decref(fields);
            return luaL_error(L, "imagegen.log: fields must be a table with string keys");
        }
    } else {
        fields = json_object();
    }
    char where[160];
    if (fields && !json_object_get(fields, "source") && ig_lua_where(L, 1, where, sizeof where))
        json_object_set_new(fields, "source", json_string(where));
    ig_log(level, message, fields);
    return 0;
}

static const char *const ig_metric_units[] = {
    "Seconds",      "Microseconds",     "Milliseconds",     "Bytes",
    "Kilobytes",    "Megabytes",        "Gigabytes",        "Terabytes",
    "Bits",         "Kilobits",         "Megabits",         "Gigabits",
    "Terabits",     "Percent",          "Count",            "Bytes/Second",
    "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second",
    "Bits/Second",  "Kilobits/Second",  "Megabits/Second",  "Gigabits/Second",
    "Terabits/Second", "Count/Second",  "None",             NULL};

static int metric_name_ok(const char *s, size_t len)
{
    if (len == 0 || len > 255)
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!(c == '_' || c == '-' || c == '.' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
              (c >= 'A' && c <= 'Z')))
            return 0;
    }
    return 1;
}

static int api_metric(lua_State *L)
{
    ig_policy *p = ig_lua_policy(L);
    size_t len;
    const char *name = luaL_checklstring(L, 1, &len);
    if (!metric_name_ok(name, len))
        return luaL_error(L, "imagegen.metric: the name must be 1 to 255 letters, digits, "
                             "'_', '-' or '.'");
    lua_Number value = luaL_checknumber(L, 2);
    if (!isfinite(value))
        return luaL_error(L, "imagegen.metric: the value of %s is not a finite number", name);
    const char *unit = ig_metric_units[luaL_checkoption(L, 3, "None", ig_metric_units)];
    int integral = lua_isinteger(L, 2);

    json_t *old = json_object_get(p->metrics, name);
    if (old) {
        const char *old_unit = json_string_value(json_object_get(old, "unit"));
        if (!old_unit || strcmp(old_unit, unit) != 0)
            return luaL_error(L, "imagegen.metric: %s was recorded in %s, not %s", name,
                              old_unit ? old_unit : "?", unit);
        json_t *ov = json_object_get(old, "value");
        json_t *sum = integral && json_is_integer(ov)
                          ? json_integer(json_integer_value(ov) + (json_int_t)lua_tointeger(L, 2))
                          : json_real(json_number_value(ov) + (double)value);
        json_object_set_new(old, "value", sum);
        return 0;
    }
    if (json_object_size(p->metrics) >= IG_LUA_MAX_METRICS)
        return luaL_error(L, "imagegen.metric: more than %d metric names in one invocation",
                          IG_LUA_MAX_METRICS);
    json_t *v = integral ? json_integer((json_int_t)lua_tointeger(L, 2)) : json_real((double)value);
    json_object_set_new(p->metrics, name, json_pack("{s:o, s:s}", "value", v, "unit", unit));
    return 0;
}

/* ---- time, randomness, hashing -------------------------------------------------------- */

static int api_clock(lua_State *L)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec / 1e9);
    return 1;
}

static int api_monotonic(lua_State *L)
{
    lua_pushnumber(L, (lua_Number)ig_mono_s());
    return 1;
}

static int api_sha256(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);
    char hex[65];
    ig_sha256_hex(s, len, hex);
    lua_pushlstring(L, hex, 64);
    return 1;
}

static int api_uuid(lua_State *L)
{
    char id[37];
    if (ig_uuid4(id) != IG_OK)
        return luaL_error(L, "imagegen.uuid: no randomness available");
    lua_pushstring(L, id);
    return 1;
}

static int api_random(lua_State *L)
{
    lua_Integer lo = luaL_checkinteger(L, 1), hi = luaL_checkinteger(L, 2);
    luaL_argcheck(L, lo <= hi, 2, "the interval is empty");
    lua_Unsigned span = (lua_Unsigned)hi - (lua_Unsigned)lo;
    uint64_t r;
    if (span == (lua_Unsigned)-1) {
        if (ig_random_bytes(&r, sizeof r) != IG_OK)
            return luaL_error(L, "imagegen.random: no randomness available");
    } else {
        r = ig_random_below((uint64_t)span + 1);
    }
    lua_pushinteger(L, (lua_Integer)((lua_Unsigned)lo + (lua_Unsigned)r));
    return 1;
}

/* strftime is undefined for unknown conversions, so the format is checked first. */
static int date_format_ok(const char *fmt)
{
    static const char allowed[] = "aAbBcCdDeFgGhHIjmMnprRStTuUVwWxXyYzZ%";
    for (const char *c = fmt; *c; c++) {
        if (*c != '%')
            continue;
        c++;
        if (!*c || !strchr(allowed, *c))
            return 0;
    }
    return 1;
}

static int api_date(lua_State *L)
{
    size_t flen;
    const char *fmt = luaL_checklstring(L, 1, &flen);
    luaL_argcheck(L, flen <= 200 && strlen(fmt) == flen, 1, "the format is too long or holds a NUL");
    if (!date_format_ok(fmt))
        return luaL_error(L, "imagegen.date: unsupported conversion in format \"%s\"", fmt);
    lua_Number epoch = lua_isnoneornil(L, 2) ? (lua_Number)ig_now_ms() / 1000 : luaL_checknumber(L, 2);
    /* years 1 .. 9999 */
    luaL_argcheck(L, epoch >= -62135596800.0 && epoch <= 253402300799.0, 2,
                  "the time is out of range");
    time_t t = (time_t)floor((double)epoch);
    struct tm tm;
    if (!gmtime_r(&t, &tm))
        return luaL_error(L, "imagegen.date: the time is out of range");
    /* at most 100 conversions of at most 26 bytes each (%c) fit: 0 means an empty result */
    char out[4096];
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral" /* checked by date_format_ok */
    size_t n = strftime(out, sizeof out, fmt, &tm);
#pragma GCC diagnostic pop
    lua_pushlstring(L, out, n);
    return 1;
}

/* ---- JSON arrays ---------------------------------------------------------------------- */

static int api_array(lua_State *L)
{
    if (lua_isnoneornil(L, 1)) {
        lua_settop(L, 0);
        lua_newtable(L);
    } else {
        luaL_checktype(L, 1, LUA_TTABLE);
        lua_settop(L, 1);
        if (ig_lua_is_array(L, 1))
            return 1;
        if (lua_getmetatable(L, 1))
            return luaL_error(L, "imagegen.array: the table already has a metatable");
    }
    ig_lua_mark_array(L);
    return 1;
}

/* imagegen.policy_file(name): the text of a file of the policy folder's top level ("config.lua"),
 * so that a policy can point at the line of a setting it refuses. Names are plain file names
 * ending in .lua: nothing outside the folder, nothing but policy code. nil and a message when
 * the name is refused or the file cannot be read. */
static int api_policy_file(lua_State *L)
{
    size_t n;
    const char *name = luaL_checklstring(L, 1, &n);
    int ok = n > 4 && n <= 68 && strcmp(name + n - 4, ".lua") == 0;
    for (size_t i = 0; ok && i < n - 4; i++)
        ok = (name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z') ||
             (name[i] >= '0' && name[i] <= '9') || name[i] == '_' || name[i] == '-';
    if (!ok) {
        lua_pushnil(L);
        lua_pushliteral(L, "imagegen.policy_file takes a file name of the policy folder ending in .lua");
        return 2;
    }
    char msg[512];
    size_t len = 0;
    char *text = ig_lua_read_policy_file(ig_lua_policy(L)->dir, name, &len, msg, sizeof msg);
    if (!text) {
        lua_pushnil(L);
        lua_pushstring(L, msg);
        return 2;
    }
    ig_policy *p = ig_lua_policy(L);
    if (len + 64 > p->mem_limit - (p->mem_used < p->mem_limit ? p->mem_used : p->mem_limit)) {
        free(text);
        lua_pushnil(L);
        lua_pushfstring(L, "%s does not fit in the policy's memory", name);
        return 2;
    }
    lua_pushlstring(L, text, len);
    free(text);
    return 1;
}

void ig_lua_api_open(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"log", api_log},         {"metric", api_metric}, {"clock", api_clock},
        {"monotonic", api_monotonic}, {"sha256", api_sha256}, {"uuid", api_uuid},
        {"random", api_random},   {"env", api_env},       {"date", api_date},
        {"array", api_array},     {"policy_file", api_policy_file}, {NULL, NULL},
    };
    luaL_newlib(L, fns);
}
