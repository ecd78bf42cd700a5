/* images.h - image records: one DynamoDB item per stored image, so that a client can turn an
 * image's id into a fresh URL later and list what it generated, newest first.
 *
 * The item (table IMAGEGEN_TABLE): pk "img#<id>", sk "img", gsi1pk "owner#<owner>", gsi1sk
 * "<created, RFC 3339 with ms>#<id>" (the index gsi1 lists an owner's images; ScanIndexForward
 * false gives the newest first), key (the S3 key), owner, created_at (epoch ms), expires_at (epoch
 * s, the table's time to live: the bucket's image lifecycle, as the policy says), model, task
 * (edits), width, height, bytes, format, content_type, seed, cached, parameters (the policy's
 * choice, as JSON text), prompt_sha256 and prompt (only when the policy sends it).
 *
 * The id is the uuid of the S3 key (<prefix><uuid>.<ext>). A cached image's key holds no uuid:
 * its id is derived from owner and key in the same 8-4-4-4-12 form, so each owner has one
 * record per cached object, rewritten (with the new time) when the cache serves it again.
 *
 * Who writes: the generate path (handler/generate.c), for every plan that carries `record`
 * (the policy's {owner, retention_s, task?, parameters?, prompt_sha256?, prompt?}), after the
 * images are stored: synchronous generations, edits and jobs' workers alike. A record that
 * cannot be written is logged and counted; the request that stored the image still succeeds.
 *
 * The listing's cursor is opaque to clients: base64url of {"t": gsi1sk, "i": id}, ".", and
 * base64url of the first 16 bytes of HMAC-SHA256 keyed by the owner over the first part. The
 * key a page starts from is rebuilt from it with the caller's own partition, so a cursor can
 * never reach another owner's images; the tag makes an altered cursor or another caller's a 400.
 */
#ifndef IG_HANDLER_IMAGES_H
#define IG_HANDLER_IMAGES_H

#include <jansson.h>
#include <stdint.h>

#include "aws/aws.h"
#include "aws/s3.h"
#include "core/error.h"
#include "handler/config.h"

#define IG_IMAGE_ID_LEN 36               /* 8-4-4-4-12 lower-case hex */
#define IG_IMAGE_CURSOR_MAX 512          /* a longer `next` is refused without decoding */
#define IG_IMAGE_LIST_MAX 100            /* most records one page may hold */

typedef struct ig_images ig_images;

/* The client for cfg's table; NULL with err when it cannot be made. */
ig_images *ig_images_new(ig_aws_context *aws, const ig_handler_config *cfg, ig_error *err);
void ig_images_free(ig_images *im);

/* Writes the records of a successful result's stored images (images[] with key, width, height,
 * bytes, format, content_type, call), seed from seeds[call - 1] when given; each image whose
 * record was written gets its id. Returns how many could not be written (each logged). */
int ig_images_record(ig_images *im, const json_t *record, json_t *result, const char *const *seeds,
                     size_t n_seeds, int64_t deadline_ms);

/* GET /images/{id}: admit's image = {id, owner, url_ttl}. {ok, status 200, records "get", image =
 * view with url}; 404 not_found for an unknown id or another owner's image. Never NULL. */
json_t *ig_images_get(ig_images *im, ig_s3 *s3, json_t *spec, int64_t deadline_ms);

/* GET /images: admit's images = {owner, limit 1..100, cursor?, url_ttl}. {ok, status 200,
 * records "list", list = [view with url...], next?}; 400 invalid_cursor for a cursor this owner
 * was not given. Never NULL. */
json_t *ig_images_list(ig_images *im, ig_s3 *s3, json_t *spec, int64_t deadline_ms);

/* ---- network-free pieces --------------------------------------------------------------- */

/* The id of the image stored at key for owner: the key's uuid, else one derived from both.
 * out: IG_IMAGE_ID_LEN characters and a NUL. */
void ig_image_id_for(const char *owner, const char *key, int cached, char out[IG_IMAGE_ID_LEN + 1]);
int ig_image_id_valid(const char *id);

/* The item for one stored image (entry: one of the result's images). NULL when the record or
 * the entry lacks what an item needs (owner, retention_s, key). */
json_t *ig_image_item(const json_t *record, const json_t *entry, const char *model, int cached, const char *seed,
                      int64_t now_ms);

/* What the policy sees of an item: {id, key, created_at, model, width, ...}. NULL when the
 * item is not an image record. */
json_t *ig_image_view(const json_t *item);

/* The cursor of a Query page's LastEvaluatedKey (malloc'd), NULL when the key is not one of
 * this owner's records. */
char *ig_image_cursor_encode(const char *owner, const json_t *last_key);
/* The ExclusiveStartKey for owner's cursor (new reference), NULL when the cursor is not one
 * this owner was given (altered, another owner's, not a cursor at all). */
json_t *ig_image_cursor_decode(const char *owner, const char *cursor);

#endif
