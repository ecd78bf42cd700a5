/* test_images.c - an image record without the network (handler/images.h): its id, the item the
 * table keeps, what the policy sees of it, and the listing's cursor: what it encodes, and that an
 * altered cursor, another owner's, or anything that is not a cursor is refused. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/dynamodb.h"
#include "handler/images.h"
#include "handler/plan.h"
#include "testlib.h"

#define UUID "0f8e4b1c-2d3a-4b5c-8d9e-0a1b2c3d4e5f"
#define OWNER "7a3f0000000000000000000000000000000000000000000000000000000000aa"
#define OTHER "7a3f0000000000000000000000000000000000000000000000000000000000bb"

static json_t *record_spec(void)
{
    return json_pack("{s:s, s:i, s:s, s:{s:s, s:i}, s:s}", "owner", OWNER, "retention_s", 86400, "task", "inpaint",
                     "parameters", "aspectRatio", "1:1", "cfgScale", 7, "prompt_sha256", "ab12");
}

static json_t *entry(const char *key)
{
    return json_pack("{s:s, s:i, s:i, s:i, s:s, s:s, s:i}", "key", key, "width", 512, "height", 256, "bytes", 1234,
                     "format", "png", "content_type", "image/png", "call", 1);
}

static void test_ids(void)
{
    char id[IG_IMAGE_ID_LEN + 1], again[IG_IMAGE_ID_LEN + 1], other[IG_IMAGE_ID_LEN + 1];
    ig_image_id_for(OWNER, "images/2026/12/07/" UUID ".png", 0, id);
    IG_CHECK_EQ_STR(id, UUID); /* the uuid of the S3 key */
    ig_image_id_for(OWNER, UUID ".jpeg", 0, id);
    IG_CHECK_EQ_STR(id, UUID);
    /* a cached key has no uuid: derived from owner and key, stable, one per owner */
    ig_image_id_for(OWNER, "images/cache/abc123-1", 1, id);
    ig_image_id_for(OWNER, "images/cache/abc123-1", 1, again);
    ig_image_id_for(OTHER, "images/cache/abc123-1", 1, other);
    IG_CHECK(ig_image_id_valid(id));
    IG_CHECK_EQ_STR(id, again);
    IG_CHECK(strcmp(id, other) != 0);
    ig_image_id_for(OWNER, "images/cache/abc123-2", 1, again);
    IG_CHECK(strcmp(id, again) != 0);
    /* a key whose name is not <uuid>.<ext> gets a derived id too */
    ig_image_id_for(OWNER, "images/0F8E4B1C-2D3A-4B5C-8D9E-0A1B2C3D4E5F.png", 0, id);
    IG_CHECK(ig_image_id_valid(id));
    IG_CHECK(strcmp(id, UUID) != 0);
    IG_CHECK(ig_image_id_valid(UUID));
    IG_CHECK(!ig_image_id_valid("0F8E4B1C-2D3A-4B5C-8D9E-0A1B2C3D4E5F"));
    IG_CHECK(!ig_image_id_valid("0f8e4b1c2d3a4b5c8d9e0a1b2c3d4e5f"));
    IG_CHECK(!ig_image_id_valid("0f8e4b1c-2d3a-4b5c-8d9e-0a1b2c3d4e5"));
    IG_CHECK(!ig_image_id_valid("0f8e4b1c-2d3a-4b5c-8d9e_0a1b2c3d4e5f"));
    IG_CHECK(!ig_image_id_valid(NULL));
}

