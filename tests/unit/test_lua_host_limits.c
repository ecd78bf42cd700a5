/* test_lua_host_limits.c - the Lua policy host under pressure: runaway loops and
 * allocations come back as errors with file:line and leave a state that serves the next
 * call; broken policies fail to load with a sentence naming file:line; the limits come
 * from the environment strictly; memory stays flat over many calls. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "lua/host.h"
#include "testlib.h"

/* ---- helpers -------------------------------------------------------------------------- */

static const char *fixture(const char *name)
{
    static char path[1024];
    snprintf(path, sizeof path, "%s/tests/data/policies/%s", ig_test_source_dir(), name);
    return path;
}

static ig_policy *load_with(const char *name, size_t memory_mb, uint64_t instructions,
                            ig_error *err)
{
    ig_policy_options o;
    memset(&o, 0, sizeof o);
    o.dir = fixture(name);
    o.memory_limit_bytes = memory_mb * 1024 * 1024;
    o.instruction_limit = instructions;
    ig_error_clear(err);
    return ig_policy_load(&o, err);
}

static int line_of(const char *fixture_name, const char *needle)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/init.lua", fixture(fixture_name));
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

static ig_err probe(ig_policy *p, const char *action, json_t *extra, json_t **out, ig_error *err)
{
    json_t *req = extra ? extra : json_object();
    json_object_set_new(req, "action", json_string(action));
    ig_error_clear(err);
    ig_err e = ig_policy_admit(p, req, NULL, out, err);
    json_decref(req);
    return e;
}

static void check_next_call_works(ig_policy *p)
{
    json_t *out = NULL;
    ig_error err;
    IG_CHECK_EQ_INT(probe(p, "ok", json_pack("{s:{s:s}}", "body", "k", "v"), &out, &err), IG_OK);
    IG_CHECK_EQ_INT(json_integer_value(json_object_get(out, "status")), 200);
    json_decref(out);
}

static int starts_with(const char *s, const char *prefix)
{
    return s && strncmp(s, prefix, strlen(prefix)) == 0;
}

#define IG_CHECK_CONTAINS(hay, needle)                                                             \
    do {                                                                                           \
        const char *ig_h_ = (hay);                                                                 \
        if (!ig_h_ || !strstr(ig_h_, (needle)))                                                    \
            ig_test_fail(__FILE__, __LINE__, "\"%s\" does not contain \"%s\"",                    \
                         ig_h_ ? ig_h_ : "(null)", (needle));                                      \
    } while (0)

/* ---- instruction budget --------------------------------------------------------------- */

static void test_endless_loop_is_stopped(void)
{
    ig_error err;
    ig_policy *p = load_with("probe", 32, 1000000, &err);
    IG_CHECK(p != NULL);
    if (!p)
        return;
    json_t *out = NULL;
    double t0 = ig_mono_s();
    IG_CHECK_EQ_INT(probe(p, "loop", NULL, &out, &err), IG_ERR_POLICY);
    double took = ig_mono_s() - t0;
    IG_CHECK(out == NULL);
    char expected[160];
    snprintf(expected, sizeof expected,
             "init.lua:%d: instruction budget of 1000000 exhausted (IMAGEGEN_LUA_INSTRUCTIONS)",
             line_of("probe", "function actions.loop()"));
    IG_CHECK_EQ_STR(err.message, expected);
    IG_CHECK(took < 5.0);
    check_next_call_works(p);
    ig_policy_free(p);
}

static void test_pcall_cannot_swallow_the_budget(void)
{
    ig_error err;
    ig_policy *p = load_with("probe", 32, 1000000, &err);
    if (!p)
        return;
    json_t *out = NULL;
    double t0 = ig_mono_s();
    IG_CHECK_EQ_INT(probe(p, "pcall_loop", NULL, &out, &err), IG_ERR_POLICY);
    IG_CHECK(ig_mono_s() - t0 < 5.0);
    IG_CHECK_CONTAINS(err.message, "instruction budget of 1000000 exhausted");
    IG_CHECK(starts_with(err.message, "init.lua:"));
    check_next_call_works(p);
    ig_policy_free(p);
}

