/* aws_json_cli.c - drives the DynamoDB and Lambda Invoke clients from JSON lines, so that
 * integration tests can run them against dynalite and against botocore's signer (region,
 * credentials and endpoints come from the usual AWS_* variables).
 *
 * Each stdin line is one command; each gets one JSON line on stdout, in order:
 *   {"op":"put",    "table", "item", ["condition", "names", "values", "return_values", "return_on_failure"]}
 *   {"op":"update", "table", "key", "update", ["condition", "names", "values", "return_values", "return_on_failure"]}
 *   {"op":"get",    "table", "key", ["consistent_read", "projection", "names"]}
 *   {"op":"query",  "table", "key_condition", ["index", "filter", "projection", "names", "values",
 *                   "descending", "limit", "exclusive_start_key", "consistent_read"]}
 *   {"op":"call",   "operation", "input"}                (any DynamoDB operation)
 *   {"op":"invoke", "function", "payload"}               (Lambda, InvocationType Event; payload: text)
 * Every command may carry "timeout_ms" (default 30000). The answer:
 *   {"err": "ok"|"aws"|..., "status", "error_type", "message", "request_id", "attempts", "stop", "output"}
 * Exit status: 0 when every line was understood (whatever the services said), 2 on a usage error.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/dynamodb.h"
#include "aws/lambda_invoke.h"
#include "core/clock.h"

typedef struct {
    ig_aws_context ctx;
    ig_dynamodb *ddb;
    ig_lambda *lambda;
} clients;

static const char *str(const json_t *cmd, const char *name)
{
    return json_string_value(json_object_get(cmd, name));
}

static json_t *obj(const json_t *cmd, const char *name)
{
    json_t *v = json_object_get(cmd, name);
    return json_is_null(v) ? NULL : v;
}

static int flag(const json_t *cmd, const char *name)
{
    return json_is_true(json_object_get(cmd, name));
}

static void print_result(const ig_aws_call_result *r, json_t *output)
{
    json_t *o = json_pack("{s:s, s:I, s:s, s:s, s:s, s:i, s:s?, s:O?}", "err", ig_err_name(r->err), "status",
                          (json_int_t)r->status, "error_type", r->error_type, "message", r->message, "request_id",
                          r->request_id, "attempts", r->attempts, "stop", r->stop_reason, "output", output);
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    puts(s ? s : "{\"err\":\"nomem\"}");
    fflush(stdout);
    free(s);
    json_decref(o);
}

static void run_dynamodb(clients *c, const char *op, const json_t *cmd, int64_t deadline)
{
    ig_dynamodb_result res;
    ig_dynamodb_result_init(&res);
    if (strcmp(op, "put") == 0) {
        ig_dynamodb_put p = {.table = str(cmd, "table"), .item = obj(cmd, "item"), .condition = str(cmd, "condition"),
                             .names = obj(cmd, "names"), .values = obj(cmd, "values"),
                             .return_values = str(cmd, "return_values"),
                             .return_on_condition_failure = str(cmd, "return_on_failure")};
        ig_dynamodb_put_item(c->ddb, &p, deadline, &res);
    } else if (strcmp(op, "update") == 0) {
        ig_dynamodb_update u = {.table = str(cmd, "table"), .key = obj(cmd, "key"), .update = str(cmd, "update"),
                                .condition = str(cmd, "condition"), .names = obj(cmd, "names"),
                                .values = obj(cmd, "values"), .return_values = str(cmd, "return_values"),
                                .return_on_condition_failure = str(cmd, "return_on_failure")};
        ig_dynamodb_update_item(c->ddb, &u, deadline, &res);
    } else if (strcmp(op, "get") == 0) {
        ig_dynamodb_get g = {.table = str(cmd, "table"), .key = obj(cmd, "key"),
                             .consistent_read = flag(cmd, "consistent_read"), .projection = str(cmd, "projection"),
                             .names = obj(cmd, "names")};
        ig_dynamodb_get_item(c->ddb, &g, deadline, &res);
    } else if (strcmp(op, "query") == 0) {
        ig_dynamodb_query q = {.table = str(cmd, "table"), .index = str(cmd, "index"),
                               .key_condition = str(cmd, "key_condition"), .filter = str(cmd, "filter"),
                               .projection = str(cmd, "projection"), .names = obj(cmd, "names"),
                               .values = obj(cmd, "values"), .descending = flag(cmd, "descending"),
                               .limit = (int)json_integer_value(json_object_get(cmd, "limit")),
                               .exclusive_start_key = obj(cmd, "exclusive_start_key"),
                               .consistent_read = flag(cmd, "consistent_read")};
        ig_dynamodb_query_page(c->ddb, &q, deadline, &res);
    } else {
        ig_dynamodb_call(c->ddb, str(cmd, "operation"), obj(cmd, "input"), deadline, &res);
    }
    print_result(&res.call, res.output);
    ig_dynamodb_result_free(&res);
}

static void run_invoke(clients *c, const json_t *cmd, int64_t deadline)
{
    ig_aws_call_result res;
    ig_aws_call_result_init(&res);
    const char *payload = str(cmd, "payload");
    ig_lambda_invoke_event(c->lambda, str(cmd, "function"), payload, payload ? strlen(payload) : 0, deadline, &res);
    print_result(&res, NULL);
    ig_aws_call_result_free(&res);
}

static int run_line(clients *c, const char *line)
{
    json_error_t jerr;
    json_t *cmd = json_loads(line, 0, &jerr);
    const char *op = str(cmd, "op");
    if (!op) {
        fprintf(stderr, "aws_json_cli: not a command: %s\n", line);
        json_decref(cmd);
        return 2;
    }
    json_t *t = json_object_get(cmd, "timeout_ms");
    int64_t deadline = ig_now_ms() + (json_is_integer(t) ? json_integer_value(t) : 30000);
    int rc = 0;
    if (strcmp(op, "invoke") == 0)
        run_invoke(c, cmd, deadline);
    else if (!strcmp(op, "put") || !strcmp(op, "update") || !strcmp(op, "get") || !strcmp(op, "query") ||
             !strcmp(op, "call"))
        run_dynamodb(c, op, cmd, deadline);
    else {
        fprintf(stderr, "aws_json_cli: unknown op \"%s\"\n", op);
        rc = 2;
    }
    json_decref(cmd);
    return rc;
}

int main(void)
{
    if (ig_http_global_init() != IG_OK) {
        fprintf(stderr, "aws_json_cli: curl init failed\n");
        return 2;
    }
    clients c;
    memset(&c, 0, sizeof c);
    ig_error err;
    ig_error_clear(&err);
    if (ig_aws_context_init(&c.ctx, &err) != IG_OK || !(c.ddb = ig_dynamodb_new(&c.ctx, &err)) ||
        !(c.lambda = ig_lambda_new(&c.ctx, &err))) {
        fprintf(stderr, "aws_json_cli: %s\n", err.message);
        ig_dynamodb_free(c.ddb);
        ig_aws_context_free(&c.ctx);
        ig_http_global_cleanup();
        return 2;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = 0;
    while (rc == 0 && (n = getline(&line, &cap, stdin)) > 0) {
        if (n == 1 && line[0] == '\n')
            continue;
        rc = run_line(&c, line);
    }
    free(line);
    ig_lambda_free(c.lambda);
    ig_dynamodb_free(c.ddb);
    ig_aws_context_free(&c.ctx);
    ig_http_global_cleanup();
    return rc;
}
