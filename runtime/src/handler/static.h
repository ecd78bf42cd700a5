/* static.h - the web page's files (runtime/web in the source tree, web/ in the Lambda package),
 * read once at init and served by name: the bytes on the wire are the runtime's job, while the
 * policy decides which routes lead here (routes.lua, handler "page").
 *
 * Only regular files directly in the directory whose names are 1 to 64 of [a-z0-9-] and a
 * known text extension (.html, .js, .css, .svg, .txt) are loaded, at most IG_STATIC_MAX_FILES
 * of at most IG_STATIC_MAX_BYTES each; a request names a file, never a path, so nothing outside
 * the directory can be read. Each answer carries its Content-Type, an ETag (SHA-256 of the
 * bytes), Cache-Control no-cache (every file revalidated on each load, answered 304 when
 * unchanged: a page and its script never come from two deployments), a strict Content-Security-Policy (no inline script, nothing third-party; the bucket's
 * origin allowed for the images and for posting the upload form) and the usual hardening headers.
 */
#ifndef IG_HANDLER_STATIC_H
#define IG_HANDLER_STATIC_H

#include <stddef.h>

#include "core/buf.h"
#include "core/error.h"

#define IG_STATIC_MAX_FILES 32
#define IG_STATIC_MAX_BYTES (512u * 1024u)

typedef struct ig_static ig_static;

/* The directory of the page's files: IMAGEGEN_WEB_DIR, else $LAMBDA_TASK_ROOT/web, else "web"
 * beside the executable (the package's layout), else "../runtime/web" beside it (a build
 * directory in the checkout). An empty string when none is a directory. IMAGEGEN_WEB_DIR set
 * to something that is not a directory is IG_ERR_CONFIG naming it. */
ig_err ig_static_dir_from_env(char *buf, size_t size, ig_error *err);

/* Loads the files of dir ("" or a missing directory: no files, every name is unknown).
 * s3_origin ("https://bucket.s3.us-west-2.amazonaws.com" or "http://127.0.0.1:4569") goes into
 * the Content-Security-Policy. A file that cannot be read, or is not UTF-8, is skipped with a
 * warn line. */
ig_static *ig_static_load(const char *dir, const char *s3_origin, ig_error *err);
void ig_static_free(ig_static *s);

/* The number of files loaded. */
size_t ig_static_count(const ig_static *s);

/* The Content-Security-Policy the answers carry. */
const char *ig_static_csp(const ig_static *s);

/* The proxy response for file `name` in out: 200 with the file, or 304 with no body when
 * if_none_match (NULL: none) names its ETag. Returns 1 when answered, 0 when there is no such
 * file (out untouched), -1 with err when the response cannot be built. */
int ig_static_answer(const ig_static *s, const char *name, const char *if_none_match, ig_buf *out, int *status,
                     ig_error *err);

#endif
