/* sigv4_cli.c - the SigV4 signer behind a JSON-lines pipe, so that another implementation
 * (botocore, in tests/integration/test_sigv4_botocore.py) can be compared with ours request
 * by request.
 *
 * Input, one JSON object per line:
 *   {"id": any, "mode": "header" | "presign" | "verify",
 *    "method": "GET", "path": "/as/sent", "query": "as=sent" (optional),
 *    "headers": [["Host", "example.com"], ...],
 *    "body": "text" | "body_b64": "base64" (optional), "payload_hash": "..." (optional),
 *    "region": "us-east-1", "service": "s3", "time": epoch seconds, "s3": true|false,
 *    "sign_content_sha256": true|false, "omit_session_token": true|false, "expires": seconds,
 *    "access_key_id": "...", "secret_access_key": "...", "session_token": "..." (optional),
 *    "now": epoch seconds, "max_skew": seconds (verify only)}
 * Output, one line per input line, in order:
 *   {"id": ..., "ok": true, "canonical_request": ..., "string_to_sign": ..., "signature": ...,
 *    "authorization": ..., "added": [[name, value], ...], "presigned_query": ...}
 *   {"id": ..., "ok": false, "error": "invalid_arg", "message": "..."}
 * For "verify", the headers are those received (Authorization included) and the answer is
 * {"id", "ok", "error", "message"}.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/sigv4.h"
#include "codec/base64.h"

static const char *ig_json_str(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static json_t *ig_answer_error(json_t *id, ig_err e, const char *message)
{
    return json_pack("{s:O, s:b, s:s, s:s}", "id", id ? id : json_null(), "ok", 0, "error",
                     ig_err_name(e), "message", message);
}

static json_t *ig_handle(json_t *in)
{
    json_t *id = json_object_get(in, "id");
    const char *mode = ig_json_str(in, "mode");
    if (!mode)
        return ig_answer_error(id, IG_ERR_INVALID_ARG, "mode is missing");

    json_t *jh = json_object_get(in, "headers");
    size_t n_headers = json_array_size(jh);
    ig_header *headers = calloc(n_headers ? n_headers : 1, sizeof *headers);
    for (size_t i = 0; i < n_headers; i++) {
        json_t *pair = json_array_get(jh, i);
        headers[i].name = json_string_value(json_array_get(pair, 0));
        headers[i].value = json_string_value(json_array_get(pair, 1));
    }

    ig_buf body;
    ig_buf_init(&body, 0);
    ig_error err = {0};
    const char *b64 = ig_json_str(in, "body_b64");
    if (b64 && ig_base64_decode_buf(b64, strlen(b64), &body, &err) != IG_OK) {
        free(headers);
        ig_buf_free(&body);
        return ig_answer_error(id, IG_ERR_INVALID_ARG, err.message);
    }
    const char *text = ig_json_str(in, "body");
    if (text)
        ig_buf_append_str(&body, text);

    ig_sigv4_request req = {0};
    req.method = ig_json_str(in, "method");
    req.path = ig_json_str(in, "path");
    req.query = ig_json_str(in, "query");
    req.headers = headers;
    req.n_headers = n_headers;
    req.body = body.data;
    req.body_len = body.len;
    req.payload_hash = ig_json_str(in, "payload_hash");

    ig_sigv4_credentials creds = {ig_json_str(in, "access_key_id"),
                                  ig_json_str(in, "secret_access_key"),
                                  ig_json_str(in, "session_token")};
    ig_sigv4_params p = {0};
    p.region = ig_json_str(in, "region");
    p.service = ig_json_str(in, "service");
    p.time = json_integer_value(json_object_get(in, "time"));
    p.s3_uri_rules = json_is_true(json_object_get(in, "s3"));
    p.sign_content_sha256 = json_is_true(json_object_get(in, "sign_content_sha256"));
    p.omit_session_token = json_is_true(json_object_get(in, "omit_session_token"));
    p.expires = json_integer_value(json_object_get(in, "expires"));

    json_t *out;
    if (strcmp(mode, "verify") == 0) {
        ig_err e = ig_sigv4_verify(&creds, p.region, p.service, p.s3_uri_rules, &req,
                                   json_integer_value(json_object_get(in, "now")),
                                   json_integer_value(json_object_get(in, "max_skew")), &err);
        out = e ? ig_answer_error(id, e, err.message)
                : json_pack("{s:O, s:b}", "id", id ? id : json_null(), "ok", 1);
    } else {
        ig_sigv4_result res;
        ig_sigv4_result_init(&res);
        ig_err e = strcmp(mode, "presign") == 0
                       ? ig_sigv4_presign(NULL, &creds, &p, &req, &res, &err)
                       : ig_sigv4_sign_headers(NULL, &creds, &p, &req, &res, &err);
        if (e) {
            out = ig_answer_error(id, e, err.message);
        } else {
            json_t *added = json_array();
            for (size_t i = 0; i < res.n_added; i++)
                json_array_append_new(added,
                                      json_pack("[s, s]", res.added[i].name, res.added[i].value));
            out = json_pack("{s:O, s:b, s:s, s:s, s:s, s:s, s:o, s:s}", "id", id ? id : json_null(),
                            "ok", 1, "canonical_request", ig_buf_cstr(&res.canonical_request),
                            "string_to_sign", ig_buf_cstr(&res.string_to_sign), "signature",
                            res.signature, "authorization", ig_buf_cstr(&res.authorization),
                            "added", added, "presigned_query", ig_buf_cstr(&res.presigned_query));
        }
        ig_sigv4_result_free(&res);
    }
    free(headers);
    ig_buf_free(&body);
    return out;
}

int main(void)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = 0;
    while ((n = getline(&line, &cap, stdin)) > 0) {
        if (n == 1 && line[0] == '\n')
            continue;
        json_error_t jerr;
        json_t *in = json_loadb(line, (size_t)n, 0, &jerr);
        json_t *out = in ? ig_handle(in) : ig_answer_error(NULL, IG_ERR_PARSE, jerr.text);
        char *text = out ? json_dumps(out, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
        if (text) {
            puts(text);
            free(text);
        } else {
            puts("{\"ok\": false, \"error\": \"nomem\", \"message\": \"cannot build the answer\"}");
            rc = 1;
        }
        fflush(stdout);
        json_decref(out);
        json_decref(in);
    }
    free(line);
    return rc;
}
