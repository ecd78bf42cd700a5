/* imagegen_policy.c - imagegen-policy: the operator's check of a policy folder before it ships.
 *
 *   imagegen-policy check [DIR]
 *   imagegen-policy try [options] METHOD PATH[?QUERY] [JSON-BODY]
 *
 * Loads the policy into the same sandbox, with the same memory cap, instruction budget and time
 * limit (IMAGEGEN_LUA_*), as bootstrap does in Lambda, with no AWS setting needed; then asks
 * admit() for GET /health, GET /models and a plain generation and checks that each answer is
 * one the runtime can use (a response it can send, or a plan it can carry out). Prints "ok"
 * and what the policy serves, exit 0; or every problem found, with file:line, exit 1. Usage
 * errors exit 2. DIR defaults to IMAGEGEN_POLICY_DIR, then as bootstrap finds its policy.
 *
 * try runs one request through admit() exactly as bootstrap would (the same API Gateway event
 * parsing, bounds and sandbox) and prints the decision: a refusal's status, headers and body,
 * or a generation's plan: every attempt's model and each InvokeModel body byte for byte as the
 * runtime would send it, the key prefix, URL lifetime, cache key and metadata; then respond()
 * with a synthetic success, or with the failure code given by --fail. No network call is made.
 * Options: --policy-dir DIR, --header 'Name: value' (repeatable), --api-key-id ID,
 * --source-ip IP, --fail CODE, --repeat N (the same request N times: rate limits take effect),
 * --json (one JSON document per request instead of text).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apigw/event.h"
#include "apigw/response.h"
#include "codec/percent.h"
#include "core/buf.h"
#include "core/log.h"
#include "handler/inputs.h"
#include "handler/plan.h"
#include "lua/host.h"

/* What the tool prints goes to standard output; the policy's own log lines go to standard error,
 * so that --json output stays one document per line. */
static FILE *out_stream;
#define say(...) fprintf(out_stream, __VA_ARGS__)

static int usage(void)
{
    fprintf(stderr,
            "usage: imagegen-policy check [DIR]\n"
            "         loads the policy in DIR (default: IMAGEGEN_POLICY_DIR, else where bootstrap looks)\n"
            "         into bootstrap's sandbox and checks what admit() answers; exit 0 when usable\n"
            "       imagegen-policy try [--policy-dir DIR] [--header 'Name: value']... [--api-key-id ID]\n"
            "                           [--source-ip IP] [--fail CODE] [--repeat N] [--json]\n"
            "                           METHOD PATH[?QUERY] [JSON-BODY]\n"
            "         shows what the policy decides for one request, and the exact Bedrock bodies\n");
    return 2;
}

static json_t *request(const char *method, const char *path, json_t *query)
{
    return json_pack("{s:s, s:s, s:s, s:o, s:{}, s:{}, s:{s:s}, s:s}", "method", method, "path", path, "resource",
                     path, "query", query ? query : json_object(), "multi_query", "headers", "identity",
                     "source_ip", "127.0.0.1", "request_id", "policy-check");
}

/* Asks admit() and checks the answer the way the runtime would use it. 1 when usable. */
static int check_admit(ig_policy *p, const char *method, const char *path, json_t *query, json_t **answer_out)
{
    json_t *req = request(method, path, query);
    json_t *ctx = json_pack("{s:s, s:I}", "request_id", "policy-check", "remaining_ms", (json_int_t)10000);
    json_t *answer = NULL;
    ig_error err;
    ig_error_clear(&err);
    int ok = 0;
    if (ig_policy_admit(p, req, ctx, &answer, &err) != IG_OK) {
        say("  admit(%s %s) failed: %s\n", method, path, err.message);
    } else if (json_object_get(answer, "generate")) {
        ig_plan plan;
        ok = ig_plan_parse(json_object_get(answer, "generate"), &plan, &err) == IG_OK;
        if (!ok)
            say("  admit(%s %s) returned a plan the runtime cannot carry out: %s\n", method, path, err.message);
        ig_plan_free(&plan);
    } else {
        ig_buf out;
        ig_buf_init(&out, 0);
        ok = ig_response_from_answer(answer, &out, &err) == IG_OK;
        if (!ok)
            say("  admit(%s %s) returned an answer the runtime cannot send: %s\n", method, path, err.message);
        ig_buf_free(&out);
    }
    json_decref(req);
    json_decref(ctx);
    if (ok && answer_out)
        *answer_out = answer;
    else
        json_decref(answer);
    return ok;
}

