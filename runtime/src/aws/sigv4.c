/* sigv4.c - AWS Signature Version 4 signing: the signing-key cache, Authorization-header
 * signing and query-string presigning.
 *
 * The canonical request is built by sigv4_canonical.c, with the same code the verifier
 * (sigv4_verify.c) uses; the rules are pinned by AWS's signing test suite and cross-checked
 * against botocore. Signing keys are derived once per (secret, day, region, service) and
 * wiped when the signer is freed.
 */
#include "aws/sigv4.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "aws/sigv4_internal.h"
#include "codec/hash.h"

#define IG_SIGV4_CACHE_SLOTS 8

/* ---------------------------------------------------------------------------------------- */
/* Signing-key cache                                                                         */
/* ---------------------------------------------------------------------------------------- */

/* A slot is found by a digest of (secret, date, region, service), so the cache never holds
 * the secret itself, only keys that are valid for one day, region and service. */
typedef struct {
    unsigned char id[32];
    unsigned char key[32];
    uint64_t last_used;
    int used;
} ig_sigv4_slot;

struct ig_sigv4_signer {
    pthread_mutex_t lock;
    ig_sigv4_slot slots[IG_SIGV4_CACHE_SLOTS];
    uint64_t tick;
    uint64_t hits;
    uint64_t misses;
};

ig_sigv4_signer *ig_sigv4_signer_new(void)
{
    ig_sigv4_signer *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    if (pthread_mutex_init(&s->lock, NULL) != 0) {
        free(s);
        return NULL;
    }
    return s;
}

