/* testlib.c - the test harness. */
#include "testlib.h"

#include <stdarg.h>
#include <stdlib.h>

int ig_test_checks_failed_in_current;
int ig_test_passed;
int ig_test_failed;

void ig_test_begin(const char *name)
{
    (void)name;
    ig_test_checks_failed_in_current = 0;
}

void ig_test_end(const char *name)
{
    if (ig_test_checks_failed_in_current) {
        ig_test_failed++;
        printf("FAIL %s\n", name);
    } else {
        ig_test_passed++;
        printf("ok   %s\n", name);
    }
    fflush(stdout);
}

int ig_test_finish(const char *suite)
{
    printf("%s: %d passed, %d failed\n", suite, ig_test_passed, ig_test_failed);
    return ig_test_failed || !ig_test_passed ? 1 : 0;
}

void ig_test_fail(const char *file, int line, const char *fmt, ...)
{
    ig_test_checks_failed_in_current++;
    fprintf(stdout, "  %s:%d: ", file, line);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stdout, fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
}

static const char *ig_env_or(const char *name, const char *fallback)
{
    const char *v = getenv(name);
    return v && *v ? v : fallback;
}

const char *ig_test_source_dir(void) { return ig_env_or("IMAGEGEN_SOURCE_DIR", "."); }
const char *ig_test_build_dir(void) { return ig_env_or("IMAGEGEN_BUILD_DIR", "build"); }
const char *ig_test_shared_dir(void) { return ig_env_or("IMAGEGEN_SHARED_DIR", "../shared"); }

char *ig_test_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    size_t r;
    while (buf && (r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += r;
        if (cap - n - 1 == 0) {
            char *p = realloc(buf, cap * 2);
            if (!p) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = p;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf) {
        buf[n] = '\0';
        if (len)
            *len = n;
    }
    return buf;
}