/* The models GET /models lists, for the summary line. */
static void print_models(json_t *answer)
{
    json_t *body = json_object_get(answer, "body");
    json_t *models = json_object_get(body, "models");
    const char *dflt = json_string_value(json_object_get(body, "defaultModel"));
    size_t i;
    json_t *m;
    say("  models:");
    json_array_foreach(models, i, m)
    {
        const char *id = json_string_value(json_object_get(m, "id"));
        const char *status = json_string_value(json_object_get(m, "status"));
        say("%s %s%s%s%s", i ? "," : "", id ? id : "?", status ? " (" : "", status ? status : "", status ? ")" : "");
    }
    say("\n  default model: %s\n", dflt ? dflt : "(none said)");
}

static int check(const char *dir)
{
    ig_policy_options o;
    ig_error err;
    ig_error_clear(&err);
    if (ig_policy_options_from_env(&o, &err) != IG_OK) {
        fprintf(stderr, "imagegen-policy: %s\n", err.message);
        return 2;
    }
    if (dir)
        o.dir = dir;
    ig_policy *p = ig_policy_load(&o, &err);
    if (!p) {
        say("imagegen-policy: %s: the policy does not load:\n", o.dir);
        for (const char *line = err.message; *line;) {
            size_t n = strcspn(line, "\n");
            say("  %.*s\n", (int)n, line);
            line += n + (line[n] == '\n');
        }
        return 1;
    }
    json_t *models = NULL;
    json_t *q = json_pack("{s:s}", "prompt", "a policy check");
    int ok = check_admit(p, "GET", "/health", NULL, NULL);
    ok &= check_admit(p, "GET", "/models", NULL, &models);
    ok &= check_admit(p, "GET", "/generate-image", q, NULL);
    if (ok) {
        say("imagegen-policy: %s: ok\n", o.dir);
        print_models(models);
    } else {
        say("imagegen-policy: %s: the policy loads, but the runtime cannot use what admit() answers\n", o.dir);
    }
    json_decref(models);
    ig_policy_free(p);
    return ok ? 0 : 1;
}

/* ---- try --------------------------------------------------------------------------------- */

typedef struct {
    const char *dir, *method, *target, *body, *api_key_id, *source_ip, *fail;
    const char *headers[32];
    int n_headers, repeat, json;
} try_args;

/* "a=1&b=x%20y&a=2" into queryStringParameters (last value wins, as API Gateway does) and
 * multiValueQueryStringParameters. 0 on a malformed escape. */
static int parse_query(const char *q, json_t *single, json_t *multi)
{
    while (q && *q) {
        const char *amp = strchr(q, '&');
        size_t len = amp ? (size_t)(amp - q) : strlen(q);
        const char *eq = memchr(q, '=', len);
        size_t klen = eq ? (size_t)(eq - q) : len;
        ig_buf k, v;
        ig_buf_init(&k, 0);
        ig_buf_init(&v, 0);
        int ok = ig_percent_decode(&k, q, klen) == IG_OK &&
                 (!eq || ig_percent_decode(&v, eq + 1, len - klen - 1) == IG_OK);
        if (ok && klen) {
            json_t *val = json_string(ig_buf_cstr(&v));
            if (!val)
                val = json_string("");
            json_object_set(single, ig_buf_cstr(&k), val);
            json_t *list = json_object_get(multi, ig_buf_cstr(&k));
            if (!list) {
                list = json_array();
                json_object_set_new(multi, ig_buf_cstr(&k), list);
            }
            json_array_append_new(list, val);
        }
        ig_buf_free(&k);
        ig_buf_free(&v);
        if (!ok)
            return 0;
        q = amp ? amp + 1 : NULL;
    }
    return 1;
}