static void test_budget_is_per_call(void)
{
    ig_error err;
    ig_policy *p = load_with("probe", 32, 1000000, &err);
    if (!p)
        return;
    /* about half the budget each time: fine however often it runs */
    for (int i = 0; i < 10; i++) {
        json_t *out = NULL;
        IG_CHECK_EQ_INT(probe(p, "spin", json_pack("{s:i}", "n", 100000), &out, &err), IG_OK);
        IG_CHECK_EQ_INT(json_integer_value(json_object_get(out, "x")), 5000050000LL);
        json_decref(out);
    }
    /* and more than the budget in one call is not */
    json_t *out = NULL;
    IG_CHECK_EQ_INT(probe(p, "spin", json_pack("{s:i}", "n", 2000000), &out, &err), IG_ERR_POLICY);
    IG_CHECK_CONTAINS(err.message, "instruction budget");
    ig_policy_free(p);
}

/* Lua runs finalizers with hooks off, so they would escape the budget: policies cannot
 * have any, not even through the metatable the runtime gives arrays. */
static void test_no_finalizers(void)
{
    ig_error err;
    ig_policy *p = load_with("probe", 32, 1000000, &err);
    if (!p)
        return;
    json_t *out = NULL;
    char expected[200];
    snprintf(expected, sizeof expected,
             "init.lua:%d: setmetatable: __gc finalizers are not available to policies (they "
             "would run outside the instruction budget)",
             line_of("probe", "setmetatable({}, { __gc"));
    IG_CHECK_EQ_INT(probe(p, "finalizer_loop", NULL, &out, &err), IG_ERR_POLICY);
    IG_CHECK_EQ_STR(err.message, expected);

    IG_CHECK_EQ_INT(probe(p, "marker_gc", json_pack("{s:[i]}", "list", 1), &out, &err), IG_OK);
    IG_CHECK_EQ_STR(json_string_value(json_object_get(out, "name")), "imagegen.array");
    IG_CHECK_EQ_STR(json_string_value(json_object_get(out, "still_array")), "imagegen.array");
    IG_CHECK(strstr(json_string_value(json_object_get(out, "protected")),
                    "cannot change a protected metatable") != NULL);
    json_decref(out);
    /* new arrays made by the runtime carry no finalizer: collecting and closing end */
    for (int i = 0; i < 3; i++) {
        IG_CHECK_EQ_INT(probe(p, "ok", json_pack("{s:[i, i]}", "body", 1, 2), &out, &err), IG_OK);
        json_decref(out);
    }
    double t0 = ig_mono_s();
    ig_policy_collect(p);
    IG_CHECK(ig_mono_s() - t0 < 5.0);
    check_next_call_works(p);
    ig_policy_free(p);
}

/* ---- memory cap ----------------------------------------------------------------------- */

static void test_huge_string_hits_memory_cap(void)
{
    ig_error err;
    ig_policy *p = load_with("probe", 16, 10000000, &err);
    if (!p)
        return;
    ig_policy_collect(p);
    size_t before = ig_policy_memory_in_use(p);
    json_t *out = NULL;
    IG_CHECK_EQ_INT(probe(p, "memory", NULL, &out, &err), IG_ERR_POLICY);
    IG_CHECK(out == NULL);
    char prefix[64];
    snprintf(prefix, sizeof prefix, "init.lua:%d: not enough memory in admit",
             line_of("probe", "function M.admit("));
    if (!starts_with(err.message, prefix))
        ig_test_fail(__FILE__, __LINE__, "\"%s\" should start with \"%s\"", err.message, prefix);
    IG_CHECK_CONTAINS(err.message, "memory limit of 16 MB");
    IG_CHECK(ig_policy_memory_in_use(p) <= 16u * 1024 * 1024);
    check_next_call_works(p);
    ig_policy_collect(p);
    IG_CHECK(ig_policy_memory_in_use(p) < before + 64 * 1024);
    ig_policy_free(p);
}

