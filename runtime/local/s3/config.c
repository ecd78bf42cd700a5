/* config.c - s3-verify's options as a table. */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "options.h"

#define S3V_DEFAULT_SKEW_S 900
#define S3V_DEFAULT_MAX_BODY_MB 256
#define S3V_DEFAULT_TIMEOUT_S 120

void s3v_config_usage(void)
{
    fputs("usage: s3-verify --upstream http://127.0.0.1:PORT [options]\n"
          "Amazon S3's signature checks in front of s3rver on 127.0.0.1: every request must carry a\n"
          "valid SigV4 Authorization header, be a valid, unexpired presigned URL, or be a browser-upload\n"
          "form (POST /BUCKET) whose signed policy it meets, or it is refused as S3 refuses it\n"
          "(403 SignatureDoesNotMatch, AccessDenied \"Request has expired\", \"Invalid according to\n"
          "Policy: ...\", 400 EntityTooLarge, ...).\n"
          "What passes goes to s3rver unchanged.\n"
          "\n"
          "  --upstream URL           s3rver, http://127.0.0.1:PORT (required)\n"
          "  --port N                 port on 127.0.0.1 (default 0: any free port)\n"
          "  --region R               the bucket's region (default $AWS_REGION, else us-east-1)\n"
          "  --access-key-id ID       the one accepted key (default $AWS_ACCESS_KEY_ID)\n"
          "  --secret-access-key S    its secret (default $AWS_SECRET_ACCESS_KEY)\n"
          "  --session-token T        the required token (default $AWS_SESSION_TOKEN when the key id\n"
          "                           comes from the environment)\n"
          "  --max-skew-s N           accepted clock difference for signed headers (default 900)\n"
          "  --max-body-mb N          largest request body (default 256)\n"
          "  --timeout-s N            how long s3rver may take to answer (default 120)\n",
          stdout);
}

/* Only s3rver on this machine: http://127.0.0.1:PORT. */
static ig_err apply_upstream(void *target, const lo_source *src, const char *v, ig_error *err)
{
    static const char prefix[] = "http://127.0.0.1:";
    char *end = NULL;
    long port = strncmp(v, prefix, sizeof prefix - 1) == 0 ? strtol(v + sizeof prefix - 1, &end, 10) : 0;
    if (!end || (*end && strcmp(end, "/") != 0) || port < 1 || port > 65535)
        return ig_error_set(err, IG_ERR_CONFIG, "%s must be http://127.0.0.1:PORT, not \"%.64s\"", src->as, v);
    ((s3v_config *)target)->upstream_port = (int)port;
    return IG_OK;
}

/* A whole number of seconds or MiB (arg: which field). */
static ig_err apply_number(void *target, const lo_source *src, const char *v, ig_error *err)
{
    s3v_config *c = target;
    long long n;
    ig_err e = lo_whole_number(src, v, 1, 7 * 24 * 3600, &n, err);
    if (e)
        return e;
    if (src->opt->arg == 0)
        c->max_skew_s = n;
    else if (src->opt->arg == 1)
        c->max_body = (size_t)n * 1024 * 1024;
    else
        c->timeout_ms = (int)(n < 3600 ? n : 3600) * 1000;
    return IG_OK;
}

#define S3V_OFFSET(field) ((intptr_t)offsetof(s3v_config, field))

static const lo_option s3v_options[] = {
    {"upstream", LO_VALUE, NULL, apply_upstream, 0},
    {"port", LO_VALUE, NULL, lo_apply_port, S3V_OFFSET(port)},
    {"region", LO_VALUE, NULL, lo_apply_region, S3V_OFFSET(region)},
    {"access-key-id", LO_VALUE, NULL, lo_apply_secret, S3V_OFFSET(creds.access_key_id)},
    {"secret-access-key", LO_VALUE, NULL, lo_apply_secret, S3V_OFFSET(creds.secret_access_key)},
    {"session-token", LO_VALUE, NULL, lo_apply_secret, S3V_OFFSET(creds.session_token)},
    {"max-skew-s", LO_VALUE, NULL, apply_number, 0},
    {"max-body-mb", LO_VALUE, NULL, apply_number, 1},
    {"timeout-s", LO_VALUE, NULL, apply_number, 2},
};

ig_err s3v_config_parse(s3v_config *c, int argc, char **argv, ig_error *err)
{
    memset(c, 0, sizeof *c);
    const char *region = getenv("AWS_REGION");
    snprintf(c->region, sizeof c->region, "%s", region && *region ? region : "us-east-1");
    c->max_skew_s = S3V_DEFAULT_SKEW_S;
    c->max_body = (size_t)S3V_DEFAULT_MAX_BODY_MB * 1024 * 1024;
    c->timeout_ms = S3V_DEFAULT_TIMEOUT_S * 1000;
    lo_outcome o = lo_parse(s3v_options, sizeof s3v_options / sizeof s3v_options[0], c, argc, argv, NULL, err);
    c->help = o == LO_HELP;
    ig_err e = o == LO_ERROR ? IG_ERR_CONFIG : IG_OK;
    if (!e && !c->help && !c->upstream_port)
        e = ig_error_set(err, IG_ERR_CONFIG, "--upstream http://127.0.0.1:PORT (the s3rver to guard) is required");
    if (!e && !c->help)
        e = lo_credentials_from_env(&c->creds, 1, "", err);
    if (e)
        s3v_config_free(c);
    return e;
}

void s3v_config_free(s3v_config *c)
{
    lo_credentials_free(&c->creds);
}
