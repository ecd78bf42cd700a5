/* sigv4_internal.h - the canonicalization pieces shared by the SigV4 signer (sigv4.c) and
 * verifier (sigv4_verify.c), implemented in sigv4_canonical.c.
 *
 * Signing and verification must build the canonical request with exactly the same code, or
 * the local Bedrock stand-in would accept what AWS rejects; this header is that shared code.
 * It is private to the aws/sigv4*.c files: everything else uses aws/sigv4.h.
 */
#ifndef IG_SIGV4_INTERNAL_H
#define IG_SIGV4_INTERNAL_H

#include <stddef.h>

#include "aws/sigv4.h"
#include "core/buf.h"
#include "core/error.h"
#include "core/headers.h"

#define IG_SIGV4_ALGORITHM "AWS4-HMAC-SHA256"
#define IG_SIGV4_TERMINATOR "aws4_request"

/* A name and a value, both owned, in canonical form: a query parameter (re-encoded name and
 * value) or a header to sign (lower-cased name; value trimmed, inner runs of white space
 * collapsed to one space). Values may be secret (a session token): they are wiped when freed. */
typedef struct {
    char *name;
    char *value;
} ig_sigv4_pair;

/* A growable list of pairs, in the order they were added. */
typedef struct {
    ig_sigv4_pair *items;
    size_t len;
    size_t cap;
} ig_sigv4_pairs;

typedef ig_sigv4_pair ig_sigv4_qparam;
typedef ig_sigv4_pairs ig_sigv4_qlist;
typedef ig_sigv4_pairs ig_sigv4_hdr_list;

void ig_sigv4_pairs_free(ig_sigv4_pairs *l);

/* Everything both signing modes compute from the request: canonical URI, the query list as
 * sent, the canonical header block and signed-header list. */
typedef struct {
    ig_buf uri;
    ig_sigv4_qlist query;
    ig_sigv4_hdr_list headers;
    ig_buf header_block;
    ig_buf signed_list;
    ig_buf canonical_query;
} ig_sigv4_parts;

/* Frees a buffer after overwriting it: canonical requests and queries can hold the token. */
void ig_sigv4_wipe_free(ig_buf *b);
/* Quotes untrusted text for an error sentence (at most 48 bytes, \xHH for the rest). */
const char *ig_sigv4_quote(const char *s, size_t len, char out[200]);
/* Input checks; each fails with a code and a sentence naming what is wrong. */
ig_err ig_sigv4_check_region(const char *region, ig_error *err);
ig_err ig_sigv4_check_service(const char *service, ig_error *err);
ig_err ig_sigv4_check_credentials(const ig_sigv4_credentials *c, ig_error *err);
ig_err ig_sigv4_check_request(const ig_sigv4_request *req, ig_error *err);
int ig_sigv4_has_token(const ig_sigv4_credentials *c);

/* The canonical URI of a path as sent, by S3's rule or the normalizing one. */
ig_err ig_sigv4_canonical_uri(ig_buf *out, const char *path, int s3_uri_rules);

/* Query parameters in canonical form, kept in the order they were sent. */
ig_err ig_sigv4_qlist_parse(ig_sigv4_qlist *l, const char *query, ig_error *err);
ig_err ig_sigv4_qlist_add_plain(ig_sigv4_qlist *l, const char *name, const char *value);
/* Appends "n=v&n=v" for items in the given order. */
ig_err ig_sigv4_qlist_append(ig_buf *out, const ig_sigv4_qparam *const *items, size_t n);
/* Appends the parameters sorted by name, then value. */
ig_err ig_sigv4_canonical_query(ig_buf *out, const ig_sigv4_qlist *l);

/* Headers to sign: added in request order, then sorted and written as the canonical block
 * ("name:value\n" per name) and the signed-header list ("a;b;c"). */
ig_err ig_sigv4_hdr_add(ig_sigv4_hdr_list *l, const char *name, const char *value);
ig_err ig_sigv4_canonical_headers(ig_sigv4_hdr_list *l, ig_buf *block, ig_buf *signed_list);
/* 1 for headers left unsigned because hops change them (User-Agent, Expect, ...). */
int ig_sigv4_unsigned_header(const char *name);

/* req->payload_hash, or the hex SHA-256 of the body written into out. */
ig_err ig_sigv4_payload_hash(const ig_sigv4_request *req, char out[65], const char **hash);
void ig_sigv4_parts_init(ig_sigv4_parts *pp);
void ig_sigv4_parts_free(ig_sigv4_parts *pp);
/* method, URI, query, header block, signed list and payload hash, one per line. */
ig_err ig_sigv4_assemble(ig_buf *cr, const char *method, const ig_buf *uri, const ig_buf *query,
                         const ig_buf *headers, const ig_buf *signed_list,
                         const char *payload_hash);
/* Gives NOMEM / TOO_LARGE a sentence; other codes pass through. */
ig_err ig_sigv4_nomem(ig_err e, ig_error *err);

/* From the canonical request: the string to sign and the hex signature, with the signing
 * key from s's cache (or derived when s is NULL). Implemented in sigv4.c. */
ig_err ig_sigv4_finish(ig_sigv4_signer *s, const char *secret, const char *amz_date,
                       const char *region, const char *service, const ig_buf *cr, ig_buf *sts,
                       char signature[65]);

#endif
