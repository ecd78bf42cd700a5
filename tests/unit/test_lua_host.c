/* test_lua_host.c - the Lua policy host: values crossing between JSON and Lua, the
 * sandbox, require, the imagegen functions, and how bad return values and script errors
 * are reported. The policies are the fixtures in tests/data/policies. */
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "lua/host.h"
#include "testlib.h"

/* ---- helpers -------------------------------------------------------------------------- */

static const char *fixture(const char *name)
{
    static char path[1024];
    snprintf(path, sizeof path, "%s/tests/data/policies/%s", ig_test_source_dir(), name);
    return path;
}

static ig_policy *load_fixture(const char *name, const char *env_allow)
{
    ig_policy_options o;
    memset(&o, 0, sizeof o);
    o.dir = fixture(name);
    o.memory_limit_bytes = 32u * 1024 * 1024;
    o.instruction_limit = 5000000;
    o.env_allow = env_allow;
    ig_error err;
    ig_error_clear(&err);
    ig_policy *p = ig_policy_load(&o, &err);
    if (!p)
        ig_test_fail(__FILE__, __LINE__, "loading %s: %s", name, err.message);
    return p;
}

/* The 1-based line of the first line of the fixture holding needle (0 if none). */
static int line_of(const char *fixture_name, const char *file, const char *needle)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", fixture(fixture_name), file);
    char *text = ig_test_read_file(path, NULL);
    if (!text)
        return 0;
    char *at = strstr(text, needle);
    int line = 0;
    if (at) {
        line = 1;
        for (char *c = text; c < at; c++)
            line += *c == '\n';
    }
    free(text);
    return line;
}

/* Calls admit with {"action": action, ...extra members}. */
static ig_err probe(ig_policy *p, const char *action, json_t *extra, json_t **out, ig_error *err)
{
    json_t *req = extra ? extra : json_object();
    json_object_set_new(req, "action", json_string(action));
    json_t *ctx = json_pack("{s:s}", "request_id", "test-request");
    ig_error_clear(err);
    ig_err e = ig_policy_admit(p, req, ctx, out, err);
    json_decref(req);
    json_decref(ctx);
    return e;
}

