/* multipart.h - multipart/form-data bodies (RFC 7578 over RFC 2046), read in place.
 *
 * OpenAI's POST /v1/images/edits sends its image files and its text fields as one form. The
 * parser finds the parts of such a body and hands back slices of it: the bytes of a part are
 * never copied, so a form carrying megabytes of images costs one array of part descriptors.
 * Every size is bounded by ig_multipart_limits; the body is never read past len; the work is
 * linear in len (the delimiter is found with memmem, and no byte is looked at more than a
 * constant number of times).
 *
 * What is read, and how:
 * - The boundary comes from the request's Content-Type (quoted or not; the parameter name in
 *   any case), 1 to 70 characters of RFC 2046's set (letters, digits, ' ( ) + _ , - . / : = ?
 *   and space, not last). A Content-Type with two boundary parameters is refused.
 * - Lines end in CRLF. A bare LF (or CR) ending a boundary line or a header line is an error,
 *   not a line end. A preamble before the first boundary line and an epilogue after the
 *   closing one are skipped. A boundary line may carry trailing spaces and tabs (RFC 2046's
 *   transport padding). "--boundary" followed by anything else (a longer boundary) is data.
 * - Each part needs Content-Disposition: form-data with a non-empty name. filename is
 *   optional (present, even empty, means a file). Quoted values undo backslash escapes of '"'
 *   and '\' only, as Python's email package reads them: browsers send other backslashes (in
 *   Windows file names) unescaped, and percent-encode '"' as %22, which is kept as sent.
 *   filename* (RFC 5987, charset UTF-8 or ISO-8859-1) is decoded to UTF-8 and takes the place
 *   of filename (RFC 6266 4.3); another charset is an error.
 * - Content-Type of a part is kept as sent (white space around it trimmed); absent or empty
 *   is NULL. Content-Transfer-Encoding other than 7bit, 8bit or binary is refused (RFC 7578
 *   4.7: senders do not encode parts; reading base64 text as image bytes would be worse).
 *   Other headers are ignored; obsolete line folding is refused.
 * - name, filename and content_type are valid UTF-8 without control bytes, so they can go
 *   into JSON and into sentences as they are.
 *
 * Errors: a Content-Type that is not multipart/form-data or carries no usable boundary is
 * IG_ERR_INVALID_ARG; a body that is not a well-formed form is IG_ERR_PARSE; a limit passed is
 * IG_ERR_TOO_LARGE. Each comes with a sentence naming the part ("the part \"image\" is larger
 * than 1048576 bytes", "part 2 has no Content-Disposition header").
 */
#ifndef IG_MULTIPART_H
#define IG_MULTIPART_H

#include <stddef.h>

#include "core/error.h"

/* RFC 2046 5.1.1: a boundary has 1 to 70 characters. */
#define IG_MULTIPART_BOUNDARY_MAX 70
/* A part's header block (its empty line included), when the limits do not say. */
#define IG_MULTIPART_DEFAULT_HEADER_BYTES 8192
/* Room in a part for its name and filename when they had to be decoded (escapes, filename*). */
#define IG_MULTIPART_DECODED_MAX 512

/* A field of 0 takes its default: max_parts the max_parts argument (the array's size),
 * max_header_bytes IG_MULTIPART_DEFAULT_HEADER_BYTES, the others no cap but the body's own
 * length. A max_parts above the array's size is cut to it. */
typedef struct {
    size_t max_parts;        /* parts in the body */
    size_t max_part_bytes;   /* data bytes of one part */
    size_t max_header_bytes; /* header bytes of one part, its empty line included */
    size_t max_total_bytes;  /* the whole body */
} ig_multipart_limits;

/* One part. The strings are not NUL-terminated: use their lengths. They point into the body,
 * or into decoded[] when the value had escapes or came from filename*: a part copied to
 * another place keeps pointing at the original's decoded[]. */
typedef struct {
    const char *name;         /* never NULL; name_len >= 1 */
    size_t name_len;
    const char *filename;     /* NULL when the part has no filename (a text field) */
    size_t filename_len;
    const char *content_type; /* NULL when the part has no (or an empty) Content-Type */
    size_t content_type_len;
    const char *data;         /* the part's bytes, inside the body */
    size_t len;
    char decoded[IG_MULTIPART_DECODED_MAX];
} ig_multipart_part;

/* Copies the boundary of a Content-Type such as
 * `multipart/form-data; boundary="----x"` (any multipart/ type) to out, NUL-terminated. out_len
 * must be at least IG_MULTIPART_BOUNDARY_MAX + 1. IG_ERR_INVALID_ARG with a sentence for a
 * missing Content-Type, another type, no boundary, two of them, or one RFC 2046 refuses. */
ig_err ig_multipart_boundary(const char *content_type, char *out, size_t out_len, ig_error *err);

/* Parses body[0..len) sent with content_type (which must be multipart/form-data) into
 * parts[0..*n_parts), in the body's order. lim may be NULL (every default). On an error
 * *n_parts is 0 and err says what, and where. */
ig_err ig_multipart_parse(const char *content_type, const void *body, size_t len, const ig_multipart_limits *lim,
                          ig_multipart_part *parts, size_t max_parts, size_t *n_parts, ig_error *err);

#endif
