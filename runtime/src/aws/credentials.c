/* credentials.c - finds the AWS key pair: the environment (what Lambda provides), else the
 * shared credentials file (what a developer machine has).
 *
 * The file is INI: "[profile]" section lines, "key = value" lines, full-line comments
 * starting with '#' or ';', blank lines, and indented continuation lines (nested settings,
 * ignored). Errors name the file, the line number and the key, never a value: a malformed line
 * may well hold a secret.
 */
#include "aws/credentials.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define IG_CREDENTIALS_FILE_MAX (1024 * 1024)
#define IG_PROFILE_MAX 128

static const char IG_SOURCE_ENV[] = "environment";
static const char IG_SOURCE_FILE[] = "shared credentials file";

static char *ig_strdup_n(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

static void ig_wipe_free(char *s)
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
    ig_wipe_free(c->access_key_id);
    ig_wipe_free(c->secret_access_key);
    ig_wipe_free(c->session_token);
    c->access_key_id = c->secret_access_key = c->session_token = NULL;
    c->source = NULL;
}

ig_sigv4_credentials ig_credentials_view(const ig_credentials *c)
{
    ig_sigv4_credentials v = {c->access_key_id, c->secret_access_key, c->session_token};
    return v;
}

/* Credentials travel in headers (Authorization, X-Amz-Security-Token): only visible ASCII. */
static int ig_header_safe(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
            return 0;
    return 1;
}

static ig_err ig_credentials_check(const ig_credentials *c, const char *where, ig_error *err)
{
    if (!ig_header_safe(c->access_key_id))
        return ig_error_set(err, IG_ERR_CREDENTIALS,
                            "the access key id from %s contains white space or a non-printable character",
                            where);
    if (!ig_header_safe(c->secret_access_key))
        return ig_error_set(err, IG_ERR_CREDENTIALS,
                            "the secret access key from %s contains white space or a non-printable character",
                            where);
    if (c->session_token && !ig_header_safe(c->session_token))
        return ig_error_set(err, IG_ERR_CREDENTIALS,
                            "the session token from %s contains white space or a non-printable character",
                            where);
    return IG_OK;
}

static ig_err ig_set_triple(ig_credentials *out, const char *akid, size_t akid_len, const char *secret,
                            size_t secret_len, const char *token, size_t token_len, const char *source)
{
    out->access_key_id = ig_strdup_n(akid, akid_len);
    out->secret_access_key = ig_strdup_n(secret, secret_len);
    out->session_token = token && token_len ? ig_strdup_n(token, token_len) : NULL;
    out->source = source;
    if (!out->access_key_id || !out->secret_access_key || (token && token_len && !out->session_token)) {
        ig_credentials_free(out);
        return IG_ERR_NOMEM;
    }
    return IG_OK;
}

static int ig_env_set(const char *name)
{
    const char *v = getenv(name);
    return v && *v;
}

static ig_err ig_credentials_from_env(ig_credentials *out, ig_error *err)
{
    const char *akid = getenv("AWS_ACCESS_KEY_ID");
    const char *secret = getenv("AWS_SECRET_ACCESS_KEY");
    const char *token = getenv("AWS_SESSION_TOKEN");
    if (ig_set_triple(out, akid, strlen(akid), secret, strlen(secret), token, token ? strlen(token) : 0,
                      IG_SOURCE_ENV) != IG_OK)
        return ig_error_set(err, IG_ERR_NOMEM, "out of memory");
    ig_err e = ig_credentials_check(out, "the environment", err);
    if (e != IG_OK)
        ig_credentials_free(out);
    return e;
}

/* ---- the shared credentials file ------------------------------------------------------- */

typedef struct {
    const char *path;
    const char *profile;
    /* Spans inside the file buffer for the chosen profile. */
    const char *akid, *secret, *token;
    size_t akid_len, secret_len, token_len;
    int found_profile;
} ig_ini_scan;

static const char *ig_skip_ws(const char *s, const char *end)
{
    while (s < end && (*s == ' ' || *s == '\t'))
        s++;
    return s;
}

