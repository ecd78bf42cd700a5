/* table.c - dynamodb-table: creates the table the function keeps its jobs and image records in,
 * on the local DynamoDB (dynalite), so that scripts/run-local and the tests need no Python and
 * no AWS CLI to set it up.
 *
 * The schema is the one terraform/ deploys (runtime/local/README.md writes it down):
 *   partition key pk (S), sort key sk (S); global secondary index gsi1 on gsi1pk (S) + gsi1sk (S),
 *   projection ALL; on-demand billing; time to live on the attribute expires_at.
 * It goes through the runtime's own DynamoDB client (aws/dynamodb.h): CreateTable, DescribeTable
 * until the table and its index are ACTIVE, UpdateTimeToLive. A table that already exists is
 * fine when its keys and index are these; dynalite keeps no time to live (it does not know
 * UpdateTimeToLive), which the line printed at the end says.
 *
 * Only a local endpoint is accepted (AWS_ENDPOINT_URL_DYNAMODB or --endpoint:
 * http://127.0.0.1:PORT or http://localhost:PORT): this tool never creates a table in AWS.
 * Exit status 0 when the table is ready, 1 when DynamoDB refused, 2 on a usage error.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/dynamodb.h"
#include "core/clock.h"
#include "options.h"

#define DT_DEFAULT_TABLE "imagegen-local"
#define DT_CALL_TIMEOUT_MS 10000
#define DT_ACTIVE_WAIT_MS 10000
#define DT_POLL_MS 50

typedef struct {
    char *table;
    char *endpoint;
} dt_config;

typedef struct {
    ig_aws_context ctx;
    ig_dynamodb *ddb;
} dt_client;

static void dt_usage(void)
{
    fputs("usage: dynamodb-table [--table NAME] [--endpoint URL]\n"
          "Creates the imagegen table on the local DynamoDB: partition key pk (S), sort key sk (S), index\n"
          "gsi1 on gsi1pk (S) + gsi1sk (S) with projection ALL, on-demand billing, time to live on\n"
          "expires_at. A table that exists with these keys is kept. Credentials and region come from\n"
          "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_REGION.\n"
          "\n"
          "  --table NAME     the table (IMAGEGEN_TABLE, default imagegen-local)\n"
          "  --endpoint URL   the local DynamoDB (AWS_ENDPOINT_URL_DYNAMODB): http://127.0.0.1:PORT\n"
          "                   or http://localhost:PORT; nothing else is accepted\n",
          stdout);
}

/* ---- options ---- */

static ig_err dt_apply_table(void *target, const lo_source *src, const char *v, ig_error *err)
{
    size_t n = strlen(v);
    int ok = n >= 3 && n <= 255;
    for (const char *p = v; ok && *p; p++)
        ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' ||
             *p == '-' || *p == '.';
    if (!ok)
        return ig_error_set(err, IG_ERR_CONFIG, "%s must be 3 to 255 of A-Z a-z 0-9 _ - . (a DynamoDB table name), "
                            "not \"%.64s\"", src->as, v);
    dt_config *c = target;
    free(c->table);
    c->table = strdup(v);
    return c->table ? IG_OK : ig_error_set(err, IG_ERR_NOMEM, "out of memory");
}

/* http://127.0.0.1:PORT or http://localhost:PORT, nothing after but an optional '/'. */
static ig_err dt_apply_endpoint(void *target, const lo_source *src, const char *v, ig_error *err)
{
    static const char *const prefixes[] = {"http://127.0.0.1:", "http://localhost:"};
    long port = 0;
    char *end = NULL;
    for (size_t i = 0; i < 2 && !end; i++)
        if (strncmp(v, prefixes[i], strlen(prefixes[i])) == 0)
            port = strtol(v + strlen(prefixes[i]), &end, 10);
    if (!end || (*end && strcmp(end, "/") != 0) || port < 1 || port > 65535)
        return ig_error_set(err, IG_ERR_CONFIG, "%s must be the local DynamoDB, http://127.0.0.1:PORT, not \"%.64s\"",
                            src->as, v);
    dt_config *c = target;
    free(c->endpoint);
    c->endpoint = strdup(v);
    return c->endpoint ? IG_OK : ig_error_set(err, IG_ERR_NOMEM, "out of memory");
}

