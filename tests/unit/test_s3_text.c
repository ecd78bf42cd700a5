/* test_s3_text.c - S3 key validation, metadata values as RFC 2047 encoded words and back,
 * and S3's XML error documents (including garbage). */
#include <stdlib.h>
#include <string.h>

#include "aws/s3.h"
#include "testlib.h"

static void check_key_ok(const char *key)
{
    ig_error err;
    ig_error_clear(&err);
    if (!ig_s3_key_valid(key, &err))
        ig_test_fail(__FILE__, __LINE__, "key \"%s\" rejected: %s", key, err.message);
}

static void check_key_bad(const char *key, const char *expect)
{
    ig_error err;
    ig_error_clear(&err);
    if (ig_s3_key_valid(key, &err)) {
        ig_test_fail(__FILE__, __LINE__, "a bad key was accepted (expected \"%s\")", expect);
        return;
    }
    IG_CHECK_EQ_INT(err.code, IG_ERR_BAD_KEY);
    if (!strstr(err.message, expect))
        ig_test_fail(__FILE__, __LINE__, "expected \"%s\" in \"%s\"", expect, err.message);
}

static void test_keys(void)
{
    check_key_ok("images/2026/11/29/0b5e.png");
    check_key_ok("caf\xc3\xa9/\xc3\xbc ber+plus=equals&amp.png");
    check_key_ok("emoji/\xf0\x9f\xa6\x8a.png");
    check_key_ok("a");
    check_key_ok("./../weird//path/");
    char max[1025];
    memset(max, 'k', 1024);
    max[1024] = '\0';
    check_key_ok(max);
    char over[1026];
    memset(over, 'k', 1025);
    over[1025] = '\0';
    check_key_bad(over, "1025 bytes long; the limit is 1024");
    check_key_bad(NULL, "empty");
    check_key_bad("", "empty");
    check_key_bad("a\nb", "control character (U+000A) at byte 1");
    check_key_bad("images/\r", "control character (U+000D) at byte 7");
    check_key_bad("\x01", "control character (U+0001) at byte 0");
    check_key_bad("del\x7f", "control character (U+007F) at byte 3");
    check_key_bad("ab\xc2\x85", "control character (U+0085) at byte 2");
    check_key_bad("\xff", "not valid UTF-8 at byte 0");
    check_key_bad("ok/\xc0\xaf", "not valid UTF-8 at byte 3");      /* overlong '/' */
    check_key_bad("x\xed\xa0\x80", "not valid UTF-8 at byte 1");     /* a surrogate */
    check_key_bad("xy\xe2\x82", "not valid UTF-8 at byte 2");        /* cut short */
    check_key_bad("\xf4\x90\x80\x80", "not valid UTF-8 at byte 0");  /* above U+10FFFF */
    check_key_bad("a\xe2\x28\xa1", "not valid UTF-8 at byte 1");
}

static char *encode(const char *v, ig_err *rc)
{
    ig_buf b;
    ig_buf_init(&b, 0);
    ig_error err;
    *rc = ig_s3_meta_encode(v, &b, &err);
    char *s = ig_buf_steal(&b, NULL);
    return s;
}

static char *decode(const char *v)
{
    ig_buf b;
    ig_buf_init(&b, 0);
    ig_s3_meta_decode(v, &b);
    return ig_buf_steal(&b, NULL);
}