void ig_sigv4_signer_free(ig_sigv4_signer *s)
{
    if (!s)
        return;
    OPENSSL_cleanse(s->slots, sizeof s->slots);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

void ig_sigv4_signer_stats(ig_sigv4_signer *s, uint64_t *hits, uint64_t *misses)
{
    uint64_t h = 0, m = 0;
    if (s) {
        pthread_mutex_lock(&s->lock);
        h = s->hits;
        m = s->misses;
        pthread_mutex_unlock(&s->lock);
    }
    if (hits)
        *hits = h;
    if (misses)
        *misses = m;
}

static void sigv4_derive_key(const char *secret, const char *date, const char *region,
                                const char *service, unsigned char out[32])
{
    size_t slen = strlen(secret);
    unsigned char *k = malloc(slen + 5);
    unsigned char k_date[32], k_region[32], k_service[32];
    if (!k) {
        /* Without memory for "AWS4" + secret the signature cannot be right; a zero key
         * makes that visible as a mismatch instead of a crash. */
        memset(out, 0, 32);
        return;
    }
    memcpy(k, "AWS4", 4);
    memcpy(k + 4, secret, slen);
    ig_hmac_sha256(k, slen + 4, date, strlen(date), k_date);
    ig_hmac_sha256(k_date, 32, region, strlen(region), k_region);
    ig_hmac_sha256(k_region, 32, service, strlen(service), k_service);
    ig_hmac_sha256(k_service, 32, IG_SIGV4_TERMINATOR, strlen(IG_SIGV4_TERMINATOR), out);
    OPENSSL_cleanse(k, slen + 4);
    free(k);
    OPENSSL_cleanse(k_date, sizeof k_date);
    OPENSSL_cleanse(k_region, sizeof k_region);
    OPENSSL_cleanse(k_service, sizeof k_service);
}

/* The cache id: SHA-256 over length-prefixed fields, so ("ab","c") and ("a","bc") differ. */
static void sigv4_cache_id(const char *secret, const char *date, const char *region,
                              const char *service, unsigned char id[32])
{
    ig_buf b;
    ig_buf_init(&b, 0);
    const char *parts[4] = {secret, date, region, service};
    int ok = 1;
    for (int i = 0; i < 4 && ok; i++)
        ok = ig_buf_appendf(&b, "%zu:", strlen(parts[i])) == IG_OK &&
             ig_buf_append_str(&b, parts[i]) == IG_OK;
    if (ok)
        ig_sha256(b.data, b.len, id);
    else
        memset(id, 0, 32);
    if (b.data)
        OPENSSL_cleanse(b.data, b.cap);
    ig_buf_free(&b);
}

static void sigv4_signing_key(ig_sigv4_signer *s, const char *secret, const char *date,
                                 const char *region, const char *service, unsigned char out[32])
{
    if (!s) {
        sigv4_derive_key(secret, date, region, service, out);
        return;
    }
    unsigned char id[32];
    sigv4_cache_id(secret, date, region, service, id);
    pthread_mutex_lock(&s->lock);
    s->tick++;
    ig_sigv4_slot *victim = &s->slots[0];
    for (size_t i = 0; i < IG_SIGV4_CACHE_SLOTS; i++) {
        ig_sigv4_slot *slot = &s->slots[i];
        if (slot->used && ig_ct_equal(slot->id, id, 32)) {
            slot->last_used = s->tick;
            memcpy(out, slot->key, 32);
            s->hits++;
            pthread_mutex_unlock(&s->lock);
            return;
        }
        if (!slot->used || (victim->used && slot->last_used < victim->last_used))
            victim = slot;
    }
    s->misses++;
    pthread_mutex_unlock(&s->lock);

    /* Derive outside the lock: four HMACs need no shared state. */
    unsigned char key[32];
    sigv4_derive_key(secret, date, region, service, key);
    memcpy(out, key, 32);

    pthread_mutex_lock(&s->lock);
    OPENSSL_cleanse(victim->key, sizeof victim->key);
    memcpy(victim->id, id, 32);
    memcpy(victim->key, key, 32);
    victim->used = 1;
    victim->last_used = s->tick;
    pthread_mutex_unlock(&s->lock);
    OPENSSL_cleanse(key, sizeof key);
}

/* ---------------------------------------------------------------------------------------- */
/* Results                                                                                   */
/* ---------------------------------------------------------------------------------------- */

void ig_sigv4_result_init(ig_sigv4_result *r)
{
    memset(r, 0, sizeof *r);
    ig_buf_init(&r->canonical_request, 0);
    ig_buf_init(&r->string_to_sign, 0);
    ig_buf_init(&r->authorization, 0);
    ig_buf_init(&r->presigned_query, 0);
    ig_buf_init(&r->storage, 0);
}

void ig_sigv4_result_free(ig_sigv4_result *r)
{
    if (!r)
        return;
    ig_sigv4_wipe_free(&r->canonical_request);
    ig_sigv4_wipe_free(&r->string_to_sign);
    ig_sigv4_wipe_free(&r->authorization);
    ig_sigv4_wipe_free(&r->presigned_query);
    ig_sigv4_wipe_free(&r->storage);
    r->signature[0] = '\0';
    r->amz_date[0] = '\0';
    r->n_added = 0;
}

static void sigv4_result_reset(ig_sigv4_result *r)
{
    ig_buf_reset(&r->canonical_request);
    ig_buf_reset(&r->string_to_sign);
    ig_buf_reset(&r->authorization);
    ig_buf_reset(&r->presigned_query);
    ig_buf_reset(&r->storage);
    r->signature[0] = '\0';
    r->amz_date[0] = '\0';
    r->n_added = 0;
    memset(r->added, 0, sizeof r->added);
}

/* ---------------------------------------------------------------------------------------- */
/* The signature                                                                             */
/* ---------------------------------------------------------------------------------------- */

ig_err ig_sigv4_finish(ig_sigv4_signer *s, const char *secret, const char *amz_date,
                       const char *region, const char *service, const ig_buf *cr, ig_buf *sts,
                       char signature[65])
{
    char cr_hash[65];
    char date[9];
    memcpy(date, amz_date, 8);
    date[8] = '\0';
    ig_sha256_hex(cr->data ? cr->data : "", cr->len, cr_hash);
    ig_buf_reset(sts);
    ig_err e = ig_buf_appendf(sts, IG_SIGV4_ALGORITHM "\n%s\n%s/%s/%s/" IG_SIGV4_TERMINATOR "\n%s",
                              amz_date, date, region, service, cr_hash);
    if (e)
        return e;
    unsigned char key[32], sig[32];
    sigv4_signing_key(s, secret, date, region, service, key);
    ig_hmac_sha256(key, 32, sts->data, sts->len, sig);
    OPENSSL_cleanse(key, sizeof key);
    ig_hex_encode(sig, 32, signature);
    return IG_OK;
}

static ig_err sigv4_check_common(const ig_sigv4_credentials *creds, const ig_sigv4_params *p,
                                    const ig_sigv4_request *req, ig_sigv4_result *out,
                                    ig_error *err)
{
    if (!p)
        return ig_error_set(err, IG_ERR_INVALID_ARG, "no signing parameters");
    if (!out)
        return ig_error_set(err, IG_ERR_INVALID_ARG, "no result to fill");
    ig_err e;
    if ((e = ig_sigv4_check_credentials(creds, err)) ||
        (e = ig_sigv4_check_region(p->region, err)) ||
        (e = ig_sigv4_check_service(p->service, err)) || (e = ig_sigv4_check_request(req, err)))
        return e;
    /* 253402300799 is 9999-12-31T23:59:59Z, the last second with a 4-digit year. */
    if (p->time < 0 || p->time > INT64_C(253402300799))
        return ig_error_set(err, IG_ERR_INVALID_ARG,
                            "signing time %" PRId64 " is outside 1970..9999", p->time);
    return IG_OK;
}

/* Rejects request headers that the signer itself adds, so a request never carries two. */
static ig_err sigv4_reject_header(const ig_sigv4_request *req, const char *name, ig_error *err)
{
    if (ig_headers_find(req->headers, req->n_headers, name))
        return ig_error_set(err, IG_ERR_INVALID_ARG,
                            "header \"%s\" is added by the signer; leave it out of the request",
                            name);
    return IG_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* POST policies                                                                             */
/* ---------------------------------------------------------------------------------------- */

ig_err ig_sigv4_sign_policy(ig_sigv4_signer *s, const ig_sigv4_credentials *creds, const char *region,
                            const char *service, int64_t time, const char *policy_b64, size_t policy_len,
                            char signature[65], ig_error *err)
{
    ig_err e;
    if ((e = ig_sigv4_check_credentials(creds, err)) || (e = ig_sigv4_check_region(region, err)) ||
        (e = ig_sigv4_check_service(service, err)))
        return e;
    if (!signature || (!policy_b64 && policy_len))
        return ig_error_set(err, IG_ERR_INVALID_ARG, "no policy or no room for the signature");
    char amz_date[17];
    if (ig_sigv4_format_date(time, amz_date) != 0)
        return ig_error_set(err, IG_ERR_INVALID_ARG, "signing time %" PRId64 " is outside 1970..9999", time);
    char date[9];
    memcpy(date, amz_date, 8);
    date[8] = '\0';
    unsigned char key[32], sig[32];
    sigv4_signing_key(s, creds->secret_access_key, date, region, service, key);
    ig_hmac_sha256(key, 32, policy_b64 ? policy_b64 : "", policy_len, sig);
    OPENSSL_cleanse(key, sizeof key);
    ig_hex_encode(sig, 32, signature);
    return IG_OK;
}

/* ---------------------------------------------------------------------------------------- */
/* Authorization-header signing                                                              */
/* ---------------------------------------------------------------------------------------- */

/* Copies a string into result storage and returns its offset. */
static ig_err store(ig_buf *storage, const char *s, size_t *offset)
{
    *offset = storage->len;
    ig_err e = ig_buf_append_str(storage, s);
    if (!e)
        e = ig_buf_append_char(storage, '\0');
    return e;
}

ig_err ig_sigv4_sign_headers(ig_sigv4_signer *s, const ig_sigv4_credentials *creds,
                             const ig_sigv4_params *p, const ig_sigv4_request *req,
                             ig_sigv4_result *out, ig_error *err)
{
    ig_err e = sigv4_check_common(creds, p, req, out, err);
    if (e)
        return e;
    sigv4_result_reset(out);
    const int token = ig_sigv4_has_token(creds);
    if ((e = sigv4_reject_header(req, "authorization", err)) ||
        (e = sigv4_reject_header(req, "x-amz-date", err)) ||
        (token && (e = sigv4_reject_header(req, "x-amz-security-token", err))) ||
        (p->sign_content_sha256 && (e = sigv4_reject_header(req, "x-amz-content-sha256", err))))
        return e;

    ig_sigv4_format_date(p->time, out->amz_date);
    char body_hash[65];
    const char *payload_hash;
    ig_sigv4_payload_hash(req, body_hash, &payload_hash);

    ig_sigv4_parts pp;
    ig_sigv4_parts_init(&pp);
    e = ig_sigv4_canonical_uri(&pp.uri, req->path, p->s3_uri_rules);
    if (!e)
        e = ig_sigv4_qlist_parse(&pp.query, req->query, err);
    if (!e)
        e = ig_sigv4_canonical_query(&pp.canonical_query, &pp.query);
    for (size_t i = 0; i < req->n_headers && !e; i++)
        if (!ig_sigv4_unsigned_header(req->headers[i].name))
            e = ig_sigv4_hdr_add(&pp.headers, req->headers[i].name, req->headers[i].value);
    if (!e)
        e = ig_sigv4_hdr_add(&pp.headers, "x-amz-date", out->amz_date);
    if (!e && token && !p->omit_session_token)
        e = ig_sigv4_hdr_add(&pp.headers, "x-amz-security-token", creds->session_token);
    if (!e && p->sign_content_sha256)
        e = ig_sigv4_hdr_add(&pp.headers, "x-amz-content-sha256", payload_hash);
    if (!e)
        e = ig_sigv4_canonical_headers(&pp.headers, &pp.header_block, &pp.signed_list);
    if (!e)
        e = ig_sigv4_assemble(&out->canonical_request, req->method, &pp.uri, &pp.canonical_query,
                              &pp.header_block, &pp.signed_list, payload_hash);
    if (!e)
        e = ig_sigv4_finish(s, creds->secret_access_key, out->amz_date, p->region, p->service,
                            &out->canonical_request, &out->string_to_sign, out->signature);
    if (!e)
        e = ig_buf_appendf(&out->authorization,
                           IG_SIGV4_ALGORITHM " Credential=%s/%.8s/%s/%s/" IG_SIGV4_TERMINATOR
                                              ", SignedHeaders=%s, Signature=%s",
                           creds->access_key_id, out->amz_date, p->region, p->service,
                           ig_buf_cstr(&pp.signed_list), out->signature);
    /* The added headers, in their documented order; values live in out->storage (or in
     * out itself), which is only read once every append is done. */
    size_t off_date = 0, off_token = 0, off_sha = 0;
    if (!e)
        e = store(&out->storage, out->amz_date, &off_date);
    if (!e && token)
        e = store(&out->storage, creds->session_token, &off_token);
    if (!e && p->sign_content_sha256)
        e = store(&out->storage, payload_hash, &off_sha);
    if (!e) {
        size_t n = 0;
        out->added[n].name = "X-Amz-Date";
        out->added[n++].value = out->storage.data + off_date;
        if (token) {
            out->added[n].name = "X-Amz-Security-Token";
            out->added[n++].value = out->storage.data + off_token;
        }
        if (p->sign_content_sha256) {
            out->added[n].name = "X-Amz-Content-SHA256";
            out->added[n++].value = out->storage.data + off_sha;
        }
        out->added[n].name = "Authorization";
        out->added[n++].value = out->authorization.data;
        out->n_added = n;
    }
    ig_sigv4_parts_free(&pp);
    if (e)
        sigv4_result_reset(out);
    return ig_sigv4_nomem(e, err);
}

/* ---------------------------------------------------------------------------------------- */
/* Query-string presigning                                                                   */
/* ---------------------------------------------------------------------------------------- */

static const char *const ig_sigv4_query_auth_names[] = {
    "X-Amz-Algorithm",     "X-Amz-Credential",     "X-Amz-Date",      "X-Amz-Expires",
    "X-Amz-SignedHeaders", "X-Amz-Security-Token", "X-Amz-Signature",
};

ig_err ig_sigv4_presign(ig_sigv4_signer *s, const ig_sigv4_credentials *creds,
                        const ig_sigv4_params *p, const ig_sigv4_request *req, ig_sigv4_result *out,
                        ig_error *err)
{
    ig_err e = sigv4_check_common(creds, p, req, out, err);
    if (e)
        return e;
    if (p->expires < 1 || p->expires > 604800)
        return ig_error_set(err, IG_ERR_INVALID_ARG,
                            "X-Amz-Expires must be between 1 and 604800 seconds (7 days); got "
                            "%" PRId64,
                            p->expires);
    if ((e = sigv4_reject_header(req, "authorization", err)))
        return e;
    sigv4_result_reset(out);
    const int token = ig_sigv4_has_token(creds);
    ig_sigv4_format_date(p->time, out->amz_date);
    char body_hash[65];
    const char *payload_hash;
    ig_sigv4_payload_hash(req, body_hash, &payload_hash);

    ig_sigv4_parts pp;
    ig_sigv4_parts_init(&pp);
    ig_buf value;
    ig_buf_init(&value, 0);
    e = ig_sigv4_canonical_uri(&pp.uri, req->path, p->s3_uri_rules);
    if (!e)
        e = ig_sigv4_qlist_parse(&pp.query, req->query, err);
    for (size_t i = 0; i < pp.query.len && !e; i++)
        for (size_t k = 0; k < sizeof ig_sigv4_query_auth_names / sizeof *ig_sigv4_query_auth_names;
             k++)
            if (strcmp(pp.query.items[i].name, ig_sigv4_query_auth_names[k]) == 0)
                e = ig_error_set(err, IG_ERR_INVALID_ARG,
                                 "the query already carries %s; presign a request without "
                                 "signing parameters",
                                 ig_sigv4_query_auth_names[k]);
    for (size_t i = 0; i < req->n_headers && !e; i++)
        if (!ig_sigv4_unsigned_header(req->headers[i].name))
            e = ig_sigv4_hdr_add(&pp.headers, req->headers[i].name, req->headers[i].value);
    if (!e)
        e = ig_sigv4_canonical_headers(&pp.headers, &pp.header_block, &pp.signed_list);

    /* The wire query: the request's own parameters re-encoded in their order, then the
     * signing parameters in botocore's order. */
    if (!e)
        e = ig_sigv4_qlist_add_plain(&pp.query, "X-Amz-Algorithm", IG_SIGV4_ALGORITHM);
    if (!e)
        e = ig_buf_appendf(&value, "%s/%.8s/%s/%s/" IG_SIGV4_TERMINATOR, creds->access_key_id,
                           out->amz_date, p->region, p->service);
    if (!e)
        e = ig_sigv4_qlist_add_plain(&pp.query, "X-Amz-Credential", value.data);
    if (!e)
        e = ig_sigv4_qlist_add_plain(&pp.query, "X-Amz-Date", out->amz_date);
    ig_buf_reset(&value);
    if (!e)
        e = ig_buf_appendf(&value, "%" PRId64, p->expires);
    if (!e)
        e = ig_sigv4_qlist_add_plain(&pp.query, "X-Amz-Expires", value.data);
    if (!e)
        e = ig_sigv4_qlist_add_plain(&pp.query, "X-Amz-SignedHeaders",
                                     ig_buf_cstr(&pp.signed_list));
    if (!e && token && !p->omit_session_token)
        e = ig_sigv4_qlist_add_plain(&pp.query, "X-Amz-Security-Token", creds->session_token);
    if (!e)
        e = ig_sigv4_canonical_query(&pp.canonical_query, &pp.query);
    if (!e)
        e = ig_sigv4_assemble(&out->canonical_request, req->method, &pp.uri, &pp.canonical_query,
                              &pp.header_block, &pp.signed_list, payload_hash);
    if (!e)
        e = ig_sigv4_finish(s, creds->secret_access_key, out->amz_date, p->region, p->service,
                            &out->canonical_request, &out->string_to_sign, out->signature);
    /* A token left out of the signature still travels, just before the signature. */
    if (!e && token && p->omit_session_token)
        e = ig_sigv4_qlist_add_plain(&pp.query, "X-Amz-Security-Token", creds->session_token);
    if (!e && pp.query.len) {
        const ig_sigv4_qparam **all = malloc(pp.query.len * sizeof *all);
        if (!all) {
            e = IG_ERR_NOMEM;
        } else {
            for (size_t i = 0; i < pp.query.len; i++)
                all[i] = &pp.query.items[i];
            e = ig_sigv4_qlist_append(&out->presigned_query, all, pp.query.len);
            free(all);
        }
    }
    if (!e)
        e = ig_buf_appendf(&out->presigned_query, "&X-Amz-Signature=%s", out->signature);
    ig_sigv4_wipe_free(&value);
    ig_sigv4_parts_free(&pp);
    if (e)
        sigv4_result_reset(out);
    return ig_sigv4_nomem(e, err);
}