static const lo_option dt_options[] = {
    {"table", LO_VALUE, "IMAGEGEN_TABLE", dt_apply_table, 0},
    {"endpoint", LO_VALUE, "AWS_ENDPOINT_URL_DYNAMODB", dt_apply_endpoint, 0},
};

/* ---- the schema ---- */

/* A member's string, "" when it is absent or not a string. */
static const char *dt_str(const json_t *obj, const char *name)
{
    const char *s = json_string_value(json_object_get(obj, name));
    return s ? s : "";
}

static json_t *dt_key(const char *hash, const char *range)
{
    return json_pack("[{s:s, s:s}, {s:s, s:s}]", "AttributeName", hash, "KeyType", "HASH", "AttributeName", range,
                     "KeyType", "RANGE");
}

static json_t *dt_create_input(const char *table)
{
    json_t *attrs = json_array();
    const char *names[] = {"pk", "sk", "gsi1pk", "gsi1sk"};
    for (size_t i = 0; i < 4; i++)
        json_array_append_new(attrs, json_pack("{s:s, s:s}", "AttributeName", names[i], "AttributeType", "S"));
    json_t *gsi = json_pack("[{s:s, s:o, s:{s:s}}]", "IndexName", "gsi1", "KeySchema", dt_key("gsi1pk", "gsi1sk"),
                            "Projection", "ProjectionType", "ALL");
    return json_pack("{s:s, s:o, s:o, s:o, s:s}", "TableName", table, "AttributeDefinitions", attrs, "KeySchema",
                     dt_key("pk", "sk"), "GlobalSecondaryIndexes", gsi, "BillingMode", "PAY_PER_REQUEST");
}

/* 1 when a described table has the keys pk/sk and the index gsi1 on gsi1pk/gsi1sk. */
static int dt_schema_matches(const json_t *table)
{
    json_t *want = dt_key("pk", "sk"), *want_gsi = dt_key("gsi1pk", "gsi1sk");
    int ok = json_equal(json_object_get(table, "KeySchema"), want);
    int gsi = 0;
    size_t i;
    json_t *index;
    json_array_foreach(json_object_get(table, "GlobalSecondaryIndexes"), i, index)
        gsi |= strcmp(dt_str(index, "IndexName"), "gsi1") == 0 &&
               json_equal(json_object_get(index, "KeySchema"), want_gsi);
    json_decref(want);
    json_decref(want_gsi);
    return ok && gsi;
}

/* ---- the calls ---- */

static ig_err dt_call(dt_client *c, const char *operation, json_t *input, ig_dynamodb_result *out)
{
    ig_dynamodb_result_init(out);
    ig_err e = ig_dynamodb_call(c->ddb, operation, input, ig_now_ms() + DT_CALL_TIMEOUT_MS, out);
    json_decref(input);
    return e;
}

static void dt_refused(const char *what, const ig_dynamodb_result *r)
{
    fprintf(stderr, "dynamodb-table: %s failed: %s%s%s\n", what, r->call.error_type, r->call.error_type[0] ? ": " : "",
            r->call.message);
}

/* CreateTable; 1 when it was created or already there. */
static int dt_create(dt_client *c, const char *table)
{
    ig_dynamodb_result r;
    ig_err e = dt_call(c, "CreateTable", dt_create_input(table), &r);
    int ok = e == IG_OK || strcmp(r.call.error_type, "ResourceInUseException") == 0;
    if (!ok)
        dt_refused("CreateTable", &r);
    ig_dynamodb_result_free(&r);
    return ok;
}

/* 1 when the table and each of its indexes are ACTIVE; -1 when it cannot be used. */
static int dt_active(dt_client *c, const char *table)
{
    ig_dynamodb_result r;
    if (dt_call(c, "DescribeTable", json_pack("{s:s}", "TableName", table), &r) != IG_OK) {
        dt_refused("DescribeTable", &r);
        ig_dynamodb_result_free(&r);
        return -1;
    }
    json_t *t = json_object_get(r.output, "Table");
    int state = dt_schema_matches(t) ? 1 : -1;
    if (state < 0)
        fprintf(stderr, "dynamodb-table: the table %s exists with other keys or without the index gsi1 "
                        "(gsi1pk, gsi1sk); delete it or choose another IMAGEGEN_TABLE\n", table);
    if (state > 0 && strcmp(dt_str(t, "TableStatus"), "ACTIVE") != 0)
        state = 0;
    size_t i;
    json_t *index;
    json_array_foreach(json_object_get(t, "GlobalSecondaryIndexes"), i, index)
        if (state > 0 && strcmp(dt_str(index, "IndexStatus"), "ACTIVE") != 0)
            state = 0;
    ig_dynamodb_result_free(&r);
    return state;
}