static const char *ig_trim_end(const char *s, const char *end)
{
    while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
        end--;
    return end;
}

static int ig_span_eq(const char *s, size_t n, const char *lit)
{
    return strlen(lit) == n && strncasecmp(s, lit, n) == 0;
}

static ig_err ig_ini_key(ig_ini_scan *sc, unsigned line, const char *key, size_t key_len,
                         const char *val, size_t val_len, ig_error *err)
{
    const char **slot = NULL;
    size_t *slot_len = NULL;
    const char *name = NULL;
    if (ig_span_eq(key, key_len, "aws_access_key_id")) {
        slot = &sc->akid, slot_len = &sc->akid_len, name = "aws_access_key_id";
    } else if (ig_span_eq(key, key_len, "aws_secret_access_key")) {
        slot = &sc->secret, slot_len = &sc->secret_len, name = "aws_secret_access_key";
    } else if (ig_span_eq(key, key_len, "aws_session_token")) {
        slot = &sc->token, slot_len = &sc->token_len, name = "aws_session_token";
    } else {
        return IG_OK;
    }
    if (*slot)
        return ig_error_set(err, IG_ERR_CONFIG, "%s line %u: %s appears twice in profile \"%s\"",
                            sc->path, line, name, sc->profile);
    *slot = val;
    *slot_len = val_len;
    return IG_OK;
}

static ig_err ig_ini_section(ig_ini_scan *sc, unsigned line, const char *s, const char *end,
                            int *in_profile, ig_error *err)
{
    if (end - s < 2 || end[-1] != ']')
        return ig_error_set(err, IG_ERR_CONFIG, "%s line %u: a section header must end with ']'",
                            sc->path, line);
    const char *name = ig_skip_ws(s + 1, end - 1);
    const char *name_end = ig_trim_end(name, end - 1);
    if (name == name_end)
        return ig_error_set(err, IG_ERR_CONFIG, "%s line %u: empty section name", sc->path, line);
    *in_profile = (size_t)(name_end - name) == strlen(sc->profile) &&
                  memcmp(name, sc->profile, (size_t)(name_end - name)) == 0;
    if (*in_profile) {
        if (sc->found_profile)
            return ig_error_set(err, IG_ERR_CONFIG, "%s line %u: profile \"%s\" is defined twice",
                                sc->path, line, sc->profile);
        sc->found_profile = 1;
    }
    return IG_OK;
}

static ig_err ig_ini_parse(ig_ini_scan *sc, const char *text, size_t len, ig_error *err)
{
    const char *p = text, *end = text + len;
    unsigned line = 0;
    int in_section = 0, in_profile = 0, after_key = 0;
    size_t key_indent = 0;
    while (p < end) {
        line++;
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol)
            eol = end;
        const char *s = ig_skip_ws(p, eol);
        const char *e = ig_trim_end(s, eol);
        size_t indent = (size_t)(s - p);
        ig_err rc = IG_OK;
        if (s == e || *s == '#' || *s == ';') {
            /* blank or comment */
        } else if (after_key && indent > key_indent) {
            /* deeper than the key above: a continuation (nested settings), not a credential */
        } else if (*s == '[') {
            rc = ig_ini_section(sc, line, s, e, &in_profile, err);
            in_section = 1;
            after_key = 0;
        } else {
            const char *eq = memchr(s, '=', (size_t)(e - s));
            if (!eq || eq == s)
                return ig_error_set(err, IG_ERR_CONFIG,
                                    "%s line %u: expected \"key = value\", a [section] or a comment",
                                    sc->path, line);
            if (!in_section)
                return ig_error_set(err, IG_ERR_CONFIG, "%s line %u: a setting before any [section]",
                                    sc->path, line);
            const char *key_end = ig_trim_end(s, eq);
            const char *val = ig_skip_ws(eq + 1, e);
            if (in_profile)
                rc = ig_ini_key(sc, line, s, (size_t)(key_end - s), val, (size_t)(e - val), err);
            after_key = 1;
            key_indent = indent;
        }
        if (rc != IG_OK)
            return rc;
        p = eol < end ? eol + 1 : end;
    }
    return IG_OK;
}

