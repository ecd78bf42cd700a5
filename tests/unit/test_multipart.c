/* test_multipart.c - multipart/form-data as OpenAI's /v1/images/edits receives it: the boundary
 * from the Content-Type, parts with names, filenames and types, data that looks like a
 * boundary, every malformation with its own sentence, and every limit. Bodies are copied into
 * exactly-sized heap blocks so the sanitizer build catches a read past the end. */
#include <stdlib.h>

#include "codec/multipart.h"
#include "testlib.h"

#define CT "multipart/form-data; boundary=XyZ"

static char *body_copy;
static ig_multipart_part parts[8];
static size_t n;
static ig_error err;

/* Parses body[0..len) (copied to an exact-size block that lives until the next call). */
static ig_err parse_n(const char *ct, const char *body, size_t len, const ig_multipart_limits *lim)
{
    free(body_copy);
    body_copy = malloc(len ? len : 1);
    if (len)
        memcpy(body_copy, body, len);
    ig_error_clear(&err);
    n = 99;
    return ig_multipart_parse(ct, body_copy, len, lim, parts, 8, &n, &err);
}

static ig_err parse(const char *body)
{
    return parse_n(CT, body, strlen(body), NULL);
}

/* The slice s[0..len) equals the C string want. */
static int slice_is(const char *s, size_t len, const char *want)
{
    return s && len == strlen(want) && memcmp(s, want, len) == 0;
}

#define CHECK_SLICE(s, len, want)                                                                  \
    do {                                                                                           \
        if (!slice_is((s), (len), (want)))                                                         \
            ig_test_fail(__FILE__, __LINE__, "%s: got \"%.*s\", expected \"%s\"", #s,             \
                         (s) ? (int)(len) : 6, (s) ? (s) : "(null)", (want));                     \
    } while (0)

#define CHECK_ERROR(want_code, phrase)                                                                  \
    do {                                                                                           \
        IG_CHECK_EQ_INT(err.code, (want_code));                                                       \
        IG_CHECK_EQ_INT(n, 0);                                                                     \
        if (!strstr(err.message, (phrase)))                                                        \
            ig_test_fail(__FILE__, __LINE__, "the sentence \"%s\" does not say \"%s\"", err.message, \
                         (phrase));                                                                \
    } while (0)

/* ---- the boundary --------------------------------------------------------------------- */

static ig_err boundary(const char *ct, char out[IG_MULTIPART_BOUNDARY_MAX + 1])
{
    ig_error_clear(&err);
    return ig_multipart_boundary(ct, out, IG_MULTIPART_BOUNDARY_MAX + 1, &err);
}

static void test_boundary_forms(void)
{
    char b[IG_MULTIPART_BOUNDARY_MAX + 1];
    IG_CHECK_EQ_INT(boundary("multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxkTrZu0gW", b), IG_OK);
    IG_CHECK_EQ_STR(b, "----WebKitFormBoundary7MA4YWxkTrZu0gW");
    IG_CHECK_EQ_INT(boundary("multipart/form-data; boundary=\"===============8923749823==\"", b), IG_OK);
    IG_CHECK_EQ_STR(b, "===============8923749823==");
    IG_CHECK_EQ_INT(boundary("Multipart/Form-Data;BOUNDARY=abc", b), IG_OK);
    IG_CHECK_EQ_STR(b, "abc");
    IG_CHECK_EQ_INT(boundary("multipart/form-data; charset=utf-8; Boundary = \"a b'()+_,-./:=?\" ; x=y;", b), IG_OK);
    IG_CHECK_EQ_STR(b, "a b'()+_,-./:=?");
    IG_CHECK_EQ_INT(boundary("  multipart/mixed;boundary=z", b), IG_OK); /* any multipart type */
    IG_CHECK_EQ_STR(b, "z");
    char seventy[120] = "multipart/form-data; boundary=";
    size_t at = strlen(seventy);
    memset(seventy + at, 'a', 70);
    seventy[at + 70] = '\0';
    IG_CHECK_EQ_INT(boundary(seventy, b), IG_OK);
    IG_CHECK_EQ_INT(strlen(b), 70);
}

