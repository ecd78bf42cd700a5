/* metrics.c - Embedded Metric Format records. */
#include "handler/metrics.h"

#include <string.h>
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
#include <malloc.h>
#define IG_HAVE_MALLINFO2 1
#endif

#include "core/clock.h"
#include "core/log.h"

void ig_metrics_init(ig_metrics *m)
{
    memset(m, 0, sizeof *m);
}

long long ig_metrics_heap_kb(void)
{
#ifdef IG_HAVE_MALLINFO2
    struct mallinfo2 mi = mallinfo2();
    return (long long)((mi.uordblks + mi.hblkhd) / 1024);
#else
    return -1;
#endif
}

static void add_metric(json_t *defs, json_t *rec, const char *name, const char *unit, json_t *value)
{
    if (json_object_get(rec, name)) {
        json_decref(value);
        return;
    }
    json_array_append_new(defs, json_pack("{s:s, s:s}", "Name", name, "Unit", unit));
    json_object_set_new(rec, name, value);
}

/* CloudWatch's unit names; anything else becomes "None". */
static const char *cloudwatch_unit(const char *u)
{
    static const char *const units[] = {"Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes",
                                        "Megabytes", "Count", "Percent", "Count/Second", "None", NULL};
    for (int i = 0; u && units[i]; i++)
        if (strcmp(u, units[i]) == 0)
            return units[i];
    return "None";
}

json_t *ig_metrics_record(const ig_metrics *m, const char *ns, const char *outcome,
                          json_t *policy_metrics, long long timestamp_ms)
{
    json_t *rec = json_object();
    json_t *defs = json_array();
    json_object_set_new(rec, "Outcome", json_string(outcome ? outcome : "unknown"));
    add_metric(defs, rec, "TotalLatency", "Milliseconds", json_real(m->total_ms));
    if (m->model_attempts > 0) {
        add_metric(defs, rec, "ModelLatency", "Milliseconds", json_real(m->model_ms));
        add_metric(defs, rec, "ModelAttempts", "Count", json_integer(m->model_attempts));
    }
    if (m->images > 0) {
        add_metric(defs, rec, "UploadLatency", "Milliseconds", json_real(m->upload_ms));
        add_metric(defs, rec, "Images", "Count", json_integer(m->images));
    }
    if (m->records_failed > 0)
        add_metric(defs, rec, "ImageRecordsFailed", "Count", json_integer(m->records_failed));
    const char *name;
    json_t *v;
    json_object_foreach(policy_metrics, name, v)
    {
        json_t *value = json_object_get(v, "value");
        json_t *unit = json_object_get(v, "unit");
        if (json_is_number(value) && strlen(name) <= 255)
            add_metric(defs, rec, name, cloudwatch_unit(json_string_value(unit)), json_real(json_number_value(value)));
    }
    json_t *aws = json_pack("{s:I, s:[{s:s, s:[[s]], s:o}]}", "Timestamp", (json_int_t)timestamp_ms,
                            "CloudWatchMetrics", "Namespace", ns, "Dimensions", "Outcome", "Metrics", defs);
    json_object_set_new(rec, "_aws", aws);
    return rec;
}

void ig_metrics_emit(const ig_metrics *m, const char *ns, const char *outcome, json_t *policy_metrics,
                     const char *request_id)
{
    json_t *rec = ig_metrics_record(m, ns, outcome, policy_metrics, (long long)ig_now_ms());
    if (request_id) {
        json_t *id = json_string(request_id);
        if (id)
            json_object_set_new(rec, "requestId", id);
    }
    ig_log_raw_json(rec);
}
