/* dynamodb.h - Amazon DynamoDB over its JSON 1.0 protocol: PutItem, UpdateItem, GetItem, Query.
 *
 * Every operation is POST {base}/ with Content-Type application/x-amz-json-1.0 and
 * X-Amz-Target DynamoDB_20120810.<Operation>, signed for "dynamodb" in the context's region, sent
 * to AWS_ENDPOINT_URL_DYNAMODB, else AWS_ENDPOINT_URL, else https://dynamodb.{region}.amazonaws.com.
 * Documents are jansson values in DynamoDB's typed JSON ({"S": "..."}, {"N": "12"}, {"BOOL": true},
 * {"M": {...}}, {"L": [...]}); the attribute helpers below build and read them.
 *
 * Retried in standard mode (aws/retry.h): throttling (ProvisionedThroughputExceededException,
 * ThrottlingException, RequestLimitExceeded, ...), 500/502/503/504 and connection failures;
 * never ConditionalCheckFailedException, ValidationException, ResourceNotFoundException or any
 * other 4xx. An answer whose body does not match its x-amz-crc32 header is retried, as botocore
 * does for DynamoDB, and reported as IG_ERR_HTTP when retrying ends.
 */
#ifndef IG_DYNAMODB_H
#define IG_DYNAMODB_H

#include <jansson.h>
#include <stdint.h>

#include "aws/aws.h"
#include "aws/call.h"

#define IG_DYNAMODB_TARGET_PREFIX "DynamoDB_20120810."
#define IG_DYNAMODB_CONTENT_TYPE "application/x-amz-json-1.0"
/* A request document larger than this is refused before sending (DynamoDB's own HTTP limit). */
#define IG_DYNAMODB_MAX_REQUEST (16 * 1024 * 1024)
/* Answers are capped here (a Query page reads at most 1 MB; typed JSON adds its overhead). */
#define IG_DYNAMODB_MAX_RESPONSE (16 * 1024 * 1024)

typedef struct ig_dynamodb ig_dynamodb;

/* A client for the context's region; it shares the context's HTTP client, signer and retry quota. */
ig_dynamodb *ig_dynamodb_new(ig_aws_context *ctx, ig_error *err);
void ig_dynamodb_free(ig_dynamodb *d);

typedef struct {
    ig_aws_call_result call;  /* err, status, error_type ("ConditionalCheckFailedException"),
                               * message, request_id, attempts, stop_reason, the raw body */
    json_t *output;           /* IG_OK: the answer document; IG_ERR_AWS: the error document when it
                               * parsed (it carries "Item" after a failed condition asked for with
                               * return_on_condition_failure); else NULL. Owned by the result. */
} ig_dynamodb_result;

void ig_dynamodb_result_init(ig_dynamodb_result *r);
void ig_dynamodb_result_free(ig_dynamodb_result *r);

/* Any operation: operation is "PutItem", "Query", ...; input is the request document (borrowed).
 * Returns out->call.err. An answer that is not a JSON object is IG_ERR_PARSE (not retried). */
ig_err ig_dynamodb_call(ig_dynamodb *d, const char *operation, json_t *input, int64_t deadline_ms,
                        ig_dynamodb_result *out);

/* The typed operations below build the request document, check what DynamoDB would refuse for
 * certain (IG_ERR_INVALID_ARG with a sentence naming the field, nothing sent), and call. Every
 * json_t they take is borrowed; NULL and 0 fields are left out of the request. */

typedef struct {
    const char *table;                      /* name (3-255 of A-Z a-z 0-9 _ . -) or table ARN */
    json_t *item;                           /* {"id": {"S": "j-1"}, ...} */
    const char *condition;                  /* ConditionExpression: "attribute_not_exists(id)" */
    json_t *names;                          /* ExpressionAttributeNames: {"#s": "status"} */
    json_t *values;                         /* ExpressionAttributeValues: {":v": {"S": "x"}} */
    const char *return_values;              /* "NONE" or "ALL_OLD" */
    const char *return_on_condition_failure; /* ReturnValuesOnConditionCheckFailure: "ALL_OLD" */
} ig_dynamodb_put;