static ig_err ig_read_file(const char *path, char **out, size_t *len, ig_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return ig_error_set(err, errno == ENOENT ? IG_ERR_CREDENTIALS : IG_ERR_IO,
                            errno == ENOENT ? "%s does not exist" : "%s cannot be read", path);
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > IG_CREDENTIALS_FILE_MAX) {
        fclose(f);
        return ig_error_set(err, IG_ERR_CONFIG, "%s is not a regular file of at most %d bytes", path,
                            IG_CREDENTIALS_FILE_MAX);
    }
    size_t n = (size_t)st.st_size;
    char *buf = malloc(n + 1);
    if (!buf) {
        fclose(f);
        return ig_error_set(err, IG_ERR_NOMEM, "out of memory");
    }
    size_t got = fread(buf, 1, n, f);
    fclose(f);
    buf[got] = '\0';
    if (memchr(buf, '\0', got)) {
        OPENSSL_cleanse(buf, got);
        free(buf);
        return ig_error_set(err, IG_ERR_CONFIG, "%s contains a NUL byte: not a text file", path);
    }
    *out = buf;
    *len = got;
    return IG_OK;
}

static ig_err ig_credentials_path(char *out, size_t outlen, ig_error *err)
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

static ig_err ig_credentials_from_file(ig_credentials *out, ig_error *err)
{
    char path[4096];
    ig_err e = ig_credentials_path(path, sizeof path, err);
    if (e != IG_OK)
        return e;
    const char *profile = getenv("AWS_PROFILE");
    if (!profile || !*profile)
        profile = "default";
    if (strlen(profile) > IG_PROFILE_MAX)
        return ig_error_set(err, IG_ERR_CONFIG, "AWS_PROFILE is longer than %d bytes", IG_PROFILE_MAX);
    char *text = NULL;
    size_t len = 0;
    if ((e = ig_read_file(path, &text, &len, err)) != IG_OK) {
        if (e == IG_ERR_CREDENTIALS)
            ig_error_set(err, e,
                         "no AWS credentials: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set, and "
                         "the shared credentials file %s does not exist",
                         path);
        return e;
    }
    ig_ini_scan sc = {.path = path, .profile = profile};
    e = ig_ini_parse(&sc, text, len, err);
    if (e == IG_OK && !sc.found_profile)
        e = ig_error_set(err, IG_ERR_CREDENTIALS, "profile \"%s\" is not in %s", profile, path);
    else if (e == IG_OK && (!sc.akid || !sc.akid_len))
        e = ig_error_set(err, IG_ERR_CREDENTIALS, "profile \"%s\" in %s has no aws_access_key_id", profile,
                         path);
    else if (e == IG_OK && (!sc.secret || !sc.secret_len))
        e = ig_error_set(err, IG_ERR_CREDENTIALS, "profile \"%s\" in %s has no aws_secret_access_key",
                         profile, path);
    if (e == IG_OK && ig_set_triple(out, sc.akid, sc.akid_len, sc.secret, sc.secret_len, sc.token,
                                    sc.token_len, IG_SOURCE_FILE) != IG_OK)
        e = ig_error_set(err, IG_ERR_NOMEM, "out of memory");
    OPENSSL_cleanse(text, len);
    free(text);
    if (e == IG_OK) {
        char where[4200];
        snprintf(where, sizeof where, "profile \"%s\" in %s", profile, path);
        if ((e = ig_credentials_check(out, where, err)) != IG_OK)
            ig_credentials_free(out);
    }
    return e;
}

ig_err ig_credentials_load(ig_credentials *out, ig_error *err)
{
    memset(out, 0, sizeof *out);
    int has_akid = ig_env_set("AWS_ACCESS_KEY_ID");
    int has_secret = ig_env_set("AWS_SECRET_ACCESS_KEY");
    if (has_akid && has_secret)
        return ig_credentials_from_env(out, err);
    if (has_akid != has_secret)
        return ig_error_set(err, IG_ERR_CREDENTIALS, "%s is set but %s is not",
                            has_akid ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
                            has_akid ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
    return ig_credentials_from_file(out, err);
}
