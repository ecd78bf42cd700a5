/* stats.h - counters a test reads through GET /_control/stats to prove what the
 * server saw: how many requests came, how many were authenticated, how many reached the model
 * (authenticated, known and allowed model, valid body, not blocked by the content filter), how
 * many faults were injected, and the answers by status and by error code.
 *
 * Calls that reached the model are also timed: each one's start and end (epoch milliseconds)
 * goes into a ring of the last BL_STATS_CALLS calls, and the most calls in progress at once is
 * kept, so that a test can prove that calls overlapped.
 */
#ifndef BEDROCK_LOCAL_STATS_H
#define BEDROCK_LOCAL_STATS_H

#include <jansson.h>
#include <stdint.h>

#include "faults.h"

typedef enum {
    BL_STAT_REQUESTS,        /* every request but the control endpoints' */
    BL_STAT_INVOKE_REQUESTS, /* requests for POST /model/{id}/invoke */
    BL_STAT_AUTHENTICATED,   /* ... whose signature verified */
    BL_STAT_REACHED_MODEL,   /* ... that passed every check and reached the fault stage */
    BL_STAT_SUCCEEDED,       /* ... answered 200 with images */
    BL_STAT_IMAGES,          /* pictures returned or cut short */
    BL_STAT_CACHE_HITS,      /* pictures served from the cache */
    BL_STAT_CONTENT_BLOCKED, /* prompts refused by the content filter */
    BL_STAT_CONTROL,         /* control endpoint requests */
    BL_STAT_COUNT
} bl_stat;

#define BL_STATS_CALLS 256

typedef struct bl_stats bl_stats;

bl_stats *bl_stats_new(void);
void bl_stats_free(bl_stats *s);
void bl_stats_add(bl_stats *s, bl_stat which, uint64_t n);
void bl_stats_fault(bl_stats *s, bl_fault_kind kind);
/* One answer: its status and, for errors, its code. Reset connections count as status 0. */
void bl_stats_answer(bl_stats *s, int status, const char *error_code);
/* A call that reached the model begins: it counts as in flight. Returns its start, epoch ms. */
int64_t bl_stats_call_begin(bl_stats *s);
/* ... and ends, answered with status (0: reset), images pictures and fault (BL_FAULT_NONE for
 * none). model is a static string: the id as called. */
void bl_stats_call_end(bl_stats *s, const char *model, int64_t start_ms, int status,
                       unsigned images, bl_fault_kind fault);
/* {"requests_total": n, ..., "faults": {...}, "by_status": {"200": n}, "by_error": {...},
 *  "in_flight": n, "max_in_flight": n,
 *  "calls": [{"model", "start_ms", "end_ms", "status", "images", "fault"}, ...] (oldest first)} */
json_t *bl_stats_json(bl_stats *s);
void bl_stats_reset(bl_stats *s);

#endif
