/* imagegen_policy.c - imagegen-policy: the operator's check of a policy folder before it ships.
 *
 *   imagegen-policy check [DIR]
 *
 * Loads the policy into the same sandbox, with the same memory cap, instruction budget and time
 * limit (IMAGEGEN_LUA_*), as bootstrap does in Lambda, with no AWS setting needed; then asks
 * admit() for GET /health, GET /models and a plain generation and checks that each answer is
 * one the runtime can use (a response it can send, or a plan it can carry out). Prints "ok"
 * and what the policy serves, exit 0; or every problem found, with file:line, exit 1. Usage
 * errors exit 2. DIR defaults to IMAGEGEN_POLICY_DIR, then as bootstrap finds its policy.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apigw/response.h"
#include "core/buf.h"
#include "core/log.h"
#include "handler/plan.h"
#include "lua/host.h"

static int usage(void)
{
    fprintf(stderr, "usage: imagegen-policy check [DIR]\n"
                    "  loads the policy in DIR (default: IMAGEGEN_POLICY_DIR, else where bootstrap looks)\n"
                    "  into bootstrap's sandbox and checks what admit() answers; exit 0 when usable\n");
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
        printf("  admit(%s %s) failed: %s\n", method, path, err.message);
    } else if (json_object_get(answer, "generate")) {
        ig_plan plan;
        ok = ig_plan_parse(json_object_get(answer, "generate"), &plan, &err) == IG_OK;
        if (!ok)
            printf("  admit(%s %s) returned a plan the runtime cannot carry out: %s\n", method, path, err.message);
        ig_plan_free(&plan);
    } else {
        ig_buf out;
        ig_buf_init(&out, 0);
        ok = ig_response_from_answer(answer, &out, &err) == IG_OK;
        if (!ok)
            printf("  admit(%s %s) returned an answer the runtime cannot send: %s\n", method, path, err.message);
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
    printf("  models:");
    json_array_foreach(models, i, m)
    {
        const char *id = json_string_value(json_object_get(m, "id"));
        const char *status = json_string_value(json_object_get(m, "status"));
        printf("%s %s%s%s%s", i ? "," : "", id ? id : "?", status ? " (" : "", status ? status : "", status ? ")" : "");
    }
    printf("\n  default model: %s\n", dflt ? dflt : "(none said)");
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
        printf("imagegen-policy: %s: the policy does not load:\n  %s\n", o.dir, err.message);
        return 1;
    }
    json_t *models = NULL;
    json_t *q = json_pack("{s:s}", "prompt", "a policy check");
    int ok = check_admit(p, "GET", "/health", NULL, NULL);
    ok &= check_admit(p, "GET", "/models", NULL, &models);
    ok &= check_admit(p, "GET", "/generate-image", q, NULL);
    if (ok) {
        printf("imagegen-policy: %s: ok\n", o.dir);
        print_models(models);
    } else {
        printf("imagegen-policy: %s: the policy loads, but the runtime cannot use what admit() answers\n", o.dir);
    }
    json_decref(models);
    ig_policy_free(p);
    return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
    /* The policy's decision lines are for requests; its warnings (a model past its end of
     * life, ...) are for the operator running this. */
    setenv("IMAGEGEN_LOG_LEVEL", "WARN", 0);
    ig_log_init();
    if (argc < 2 || strcmp(argv[1], "check") != 0 || argc > 3)
        return usage();
    return check(argc == 3 ? argv[2] : NULL);
}