static const char *str_at(json_t *o, const char *path)
{
    json_t *v = json_object_get(o, path);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static int contains(const char *haystack, const char *needle)
{
    return haystack && strstr(haystack, needle) != NULL;
}

/* Strict equality, including types (3 vs 3.0) and keys holding NUL bytes, which
 * json_equal does not handle: compare the canonical (sorted-key) encodings. */
static int same_json(json_t *a, json_t *b)
{
    char *x = json_dumps(a, JSON_SORT_KEYS | JSON_ENCODE_ANY | JSON_COMPACT);
    char *y = json_dumps(b, JSON_SORT_KEYS | JSON_ENCODE_ANY | JSON_COMPACT);
    int same = x && y && strcmp(x, y) == 0;
    free(x);
    free(y);
    return same;
}

#define IG_CHECK_CONTAINS(hay, needle)                                                             \
    do {                                                                                           \
        const char *ig_h_ = (hay);                                                                 \
        if (!contains(ig_h_, (needle)))                                                            \
            ig_test_fail(__FILE__, __LINE__, "\"%s\" does not contain \"%s\"",                    \
                         ig_h_ ? ig_h_ : "(null)", (needle));                                      \
    } while (0)

/* ---- values --------------------------------------------------------------------------- */

static json_t *sample_request(void)
{
    json_t *req = json_pack(
        "{s:s, s:s, s:{s:s, s:s}, s:{s:[s]}, s:{s:{s:[i, i, f, b, n, s], s:{}, s:[], s:[[], {}]}, "
        "s:I, s:I, s:f, s:f, s:f, s:s}, s:n, s:s}",
        "method", "POST", "path", "/generate-image", "headers", "content-type", "application/json",
        "origin", "https://example.com", "multi_query", "prompt", "a cat", "body", "nested",
        "mixed", 1, -2, 2.5, 1, "x", "empty_object", "empty_array", "arrays_of_empties", "big",
        (json_int_t)9007199254740993LL, "min", (json_int_t)INT64_MIN, "float", 1e300,
        "whole_float", 3.0, "negative_zero", -0.0, "unicode", "caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x90\x88",
        "no_body", "stage", "prod");
    /* strings and keys with NUL bytes */
    json_object_set_new(req, "nul_string", json_stringn("a\0b", 3));
    json_object_setn_new(json_object_get(req, "headers"), "x-nul\0key", 9, json_string("v"));
    return req;
}

static void test_admit_round_trip(void)
{
    ig_policy *p = load_fixture("echo", NULL);
    if (!p)
        return;
    json_t *req = sample_request();
    json_t *ctx = json_pack("{s:s, s:I, s:f}", "request_id", "r-1", "deadline_ms",
                            (json_int_t)1795000000123LL, "now", 1795000000.25);
    json_t *out = NULL;
    ig_error err;
    IG_CHECK_EQ_INT(ig_policy_admit(p, req, ctx, &out, &err), IG_OK);
    IG_CHECK(same_json(json_object_get(out, "req"), req));
    IG_CHECK(same_json(json_object_get(out, "ctx"), ctx));
    /* types, not only values, survive: integers stay integers, floats stay floats */
    json_t *body = json_object_get(json_object_get(out, "req"), "body");
    IG_CHECK(json_is_integer(json_object_get(body, "big")));
    IG_CHECK_EQ_INT(json_integer_value(json_object_get(body, "big")), 9007199254740993LL);
    IG_CHECK(json_is_real(json_object_get(body, "whole_float")));
    json_t *nested = json_object_get(body, "nested");
    IG_CHECK(json_is_array(json_object_get(nested, "empty_array")));
    IG_CHECK(json_is_object(json_object_get(nested, "empty_object")));
    json_t *nul = json_object_get(json_object_get(out, "req"), "nul_string");
    IG_CHECK_EQ_INT(json_string_length(nul), 3);
    IG_CHECK(json_string_length(nul) == 3 && memcmp(json_string_value(nul), "a\0b", 3) == 0);
    IG_CHECK(json_object_getn(json_object_get(json_object_get(out, "req"), "headers"), "x-nul\0key",
                              9) != NULL);
    json_decref(out);
    json_decref(req);
    json_decref(ctx);
    ig_policy_free(p);
}

static void test_respond_round_trip(void)
{
    ig_policy *p = load_fixture("echo", NULL);
    if (!p)
        return;
    json_t *req = sample_request();
    json_t *result = json_pack(
        "{s:b, s:s, s:b, s:[{s:s, s:s, s:i, s:i, s:i}], s:{s:i, s:i}, s:{s:I, s:n}}", "ok", 1,
        "model", "amazon.titan-image-generator-v1", "cached", 0, "images", "url",
        "http://127.0.0.1:1/b/k.png?X-Amz-Signature=abc", "key", "images/k.png", "width", 1024,
        "height", 1024, "bytes", 123456, "timings", "model_ms", 1234, "upload_ms", 56, "context",
        "seed", (json_int_t)42, "style");
    json_t *out = NULL;
    ig_error err;
    IG_CHECK_EQ_INT(ig_policy_respond(p, result, req, &out, &err), IG_OK);
    IG_CHECK(same_json(json_object_get(out, "result"), result));
    IG_CHECK(same_json(json_object_get(out, "req"), req));
    json_decref(out);
    json_decref(req);
    json_decref(result);
    ig_policy_free(p);
}

static void test_json_null_and_missing_arguments(void)
{
    ig_policy *p = load_fixture("probe", NULL);
    if (!p)
        return;
    json_t *out = NULL;
    ig_error err;
    /* null arrives as cjson.null and returns as null */
    IG_CHECK_EQ_INT(probe(p, "ok", json_pack("{s:n}", "body"), &out, &err), IG_OK);
    json_t *echo = json_object_get(json_object_get(out, "body"), "echo");
    IG_CHECK(echo && json_is_null(echo));
    json_decref(out);
    /* a NULL json_t argument arrives as nil */
    json_t *req = json_pack("{s:s}", "action", "state");
    IG_CHECK_EQ_INT(ig_policy_admit(p, req, NULL, &out, &err), IG_OK);
    IG_CHECK_EQ_INT(json_integer_value(json_object_get(out, "calls")), 1);
    json_decref(out);
    json_decref(req);
    ig_policy_free(p);
}

static void test_input_nested_too_deep(void)
{
    ig_policy *p = load_fixture("echo", NULL);
    if (!p)
        return;
    json_t *body = json_object();
    for (int i = 0; i < 70; i++)
        body = json_pack("{s:o}", "a", body);
    json_t *req = json_pack("{s:o}", "body", body);
    json_t *out = NULL;
    ig_error err;
    IG_CHECK_EQ_INT(ig_policy_admit(p, req, NULL, &out, &err), IG_ERR_INVALID_ARG);
    IG_CHECK(out == NULL);
    IG_CHECK(strncmp(err.message, "req.body.a.a.a", 14) == 0);
    IG_CHECK_CONTAINS(err.message, "is nested deeper than 64 levels");
    json_decref(req);
    /* 60 levels are fine */
    body = json_object();
    for (int i = 0; i < 60; i++)
        body = json_pack("{s:o}", "a", body);
    req = json_pack("{s:o}", "body", body);
    IG_CHECK_EQ_INT(ig_policy_admit(p, req, NULL, &out, &err), IG_OK);
    json_decref(out);
    json_decref(req);
    ig_policy_free(p);
}

/* ---- return values -------------------------------------------------------------------- */

static void check_bad_return(ig_policy *p, const char *action, const char *says)
{
    json_t *out = NULL;
    ig_error err;
    char prefix[64];
    snprintf(prefix, sizeof prefix, "init.lua:%d: admit returned ",
             line_of("probe", "init.lua", "function M.admit("));
    IG_CHECK_EQ_INT(probe(p, action, NULL, &out, &err), IG_ERR_POLICY);
    IG_CHECK(out == NULL);
    if (strncmp(err.message, prefix, strlen(prefix)) != 0 || !strstr(err.message, says))
        ig_test_fail(__FILE__, __LINE__, "%s: \"%s\" should start with \"%s\" and say \"%s\"",
                     action, err.message, prefix, says);
    /* the state serves the next call */
    IG_CHECK_EQ_INT(probe(p, "ok", NULL, &out, &err), IG_OK);
    json_decref(out);
}

static void test_unusable_return_values(void)
{
    ig_policy *p = load_fixture("probe", NULL);
    if (!p)
        return;
    check_bad_return(p, "number", "a number value, not a table");
    check_bad_return(p, "nothing", "a nil value, not a table");
    check_bad_return(p, "function_value", "a function value, which JSON cannot represent, at f");
    check_bad_return(p, "cycle", "a table that contains itself (a cycle) at t.self");
    check_bad_return(p, "nan", "a NaN number, which JSON cannot represent, at x");
    check_bad_return(p, "inf", "an infinite number, which JSON cannot represent, at x");
    check_bad_return(p, "bad_utf8", "a string that is not valid UTF-8 at body.s");
    check_bad_return(p, "bad_key", "a key that is not valid UTF-8");
    check_bad_return(p, "mixed", "a table mixing string keys and integer keys at list");
    check_bad_return(p, "sparse", "integer keys that are not 1..n (a sparse array) at list");
    check_bad_return(p, "float_key", "a table with the number key 1.5 at t");
    check_bad_return(p, "array_result", "a list (array) instead of a table with named fields");
    check_bad_return(p, "deep", "tables nested deeper than 64 levels at next.next.next");
    ig_policy_free(p);
}

/* ---- script errors -------------------------------------------------------------------- */

static void check_script_error(ig_policy *p, const char *action, const char *line_needle,
                               const char *says)
{
    json_t *out = NULL;
    ig_error err;
    char expected[256];
    snprintf(expected, sizeof expected, "init.lua:%d: %s",
             line_of("probe", "init.lua", line_needle), says);
    IG_CHECK_EQ_INT(probe(p, action, NULL, &out, &err), IG_ERR_POLICY);
    IG_CHECK_EQ_STR(err.message, expected);
    IG_CHECK_EQ_INT(probe(p, "ok", NULL, &out, &err), IG_OK);
    json_decref(out);
}

static void test_script_errors_carry_file_and_line(void)
{
    ig_policy *p = load_fixture("probe", NULL);
    if (!p)
        return;
    check_script_error(p, "error", "function actions.error()", "boom");
    check_script_error(p, "error_no_position", "function actions.error_no_position()",
                       "plain message");
    check_script_error(p, "error_table", "function actions.error_table()",
                       "(error object is a table value)");
    check_script_error(p, "runtime_error", "function actions.runtime_error(",
                       "attempt to index a nil value (field 'missing')");
    ig_policy_free(p);
}

/* ---- the sandbox ---------------------------------------------------------------------- */

static void test_sandbox_globals(void)
{
    ig_policy *p = load_fixture("probe", NULL);
    if (!p)
        return;
    json_t *out = NULL;
    ig_error err;
    IG_CHECK_EQ_INT(probe(p, "globals", NULL, &out, &err), IG_OK);
    json_t *b = json_object_get(out, "body");
    static const char *absent[] = {"io",      "os",       "debug", "load",      "loadstring",
                                   "dofile",  "loadfile", "package", "warn",    "coroutine",
                                   "string.dump", "method dump"};
    for (size_t i = 0; i < sizeof absent / sizeof absent[0]; i++) {
        const char *t = str_at(b, absent[i]);
        if (!t || strcmp(t, "nil") != 0)
            ig_test_fail(__FILE__, __LINE__, "%s is %s, not nil", absent[i], t ? t : "(missing)");
    }
    static const char *present[][2] = {{"string", "table"},     {"table", "table"},
                                       {"math", "table"},       {"utf8", "table"},
                                       {"cjson", "table"},      {"imagegen", "table"},
                                       {"require", "function"}, {"print", "function"},
                                       {"pcall", "function"},   {"setmetatable", "function"}};
    for (size_t i = 0; i < sizeof present / sizeof present[0]; i++)
        IG_CHECK_EQ_STR(str_at(b, present[i][0]), present[i][1]);
    IG_CHECK(json_is_true(json_object_get(b, "cjson_via_require")));
    /* lua-cjson 2.1 decodes every number as a float */
    IG_CHECK(json_number_value(json_object_get(b, "cjson_round_trip")) == 2.0);
    IG_CHECK_EQ_STR(str_at(b, "rep"), "ababab");
    IG_CHECK_EQ_INT(json_integer_value(json_object_get(b, "metatable_index")), 1);
    IG_CHECK_EQ_STR(str_at(b, "gc_count"), "number");
    IG_CHECK_CONTAINS(str_at(b, "gc_collect"), "only \"count\" is available");
    json_decref(out);
    ig_policy_free(p);
}

static const char *require_message(ig_policy *p, const char *name, int *ok, json_t **hold)
{
    ig_error err;
    *hold = NULL;
    *ok = -1;
    if (probe(p, "require", json_pack("{s:s}", "name", name), hold, &err) != IG_OK) {
        ig_test_fail(__FILE__, __LINE__, "require %s: %s", name, err.message);
        return NULL;
    }
    *ok = json_is_true(json_object_get(*hold, "ok"));
    return *ok ? str_at(*hold, "value") : str_at(*hold, "message");
}

static void check_require_fails(ig_policy *p, const char *name, const char *says)
{
    int ok;
    json_t *hold;
    const char *msg = require_message(p, name, &ok, &hold);
    if (ok != 0 || !contains(msg, says))
        ig_test_fail(__FILE__, __LINE__, "require(\"%s\"): ok=%d \"%s\" should say \"%s\"", name,
                     ok, msg ? msg : "(null)", says);
    json_decref(hold);
}

static void test_require_stays_in_policy_directory(void)
{
    ig_policy *p = load_fixture("probe", NULL);
    if (!p)
        return;
    const char *invalid = "invalid module name";
    check_require_fails(p, "../x", invalid);
    check_require_fails(p, "/etc/passwd", invalid);
    check_require_fails(p, "..", invalid);
    check_require_fails(p, "lib/helper", invalid);
    check_require_fails(p, "lib..helper", invalid);
    check_require_fails(p, ".hidden", invalid);
    check_require_fails(p, "trailing.", invalid);
    check_require_fails(p, "", invalid);
    check_require_fails(p, "a b", invalid);
    check_require_fails(p, "missing", "missing.lua: cannot open");
    /* bytecode is refused even inside the policy directory */
    check_require_fails(p, "compiled", "attempt to load a binary chunk");
    check_require_fails(p, "broken", "broken.lua:2:");
    check_require_fails(p, "raises", "raises.lua:2: raises.lua cannot be loaded");
    check_require_fails(p, "raises", "raises.lua:2: raises.lua cannot be loaded"); /* not cached */
    check_require_fails(p, "cycle_a", "module 'cycle_a' requires itself");

    int ok;
    json_t *hold;
    const char *v = require_message(p, "cjson", &ok, &hold);
    IG_CHECK_EQ_INT(ok, 1);
    IG_CHECK(v && strncmp(v, "table", 5) == 0);
    json_decref(hold);
    ig_policy_free(p);
}

static void test_modules_load_once(void)
{
    ig_policy *p = load_fixture("probe", NULL);
    if (!p)
        return;
    json_t *out = NULL;
    ig_error err;
    for (int i = 0; i < 3; i++) {
        IG_CHECK_EQ_INT(probe(p, "modules", NULL, &out, &err), IG_OK);
        IG_CHECK_EQ_INT(json_integer_value(json_object_get(out, "loads")), 1);
        IG_CHECK(json_is_true(json_object_get(out, "same")));
        IG_CHECK_EQ_STR(str_at(out, "greeting"), "hello, policy");
        json_decref(out);
    }
    ig_policy_free(p);
}

static void test_env_allow_list(void)
{
    setenv("IMAGEGEN_BUCKET", "bucket-1", 1);
    setenv("IMAGEGEN_ALLOWED_MODELS", "stability.stable-image-core-v1:1", 1);
    setenv("AWS_REGION", "eu-west-1", 1);
    setenv("AWS_LAMBDA_FUNCTION_NAME", "imagegen", 1);
    setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", 1);
    setenv("AWS_SESSION_TOKEN", "session-token", 1);
    setenv("IMAGEGEN_SIGNING_SECRET", "do-not-read", 1);
    setenv("IMAGEGEN_API_KEY", "sk-do-not-read", 1);
    setenv("IMAGEGEN_HMAC_KEY", "hmac-do-not-read", 1);
    setenv("IMAGEGEN_DB_PASS", "db-do-not-read", 1);
    setenv("CUSTOM_SETTING", "custom", 1);
    setenv("UNLISTED_SETTING", "unlisted", 1);
    /* Only what the operator lists (beyond the documented overrides) is readable; credential-like
     * names stay unreadable even when listed. */
    ig_policy *p = load_fixture("probe", "CUSTOM_SETTING, AWS_SECRET_ACCESS_KEY,AWS_SESSION_TOKEN,AWS_ACCESS_KEY_ID,"
                                         "IMAGEGEN_API_KEY,IMAGEGEN_HMAC_KEY,IMAGEGEN_DB_PASS");
    if (!p)
        return;
    json_t *names = json_pack("[s,s,s,s,s,s,s,s,s,s,s,s,s,s]", "IMAGEGEN_BUCKET", "AWS_REGION",
                              "AWS_LAMBDA_FUNCTION_NAME", "CUSTOM_SETTING", "UNLISTED_SETTING",
                              "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                              "IMAGEGEN_SIGNING_SECRET", "IMAGEGEN_NOT_SET", "IMAGEGEN_ALLOWED_MODELS",
                              "IMAGEGEN_API_KEY", "IMAGEGEN_HMAC_KEY", "IMAGEGEN_DB_PASS");
    json_t *out = NULL;
    ig_error err;
    IG_CHECK_EQ_INT(probe(p, "env", json_pack("{s:o}", "names", names), &out, &err), IG_OK);
    json_t *v = json_object_get(out, "values");
    IG_CHECK_EQ_STR(str_at(v, "AWS_REGION"), "eu-west-1");
    IG_CHECK_EQ_STR(str_at(v, "AWS_LAMBDA_FUNCTION_NAME"), "imagegen");
    IG_CHECK_EQ_STR(str_at(v, "CUSTOM_SETTING"), "custom");
    IG_CHECK_EQ_STR(str_at(v, "IMAGEGEN_ALLOWED_MODELS"), "stability.stable-image-core-v1:1");
    static const char *hidden[] = {"IMAGEGEN_BUCKET", "UNLISTED_SETTING", "AWS_ACCESS_KEY_ID",
                                   "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "IMAGEGEN_SIGNING_SECRET",
                                   "IMAGEGEN_NOT_SET", "IMAGEGEN_API_KEY", "IMAGEGEN_HMAC_KEY",
                                   "IMAGEGEN_DB_PASS"};
    for (size_t i = 0; i < sizeof hidden / sizeof hidden[0]; i++) {
        if (!json_is_null(json_object_get(v, hidden[i])))
            ig_test_fail(__FILE__, __LINE__, "%s is readable", hidden[i]);
    }
    json_decref(out);
    ig_policy_free(p);
    static const char *set[] = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                                "IMAGEGEN_SIGNING_SECRET", "IMAGEGEN_API_KEY", "IMAGEGEN_HMAC_KEY",
                                "IMAGEGEN_DB_PASS", "IMAGEGEN_ALLOWED_MODELS"};
    for (size_t i = 0; i < sizeof set / sizeof set[0]; i++)
        unsetenv(set[i]);
}

