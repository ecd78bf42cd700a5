/* testlib.h - a minimal test harness: the tests read as a list of named checks.
 *
 *   static void test_decode_padding(void) { IG_CHECK_EQ_INT(decode("QQ=="), 1); }
 *   int main(void) { IG_RUN(test_decode_padding); return ig_test_finish("base64"); }
 *
 * Each failed check prints file:line and the values; ig_test_finish prints
 * "<suite>: N passed, M failed" and returns the exit status.
 */
#ifndef IG_TESTLIB_H
#define IG_TESTLIB_H

#include <stddef.h>
#include <stdio.h>
#include <string.h>

extern int ig_test_checks_failed_in_current;
extern int ig_test_passed;
extern int ig_test_failed;

void ig_test_begin(const char *name);
void ig_test_end(const char *name);
int ig_test_finish(const char *suite);
void ig_test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Path helpers for tests: $IMAGEGEN_SOURCE_DIR, $IMAGEGEN_BUILD_DIR, $IMAGEGEN_SHARED_DIR
 * (falling back to paths relative to the current directory). */
const char *ig_test_source_dir(void);
const char *ig_test_build_dir(void);
const char *ig_test_shared_dir(void);
/* Reads a whole file (NUL-terminated); NULL if missing. Caller frees. */
char *ig_test_read_file(const char *path, size_t *len);

#define IG_RUN(fn)                                                                                 \
    do {                                                                                           \
        ig_test_begin(#fn);                                                                        \
        fn();                                                                                      \
        ig_test_end(#fn);                                                                          \
    } while (0)

#define IG_CHECK(cond)                                                                             \
    do {                                                                                           \
        if (!(cond))                                                                               \
            ig_test_fail(__FILE__, __LINE__, "check failed: %s", #cond);                           \
    } while (0)

#define IG_CHECK_EQ_INT(a, b)                                                                      \
    do {                                                                                           \
        long long ig_a_ = (long long)(a), ig_b_ = (long long)(b);                                  \
        if (ig_a_ != ig_b_)                                                                        \
            ig_test_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b, ig_a_, ig_b_);      \
    } while (0)

#define IG_CHECK_EQ_STR(a, b)                                                                      \
    do {                                                                                           \
        const char *ig_a_ = (a), *ig_b_ = (b);                                                     \
        if (!ig_a_ || !ig_b_ || strcmp(ig_a_, ig_b_) != 0)                                         \
            ig_test_fail(__FILE__, __LINE__, "%s == %s:\n  got:      \"%s\"\n  expected: \"%s\"", \
                         #a, #b, ig_a_ ? ig_a_ : "(null)", ig_b_ ? ig_b_ : "(null)");              \
    } while (0)

#define IG_CHECK_EQ_MEM(a, b, n)                                                                   \
    do {                                                                                           \
        if (memcmp((a), (b), (n)) != 0)                                                            \
            ig_test_fail(__FILE__, __LINE__, "%s and %s differ in their first %zu bytes", #a, #b,  \
                         (size_t)(n));                                                             \
    } while (0)

#endif
