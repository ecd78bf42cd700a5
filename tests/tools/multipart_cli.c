/* multipart_cli.c - the multipart/form-data parser behind a JSON-lines pipe, so that other
 * implementations (Python's email package and urllib3, in
 * tests/integration/test_multipart_oracle.py) can be compared with ours body by body.
 *
 * Input, one JSON object per line:
 *   {"id": any, "content_type": "multipart/form-data; boundary=...", "body_b64": "...",
 *    "limits": {"max_parts": n, "max_part_bytes": n, "max_header_bytes": n, "max_total_bytes": n}}
 *   ("limits" and each of its members are optional.)
 * Output, one line per input line, in order:
 *   {"id": ..., "ok": true, "parts": [{"name": "...", "filename": "..." | null,
 *     "content_type": "..." | null, "data_b64": "..."}, ...]}
 *   {"id": ..., "ok": false, "error": "parse" | "invalid_arg" | "too_large", "message": "..."}
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/base64.h"
#include "codec/multipart.h"

#define MAX_PARTS 64

static json_t *slice_or_null(const char *s, size_t n)
{
    return s ? json_stringn(s, n) : json_null();
}

static size_t limit(json_t *limits, const char *key)
{
    return (size_t)json_integer_value(json_object_get(limits, key));
}

static json_t *handle(json_t *in)
{
    json_t *id = json_object_get(in, "id");
    if (!id)
        id = json_null();
    const char *ct = json_string_value(json_object_get(in, "content_type"));
    const char *b64 = json_string_value(json_object_get(in, "body_b64"));
    ig_buf body;
    ig_buf_init(&body, 0);
    ig_error err;
    ig_error_clear(&err);
    if (b64 && ig_base64_decode_buf(b64, strlen(b64), &body, &err) != IG_OK)
        return json_pack("{s:O, s:b, s:s, s:s}", "id", id, "ok", 0, "error", "input", "message", err.message);
    json_t *jl = json_object_get(in, "limits");
    ig_multipart_limits lim = {limit(jl, "max_parts"), limit(jl, "max_part_bytes"), limit(jl, "max_header_bytes"),
                               limit(jl, "max_total_bytes")};
    static ig_multipart_part parts[MAX_PARTS];
    size_t n = 0;
    ig_err e = ig_multipart_parse(ct, body.data ? body.data : "", body.len, &lim, parts, MAX_PARTS, &n, &err);
    json_t *out;
    if (e != IG_OK) {
        out = json_pack("{s:O, s:b, s:s, s:s}", "id", id, "ok", 0, "error", ig_err_name(e), "message", err.message);
    } else {
        json_t *list = json_array();
        for (size_t i = 0; i < n; i++) {
            ig_buf data;
            ig_buf_init(&data, 0);
            ig_base64_encode_buf(parts[i].data, parts[i].len, &data);
            json_array_append_new(list, json_pack("{s:o, s:o, s:o, s:s}", "name",
                                                  slice_or_null(parts[i].name, parts[i].name_len), "filename",
                                                  slice_or_null(parts[i].filename, parts[i].filename_len),
                                                  "content_type",
                                                  slice_or_null(parts[i].content_type, parts[i].content_type_len),
                                                  "data_b64", ig_buf_cstr(&data)));
            ig_buf_free(&data);
        }
        out = json_pack("{s:O, s:b, s:o}", "id", id, "ok", 1, "parts", list);
    }
    ig_buf_free(&body);
    return out;
}

int main(void)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, stdin)) > 0) {
        if (n == 1 && line[0] == '\n')
            continue;
        json_error_t jerr;
        json_t *in = json_loadb(line, (size_t)n, 0, &jerr);
        json_t *out = in ? handle(in) : json_pack("{s:n, s:b, s:s, s:s}", "id", "ok", 0, "error", "input", "message", jerr.text);
        char *text = out ? json_dumps(out, JSON_COMPACT | JSON_ENSURE_ASCII) : NULL;
        if (!text) {
            fprintf(stderr, "multipart_cli: cannot write the answer\n");
            return 1;
        }
        puts(text);
        fflush(stdout);
        free(text);
        json_decref(out);
        json_decref(in);
    }
    free(line);
    return 0;
}
