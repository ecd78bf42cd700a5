/* config.c - strict parsing of the handler's environment. */
#include "handler/config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/endpoints.h"

ig_err ig_env_int(const char *name, int64_t min, int64_t max, int64_t *out, ig_error *err)
{
    const char *v = getenv(name);
    if (!v || !*v)
        return IG_OK;
    char *end = NULL;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    if (errno || !end || *end || end == v || v[0] == '+' || v[0] == ' ' || n < min || n > max)
        return ig_error_set(err, IG_ERR_CONFIG, "%s must be a whole number from %lld to %lld, got \"%.40s\"",
                            name, (long long)min, (long long)max, v);
    *out = n;
    return IG_OK;
}

/* S3 bucket naming rules: 3-63 characters, lower-case letters, digits, '.', '-', starting and
 * ending with a letter or digit. */
static int bucket_name_valid(const char *b)
{
    size_t n = strlen(b);
    if (n < 3 || n > 63)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = b[i];
        int alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!alnum && c != '.' && c != '-')
            return 0;
        if ((i == 0 || i == n - 1) && !alnum)
            return 0;
    }
    return strstr(b, "..") == NULL;
}

static ig_err env_str(const char *name, char *out, size_t outlen, const char *dflt, ig_error *err)
{
    const char *v = getenv(name);
    if (!v || !*v)
        v = dflt;
    if (strlen(v) >= outlen)
        return ig_error_set(err, IG_ERR_CONFIG, "%s is longer than %zu characters", name, outlen - 1);
    snprintf(out, outlen, "%s", v);
    return IG_OK;
}

/* Jobs: the table (optional: without it /jobs says jobs are not configured), the function's own
 * name to invoke, and how long a job may take from acceptance (Lambda's maximum event age, 6 h
 * by default, plus its longest run, 15 min). */
static ig_err jobs_from_env(ig_handler_config *c, ig_error *err)
{
    ig_err e;
    if ((e = env_str("IMAGEGEN_TABLE", c->table, sizeof c->table, "", err)) ||
        (e = env_str("AWS_LAMBDA_FUNCTION_NAME", c->function_name, sizeof c->function_name, "", err)))
        return e;
    for (const char *t = c->table; *t; t++)
        if (!((*t >= 'a' && *t <= 'z') || (*t >= 'A' && *t <= 'Z') || (*t >= '0' && *t <= '9') || *t == '_' ||
              *t == '-' || *t == '.' || *t == ':' || *t == '/'))
            return ig_error_set(err, IG_ERR_CONFIG,
                                "IMAGEGEN_TABLE \"%.70s\" is not a DynamoDB table name or ARN", c->table);
    if (c->table[0] && strlen(c->table) < 3)
        return ig_error_set(err, IG_ERR_CONFIG, "IMAGEGEN_TABLE \"%s\" is shorter than 3 characters", c->table);
    c->job_timeout_s = 22500;
    return ig_env_int("IMAGEGEN_JOB_TIMEOUT_S", 60, 86400, &c->job_timeout_s, err);
}

ig_err ig_handler_config_from_env(ig_handler_config *c, ig_error *err)
{
    memset(c, 0, sizeof *c);
    const char *bucket = getenv("IMAGEGEN_BUCKET");
    if (!bucket || !*bucket)
        return ig_error_set(err, IG_ERR_CONFIG, "IMAGEGEN_BUCKET is not set: name the S3 bucket for images");
    if (!bucket_name_valid(bucket))
        return ig_error_set(err, IG_ERR_CONFIG, "IMAGEGEN_BUCKET \"%.70s\" is not a valid S3 bucket name",
                            bucket);
    snprintf(c->bucket, sizeof c->bucket, "%s", bucket);
    ig_err e;
    if ((e = env_str("IMAGEGEN_SSE", c->sse, sizeof c->sse, "", err)))
        return e;
    if (c->sse[0] && strcmp(c->sse, "AES256") != 0 && strcmp(c->sse, "aws:kms") != 0)
        return ig_error_set(err, IG_ERR_CONFIG, "IMAGEGEN_SSE must be AES256 or aws:kms, got \"%s\"", c->sse);
    if ((e = env_str("IMAGEGEN_KMS_KEY_ID", c->kms_key_id, sizeof c->kms_key_id, "", err)))
        return e;
    if (c->kms_key_id[0] && strcmp(c->sse, "aws:kms") != 0)
        return ig_error_set(err, IG_ERR_CONFIG, "IMAGEGEN_KMS_KEY_ID needs IMAGEGEN_SSE=aws:kms");
    if ((e = env_str("IMAGEGEN_BEDROCK_REGION", c->bedrock_region, sizeof c->bedrock_region, "", err)))
        return e;
    if (c->bedrock_region[0] && !ig_region_valid(c->bedrock_region))
        return ig_error_set(err, IG_ERR_CONFIG,
                            "IMAGEGEN_BEDROCK_REGION \"%s\" is not a region name (such as us-west-2)", c->bedrock_region);
    if ((e = env_str("IMAGEGEN_METRICS_NAMESPACE", c->metrics_namespace,
                        sizeof c->metrics_namespace, "imagegen", err)))
        return e;
    c->margin_ms = 500;
    c->upload_reserve_ms = 3000;
    c->budget_ms = 28500;
    if ((e = ig_env_int("IMAGEGEN_TIMEOUT_MARGIN_MS", 0, 60000, &c->margin_ms, err)) ||
        (e = ig_env_int("IMAGEGEN_UPLOAD_RESERVE_MS", 0, 600000, &c->upload_reserve_ms, err)) ||
        (e = ig_env_int("IMAGEGEN_REQUEST_BUDGET_MS", 1000, 900000, &c->budget_ms, err)))
        return e;
    return jobs_from_env(c, err);
}
