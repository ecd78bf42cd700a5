/* config.h - imagegen-gateway's settings: command-line flags over IMAGEGEN_* variables.
 *
 * Every setting has one flag and, where a script wants to set it from outside, one variable;
 * the flag wins. Values are checked here, once, so the rest of the gateway trusts them.
 */
#ifndef GW_CONFIG_H
#define GW_CONFIG_H

#include <stddef.h>

#include "core/error.h"

/* The account id of the function's ARN, API Gateway's events and Lambda's error messages. */
#define GW_ACCOUNT_ID "123456789012"

typedef struct {
    int port;                  /* --port / IMAGEGEN_PORT (0: any free port) */
    double timeout_s;          /* --timeout / IMAGEGEN_TIMEOUT: API Gateway integration timeout */
    double function_timeout_s; /* --function-timeout / IMAGEGEN_FUNCTION_TIMEOUT: Lambda timeout */
    double init_timeout_s;     /* --init-timeout: the init phase limit */
    int concurrency;           /* --concurrency / IMAGEGEN_CONCURRENCY: execution environments */
    int queue_size;            /* --queue-size / IMAGEGEN_QUEUE_SIZE: invocations waiting at most */
    int memory_mb;             /* --memory-size / IMAGEGEN_MEMORY_SIZE */
    char *stage;               /* --stage / IMAGEGEN_STAGE */
    char *function_name;       /* --function-name */
    char *handler;             /* --handler (_HANDLER) */
    char *task_root;           /* --task-root (LAMBDA_TASK_ROOT and working directory), absolute */
    char *runtime_dir;         /* LAMBDA_RUNTIME_DIR: the function executable's directory */
    char *region;              /* AWS_REGION, AWS_DEFAULT_REGION, or us-east-1 */
    char *api_keys_file;       /* --api-keys / IMAGEGEN_API_KEYS_FILE, NULL for none */
    char **function_argv;      /* the function command, NULL-terminated, argv[0] absolute */
    char **routes;             /* --route / IMAGEGEN_ROUTES: "METHOD /template" or "/template" */
    size_t n_routes;
    char **public_routes;      /* --public-route / IMAGEGEN_PUBLIC_ROUTES: no API key needed */
    size_t n_public_routes;
    int public_set;            /* the public list was given (possibly empty) */
    char **binary_media_types; /* --binary-media-types / IMAGEGEN_BINARY_MEDIA_TYPES: bodies of these
                                  types reach the function base64-encoded; others as text */
    size_t n_binary_media_types;
    char *cors_origin;         /* --cors-origins / IMAGEGEN_CORS_ORIGINS when it names exactly one
                                  origin (or "*"): the gateway responses' Access-Control-Allow-Origin;
                                  NULL otherwise */
    char *watch_policy;        /* --watch-policy DIR: recycle the environments when its policy changes */
    int invoke_port;           /* --invoke-port / IMAGEGEN_INVOKE_PORT: Lambda's Invoke API (0: any free port) */
    int async_retries;         /* --async-retries / IMAGEGEN_ASYNC_RETRIES: retries of a failed event, 0..2 */
    double async_retry_delay_s;/* --async-retry-delay / IMAGEGEN_ASYNC_RETRY_DELAY: the first retry's wait;
                                  each later retry waits twice the one before */
    double async_max_age_s;    /* --async-max-age / IMAGEGEN_ASYNC_MAX_AGE: an event older than this is dropped */
    char *lambda_endpoint;     /* set by main once the Invoke API is bound: "http://127.0.0.1:PORT", the
                                  function's AWS_ENDPOINT_URL_LAMBDA */
} gw_config;

typedef enum { GW_CONFIG_RUN, GW_CONFIG_HELP, GW_CONFIG_ERROR } gw_config_outcome;

/* Fills c from argv and the environment. GW_CONFIG_ERROR leaves a sentence in err. */
gw_config_outcome gw_config_parse(gw_config *c, int argc, char **argv, ig_error *err);
void gw_config_usage(const char *prog);
void gw_config_free(gw_config *c);

#endif