static void check_encoding(const char *value, const char *expect_wire)
{
    ig_err rc;
    char *wire = encode(value, &rc);
    IG_CHECK_EQ_INT(rc, IG_OK);
    IG_CHECK_EQ_STR(wire, expect_wire);
    for (const char *p = wire; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
            ig_test_fail(__FILE__, __LINE__, "wire form of \"%s\" has byte 0x%02x", value, (unsigned char)*p);
    char *back = decode(wire);
    IG_CHECK_EQ_STR(back, value);
    free(wire);
    free(back);
}

static void test_metadata_encoding(void)
{
    check_encoding("a red fox", "a red fox");
    check_encoding("", "");
    check_encoding("h\xc3\xa9llo", "=?UTF-8?B?aMOpbGxv?=");
    check_encoding("line1\r\nX-Injected: 1", "=?UTF-8?B?bGluZTENClgtSW5qZWN0ZWQ6IDE=?=");
    check_encoding("tab\there", "=?UTF-8?B?dGFiCWhlcmU=?=");
    check_encoding(" leading", "=?UTF-8?B?IGxlYWRpbmc=?=");
    check_encoding("trailing ", "=?UTF-8?B?dHJhaWxpbmcg?=");
    check_encoding("looks =?UTF-8?B?aGk=?= encoded", "=?UTF-8?B?bG9va3MgPT9VVEYtOD9CP2FHaz0/PSBlbmNvZGVk?=");
    check_encoding("\xe6\x97\xa5\xe6\x9c\xac\xf0\x9f\xa6\x8a", "=?UTF-8?B?5pel5pys8J+mig==?=");
    ig_err rc;
    char *s = encode("bad \xff utf8", &rc);
    IG_CHECK_EQ_INT(rc, IG_ERR_BAD_KEY);
    free(s);
    ig_buf b;
    ig_buf_init(&b, 0);
    ig_error err;
    IG_CHECK_EQ_INT(ig_s3_meta_encode(NULL, &b, &err), IG_ERR_INVALID_ARG);
    ig_buf_free(&b);
}

static void check_decode(const char *wire, const char *expect)
{
    char *got = decode(wire);
    IG_CHECK_EQ_STR(got, expect);
    free(got);
}

static void test_metadata_decoding(void)
{
    check_decode("plain", "plain");
    check_decode("=?utf-8?b?aMOpbGxv?=", "h\xc3\xa9llo");
    check_decode("=?UTF-8?Q?caf=C3=A9_au_lait?=", "caf\xc3\xa9 au lait");
    check_decode("=?UTF-8?B?aMOp?= =?UTF-8?B?bGxv?=", "h\xc3\xa9llo"); /* S3 may split long values */
    check_decode("=?US-ASCII?Q?a_b?=", "a b");
    /* Anything that is not entirely encoded words stays as it is. */
    check_decode("=?UTF-8?B?aGk=?= trailing", "=?UTF-8?B?aGk=?= trailing");
    check_decode("=?ISO-8859-1?Q?caf=E9?=", "=?ISO-8859-1?Q?caf=E9?=");
    check_decode("=?UTF-8?X?abc?=", "=?UTF-8?X?abc?=");
    check_decode("=?UTF-8?B?***?=", "=?UTF-8?B?***?=");
    check_decode("=?UTF-8?Q?bad=G1?=", "=?UTF-8?Q?bad=G1?=");
    check_decode("=?UTF-8?Q?cut=C?=", "=?UTF-8?Q?cut=C?=");
    check_decode("=?UTF-8?B?aGk=", "=?UTF-8?B?aGk=");
    check_decode("=?", "=?");
    check_decode("=?UTF-8?", "=?UTF-8?");
    check_decode("", "");
}

static void test_metadata_round_trip_every_byte(void)
{
    /* Every printable and control byte, and multi-byte characters, survive the trip. */
    char v[300];
    size_t n = 0;
    for (int c = 1; c < 128; c++)
        v[n++] = (char)c;
    memcpy(v + n, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9);
    n += 9;
    v[n] = '\0';
    ig_err rc;
    char *wire = encode(v, &rc);
    IG_CHECK_EQ_INT(rc, IG_OK);
    IG_CHECK(strncmp(wire, "=?UTF-8?B?", 10) == 0);
    char *back = decode(wire);
    IG_CHECK_EQ_STR(back, v);
    free(wire);
    free(back);
}

static void check_xml(const char *body, const char *code, const char *message)
{
    char c[64], m[256];
    ig_s3_parse_error(body, body ? strlen(body) : 0, c, sizeof c, m, sizeof m);
    if (strcmp(c, code) != 0 || strcmp(m, message) != 0)
        ig_test_fail(__FILE__, __LINE__, "xml %.60s: got (\"%s\", \"%s\"), expected (\"%s\", \"%s\")",
                     body ? body : "NULL", c, m, code, message);
}

static void test_xml_errors(void)
{
    check_xml("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchBucket</Code>"
              "<Message>The specified bucket does not exist</Message><BucketName>b</BucketName>"
              "<RequestId>4442587FB7D0A2F9</RequestId></Error>",
              "NoSuchBucket", "The specified bucket does not exist");
    check_xml("<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>", "SlowDown",
              "Please reduce your request rate.");
    check_xml("<Error><Message>a &lt;b&gt; &amp; &quot;c&quot; &apos;d&apos; &#233; &#x1F98A;</Message></Error>", "",
              "a <b> & \"c\" 'd' \xc3\xa9 \xf0\x9f\xa6\x8a");
    check_xml("<Error><Code>X</Code><Message>bad &#0; &#x110000; &bogus; &#12 &</Message></Error>", "X",
              "bad ? ? &bogus; &#12 &");
    check_xml("<Error><Code>X</Code><Message>two\r\nlines</Message></Error>", "X", "two  lines");
    check_xml("<Error><Code>Unclosed", "", "");
    check_xml("not xml at all", "", "");
    check_xml("", "", "");
    check_xml(NULL, "", "");
    check_xml("<Code></Code><Message></Message>", "", "");
    check_xml("<Code>A</Code><Code>B</Code>", "A", "");
    /* Truncation: output buffers are never overrun. */
    char c[4], m[5];
    const char *doc = "<Code>LongCode</Code><Message>&#x1F98A;&#x1F98A;</Message>";
    ig_s3_parse_error(doc, strlen(doc), c, sizeof c, m, sizeof m);
    IG_CHECK_EQ_STR(c, "Lon");
    IG_CHECK_EQ_STR(m, "\xf0\x9f\xa6\x8a");
    /* Random garbage: no crash, terminated output. */
    unsigned seed = 12345;
    for (int round = 0; round < 2000; round++) {
        char buf[200];
        size_t n = (size_t)(round % 199) + 1;
        for (size_t i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            static const char alphabet[] = "<>/&#;xCodeMsag0123456789ABCDEF\x01\xff";
            buf[i] = alphabet[(seed >> 16) % (sizeof alphabet - 1)];
        }
        char cc[16], mm[16];
        ig_s3_parse_error(buf, n, cc, sizeof cc, mm, sizeof mm);
        IG_CHECK(strlen(cc) < sizeof cc && strlen(mm) < sizeof mm);
    }
}

int main(void)
{
    IG_RUN(test_keys);
    IG_RUN(test_metadata_encoding);
    IG_RUN(test_metadata_decoding);
    IG_RUN(test_metadata_round_trip_every_byte);
    IG_RUN(test_xml_errors);
    return ig_test_finish("s3_text");
}