static void test_item(void)
{
    json_t *rec = record_spec(), *e = entry("images/2026/12/07/" UUID ".png");
    /* 2026-12-07T01:00:00.123Z */
    json_t *item = ig_image_item(rec, e, "stability.sd3-5-large-v1:0", 0, "42", 1796605200123LL);
    IG_CHECK(item != NULL);
    IG_CHECK_EQ_STR(ig_dynamodb_item_s(item, "pk"), "img#" UUID);
    IG_CHECK_EQ_STR(ig_dynamodb_item_s(item, "sk"), "img");
    IG_CHECK_EQ_STR(ig_dynamodb_item_s(item, "gsi1pk"), "owner#" OWNER);
    IG_CHECK_EQ_STR(ig_dynamodb_item_s(item, "gsi1sk"), "2026-12-07T01:00:00.123Z#" UUID);
    IG_CHECK_EQ_STR(ig_dynamodb_item_s(item, "key"), "images/2026/12/07/" UUID ".png");
    IG_CHECK_EQ_STR(ig_dynamodb_item_s(item, "owner"), OWNER);
    IG_CHECK_EQ_STR(ig_dynamodb_item_s(item, "model"), "stability.sd3-5-large-v1:0");
    IG_CHECK_EQ_STR(ig_dynamodb_item_s(item, "task"), "inpaint");
    IG_CHECK_EQ_STR(ig_dynamodb_item_s(item, "seed"), "42");
    IG_CHECK_EQ_STR(ig_dynamodb_item_s(item, "format"), "png");
    IG_CHECK_EQ_STR(ig_dynamodb_item_s(item, "prompt_sha256"), "ab12");
    IG_CHECK(ig_dynamodb_item_s(item, "prompt") == NULL);
    IG_CHECK_EQ_STR(ig_dynamodb_item_s(item, "parameters"), "{\"aspectRatio\":\"1:1\",\"cfgScale\":7}");
    int64_t n = 0;
    IG_CHECK(ig_dynamodb_item_n(item, "expires_at", &n) && n == 1796605200 + 86400);
    IG_CHECK(ig_dynamodb_item_n(item, "created_at", &n) && n == 1796605200123LL);
    IG_CHECK(ig_dynamodb_item_n(item, "width", &n) && n == 512);
    IG_CHECK(ig_dynamodb_item_n(item, "bytes", &n) && n == 1234);
    int cached = 1;
    IG_CHECK(ig_dynamodb_item_bool(item, "cached", &cached) && cached == 0);

    /* the view: what the policy shapes */
    json_t *v = ig_image_view(item);
    IG_CHECK_EQ_STR(json_string_value(json_object_get(v, "id")), UUID);
    IG_CHECK_EQ_INT(json_integer_value(json_object_get(v, "height")), 256);
    IG_CHECK_EQ_INT(json_integer_value(json_object_get(json_object_get(v, "parameters"), "cfgScale")), 7);
    IG_CHECK(json_is_false(json_object_get(v, "cached")));
    IG_CHECK(json_object_get(v, "owner") == NULL);
    json_decref(v);
    json_decref(item);

    /* what an item needs: an owner, a retention of a minute or more, a stored key */
    json_object_set_new(rec, "retention_s", json_integer(59));
    IG_CHECK(ig_image_item(rec, e, "m", 0, NULL, 1) == NULL);
    json_object_set_new(rec, "retention_s", json_integer(60));
    json_object_del(e, "key");
    IG_CHECK(ig_image_item(rec, e, "m", 0, NULL, 1) == NULL);
    json_decref(e);
    e = entry("images/" UUID ".png");
    json_object_del(rec, "owner");
    IG_CHECK(ig_image_item(rec, e, "m", 0, NULL, 1) == NULL);
    json_decref(e);
    json_decref(rec);

    /* a job's item is not an image's */
    json_t *job = json_pack("{s:{s:s}, s:{s:s}, s:{s:s}}", "pk", "S", "job#0123", "key", "S", "k", "created_at", "N", "1");
    IG_CHECK(ig_image_view(job) == NULL);
    json_decref(job);
}

static json_t *last_key(const char *owner, const char *id, const char *when)
{
    char pk[64], gpk[128], gsk[128];
    snprintf(pk, sizeof pk, "img#%s", id);
    snprintf(gpk, sizeof gpk, "owner#%s", owner);
    snprintf(gsk, sizeof gsk, "%s#%s", when, id);
    return json_pack("{s:o, s:o, s:o, s:o}", "pk", ig_dynamodb_attr_s(pk), "sk", ig_dynamodb_attr_s("img"), "gsi1pk",
                     ig_dynamodb_attr_s(gpk), "gsi1sk", ig_dynamodb_attr_s(gsk));
}

