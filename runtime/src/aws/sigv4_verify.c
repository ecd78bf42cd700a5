/* sigv4_verify.c - checks the SigV4 Authorization header of a received request, for the
 * local Bedrock stand-in and the tests' recording servers.
 *
 * It answers the way AWS does (the same sentences, so a client sees locally what it would
 * see in the cloud) and recomputes the signature with the signer's own canonicalization.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aws/sigv4_internal.h"
#include "codec/hash.h"

#define IG_SIGV4_MISMATCH                                                                          \
    "The request signature we calculated does not match the signature you provided. Check your "   \
    "AWS Secret Access Key and signing method. Consult the service documentation for details."
#define IG_SIGV4_BAD_TOKEN "The security token included in the request is invalid."

/* ---------------------------------------------------------------------------------------- */
/* Verification                                                                              */
/* ---------------------------------------------------------------------------------------- */

/* The three parts of an Authorization header, pointing into a private copy. */
typedef struct {
    char *copy;
    char *credential;
    char *signed_headers;
    char *signature;
    char *scope[5]; /* access key id, date, region, service, terminator */
} ig_sigv4_auth;

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    return s;
}

static ig_err sigv4_parse_auth(const char *value, ig_sigv4_auth *a, ig_error *err)
{
    memset(a, 0, sizeof *a);
    while (*value == ' ' || *value == '\t')
        value++;
    size_t alg_len = strcspn(value, " \t");
    if (alg_len != strlen(IG_SIGV4_ALGORITHM) || strncmp(value, IG_SIGV4_ALGORITHM, alg_len) != 0) {
        char q[200];
        return ig_error_set(err, IG_ERR_SIGNATURE,
                            "Unsupported Authorization Type: \"%s\"; expected " IG_SIGV4_ALGORITHM,
                            ig_sigv4_quote(value, alg_len, q));
    }
    a->copy = strdup(value + alg_len);
    if (!a->copy)
        return ig_error_set(err, IG_ERR_NOMEM, "out of memory parsing the Authorization header");
    char *save = NULL;
    for (char *tok = strtok_r(a->copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        tok = trim(tok);
        char *eq = strchr(tok, '=');
        if (!eq)
            continue;
        *eq = '\0';
        char *k = trim(tok), *v = trim(eq + 1);
        if (strcmp(k, "Credential") == 0)
            a->credential = v;
        else if (strcmp(k, "SignedHeaders") == 0)
            a->signed_headers = v;
        else if (strcmp(k, "Signature") == 0)
            a->signature = v;
    }
    const char *missing[3];
    size_t n_missing = 0;
    if (!a->credential)
        missing[n_missing++] = "Credential";
    if (!a->signed_headers)
        missing[n_missing++] = "SignedHeaders";
    if (!a->signature)
        missing[n_missing++] = "Signature";
    if (n_missing) {
        char msg[IG_ERROR_MESSAGE_MAX] = "";
        for (size_t i = 0; i < n_missing; i++) {
            size_t used = strlen(msg);
            snprintf(msg + used, sizeof msg - used,
                     "%sAuthorization header requires '%s' parameter.", i ? " " : "", missing[i]);
        }
        return ig_error_set(err, IG_ERR_SIGNATURE, "%s", msg);
    }
    char *c = a->credential;
    for (int i = 0; i < 5; i++) {
        a->scope[i] = c;
        char *slash = strchr(c, '/');
        if (i < 4) {
            if (!slash) {
                char q[200];
                return ig_error_set(err, IG_ERR_SIGNATURE,
                                    "Credential should be scoped to a valid region, not \"%s\". "
                                    "The Credential must be "
                                    "<access key>/<date>/<region>/<service>/aws4_request.",
                                    ig_sigv4_quote(a->credential, strlen(a->credential), q));
            }
            *slash = '\0';
            c = slash + 1;
        }
    }
    return IG_OK;
}

/* Splits "host;x-amz-date" into a NULL-terminated array pointing into a copy. */
static char **split_signed(const char *list, char **copy_out)
{
    char *copy = strdup(list);
    if (!copy)
        return NULL;
    size_t n = 1;
    for (const char *p = list; *p; p++)
        n += *p == ';';
    char **names = calloc(n + 1, sizeof *names);
    if (!names) {
        free(copy);
        return NULL;
    }
    size_t k = 0;
    char *save = NULL;
    for (char *t = strtok_r(copy, ";", &save); t; t = strtok_r(NULL, ";", &save))
        names[k++] = t;
    *copy_out = copy;
    return names;
}

static int in_list(char **names, const char *name)
{
    for (size_t i = 0; names[i]; i++)
        if (strcmp(names[i], name) == 0)
            return 1;
    return 0;
}

static void format_skew(char *out, size_t len, int64_t seconds)
{
    if (seconds % 60 == 0)
        snprintf(out, len, "%" PRId64 " min.", seconds / 60);
    else
        snprintf(out, len, "%" PRId64 " s", seconds);
}

static ig_err sigv4_check_skew(const char *amz_date, int64_t signed_at, int64_t now,
                                  int64_t max_skew_s, ig_error *err)
{
    char now_s[17], bound[17], skew[32];
    format_skew(skew, sizeof skew, max_skew_s);
    ig_sigv4_format_date(now, now_s);
    /* Both times are within years 1970..9999 (checked by the callers), so the difference
     * cannot overflow. */
    if (now - signed_at > max_skew_s) {
        ig_sigv4_format_date(now - max_skew_s, bound);
        return ig_error_set(err, IG_ERR_SIGNATURE,
                            "Signature expired: %s is now earlier than %s (%s - %s)", amz_date,
                            bound, now_s, skew);
    }
    if (signed_at - now > max_skew_s) {
        ig_sigv4_format_date(now + max_skew_s, bound);
        return ig_error_set(err, IG_ERR_SIGNATURE,
                            "Signature not yet current: %s is still later than %s (%s + %s)",
                            amz_date, bound, now_s, skew);
    }
    return IG_OK;
}

/* The checks before any hashing: what is signed, by whom, for which scope and when. */
static ig_err sigv4_verify_scope(const ig_sigv4_credentials *known, const char *region,
                                    const char *service, const ig_sigv4_request *req,
                                    const ig_sigv4_auth *a, char **signed_names, int64_t now,
                                    int64_t max_skew_s, ig_error *err)
{
    char q[200];
    if (strlen(a->scope[0]) != strlen(known->access_key_id) ||
        !ig_ct_equal(a->scope[0], known->access_key_id, strlen(known->access_key_id)))
        return ig_error_set(err, IG_ERR_CREDENTIALS, IG_SIGV4_BAD_TOKEN);
    const char *token = ig_headers_find(req->headers, req->n_headers, "x-amz-security-token");
    if (ig_sigv4_has_token(known)) {
        if (!token || strlen(token) != strlen(known->session_token) ||
            !ig_ct_equal(token, known->session_token, strlen(token)))
            return ig_error_set(err, IG_ERR_CREDENTIALS, IG_SIGV4_BAD_TOKEN);
    } else if (token) {
        return ig_error_set(err, IG_ERR_CREDENTIALS, IG_SIGV4_BAD_TOKEN);
    }
    if (!in_list(signed_names, "host"))
        return ig_error_set(err, IG_ERR_SIGNATURE,
                            "'Host' or ':authority' must be a 'SignedHeader' in the AWS "
                            "Authorization.");
    if (!in_list(signed_names, "x-amz-date"))
        return ig_error_set(err, IG_ERR_SIGNATURE,
                            "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.");
    const char *amz_date = ig_headers_find(req->headers, req->n_headers, "x-amz-date");
    if (!amz_date)
        return ig_error_set(err, IG_ERR_SIGNATURE,
                            "Authorization header requires existence of a 'X-Amz-Date' header.");
    int64_t signed_at;
    if (ig_sigv4_parse_date(amz_date, &signed_at) != 0)
        return ig_error_set(err, IG_ERR_SIGNATURE,
                            "X-Amz-Date \"%s\" must be in the ISO8601 Long Format "
                            "\"yyyyMMdd'T'HHmmss'Z'\"",
                            ig_sigv4_quote(amz_date, strlen(amz_date), q));
    if (strlen(a->scope[1]) != 8 || strncmp(a->scope[1], amz_date, 8) != 0)
        return ig_error_set(err, IG_ERR_SIGNATURE,
                            "Date in Credential scope does not match YYYYMMDD from ISO-8601 "
                            "version of date from HTTP: '%s' != '%.8s', from 'X-Amz-Date'.",
                            ig_sigv4_quote(a->scope[1], strlen(a->scope[1]), q), amz_date);
    if (strcmp(a->scope[2], region) != 0)
        return ig_error_set(err, IG_ERR_SIGNATURE,
                            "Credential should be scoped to a valid region, not '%s'.",
                            ig_sigv4_quote(a->scope[2], strlen(a->scope[2]), q));
    if (strcmp(a->scope[3], service) != 0)
        return ig_error_set(err, IG_ERR_SIGNATURE,
                            "Credential should be scoped to correct service: '%s'.", service);
    if (strcmp(a->scope[4], IG_SIGV4_TERMINATOR) != 0)
        return ig_error_set(err, IG_ERR_SIGNATURE,
                            "Credential should be scoped with a valid terminator: "
                            "'" IG_SIGV4_TERMINATOR "', not '%s'.",
                            ig_sigv4_quote(a->scope[4], strlen(a->scope[4]), q));
    return sigv4_check_skew(amz_date, signed_at, now, max_skew_s, err);
}

/* The payload hash the client signed: x-amz-content-sha256 when sent (and then it must match
 * the body unless the payload is unsigned), else the SHA-256 of the body. */
static ig_err sigv4_verify_payload(const ig_sigv4_request *req, char body_hash[65],
                                      const char **hash, ig_error *err)
{
    ig_sha256_hex(req->body ? req->body : "", req->body_len, body_hash);
    const char *claimed = ig_headers_find(req->headers, req->n_headers, "x-amz-content-sha256");
    *hash = body_hash;
    if (!claimed)
        return IG_OK;
    if (strcmp(claimed, "UNSIGNED-PAYLOAD") == 0) {
        *hash = claimed;
        return IG_OK;
    }
    if (strlen(claimed) != 64 || strcmp(claimed, body_hash) != 0)
        return ig_error_set(err, IG_ERR_SIGNATURE,
                            "The provided 'x-amz-content-sha256' header does not match what was "
                            "computed.");
    return IG_OK;
}

/* In a received request, a malformed part is the sender's signature failure. */
static ig_err sigv4_as_signature_error(ig_err e, ig_error *err)
{
    if (e != IG_ERR_INVALID_ARG)
        return e;
    if (err)
        err->code = IG_ERR_SIGNATURE;
    return IG_ERR_SIGNATURE;
}

static int is_lower_hex64(const char *s)
{
    if (strlen(s) != 64)
        return 0;
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
            return 0;
    return 1;
}

ig_err ig_sigv4_verify(const ig_sigv4_credentials *known, const char *region, const char *service,
                       int s3_uri_rules, const ig_sigv4_request *req, int64_t now,
                       int64_t max_skew_s, ig_error *err)
{
    ig_err e;
    if ((e = ig_sigv4_check_credentials(known, err)) || (e = ig_sigv4_check_region(region, err)) ||
        (e = ig_sigv4_check_service(service, err)))
        return e;
    if (max_skew_s < 0 || max_skew_s > 7 * 86400)
        return ig_error_set(err, IG_ERR_INVALID_ARG,
                            "max_skew_s must be 0 to 604800 seconds; got %" PRId64, max_skew_s);
    if (now < 0 || now > INT64_C(253402300799))
        return ig_error_set(err, IG_ERR_INVALID_ARG,
                            "the current time %" PRId64 " is outside 1970..9999", now);
    /* A received request is untrusted: malformed parts are a signature failure, not a
     * programming error, except that it must be describable at all. */
    if ((e = ig_sigv4_check_request(req, err)))
        return sigv4_as_signature_error(e, err);
    const char *auth = ig_headers_find(req->headers, req->n_headers, "authorization");
    if (!auth)
        return ig_error_set(err, IG_ERR_SIGNATURE, "Missing Authentication Token");

    ig_sigv4_auth a;
    char *names_copy = NULL;
    char **names = NULL;
    ig_sigv4_parts pp;
    ig_sigv4_parts_init(&pp);
    ig_buf cr, sts;
    ig_buf_init(&cr, 0);
    ig_buf_init(&sts, 0);
    e = sigv4_parse_auth(auth, &a, err);
    if (!e && !(names = split_signed(a.signed_headers, &names_copy)))
        e = ig_error_set(err, IG_ERR_NOMEM, "out of memory parsing SignedHeaders");
    if (!e)
        e = sigv4_verify_scope(known, region, service, req, &a, names, now, max_skew_s, err);
    char body_hash[65];
    const char *payload_hash = NULL;
    if (!e)
        e = sigv4_verify_payload(req, body_hash, &payload_hash, err);

    /* Recompute over exactly the headers the client says it signed; one that is listed but
     * absent cannot have been signed as received. */
    for (size_t k = 0; !e && names[k]; k++) {
        int found = 0;
        for (size_t i = 0; i < req->n_headers && !e; i++)
            if (strcasecmp(req->headers[i].name, names[k]) == 0) {
                found = 1;
                e = ig_sigv4_nomem(
                    ig_sigv4_hdr_add(&pp.headers, req->headers[i].name, req->headers[i].value),
                    err);
            }
        if (!found && !e)
            e = ig_error_set(err, IG_ERR_SIGNATURE, IG_SIGV4_MISMATCH);
    }
    if (!e)
        e = ig_sigv4_nomem(ig_sigv4_canonical_uri(&pp.uri, req->path, s3_uri_rules), err);
    if (!e)
        e = ig_sigv4_qlist_parse(&pp.query, req->query, err);
    e = sigv4_as_signature_error(e, err);
    if (!e)
        e = ig_sigv4_nomem(ig_sigv4_canonical_query(&pp.canonical_query, &pp.query), err);
    if (!e)
        e = ig_sigv4_nomem(
            ig_sigv4_canonical_headers(&pp.headers, &pp.header_block, &pp.signed_list), err);
    if (!e)
        e = ig_sigv4_nomem(ig_sigv4_assemble(&cr, req->method, &pp.uri, &pp.canonical_query,
                                             &pp.header_block, &pp.signed_list, payload_hash),
                           err);
    char expected[65];
    if (!e) {
        const char *amz_date = ig_headers_find(req->headers, req->n_headers, "x-amz-date");
        e = ig_sigv4_nomem(ig_sigv4_finish(NULL, known->secret_access_key, amz_date, region,
                                           service, &cr, &sts, expected),
                           err);
    }
    if (!e && (!is_lower_hex64(a.signature) || !ig_ct_equal(a.signature, expected, 64)))
        e = ig_error_set(err, IG_ERR_SIGNATURE, IG_SIGV4_MISMATCH);
    free(names);
    free(names_copy);
    free(a.copy);
    ig_sigv4_parts_free(&pp);
    ig_sigv4_wipe_free(&cr);
    ig_buf_free(&sts);
    return e;
}
