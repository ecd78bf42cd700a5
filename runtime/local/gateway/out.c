/* out.c - serialised, line-atomic stdout with a hold-back until ready. */
#include "out.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"

/* Held-back output is bounded: a function that floods its init phase cannot exhaust memory. */
#define GW_OUT_HOLD_MAX (8u * 1024 * 1024)

static pthread_mutex_t gw_out_mu = PTHREAD_MUTEX_INITIALIZER;
static int gw_out_is_ready;
static ig_buf gw_out_held = {NULL, 0, 0, GW_OUT_HOLD_MAX};
static size_t gw_out_dropped;

static void gw_out_write_locked(const char *prefix, const char *line, size_t len)
{
    if (!gw_out_is_ready) {
        size_t need = (prefix ? strlen(prefix) : 0) + len + 1;
        if (gw_out_held.len + need > GW_OUT_HOLD_MAX) {
            gw_out_dropped++;
            return;
        }
        if (prefix)
            ig_buf_append_str(&gw_out_held, prefix);
        ig_buf_append(&gw_out_held, line, len);
        ig_buf_append_char(&gw_out_held, '\n');
        return;
    }
    if (prefix)
        fputs(prefix, stdout);
    fwrite(line, 1, len, stdout);
    fputc('\n', stdout);
    fflush(stdout);
}

void gw_out_line(const char *prefix, const char *line, size_t len)
{
    pthread_mutex_lock(&gw_out_mu);
    gw_out_write_locked(prefix, line, len);
    pthread_mutex_unlock(&gw_out_mu);
}

void gw_out_printf(const char *prefix, const char *fmt, ...)
{
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    gw_out_line(prefix, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

static void gw_out_json_line(const char *line, size_t len)
{
    gw_out_line(NULL, line, len);
}

void gw_out_start(void)
{
    ig_log_set_writer(gw_out_json_line);
}

void gw_log(ig_log_level level, const char *message, json_t *fields)
{
    if (!fields)
        fields = json_object();
    json_object_set_new(fields, "logger", json_string("imagegen-gateway"));
    ig_log(level, message, fields);
}

void gw_out_ready(const char *first_line)
{
    pthread_mutex_lock(&gw_out_mu);
    if (!gw_out_is_ready) {
        gw_out_is_ready = 1;
        gw_out_write_locked(NULL, first_line, strlen(first_line));
        if (gw_out_held.len)
            fwrite(gw_out_held.data, 1, gw_out_held.len, stdout);
        if (gw_out_dropped)
            printf("{\"level\":\"WARN\",\"logger\":\"imagegen-gateway\",\"message\":\"output lines dropped before ready\",\"count\":%zu}\n",
                   gw_out_dropped);
        fflush(stdout);
        ig_buf_free(&gw_out_held);
    }
    pthread_mutex_unlock(&gw_out_mu);
}

void gw_out_finish(void)
{
    pthread_mutex_lock(&gw_out_mu);
    if (!gw_out_is_ready && gw_out_held.len) {
        fwrite(gw_out_held.data, 1, gw_out_held.len, stdout);
        fflush(stdout);
    }
    ig_buf_free(&gw_out_held);
    gw_out_is_ready = 1;
    pthread_mutex_unlock(&gw_out_mu);
}
