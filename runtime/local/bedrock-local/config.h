/* config.h - bedrock-local's command line.
 *
 * Credentials come from --access-key-id/--secret-access-key/--session-token or, when no key id
 * is given, from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN. Fault flags are
 * gathered into one JSON document in the shape POST /_control/faults takes; it is applied at
 * start and again by POST /_control/reset.
 */
#ifndef BEDROCK_LOCAL_CONFIG_H
#define BEDROCK_LOCAL_CONFIG_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/error.h"
#include "credentials.h"
#include "options.h"

typedef struct {
    unsigned port;              /* 0: any free port */
    char region[LO_REGION_MAX];
    lo_credentials creds;       /* owned; wiped when freed */
    int verify;                 /* 0 only with --no-verify */
    int64_t max_skew_s;
    int log_prompts;
    size_t cache_bytes;
    unsigned max_connections;
    json_t *startup_faults;     /* owned */
    int help;                   /* --help was given */
} bl_config;

/* Parses argv (and the environment for credentials). IG_ERR_CONFIG with a sentence on a bad
 * flag or value, or when credentials are missing without --no-verify. */
ig_err bl_config_parse(bl_config *cfg, int argc, char **argv, ig_error *err);
void bl_config_free(bl_config *cfg);
/* Copies cfg (strings and the fault document duplicated). */
ig_err bl_config_copy(bl_config *dst, const bl_config *src);
void bl_config_usage(FILE *out);

#endif
