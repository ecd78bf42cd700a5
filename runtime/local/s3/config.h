/* config.h - s3-verify's command line (common/options.h): where it listens, the s3rver behind
 * it, the bucket's region and the one key pair it accepts (common/credentials.h).
 */
#ifndef S3V_CONFIG_H
#define S3V_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "credentials.h"
#include "options.h"

typedef struct {
    unsigned port;          /* --port: 0, any free port */
    int upstream_port;      /* --upstream http://127.0.0.1:PORT (s3rver) */
    char region[LO_REGION_MAX]; /* --region, default AWS_REGION, else us-east-1 */
    lo_credentials creds;   /* --access-key-id ..., default the AWS_* variables */
    int64_t max_skew_s;     /* --max-skew-s: S3 allows 15 minutes */
    size_t max_body;        /* --max-body-mb: a larger PutObject is refused EntityTooLarge */
    int timeout_ms;         /* --timeout-s: how long s3rver may take to answer */
    int help;
} s3v_config;

/* IG_ERR_CONFIG with a sentence on a bad flag or value, or when no key pair is given. */
ig_err s3v_config_parse(s3v_config *c, int argc, char **argv, ig_error *err);
void s3v_config_free(s3v_config *c);
void s3v_config_usage(void);

#endif