static void test_boundary_errors(void)
{
    char b[IG_MULTIPART_BOUNDARY_MAX + 1];
    static const struct {
        const char *ct, *phrase;
    } cases[] = {
        {"multipart/form-data", "the Content-Type multipart/form-data has no boundary"},
        {"multipart/form-data; charset=utf-8", "has no boundary"},
        {"multipart/form-data; boundary=", "the boundary of the Content-Type is empty"},
        {"multipart/form-data; boundary=\"\"", "is empty"},
        {"multipart/form-data; boundary=a; boundary=b", "has two boundary parameters"},
        {"multipart/form-data; boundary=a@b", "contains '@'"},
        {"multipart/form-data; boundary=\"a\\\"b\"", "contains '\"'"},
        {"multipart/form-data; boundary=\"ab \"", "ends in a space"},
        {"multipart/form-data; boundary=\"ab\xc3\xa9\"", "contains the byte 0xc3"},
        {"multipart/form-data; boundary=\"abc", "is malformed at byte"},
        {"multipart/form-data; boundary", "is malformed at byte"},
        {"multipart/form-data boundary=abc", "is malformed at byte"},
        {"application/json", "the Content-Type \"application/json\" is not multipart"},
        {"multipart/", "is not multipart"},
        {"", "the request has no Content-Type"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        memset(b, 'x', sizeof b);
        IG_CHECK_EQ_INT(boundary(cases[i].ct, b), IG_ERR_INVALID_ARG);
        IG_CHECK_EQ_STR(b, "");
        if (!strstr(err.message, cases[i].phrase))
            ig_test_fail(__FILE__, __LINE__, "%s: \"%s\" does not say \"%s\"", cases[i].ct, err.message,
                         cases[i].phrase);
    }
    char seventy_one[120] = "multipart/form-data; boundary=";
    size_t at = strlen(seventy_one);
    memset(seventy_one + at, 'a', 71);
    seventy_one[at + 71] = '\0';
    IG_CHECK_EQ_INT(boundary(seventy_one, b), IG_ERR_INVALID_ARG);
    IG_CHECK(strstr(err.message, "71 characters long; RFC 2046 allows at most 70") != NULL);
    IG_CHECK_EQ_INT(boundary(NULL, b), IG_ERR_INVALID_ARG);
    IG_CHECK_EQ_INT(ig_multipart_boundary("multipart/form-data; boundary=a", b, 70, &err), IG_ERR_INVALID_ARG);
}

/* A quoted Content-Type in a sentence is cut at a character and keeps no control bytes. */
static void test_sentences_quote_safely(void)
{
    char b[IG_MULTIPART_BOUNDARY_MAX + 1];
    char ct[200] = "text/plain; x=\x01";
    size_t at = strlen(ct);
    for (int i = 0; i < 40; i++, at += 3)
        memcpy(ct + at, "\xe6\x97\xa5", 3);
    ct[at] = '\0';
    IG_CHECK_EQ_INT(boundary(ct, b), IG_ERR_INVALID_ARG);
    IG_CHECK(strstr(err.message, "x=?") != NULL);
    IG_CHECK(strstr(err.message, "\xe6\x97\xa5...\" is not multipart") != NULL);
}

/* ---- parts ------------------------------------------------------------------------------ */

static void test_openai_edit_form(void)
{
    static const char body[] = "--XyZ\r\n"
                               "Content-Disposition: form-data; name=\"image[]\"; filename=\"a.png\"\r\n"
                               "Content-Type: image/png\r\n"
                               "\r\n"
                               "\x89PNG\r\n\x1a\n\0\0"
                               "\r\n--XyZ\r\n"
                               "Content-Disposition: form-data; name=\"image[]\"; filename=\"b.png\"\r\n"
                               "Content-Type: image/png\r\n"
                               "\r\n"
                               "PNG2"
                               "\r\n--XyZ\r\n"
                               "Content-Disposition: form-data; name=\"mask\"; filename=\"mask.png\"\r\n"
                               "\r\n"
                               "M"
                               "\r\n--XyZ\r\n"
                               "content-disposition: FORM-DATA; NAME=prompt\r\n"
                               "\r\n"
                               "a cat\r\nin a hat"
                               "\r\n--XyZ\r\n"
                               "Content-Disposition: form-data; name=\"n\"\r\n"
                               "Content-Type: text/plain; charset=utf-8  \r\n"
                               "\r\n"
                               "2"
                               "\r\n--XyZ--\r\n";
    IG_CHECK_EQ_INT(parse_n(CT, body, sizeof body - 1, NULL), IG_OK);
    IG_CHECK_EQ_INT(n, 5);
    if (n != 5)
        return;
    CHECK_SLICE(parts[0].name, parts[0].name_len, "image[]");
    CHECK_SLICE(parts[0].filename, parts[0].filename_len, "a.png");
    CHECK_SLICE(parts[0].content_type, parts[0].content_type_len, "image/png");
    IG_CHECK_EQ_INT(parts[0].len, 10);
    IG_CHECK_EQ_MEM(parts[0].data, "\x89PNG\r\n\x1a\n\0\0", 10);
    IG_CHECK(parts[0].data > body_copy && parts[0].data + parts[0].len < body_copy + sizeof body - 1);
    CHECK_SLICE(parts[1].name, parts[1].name_len, "image[]");
    CHECK_SLICE(parts[1].data, parts[1].len, "PNG2");
    CHECK_SLICE(parts[2].name, parts[2].name_len, "mask");
    CHECK_SLICE(parts[2].filename, parts[2].filename_len, "mask.png");
    IG_CHECK(parts[2].content_type == NULL);
    CHECK_SLICE(parts[3].name, parts[3].name_len, "prompt");
    IG_CHECK(parts[3].filename == NULL);
    CHECK_SLICE(parts[3].data, parts[3].len, "a cat\r\nin a hat");
    CHECK_SLICE(parts[4].content_type, parts[4].content_type_len, "text/plain; charset=utf-8");
    CHECK_SLICE(parts[4].data, parts[4].len, "2");
}

static void test_quoted_names_and_filenames(void)
{
    IG_CHECK_EQ_INT(parse("--XyZ\r\n"
                          "Content-Disposition: form-data; name=\"a\\\"b;c\"; filename=\"x\\\\y\\z.png\"\r\n\r\n"
                          "1\r\n--XyZ\r\n"
                          "Content-Disposition: form-data; name=\"say %22hi%22\"; filename=\"C:\\dir\\f.png\"\r\n\r\n"
                          "2\r\n--XyZ\r\n"
                          "Content-Disposition: form-data; filename=\"\"; name=\"\xe6\x97\xa5\"\r\n\r\n"
                          "\r\n--XyZ--"),
                    IG_OK);
    IG_CHECK_EQ_INT(n, 3);
    /* \" and \\ are escapes, decoded into the part; other backslashes stay. */
    CHECK_SLICE(parts[0].name, parts[0].name_len, "a\"b;c");
    CHECK_SLICE(parts[0].filename, parts[0].filename_len, "x\\y\\z.png");
    IG_CHECK(parts[0].name >= parts[0].decoded && parts[0].name < parts[0].decoded + IG_MULTIPART_DECODED_MAX);
    /* Percent-encoding (what browsers send for '"') is kept as sent. */
    CHECK_SLICE(parts[1].name, parts[1].name_len, "say %22hi%22");
    CHECK_SLICE(parts[1].filename, parts[1].filename_len, "C:\\dir\\f.png");
    IG_CHECK(parts[1].name > body_copy); /* no escapes: a slice of the body */
    /* An empty filename is still a file (a browser's empty file input); empty data. */
    CHECK_SLICE(parts[2].name, parts[2].name_len, "\xe6\x97\xa5");
    IG_CHECK(parts[2].filename != NULL);
    IG_CHECK_EQ_INT(parts[2].filename_len, 0);
    IG_CHECK_EQ_INT(parts[2].len, 0);
}

static void test_ext_filename(void)
{
    IG_CHECK_EQ_INT(parse("--XyZ\r\n"
                          "Content-Disposition: form-data; name=a; filename=\"plain.png\"; "
                          "filename*=UTF-8''%E6%97%A5%20x.png\r\n\r\n"
                          "1\r\n--XyZ\r\n"
                          "Content-Disposition: form-data; name=b; filename*=iso-8859-1'fr'caf%E9.png\r\n\r\n"
                          "2\r\n--XyZ--"),
                    IG_OK);
    IG_CHECK_EQ_INT(n, 2);
    CHECK_SLICE(parts[0].filename, parts[0].filename_len, "\xe6\x97\xa5 x.png");
    CHECK_SLICE(parts[1].filename, parts[1].filename_len, "caf\xc3\xa9.png");

    static const struct {
        const char *cd, *phrase;
    } bad[] = {
        {"form-data; name=a; filename*=koi8-r''%C1", "in the charset \"koi8-r\"; only UTF-8 and ISO-8859-1"},
        {"form-data; name=a; filename*=UTF-8''%E6%97", "the filename of part 1 is not UTF-8 text"},
        {"form-data; name=a; filename*=UTF-8''%0A.png", "the filename of part 1 is not UTF-8 text"},
        {"form-data; name=a; filename*=UTF-8''%4", "has a malformed % escape"},
        {"form-data; name=a; filename*=UTF-8'x.png", "is not charset'language'value"},
        {"form-data; name=a; filename*=UTF-8''\xc3\xa9", "a byte that is not ASCII"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char body[300];
        snprintf(body, sizeof body, "--XyZ\r\nContent-Disposition: %s\r\n\r\nx\r\n--XyZ--", bad[i].cd);
        IG_CHECK_EQ_INT(parse(body), IG_ERR_PARSE);
        CHECK_ERROR(IG_ERR_PARSE, bad[i].phrase);
    }
}

static void test_repeated_names_are_kept_in_order(void)
{
    IG_CHECK_EQ_INT(parse("--XyZ\r\nContent-Disposition: form-data; name=image; filename=1.png\r\n\r\nA"
                          "\r\n--XyZ\r\nContent-Disposition: form-data; name=image; filename=2.png\r\n\r\nB"
                          "\r\n--XyZ\r\nContent-Disposition: form-data; name=image; filename=3.png\r\n\r\nC"
                          "\r\n--XyZ--\r\n"),
                    IG_OK);
    IG_CHECK_EQ_INT(n, 3);
    for (size_t i = 0; i < 3 && i < n; i++) {
        CHECK_SLICE(parts[i].name, parts[i].name_len, "image");
        IG_CHECK_EQ_INT(parts[i].len, 1);
        IG_CHECK_EQ_INT(parts[i].data[0], 'A' + (int)i);
        IG_CHECK_EQ_INT(parts[i].filename[0], '1' + (int)i);
    }
}

static void test_empty_parts(void)
{
    /* An empty line then the delimiter; a header line's CRLF, then the delimiter's (read as an
     * empty line: nothing); an empty line, then CRLF as the data (the next CRLF is the
     * delimiter's). */
    IG_CHECK_EQ_INT(parse("--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\n"
                          "\r\n--XyZ\r\nContent-Disposition: form-data; name=b\r\n"
                          "\r\n--XyZ\r\nContent-Disposition: form-data; name=c\r\n\r\n\r\n"
                          "\r\n--XyZ--"),
                    IG_OK);
    IG_CHECK_EQ_INT(n, 3);
    if (n == 3) {
        IG_CHECK_EQ_INT(parts[0].len, 0);
        IG_CHECK_EQ_INT(parts[1].len, 0);
        CHECK_SLICE(parts[2].name, parts[2].name_len, "c");
        CHECK_SLICE(parts[2].data, parts[2].len, "\r\n");
    }
    /* A header block ended directly by the closing delimiter. */
    IG_CHECK_EQ_INT(parse("--XyZ\r\nContent-Disposition: form-data; name=a\r\n--XyZ--"), IG_OK);
    IG_CHECK_EQ_INT(n, 1);
    IG_CHECK_EQ_INT(parts[0].len, 0);
    /* No parts at all: a body that is only its closing delimiter. */
    IG_CHECK_EQ_INT(parse("--XyZ--\r\n"), IG_OK);
    IG_CHECK_EQ_INT(n, 0);
    IG_CHECK_EQ_INT(parse("preamble\r\n--XyZ--"), IG_OK);
    IG_CHECK_EQ_INT(n, 0);
}

static void test_data_that_looks_like_a_boundary(void)
{
    static const char data[] = "\r\n--XY\r\n--Xy\r\n-XyZ\r\n--XyZW\r\n--XyZ-x\r\nX--XyZ\r\n\n--XyZ\r\r\n--XyZ \tx"
                               "--XyZ--\r\n\r\n--\r\n--XyZZ--\r\n\0\r\n";
    char body[512];
    size_t len = 0;
    const char *head = "--XyZ\r\nContent-Disposition: form-data; name=f; filename=f.bin\r\n\r\n";
    memcpy(body, head, strlen(head));
    len += strlen(head);
    memcpy(body + len, data, sizeof data - 1);
    len += sizeof data - 1;
    memcpy(body + len, "\r\n--XyZ--", 9);
    len += 9;
    IG_CHECK_EQ_INT(parse_n(CT, body, len, NULL), IG_OK);
    IG_CHECK_EQ_INT(n, 1);
    IG_CHECK_EQ_INT(parts[0].len, sizeof data - 1);
    IG_CHECK_EQ_MEM(parts[0].data, data, sizeof data - 1);
}

static void test_preamble_epilogue_and_padding(void)
{
    IG_CHECK_EQ_INT(parse("This is the preamble.\r\n--XyZ is not a boundary line\r\n"
                          "--XyZ \t \r\nContent-Disposition: form-data; name=a\r\n\r\nA"
                          "\r\n--XyZ\t\r\nContent-Disposition: form-data; name=b\r\n\r\nB"
                          "\r\n--XyZ--  \r\nThe epilogue\r\n--XyZ\r\nContent-Disposition: form-data; name=c\r\n\r\n"),
                    IG_OK);
    IG_CHECK_EQ_INT(n, 2);
    if (n == 2) {
        CHECK_SLICE(parts[0].data, parts[0].len, "A");
        CHECK_SLICE(parts[1].data, parts[1].len, "B");
    }
    /* Other headers are ignored; the transfer encodings that change nothing are accepted. */
    IG_CHECK_EQ_INT(parse("--XyZ\r\nX-Note: hi\r\nContent-Transfer-Encoding: BINARY\r\n"
                          "Content-Disposition: form-data; name=a\r\nContent-Length: 1\r\n\r\nA\r\n--XyZ--"),
                    IG_OK);
    IG_CHECK_EQ_INT(n, 1);
}

static void test_quoted_boundary_with_space(void)
{
    static const char body[] = "--a b\r\nContent-Disposition: form-data; name=x\r\n\r\nv\r\n--a b--";
    IG_CHECK_EQ_INT(parse_n("multipart/form-data; boundary=\"a b\"", body, sizeof body - 1, NULL), IG_OK);
    IG_CHECK_EQ_INT(n, 1);
    IG_CHECK_EQ_INT(parts[0].len, 1);
}

/* Bodies captured from real clients (the fuzz seeds: the official openai npm client's
 * images.edit with and without a mask, Node's FormData, curl -F, urllib3) and two written by
 * hand: the Content-Type on the first line (empty: CT), then the body. */
static int parse_seed(const char *name)
{
    char path[2048];
    snprintf(path, sizeof path, "%s/tests/fuzz/corpus/multipart/%s", ig_test_source_dir(), name);
    size_t len = 0;
    char *data = ig_test_read_file(path, &len);
    IG_CHECK(data != NULL);
    if (!data)
        return 0;
    char *nl = memchr(data, '\n', len);
    IG_CHECK(nl != NULL);
    if (!nl) {
        free(data);
        return 0;
    }
    *nl = '\0';
    ig_err e = parse_n(nl > data ? data : CT, nl + 1, len - (size_t)(nl + 1 - data), NULL); /* empty: CT */
    if (e)
        ig_test_fail(__FILE__, __LINE__, "%s: %s", name, err.message);
    free(data);
    return e == IG_OK;
}

static void test_real_client_bodies(void)
{
    static const char *const names[] = {"model", "image[]", "image[]", "mask", "prompt", "response_format",
                                        "output_format"};
    if (parse_seed("openai_edit_mask")) {
        IG_CHECK_EQ_INT(n, 7);
        for (size_t i = 0; i < n && i < 7; i++)
            CHECK_SLICE(parts[i].name, parts[i].name_len, names[i]);
        CHECK_SLICE(parts[2].filename, parts[2].filename_len, "b %22quoted%22.png");
        CHECK_SLICE(parts[3].content_type, parts[3].content_type_len, "image/png");
        IG_CHECK(parts[1].len > 8 && memcmp(parts[1].data, "\x89PNG\r\n\x1a\n", 8) == 0);
        CHECK_SLICE(parts[4].data, parts[4].len, "fill the \r\n hole");
    }
    if (parse_seed("openai_edit")) {
        IG_CHECK_EQ_INT(n, 5);
        CHECK_SLICE(parts[1].filename, parts[1].filename_len, "image.png");
    }
    if (parse_seed("undici_formdata")) {
        IG_CHECK_EQ_INT(n, 3);
        CHECK_SLICE(parts[0].filename, parts[0].filename_len, "na\xc3\xafve \\ name.png");
        /* Node leaves out an empty filename: a file part told by its type only. */
        IG_CHECK(parts[2].filename == NULL);
        CHECK_SLICE(parts[2].content_type, parts[2].content_type_len, "application/octet-stream");
    }
    if (parse_seed("curl_form")) {
        IG_CHECK_EQ_INT(n, 4);
        CHECK_SLICE(parts[1].filename, parts[1].filename_len, "m %22a%22 sk.png");
    }
    if (parse_seed("urllib3_form"))
        IG_CHECK_EQ_INT(n, 3);
    if (parse_seed("edges")) {
        IG_CHECK_EQ_INT(n, 3);
        CHECK_SLICE(parts[0].name, parts[0].name_len, "a\"b\\c");
        CHECK_SLICE(parts[0].filename, parts[0].filename_len, "\xe6\x97\xa5.png");
        CHECK_SLICE(parts[2].filename, parts[2].filename_len, "caf\xc3\xa9");
    }
    if (parse_seed("quoted_boundary"))
        IG_CHECK_EQ_INT(n, 1);
}

/* ---- malformed bodies --------------------------------------------------------------------- */

static void test_content_type_errors(void)
{
    static const char body[] = "--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\nA\r\n--XyZ--";
    IG_CHECK_EQ_INT(parse_n("multipart/form-data", body, sizeof body - 1, NULL), IG_ERR_INVALID_ARG);
    CHECK_ERROR(IG_ERR_INVALID_ARG, "the Content-Type multipart/form-data has no boundary");
    IG_CHECK_EQ_INT(parse_n("multipart/mixed; boundary=XyZ", body, sizeof body - 1, NULL), IG_ERR_INVALID_ARG);
    CHECK_ERROR(IG_ERR_INVALID_ARG, "the Content-Type \"multipart/mixed\" is not multipart/form-data");
    IG_CHECK_EQ_INT(parse_n(NULL, body, sizeof body - 1, NULL), IG_ERR_INVALID_ARG);
    CHECK_ERROR(IG_ERR_INVALID_ARG, "no Content-Type");
}

static void test_malformed_bodies(void)
{
    static const struct {
        const char *body, *phrase;
    } cases[] = {
        {"", "the multipart body is empty"},
        {"just text", "does not contain its boundary line \"--XyZ\""},
        {"--XyZ", "ends without its closing delimiter \"--XyZ--\""},
        {"--XyZ\r\n", "ends inside the headers of part 1"},
        {"--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\nA", "ends inside the part \"a\", without its closing delimiter \"--XyZ--\""},
        {"--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\nA\r\n--XyZ", "ends without its closing delimiter"},
        {"--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\nA\r\n--XyZ\r\n", "ends inside the headers of part 2"},
        {"--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\nA\r\n--XyZ-", "ends inside the part \"a\""},
        {"--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\nA\r\n--XyZ--x", "ends inside the part \"a\""},
        {"--XyZ\r\nContent-Disposition: form-data; name=a", "ends inside the headers of part 1"},
        {"--XyZ\r\nContent-Disposition: form-data; name=a\r", "ends inside the headers of part 1"},
        {"--XyZ\r\n\r\nA\r\n--XyZ--", "part 1 has no Content-Disposition header"},
        {"--XyZ\r\nContent-Type: text/plain\r\n\r\nA\r\n--XyZ--", "part 1 has no Content-Disposition header"},
        {"--XyZ\r\n--XyZ--", "part 1 has no Content-Disposition header"},
        {"--XyZ\r\nContent-Disposition: form-data; filename=a.png\r\n\r\nA\r\n--XyZ--", "part 1 has no name in its Content-Disposition"},
        {"--XyZ\r\nContent-Disposition: form-data\r\n\r\nA\r\n--XyZ--", "part 1 has no name"},
        {"--XyZ\r\nContent-Disposition: form-data; name=\"\"\r\n\r\nA\r\n--XyZ--", "part 1 has an empty name"},
        {"--XyZ\r\nContent-Disposition: attachment; name=a\r\n\r\nA\r\n--XyZ--", "is \"attachment\", not form-data"},
        {"--XyZ\r\nContent-Disposition: form-data; name=a; name=b\r\n\r\nA\r\n--XyZ--", "has two name parameters"},
        {"--XyZ\r\nContent-Disposition: form-data; name=a; filename=x; Filename=y\r\n\r\nA\r\n--XyZ--", "has two Filename parameters"},
        {"--XyZ\r\nContent-Disposition: form-data; name=\"a\r\n\r\nA\r\n--XyZ--", "is malformed at byte"},
        {"--XyZ\r\nContent-Disposition: form-data; name\r\n\r\nA\r\n--XyZ--", "is malformed at byte"},
        {"--XyZ\r\nContent-Disposition: form-data, name=a\r\n\r\nA\r\n--XyZ--", "not form-data"},
        {"--XyZ\r\nContent-Disposition: form-data; name=a\r\nContent-Disposition: form-data; name=b\r\n\r\nA\r\n--XyZ--", "part 1 has two Content-Disposition headers"},
        {"--XyZ\r\nContent-Disposition: form-data; name=a\r\nContent-Type: a\r\ncontent-type: b\r\n\r\nA\r\n--XyZ--", "two Content-Type headers"},
        {"--XyZ\r\nContent-Disposition: form-data; name=a\r\nno colon here\r\n\r\nA\r\n--XyZ--", "a header line of part 1 is not \"Name: value\": \"no colon here\""},
        {"--XyZ\r\nContent-Disposition : form-data; name=a\r\n\r\nA\r\n--XyZ--", "is not \"Name: value\""},
        {"--XyZ\r\nContent-Disposition: form-data;\r\n name=a\r\n\r\nA\r\n--XyZ--", "obsolete line folding"},
        {"--XyZ\r\nContent-Disposition: form-data; name=a\nX: y\r\n\r\nA\r\n--XyZ--", "ends in a bare LF; multipart/form-data lines end in CRLF"},
        {"--XyZ\r\nContent-Disposition: form-data; name=a\rX: y\r\n\r\nA\r\n--XyZ--", "ends in a bare CR"},
        {"--XyZ\r\nContent-Disposition: form-data; name=a\x01\r\n\r\nA\r\n--XyZ--", "contain the control byte 0x01"},
        {"--XyZ\r\nContent-Disposition: form-data; name=\"a\xff\"\r\n\r\nA\r\n--XyZ--", "the name of part 1 is not UTF-8 text"},
        {"--XyZ\r\nContent-Disposition: form-data; name=a; filename=\"\xc0\xaf\"\r\n\r\nA\r\n--XyZ--", "the filename of part 1 is not UTF-8"},
        {"--XyZ\r\nContent-Disposition: form-data; name=a\r\nContent-Type: image/\xed\xa0\x80\r\n\r\nA\r\n--XyZ--", "the Content-Type of part 1 is not UTF-8"},
        {"--XyZ\r\nContent-Disposition: form-data; name=a\r\nContent-Transfer-Encoding: base64\r\n\r\nQQ==\r\n--XyZ--", "Content-Transfer-Encoding \"base64\""},
        {"--XyZ\nContent-Disposition: form-data; name=a\n\nA\n--XyZ--\n", "the boundary line at byte 0 ends in a bare LF"},
        {"--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\nA\r\n--XyZ\n", "the boundary line at byte 52 ends in a bare LF"},
        {"--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\nA\r\n--XyZ--\n", "ends in a bare LF or CR"},
        {"--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\nA\r\n--XyZ\rx", "ends in a bare LF or CR"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ig_err e = parse(cases[i].body);
        IG_CHECK(e == IG_ERR_PARSE);
        IG_CHECK_EQ_INT(n, 0);
        if (!strstr(err.message, cases[i].phrase))
            ig_test_fail(__FILE__, __LINE__, "case %zu: \"%s\" does not say \"%s\"", i, err.message,
                         cases[i].phrase);
    }
}

/* Every prefix of a valid body is refused (it lacks its closing delimiter) without reading past
 * its end; every prefix that ends after the closing delimiter parses to the same parts. */
static void test_every_truncation(void)
{
    static const char body[] = "pre\r\n--XyZ\r\nContent-Disposition: form-data; name=\"i\\\"m\"; filename=a.png\r\n"
                               "Content-Type: image/png\r\n\r\n\x89PNG\r\n--Xy\r\n"
                               "\r\n--XyZ\r\nContent-Disposition: form-data; name=p\r\n\r\nhi"
                               "\r\n--XyZ--\r\nepi";
    size_t close_end = sizeof body - 1 - strlen("\r\nepi");
    for (size_t len = 0; len < sizeof body - 1; len++) {
        ig_err e = parse_n(CT, body, len, NULL);
        if (len >= close_end) {
            IG_CHECK_EQ_INT(e, IG_OK);
            IG_CHECK_EQ_INT(n, 2);
        } else {
            IG_CHECK(e == IG_ERR_PARSE);
            IG_CHECK(err.message[0] != '\0');
        }
    }
}

/* ---- limits ---------------------------------------------------------------------------------- */

static void test_limit_parts(void)
{
    static const char body[] = "--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\n1"
                               "\r\n--XyZ\r\nContent-Disposition: form-data; name=b\r\n\r\n2"
                               "\r\n--XyZ\r\nContent-Disposition: form-data; name=c\r\n\r\n3\r\n--XyZ--";
    ig_multipart_limits lim = {.max_parts = 3};
    IG_CHECK_EQ_INT(parse_n(CT, body, sizeof body - 1, &lim), IG_OK);
    IG_CHECK_EQ_INT(n, 3);
    lim.max_parts = 2;
    IG_CHECK_EQ_INT(parse_n(CT, body, sizeof body - 1, &lim), IG_ERR_TOO_LARGE);
    CHECK_ERROR(IG_ERR_TOO_LARGE, "the multipart body has more than 2 parts");
    /* The array's size caps a larger limit. */
    lim.max_parts = 100;
    ig_multipart_part two[2];
    ig_error_clear(&err);
    IG_CHECK_EQ_INT(ig_multipart_parse(CT, body, sizeof body - 1, &lim, two, 2, &n, &err), IG_ERR_TOO_LARGE);
    CHECK_ERROR(IG_ERR_TOO_LARGE, "more than 2 parts");
}

static void test_limit_part_bytes(void)
{
    static const char body[] = "--XyZ\r\nContent-Disposition: form-data; name=prompt\r\n\r\nabc"
                               "\r\n--XyZ\r\nContent-Disposition: form-data; name=\"image\"; filename=x.png\r\n\r\n0123456789"
                               "\r\n--XyZ--";
    ig_multipart_limits lim = {.max_part_bytes = 10};
    IG_CHECK_EQ_INT(parse_n(CT, body, sizeof body - 1, &lim), IG_OK);
    IG_CHECK_EQ_INT(n, 2);
    lim.max_part_bytes = 9;
    IG_CHECK_EQ_INT(parse_n(CT, body, sizeof body - 1, &lim), IG_ERR_TOO_LARGE);
    CHECK_ERROR(IG_ERR_TOO_LARGE, "the part \"image\" is larger than 9 bytes");
    /* Too large is told even when the body is also cut short after the limit. */
    IG_CHECK_EQ_INT(parse_n(CT, body, sizeof body - 1 - 9, &lim), IG_ERR_TOO_LARGE);
    CHECK_ERROR(IG_ERR_TOO_LARGE, "the part \"image\" is larger than 9 bytes");
    lim.max_part_bytes = 2;
    IG_CHECK_EQ_INT(parse_n(CT, body, sizeof body - 1, &lim), IG_ERR_TOO_LARGE);
    CHECK_ERROR(IG_ERR_TOO_LARGE, "the part \"prompt\" is larger than 2 bytes");
}

static void test_limit_header_bytes(void)
{
    /* The header block of the part, its empty line included. */
    static const char body[] = "--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\nA\r\n--XyZ--";
    size_t header = strlen("Content-Disposition: form-data; name=a\r\n\r\n");
    ig_multipart_limits lim = {.max_header_bytes = header};
    IG_CHECK_EQ_INT(parse_n(CT, body, sizeof body - 1, &lim), IG_OK);
    for (size_t cap = 1; cap < header; cap++) {
        lim.max_header_bytes = cap;
        IG_CHECK_EQ_INT(parse_n(CT, body, sizeof body - 1, &lim), IG_ERR_TOO_LARGE);
        char want[80];
        snprintf(want, sizeof want, "the headers of part 1 are longer than %zu bytes", cap);
        CHECK_ERROR(IG_ERR_TOO_LARGE, want);
    }
    /* The default: 8 KiB. */
    char big[9000];
    int len = snprintf(big, sizeof big, "--XyZ\r\nContent-Disposition: form-data; name=a\r\nX: %08190d\r\n\r\nA\r\n--XyZ--", 0);
    IG_CHECK_EQ_INT(parse_n(CT, big, (size_t)len, NULL), IG_ERR_TOO_LARGE);
    CHECK_ERROR(IG_ERR_TOO_LARGE, "longer than 8192 bytes");
}

static void test_limit_total_bytes(void)
{
    static const char body[] = "--XyZ\r\nContent-Disposition: form-data; name=a\r\n\r\nA\r\n--XyZ--";
    ig_multipart_limits lim = {.max_total_bytes = sizeof body - 1};
    IG_CHECK_EQ_INT(parse_n(CT, body, sizeof body - 1, &lim), IG_OK);
    lim.max_total_bytes--;
    IG_CHECK_EQ_INT(parse_n(CT, body, sizeof body - 1, &lim), IG_ERR_TOO_LARGE);
    char want[80];
    snprintf(want, sizeof want, "the multipart body is %zu bytes, more than the limit of %zu", sizeof body - 1,
             sizeof body - 2);
    CHECK_ERROR(IG_ERR_TOO_LARGE, want);
}

static void test_limit_decoded_names(void)
{
    char body[2000];
    char name[600];
    memset(name, 'n', sizeof name);
    memcpy(name, "\\\"", 2); /* one escape: the name is decoded into the part */
    name[IG_MULTIPART_DECODED_MAX + 1] = '\0';  /* decoded: 512 bytes, fits */
    snprintf(body, sizeof body, "--XyZ\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\nA\r\n--XyZ--", name);
    IG_CHECK_EQ_INT(parse(body), IG_OK);
    IG_CHECK_EQ_INT(parts[0].name_len, IG_MULTIPART_DECODED_MAX);
    name[IG_MULTIPART_DECODED_MAX + 1] = 'n';
    name[IG_MULTIPART_DECODED_MAX + 2] = '\0';
    snprintf(body, sizeof body, "--XyZ\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\nA\r\n--XyZ--", name);
    IG_CHECK_EQ_INT(parse(body), IG_ERR_TOO_LARGE);
    CHECK_ERROR(IG_ERR_TOO_LARGE, "take more than 512 bytes once decoded");
    /* Without escapes a name is a slice: no such limit. */
    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    snprintf(body, sizeof body, "--XyZ\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\nA\r\n--XyZ--", name);
    IG_CHECK_EQ_INT(parse(body), IG_OK);
    IG_CHECK_EQ_INT(parts[0].name_len, sizeof name - 1);
}

static void test_arguments(void)
{
    ig_error_clear(&err);
    IG_CHECK_EQ_INT(ig_multipart_parse(CT, NULL, 4, NULL, parts, 8, &n, &err), IG_ERR_INVALID_ARG);
    IG_CHECK_EQ_INT(ig_multipart_parse(CT, "", 0, NULL, parts, 8, NULL, &err), IG_ERR_INVALID_ARG);
    IG_CHECK_EQ_INT(ig_multipart_parse(CT, "--XyZ--", 7, NULL, NULL, 0, &n, NULL), IG_OK);
    IG_CHECK_EQ_INT(n, 0);
    /* No ig_error: the code alone. */
    IG_CHECK_EQ_INT(ig_multipart_parse(CT, "--XyZ\r\n", 7, NULL, parts, 8, &n, NULL), IG_ERR_PARSE);
}

int main(void)
{
    IG_RUN(test_boundary_forms);
    IG_RUN(test_boundary_errors);
    IG_RUN(test_sentences_quote_safely);
    IG_RUN(test_openai_edit_form);
    IG_RUN(test_quoted_names_and_filenames);
    IG_RUN(test_ext_filename);
    IG_RUN(test_repeated_names_are_kept_in_order);
    IG_RUN(test_empty_parts);
    IG_RUN(test_data_that_looks_like_a_boundary);
    IG_RUN(test_preamble_epilogue_and_padding);
    IG_RUN(test_quoted_boundary_with_space);
    IG_RUN(test_real_client_bodies);
    IG_RUN(test_content_type_errors);
    IG_RUN(test_malformed_bodies);
    IG_RUN(test_every_truncation);
    IG_RUN(test_limit_parts);
    IG_RUN(test_limit_part_bytes);
    IG_RUN(test_limit_header_bytes);
    IG_RUN(test_limit_total_bytes);
    IG_RUN(test_limit_decoded_names);
    IG_RUN(test_arguments);
    free(body_copy);
    return ig_test_finish("multipart");
}
