/* out.h - the gateway's stdout: whole lines from many threads, in a useful order.
 *
 * Three kinds of lines share stdout: the gateway's own JSON log lines, the platform lines
 * Lambda writes for each invocation (START, END, REPORT, ...) and the functions' own output,
 * each line of an environment prefixed "[env-N] ". A line is never split by another. Until
 * the gateway is ready, lines are held back so that the first line a script reads is
 * "imagegen-gateway listening on http://127.0.0.1:PORT".
 */
#ifndef GW_OUT_H
#define GW_OUT_H

#include <jansson.h>
#include <stddef.h>

#include "core/log.h"

/* Writes prefix (may be NULL) and line[0..len) and a newline as one line. */
void gw_out_line(const char *prefix, const char *line, size_t len);
void gw_out_printf(const char *prefix, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The core logger's line (core/log.h) with "logger": "imagegen-gateway"; steals fields.
 * gw_out_start routes the core logger's lines through this output. */
void gw_log(ig_log_level level, const char *message, json_t *fields);
void gw_out_start(void);
/* Writes first_line, then every line held back so far; later lines go straight out. */
void gw_out_ready(const char *first_line);
/* Frees what is still held back (when the gateway stops before it was ready, it is printed). */
void gw_out_finish(void);

#endif
