/* credentials.h - the one key pair a local AWS stand-in accepts (bedrock-local, s3-verify).
 *
 * From --access-key-id, --secret-access-key and --session-token, or, when no key id is given,
 * from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN: the same variables the
 * runtime signs with, so a stack started with one environment agrees with itself. The strings
 * are secrets: they are wiped when freed and never logged.
 */
#ifndef LO_CREDENTIALS_H
#define LO_CREDENTIALS_H

#include "core/error.h"
#include "options.h"

typedef struct {
    char *access_key_id;
    char *secret_access_key;
    char *session_token; /* NULL when none */
} lo_credentials;

/* An option's apply function for a secret: stores a copy of the value in the char * field at
 * the option's arg (an offset in the target), wiping the previous one. */
ig_err lo_apply_secret(void *target, const lo_source *src, const char *value, ig_error *err);

/* Fills what the flags left unset from the environment (the token only with a key id from the
 * environment). With required, no key pair is an IG_ERR_CONFIG sentence; its last words are
 * the program's alternative (", or --no-verify"; "" for none). */
ig_err lo_credentials_from_env(lo_credentials *c, int required, const char *alternative, ig_error *err);
ig_err lo_credentials_copy(lo_credentials *dst, const lo_credentials *src);
void lo_credentials_free(lo_credentials *c);

#endif
