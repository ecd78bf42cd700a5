/* post.c - S3's checks of a browser-upload form: the form, its signature, its policy. */
#include "post.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "codec/base64.h"
#include "codec/hash.h"
#include "codec/multipart.h"
#include "core/buf.h"

#define S3V_POST_MAX_PARTS 256
#define S3V_POST_MAX_FIELDS 64
#define S3V_POST_ALGORITHM "AWS4-HMAC-SHA256"
#define S3V_POST_MISMATCH                                                                              \
    "The request signature we calculated does not match the signature you provided. Check your key " \
    "and signing method."

/* ---- the form ---- */

/* A field before the file: its name as sent and its value, NUL-terminated copies. */
typedef struct {
    char *name;
    char *value;
    size_t value_len;
    int covered; /* a condition of the policy names it */
} post_field;

typedef struct {
    post_field fields[S3V_POST_MAX_FIELDS];
    size_t n;
    int has_file;
    size_t file_len;
    size_t predata; /* bytes of the body before the file's content */
    char duplicate[128]; /* the first field given twice, if any */
} post_form;

static char *copy(const char *s, size_t n)
{
    char *c = malloc(n + 1);
    if (c) {
        memcpy(c, s, n);
        c[n] = '\0';
    }
    return c;
}

static void form_free(post_form *f)
{
    for (size_t i = 0; i < f->n; i++) {
        free(f->fields[i].name);
        free(f->fields[i].value);
    }
    f->n = 0;
}

/* The field named name (without regard to case), or NULL. */
static post_field *form_get(post_form *f, const char *name)
{
    for (size_t i = 0; i < f->n; i++)
        if (strcasecmp(f->fields[i].name, name) == 0)
            return &f->fields[i];
    return NULL;
}

static const char *form_value(post_form *f, const char *name)
{
    post_field *p = form_get(f, name);
    return p ? p->value : NULL;
}

/* Keeps the fields up to the first part named "file"; 0 when out of room or memory. */
static int form_take(post_form *f, const ig_multipart_part *parts, size_t n, const char *body)
{
    for (size_t i = 0; i < n; i++) {
        const ig_multipart_part *p = &parts[i];
        if (p->name_len == 4 && strncasecmp(p->name, "file", 4) == 0) {
            f->has_file = 1;
            f->file_len = p->len;
            f->predata = (size_t)(p->data - body);
            return 1;
        }
        if (f->n == S3V_POST_MAX_FIELDS)
            return 0;
        post_field *fl = &f->fields[f->n];
        fl->name = copy(p->name, p->name_len);
        fl->value = copy(p->data, p->len);
        fl->value_len = p->len;
        fl->covered = 0;
        if (!fl->name || !fl->value) {
            free(fl->name);
            free(fl->value);
            return 0;
        }
        if (!f->duplicate[0] && form_get(f, fl->name))
            snprintf(f->duplicate, sizeof f->duplicate, "%s", fl->name);
        f->n++;
    }
    f->predata = n ? (size_t)(parts[n - 1].data - body) + parts[n - 1].len : 0;
    return 1;
}

/* Reads the body into f; 0 with v refused when it is not a form S3 takes. */
static int form_read(const s3v_request *req, post_form *f, s3v_verdict *v)
{
    const char *type = ig_headers_find(req->headers, req->n_headers, "content-type");
    ig_multipart_part *parts = calloc(S3V_POST_MAX_PARTS, sizeof *parts);
    size_t n = 0;
    ig_error err;
    ig_error_clear(&err);
    int ok = parts && ig_multipart_parse(type, req->body, req->body_len, NULL, parts, S3V_POST_MAX_PARTS, &n,
                                         &err) == IG_OK;
    ok = ok && form_take(f, parts, n, req->body);
    free(parts);
    if (!ok) {
        s3v_refuse(v, 400, "MalformedPOSTRequest",
                   "The body of your POST request is not well-formed multipart/form-data.");
        return 0;
    }
    return 1;
}

