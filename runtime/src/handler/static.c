/* static.c - the web page's files, read once at init and answered by name (see static.h). */
#include "handler/static.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apigw/response.h"
#include "codec/hash.h"
#include "core/log.h"

#define IG_STATIC_NAME_MAX 64

typedef struct {
    char name[IG_STATIC_NAME_MAX + 8];
    const char *content_type;
    char etag[24];   /* "\"" + 20 hex digits of the SHA-256 + "\"" */
    char *data;
    size_t len;
} ig_static_file;

struct ig_static {
    ig_static_file files[IG_STATIC_MAX_FILES];
    size_t n;
    char *csp;
};

/* Extension -> Content-Type: text only (the proxy response's body is a UTF-8 string). */
static const struct {
    const char *ext;
    const char *type;
} ig_static_types[] = {
    {"html", "text/html; charset=utf-8"},  {"js", "text/javascript; charset=utf-8"},
    {"css", "text/css; charset=utf-8"},    {"svg", "image/svg+xml"},
    {"txt", "text/plain; charset=utf-8"},
};

/* The Content-Type of a servable name ("app.js"), or NULL: 1..64 of [a-z0-9-], one dot, a
 * known extension. */
static const char *static_type(const char *name)
{
    const char *dot = strchr(name, '.');
    size_t stem = dot ? (size_t)(dot - name) : 0;
    if (stem == 0 || stem > IG_STATIC_NAME_MAX)
        return NULL;
    for (size_t i = 0; i < stem; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
            return NULL;
    }
    for (size_t i = 0; i < sizeof ig_static_types / sizeof ig_static_types[0]; i++)
        if (!strcmp(dot + 1, ig_static_types[i].ext))
            return ig_static_types[i].type;
    return NULL;
}

static int is_dir(const char *path)
{
    struct stat sb;
    return path && *path && stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

/* dst = a "/" b when it fits and is a directory. */
static int try_dir(char *dst, size_t size, const char *a, const char *b)
{
    char cand[4200];
    int n = snprintf(cand, sizeof cand, "%s/%s", a, b);
    if (n <= 0 || (size_t)n >= sizeof cand || (size_t)n >= size || !is_dir(cand))
        return 0;
    memcpy(dst, cand, (size_t)n + 1);
    return 1;
}

ig_err ig_static_dir_from_env(char *buf, size_t size, ig_error *err)
{
    buf[0] = '\0';
    const char *dir = getenv("IMAGEGEN_WEB_DIR");
    if (dir && *dir) {
        if (strlen(dir) >= size || !is_dir(dir))
            return ig_error_set(err, IG_ERR_CONFIG, "IMAGEGEN_WEB_DIR %s is not a directory (the web page's files)",
                                dir);
        memcpy(buf, dir, strlen(dir) + 1);
        return IG_OK;
    }
    const char *root = getenv("LAMBDA_TASK_ROOT");
    if (root && *root && try_dir(buf, size, root, "web"))
        return IG_OK;
    char exe[4096];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0)
        return IG_OK;
    exe[len] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return IG_OK;
    *slash = '\0';
    if (!try_dir(buf, size, exe, "web"))
        try_dir(buf, size, exe, "../runtime/web");
    return IG_OK;
}

/* Reads one regular file (never through a symbolic link) of at most IG_STATIC_MAX_BYTES. */
static char *read_file(int dirfd, const char *name, size_t *len, const char **why)
{
    int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
        *why = strerror(errno);
        return NULL;
    }
    struct stat sb;
    char *data = NULL;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        *why = "not a regular file";
    } else if ((size_t)sb.st_size > IG_STATIC_MAX_BYTES) {
        *why = "larger than the 512 KiB a page file may be";
    } else if (!(data = malloc((size_t)sb.st_size + 1))) {
        *why = "out of memory";
    } else {
        size_t got = 0;
        while (got < (size_t)sb.st_size) {
            ssize_t r = read(fd, data + got, (size_t)sb.st_size - got);
            if (r <= 0)
                break;
            got += (size_t)r;
        }
        if (got != (size_t)sb.st_size) {
            *why = "short read";
            free(data);
            data = NULL;
        } else {
            data[got] = '\0';
            *len = got;
        }
    }
    close(fd);
    return data;
}

static void skip(const char *dir, const char *name, const char *why)
{
    ig_log(IG_LOG_WARN, "a web page file is not served",
           json_pack("{s:s, s:s, s:s}", "dir", dir, "file", name, "reason", why));
}