/* The API Gateway proxy event Lambda would receive for the request. */
static json_t *try_event(const try_args *a, int n)
{
    char path[2048];
    snprintf(path, sizeof path, "%s", a->target);
    char *qmark = strchr(path, '?');
    json_t *single = json_object(), *multi = json_object();
    if (qmark) {
        *qmark = '\0';
        if (!parse_query(qmark + 1, single, multi)) {
            fprintf(stderr, "imagegen-policy: the query has a malformed percent escape\n");
            json_decref(single);
            json_decref(multi);
            return NULL;
        }
    }
    json_t *headers = json_object();
    for (int i = 0; i < a->n_headers; i++) {
        const char *colon = strchr(a->headers[i], ':');
        if (!colon)
            continue;
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)(colon - a->headers[i]), a->headers[i]);
        const char *value = colon + 1;
        while (*value == ' ')
            value++;
        json_object_set_new(headers, name, json_string(value));
    }
    if (a->body && !json_object_get(headers, "Content-Type"))
        json_object_set_new(headers, "Content-Type", json_string("application/json"));
    char rid[64];
    snprintf(rid, sizeof rid, "try-%d", n);
    return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:o*, s:b, s:{s:s, s:s, s:{s:s, s:s*}}}", "httpMethod", a->method,
                     "path", path, "resource", path, "headers", headers, "queryStringParameters",
                     json_object_size(single) ? single : (json_decref(single), json_null()),
                     "multiValueQueryStringParameters", json_object_size(multi) ? multi : (json_decref(multi), json_null()),
                     "body", a->body ? json_string(a->body) : NULL, "isBase64Encoded", 0, "requestContext", "requestId", rid,
                     "stage", "try", "identity", "sourceIp", a->source_ip ? a->source_ip : "127.0.0.1", "apiKeyId",
                     a->api_key_id);
}

/* What the runtime would hand respond() after the plan: a synthetic success, or --fail's code. */
static json_t *synthetic_result(const try_args *a, const ig_plan *p, const char *rid)
{
    const ig_plan_attempt *first = &p->attempts[0];
    if (a->fail)
        return json_pack("{s:b, s:s, s:s, s:s, s:s, s:O*}", "ok", 0, "code", a->fail, "message",
                         "a failure chosen with --fail", "request_id", rid, "model", first->model, "context", p->context);
    json_t *images = json_array();
    int per_call = p->expected / (int)first->n_calls > 0 ? p->expected / (int)first->n_calls : 1;
    for (size_t c = 0; c < first->n_calls; c++)
        for (int i = 0; i < per_call; i++) {
            char key[1100];
            snprintf(key, sizeof key, "%stry-%zu-%d.png", p->key_prefix, c + 1, i + 1);
            json_array_append_new(images, json_pack("{s:s, s:s, s:i, s:i, s:i, s:s, s:s, s:I, s:i}", "url",
                                                    "https://bucket.s3.amazonaws.com/try?X-Amz-Signature=...",
                                                    "key", key, "width", 1024, "height", 1024, "bytes", 1400000,
                                                    "content_type", "image/png", "format", "png", "call",
                                                    (json_int_t)c + 1, "index", i + 1));
        }
    return json_pack("{s:b, s:s, s:s, s:b, s:o, s:s, s:I, s:i, s:O*}", "ok", 1, "model", first->model, "request_id",
                     rid, "cached", 0, "images", images, "expires_at", "2030-01-01T00:00:00Z", "expires_at_epoch",
                     (json_int_t)1893456000, "attempt", 1, "context", first->context ? first->context : p->context);
}

static json_t *plan_json(const ig_plan *p)
{
    json_t *attempts = json_array();
    for (size_t i = 0; i < p->n_attempts; i++) {
        const ig_plan_attempt *a = &p->attempts[i];
        json_t *bodies = json_array();
        for (size_t c = 0; c < a->n_calls; c++)
            json_array_append_new(bodies, json_stringn(a->calls[c].body, a->calls[c].body_len));
        json_array_append_new(attempts, json_pack("{s:s, s:s, s:s*, s:o}", "model", a->model, "images",
                                                  a->images_path, "error_field", a->error_field, "bodies", bodies));
    }
    return json_pack("{s:o, s:i, s:s, s:I, s:s*, s:s*, s:O*}", "attempts", attempts, "expected_images", p->expected,
                     "key_prefix", p->key_prefix, "url_ttl", (json_int_t)p->url_ttl, "cache_key", p->cache_key,
                     "cache_control", p->cache_control, "metadata", p->metadata);
}