typedef struct {
    const char *table;
    json_t *key;                            /* the whole primary key */
    const char *update;                     /* UpdateExpression, required: "SET #s = :s" */
    const char *condition;
    json_t *names;
    json_t *values;
    const char *return_values;              /* NONE, ALL_OLD, UPDATED_OLD, ALL_NEW, UPDATED_NEW */
    const char *return_on_condition_failure;
} ig_dynamodb_update;

typedef struct {
    const char *table;
    json_t *key;
    int consistent_read;                    /* 1: ConsistentRead true */
    const char *projection;                 /* ProjectionExpression */
    json_t *names;
} ig_dynamodb_get;

typedef struct {
    const char *table;
    const char *index;                      /* IndexName (a GSI or LSI), or NULL for the table */
    const char *key_condition;              /* KeyConditionExpression, required */
    const char *filter;                     /* FilterExpression */
    const char *projection;
    json_t *names;
    json_t *values;
    int descending;                         /* 1: ScanIndexForward false (sort key high to low) */
    int limit;                              /* Limit, 1 or more; 0: none */
    json_t *exclusive_start_key;            /* the previous page's LastEvaluatedKey */
    int consistent_read;
} ig_dynamodb_query;

ig_err ig_dynamodb_put_item(ig_dynamodb *d, const ig_dynamodb_put *p, int64_t deadline_ms,
                            ig_dynamodb_result *out);
ig_err ig_dynamodb_update_item(ig_dynamodb *d, const ig_dynamodb_update *u, int64_t deadline_ms,
                               ig_dynamodb_result *out);
ig_err ig_dynamodb_get_item(ig_dynamodb *d, const ig_dynamodb_get *g, int64_t deadline_ms,
                            ig_dynamodb_result *out);
ig_err ig_dynamodb_query_page(ig_dynamodb *d, const ig_dynamodb_query *q, int64_t deadline_ms,
                              ig_dynamodb_result *out);

/* Members of a successful answer (borrowed from out->output), NULL when absent:
 * GetItem's "Item" (NULL: no such item), UpdateItem's / PutItem's "Attributes", Query's
 * "Items" (an array) and "LastEvaluatedKey" (NULL: the last page). */
json_t *ig_dynamodb_output(const ig_dynamodb_result *r, const char *member);

/* 1 when the call failed with ConditionalCheckFailedException. */
int ig_dynamodb_condition_failed(const ig_dynamodb_result *r);

/* ---- typed attribute values ------------------------------------------------------------ */

/* New references (NULL on a NULL input or out of memory). attr_map and attr_list steal their
 * argument, so they nest: ig_dynamodb_attr_map(json_pack("{s:o}", "w", ig_dynamodb_attr_n(512))). */
json_t *ig_dynamodb_attr_s(const char *s);       /* {"S": s} */
json_t *ig_dynamodb_attr_n(int64_t n);           /* {"N": "n"} */
json_t *ig_dynamodb_attr_bool(int b);            /* {"BOOL": true|false} */
json_t *ig_dynamodb_attr_map(json_t *members);   /* {"M": members} */
json_t *ig_dynamodb_attr_list(json_t *values);   /* {"L": values} */

/* Readers of an item ({"name": {"S": ...}, ...}); a missing attribute or another type reads as
 * absent. item_n accepts integral numbers that fit an int64 ("42", "-7"; not "4.2" or "1e3"). */
const char *ig_dynamodb_item_s(const json_t *item, const char *name);
int ig_dynamodb_item_n(const json_t *item, const char *name, int64_t *out);
int ig_dynamodb_item_bool(const json_t *item, const char *name, int *out);

/* The CRC32 (IEEE 802.3, as zlib's crc32) DynamoDB sends in x-amz-crc32. */
uint32_t ig_dynamodb_crc32(const void *data, size_t len);

#endif
