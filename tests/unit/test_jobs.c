/* test_jobs.c - a job without the network (handler/jobs.h, handler/worker.h): ids, the item the
 * table keeps, what a reader sees of it (a job past its deadline reads as failed, timeout), the
 * result worth keeping, and which events are a worker's. */
#include <jansson.h>
#include <string.h>

#include "aws/dynamodb.h"
#include "handler/jobs.h"
#include "handler/worker.h"
#include "testlib.h"

static void test_ids(void)
{
    char a[IG_JOB_ID_LEN + 1], b[IG_JOB_ID_LEN + 1], c[IG_JOB_ID_LEN + 1];
    IG_CHECK_EQ_INT(ig_job_id("owner-1", "order-42", a), IG_OK);
    IG_CHECK_EQ_INT(ig_job_id("owner-1", "order-42", b), IG_OK);
    IG_CHECK_EQ_STR(a, b); /* a repeat names the same job */
    IG_CHECK(ig_job_id_valid(a));
    IG_CHECK_EQ_INT(ig_job_id("owner-2", "order-42", c), IG_OK);
    IG_CHECK(strcmp(a, c) != 0); /* each owner has its own keys */
    IG_CHECK_EQ_INT(ig_job_id("owner-1", "order-43", c), IG_OK);
    IG_CHECK(strcmp(a, c) != 0);
    /* "ab" + "\nc" and "ab\n" + "c" are different owners and keys, and different ids */
    IG_CHECK_EQ_INT(ig_job_id("ab", "c", b), IG_OK);
    IG_CHECK_EQ_INT(ig_job_id("a", "bc", c), IG_OK);
    IG_CHECK(strcmp(b, c) != 0);
    /* without a key: random, each new */
    IG_CHECK_EQ_INT(ig_job_id("owner-1", NULL, b), IG_OK);
    IG_CHECK_EQ_INT(ig_job_id("owner-1", NULL, c), IG_OK);
    IG_CHECK(ig_job_id_valid(b) && ig_job_id_valid(c) && strcmp(b, c) != 0);
    IG_CHECK(!ig_job_id_valid("0123456789ABCDEF0123456789abcdef"));
    IG_CHECK(!ig_job_id_valid("0123456789abcdef"));
    IG_CHECK(!ig_job_id_valid(NULL));
}

static json_t *item_with(const char *status, int64_t deadline, const char *result)
{
    json_t *item = ig_job_item("0123456789abcdef0123456789abcdef", "owner-1", "{\"model\":\"m\"}", 1000, deadline,
                               86401);
    json_object_set_new(item, "status", ig_dynamodb_attr_s(status));
    if (result)
        json_object_set_new(item, "result", ig_dynamodb_attr_s(result));
    return item;
}

static void test_item(void)
{
    json_t *item = ig_job_item("0123456789abcdef0123456789abcdef", "owner-1", "{}", 1000, 5000, 86401);
    IG_CHECK_EQ_STR(ig_dynamodb_item_s(item, "pk"), "job#0123456789abcdef0123456789abcdef");
    IG_CHECK_EQ_STR(ig_dynamodb_item_s(item, "sk"), "job");
    IG_CHECK_EQ_STR(ig_dynamodb_item_s(item, "status"), "queued");
    IG_CHECK_EQ_STR(ig_dynamodb_item_s(item, "owner"), "owner-1");
    IG_CHECK_EQ_STR(ig_dynamodb_item_s(item, "plan"), "{}");
    int64_t n = 0;
    IG_CHECK(ig_dynamodb_item_n(item, "deadline", &n) && n == 5000);
    IG_CHECK(ig_dynamodb_item_n(item, "expires_at", &n) && n == 86401);
    IG_CHECK(ig_dynamodb_item_n(item, "attempts", &n) && n == 0);
    json_decref(item);
}

