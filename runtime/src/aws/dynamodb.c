/* dynamodb.c - DynamoDB's JSON 1.0 protocol on top of aws/call.c: request documents built from
 * typed descriptions and checked before sending, answers parsed and checked against their CRC32,
 * typed attribute values built and read. */
#include "aws/dynamodb.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/json.h"

struct ig_dynamodb {
    ig_aws_context *ctx;
    ig_endpoint ep;
    char *url;                /* scheme://host/base/ */
    char *path;               /* /base/ */
    ig_aws_service svc;       /* signing name "dynamodb", the context's region */
};

ig_dynamodb *ig_dynamodb_new(ig_aws_context *ctx, ig_error *err)
{
    if (!ctx || !ctx->http || !ctx->signer) {
        ig_error_set(err, IG_ERR_INVALID_ARG, "the AWS context is not initialized");
        return NULL;
    }
    ig_dynamodb *d = calloc(1, sizeof *d);
    if (!d) {
        ig_error_set(err, IG_ERR_NOMEM, "out of memory");
        return NULL;
    }
    d->ctx = ctx;
    d->svc = (ig_aws_service){.signing_name = "dynamodb"};
    if (ig_endpoint_dynamodb(ctx->region, &d->ep, err) != IG_OK) {
        free(d);
        return NULL;
    }
    ig_buf path, url;
    ig_buf_init(&path, 0);
    ig_buf_init(&url, 0);
    ig_err e = ig_buf_appendf(&path, "%s/", d->ep.base_path);
    if (!e)
        e = ig_buf_appendf(&url, "%s://%s%s", d->ep.scheme, d->ep.host, ig_buf_cstr(&path));
    d->path = e ? NULL : ig_buf_steal(&path, NULL);
    d->url = e ? NULL : ig_buf_steal(&url, NULL);
    ig_buf_free(&path);
    ig_buf_free(&url);
    if (!d->path || !d->url) {
        ig_dynamodb_free(d);
        ig_error_set(err, IG_ERR_NOMEM, "out of memory");
        return NULL;
    }
    return d;
}

void ig_dynamodb_free(ig_dynamodb *d)
{
    if (!d)
        return;
    ig_endpoint_free(&d->ep);
    free(d->path);
    free(d->url);
    free(d);
}

void ig_dynamodb_result_init(ig_dynamodb_result *r)
{
    ig_aws_call_result_init(&r->call);
    r->output = NULL;
}

void ig_dynamodb_result_free(ig_dynamodb_result *r)
{
    ig_aws_call_result_free(&r->call);
    json_decref(r->output);
    r->output = NULL;
}

static void result_reset(ig_dynamodb_result *r)
{
    ig_aws_call_result_reset(&r->call);
    json_decref(r->output);
    r->output = NULL;
}

/* ---- CRC32 ----------------------------------------------------------------------------- */

