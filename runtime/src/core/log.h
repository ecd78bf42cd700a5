/* log.h - one JSON object per line on stdout, in the shape of Lambda's JSON log format.
 *
 *   {"timestamp":"2026-11-29T14:20:55.123Z","level":"INFO","requestId":"...","message":"...", ...fields}
 *
 * Every value goes through jansson's encoder, so user text (prompts, keys, header values)
 * can never break a line or forge a field. Secrets must never be passed in: the log has no
 * idea what is secret. Levels below IMAGEGEN_LOG_LEVEL (or AWS_LAMBDA_LOG_LEVEL; default
 * INFO) are dropped.
 */
#ifndef IG_LOG_H
#define IG_LOG_H

#include <jansson.h>

typedef enum { IG_LOG_TRACE, IG_LOG_DEBUG, IG_LOG_INFO, IG_LOG_WARN, IG_LOG_ERROR, IG_LOG_FATAL } ig_log_level;

/* Reads the level from the environment; call once at start-up (safe to call again). */
void ig_log_init(void);
void ig_log_set_level(ig_log_level level);
int ig_log_enabled(ig_log_level level);
/* The request id stamped on every line until changed; NULL clears it. Copied. */
void ig_log_set_request_id(const char *request_id);
/* Logs message with the members of fields (a JSON object, may be NULL). Steals fields. */
void ig_log(ig_log_level level, const char *message, json_t *fields);
/* printf-style message, no fields. */
void ig_logf(ig_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Writes a prepared JSON object (an EMF record, say) as one line on stdout. Steals obj. */
void ig_log_raw_json(json_t *obj);

/* Where finished lines go instead of stdout: a program that orders its own output (the local
 * gateway holds lines back until it is ready) passes a writer, which gets each line without
 * its newline and must write it whole; NULL restores stdout. Set it before any thread logs. */
typedef void (*ig_log_writer)(const char *line, size_t len);
void ig_log_set_writer(ig_log_writer writer);

#endif
