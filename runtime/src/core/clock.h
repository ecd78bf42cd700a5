/* clock.h - wall-clock and monotonic time in milliseconds.
 *
 * Deadlines in this code base are absolute wall-clock epoch milliseconds, the unit of
 * Lambda-Runtime-Deadline-Ms; 0 means "no deadline". Durations use the monotonic clock.
 */
#ifndef IG_CLOCK_H
#define IG_CLOCK_H

#include <stdint.h>
#include <time.h>

int64_t ig_now_ms(void);           /* CLOCK_REALTIME, epoch ms */
int64_t ig_mono_ms(void);          /* CLOCK_MONOTONIC, ms */
double ig_mono_s(void);            /* CLOCK_MONOTONIC, seconds with sub-ms precision */
/* Milliseconds left until deadline_ms (may be negative); INT64_MAX when deadline_ms is 0. */
int64_t ig_remaining_ms(int64_t deadline_ms);
/* "2026-11-29T14:20:55.123Z" into out (at least 25 bytes). */
void ig_format_rfc3339_ms(int64_t epoch_ms, char *out, size_t outlen);
/* Sleeps for ms milliseconds, resuming after signals. */
void ig_sleep_ms(int64_t ms);

#endif
