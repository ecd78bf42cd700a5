/* endpoints.h - regions and service endpoints.
 *
 * Region: AWS_REGION, else AWS_DEFAULT_REGION, else `region` of the profile (AWS_PROFILE,
 * else default) in the shared config file (AWS_CONFIG_FILE, else ~/.aws/config: "[default]"
 * and "[profile NAME]" sections); validated against the shape of region names ("us-east-1",
 * "us-gov-west-1", "eu-central-2", ...).
 * Bedrock Runtime: AWS_ENDPOINT_URL_BEDROCK_RUNTIME, else AWS_ENDPOINT_URL, else
 * https://bedrock-runtime.{region}.amazonaws.com.
 * DynamoDB: AWS_ENDPOINT_URL_DYNAMODB, else AWS_ENDPOINT_URL, else https://dynamodb.{region}.amazonaws.com.
 * Lambda: AWS_ENDPOINT_URL_LAMBDA, else AWS_ENDPOINT_URL, else https://lambda.{region}.amazonaws.com.
 * S3: AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL, else https://s3.{region}.amazonaws.com;
 * virtual-hosted style (https://{bucket}.s3.{region}.amazonaws.com/{key}) by default; path
 * style (https://host/{bucket}/{key}) when the endpoint is overridden or the bucket name
 * contains a dot. AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true ignores the overrides.
 * An override must be http:// or https://, with a host, optional port and optional base path,
 * and no query, fragment or user info.
 */
#ifndef IG_ENDPOINTS_H
#define IG_ENDPOINTS_H

#include "core/error.h"

#define IG_REGION_MAX 32

ig_err ig_region_from_env(char out[IG_REGION_MAX], ig_error *err);
/* Checks the shape of a region name. */
int ig_region_valid(const char *region);

typedef struct {
    char *scheme;     /* "https" or "http" */
    char *host;       /* "bedrock-runtime.us-east-1.amazonaws.com", or "127.0.0.1:4569" (port kept) */
    char *base_path;  /* "" or "/prefix" without a trailing slash */
    int overridden;   /* 1 when it came from an AWS_ENDPOINT_URL* variable */
} ig_endpoint;

/* Parses an endpoint URL (for overrides). */
ig_err ig_endpoint_parse(const char *url, ig_endpoint *out, ig_error *err);
/* A regional service: the override in override_var ("AWS_ENDPOINT_URL_<SERVICE ID>"), else
 * AWS_ENDPOINT_URL, else https://{host_prefix}.{region}.amazonaws.com (.com.cn in China). */
ig_err ig_endpoint_regional(const char *region, const char *host_prefix, const char *override_var,
                            ig_endpoint *out, ig_error *err);
ig_err ig_endpoint_bedrock(const char *region, ig_endpoint *out, ig_error *err);
ig_err ig_endpoint_dynamodb(const char *region, ig_endpoint *out, ig_error *err);
ig_err ig_endpoint_lambda(const char *region, ig_endpoint *out, ig_error *err);
/* The endpoint for objects of bucket; *path_style says whether the bucket goes in the path. */
ig_err ig_endpoint_s3(const char *region, const char *bucket, ig_endpoint *out, int *path_style,
                      ig_error *err);
void ig_endpoint_free(ig_endpoint *e);

#endif
