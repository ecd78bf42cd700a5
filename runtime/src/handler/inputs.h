/* inputs.h - the images a request brings (edits), kept in C: the policy sees facts, never bytes.
 *
 * Before admit(), the images are taken out of the request:
 * - a JSON body's members named in the policy's image_fields that hold base64 (or a data URL
 *   "data:image/png;base64,...") or a list of such strings;
 * - every file of a multipart/form-data body (its text fields become plain body members; a name
 *   ending in "[]" or given twice becomes a list).
 * Each is decoded and inspected (format by its magic, dimensions from its header, whether it
 * is whole) and replaced in req.body by a facts table: field, index, source, bytes, format,
 * width, height, alpha, content_type, filename, key, ref, mask_ref, mask_ref_inverted, or
 * error and message when it cannot be used (runtime/policy/README.md: input images). Images
 * fetched from S3 after a first admit() (the policy's `fetch`) are added the same way.
 *
 * A plan's call body names an image by its token (ref: the bytes as given; mask_ref: a
 * grayscale PNG made from a PNG's alpha channel, white where it is transparent; and
 * mask_ref_inverted, black there), and ig_inputs_substitute swaps each token for the base64 it
 * stands for. Tokens carry a per-request random nonce, so a client cannot name another
 * request's image; and a string value a client sends may not begin with their prefix "igin:"
 * at all (refused before the policy runs), so no value of its own ever stands where one would.
 */
#ifndef IG_HANDLER_INPUTS_H
#define IG_HANDLER_INPUTS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"
#include "handler/plan.h"

/* Files of one multipart body, and input images of one request, at most. */
#define IG_INPUTS_MAX 16
#define IG_INPUTS_MAX_FORM_PARTS 64
/* The largest upload a fetch may read (the policy sets a smaller cap per fetch). */
#define IG_INPUTS_FETCH_MAX (64 * 1024 * 1024)
/* A multipart text field (a prompt, a size) at most. */
#define IG_INPUTS_MAX_FORM_TEXT 65536

typedef struct ig_input ig_input;

typedef struct {
    ig_input *items[IG_INPUTS_MAX];
    size_t n;
    char nonce[33]; /* 16 random bytes, hex */
} ig_inputs;

ig_err ig_inputs_init(ig_inputs *in);
void ig_inputs_free(ig_inputs *in);

/* Takes the images out of req (see above). body holds a multipart body's bytes (the event's
 * body_out); fields is the policy's image_fields. A body the runtime cannot read as a form, with
 * more images than IG_INPUTS_MAX, or with a string value (or file name) beginning with "igin:",
 * is IG_ERR_INVALID_ARG (answer 400) or IG_ERR_TOO_LARGE (413) with a sentence for the client;
 * an image that cannot be used is not an error here: its facts say why, and the policy answers. */
ig_err ig_inputs_from_request(ig_inputs *in, json_t *req, const ig_buf *body, const json_t *fields,
                              ig_error *err);

/* Adds an image fetched from S3 for req.body[field] (index 1-based within a list; 0 for a plain
 * member). data NULL with a problem word and message records a fetch that failed ("not_found",
 * "too_large"). The facts replace the member. */
ig_err ig_inputs_add_upload(ig_inputs *in, json_t *req, const char *field, size_t index, const char *key,
                            const void *data, size_t len, const char *content_type, const char *problem,
                            const char *message, ig_error *err);

/* Replaces every token in body[0..*len) (a JSON text) by the base64 it stands for; *body is
 * reallocated. A token of another request is left as it is. */
ig_err ig_inputs_substitute(ig_inputs *in, char **body, size_t *len, ig_error *err);

/* The same in every call body of a plan. IG_ERR_TOO_LARGE (message for the client) when a body
 * passes Bedrock's 25 MB with its images in. */
ig_err ig_inputs_fill_plan(ig_inputs *in, ig_plan *p, ig_error *err);

/* ---- a job's inputs (jobs.h): a job's plan is run in another invocation, so the images its
 * tokens name are kept in S3 and read back there, under the same nonce and numbers. */

/* The inputs the JSON text names by this request's tokens: bit n for input n. */
uint32_t ig_inputs_named(const ig_inputs *in, const char *text, size_t len);
/* Input n's bytes with their content type and key extension; NULL when there is none. */
const ig_buf *ig_inputs_data(const ig_inputs *in, size_t n, const char **content_type, const char **extension);
/* The S3 key input n was fetched from (an upload), or NULL when the request carried it. */
const char *ig_inputs_key(const ig_inputs *in, size_t n);
/* The worker's side: input n of the request whose tokens carry `nonce` (32 hex digits), read
 * back. Takes bytes. IG_ERR_INVALID_ARG when they are no usable image or n is out of range. */
ig_err ig_inputs_restore(ig_inputs *in, const char *nonce, size_t n, ig_buf *bytes, ig_error *err);

#endif
