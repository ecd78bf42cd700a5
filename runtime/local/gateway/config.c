/* config.c - parses and checks imagegen-gateway's flags and variables. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/headers.h"
#include "options.h"

#define GW_DEFAULT_PORT 8080
#define GW_DEFAULT_TIMEOUT_S 29.0
#define GW_DEFAULT_INIT_TIMEOUT_S 10.0
#define GW_DEFAULT_CONCURRENCY 2
#define GW_DEFAULT_QUEUE 100
#define GW_DEFAULT_MEMORY_MB 512
/* Lambda's asynchronous invocation defaults: two retries, about one minute then two minutes
 * apart, events kept six hours at most (MaximumRetryAttempts 0..2, MaximumEventAgeInSeconds
 * 60..21600; locally the age may be shorter, for tests). */
#define GW_DEFAULT_ASYNC_RETRIES 2
#define GW_DEFAULT_ASYNC_RETRY_DELAY_S 60.0
#define GW_DEFAULT_ASYNC_MAX_AGE_S 21600.0
/* The deployed API's routes (terraform/apigateway.tf, which declares /jobs, /jobs/{id}, /images and
 * /images/{id} with jobs_enabled, on by default): every resource's methods and OPTIONS;
 * GET /health needs no key, nor does the web page (GET / and GET /web/{file}: it asks for the
 * key itself), nor the OpenAI-compatible routes: OpenAI clients send their key as
 * Authorization: Bearer, which the policy checks. */
#define GW_DEFAULT_ROUTES                                                                                         \
    "GET /generate-image,POST /generate-image,OPTIONS /generate-image,POST /edit-image,OPTIONS /edit-image,"     \
    "POST /uploads,OPTIONS /uploads,GET /models,OPTIONS /models,POST /jobs,OPTIONS /jobs,GET /jobs/{id},"      \
    "OPTIONS /jobs/{id},GET /images,OPTIONS /images,GET /images/{id},OPTIONS /images/{id}"
#define GW_DEFAULT_PUBLIC_ROUTES                                                                                  \
    "GET /health,OPTIONS /health,GET /,GET /web/{file},POST /v1/images/generations,"                            \
    "OPTIONS /v1/images/generations,POST /v1/images/edits,OPTIONS /v1/images/edits,GET /v1/models,"              \
    "OPTIONS /v1/models"
/* The deployed API's binaryMediaTypes (terraform): OpenAI's image edits come as a form. */
#define GW_DEFAULT_BINARY_MEDIA_TYPES "multipart/form-data"