static void test_growing_table_hits_memory_cap(void)
{
    ig_error err;
    ig_policy *p = load_with("probe", 16, 100000000, &err);
    if (!p)
        return;
    json_t *out = NULL;
    IG_CHECK_EQ_INT(probe(p, "memory_table", NULL, &out, &err), IG_ERR_POLICY);
    char expected[64];
    snprintf(expected, sizeof expected, "init.lua:%d: not enough memory in admit",
             line_of("probe", "for i = 1, 1e9 do t[i] = i end"));
    if (!starts_with(err.message, expected))
        ig_test_fail(__FILE__, __LINE__, "\"%s\" should start with \"%s\"", err.message,
                     expected);
    IG_CHECK(ig_policy_memory_in_use(p) <= 16u * 1024 * 1024);
    check_next_call_works(p);
    ig_policy_free(p);
}

static void test_script_can_catch_a_memory_error(void)
{
    ig_error err;
    ig_policy *p = load_with("probe", 16, 10000000, &err);
    if (!p)
        return;
    json_t *out = NULL;
    IG_CHECK_EQ_INT(probe(p, "memory_pcall", NULL, &out, &err), IG_OK);
    IG_CHECK(json_is_true(json_object_get(out, "caught")));
    IG_CHECK_EQ_INT(json_integer_value(json_object_get(out, "after")), 1000);
    json_decref(out);
    ig_policy_free(p);
}

static void test_arguments_too_large_for_the_cap(void)
{
    ig_error err;
    ig_policy *p = load_with("echo", 1, 10000000, &err);
    if (!p)
        return;
    json_t *items = json_array();
    for (int i = 0; i < 20000; i++)
        json_array_append_new(items, json_pack("{s:i, s:s}", "i", i, "s", "some text to take room"));
    json_t *req = json_pack("{s:o}", "body", items);
    json_t *out = NULL;
    IG_CHECK_EQ_INT(ig_policy_admit(p, req, NULL, &out, &err), IG_ERR_TOO_LARGE);
    IG_CHECK_EQ_STR(err.message, "the arguments of admit do not fit in the policy's memory limit of 1 MB");
    json_decref(req);
    req = json_pack("{s:s}", "method", "GET");
    IG_CHECK_EQ_INT(ig_policy_admit(p, req, NULL, &out, &err), IG_OK);
    json_decref(out);
    json_decref(req);
    ig_policy_free(p);
}

/* ---- loading -------------------------------------------------------------------------- */

static void check_load_fails(const char *name, const char *starts, const char *says)
{
    ig_error err;
    ig_policy *p = load_with(name, 16, 1000000, &err);
    IG_CHECK(p == NULL);
    ig_policy_free(p);
    IG_CHECK_EQ_INT(err.code, IG_ERR_POLICY);
    if (!starts_with(err.message, starts) || !strstr(err.message, says))
        ig_test_fail(__FILE__, __LINE__, "%s: \"%s\" should start with \"%s\" and say \"%s\"",
                     name, err.message, starts, says);
}

static void test_broken_policies_fail_to_load(void)
{
    char at[64];
    snprintf(at, sizeof at, "init.lua:%d:", line_of("syntax_error", "return M"));
    check_load_fails("syntax_error", at, "expected near 'return'");
    snprintf(at, sizeof at, "init.lua:%d:", line_of("no_respond", "return M"));
    check_load_fails("no_respond", at,
                     "the table init.lua returns has no respond function (its respond is a nil "
                     "value)");
    snprintf(at, sizeof at, "init.lua:%d:", line_of("returns_string", "return \"policy\""));
    check_load_fails("returns_string", at,
                     "init.lua must return a table with admit and respond functions, not a string "
                     "value");
    snprintf(at, sizeof at, "init.lua:%d:", line_of("init_error", "error(\"configuration"));
    check_load_fails("init_error", at, "configuration is broken: no region");
    snprintf(at, sizeof at, "init.lua:%d:", line_of("init_loop", "while true"));
    check_load_fails("init_loop", at, "instruction budget of 1000000 exhausted");
    snprintf(at, sizeof at, "init.lua:%d:", line_of("init_memory", "for i = 1, 1e9"));
    check_load_fails("init_memory", at, "not enough memory in init.lua");
    check_load_fails("does_not_exist", "init.lua: cannot open ",
                     "does_not_exist/init.lua: No such file or directory");

    ig_error err;
    ig_policy_options o;
    memset(&o, 0, sizeof o);
    IG_CHECK(ig_policy_load(&o, &err) == NULL);
    IG_CHECK_EQ_INT(err.code, IG_ERR_INVALID_ARG);
}

