/* gateway_config.c - parses and checks imagegen-gateway's flags and variables. */
#include "gateway_config.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define GW_DEFAULT_PORT 8080
#define GW_DEFAULT_TIMEOUT_S 29.0
#define GW_DEFAULT_INIT_TIMEOUT_S 10.0
#define GW_DEFAULT_CONCURRENCY 2
#define GW_DEFAULT_QUEUE 100
#define GW_DEFAULT_MEMORY_MB 512
/* The deployed API's resources (terraform/apigateway.tf): /health needs no key. */
#define GW_DEFAULT_ROUTES "/generate-image,/models"
#define GW_DEFAULT_PUBLIC_ROUTES "/health"

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
           "  --route TEMPLATE      a resource, e.g. /generate-image or /images/{id}; repeatable\n"
           "                        (IMAGEGEN_ROUTES, comma-separated; default /generate-image,/models);\n"
           "                        other paths reach the function as /{proxy+}\n"
           "  --public-route T      a resource that needs no API key; repeatable\n"
           "                        (IMAGEGEN_PUBLIC_ROUTES, comma-separated; default /health)\n"
           "  --api-keys FILE       require x-api-key (IMAGEGEN_API_KEYS_FILE): JSON\n"
           "                        [{\"id\": \"k1\", \"value\": \"...\", \"name\": \"...\"}]\n"
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

static const char *gw_env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

static ig_err gw_parse_int(const char *what, const char *s, long min, long max, int *out, ig_error *err)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < min || v > max)
        return ig_error_set(err, IG_ERR_CONFIG, "%s must be a whole number from %ld to %ld, not \"%s\"",
                            what, min, max, s);
    *out = (int)v;
    return IG_OK;
}

static ig_err gw_parse_seconds(const char *what, const char *s, double *out, ig_error *err)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v < 0.05 || v > 900.0)
        return ig_error_set(err, IG_ERR_CONFIG, "%s must be a number of seconds from 0.05 to 900, not \"%s\"",
                            what, s);
    *out = v;
    return IG_OK;
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

static void gw_add_route(char ***list, size_t *n, const char *r, size_t len)
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

static void gw_clear_routes(char **list, size_t *n)
{
    for (size_t i = 0; i < *n; i++)
        free(list[i]);
    *n = 0;
}

static void gw_add_route_list(char ***list, size_t *n, const char *text)
{
    const char *p = text;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        gw_add_route(list, n, p, len);
        p += len;
        if (*p == ',')
            p++;
    }
}

static ig_err gw_from_env(gw_config *c, ig_error *err)
{
    const char *v;
    ig_err e = IG_OK;
    if ((v = gw_env("IMAGEGEN_PORT")))
        e = gw_parse_int("IMAGEGEN_PORT", v, 0, 65535, &c->port, err);
    if (!e && (v = gw_env("IMAGEGEN_TIMEOUT")))
        e = gw_parse_seconds("IMAGEGEN_TIMEOUT", v, &c->timeout_s, err);
    if (!e && (v = gw_env("IMAGEGEN_FUNCTION_TIMEOUT")))
        e = gw_parse_seconds("IMAGEGEN_FUNCTION_TIMEOUT", v, &c->function_timeout_s, err);
    if (!e && (v = gw_env("IMAGEGEN_CONCURRENCY")))
        e = gw_parse_int("IMAGEGEN_CONCURRENCY", v, 1, 64, &c->concurrency, err);
    if (!e && (v = gw_env("IMAGEGEN_QUEUE_SIZE")))
        e = gw_parse_int("IMAGEGEN_QUEUE_SIZE", v, 0, 100000, &c->queue_size, err);
    if (!e && (v = gw_env("IMAGEGEN_MEMORY_SIZE")))
        e = gw_parse_int("IMAGEGEN_MEMORY_SIZE", v, 128, 10240, &c->memory_mb, err);
    if (!e && (v = gw_env("IMAGEGEN_STAGE")))
        gw_set(&c->stage, v);
    if (!e && (v = gw_env("IMAGEGEN_API_KEYS_FILE")))
        gw_set(&c->api_keys_file, v);
    if (!e && (v = gw_env("IMAGEGEN_ROUTES")))
        gw_add_route_list(&c->routes, &c->n_routes, v);
    if (!e && (v = getenv("IMAGEGEN_PUBLIC_ROUTES")) != NULL) {
        gw_add_route_list(&c->public_routes, &c->n_public_routes, v);
        c->public_set = 1; /* set, even to "": no public resource */
    }
    return e;
}