void gw_config_usage(const char *prog)
{
    printf("usage: %s [options] [-- COMMAND [ARG...]]\n"
           "\n"
           "API Gateway (REST, Lambda proxy, payload 1.0) and the Lambda service on 127.0.0.1:\n"
           "turns HTTP requests into proxy events, runs N execution environments of the function\n"
           "and serves each its own Runtime API (2018-06-01).\n"
           "\n"
           "  --port N              client port (IMAGEGEN_PORT, default 8080; 0 picks a free port)\n"
           "  --timeout S           integration timeout in seconds (IMAGEGEN_TIMEOUT, default 29)\n"
           "  --function-timeout S  function timeout (IMAGEGEN_FUNCTION_TIMEOUT, default: --timeout)\n"
           "  --init-timeout S      init phase limit (default 10)\n"
           "  --concurrency N       execution environments (IMAGEGEN_CONCURRENCY, default 2)\n"
           "  --queue-size N        invocations waiting for an environment (IMAGEGEN_QUEUE_SIZE,\n"
           "                        default 100; beyond it: 429)\n"
           "  --memory-size MB      AWS_LAMBDA_FUNCTION_MEMORY_SIZE (IMAGEGEN_MEMORY_SIZE, default 512)\n"
           "  --function PATH       the function executable (default: bootstrap beside this program)\n"
           "  -- COMMAND [ARG...]   the function as a command with arguments (instead of --function)\n"
           "  --task-root DIR       LAMBDA_TASK_ROOT and the function's working directory (default: .)\n"
           "  --handler NAME        _HANDLER (default: bootstrap)\n"
           "  --function-name NAME  AWS_LAMBDA_FUNCTION_NAME (default: imagegen)\n"
           "  --stage NAME          API stage (IMAGEGEN_STAGE, default: local)\n"
           "  --route ROUTE         \"METHOD /template\" (GET, POST, PUT, DELETE, PATCH, HEAD, OPTIONS,\n"
           "                        ANY) or a bare template for every method, e.g. \"GET /images/{id}\"\n"
           "                        or /{proxy+}; repeatable (IMAGEGEN_ROUTES, comma-separated;\n"
           "                        default: the deployed API's GET and POST /generate-image, POST\n"
           "                        /edit-image, POST /uploads, GET /models, and OPTIONS on each).\n"
           "                        Anything else is answered 403\n"
           "                        missing_authentication_token, as API Gateway does\n"
           "  --public-route ROUTE  a route that needs no API key; repeatable\n"
           "                        (IMAGEGEN_PUBLIC_ROUTES, comma-separated; default GET and\n"
           "                        OPTIONS /health)\n"
           "  --binary-media-types LIST  Content-Types whose bodies reach the function base64-encoded\n"
           "                        (IMAGEGEN_BINARY_MEDIA_TYPES, comma-separated: image/png, image/*, */*);\n"
           "                        default multipart/form-data, as the deployed API: every other body\n"
           "                        is text, non-UTF-8 bytes become U+FFFD\n"
           "  --cors-origins LIST   the allowed origins (IMAGEGEN_CORS_ORIGINS, comma-separated):\n"
           "                        exactly one (or *) puts it in the gateway's own errors'\n"
           "                        Access-Control-Allow-Origin, as the deployed gateway responses\n"
           "  --watch-policy DIR    follow the policy in DIR: when a *.lua file changes, check it\n"
           "                        (imagegen-policy check) and, if it loads, replace every execution\n"
           "                        environment (busy ones finish first); if not, keep the old ones and\n"
           "                        print the error on stderr\n"
           "  --api-keys FILE       require x-api-key (IMAGEGEN_API_KEYS_FILE): JSON\n"
           "                        [{\"id\": \"k1\", \"value\": \"...\", \"name\": \"...\"}]\n"
           "\n"
           "Lambda's Invoke API, for asynchronous invocations (the function's AWS_ENDPOINT_URL_LAMBDA):\n"
           "  --invoke-port N       its port on 127.0.0.1 (IMAGEGEN_INVOKE_PORT, default 0: a free port,\n"
           "                        logged as \"lambda invoke api listening\")\n"
           "  --async-retries N     retries of an event whose attempt failed (function error, timeout,\n"
           "                        crash), 0 to 2 (IMAGEGEN_ASYNC_RETRIES, default 2, as Lambda)\n"
           "  --async-retry-delay S the wait before the first retry; the second waits twice as long\n"
           "                        (IMAGEGEN_ASYNC_RETRY_DELAY, 0 to 3600, default 60: Lambda's 1 then 2 min)\n"
           "  --async-max-age S     an event not run by then is dropped (IMAGEGEN_ASYNC_MAX_AGE, 0.05 to\n"
           "                        21600, default 21600: Lambda's six hours)\n"
           "  --help                this text\n",
           prog);
}

static char *gw_strdup(const char *s)
{
    char *p = strdup(s ? s : "");
    if (!p) {
        fputs("imagegen-gateway: out of memory\n", stderr);
        exit(1);
    }
    return p;
}

static void gw_set(char **field, const char *value)
{
    free(*field);
    *field = gw_strdup(value);
}

/* An absolute version of path (relative to the working directory). */
static char *gw_absolute(const char *path)
{
    if (path[0] == '/')
        return gw_strdup(path);
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd))
        return gw_strdup(path);
    size_t n = strlen(cwd) + strlen(path) + 2;
    char *p = malloc(n);
    if (!p)
        return gw_strdup(path);
    snprintf(p, n, "%s/%s", cwd, path);
    return p;
}

/* argv[0] of the function as an absolute path: searched on PATH when it has no slash. */
static char *gw_resolve_command(const char *cmd, ig_error *err)
{
    if (strchr(cmd, '/')) {
        char *abs = gw_absolute(cmd);
        if (access(abs, X_OK) != 0) {
            ig_error_set(err, IG_ERR_CONFIG, "the function %s is not an executable file (%s)", abs,
                         strerror(errno));
            free(abs);
            return NULL;
        }
        return abs;
    }
    const char *path = getenv("PATH");
    char *copy = gw_strdup(path ? path : "/usr/local/bin:/usr/bin:/bin");
    char *save = NULL;
    for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
        size_t n = strlen(dir) + strlen(cmd) + 2;
        char *candidate = malloc(n);
        if (!candidate)
            break;
        snprintf(candidate, n, "%s/%s", dir, cmd);
        if (access(candidate, X_OK) == 0) {
            free(copy);
            char *abs = gw_absolute(candidate);
            free(candidate);
            return abs;
        }
        free(candidate);
    }
    free(copy);
    ig_error_set(err, IG_ERR_CONFIG, "the function command \"%s\" is not on PATH", cmd);
    return NULL;
}