/* ---- options -------------------------------------------------------------------------- */

static void clear_env(void)
{
    unsetenv("IMAGEGEN_POLICY_DIR");
    unsetenv("LAMBDA_TASK_ROOT");
    unsetenv("IMAGEGEN_LUA_MEMORY_MB");
    unsetenv("IMAGEGEN_LUA_INSTRUCTIONS");
    unsetenv("IMAGEGEN_POLICY_ENV");
}

static void check_option_rejected(const char *name, const char *value)
{
    clear_env();
    setenv(name, value, 1);
    ig_policy_options o;
    ig_error err;
    ig_error_clear(&err);
    IG_CHECK_EQ_INT(ig_policy_options_from_env(&o, &err), IG_ERR_CONFIG);
    if (!starts_with(err.message, name))
        ig_test_fail(__FILE__, __LINE__, "%s=\"%s\": \"%s\" does not name the variable", name,
                     value, err.message);
}

static void test_options_from_env(void)
{
    ig_policy_options o;
    ig_error err;
    clear_env();
    IG_CHECK_EQ_INT(ig_policy_options_from_env(&o, &err), IG_OK);
    IG_CHECK_EQ_STR(o.dir, "./policy");
    IG_CHECK_EQ_INT(o.memory_limit_bytes, 64u * 1024 * 1024);
    IG_CHECK_EQ_INT(o.instruction_limit, 10000000);
    IG_CHECK(o.env_allow == NULL);

    setenv("LAMBDA_TASK_ROOT", "/var/task", 1);
    IG_CHECK_EQ_INT(ig_policy_options_from_env(&o, &err), IG_OK);
    IG_CHECK_EQ_STR(o.dir, "/var/task/policy");
    setenv("IMAGEGEN_POLICY_DIR", "/opt/policy", 1);
    setenv("IMAGEGEN_LUA_MEMORY_MB", "128", 1);
    setenv("IMAGEGEN_LUA_INSTRUCTIONS", "1000", 1);
    setenv("IMAGEGEN_POLICY_ENV", "A,B", 1);
    IG_CHECK_EQ_INT(ig_policy_options_from_env(&o, &err), IG_OK);
    IG_CHECK_EQ_STR(o.dir, "/opt/policy");
    IG_CHECK_EQ_INT(o.memory_limit_bytes, 128u * 1024 * 1024);
    IG_CHECK_EQ_INT(o.instruction_limit, 1000);
    IG_CHECK_EQ_STR(o.env_allow, "A,B");
    setenv("IMAGEGEN_LUA_MEMORY_MB", "4096", 1);
    IG_CHECK_EQ_INT(ig_policy_options_from_env(&o, &err), IG_OK);
    IG_CHECK_EQ_INT(o.memory_limit_bytes, (size_t)4096 * 1024 * 1024);
    setenv("IMAGEGEN_LUA_MEMORY_MB", "", 1); /* empty: the default */
    IG_CHECK_EQ_INT(ig_policy_options_from_env(&o, &err), IG_OK);
    IG_CHECK_EQ_INT(o.memory_limit_bytes, 64u * 1024 * 1024);

    static const char *bad_memory[] = {"0", "4097", "-1", "12x", " 64", "64 ", "1e3", "+64",
                                       "99999999999999999999999"};
    for (size_t i = 0; i < sizeof bad_memory / sizeof bad_memory[0]; i++)
        check_option_rejected("IMAGEGEN_LUA_MEMORY_MB", bad_memory[i]);
    static const char *bad_instructions[] = {"999", "0", "abc", "10000000000000", "1_000_000"};
    for (size_t i = 0; i < sizeof bad_instructions / sizeof bad_instructions[0]; i++)
        check_option_rejected("IMAGEGEN_LUA_INSTRUCTIONS", bad_instructions[i]);
    clear_env();
    setenv("IMAGEGEN_LUA_MEMORY_MB", "abc", 1);
    IG_CHECK_EQ_INT(ig_policy_options_from_env(&o, &err), IG_ERR_CONFIG);
    IG_CHECK_EQ_STR(err.message,
                    "IMAGEGEN_LUA_MEMORY_MB must be a whole number of megabytes from 1 to 4096, "
                    "not \"abc\"");
    clear_env();
}

