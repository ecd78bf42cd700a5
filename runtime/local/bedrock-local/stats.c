/* stats.c - the counters, under one mutex; status and error-code tallies live in
 * JSON objects because their keys are open-ended. */
#include "stats.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"

typedef struct {
    const char *model; /* static */
    int64_t start_ms, end_ms;
    int status;
    unsigned images;
    bl_fault_kind fault;
} call_record;

struct bl_stats {
    pthread_mutex_t lock;
    uint64_t counts[BL_STAT_COUNT];
    uint64_t faults[BL_FAULT_COUNT];
    json_t *by_status;
    json_t *by_error;
    unsigned in_flight, max_in_flight;
    call_record calls[BL_STATS_CALLS]; /* a ring: next is the slot written next */
    size_t next, n_calls;
};

static const char *const stat_names[BL_STAT_COUNT] = {
    "requests_total", "invoke_requests", "authenticated",   "reached_model",    "succeeded",
    "images",         "cache_hits",      "content_blocked", "control_requests"};

bl_stats *bl_stats_new(void)
{
    bl_stats *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->by_status = json_object();
    s->by_error = json_object();
    if (!s->by_status || !s->by_error || pthread_mutex_init(&s->lock, NULL) != 0) {
        json_decref(s->by_status);
        json_decref(s->by_error);
        free(s);
        return NULL;
    }
    return s;
}

void bl_stats_free(bl_stats *s)
{
    if (!s)
        return;
    pthread_mutex_destroy(&s->lock);
    json_decref(s->by_status);
    json_decref(s->by_error);
    free(s);
}

void bl_stats_add(bl_stats *s, bl_stat which, uint64_t n)
{
    pthread_mutex_lock(&s->lock);
    s->counts[which] += n;
    pthread_mutex_unlock(&s->lock);
}

void bl_stats_fault(bl_stats *s, bl_fault_kind kind)
{
    if ((unsigned)kind >= BL_FAULT_COUNT)
        return;
    pthread_mutex_lock(&s->lock);
    s->faults[kind]++;
    pthread_mutex_unlock(&s->lock);
}

static void tally(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    json_object_set_new(obj, key, json_integer(v ? json_integer_value(v) + 1 : 1));
}

void bl_stats_answer(bl_stats *s, int status, const char *error_code)
{
    char key[16];
    snprintf(key, sizeof key, "%d", status);
    pthread_mutex_lock(&s->lock);
    tally(s->by_status, key);
    if (error_code)
        tally(s->by_error, error_code);
    pthread_mutex_unlock(&s->lock);
}

int64_t bl_stats_call_begin(bl_stats *s)
{
    int64_t now = ig_now_ms();
    pthread_mutex_lock(&s->lock);
    if (++s->in_flight > s->max_in_flight)
        s->max_in_flight = s->in_flight;
    pthread_mutex_unlock(&s->lock);
    return now;
}

void bl_stats_call_end(bl_stats *s, const char *model, int64_t start_ms, int status,
                       unsigned images, bl_fault_kind fault)
{
    call_record r = {model, start_ms, ig_now_ms(), status, images, fault};
    pthread_mutex_lock(&s->lock);
    s->in_flight--;
    s->calls[s->next] = r;
    s->next = (s->next + 1) % BL_STATS_CALLS;
    if (s->n_calls < BL_STATS_CALLS)
        s->n_calls++;
    pthread_mutex_unlock(&s->lock);
}

/* The ring, oldest first. Under the lock. */
static json_t *calls_json(const bl_stats *s)
{
    json_t *list = json_array();
    size_t first = (s->next + BL_STATS_CALLS - s->n_calls) % BL_STATS_CALLS;
    for (size_t i = 0; list && i < s->n_calls; i++) {
        const call_record *r = &s->calls[(first + i) % BL_STATS_CALLS];
        json_array_append_new(
            list, json_pack("{s:s,s:I,s:I,s:i,s:i,s:o}", "model", r->model, "start_ms",
                            (json_int_t)r->start_ms, "end_ms", (json_int_t)r->end_ms, "status",
                            r->status, "images", (int)r->images, "fault",
                            r->fault == BL_FAULT_NONE ? json_null()
                                                      : json_string(bl_fault_name(r->fault))));
    }
    return list;
}

json_t *bl_stats_json(bl_stats *s)
{
    json_t *doc = json_object(), *faults = json_object();
    if (!doc || !faults) {
        json_decref(doc);
        json_decref(faults);
        return NULL;
    }
    pthread_mutex_lock(&s->lock);
    for (int i = 0; i < BL_STAT_COUNT; i++)
        json_object_set_new(doc, stat_names[i], json_integer((json_int_t)s->counts[i]));
    for (int k = 0; k < BL_FAULT_COUNT; k++)
        json_object_set_new(faults, bl_fault_name((bl_fault_kind)k), json_integer((json_int_t)s->faults[k]));
    json_object_set_new(doc, "faults", faults);
    json_object_set_new(doc, "by_status", json_deep_copy(s->by_status));
    json_object_set_new(doc, "by_error", json_deep_copy(s->by_error));
    json_object_set_new(doc, "in_flight", json_integer(s->in_flight));
    json_object_set_new(doc, "max_in_flight", json_integer(s->max_in_flight));
    json_object_set_new(doc, "calls", calls_json(s));
    pthread_mutex_unlock(&s->lock);
    return doc;
}

void bl_stats_reset(bl_stats *s)
{
    pthread_mutex_lock(&s->lock);
    memset(s->counts, 0, sizeof s->counts);
    memset(s->faults, 0, sizeof s->faults);
    json_object_clear(s->by_status);
    json_object_clear(s->by_error);
    s->max_in_flight = s->in_flight; /* calls still in progress end after the reset */
    s->next = s->n_calls = 0;
    pthread_mutex_unlock(&s->lock);
}
