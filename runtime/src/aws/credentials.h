/* credentials.h - AWS credentials: the environment first (AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), then the shared credentials file
 * (AWS_SHARED_CREDENTIALS_FILE, default ~/.aws/credentials) with the profile AWS_PROFILE
 * (default "default"). Secrets are never logged and are wiped (OPENSSL_cleanse) when freed.
 */
#ifndef IG_CREDENTIALS_H
#define IG_CREDENTIALS_H

#include "aws/sigv4.h"
#include "core/error.h"

typedef struct {
    char *access_key_id;
    char *secret_access_key;
    char *session_token; /* NULL when none */
    const char *source;  /* "environment" or "shared credentials file": safe to log */
} ig_credentials;

/* Loads credentials; IG_ERR_CREDENTIALS with a sentence naming what is missing (never a
 * secret's value) when none are found, IG_ERR_CONFIG when the file is malformed. */
ig_err ig_credentials_load(ig_credentials *out, ig_error *err);
/* The non-owning view the signer takes. */
ig_sigv4_credentials ig_credentials_view(const ig_credentials *c);
void ig_credentials_free(ig_credentials *c);

#endif
