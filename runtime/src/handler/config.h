/* config.h - the handler's settings from the environment, parsed strictly once at init. */
#ifndef IG_HANDLER_CONFIG_H
#define IG_HANDLER_CONFIG_H

#include <stdint.h>

#include "core/error.h"

typedef struct {
    char bucket[64];             /* IMAGEGEN_BUCKET (required) */
    char sse[16];                /* IMAGEGEN_SSE: "", "AES256" or "aws:kms" */
    char kms_key_id[256];        /* IMAGEGEN_KMS_KEY_ID (with aws:kms) */
    char bedrock_region[32];     /* IMAGEGEN_BEDROCK_REGION: "" = the stack's region (AWS_REGION) */
    char metrics_namespace[64];  /* IMAGEGEN_METRICS_NAMESPACE (default "imagegen") */
    int64_t margin_ms;           /* IMAGEGEN_TIMEOUT_MARGIN_MS: answer this long before the deadline */
    int64_t upload_reserve_ms;   /* IMAGEGEN_UPLOAD_RESERVE_MS: kept free for S3 after the model */
    int64_t budget_ms;           /* IMAGEGEN_REQUEST_BUDGET_MS: at most this long per request */
    char table[256];             /* IMAGEGEN_TABLE: the DynamoDB table of jobs; "" = no jobs */
    char function_name[256];     /* AWS_LAMBDA_FUNCTION_NAME: the function a job's worker runs in */
    int64_t job_timeout_s;       /* IMAGEGEN_JOB_TIMEOUT_S: a job not done this long after it was
                                  * accepted reads as failed (timeout) */
} ig_handler_config;

ig_err ig_handler_config_from_env(ig_handler_config *c, ig_error *err);

/* Parses a whole decimal integer in [min, max] from variable name; unset or empty keeps *out.
 * Exposed for tests. */
ig_err ig_env_int(const char *name, int64_t min, int64_t max, int64_t *out, ig_error *err);

#endif