/* The form's own rules: its size before the file, one value per field, a file, a key. */
static int form_rules(post_form *f, s3v_verdict *v)
{
    char n[32];
    if (f->predata > S3V_POST_MAX_PREDATA) {
        s3v_refuse(v, 400, "MaxPostPreDataLengthExceeded",
                   "Your POST request fields preceeding the upload file was too large.");
        snprintf(n, sizeof n, "%d", S3V_POST_MAX_PREDATA);
        s3v_add_extra(v, "MaxPostPreDataLengthBytes", n);
        return 0;
    }
    if (f->duplicate[0]) {
        s3v_refuse(v, 400, "InvalidArgument", "POST requires exactly one value for the field '%s'.", f->duplicate);
        s3v_add_extra(v, "ArgumentName", f->duplicate);
        return 0;
    }
    if (!f->has_file) {
        s3v_refuse(v, 400, "InvalidArgument", "POST requires exactly one file upload per request.");
        s3v_add_extra(v, "ArgumentName", "file");
        s3v_add_extra(v, "ArgumentValue", "0");
        return 0;
    }
    const char *key = form_value(f, "key");
    if (!key || !*key) {
        s3v_refuse(v, 400, "InvalidArgument",
                   key ? "User key must have a length greater than 0."
                       : "Bucket POST must contain a field named 'key'.  If it is specified, please check the order "
                         "of the fields.");
        s3v_add_extra(v, "ArgumentName", "key");
        s3v_add_extra(v, "ArgumentValue", "");
        return 0;
    }
    return 1;
}

/* ---- the signature ---- */

static const char *const post_auth_fields[] = {"policy", "x-amz-algorithm", "x-amz-credential", "x-amz-date",
                                               "x-amz-signature"};

/* All signing fields there (1), none (an anonymous form: refused), or some missing (refused). */
static int post_auth_present(post_form *f, s3v_verdict *v)
{
    size_t n = sizeof post_auth_fields / sizeof post_auth_fields[0], found = 0;
    const char *missing = NULL;
    for (size_t i = 0; i < n; i++) {
        if (form_get(f, post_auth_fields[i]))
            found++;
        else if (!missing)
            missing = post_auth_fields[i];
    }
    if (found == n)
        return 1;
    if (!found && !form_get(f, "x-amz-security-token")) {
        s3v_refuse(v, 403, "AccessDenied", "Access Denied");
        return 0;
    }
    s3v_refuse(v, 400, "InvalidArgument",
               "Bucket POST must contain a field named '%s'.  If it is specified, please check the order of the "
               "fields.",
               missing ? missing : "policy");
    s3v_add_extra(v, "ArgumentName", missing ? missing : "policy");
    s3v_add_extra(v, "ArgumentValue", "");
    return 0;
}

/* The credential's day as epoch seconds (its signing key's day). */
static int64_t credential_day(const char *credential)
{
    const char *slash = strchr(credential, '/');
    char stamp[17];
    int64_t t = 0;
    if (!slash || strlen(slash + 1) < 8)
        return -1;
    snprintf(stamp, sizeof stamp, "%.8sT000000Z", slash + 1);
    return ig_sigv4_parse_date(stamp, &t) == 0 ? t : -1;
}

