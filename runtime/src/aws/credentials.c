/* credentials.c - finds the AWS key pair: the environment (what Lambda provides), else the
 * shared credentials file (what a developer machine has), read by ini.c: errors name the
 * file, the line number and the key, never a value.
 */
#include "aws/credentials.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/ini.h"

#define IG_PROFILE_MAX 128

static const char IG_SOURCE_ENV[] = "environment";
static const char IG_SOURCE_FILE[] = "shared credentials file";

static void wipe_free(char *s)
{
    if (s) {
        OPENSSL_cleanse(s, strlen(s));
        free(s);
    }
}

void ig_credentials_free(ig_credentials *c)
{
    if (!c)
        return;
    wipe_free(c->access_key_id);
    wipe_free(c->secret_access_key);
    wipe_free(c->session_token);
    c->access_key_id = c->secret_access_key = c->session_token = NULL;
    c->source = NULL;
}

ig_sigv4_credentials ig_credentials_view(const ig_credentials *c)
{
    ig_sigv4_credentials v = {c->access_key_id, c->secret_access_key, c->session_token};
    return v;
}

/* Credentials travel in headers (Authorization, X-Amz-Security-Token): only visible ASCII. */
static int header_safe(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
            return 0;
    return 1;
}

static ig_err credentials_check(const ig_credentials *c, const char *where, ig_error *err)
{
    if (!header_safe(c->access_key_id))
        return ig_error_set(err, IG_ERR_CREDENTIALS,
                            "the access key id from %s contains white space or a non-printable character",
                            where);
    if (!header_safe(c->secret_access_key))
        return ig_error_set(err, IG_ERR_CREDENTIALS,
                            "the secret access key from %s contains white space or a non-printable character",
                            where);
    if (c->session_token && !header_safe(c->session_token))
        return ig_error_set(err, IG_ERR_CREDENTIALS,
                            "the session token from %s contains white space or a non-printable character",
                            where);
    return IG_OK;
}

static ig_err set_triple(ig_credentials *out, const char *akid, size_t akid_len, const char *secret,
                            size_t secret_len, const char *token, size_t token_len, const char *source)
{
    out->access_key_id = strndup(akid, akid_len);
    out->secret_access_key = strndup(secret, secret_len);
    out->session_token = token && token_len ? strndup(token, token_len) : NULL;
    out->source = source;
    if (!out->access_key_id || !out->secret_access_key || (token && token_len && !out->session_token)) {
        ig_credentials_free(out);
        return IG_ERR_NOMEM;
    }
    return IG_OK;
}

static int env_set(const char *name)
{
    const char *v = getenv(name);
    return v && *v;
}

static ig_err credentials_from_env(ig_credentials *out, ig_error *err)
{
    const char *akid = getenv("AWS_ACCESS_KEY_ID");
    const char *secret = getenv("AWS_SECRET_ACCESS_KEY");
    const char *token = getenv("AWS_SESSION_TOKEN");
    if (set_triple(out, akid, strlen(akid), secret, strlen(secret), token, token ? strlen(token) : 0,
                      IG_SOURCE_ENV) != IG_OK)
        return ig_error_set(err, IG_ERR_NOMEM, "out of memory");
    ig_err e = credentials_check(out, "the environment", err);
    if (e != IG_OK)
        ig_credentials_free(out);
    return e;
}

/* ---- the shared credentials file ------------------------------------------------------- */

static ig_err credentials_path(char *out, size_t outlen, ig_error *err)
{
    const char *env = getenv("AWS_SHARED_CREDENTIALS_FILE");
    int n;
    if (env && *env) {
        n = snprintf(out, outlen, "%s", env);
    } else {
        const char *home = getenv("HOME");
        if (!home || !*home)
            return ig_error_set(err, IG_ERR_CREDENTIALS,
                                "no AWS credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not "
                                "set, and neither AWS_SHARED_CREDENTIALS_FILE nor HOME is");
        n = snprintf(out, outlen, "%s/.aws/credentials", home);
    }
    if (n < 0 || (size_t)n >= outlen)
        return ig_error_set(err, IG_ERR_CONFIG, "the shared credentials file path is too long");
    return IG_OK;
}

static ig_err credentials_from_file(ig_credentials *out, ig_error *err)
{
    char path[4096];
    ig_err e = credentials_path(path, sizeof path, err);
    if (e != IG_OK)
        return e;
    const char *profile = getenv("AWS_PROFILE");
    if (!profile || !*profile)
        profile = "default";
    if (strlen(profile) > IG_PROFILE_MAX)
        return ig_error_set(err, IG_ERR_CONFIG, "AWS_PROFILE is longer than %d bytes", IG_PROFILE_MAX);
    char *text = NULL;
    size_t len = 0;
    int missing = 0;
    if ((e = ig_ini_read(path, &text, &len, &missing, err)) != IG_OK) {
        if (missing)
            return ig_error_set(err, IG_ERR_CREDENTIALS,
                                "no AWS credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set, "
                                "and the shared credentials file %s does not exist",
                                path);
        return e;
    }
    char label[IG_PROFILE_MAX + 16];
    snprintf(label, sizeof label, "profile \"%s\"", profile);
    ig_ini_value v[] = {{"aws_access_key_id", NULL, 0}, {"aws_secret_access_key", NULL, 0},
                        {"aws_session_token", NULL, 0}};
    int found = 0;
    e = ig_ini_lookup(path, text, len, profile, label, v, 3, &found, err);
    if (e == IG_OK && !found)
        e = ig_error_set(err, IG_ERR_CREDENTIALS, "profile \"%s\" is not in %s", profile, path);
    else if (e == IG_OK && (!v[0].val || !v[0].len))
        e = ig_error_set(err, IG_ERR_CREDENTIALS, "profile \"%s\" in %s has no aws_access_key_id", profile,
                         path);
    else if (e == IG_OK && (!v[1].val || !v[1].len))
        e = ig_error_set(err, IG_ERR_CREDENTIALS, "profile \"%s\" in %s has no aws_secret_access_key",
                         profile, path);
    if (e == IG_OK && set_triple(out, v[0].val, v[0].len, v[1].val, v[1].len, v[2].val, v[2].len,
                                    IG_SOURCE_FILE) != IG_OK)
        e = ig_error_set(err, IG_ERR_NOMEM, "out of memory");
    ig_ini_free(text, len);
    if (e == IG_OK) {
        char where[4200];
        snprintf(where, sizeof where, "profile \"%s\" in %s", profile, path);
        if ((e = credentials_check(out, where, err)) != IG_OK)
            ig_credentials_free(out);
    }
    return e;
}

ig_err ig_credentials_load(ig_credentials *out, ig_error *err)
{
    memset(out, 0, sizeof *out);
    int has_akid = env_set("AWS_ACCESS_KEY_ID");
    int has_secret = env_set("AWS_SECRET_ACCESS_KEY");
    if (has_akid && has_secret)
        return credentials_from_env(out, err);
    if (has_akid != has_secret)
        return ig_error_set(err, IG_ERR_CREDENTIALS, "%s is set but %s is not",
                            has_akid ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
                            has_akid ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
    return credentials_from_file(out, err);
}