static void test_view(void)
{
    json_t *item = item_with("queued", 5000, NULL);
    json_t *v = ig_job_view(item, 4000);
    IG_CHECK_EQ_STR(json_string_value(json_object_get(v, "id")), "0123456789abcdef0123456789abcdef");
    IG_CHECK_EQ_STR(json_string_value(json_object_get(v, "status")), "queued");
    IG_CHECK(json_object_get(v, "result") == NULL);
    json_decref(v);
    /* past its deadline, a queued or running job reads as failed: timeout */
    v = ig_job_view(item, 5001);
    IG_CHECK_EQ_STR(json_string_value(json_object_get(v, "status")), "failed");
    IG_CHECK_EQ_STR(json_string_value(json_object_get(json_object_get(v, "result"), "code")), "timeout");
    IG_CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(v, "result"), "status")), 504);
    json_decref(v);
    json_decref(item);
    item = item_with("running", 5000, NULL);
    v = ig_job_view(item, 6000);
    IG_CHECK_EQ_STR(json_string_value(json_object_get(v, "status")), "failed");
    json_decref(v);
    json_decref(item);
    /* a finished job keeps its status and result whatever the time */
    item = item_with("succeeded", 5000, "{\"ok\":true,\"images\":[{\"key\":\"k.png\"}]}");
    v = ig_job_view(item, 9000);
    IG_CHECK_EQ_STR(json_string_value(json_object_get(v, "status")), "succeeded");
    IG_CHECK(json_is_true(json_object_get(json_object_get(v, "result"), "ok")));
    json_decref(v);
    json_decref(item);
    /* not a job */
    item = item_with("exploded", 5000, NULL);
    IG_CHECK(ig_job_view(item, 1) == NULL);
    json_decref(item);
    item = json_pack("{s:{s:s}}", "pk", "S", "image#1");
    IG_CHECK(ig_job_view(item, 1) == NULL);
    json_decref(item);
}

static void test_stored_result(void)
{
    json_t *r = json_pack("{s:b, s:s, s:s, s:[{s:s, s:s, s:i, s:s}], s:{s:i}, s:s}", "ok", 1, "model", "m",
                          "request_id", "req-1", "images", "url", "https://signed", "key", "images/a.png", "width", 512,
                          "format", "png", "context", "seed", 7, "expires_at", "2026-01-01T00:00:00Z");
    json_t *kept = ig_job_stored_result(r);
    json_t *im = json_array_get(json_object_get(kept, "images"), 0);
    IG_CHECK(json_object_get(im, "url") == NULL); /* URLs expire: presigned again at each read */
    IG_CHECK_EQ_STR(json_string_value(json_object_get(im, "key")), "images/a.png");
    IG_CHECK_EQ_INT(json_integer_value(json_object_get(im, "width")), 512);
    IG_CHECK(json_object_get(kept, "request_id") == NULL);
    IG_CHECK(json_object_get(kept, "expires_at") == NULL);
    IG_CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(kept, "context"), "seed")), 7);
    /* the original is untouched */
    IG_CHECK(json_object_get(json_array_get(json_object_get(r, "images"), 0), "url") != NULL);
    json_decref(kept);
    json_decref(r);
}

static void test_worker_events(void)
{
    char id[IG_JOB_ID_LEN + 1];
    const char *job = "{\"imagegen\":\"job\",\"id\":\"0123456789abcdef0123456789abcdef\"}";
    IG_CHECK(ig_worker_event(job, strlen(job), id));
    IG_CHECK_EQ_STR(id, "0123456789abcdef0123456789abcdef");
    const char *long_id = "{\"imagegen\":\"job\",\"id\":\"0123456789abcdef0123456789abcdef0\"}";
    IG_CHECK(ig_worker_event(long_id, strlen(long_id), id));
    IG_CHECK_EQ_STR(id, ""); /* a job event, but no id a job can have */
    const char *apigw = "{\"resource\":\"/jobs\",\"path\":\"/jobs\",\"httpMethod\":\"POST\",\"body\":\"{}\"}";
    IG_CHECK(!ig_worker_event(apigw, strlen(apigw), id));
    const char *other = "{\"imagegen\":\"other\",\"id\":\"x\"}";
    IG_CHECK(!ig_worker_event(other, strlen(other), id));
    IG_CHECK(!ig_worker_event("[1,2]", 5, id));
    IG_CHECK(!ig_worker_event("not json", 8, id));
}

int main(void)
{
    IG_RUN(test_ids);
    IG_RUN(test_item);
    IG_RUN(test_view);
    IG_RUN(test_stored_result);
    IG_RUN(test_worker_events);
    return ig_test_finish("jobs");
}