/* The bootstrap that was built beside this program (build/bootstrap next to build/imagegen-gateway). */
static char *gw_default_function(void)
{
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return gw_strdup("bootstrap");
    self[n] = '\0';
    char *slash = strrchr(self, '/');
    if (slash)
        slash[1] = '\0';
    size_t len = strlen(self) + sizeof "bootstrap";
    char *p = malloc(len);
    if (!p)
        return gw_strdup("bootstrap");
    snprintf(p, len, "%sbootstrap", self);
    return p;
}

/* Lists of strings (routes, origins): r[0..len), trimmed, appended unless blank. */
static void gw_list_add(char ***list, size_t *n, const char *r, size_t len)
{
    while (len && (*r == ' ' || *r == '\t')) {
        r++;
        len--;
    }
    while (len && (r[len - 1] == ' ' || r[len - 1] == '\t'))
        len--;
    if (!len)
        return;
    char **p = realloc(*list, (*n + 1) * sizeof *p);
    if (!p || !(p[*n] = strndup(r, len))) {
        fputs("imagegen-gateway: out of memory\n", stderr);
        exit(1);
    }
    *list = p;
    (*n)++;
}

static void gw_list_clear(char **list, size_t *n)
{
    for (size_t i = 0; i < *n; i++)
        free(list[i]);
    *n = 0;
}

/* Every comma-separated item of text. */
static void gw_list_add_csv(char ***list, size_t *n, const char *text)
{
    const char *p = text;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        gw_list_add(list, n, p, len);
        p += len;
        if (*p == ',')
            p++;
    }
}

static int gw_valid_name(const char *s)
{
    if (!*s || strlen(s) > 64)
        return 0;
    for (const char *p = s; *p; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '-' || *p == '_' || *p == '.'))
            return 0;
    }
    return 1;
}


/* ---- the options: one table, one apply function per kind of value ---- */

/* What parsing fills besides the configuration itself. */
typedef struct {
    gw_config *c;
    char *function;   /* --function */
    char *task_root;  /* --task-root */
    int flag_routes;  /* a --route was given: it replaces IMAGEGEN_ROUTES */
    int flag_public;  /* a --public-route was given: it replaces IMAGEGEN_PUBLIC_ROUTES */
} gw_parsing;

/* The int field of gw_config named by the option's arg, and its bounds. */
typedef struct {
    size_t offset;
    long long min, max;
} gw_int_field;

static const gw_int_field gw_port_field = {offsetof(gw_config, port), 0, 65535};
static const gw_int_field gw_concurrency_field = {offsetof(gw_config, concurrency), 1, 64};
static const gw_int_field gw_queue_field = {offsetof(gw_config, queue_size), 0, 100000};
static const gw_int_field gw_memory_field = {offsetof(gw_config, memory_mb), 128, 10240};

static ig_err gw_apply_int(void *target, const lo_source *src, const char *v, ig_error *err)
{
    gw_parsing *p = target;
    const gw_int_field *f = (const gw_int_field *)src->opt->arg;
    long long n;
    ig_err e = lo_whole_number(src, v, f->min, f->max, &n, err);
    if (!e)
        *(int *)((char *)p->c + f->offset) = (int)n;
    return e;
}

/* A double field of gw_config in seconds, and its bounds. */
typedef struct {
    size_t offset;
    double min, max;
} gw_seconds_field;

static const gw_seconds_field gw_retry_delay_field = {offsetof(gw_config, async_retry_delay_s), 0.0, 3600.0};
static const gw_seconds_field gw_max_age_field = {offsetof(gw_config, async_max_age_s), 0.05, 21600.0};
static const gw_int_field gw_invoke_port_field = {offsetof(gw_config, invoke_port), 0, 65535};
static const gw_int_field gw_async_retries_field = {offsetof(gw_config, async_retries), 0, 2};