static void print_answer(const char *title, json_t *answer)
{
    /* The answers the runtime acts on before respond(): uploads to fetch, a form to sign. */
    static const char *const steps[][2] = {{"fetch", "the runtime would fetch these uploads, then call admit again"},
                                           {"presign_post", "the runtime would sign this upload form"}};
    for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        json_t *step = json_object_get(answer, steps[i][0]);
        if (!step)
            continue;
        char *text = json_dumps(step, JSON_INDENT(2) | JSON_ENCODE_ANY);
        say("%s: %s (%s)\n%s\n", title, steps[i][0], steps[i][1], text ? text : "");
        free(text);
        return;
    }
    say("%s: %lld\n", title, (long long)json_integer_value(json_object_get(answer, "status")));
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(answer, "headers"), k, v)
        say("  %s: %s\n", k, json_is_string(v) ? json_string_value(v) : "?");
    json_t *body = json_object_get(answer, "body");
    char *text = json_is_string(body) ? strdup(json_string_value(body)) : json_dumps(body, JSON_INDENT(2) | JSON_ENCODE_ANY);
    say("%s\n", text ? text : "");
    free(text);
}

static void print_plan(json_t *plan)
{
    json_t *attempts = json_object_get(plan, "attempts");
    size_t i, c;
    json_t *a, *b;
    say("generate: %lld image(s)\n", (long long)json_integer_value(json_object_get(plan, "expected_images")));
    json_array_foreach(attempts, i, a)
    {
        say("  %s %s\n", i == 0 ? "model" : "fallback", json_string_value(json_object_get(a, "model")));
        json_array_foreach(json_object_get(a, "bodies"), c, b)
            say("    InvokeModel body %zu: %s\n", c + 1, json_string_value(b));
    }
    say("  key prefix: %s\n  url lifetime: %lld s\n", json_string_value(json_object_get(plan, "key_prefix")),
           (long long)json_integer_value(json_object_get(plan, "url_ttl")));
    const char *ck = json_string_value(json_object_get(plan, "cache_key"));
    say("  cache key: %s\n", ck ? ck : "(none)");
    char *md = json_dumps(json_object_get(plan, "metadata"), JSON_COMPACT | JSON_ENCODE_ANY);
    say("  metadata: %s\n", md ? md : "{}");
    free(md);
}

/* One request through admit (and respond after a plan). 0 when the runtime could use it all. */
static int try_once(ig_policy *p, const try_args *a, int n)
{
    json_t *ev = try_event(a, n);
    if (!ev)
        return 2;
    char *text = json_dumps(ev, JSON_COMPACT);
    json_decref(ev);
    json_t *req = NULL, *answer = NULL, *out = json_object();
    ig_error err;
    ig_error_clear(&err);
    int rc = 0;
    ig_buf body;
    ig_buf_init(&body, IG_EVENT_BODY_MAX);
    ig_inputs inputs;
    if (ig_inputs_init(&inputs) != IG_OK) {
        json_object_set_new(out, "error", json_string("no randomness"));
        rc = 1;
    } else if (ig_event_to_request(text, strlen(text), &req, &body, &err) != IG_OK) {
        json_object_set_new(out, "error", json_string(err.message));
        rc = 1;
    } else if (ig_inputs_from_request(&inputs, req, &body, ig_policy_image_fields(p), &err) != IG_OK) {
        json_object_set_new(out, "admit", json_pack("{s:i, s:s}", "status", err.code == IG_ERR_TOO_LARGE ? 413 : 400,
                                                    "refused_by_runtime", err.message));
    } else if (json_object_get(req, "too_large")) {
        json_object_set_new(out, "admit", json_pack("{s:i, s:s}", "status", 413, "refused_by_runtime",
                                                    json_string_value(json_object_get(req, "too_large"))));
    } else {
        json_t *ctx = json_pack("{s:s, s:I}", "request_id", json_string_value(json_object_get(req, "request_id")),
                                "remaining_ms", (json_int_t)28000);
        if (ig_policy_admit(p, req, ctx, &answer, &err) != IG_OK) {
            json_object_set_new(out, "error", json_sprintf("admit() failed: %s", err.message));
            rc = 1;
        } else if (json_object_get(answer, "generate")) {
            ig_plan plan;
            if (ig_plan_parse(json_object_get(answer, "generate"), &plan, &err) != IG_OK) {
                json_object_set_new(out, "error", json_sprintf("admit() returned an unusable plan: %s", err.message));
                rc = 1;
            } else {
                json_object_set_new(out, "plan", plan_json(&plan));
                json_t *result = synthetic_result(a, &plan, json_string_value(json_object_get(req, "request_id")));
                json_t *resp = NULL;
                if (ig_policy_respond(p, result, req, &resp, &err) != IG_OK) {
                    json_object_set_new(out, "error", json_sprintf("respond() failed: %s", err.message));
                    rc = 1;
                } else {
                    json_object_set_new(out, "respond", resp);
                }
                json_decref(result);
            }
            ig_plan_free(&plan);
        } else {
            json_object_set(out, "admit", answer);
        }
        json_decref(ctx);
    }
    free(text);
    ig_buf_free(&body);
    ig_inputs_free(&inputs);
    if (a->json) {
        char *doc = json_dumps(out, JSON_COMPACT);
        say("%s\n", doc ? doc : "{}");
        free(doc);
    } else {
        if (a->repeat > 1)
            say("-- request %d\n", n);
        if (json_object_get(out, "error"))
            say("error: %s\n", json_string_value(json_object_get(out, "error")));
        if (json_object_get(out, "admit"))
            print_answer("admit answered", json_object_get(out, "admit"));
        if (json_object_get(out, "plan"))
            print_plan(json_object_get(out, "plan"));
        if (json_object_get(out, "respond"))
            print_answer(a->fail ? "respond, after the failure" : "respond, after a synthetic success",
                         json_object_get(out, "respond"));
    }
    json_decref(out);
    json_decref(answer);
    json_decref(req);
    return rc;
}