static int dt_wait_active(dt_client *c, const char *table)
{
    int64_t until = ig_mono_ms() + DT_ACTIVE_WAIT_MS;
    for (;;) {
        int state = dt_active(c, table);
        if (state != 0)
            return state > 0;
        if (ig_mono_ms() > until) {
            fprintf(stderr, "dynamodb-table: the table %s is not ACTIVE after %d s\n", table, DT_ACTIVE_WAIT_MS / 1000);
            return 0;
        }
        ig_sleep_ms(DT_POLL_MS);
    }
}

/* UpdateTimeToLive on expires_at: what the last line says about it, or NULL when refused. */
static const char *dt_time_to_live(dt_client *c, const char *table)
{
    ig_dynamodb_result r;
    ig_err e = dt_call(c, "UpdateTimeToLive",
                       json_pack("{s:s, s:{s:b, s:s}}", "TableName", table, "TimeToLiveSpecification", "Enabled", 1,
                                 "AttributeName", "expires_at"),
                       &r);
    const char *said = NULL;
    if (e == IG_OK)
        said = "on expires_at";
    else if (strcmp(r.call.error_type, "UnknownOperationException") == 0)
        said = "not kept by this DynamoDB (dynalite): items do not expire";
    else if (strcmp(r.call.error_type, "ValidationException") == 0 && strstr(r.call.message, "already enabled"))
        said = "on expires_at";
    else
        dt_refused("UpdateTimeToLive", &r);
    ig_dynamodb_result_free(&r);
    return said;
}

/* ---- main ---- */

static int dt_run(const dt_config *cfg)
{
    dt_client c;
    memset(&c, 0, sizeof c);
    ig_error err;
    ig_error_clear(&err);
    if (ig_aws_context_init(&c.ctx, &err) != IG_OK || !(c.ddb = ig_dynamodb_new(&c.ctx, &err))) {
        fprintf(stderr, "dynamodb-table: %s\n", err.message);
        ig_aws_context_free(&c.ctx);
        return 2;
    }
    int rc = 1;
    const char *ttl = NULL;
    if (dt_create(&c, cfg->table) && dt_wait_active(&c, cfg->table) && (ttl = dt_time_to_live(&c, cfg->table))) {
        printf("dynamodb-table: %s is ready at %s (keys pk, sk; index gsi1 on gsi1pk, gsi1sk; time to live %s)\n",
               cfg->table, cfg->endpoint, ttl);
        rc = 0;
    }
    ig_dynamodb_free(c.ddb);
    ig_aws_context_free(&c.ctx);
    return rc;
}

int main(int argc, char **argv)
{
    dt_config cfg = {strdup(DT_DEFAULT_TABLE), NULL};
    ig_error err;
    ig_error_clear(&err);
    lo_outcome o = lo_parse(dt_options, sizeof dt_options / sizeof dt_options[0], &cfg, argc, argv, NULL, &err);
    int rc = 2;
    if (o == LO_HELP) {
        dt_usage();
        rc = 0;
    } else if (o == LO_ERROR) {
        fprintf(stderr, "dynamodb-table: %s\n", err.message);
    } else if (!cfg.endpoint || !cfg.table) {
        fprintf(stderr, "dynamodb-table: give the local DynamoDB with --endpoint http://127.0.0.1:PORT (or "
                        "AWS_ENDPOINT_URL_DYNAMODB)\n");
    } else if (setenv("AWS_ENDPOINT_URL_DYNAMODB", cfg.endpoint, 1) != 0 ||
               unsetenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS") != 0 || ig_http_global_init() != IG_OK) {
        fprintf(stderr, "dynamodb-table: cannot prepare the HTTP client\n");
    } else {
        rc = dt_run(&cfg);
        ig_http_global_cleanup();
    }
    free(cfg.table);
    free(cfg.endpoint);
    return rc;
}