static ig_err gw_apply_bounded_seconds(void *target, const lo_source *src, const char *v, ig_error *err)
{
    gw_parsing *p = target;
    const gw_seconds_field *f = (const gw_seconds_field *)src->opt->arg;
    char *end = NULL;
    errno = 0;
    double d = strtod(v, &end);
    if (errno || end == v || *end || !isfinite(d) || d < f->min || d > f->max)
        return ig_error_set(err, IG_ERR_CONFIG, "%s must be a number of seconds from %g to %g, not \"%s\"", src->as,
                            f->min, f->max, v);
    *(double *)((char *)p->c + f->offset) = d;
    return IG_OK;
}

static ig_err gw_apply_seconds(void *target, const lo_source *src, const char *v, ig_error *err)
{
    gw_parsing *p = target;
    char *end = NULL;
    errno = 0;
    double d = strtod(v, &end);
    if (errno || end == v || *end || !isfinite(d) || d < 0.05 || d > 900.0)
        return ig_error_set(err, IG_ERR_CONFIG, "%s must be a number of seconds from 0.05 to 900, not \"%s\"",
                            src->as, v);
    *(double *)((char *)p->c + (size_t)src->opt->arg) = d;
    return IG_OK;
}

/* A string field of gw_config (arg: its offset). */
static ig_err gw_apply_text(void *target, const lo_source *src, const char *v, ig_error *err)
{
    (void)err;
    gw_parsing *p = target;
    gw_set((char **)((char *)p->c + (size_t)src->opt->arg), v);
    return IG_OK;
}

/* A string of the parse itself (arg: its offset in gw_parsing). */
static ig_err gw_apply_path(void *target, const lo_source *src, const char *v, ig_error *err)
{
    (void)err;
    gw_set((char **)((char *)target + (size_t)src->opt->arg), v);
    return IG_OK;
}

/* --route: the first flag replaces the variable's list; the variable's value is a list. */
static ig_err gw_apply_route(void *target, const lo_source *src, const char *v, ig_error *err)
{
    (void)err;
    gw_parsing *p = target;
    if (src->from_env) {
        gw_list_add_csv(&p->c->routes, &p->c->n_routes, v);
        return IG_OK;
    }
    if (!p->flag_routes)
        gw_list_clear(p->c->routes, &p->c->n_routes);
    p->flag_routes = 1;
    gw_list_add(&p->c->routes, &p->c->n_routes, v, strlen(v));
    return IG_OK;
}

/* --cors-origins: a gateway response carries one static origin, so only a list of exactly one
 * gives its errors an Access-Control-Allow-Origin. */
static ig_err gw_apply_cors(void *target, const lo_source *src, const char *v, ig_error *err)
{
    gw_parsing *p = target;
    char **list = NULL;
    size_t n = 0;
    gw_list_add_csv(&list, &n, v);
    ig_err e = IG_OK;
    for (size_t i = 0; i < n && !e; i++)
        if (!ig_header_value_valid(list[i]))
            e = ig_error_set(err, IG_ERR_CONFIG, "%s: \"%.64s\" cannot be a header value", src->as, list[i]);
    free(p->c->cors_origin);
    p->c->cors_origin = !e && n == 1 ? gw_strdup(list[0]) : NULL;
    gw_list_clear(list, &n);
    free(list);
    return e;
}

/* --binary-media-types: a comma-separated list, replacing what was set before. */
static ig_err gw_apply_binary_types(void *target, const lo_source *src, const char *v, ig_error *err)
{
    (void)src, (void)err;
    gw_parsing *p = target;
    gw_list_clear(p->c->binary_media_types, &p->c->n_binary_media_types);
    gw_list_add_csv(&p->c->binary_media_types, &p->c->n_binary_media_types, v);
    return IG_OK;
}

/* --public-route: set, even to "", it replaces the default (GET and OPTIONS /health). */
static ig_err gw_apply_public_route(void *target, const lo_source *src, const char *v, ig_error *err)
{
    (void)err;
    gw_parsing *p = target;
    p->c->public_set = 1;
    if (src->from_env) {
        gw_list_add_csv(&p->c->public_routes, &p->c->n_public_routes, v);
        return IG_OK;
    }
    if (!p->flag_public)
        gw_list_clear(p->c->public_routes, &p->c->n_public_routes);
    p->flag_public = 1;
    gw_list_add(&p->c->public_routes, &p->c->n_public_routes, v, strlen(v));
    return IG_OK;
}

#define GW_FIELD(name) ((intptr_t)offsetof(gw_config, name))
#define GW_PARSING(name) ((intptr_t)offsetof(gw_parsing, name))