/* One directory entry into s->files when it is servable. */
static void load_one(ig_static *s, int dirfd, const char *dir, const char *name)
{
    const char *type = static_type(name);
    size_t name_len = strlen(name);
    if (!type || name_len >= sizeof s->files[0].name)
        return;
    if (s->n == IG_STATIC_MAX_FILES) {
        skip(dir, name, "more files than a page may have (32)");
        return;
    }
    const char *why = NULL;
    size_t len = 0;
    char *data = read_file(dirfd, name, &len, &why);
    if (!data) {
        skip(dir, name, why);
        return;
    }
    json_t *probe = json_stringn(data, len); /* NULL: not UTF-8, or holds NUL */
    if (!probe) {
        skip(dir, name, "not UTF-8 text");
        free(data);
        return;
    }
    json_decref(probe);
    ig_static_file *f = &s->files[s->n++];
    memcpy(f->name, name, name_len + 1);
    f->content_type = type;
    f->data = data;
    f->len = len;
    char hex[65];
    ig_sha256_hex(data, len, hex);
    snprintf(f->etag, sizeof f->etag, "\"%.20s\"", hex);
}

static char *build_csp(const char *s3_origin)
{
    /* img-src: presigned URLs on the bucket, and the page's own blob: previews; connect-src: the
     * presigned upload form, which the page posts to the bucket (fetch, mode no-cors: the form is
     * a simple request, so the bucket needs no CORS rule). Forms go nowhere but the page itself. */
    const char *o = s3_origin && *s3_origin ? s3_origin : "";
    const char *sp = *o ? " " : "";
#define IG_STATIC_CSP                                                                                  \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob: data:%s%s; "        \
    "connect-src 'self'%s%s; form-action 'self'; frame-src 'none'; base-uri 'none'; frame-ancestors 'none'"
    int n = snprintf(NULL, 0, IG_STATIC_CSP, sp, o, sp, o);
    char *csp = n > 0 ? malloc((size_t)n + 1) : NULL;
    if (csp)
        snprintf(csp, (size_t)n + 1, IG_STATIC_CSP, sp, o, sp, o);
#undef IG_STATIC_CSP
    return csp;
}

ig_static *ig_static_load(const char *dir, const char *s3_origin, ig_error *err)
{
    ig_static *s = calloc(1, sizeof *s);
    if (!s || !(s->csp = build_csp(s3_origin))) {
        free(s);
        ig_error_set(err, IG_ERR_NOMEM, "out of memory");
        return NULL;
    }
    DIR *d = dir && *dir ? opendir(dir) : NULL;
    if (!d) {
        ig_log(IG_LOG_INFO, "no web page files: GET / answers 404",
               json_pack("{s:s}", "dir", dir && *dir ? dir : "(none found)"));
        return s;
    }
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        load_one(s, dirfd(d), dir, e->d_name);
    closedir(d);
    return s;
}

void ig_static_free(ig_static *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        free(s->files[i].data);
    free(s->csp);
    free(s);
}

size_t ig_static_count(const ig_static *s)
{
    return s ? s->n : 0;
}

const char *ig_static_csp(const ig_static *s)
{
    return s ? s->csp : "";
}

static const ig_static_file *find(const ig_static *s, const char *name)
{
    for (size_t i = 0; s && name && i < s->n; i++)
        if (!strcmp(s->files[i].name, name))
            return &s->files[i];
    return NULL;
}

/* 1 when an If-None-Match value names etag (or is "*"); weak validators compare the same. */
static int etag_matches(const char *if_none_match, const char *etag)
{
    if (!if_none_match)
        return 0;
    const char *p = if_none_match;
    while (*p == ' ' || *p == '\t')
        p++;
    return !strcmp(p, "*") || strstr(if_none_match, etag) != NULL;
}

int ig_static_answer(const ig_static *s, const char *name, const char *if_none_match, ig_buf *out, int *status,
                     ig_error *err)
{
    const ig_static_file *f = find(s, name);
    if (!f)
        return 0;
    int fresh = etag_matches(if_none_match, f->etag);
    json_t *headers = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Content-Type", f->content_type,
                                "Cache-Control", "no-cache", "ETag", f->etag, "Content-Security-Policy", s->csp,
                                "X-Content-Type-Options", "nosniff", "Referrer-Policy", "no-referrer",
                                "X-Frame-Options", "DENY", "Cross-Origin-Opener-Policy", "same-origin");
    json_t *answer = json_pack("{s:i, s:o, s:s%}", "status", fresh ? 304 : 200, "headers", headers, "body",
                               fresh ? "" : f->data, fresh ? (size_t)0 : f->len);
    if (!answer) {
        ig_error_set(err, IG_ERR_NOMEM, "out of memory");
        return -1;
    }
    ig_err e = ig_response_from_answer(answer, out, err);
    json_decref(answer);
    if (e != IG_OK)
        return -1;
    *status = fresh ? 304 : 200;
    return 1;
}
