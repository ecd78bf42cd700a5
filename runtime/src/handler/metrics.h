/* metrics.h - one CloudWatch Embedded Metric Format line per invocation on stdout.
 *
 * Metrics: ModelLatency, UploadLatency, TotalLatency (ms), Images (count), ModelAttempts,
 * ImageRecordsFailed (when an image record could not be written), plus
 * whatever the policy recorded with imagegen.metric. One low-cardinality dimension, Outcome
 * ("success", "cached", "answered", "rejected", or a failure code); the request id travels as
 * a plain property, never as a dimension.
 */
#ifndef IG_METRICS_H
#define IG_METRICS_H

#include <jansson.h>

typedef struct {
    double model_ms;
    double upload_ms;
    double total_ms;
    int images;
    int model_attempts;
    int records_failed;         /* image records that could not be written */
} ig_metrics;

void ig_metrics_init(ig_metrics *m);
/* Builds the EMF record (exposed for tests). policy_metrics: {name: {value, unit}} or NULL. */
json_t *ig_metrics_record(const ig_metrics *m, const char *ns, const char *outcome,
                          json_t *policy_metrics, long long timestamp_ms);
/* The bytes malloc holds for the process now (in its arenas and in its own mappings), in kB; -1
 * where the C library cannot say. Unlike the resident set, it does not keep what fragmentation
 * leaves behind, so a steady figure across warm invocations means no leak. */
long long ig_metrics_heap_kb(void);

/* Builds and writes the record as one line, with the request id as a property. */
void ig_metrics_emit(const ig_metrics *m, const char *ns, const char *outcome, json_t *policy_metrics,
                     const char *request_id);

#endif