uint32_t ig_dynamodb_crc32(const void *data, size_t len)
{
    const unsigned char *p = data;
    uint32_t crc = 0xFFFFFFFFu;
    for (size_t i = 0; i < len; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return crc ^ 0xFFFFFFFFu;
}

/* The x-amz-crc32 check of a 2xx answer (no header: nothing to check). */
static int crc32_damaged(const ig_http_response *resp, char *why, size_t why_len)
{
    const char *h = ig_header_list_get(&resp->headers, "x-amz-crc32");
    if (!h)
        return 0;
    char *end = NULL;
    errno = 0;
    unsigned long long want = strtoull(h, &end, 10);
    if (!*h || *h == '-' || *end || errno || want > 0xFFFFFFFFull) {
        snprintf(why, why_len, "the answer's x-amz-crc32 header is not a 32-bit number");
        return 1;
    }
    uint32_t got = ig_dynamodb_crc32(resp->body.data ? resp->body.data : "", resp->body.len);
    if (got == (uint32_t)want)
        return 0;
    snprintf(why, why_len, "the answer's body (%zu bytes) does not match its x-amz-crc32 %llu (computed %" PRIu32 ")",
             resp->body.len, want, got);
    return 1;
}

/* ---- the call -------------------------------------------------------------------------- */

static int operation_valid(const char *op)
{
    if (!op || !*op || strlen(op) > 64)
        return 0;
    for (; *op; op++)
        if (!((*op >= 'A' && *op <= 'Z') || (*op >= 'a' && *op <= 'z')))
            return 0;
    return 1;
}

/* Parses the answer into out->output: a success must be a JSON object; an error keeps its
 * document when it is one. */
static void take_output(ig_dynamodb_result *out)
{
    ig_aws_call_result *c = &out->call;
    if (c->err != IG_OK && c->err != IG_ERR_AWS)
        return;
    json_error_t jerr;
    json_t *doc = c->body.len ? json_loadb(c->body.data, c->body.len, 0, &jerr) : NULL;
    if (doc && !json_is_object(doc)) {
        json_decref(doc);
        doc = NULL;
    }
    if (c->err == IG_ERR_AWS) {
        out->output = doc;
        return;
    }
    if (!doc) {
        c->err = IG_ERR_PARSE;
        snprintf(c->message, sizeof c->message, "DynamoDB answered %ld with a body that is not a JSON object",
                 c->status);
        c->stop_reason = "not retryable";
        return;
    }
    out->output = doc;
}

ig_err ig_dynamodb_call(ig_dynamodb *d, const char *operation, json_t *input, int64_t deadline_ms,
                        ig_dynamodb_result *out)
{
    result_reset(out);
    if (!d)
        return ig_aws_call_refuse(&out->call, IG_ERR_INVALID_ARG, "no DynamoDB client");
    if (!operation_valid(operation))
        return ig_aws_call_refuse(&out->call, IG_ERR_INVALID_ARG, "the DynamoDB operation name is not a word");
    if (!json_is_object(input))
        return ig_aws_call_refuse(&out->call, IG_ERR_INVALID_ARG, "the DynamoDB request is not a JSON object");
    char *body = json_dumps(input, JSON_COMPACT);
    if (!body)
        return ig_aws_call_refuse(&out->call, IG_ERR_NOMEM, "the DynamoDB request could not be serialized");
    size_t len = strlen(body);
    if (len > IG_DYNAMODB_MAX_REQUEST) {
        free(body);
        return ig_aws_call_refuse(&out->call, IG_ERR_TOO_LARGE, "the DynamoDB request is larger than 16 MiB");
    }
    char target[96], op_label[80];
    snprintf(target, sizeof target, IG_DYNAMODB_TARGET_PREFIX "%s", operation);
    snprintf(op_label, sizeof op_label, "DynamoDB.%s", operation);
    const ig_header headers[] = {{"Host", d->ep.host},
                                 {"Content-Type", IG_DYNAMODB_CONTENT_TYPE},
                                 {"X-Amz-Target", target}};
    ig_aws_call_request req = {.operation = op_label,
                               .svc = &d->svc,
                               .method = "POST",
                               .path = d->path,
                               .url = d->url,
                               .headers = headers,
                               .n_headers = sizeof headers / sizeof headers[0],
                               .body = body,
                               .body_len = len,
                               .deadline_ms = deadline_ms,
                               .max_response_bytes = IG_DYNAMODB_MAX_RESPONSE,
                               .damaged = crc32_damaged};
    ig_aws_call(d->ctx, &req, &out->call);
    free(body);
    take_output(out);
    return out->call.err;
}

/* ---- request documents ----------------------------------------------------------------- */

/* Why a request cannot be sent; nothing is sent. */
typedef struct {
    char why[256];
} ig_ddb_check;

static int refuse_field(ig_ddb_check *c, const char *field, const char *what)
{
    snprintf(c->why, sizeof c->why, "%s %s", field, what);
    return 0;
}

static int table_valid(const char *t)
{
    if (!t)
        return 0;
    size_t n = strlen(t);
    if (strncmp(t, "arn:", 4) == 0) {
        if (n > 1024)
            return 0;
        for (; *t; t++)
            if ((unsigned char)*t <= 0x20 || (unsigned char)*t >= 0x7f)
                return 0;
        return 1;
    }
    if (n < 3 || n > 255)
        return 0;
    for (; *t; t++)
        if (!((*t >= 'A' && *t <= 'Z') || (*t >= 'a' && *t <= 'z') || (*t >= '0' && *t <= '9') || *t == '_' ||
              *t == '.' || *t == '-'))
            return 0;
    return 1;
}

static int one_of(const char *v, const char *const *set)
{
    for (; *set; set++)
        if (strcmp(v, *set) == 0)
            return 1;
    return 0;
}

/* Adds the field when present, after checking its shape. */
static int add_str(json_t *doc, const char *field, const char *v, ig_ddb_check *c)
{
    if (!v)
        return 1;
    if (!*v)
        return refuse_field(c, field, "is empty");
    return json_object_set_new(doc, field, json_string(v)) == 0 ? 1 : refuse_field(c, field, "is not UTF-8");
}

static int add_obj(json_t *doc, const char *field, json_t *v, ig_ddb_check *c)
{
    if (!v)
        return 1;
    if (!json_is_object(v) || json_object_size(v) == 0)
        return refuse_field(c, field, "must be a non-empty JSON object");
    return json_object_set(doc, field, v) == 0 ? 1 : refuse_field(c, field, "could not be added (out of memory)");
}

static int add_enum(json_t *doc, const char *field, const char *v, const char *const *allowed, ig_ddb_check *c)
{
    if (!v)
        return 1;
    if (!one_of(v, allowed))
        return refuse_field(c, field, "is not one of the values DynamoDB accepts");
    return add_str(doc, field, v, c);
}

static int add_table(json_t *doc, const char *table, ig_ddb_check *c)
{
    if (!table_valid(table))
        return refuse_field(c, "TableName", "must be 3 to 255 of A-Z a-z 0-9 _ . - (or a table ARN)");
    return add_str(doc, "TableName", table, c);
}

static int add_required_obj(json_t *doc, const char *field, json_t *v, ig_ddb_check *c)
{
    if (!v)
        return refuse_field(c, field, "is required");
    return add_obj(doc, field, v, c);
}

static int add_required_str(json_t *doc, const char *field, const char *v, ig_ddb_check *c)
{
    if (!v)
        return refuse_field(c, field, "is required");
    return add_str(doc, field, v, c);
}

static int add_bool_if(json_t *doc, const char *field, int set, int value)
{
    return !set || json_object_set_new(doc, field, json_boolean(value)) == 0;
}

static const char *const put_returns[] = {"NONE", "ALL_OLD", NULL};
static const char *const update_returns[] = {"NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW", NULL};
static const char *const failure_returns[] = {"NONE", "ALL_OLD", NULL};

static int build_put(json_t *doc, const void *arg, ig_ddb_check *c)
{
    const ig_dynamodb_put *p = arg;
    return add_table(doc, p->table, c) && add_required_obj(doc, "Item", p->item, c) &&
           add_str(doc, "ConditionExpression", p->condition, c) &&
           add_obj(doc, "ExpressionAttributeNames", p->names, c) &&
           add_obj(doc, "ExpressionAttributeValues", p->values, c) &&
           add_enum(doc, "ReturnValues", p->return_values, put_returns, c) &&
           add_enum(doc, "ReturnValuesOnConditionCheckFailure", p->return_on_condition_failure, failure_returns, c);
}

static int build_update(json_t *doc, const void *arg, ig_ddb_check *c)
{
    const ig_dynamodb_update *u = arg;
    return add_table(doc, u->table, c) && add_required_obj(doc, "Key", u->key, c) &&
           add_required_str(doc, "UpdateExpression", u->update, c) &&
           add_str(doc, "ConditionExpression", u->condition, c) &&
           add_obj(doc, "ExpressionAttributeNames", u->names, c) &&
           add_obj(doc, "ExpressionAttributeValues", u->values, c) &&
           add_enum(doc, "ReturnValues", u->return_values, update_returns, c) &&
           add_enum(doc, "ReturnValuesOnConditionCheckFailure", u->return_on_condition_failure, failure_returns, c);
}

static int build_get(json_t *doc, const void *arg, ig_ddb_check *c)
{
    const ig_dynamodb_get *g = arg;
    return add_table(doc, g->table, c) && add_required_obj(doc, "Key", g->key, c) &&
           add_bool_if(doc, "ConsistentRead", g->consistent_read, 1) &&
           add_str(doc, "ProjectionExpression", g->projection, c) &&
           add_obj(doc, "ExpressionAttributeNames", g->names, c);
}

static int build_query(json_t *doc, const void *arg, ig_ddb_check *c)
{
    const ig_dynamodb_query *q = arg;
    if (q->limit < 0)
        return refuse_field(c, "Limit", "must be 1 or more (0: no limit)");
    return add_table(doc, q->table, c) && add_str(doc, "IndexName", q->index, c) &&
           add_required_str(doc, "KeyConditionExpression", q->key_condition, c) &&
           add_str(doc, "FilterExpression", q->filter, c) && add_str(doc, "ProjectionExpression", q->projection, c) &&
           add_obj(doc, "ExpressionAttributeNames", q->names, c) &&
           add_obj(doc, "ExpressionAttributeValues", q->values, c) &&
           add_bool_if(doc, "ScanIndexForward", q->descending, 0) &&
           (!q->limit || json_object_set_new(doc, "Limit", json_integer(q->limit)) == 0) &&
           add_obj(doc, "ExclusiveStartKey", q->exclusive_start_key, c) &&
           add_bool_if(doc, "ConsistentRead", q->consistent_read, 1);
}

typedef int (*ig_ddb_builder)(json_t *doc, const void *arg, ig_ddb_check *c);

/* Builds the request document of operation from arg, or refuses with the builder's sentence
 * (nothing sent), then calls. */
static ig_err typed_call(ig_dynamodb *d, const char *operation, ig_ddb_builder build, const void *arg,
                         int64_t deadline_ms, ig_dynamodb_result *out)
{
    ig_ddb_check c = {{0}};
    json_t *doc = json_object();
    if (!arg)
        snprintf(c.why, sizeof c.why, "no request");
    int built = doc && arg && build(doc, arg, &c);
    ig_err e;
    if (!built) {
        result_reset(out);
        char msg[320];
        snprintf(msg, sizeof msg, "DynamoDB %s: %s", operation, c.why[0] ? c.why : "out of memory");
        e = ig_aws_call_refuse(&out->call, c.why[0] ? IG_ERR_INVALID_ARG : IG_ERR_NOMEM, msg);
    } else {
        e = ig_dynamodb_call(d, operation, doc, deadline_ms, out);
    }
    json_decref(doc);
    return e;
}

ig_err ig_dynamodb_put_item(ig_dynamodb *d, const ig_dynamodb_put *p, int64_t deadline_ms, ig_dynamodb_result *out)
{
    return typed_call(d, "PutItem", build_put, p, deadline_ms, out);
}

ig_err ig_dynamodb_update_item(ig_dynamodb *d, const ig_dynamodb_update *u, int64_t deadline_ms,
                               ig_dynamodb_result *out)
{
    return typed_call(d, "UpdateItem", build_update, u, deadline_ms, out);
}

ig_err ig_dynamodb_get_item(ig_dynamodb *d, const ig_dynamodb_get *g, int64_t deadline_ms, ig_dynamodb_result *out)
{
    return typed_call(d, "GetItem", build_get, g, deadline_ms, out);
}

ig_err ig_dynamodb_query_page(ig_dynamodb *d, const ig_dynamodb_query *q, int64_t deadline_ms,
                              ig_dynamodb_result *out)
{
    return typed_call(d, "Query", build_query, q, deadline_ms, out);
}

/* ---- answers --------------------------------------------------------------------------- */

json_t *ig_dynamodb_output(const ig_dynamodb_result *r, const char *member)
{
    if (!r || r->call.err != IG_OK || !member)
        return NULL;
    json_t *v = json_object_get(r->output, member);
    return json_is_null(v) ? NULL : v;
}

int ig_dynamodb_condition_failed(const ig_dynamodb_result *r)
{
    return r && r->call.err == IG_ERR_AWS && strcmp(r->call.error_type, "ConditionalCheckFailedException") == 0;
}

/* ---- typed attribute values ------------------------------------------------------------ */

static json_t *typed(const char *type, json_t *v)
{
    if (!v)
        return NULL;
    json_t *o = json_object();
    if (!o || json_object_set_new(o, type, v) != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *ig_dynamodb_attr_s(const char *s)
{
    return s ? typed("S", json_string(s)) : NULL;
}

json_t *ig_dynamodb_attr_n(int64_t n)
{
    char text[32];
    snprintf(text, sizeof text, "%" PRId64, n);
    return typed("N", json_string(text));
}

json_t *ig_dynamodb_attr_bool(int b)
{
    return typed("BOOL", json_boolean(b));
}

json_t *ig_dynamodb_attr_map(json_t *members)
{
    if (members && !json_is_object(members)) {
        json_decref(members);
        return NULL;
    }
    return typed("M", members);
}

json_t *ig_dynamodb_attr_list(json_t *values)
{
    if (values && !json_is_array(values)) {
        json_decref(values);
        return NULL;
    }
    return typed("L", values);
}

static json_t *typed_member(const json_t *item, const char *name, const char *type)
{
    json_t *attr = json_object_get(item, name);
    return json_is_object(attr) ? json_object_get(attr, type) : NULL;
}

const char *ig_dynamodb_item_s(const json_t *item, const char *name)
{
    return json_string_value(typed_member(item, name, "S"));
}

int ig_dynamodb_item_n(const json_t *item, const char *name, int64_t *out)
{
    const char *s = json_string_value(typed_member(item, name, "N"));
    if (!s || !*s)
        return 0;
    const char *p = s + (*s == '-');
    if (!*p)
        return 0;
    for (const char *q = p; *q; q++)
        if (*q < '0' || *q > '9')
            return 0;
    errno = 0;
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (errno || *end)
        return 0;
    *out = (int64_t)v;
    return 1;
}

int ig_dynamodb_item_bool(const json_t *item, const char *name, int *out)
{
    json_t *v = typed_member(item, name, "BOOL");
    if (!json_is_boolean(v))
        return 0;
    *out = json_is_true(v);
    return 1;
}
