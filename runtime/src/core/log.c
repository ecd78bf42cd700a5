/* log.c - JSON log lines on stdout. */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/clock.h"

static ig_log_level ig_log_min = IG_LOG_INFO;
static char ig_log_request_id[128];
static ig_log_writer ig_log_write;

static const char *const ig_level_names[] = {"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"};

static int level_parse(const char *s, ig_log_level *out)
{
    for (int i = 0; i <= IG_LOG_FATAL; i++) {
        if (strcasecmp(s, ig_level_names[i]) == 0) {
            *out = (ig_log_level)i;
            return 1;
        }
    }
    if (strcasecmp(s, "WARNING") == 0) {
        *out = IG_LOG_WARN;
        return 1;
    }
    return 0;
}

void ig_log_init(void)
{
    const char *s = getenv("IMAGEGEN_LOG_LEVEL");
    if (!s || !*s)
        s = getenv("AWS_LAMBDA_LOG_LEVEL");
    ig_log_level lvl;
    if (s && *s && level_parse(s, &lvl))
        ig_log_min = lvl;
}

void ig_log_set_level(ig_log_level level)
{
    ig_log_min = level;
}

int ig_log_enabled(ig_log_level level)
{
    return level >= ig_log_min;
}

void ig_log_set_request_id(const char *request_id)
{
    if (!request_id) {
        ig_log_request_id[0] = '\0';
        return;
    }
    snprintf(ig_log_request_id, sizeof ig_log_request_id, "%s", request_id);
}

void ig_log_set_writer(ig_log_writer writer)
{
    ig_log_write = writer;
}

void ig_log_raw_json(json_t *obj)
{
    if (!obj)
        return;
    char *line = json_dumps(obj, JSON_COMPACT | JSON_ENSURE_ASCII);
    if (line && ig_log_write) {
        ig_log_write(line, strlen(line));
    } else if (line) {
        flockfile(stdout); /* one whole line per record, even from several threads */
        fputs(line, stdout);
        fputc('\n', stdout);
        fflush(stdout);
        funlockfile(stdout);
    }
    free(line);
    json_decref(obj);
}

void ig_log(ig_log_level level, const char *message, json_t *fields)
{
    if (!ig_log_enabled(level)) {
        json_decref(fields);
        return;
    }
    char ts[40];
    ig_format_rfc3339_ms(ig_now_ms(), ts, sizeof ts);
    json_t *line = json_object();
    if (!line) {
        json_decref(fields);
        return;
    }
    json_object_set_new(line, "timestamp", json_string(ts));
    json_object_set_new(line, "level", json_string(ig_level_names[level]));
    if (ig_log_request_id[0])
        json_object_set_new(line, "requestId", json_string(ig_log_request_id));
    json_object_set_new(line, "message", json_string(message ? message : ""));
    if (!json_object_get(line, "message")) /* message was not valid UTF-8 */
        json_object_set_new(line, "message", json_string("(message not valid UTF-8)"));
    if (json_is_object(fields)) {
        const char *k;
        json_t *v;
        json_object_foreach(fields, k, v)
        {
            if (!json_object_get(line, k))
                json_object_set(line, k, v);
        }
    }
    json_decref(fields);
    ig_log_raw_json(line);
}

void ig_logf(ig_log_level level, const char *fmt, ...)
{
    if (!ig_log_enabled(level))
        return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ig_log(level, msg, NULL);
}