/* ---- memory over many calls ----------------------------------------------------------- */

static void run_calls(ig_policy *p, int from, int to)
{
    ig_error err;
    for (int i = from; i < to; i++) {
        json_t *out = NULL;
        json_t *extra = json_pack("{s:{s:s, s:i, s:[i, i, i]}, s:{s:s}}", "body", "prompt",
                                  "a lighthouse at dusk", "n", i, "sizes", 1, 2, 3, "headers",
                                  "origin", "https://example.com");
        const char *action = i % 10 == 9 ? "error" : i % 10 == 8 ? "bad_utf8" : "ok";
        ig_err e = probe(p, action, extra, &out, &err);
        if ((e == IG_OK) != (strcmp(action, "ok") == 0))
            ig_test_fail(__FILE__, __LINE__, "call %d (%s): %s", i, action, err.message);
        json_decref(out);
        json_t *result = json_pack("{s:b, s:i}", "ok", 1, "n", i);
        json_t *req = json_pack("{s:s}", "method", "POST");
        if (ig_policy_respond(p, result, req, &out, &err) != IG_OK)
            ig_test_fail(__FILE__, __LINE__, "respond %d: %s", i, err.message);
        json_decref(out);
        json_decref(result);
        json_decref(req);
        json_decref(ig_policy_take_metrics(p));
    }
}

static void test_memory_does_not_grow_over_many_calls(void)
{
    ig_error err;
    ig_policy *p = load_with("probe", 32, 1000000, &err);
    if (!p)
        return;
    run_calls(p, 0, 100);
    ig_policy_collect(p);
    size_t at_100 = ig_policy_memory_in_use(p);
    run_calls(p, 100, 10000);
    ig_policy_collect(p);
    size_t at_10000 = ig_policy_memory_in_use(p);
    printf("  Lua memory after a full collection: %zu bytes at 100 calls, %zu at 10000\n", at_100,
           at_10000);
    IG_CHECK(at_10000 <= at_100 + 4096);
    ig_policy_free(p);
}

static ig_policy *load_timed(const char *name, size_t memory_mb, uint64_t time_ms, ig_error *err)
{
    ig_policy_options o;
    memset(&o, 0, sizeof o);
    o.dir = fixture(name);
    o.memory_limit_bytes = memory_mb * 1024 * 1024;
    o.instruction_limit = 10000000;
    o.time_limit_ms = time_ms;
    ig_error_clear(err);
    return ig_policy_load(&o, err);
}

/* Each gsub over 8 MB is one C call: a thousand instructions take seconds, so only the clock
 * can end the loop. */
