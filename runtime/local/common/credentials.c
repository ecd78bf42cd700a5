/* credentials.c - a local stand-in's accepted key pair: flags, else the environment. */
#include "credentials.h"

#include <stdlib.h>
#include <string.h>

static char *dup_secret(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void wipe_free(char *s)
{
    if (s) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

ig_err lo_apply_secret(void *target, const lo_source *src, const char *value, ig_error *err)
{
    char **field = (char **)((char *)target + (size_t)src->opt->arg);
    wipe_free(*field);
    *field = dup_secret(value);
    return *field || !value ? IG_OK : ig_error_set(err, IG_ERR_NOMEM, "out of memory");
}

static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

ig_err lo_credentials_from_env(lo_credentials *c, int required, const char *alternative, ig_error *err)
{
    if (!c->access_key_id && env("AWS_ACCESS_KEY_ID")) {
        c->access_key_id = dup_secret(env("AWS_ACCESS_KEY_ID"));
        if (!c->session_token && env("AWS_SESSION_TOKEN"))
            c->session_token = dup_secret(env("AWS_SESSION_TOKEN"));
    }
    if (!c->secret_access_key && env("AWS_SECRET_ACCESS_KEY"))
        c->secret_access_key = dup_secret(env("AWS_SECRET_ACCESS_KEY"));
    if (required && (!c->access_key_id || !*c->access_key_id || !c->secret_access_key || !*c->secret_access_key))
        return ig_error_set(err, IG_ERR_CONFIG,
                            "no credentials: give --access-key-id and --secret-access-key (or set "
                            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)%s",
                            alternative);
    return IG_OK;
}

ig_err lo_credentials_copy(lo_credentials *dst, const lo_credentials *src)
{
    dst->access_key_id = dup_secret(src->access_key_id);
    dst->secret_access_key = dup_secret(src->secret_access_key);
    dst->session_token = dup_secret(src->session_token);
    if ((src->access_key_id && !dst->access_key_id) || (src->secret_access_key && !dst->secret_access_key) ||
        (src->session_token && !dst->session_token)) {
        lo_credentials_free(dst);
        return IG_ERR_NOMEM;
    }
    return IG_OK;
}

void lo_credentials_free(lo_credentials *c)
{
    wipe_free(c->access_key_id);
    wipe_free(c->secret_access_key);
    wipe_free(c->session_token);
    c->access_key_id = c->secret_access_key = c->session_token = NULL;
}