static const lo_option gw_options[] = {
    {"port", LO_VALUE, "IMAGEGEN_PORT", gw_apply_int, (intptr_t)&gw_port_field},
    {"timeout", LO_VALUE, "IMAGEGEN_TIMEOUT", gw_apply_seconds, GW_FIELD(timeout_s)},
    {"function-timeout", LO_VALUE, "IMAGEGEN_FUNCTION_TIMEOUT", gw_apply_seconds, GW_FIELD(function_timeout_s)},
    {"init-timeout", LO_VALUE, NULL, gw_apply_seconds, GW_FIELD(init_timeout_s)},
    {"concurrency", LO_VALUE, "IMAGEGEN_CONCURRENCY", gw_apply_int, (intptr_t)&gw_concurrency_field},
    {"queue-size", LO_VALUE, "IMAGEGEN_QUEUE_SIZE", gw_apply_int, (intptr_t)&gw_queue_field},
    {"memory-size", LO_VALUE, "IMAGEGEN_MEMORY_SIZE", gw_apply_int, (intptr_t)&gw_memory_field},
    {"stage", LO_VALUE, "IMAGEGEN_STAGE", gw_apply_text, GW_FIELD(stage)},
    {"api-keys", LO_VALUE, "IMAGEGEN_API_KEYS_FILE", gw_apply_text, GW_FIELD(api_keys_file)},
    {"route", LO_VALUE, "IMAGEGEN_ROUTES", gw_apply_route, 0},
    {"public-route", LO_VALUE | LO_ENV_EMPTY, "IMAGEGEN_PUBLIC_ROUTES", gw_apply_public_route, 0},
    {"cors-origins", LO_VALUE | LO_ENV_EMPTY, "IMAGEGEN_CORS_ORIGINS", gw_apply_cors, 0},
    {"binary-media-types", LO_VALUE | LO_ENV_EMPTY, "IMAGEGEN_BINARY_MEDIA_TYPES", gw_apply_binary_types, 0},
    {"function", LO_VALUE, NULL, gw_apply_path, GW_PARSING(function)},
    {"watch-policy", LO_VALUE, NULL, gw_apply_text, GW_FIELD(watch_policy)},
    {"task-root", LO_VALUE, NULL, gw_apply_path, GW_PARSING(task_root)},
    {"handler", LO_VALUE, NULL, gw_apply_text, GW_FIELD(handler)},
    {"function-name", LO_VALUE, NULL, gw_apply_text, GW_FIELD(function_name)},
    {"invoke-port", LO_VALUE, "IMAGEGEN_INVOKE_PORT", gw_apply_int, (intptr_t)&gw_invoke_port_field},
    {"async-retries", LO_VALUE, "IMAGEGEN_ASYNC_RETRIES", gw_apply_int, (intptr_t)&gw_async_retries_field},
    {"async-retry-delay", LO_VALUE, "IMAGEGEN_ASYNC_RETRY_DELAY", gw_apply_bounded_seconds,
     (intptr_t)&gw_retry_delay_field},
    {"async-max-age", LO_VALUE, "IMAGEGEN_ASYNC_MAX_AGE", gw_apply_bounded_seconds, (intptr_t)&gw_max_age_field},
};


static void gw_defaults(gw_config *c)
{
    memset(c, 0, sizeof *c);
    c->port = GW_DEFAULT_PORT;
    c->timeout_s = GW_DEFAULT_TIMEOUT_S;
    c->init_timeout_s = GW_DEFAULT_INIT_TIMEOUT_S;
    c->concurrency = GW_DEFAULT_CONCURRENCY;
    c->queue_size = GW_DEFAULT_QUEUE;
    c->memory_mb = GW_DEFAULT_MEMORY_MB;
    c->async_retries = GW_DEFAULT_ASYNC_RETRIES;
    c->async_retry_delay_s = GW_DEFAULT_ASYNC_RETRY_DELAY_S;
    c->async_max_age_s = GW_DEFAULT_ASYNC_MAX_AGE_S;
    c->stage = gw_strdup("local");
    c->function_name = gw_strdup("imagegen");
    c->handler = gw_strdup("bootstrap");
    gw_list_add_csv(&c->binary_media_types, &c->n_binary_media_types, GW_DEFAULT_BINARY_MEDIA_TYPES);
    const char *region = getenv("AWS_REGION");
    if (!region || !*region)
        region = getenv("AWS_DEFAULT_REGION");
    c->region = gw_strdup(region && *region ? region : "us-east-1");
}