static int try_request(int argc, char **argv)
{
    try_args a;
    memset(&a, 0, sizeof a);
    a.repeat = 1;
    int pos = 0;
    const char *positional[3] = {NULL, NULL, NULL};
    for (int i = 2; i < argc; i++) {
        const char *o = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(o, "--json") == 0)
            a.json = 1;
        else if (strcmp(o, "--policy-dir") == 0 && v)
            a.dir = argv[++i];
        else if (strcmp(o, "--header") == 0 && v && a.n_headers < 32)
            a.headers[a.n_headers++] = argv[++i];
        else if (strcmp(o, "--api-key-id") == 0 && v)
            a.api_key_id = argv[++i];
        else if (strcmp(o, "--source-ip") == 0 && v)
            a.source_ip = argv[++i];
        else if (strcmp(o, "--fail") == 0 && v)
            a.fail = argv[++i];
        else if (strcmp(o, "--repeat") == 0 && v && atoi(v) >= 1 && atoi(v) <= 10000)
            a.repeat = atoi(argv[++i]);
        else if (o[0] == '-' && o[1] == '-')
            return usage();
        else if (pos < 3)
            positional[pos++] = o;
        else
            return usage();
    }
    if (pos < 2)
        return usage();
    a.method = positional[0];
    a.target = positional[1];
    a.body = positional[2];
    ig_policy_options o;
    ig_error err;
    ig_error_clear(&err);
    if (ig_policy_options_from_env(&o, &err) != IG_OK) {
        fprintf(stderr, "imagegen-policy: %s\n", err.message);
        return 2;
    }
    if (a.dir)
        o.dir = a.dir;
    ig_policy *p = ig_policy_load(&o, &err);
    if (!p) {
        say("imagegen-policy: %s: the policy does not load:\n  %s\n", o.dir, err.message);
        return 1;
    }
    int rc = 0;
    for (int n = 1; n <= a.repeat && rc != 2; n++)
        rc |= try_once(p, &a, n);
    ig_policy_free(p);
    return rc;
}

int main(int argc, char **argv)
{
    /* The policy's decision lines are for requests; its warnings (a model past its end of
     * life, ...) are for the operator running this. */
    setenv("IMAGEGEN_LOG_LEVEL", "WARN", 0);
    int fd = dup(STDOUT_FILENO);
    out_stream = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!out_stream)
        out_stream = stdout;
    else
        dup2(STDERR_FILENO, STDOUT_FILENO);
    ig_log_init();
    int rc;
    if (argc >= 2 && strcmp(argv[1], "try") == 0)
        rc = try_request(argc, argv);
    else if (argc < 2 || strcmp(argv[1], "check") != 0 || argc > 3)
        rc = usage();
    else
        rc = check(argc == 3 ? argv[2] : NULL);
    fflush(out_stream);
    return rc;
}