static int post_signature(const s3v_auth *a, post_form *f, s3v_verdict *v)
{
    const char *algorithm = form_value(f, "x-amz-algorithm"), *date = form_value(f, "x-amz-date");
    const char *credential = form_value(f, "x-amz-credential");
    int64_t signed_at = 0;
    if (strcmp(algorithm, S3V_POST_ALGORITHM) != 0) {
        s3v_refuse(v, 400, "InvalidArgument", "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"");
        s3v_add_extra(v, "ArgumentName", "x-amz-algorithm");
        s3v_add_extra(v, "ArgumentValue", algorithm);
        return 0;
    }
    if (ig_sigv4_parse_date(date, &signed_at) != 0) {
        s3v_refuse(v, 400, "InvalidArgument", "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"");
        s3v_add_extra(v, "ArgumentName", "x-amz-date");
        s3v_add_extra(v, "ArgumentValue", date);
        return 0;
    }
    if (!s3v_check_scope(a, credential, date, "InvalidArgument", v))
        return 0;
    if (!s3v_token_matches(a->known.session_token, form_value(f, "x-amz-security-token"))) {
        s3v_refuse(v, 400, "InvalidToken", "The provided token is malformed or otherwise invalid.");
        return 0;
    }
    post_field *policy = form_get(f, "policy");
    const char *sent = form_value(f, "x-amz-signature");
    char expected[65];
    ig_error err;
    int ok = ig_sigv4_sign_policy(NULL, &a->known, a->region, "s3", credential_day(credential), policy->value,
                                  policy->value_len, expected, &err) == IG_OK &&
             strlen(sent) == 64 && ig_ct_equal(expected, sent, 64);
    if (!ok) {
        s3v_refuse(v, 403, "SignatureDoesNotMatch", S3V_POST_MISMATCH);
        s3v_add_extra(v, "AWSAccessKeyId", a->known.access_key_id);
        s3v_add_extra(v, "SignatureProvided", sent);
    }
    return ok;
}

/* ---- the policy ---- */

static void invalid_policy(s3v_verdict *v, const char *why)
{
    s3v_refuse(v, 400, "InvalidPolicyDocument", "Invalid Policy: %s", why);
}

/* The policy document, decoded; NULL with v refused. */
static json_t *policy_decode(post_form *f, s3v_verdict *v)
{
    post_field *p = form_get(f, "policy");
    ig_buf text;
    ig_buf_init(&text, 0);
    ig_error err;
    json_t *doc = NULL;
    if (ig_base64_decode_buf(p->value, p->value_len, &text, &err) == IG_OK)
        doc = json_loadb(text.data ? text.data : "", text.len, JSON_REJECT_DUPLICATES, NULL);
    ig_buf_free(&text);
    if (!json_is_object(doc)) {
        json_decref(doc);
        invalid_policy(v, "Invalid JSON.");
        return NULL;
    }
    return doc;
}

/* "2025-11-29T14:18:20.000Z" (fraction optional) as epoch seconds; -1 when malformed. */
static int64_t expiration_time(const char *s)
{
    size_t n = strlen(s);
    if (n < 20 || n == 21 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
        s[n - 1] != 'Z' || (n > 20 && s[19] != '.'))
        return -1;
    for (size_t i = 20; i + 1 < n; i++) /* the fraction's digits */
        if (s[i] < '0' || s[i] > '9')
            return -1;
    char stamp[17];
    snprintf(stamp, sizeof stamp, "%.4s%.2s%.2sT%.2s%.2s%.2sZ", s, s + 5, s + 8, s + 11, s + 14, s + 17);
    int64_t t = 0;
    return ig_sigv4_parse_date(stamp, &t) == 0 ? t : -1;
}

static int policy_expiration(json_t *doc, int64_t now, s3v_verdict *v)
{
    const char *exp = json_string_value(json_object_get(doc, "expiration"));
    if (!exp) {
        invalid_policy(v, "Policy missing expiration.");
        return 0;
    }
    int64_t until = expiration_time(exp);
    if (until < 0) {
        s3v_refuse(v, 400, "InvalidPolicyDocument", "Invalid Policy: Invalid 'expiration' value: '%.64s'", exp);
        return 0;
    }
    if (now > until) {
        s3v_refuse(v, 403, "AccessDenied", "Invalid according to Policy: Policy expired.");
        return 0;
    }
    return 1;
}

/* What the conditions allow for the file's size. */
typedef struct {
    json_int_t min, max;
} size_range;

static void condition_failed(s3v_verdict *v, const char *op, const char *name, const char *value)
{
    json_t *s = json_string(value);
    char *quoted = s ? json_dumps(s, JSON_ENCODE_ANY) : NULL;
    s3v_refuse(v, 403, "AccessDenied", "Invalid according to Policy: Policy Condition failed: [\"%s\", \"$%s\", %s]",
               op, name, quoted ? quoted : "\"\"");
    free(quoted);
    json_decref(s);
}

/* One eq or starts-with on field name ("$" already stripped); values compare as bytes. */
static int condition_holds(post_form *f, const char *bucket, const char *op, const char *name, json_t *want,
                           s3v_verdict *v)
{
    const char *got = "";
    size_t got_len = 0;
    post_field *field = form_get(f, name);
    if (strcasecmp(name, "bucket") == 0) {
        got = bucket;
        got_len = strlen(bucket);
    } else if (field) {
        got = field->value;
        got_len = field->value_len;
    }
    if (field)
        field->covered = 1;
    int starts = strcasecmp(op, "starts-with") == 0;
    size_t want_len = json_string_length(want);
    int ok = (starts ? got_len >= want_len : got_len == want_len) &&
             memcmp(got, json_string_value(want), want_len) == 0;
    if (!ok)
        condition_failed(v, starts ? "starts-with" : "eq", name, json_string_value(want));
    return ok;
}

/* ["content-length-range", min, max] */
static int condition_range(json_t *c, size_range *r, s3v_verdict *v)
{
    json_t *lo = json_array_get(c, 1), *hi = json_array_get(c, 2);
    if (!json_is_integer(lo) || !json_is_integer(hi) || json_integer_value(lo) < 0 ||
        json_integer_value(hi) < json_integer_value(lo)) {
        invalid_policy(v, "Invalid content-length-range condition.");
        return 0;
    }
    if (json_integer_value(lo) > r->min)
        r->min = json_integer_value(lo);
    if (r->max < 0 || json_integer_value(hi) < r->max)
        r->max = json_integer_value(hi);
    return 1;
}

/* One condition, either form; 0 with v refused when it is malformed or does not hold. */
static int condition_check(json_t *c, post_form *f, const char *bucket, size_range *r, s3v_verdict *v)
{
    if (json_is_object(c)) {
        const char *name = NULL;
        json_t *value = NULL;
        void *only = json_object_size(c) == 1 ? json_object_iter(c) : NULL;
        if (only) {
            name = json_object_iter_key(only);
            value = json_object_iter_value(only);
        }
        if (!json_is_string(value)) {
            invalid_policy(v, "Invalid Simple-Condition: Simple-Conditions must have exactly one property specified.");
            return 0;
        }
        return condition_holds(f, bucket, "eq", name, value, v);
    }
    const char *op = json_string_value(json_array_get(c, 0));
    if (!json_is_array(c) || json_array_size(c) != 3 || !op) {
        invalid_policy(v, "Invalid Condition: conditions are objects or arrays of three elements.");
        return 0;
    }
    if (strcasecmp(op, "content-length-range") == 0)
        return condition_range(c, r, v);
    const char *name = json_string_value(json_array_get(c, 1));
    json_t *want = json_array_get(c, 2);
    if ((strcasecmp(op, "eq") != 0 && strcasecmp(op, "starts-with") != 0) || !name || name[0] != '$' ||
        !json_is_string(want)) {
        s3v_refuse(v, 400, "InvalidPolicyDocument", "Invalid Policy: Invalid Condition: [\"%.32s\", ...]", op);
        return 0;
    }
    return condition_holds(f, bucket, op, name + 1, want, v);
}

/* Fields that no condition needs to name. */
static int exempt(const char *name)
{
    return strcasecmp(name, "policy") == 0 || strcasecmp(name, "x-amz-signature") == 0 ||
           strncasecmp(name, "x-ignore-", 9) == 0;
}

static int policy_conditions(json_t *doc, post_form *f, const char *bucket, size_range *r, s3v_verdict *v)
{
    json_t *conditions = json_object_get(doc, "conditions");
    if (!json_is_array(conditions)) {
        invalid_policy(v, "Policy missing conditions.");
        return 0;
    }
    size_t i;
    json_t *c;
    json_array_foreach(conditions, i, c)
    {
        if (!condition_check(c, f, bucket, r, v))
            return 0;
    }
    for (i = 0; i < f->n; i++)
        if (!f->fields[i].covered && !exempt(f->fields[i].name)) {
            s3v_refuse(v, 403, "AccessDenied", "Invalid according to Policy: Extra input fields: %s",
                       f->fields[i].name);
            return 0;
        }
    return 1;
}

static int size_in_range(const post_form *f, const size_range *r, s3v_verdict *v)
{
    char proposed[32], limit[32];
    snprintf(proposed, sizeof proposed, "%zu", f->file_len);
    if (r->max >= 0 && (json_int_t)f->file_len > r->max) {
        s3v_refuse(v, 400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size");
        snprintf(limit, sizeof limit, "%lld", (long long)r->max);
        s3v_add_extra(v, "ProposedSize", proposed);
        s3v_add_extra(v, "MaxSizeAllowed", limit);
        return 0;
    }
    if ((json_int_t)f->file_len < r->min) {
        s3v_refuse(v, 400, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed size");
        snprintf(limit, sizeof limit, "%lld", (long long)r->min);
        s3v_add_extra(v, "ProposedSize", proposed);
        s3v_add_extra(v, "MinSizeAllowed", limit);
        return 0;
    }
    return 1;
}

/* ---- the request ---- */

int s3v_post_target(const s3v_request *req, char *bucket, size_t bucket_len)
{
    const char *type = ig_headers_find(req->headers, req->n_headers, "content-type");
    if (strcmp(req->method, "POST") != 0 || req->query[0] || !type ||
        strncasecmp(type, "multipart/form-data", 19) != 0 ||
        ig_headers_find(req->headers, req->n_headers, "authorization"))
        return 0;
    const char *p = req->path;
    if (p[0] != '/')
        return 0;
    size_t n = strcspn(p + 1, "/");
    if (!n || n >= bucket_len || (p[1 + n] && strcmp(p + 1 + n, "/") != 0))
        return 0;
    memcpy(bucket, p + 1, n);
    bucket[n] = '\0';
    return 1;
}

void s3v_check_post(const s3v_auth *a, const s3v_request *req, const char *bucket, int64_t now, s3v_verdict *v)
{
    memset(v, 0, sizeof *v);
    v->kind = S3V_AUTH_POST;
    post_form *f = calloc(1, sizeof *f);
    if (!f) {
        s3v_refuse(v, 500, "InternalError", "We encountered an internal error. Please try again.");
        return;
    }
    json_t *doc = NULL;
    size_range range = {0, -1};
    if (form_read(req, f, v) && form_rules(f, v) && post_auth_present(f, v) && post_signature(a, f, v) &&
        (doc = policy_decode(f, v)) && policy_expiration(doc, now, v) && policy_conditions(doc, f, bucket, &range, v))
        size_in_range(f, &range, v);
    json_decref(doc);
    form_free(f);
    free(f);
}