static void test_cursor_round_trip(void)
{
    json_t *lek = last_key(OWNER, UUID, "2026-12-07T01:00:00.123Z");
    char *c = ig_image_cursor_encode(OWNER, lek);
    IG_CHECK(c != NULL);
    IG_CHECK(strlen(c) <= IG_IMAGE_CURSOR_MAX);
    for (const char *p = c; p && *p; p++) /* safe in a query string as it is */
        IG_CHECK((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' ||
                 *p == '_' || *p == '.');
    json_t *back = ig_image_cursor_decode(OWNER, c);
    IG_CHECK(back != NULL);
    IG_CHECK(json_equal(back, lek)); /* the page starts where the last one ended */
    json_decref(back);
    /* another owner's cursor: refused, never a key in the other partition */
    IG_CHECK(ig_image_cursor_decode(OTHER, c) == NULL);
    free(c);
    /* a page's last key outside the owner's partition makes no cursor */
    json_t *foreign = last_key(OTHER, UUID, "2026-12-07T01:00:00.123Z");
    IG_CHECK(ig_image_cursor_encode(OWNER, foreign) == NULL);
    json_decref(foreign);
    json_decref(lek);
}

static void test_cursor_refusals(void)
{
    json_t *lek = last_key(OWNER, UUID, "2026-12-07T01:00:00.123Z");
    char *c = ig_image_cursor_encode(OWNER, lek);
    size_t n = strlen(c);
    /* every single-character change is refused */
    int refused = 0, tried = 0;
    for (size_t i = 0; i < n; i++) {
        char *t = strdup(c);
        t[i] = t[i] == 'A' ? 'B' : 'A';
        json_t *k = ig_image_cursor_decode(OWNER, t);
        tried++;
        if (!k)
            refused++;
        else if (json_equal(k, lek))
            refused++; /* base64's spare low bits: the same cursor */
        json_decref(k);
        free(t);
    }
    IG_CHECK_EQ_INT(refused, tried);
    /* cut, extended, without its tag, with two */
    char buf[1200];
    snprintf(buf, sizeof buf, "%.*s", (int)n - 1, c);
    IG_CHECK(ig_image_cursor_decode(OWNER, buf) == NULL);
    snprintf(buf, sizeof buf, "%sA", c);
    IG_CHECK(ig_image_cursor_decode(OWNER, buf) == NULL);
    snprintf(buf, sizeof buf, "%.*s", (int)(strchr(c, '.') - c), c);
    IG_CHECK(ig_image_cursor_decode(OWNER, buf) == NULL);
    snprintf(buf, sizeof buf, "%s.%s", c, strchr(c, '.') + 1);
    IG_CHECK(ig_image_cursor_decode(OWNER, buf) == NULL);
    /* not cursors at all */
    static const char *const junk[] = {"", ".", "abc", "abc.def", "%%%.***", "eyJ0IjoiIn0.AAAAAAAAAAAAAAAAAAAAAA"};
    for (size_t i = 0; i < sizeof junk / sizeof junk[0]; i++)
        IG_CHECK(ig_image_cursor_decode(OWNER, junk[i]) == NULL);
    memset(buf, 'A', sizeof buf - 1);
    buf[sizeof buf - 1] = '\0';
    buf[600] = '.';
    IG_CHECK(ig_image_cursor_decode(OWNER, buf) == NULL);
    IG_CHECK(ig_image_cursor_decode(NULL, c) == NULL);
    IG_CHECK(ig_image_cursor_decode("", c) == NULL);
    free(c);
    json_decref(lek);
}

static void test_plan_record(void)
{
    /* the plan carries the policy's record, and refuses one that cannot make items */
#define PLAN_WITH(record) "{\"model\":\"m\",\"body\":{},\"images\":\"images\",\"key_prefix\":\"images/\",\"url_ttl\":60," \
                          "\"record\":%s}", record
    char text[512];
    ig_plan p;
    ig_error err;
    snprintf(text, sizeof text, PLAN_WITH("{\"owner\":\"o\",\"retention_s\":86400}"));
    json_t *g = json_loads(text, 0, NULL);
    IG_CHECK_EQ_INT(ig_plan_parse(g, &p, &err), IG_OK);
    IG_CHECK(json_is_object(p.record));
    ig_plan_free(&p);
    json_decref(g);
    static const char *const bad[] = {"{\"retention_s\":86400}", "{\"owner\":\"\",\"retention_s\":86400}",
                                      "{\"owner\":\"o\",\"retention_s\":59}", "{\"owner\":\"o\"}", "\"o\""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(text, sizeof text, PLAN_WITH(bad[i]));
        g = json_loads(text, 0, NULL);
        IG_CHECK_EQ_INT(ig_plan_parse(g, &p, &err), IG_ERR_POLICY);
        IG_CHECK(strstr(err.message, "generate.record") != NULL);
        ig_plan_free(&p);
        json_decref(g);
    }
}

int main(void)
{
    IG_RUN(test_ids);
    IG_RUN(test_item);
    IG_RUN(test_cursor_round_trip);
    IG_RUN(test_cursor_refusals);
    IG_RUN(test_plan_record);
    return ig_test_finish("images");
}
