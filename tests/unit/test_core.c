/* test_core.c - buffers, errors, headers, randomness. */
#include <stdlib.h>

#include "core/buf.h"
#include "core/error.h"
#include "core/headers.h"
#include "core/random.h"
#include "testlib.h"

static void test_buf_appends_and_terminates(void)
{
    ig_buf b;
    ig_buf_init(&b, 0);
    IG_CHECK_EQ_STR(ig_buf_cstr(&b), "");
    IG_CHECK_EQ_INT(ig_buf_append_str(&b, "abc"), IG_OK);
    IG_CHECK_EQ_INT(ig_buf_appendf(&b, "-%d", 42), IG_OK);
    IG_CHECK_EQ_STR(ig_buf_cstr(&b), "abc-42");
    IG_CHECK_EQ_INT(b.len, 6);
    ig_buf_free(&b);
}

static void test_buf_cap_refuses_growth(void)
{
    ig_buf b;
    ig_buf_init(&b, 4);
    IG_CHECK_EQ_INT(ig_buf_append_str(&b, "abcd"), IG_OK);
    IG_CHECK_EQ_INT(ig_buf_append_char(&b, 'e'), IG_ERR_TOO_LARGE);
    IG_CHECK_EQ_STR(ig_buf_cstr(&b), "abcd");
    ig_buf_free(&b);
}

static void test_header_list_lowercases_and_trims(void)
{
    ig_header_list l;
    ig_header_list_init(&l);
    IG_CHECK_EQ_INT(ig_header_list_add(&l, "X-Amzn-ErrorType", 16, "  Throttling \r", 14), IG_OK);
    IG_CHECK_EQ_STR(l.items[0].name, "x-amzn-errortype");
    IG_CHECK_EQ_STR(ig_header_list_get(&l, "X-AMZN-ERRORTYPE"), "Throttling");
    IG_CHECK(ig_header_list_get(&l, "missing") == NULL);
    ig_header_list_free(&l);
}

static void test_uuid_shape(void)
{
    char a[37], b[37];
    IG_CHECK_EQ_INT(ig_uuid4(a), IG_OK);
    IG_CHECK_EQ_INT(ig_uuid4(b), IG_OK);
    IG_CHECK_EQ_INT(strlen(a), 36);
    IG_CHECK(a[14] == '4');
    IG_CHECK(strchr("89ab", a[19]) != NULL);
    IG_CHECK(strcmp(a, b) != 0);
}

static void test_error_names(void)
{
    IG_CHECK_EQ_STR(ig_err_name(IG_ERR_TIMEOUT), "timeout");
    IG_CHECK_EQ_STR(ig_err_name((ig_err)999), "unknown");
    ig_error e;
    IG_CHECK_EQ_INT(ig_error_set(&e, IG_ERR_REGION, "region \"%s\" is malformed", "x"), IG_ERR_REGION);
    IG_CHECK_EQ_STR(e.message, "region \"x\" is malformed");
}

int main(void)
{
    IG_RUN(test_buf_appends_and_terminates);
    IG_RUN(test_buf_cap_refuses_growth);
    IG_RUN(test_header_list_lowercases_and_trims);
    IG_RUN(test_uuid_shape);
    IG_RUN(test_error_names);
    return ig_test_finish("core");
}