static void test_time_limit_ends_loops_of_c_calls(void)
{
    ig_error err;
    ig_policy *p = load_timed("probe", 96, 300, &err);
    IG_CHECK(p != NULL);
    if (!p)
        return;
    json_t *out = NULL;
    IG_CHECK_EQ_INT(probe(p, "gsub_loop", NULL, &out, &err), IG_ERR_POLICY);
    IG_CHECK(strstr(err.message, "time limit of 300 ms exhausted (IMAGEGEN_LUA_TIME_MS") != NULL);
    check_next_call_works(p);
    /* The invocation's deadline ends a call sooner than the limit. */
    ig_policy_set_deadline(p, ig_now_ms() + 200);
    ig_policy *q = p;
    IG_CHECK_EQ_INT(probe(q, "gsub_loop", NULL, &out, &err), IG_ERR_POLICY);
    IG_CHECK(strstr(err.message, "time limit") != NULL);
    ig_policy_set_deadline(p, 0);
    check_next_call_works(p);
    ig_policy_free(p);
}

static long resident_mb(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return resident * (sysconf(_SC_PAGESIZE) / 1024) / 1024;
}

/* cjson.encode of 100 references to one 8 MB string: refused before cjson builds 800 MB outside
 * the cap, and nothing stays behind. */
static void test_encode_stays_within_the_cap(void)
{
    ig_error err;
    ig_policy *p = load_with("probe", 64, 100000000, &err);
    IG_CHECK(p != NULL);
    if (!p)
        return;
    json_t *out = NULL;
    IG_CHECK_EQ_INT(probe(p, "encode_big", NULL, &out, &err), IG_ERR_POLICY);
    IG_CHECK(strstr(err.message, "cjson.encode: the result would be larger than the memory the policy has left") != NULL);
    IG_CHECK(resident_mb() < 400);
    IG_CHECK_EQ_INT(probe(p, "encode_small", NULL, &out, &err), IG_OK);
    IG_CHECK_EQ_STR(json_string_value(json_object_get(out, "text")), "{\"a\":[1,\"two\",true]}");
    json_decref(out);
    ig_policy_free(p);
}

static void test_strings_are_shared_and_frozen(void)
{
    ig_error err;
    ig_policy *p = load_with("probe", 32, 1000000, &err);
    IG_CHECK(p != NULL);
    if (!p)
        return;
    json_t *out = NULL;
    IG_CHECK_EQ_INT(probe(p, "change_strings", NULL, &out, &err), IG_OK);
    json_t *b = json_object_get(out, "body");
    IG_CHECK_EQ_STR(json_string_value(json_object_get(b, "metatable")), "false");
    IG_CHECK(strstr(json_string_value(json_object_get(b, "set_upper")), "cannot be changed") != NULL);
    IG_CHECK(json_string_value(json_object_get(b, "set_through_method")) != NULL);
    IG_CHECK_EQ_STR(json_string_value(json_object_get(b, "upper")), "ABC");
    json_decref(out);
    IG_CHECK_EQ_INT(probe(p, "strings_after", NULL, &out, &err), IG_OK);
    b = json_object_get(out, "body");
    IG_CHECK_EQ_STR(json_string_value(json_object_get(b, "upper")), "ABC");
    IG_CHECK_EQ_STR(json_string_value(json_object_get(b, "format")), "7");
    json_decref(out);
    ig_policy_free(p);
}

int main(void)
{
    IG_RUN(test_endless_loop_is_stopped);
    IG_RUN(test_time_limit_ends_loops_of_c_calls);
    IG_RUN(test_encode_stays_within_the_cap);
    IG_RUN(test_strings_are_shared_and_frozen);
    IG_RUN(test_pcall_cannot_swallow_the_budget);
    IG_RUN(test_budget_is_per_call);
    IG_RUN(test_no_finalizers);
    IG_RUN(test_huge_string_hits_memory_cap);
    IG_RUN(test_growing_table_hits_memory_cap);
    IG_RUN(test_script_can_catch_a_memory_error);
    IG_RUN(test_arguments_too_large_for_the_cap);
    IG_RUN(test_broken_policies_fail_to_load);
    IG_RUN(test_options_from_env);
    IG_RUN(test_memory_does_not_grow_over_many_calls);
    return ig_test_finish("lua_host_limits");
}