/* "--name=value" or "--name value": the value, advancing *i; NULL when the flag is not name. */
static const char *gw_flag_value(int argc, char **argv, int *i, const char *name, int *missing)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0)
        return NULL;
    if (a[n] == '=')
        return a + n + 1;
    if (a[n] != '\0')
        return NULL;
    if (*i + 1 >= argc) {
        *missing = 1;
        return NULL;
    }
    (*i)++;
    return argv[*i];
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

static gw_config_outcome gw_fail(ig_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static gw_config_outcome gw_fail(ig_error *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    err->code = IG_ERR_CONFIG;
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return GW_CONFIG_ERROR;
}

gw_config_outcome gw_config_parse(gw_config *c, int argc, char **argv, ig_error *err)
{
    memset(c, 0, sizeof *c);
    c->port = GW_DEFAULT_PORT;
    c->timeout_s = GW_DEFAULT_TIMEOUT_S;
    c->init_timeout_s = GW_DEFAULT_INIT_TIMEOUT_S;
    c->concurrency = GW_DEFAULT_CONCURRENCY;
    c->queue_size = GW_DEFAULT_QUEUE;
    c->memory_mb = GW_DEFAULT_MEMORY_MB;
    c->stage = gw_strdup("local");
    c->function_name = gw_strdup("imagegen");
    c->handler = gw_strdup("bootstrap");
    const char *region = gw_env("AWS_REGION");
    if (!region)
        region = gw_env("AWS_DEFAULT_REGION");
    c->region = gw_strdup(region ? region : "us-east-1");

    if (gw_from_env(c, err))
        return GW_CONFIG_ERROR;
    int env_routes = c->n_routes > 0, flag_routes = 0, flag_public = 0;
    char *function = NULL;
    char *task_root = NULL;
    int cmd_at = -1;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v;
        int missing = 0;
        ig_err e = IG_OK;
        if (strcmp(a, "--") == 0) {
            cmd_at = i + 1;
            break;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            free(function);
            free(task_root);
            return GW_CONFIG_HELP;
        }
#define GW_FLAG(name) ((v = gw_flag_value(argc, argv, &i, name, &missing)) != NULL || missing)
        if (GW_FLAG("--port"))
            e = v ? gw_parse_int("--port", v, 0, 65535, &c->port, err) : IG_ERR_CONFIG;
        else if (GW_FLAG("--timeout"))
            e = v ? gw_parse_seconds("--timeout", v, &c->timeout_s, err) : IG_ERR_CONFIG;
        else if (GW_FLAG("--function-timeout"))
            e = v ? gw_parse_seconds("--function-timeout", v, &c->function_timeout_s, err) : IG_ERR_CONFIG;
        else if (GW_FLAG("--init-timeout"))
            e = v ? gw_parse_seconds("--init-timeout", v, &c->init_timeout_s, err) : IG_ERR_CONFIG;
        else if (GW_FLAG("--concurrency"))
            e = v ? gw_parse_int("--concurrency", v, 1, 64, &c->concurrency, err) : IG_ERR_CONFIG;
        else if (GW_FLAG("--queue-size"))
            e = v ? gw_parse_int("--queue-size", v, 0, 100000, &c->queue_size, err) : IG_ERR_CONFIG;
        else if (GW_FLAG("--memory-size"))
            e = v ? gw_parse_int("--memory-size", v, 128, 10240, &c->memory_mb, err) : IG_ERR_CONFIG;
        else if (GW_FLAG("--function")) {
            if (v)
                gw_set(&function, v);
        } else if (GW_FLAG("--task-root")) {
            if (v)
                gw_set(&task_root, v);
        } else if (GW_FLAG("--handler")) {
            if (v)
                gw_set(&c->handler, v);
        } else if (GW_FLAG("--function-name")) {
            if (v)
                gw_set(&c->function_name, v);
        } else if (GW_FLAG("--stage")) {
            if (v)
                gw_set(&c->stage, v);
        } else if (GW_FLAG("--api-keys")) {
            if (v)
                gw_set(&c->api_keys_file, v);
        } else if (GW_FLAG("--route")) {
            if (v) {
                if (env_routes && !flag_routes) /* flags replace the variable's list */
                    gw_clear_routes(c->routes, &c->n_routes);
                flag_routes = 1;
                gw_add_route(&c->routes, &c->n_routes, v, strlen(v));
            }
        } else if (GW_FLAG("--public-route")) {
            if (v) {
                if (!flag_public)
                    gw_clear_routes(c->public_routes, &c->n_public_routes);
                flag_public = c->public_set = 1;
                gw_add_route(&c->public_routes, &c->n_public_routes, v, strlen(v));
            }
        } else {
            free(function);
            free(task_root);
            return gw_fail(err, "unknown option \"%s\" (see --help)", a);
        }
#undef GW_FLAG
        if (missing) {
            free(function);
            free(task_root);
            return gw_fail(err, "%s needs a value", a);
        }
        if (e) {
            free(function);
            free(task_root);
            return GW_CONFIG_ERROR;
        }
    }

    if (c->function_timeout_s <= 0)
        c->function_timeout_s = c->timeout_s;
    if (!gw_valid_name(c->stage) || !gw_valid_name(c->function_name)) {
        free(function);
        free(task_root);
        return gw_fail(err, "%s", "the stage and the function name may hold only letters, digits, '-', '_' and '.' (at most 64)");
    }
    if (c->n_routes == 0)
        gw_add_route_list(&c->routes, &c->n_routes, GW_DEFAULT_ROUTES);
    if (!c->public_set)
        gw_add_route_list(&c->public_routes, &c->n_public_routes, GW_DEFAULT_PUBLIC_ROUTES);

    int nargs = cmd_at >= 0 ? argc - cmd_at : 0;
    if (cmd_at >= 0 && nargs == 0) {
        free(function);
        free(task_root);
        return gw_fail(err, "%s", "\"--\" must be followed by the function command");
    }
    if (cmd_at >= 0 && function) {
        free(function);
        free(task_root);
        return gw_fail(err, "%s", "give the function either with --function or after \"--\", not both");
    }
    c->function_argv = calloc((size_t)(nargs > 0 ? nargs : 1) + 1, sizeof(char *));
    if (!c->function_argv) {
        free(function);
        free(task_root);
        return gw_fail(err, "%s", "out of memory");
    }
    const char *cmd = cmd_at >= 0 ? argv[cmd_at] : NULL;
    char *resolved;
    if (cmd) {
        resolved = gw_resolve_command(cmd, err);
    } else {
        char *chosen = function ? gw_absolute(function) : gw_default_function();
        resolved = gw_resolve_command(chosen, err);
        free(chosen);
    }
    free(function);
    if (!resolved) {
        free(task_root);
        return GW_CONFIG_ERROR;
    }
    c->function_argv[0] = resolved;
    for (int k = 1; k < nargs; k++)
        c->function_argv[k] = gw_strdup(argv[cmd_at + k]);

    char real[PATH_MAX];
    if (!realpath(task_root ? task_root : ".", real) || access(real, X_OK) != 0) {
        gw_config_outcome o = gw_fail(err, "the task root %s is not a directory we can enter", task_root ? task_root : ".");
        free(task_root);
        return o;
    }
    free(task_root);
    c->task_root = gw_strdup(real);
    c->runtime_dir = gw_strdup(resolved);
    char *slash = strrchr(c->runtime_dir, '/');
    if (slash && slash != c->runtime_dir)
        *slash = '\0';
    return GW_CONFIG_RUN;
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
    if (c->function_argv) {
        for (char **p = c->function_argv; *p; p++)
            free(*p);
        free(c->function_argv);
    }
    gw_clear_routes(c->routes, &c->n_routes);
    free(c->routes);
    gw_clear_routes(c->public_routes, &c->n_public_routes);
    free(c->public_routes);
    memset(c, 0, sizeof *c);
}