/* ---- the imagegen functions ----------------------------------------------------------- */

static void test_api_functions(void)
{
    ig_policy *p = load_fixture("probe", NULL);
    if (!p)
        return;
    json_t *out = NULL;
    ig_error err;
    IG_CHECK_EQ_INT(probe(p, "api", NULL, &out, &err), IG_OK);
    IG_CHECK_EQ_STR(str_at(out, "sha"),
                    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *uuid = str_at(out, "uuid");
    IG_CHECK(uuid && strlen(uuid) == 36 && uuid[14] == '4' && strchr("89ab", uuid[19]));
    IG_CHECK(uuid && str_at(out, "uuid2") && strcmp(uuid, str_at(out, "uuid2")) != 0);
    IG_CHECK_EQ_INT(json_integer_value(json_object_get(out, "random_lo")), 1);
    IG_CHECK_EQ_INT(json_integer_value(json_object_get(out, "random_hi")), 6);
    IG_CHECK_EQ_STR(str_at(out, "random_full"), "integer");
    IG_CHECK_EQ_INT(json_integer_value(json_object_get(out, "random_one")), 5);
    IG_CHECK_CONTAINS(str_at(out, "random_empty"), "the interval is empty");
    IG_CHECK_EQ_STR(str_at(out, "date"), "2026-11-18T11:06:40Z");
    IG_CHECK_EQ_STR(str_at(out, "date_float"), "1970/01/01");
    IG_CHECK_CONTAINS(str_at(out, "date_bad"), "unsupported conversion in format \"%Q\"");
    double clock = json_number_value(json_object_get(out, "clock"));
    IG_CHECK(clock > (double)time(NULL) - 5 && clock < (double)time(NULL) + 5);
    IG_CHECK_EQ_STR(str_at(out, "monotonic_type"), "float");
    json_t *empty = json_object_get(out, "empty");
    IG_CHECK(json_is_array(empty) && json_array_size(empty) == 0);
    json_t *kept = json_object_get(out, "kept");
    IG_CHECK(json_is_array(kept) && json_array_size(kept) == 2);
    json_decref(out);
    ig_policy_free(p);
}

static void test_state_persists_between_calls(void)
{
    ig_policy *p = load_fixture("probe", NULL);
    if (!p)
        return;
    json_t *out = NULL;
    ig_error err;
    for (int i = 1; i <= 3; i++) {
        IG_CHECK_EQ_INT(probe(p, "state", NULL, &out, &err), IG_OK);
        IG_CHECK_EQ_INT(json_integer_value(json_object_get(out, "calls")), i);
        json_decref(out);
    }
    ig_policy_free(p);
}

static void test_metrics_collected_and_emptied(void)
{
    ig_policy *p = load_fixture("probe", NULL);
    if (!p)
        return;
    json_t *out = NULL;
    ig_error err;
    IG_CHECK_EQ_INT(probe(p, "metric", NULL, &out, &err), IG_OK);
    json_decref(out);
    json_t *m = ig_policy_take_metrics(p);
    json_t *expected = json_pack("{s:{s:i, s:s}, s:{s:f, s:s}, s:{s:i, s:s}}", "Probe.Count",
                                 "value", 3, "unit", "Count", "Probe.Latency", "value", 1.5, "unit",
                                 "Milliseconds", "Probe.Plain", "value", 7, "unit", "None");
    IG_CHECK(json_equal(m, expected));
    json_decref(m);
    json_decref(expected);
    m = ig_policy_take_metrics(p);
    IG_CHECK(json_is_object(m) && json_object_size(m) == 0);
    json_decref(m);

    struct {
        json_t *args;
        const char *says;
    } bad[] = {
        {json_pack("{s:s, s:i, s:s}", "name", "Probe.Count", "value", 1, "unit", "Parsecs"),
         "invalid option 'Parsecs'"},
        {json_pack("{s:s, s:i}", "name", "has space", "value", 1), "the name must be 1 to 255"},
        {json_pack("{s:s, s:s}", "name", "Probe.Count", "value", "x"), "number expected"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        IG_CHECK_EQ_INT(probe(p, "bad_metric", bad[i].args, &out, &err), IG_OK);
        IG_CHECK(json_is_false(json_object_get(out, "ok")));
        IG_CHECK_CONTAINS(str_at(out, "message"), bad[i].says);
        json_decref(out);
    }
    m = ig_policy_take_metrics(p);
    IG_CHECK_EQ_INT(json_object_size(m), 0);
    json_decref(m);
    ig_policy_free(p);
}

/* Runs admit(action) with stdout sent to a file; returns what was written. */
static char *logged_by(ig_policy *p, const char *action)
{
    char path[] = "/tmp/ig-policy-log-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return NULL;
    fflush(stdout);
    int saved = dup(1);
    dup2(fd, 1);
    json_t *out = NULL;
    ig_error err;
    ig_err e = probe(p, action, NULL, &out, &err);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    close(fd);
    json_decref(out);
    char *text = ig_test_read_file(path, NULL);
    unlink(path);
    IG_CHECK_EQ_INT(e, IG_OK);
    return text;
}

static json_t *line_with_message(const char *text, const char *message)
{
    for (const char *line = text; line && *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        json_t *j = json_loadb(line, len, 0, NULL);
        if (j && json_is_string(json_object_get(j, "message")) &&
            strcmp(json_string_value(json_object_get(j, "message")), message) == 0)
            return j;
        json_decref(j);
        line = end ? end + 1 : NULL;
    }
    return NULL;
}

static void test_log_and_print(void)
{
    ig_policy *p = load_fixture("probe", NULL);
    if (!p)
        return;
    char *text = logged_by(p, "log");
    json_t *l = line_with_message(text, "probe log line");
    IG_CHECK(l != NULL);
    IG_CHECK_EQ_STR(str_at(l, "level"), "WARN");
    IG_CHECK_EQ_INT(json_integer_value(json_object_get(l, "answer")), 42);
    IG_CHECK(json_is_true(json_object_get(json_object_get(l, "nested"), "ok")));
    char where[64];
    snprintf(where, sizeof where, "init.lua:%d",
             line_of("probe", "init.lua", "imagegen.log(\"warn\""));
    IG_CHECK_EQ_STR(str_at(l, "source"), where);
    json_decref(l);
    l = line_with_message(text, "printed\t1\tnil\ttrue");
    IG_CHECK(l != NULL);
    IG_CHECK_EQ_STR(str_at(l, "level"), "INFO");
    json_decref(l);
    free(text);
    ig_policy_free(p);
}

static void test_cors_origins_for_the_runtime(void)
{
    ig_policy *p = load_fixture("probe", NULL);
    if (!p)
        return;
    IG_CHECK(ig_policy_origin_allowed(p, "https://app.example.com"));
    IG_CHECK(!ig_policy_origin_allowed(p, "https://evil.example"));
    IG_CHECK(!ig_policy_origin_allowed(p, ""));
    IG_CHECK(!ig_policy_origin_allowed(p, NULL));
    ig_policy_free(p);
    ig_policy_options o;
    memset(&o, 0, sizeof o);
    o.dir = fixture("bad_cors");
    o.memory_limit_bytes = 32u * 1024 * 1024;
    o.instruction_limit = 5000000;
    ig_error err;
    ig_error_clear(&err);
    IG_CHECK(ig_policy_load(&o, &err) == NULL);
    IG_CHECK(strstr(err.message, "cors_origins[2] must be an origin") != NULL);
}

static void test_policy_file_reads_the_folder_only(void)
{
    ig_policy *p = load_fixture("probe", NULL);
    if (!p)
        return;
    json_t *out = NULL;
    ig_error err;
    IG_CHECK_EQ_INT(probe(p, "policy_file", json_pack("{s:s}", "name", "init.lua"), &out, &err), IG_OK);
    IG_CHECK(json_is_true(json_object_get(out, "found")));
    IG_CHECK(strncmp(json_string_value(json_object_get(out, "starts")), "-- A policy that does", 21) == 0);
    json_decref(out);
    static const char *refused[] = {"../../../../etc/passwd", "lib/helper.lua", "init", ".lua", "x.lua.bak",
                                    "missing.lua"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        IG_CHECK_EQ_INT(probe(p, "policy_file", json_pack("{s:s}", "name", refused[i]), &out, &err), IG_OK);
        if (json_is_true(json_object_get(out, "found")) || !json_is_string(json_object_get(out, "message")))
            ig_test_fail(__FILE__, __LINE__, "policy_file(%s) was not refused", refused[i]);
        json_decref(out);
    }
    ig_policy_free(p);
}

int main(void)
{
    IG_RUN(test_admit_round_trip);
    IG_RUN(test_respond_round_trip);
    IG_RUN(test_json_null_and_missing_arguments);
    IG_RUN(test_input_nested_too_deep);
    IG_RUN(test_unusable_return_values);
    IG_RUN(test_script_errors_carry_file_and_line);
    IG_RUN(test_sandbox_globals);
    IG_RUN(test_require_stays_in_policy_directory);
    IG_RUN(test_modules_load_once);
    IG_RUN(test_env_allow_list);
    IG_RUN(test_cors_origins_for_the_runtime);
    IG_RUN(test_policy_file_reads_the_folder_only);
    IG_RUN(test_api_functions);
    IG_RUN(test_state_persists_between_calls);
    IG_RUN(test_metrics_collected_and_emptied);
    IG_RUN(test_log_and_print);
    return ig_test_finish("lua_host");
}