/* The function command: after "--" (argv[cmd..argc); cmd -1: none), else --function, else the
 * bootstrap beside this program. */
static ig_err gw_function_command(gw_config *c, const gw_parsing *p, int argc, char **argv, int cmd, ig_error *err)
{
    int nargs = cmd >= 0 ? argc - cmd : 0;
    if (cmd >= 0 && nargs == 0)
        return ig_error_set(err, IG_ERR_CONFIG, "\"--\" must be followed by the function command");
    if (cmd >= 0 && p->function)
        return ig_error_set(err, IG_ERR_CONFIG, "give the function either with --function or after \"--\", not both");
    c->function_argv = calloc((size_t)(nargs > 0 ? nargs : 1) + 1, sizeof(char *));
    if (!c->function_argv)
        return ig_error_set(err, IG_ERR_NOMEM, "out of memory");
    char *resolved;
    if (nargs > 0) {
        resolved = gw_resolve_command(argv[cmd], err);
    } else {
        char *chosen = p->function ? gw_absolute(p->function) : gw_default_function();
        resolved = gw_resolve_command(chosen, err);
        free(chosen);
    }
    if (!resolved)
        return IG_ERR_CONFIG;
    c->function_argv[0] = resolved;
    for (int k = 1; k < nargs; k++)
        c->function_argv[k] = gw_strdup(argv[cmd + k]);
    c->runtime_dir = gw_strdup(resolved);
    char *slash = strrchr(c->runtime_dir, '/');
    if (slash && slash != c->runtime_dir)
        *slash = '\0';
    return IG_OK;
}

/* What holds between settings, once every one is read. */
static ig_err gw_finish(gw_config *c, const gw_parsing *p, int argc, char **argv, int cmd, ig_error *err)
{
    if (c->function_timeout_s <= 0)
        c->function_timeout_s = c->timeout_s;
    if (!gw_valid_name(c->stage) || !gw_valid_name(c->function_name))
        return ig_error_set(err, IG_ERR_CONFIG, "the stage and the function name may hold only letters, digits, '-', '_' and '.' (at most 64)");
    if (c->n_routes == 0)
        gw_list_add_csv(&c->routes, &c->n_routes, GW_DEFAULT_ROUTES);
    if (!c->public_set)
        gw_list_add_csv(&c->public_routes, &c->n_public_routes, GW_DEFAULT_PUBLIC_ROUTES);
    ig_err e = gw_function_command(c, p, argc, argv, cmd, err);
    if (e)
        return e;
    char real[PATH_MAX];
    const char *root = p->task_root ? p->task_root : ".";
    if (!realpath(root, real) || access(real, X_OK) != 0)
        return ig_error_set(err, IG_ERR_CONFIG, "the task root %s is not a directory we can enter", root);
    c->task_root = gw_strdup(real);
    return IG_OK;
}

gw_config_outcome gw_config_parse(gw_config *c, int argc, char **argv, ig_error *err)
{
    gw_defaults(c);
    gw_parsing p = {c, NULL, NULL, 0, 0};
    int cmd = -1;
    lo_outcome o = lo_parse(gw_options, sizeof gw_options / sizeof gw_options[0], &p, argc, argv, &cmd, err);
    ig_err e = o == LO_RUN ? gw_finish(c, &p, argc, argv, cmd, err) : IG_OK;
    free(p.function);
    free(p.task_root);
    if (o == LO_HELP)
        return GW_CONFIG_HELP;
    return o == LO_ERROR || e ? GW_CONFIG_ERROR : GW_CONFIG_RUN;
}

void gw_config_free(gw_config *c)
{
    free(c->stage);
    free(c->function_name);
    free(c->handler);
    free(c->task_root);
    free(c->runtime_dir);
    free(c->region);
    free(c->api_keys_file);
    free(c->cors_origin);
    free(c->watch_policy);
    free(c->lambda_endpoint);
    gw_list_clear(c->binary_media_types, &c->n_binary_media_types);
    free(c->binary_media_types);
    if (c->function_argv) {
        for (char **p = c->function_argv; *p; p++)
            free(*p);
        free(c->function_argv);
    }
    gw_list_clear(c->routes, &c->n_routes);
    free(c->routes);
    gw_list_clear(c->public_routes, &c->n_public_routes);
    free(c->public_routes);
    memset(c, 0, sizeof *c);
}
