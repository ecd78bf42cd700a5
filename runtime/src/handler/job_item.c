/* job_item.c - a job as a DynamoDB item, without the network: its id, the new item, what a
 * reader sees of it (timeouts included) and the result worth keeping. jobs.h describes the item. */
#include "handler/jobs.h"

#include <stdio.h>
#include <string.h>

#include "aws/dynamodb.h"
#include "codec/hash.h"
#include "core/random.h"

ig_err ig_job_id(const char *owner, const char *idempotency_key, char out[IG_JOB_ID_LEN + 1])
{
    if (idempotency_key && *idempotency_key) {
        /* owner and key, separated by a byte neither holds: each owner has its own keys */
        size_t no = strlen(owner ? owner : ""), nk = strlen(idempotency_key);
        char buf[1024];
        if (no + nk + 1 > sizeof buf)
            return IG_ERR_INVALID_ARG;
        memcpy(buf, owner ? owner : "", no);
        buf[no] = '\n';
        memcpy(buf + no + 1, idempotency_key, nk);
        char hex[65];
        ig_sha256_hex(buf, no + nk + 1, hex);
        memcpy(out, hex, IG_JOB_ID_LEN);
        out[IG_JOB_ID_LEN] = '\0';
        return IG_OK;
    }
    char uuid[37];
    ig_err e = ig_uuid4(uuid);
    if (e != IG_OK)
        return e;
    size_t n = 0;
    for (const char *c = uuid; *c && n < IG_JOB_ID_LEN; c++)
        if (*c != '-')
            out[n++] = *c;
    out[n] = '\0';
    return n == IG_JOB_ID_LEN ? IG_OK : IG_ERR_INVALID_ARG;
}

int ig_job_id_valid(const char *id)
{
    if (!id || strlen(id) != IG_JOB_ID_LEN)
        return 0;
    for (const char *c = id; *c; c++)
        if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f')))
            return 0;
    return 1;
}

json_t *ig_job_item(const char *id, const char *owner, const char *plan_json, int64_t now_ms, int64_t deadline_ms,
                    int64_t expires_at_s)
{
    char pk[8 + IG_JOB_ID_LEN];
    snprintf(pk, sizeof pk, "job#%s", id);
    return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "pk", ig_dynamodb_attr_s(pk), "sk",
                     ig_dynamodb_attr_s("job"), "status", ig_dynamodb_attr_s("queued"), "owner",
                     ig_dynamodb_attr_s(owner), "created_at", ig_dynamodb_attr_n(now_ms), "updated_at",
                     ig_dynamodb_attr_n(now_ms), "deadline", ig_dynamodb_attr_n(deadline_ms), "expires_at",
                     ig_dynamodb_attr_n(expires_at_s), "plan", ig_dynamodb_attr_s(plan_json), "attempts",
                     ig_dynamodb_attr_n(0));
}

static int is_status(const char *s)
{
    return s && (!strcmp(s, "queued") || !strcmp(s, "running") || !strcmp(s, "succeeded") || !strcmp(s, "failed"));
}

json_t *ig_job_view(const json_t *item, int64_t now_ms)
{
    const char *pk = ig_dynamodb_item_s(item, "pk"), *status = ig_dynamodb_item_s(item, "status");
    int64_t created = 0, updated = 0, deadline = 0, attempts = 0;
    if (!pk || strncmp(pk, "job#", 4) != 0 || !is_status(status) || !ig_dynamodb_item_n(item, "created_at", &created))
        return NULL;
    if (!ig_dynamodb_item_n(item, "updated_at", &updated))
        updated = created;
    ig_dynamodb_item_n(item, "attempts", &attempts);
    json_t *v = json_pack("{s:s, s:s, s:I, s:I, s:I}", "id", pk + 4, "status", status, "created_at",
                          (json_int_t)created, "updated_at", (json_int_t)updated, "attempts", (json_int_t)attempts);
    int open = !strcmp(status, "queued") || !strcmp(status, "running");
    if (open && ig_dynamodb_item_n(item, "deadline", &deadline) && now_ms > deadline) {
        json_object_set_new(v, "status", json_string("failed"));
        json_object_set_new(v, "updated_at", json_integer(deadline));
        json_object_set_new(v, "result", json_pack("{s:b, s:i, s:s, s:s}", "ok", 0, "status", 504, "code", "timeout",
                                                   "message", !strcmp(status, "queued")
                                                                  ? "the job did not start in time"
                                                                  : "the job did not finish in time"));
        return v;
    }
    const char *text = ig_dynamodb_item_s(item, "result");
    json_t *result = text && !open ? json_loads(text, 0, NULL) : NULL;
    if (json_is_object(result))
        json_object_set_new(v, "result", result);
    else
        json_decref(result);
    return v;
}

/* Members of a result kept as they are; images lose their URL. */
static const char *const KEPT[] = {"ok", "status", "code", "message", "retry_after", "cached", "model", "attempt",
                                   "fallback_from", "missing", "context", "timings"};

json_t *ig_job_stored_result(const json_t *result)
{
    json_t *out = json_object();
    for (size_t i = 0; i < sizeof KEPT / sizeof KEPT[0]; i++) {
        json_t *m = json_object_get(result, KEPT[i]);
        if (m)
            json_object_set(out, KEPT[i], m);
    }
    json_t *images = json_object_get(result, "images");
    if (json_is_array(images)) {
        json_t *kept = json_array();
        size_t i;
        json_t *im;
        json_array_foreach(images, i, im)
        {
            json_t *c = json_deep_copy(im);
            json_object_del(c, "url");
            json_object_del(c, "b64_ref");
            json_array_append_new(kept, c);
        }
        json_object_set_new(out, "images", kept);
    }
    return out;
}
