/* bedrock_local_config.c - command-line parsing: "--name value" or "--name=value", strict
 * numbers, and fault flags turned into the fault document. */
#include "bedrock_local_config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bedrock_local_faults.h"

#define SKEW_DEFAULT_S 300
#define CACHE_DEFAULT_MB 64
#define CONNECTIONS_DEFAULT 256

/* Fault kinds as flags spell them: --throttle-every 3, --server-error-next 2, ... */
static const char *const trigger_flags[BL_TRIGGER_COUNT] = {
    [BL_FAULT_RESET] = "reset",
    [BL_FAULT_TRUNCATE] = "truncate",
    [BL_FAULT_NON_JSON] = "non-json",
    [BL_FAULT_MODEL_TIMEOUT] = "model-timeout",
    [BL_FAULT_MODEL_NOT_READY] = "model-not-ready",
    [BL_FAULT_SERVER_ERROR] = "server-error",
    [BL_FAULT_THROTTLE] = "throttle",
    [BL_FAULT_INFERENCE_ERROR] = "inference-error",
    [BL_FAULT_FILTER_OUTPUT] = "filter-output",
};

void bl_config_usage(FILE *out)
{
    fputs("usage: bedrock-local [options]\n"
          "A stand-in for Amazon Bedrock's InvokeModel on 127.0.0.1 that answers with procedural\n"
          "PNG pictures (not AI-generated).\n"
          "\n"
          "  --port N                 port on 127.0.0.1 (default 0: any free port)\n"
          "  --region R               the region it stands for: signatures and the models it\n"
          "                           serves (default us-east-1; see README)\n"
          "  --access-key-id ID       the one accepted key (default $AWS_ACCESS_KEY_ID)\n"
          "  --secret-access-key S    its secret (default $AWS_SECRET_ACCESS_KEY)\n"
          "  --session-token T        required x-amz-security-token (default $AWS_SESSION_TOKEN\n"
          "                           when the key id comes from the environment)\n"
          "  --no-verify              accept unsigned requests (manual experiments only)\n"
          "  --max-skew-s N           accepted clock skew in seconds (default 300)\n"
          "  --cache-mb N             picture cache size in MiB (default 64; 0 disables)\n"
          "  --max-connections N      concurrent connections (default 256)\n"
          "  --log-prompts            include prompts in the request log lines\n"
          "\n"
          "Faults (also settable at run time with POST /_control/faults):\n"
          "  --latency-ms N           delay every call that reaches the model\n"
          "  --KIND-every N           fault every Nth call\n"
          "  --KIND-rate P            fault with probability P (0..1)\n"
          "  --KIND-next K            fault the next K calls\n"
          "      KIND: throttle, server-error, model-timeout, model-not-ready, truncate,\n"
          "            non-json, reset, inference-error, filter-output\n"
          "  --server-error-status S  500 (InternalServerException, default) or 503\n"
          "                           (ServiceUnavailableException)\n"
          "  --block-word W           content filter: refuse prompts with this word (repeatable)\n"
          "  --deny-model ID          answer 403 AccessDeniedException for this model (repeatable)\n"
          "  --retired-model ID       answer 404 \"reached the end of its life\" (repeatable)\n"
          "  --legacy-denied-model ID answer 403 \"marked by provider as Legacy\" (repeatable)\n"
          "  --fault-seed N           seed for the rate triggers\n"
          "  --faults JSON            a whole fault document (see README), merged over the flags\n",
          out);
}

static char *dup_secret(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void wipe_free(char *s)
{
    if (s) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

void bl_config_free(bl_config *cfg)
{
    wipe_free(cfg->access_key_id);
    wipe_free(cfg->secret_access_key);
    wipe_free(cfg->session_token);
    cfg->access_key_id = cfg->secret_access_key = cfg->session_token = NULL;
    json_decref(cfg->startup_faults);
    cfg->startup_faults = NULL;
}

ig_err bl_config_copy(bl_config *dst, const bl_config *src)
{
    *dst = *src;
    dst->access_key_id = dup_secret(src->access_key_id);
    dst->secret_access_key = dup_secret(src->secret_access_key);
    dst->session_token = dup_secret(src->session_token);
    dst->startup_faults = src->startup_faults ? json_deep_copy(src->startup_faults) : json_object();
    if ((src->access_key_id && !dst->access_key_id) ||
        (src->secret_access_key && !dst->secret_access_key) ||
        (src->session_token && !dst->session_token) || !dst->startup_faults) {
        bl_config_free(dst);
        return IG_ERR_NOMEM;
    }
    return IG_OK;
}

/* ---- values ---- */

static ig_err parse_u64(const char *flag, const char *v, uint64_t max, uint64_t *out, ig_error *err)
{
    char *end;
    errno = 0;
    unsigned long long n = (v[0] >= '0' && v[0] <= '9') ? strtoull(v, &end, 10) : 0;
    if (!(v[0] >= '0' && v[0] <= '9') || errno || *end || n > max)
        return ig_error_set(err, IG_ERR_CONFIG, "%s wants a whole number from 0 to %llu, not \"%.32s\"",
                            flag, (unsigned long long)max, v);
    *out = n;
    return IG_OK;
}

static ig_err parse_rate(const char *flag, const char *v, double *out, ig_error *err)
{
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (errno || end == v || *end || !(d >= 0 && d <= 1))
        return ig_error_set(err, IG_ERR_CONFIG, "%s wants a probability from 0 to 1, not \"%.32s\"",
                            flag, v);
    *out = d;
    return IG_OK;
}

static ig_err check_region(const char *v, ig_error *err)
{
    size_t n = strlen(v);
    if (n == 0 || n >= 64)
        return ig_error_set(err, IG_ERR_CONFIG, "--region must be 1 to 63 characters");
    for (size_t i = 0; i < n; i++)
        if (!((v[i] >= 'a' && v[i] <= 'z') || (v[i] >= '0' && v[i] <= '9') || v[i] == '-'))
            return ig_error_set(err, IG_ERR_CONFIG,
                                "--region may hold only a-z, 0-9 and '-' (like us-east-1)");
    return IG_OK;
}

/* ---- the fault document ---- */

static json_t *member_object(json_t *doc, const char *key)
{
    json_t *o = json_object_get(doc, key);
    if (!json_is_object(o)) {
        o = json_object();
        json_object_set_new(doc, key, o);
    }
    return o;
}

static void append_string(json_t *doc, const char *key, const char *value)
{
    json_t *a = json_object_get(doc, key);
    if (!json_is_array(a)) {
        a = json_array();
        json_object_set_new(doc, key, a);
    }
    json_array_append_new(a, json_string(value));
}

/* --KIND-every / --KIND-rate / --KIND-next: 1 when name is one of them (and it was applied). */
static int trigger_flag(const char *name, const char *value, json_t *doc, ig_err *e, ig_error *err)
{
    static const char *const parts[] = {"every", "rate", "next"};
    for (int k = 0; k < BL_TRIGGER_COUNT; k++) {
        size_t n = strlen(trigger_flags[k]);
        if (strncmp(name, trigger_flags[k], n) != 0 || name[n] != '-')
            continue;
        for (int p = 0; p < 3; p++) {
            if (strcmp(name + n + 1, parts[p]) != 0)
                continue;
            char flag[80];
            snprintf(flag, sizeof flag, "--%s", name);
            json_t *trig = member_object(doc, bl_fault_name((bl_fault_kind)k));
            if (p == 1) {
                double rate = 0;
                if (!(*e = parse_rate(flag, value, &rate, err)))
                    json_object_set_new(trig, "rate", json_real(rate));
            } else {
                uint64_t count = 0;
                if (!(*e = parse_u64(flag, value, INT64_MAX, &count, err)))
                    json_object_set_new(trig, parts[p], json_integer((json_int_t)count));
            }
            return 1;
        }
    }
    return 0;
}

static ig_err merge_faults_json(json_t *doc, const char *text, ig_error *err)
{
    json_error_t jerr;
    json_t *given = json_loads(text, 0, &jerr);
    if (!json_is_object(given)) {
        json_decref(given);
        return ig_error_set(err, IG_ERR_CONFIG, "--faults wants a JSON object: %s",
                            given ? "got another JSON value" : jerr.text);
    }
    json_object_update(doc, given);
    json_decref(given);
    return IG_OK;
}

/* ---- the flags ---- */

static ig_err apply_flag(bl_config *cfg, const char *name, const char *value, ig_error *err)
{
    uint64_t n;
    ig_err e = IG_OK;
    char flag[80];
    snprintf(flag, sizeof flag, "--%s", name);
    if (strcmp(name, "port") == 0) {
        if (!(e = parse_u64(flag, value, 65535, &n, err)))
            cfg->port = (unsigned)n;
    } else if (strcmp(name, "region") == 0) {
        if (!(e = check_region(value, err)))
            snprintf(cfg->region, sizeof cfg->region, "%s", value);
    } else if (strcmp(name, "access-key-id") == 0) {
        wipe_free(cfg->access_key_id);
        cfg->access_key_id = dup_secret(value);
    } else if (strcmp(name, "secret-access-key") == 0) {
        wipe_free(cfg->secret_access_key);
        cfg->secret_access_key = dup_secret(value);
    } else if (strcmp(name, "session-token") == 0) {
        wipe_free(cfg->session_token);
        cfg->session_token = dup_secret(value);
    } else if (strcmp(name, "max-skew-s") == 0) {
        if (!(e = parse_u64(flag, value, 7 * 24 * 3600, &n, err)))
            cfg->max_skew_s = (int64_t)n;
    } else if (strcmp(name, "cache-mb") == 0) {
        if (!(e = parse_u64(flag, value, 65536, &n, err)))
            cfg->cache_bytes = (size_t)n * 1024 * 1024;
    } else if (strcmp(name, "max-connections") == 0) {
        if (!(e = parse_u64(flag, value, 65536, &n, err)) && n == 0)
            e = ig_error_set(err, IG_ERR_CONFIG, "--max-connections must be at least 1");
        cfg->max_connections = (unsigned)n;
    } else if (strcmp(name, "latency-ms") == 0) {
        if (!(e = parse_u64(flag, value, 600000, &n, err)))
            json_object_set_new(cfg->startup_faults, "latency_ms", json_integer((json_int_t)n));
    } else if (strcmp(name, "server-error-status") == 0) {
        if (!(e = parse_u64(flag, value, 999, &n, err)) && n != 500 && n != 503)
            e = ig_error_set(err, IG_ERR_CONFIG, "--server-error-status must be 500 or 503");
        if (!e)
            json_object_set_new(member_object(cfg->startup_faults, "server_error"), "status",
                                json_integer((json_int_t)n));
    } else if (strcmp(name, "block-word") == 0) {
        append_string(cfg->startup_faults, "block_words", value);
    } else if (strcmp(name, "deny-model") == 0) {
        append_string(cfg->startup_faults, "deny_models", value);
    } else if (strcmp(name, "retired-model") == 0) {
        append_string(cfg->startup_faults, "retired_models", value);
    } else if (strcmp(name, "legacy-denied-model") == 0) {
        append_string(cfg->startup_faults, "legacy_denied_models", value);
    } else if (strcmp(name, "fault-seed") == 0) {
        if (!(e = parse_u64(flag, value, INT64_MAX, &n, err)))
            json_object_set_new(cfg->startup_faults, "seed", json_integer((json_int_t)n));
    } else if (strcmp(name, "faults") == 0) {
        e = merge_faults_json(cfg->startup_faults, value, err);
    } else if (!trigger_flag(name, value, cfg->startup_faults, &e, err)) {
        e = ig_error_set(err, IG_ERR_CONFIG, "unknown option --%.64s (see --help)", name);
    }
    return e;
}

/* Flags that take a value (the trigger flags are recognized by trigger_flag_known). */
static const char *const value_flags[] = {
    "port",       "region",     "access-key-id",       "secret-access-key", "session-token",
    "max-skew-s", "cache-mb",   "max-connections",     "latency-ms",        "server-error-status",
    "block-word", "deny-model", "fault-seed",          "faults",            "retired-model",
    "legacy-denied-model",      NULL};

static int trigger_flag_known(const char *name)
{
    static const char *const parts[] = {"every", "rate", "next"};
    for (int k = 0; k < BL_TRIGGER_COUNT; k++) {
        size_t n = strlen(trigger_flags[k]);
        if (strncmp(name, trigger_flags[k], n) == 0 && name[n] == '-')
            for (int p = 0; p < 3; p++)
                if (strcmp(name + n + 1, parts[p]) == 0)
                    return 1;
    }
    return 0;
}

static int takes_value(const char *name)
{
    for (const char *const *f = value_flags; *f; f++)
        if (strcmp(name, *f) == 0)
            return 1;
    return trigger_flag_known(name);
}

static int is_switch(const char *name)
{
    return !strcmp(name, "no-verify") || !strcmp(name, "log-prompts") || !strcmp(name, "help");
}

static void apply_switch(bl_config *cfg, const char *name)
{
    if (!strcmp(name, "no-verify"))
        cfg->verify = 0;
    else if (!strcmp(name, "log-prompts"))
        cfg->log_prompts = 1;
    else
        cfg->help = 1;
}

static ig_err credentials_from_env(bl_config *cfg, ig_error *err)
{
    if (!cfg->access_key_id) {
        const char *id = getenv("AWS_ACCESS_KEY_ID"), *token = getenv("AWS_SESSION_TOKEN");
        if (id && *id) {
            cfg->access_key_id = dup_secret(id);
            if (!cfg->session_token && token && *token)
                cfg->session_token = dup_secret(token);
        }
    }
    if (!cfg->secret_access_key) {
        const char *secret = getenv("AWS_SECRET_ACCESS_KEY");
        if (secret && *secret)
            cfg->secret_access_key = dup_secret(secret);
    }
    if (cfg->verify && (!cfg->access_key_id || !*cfg->access_key_id || !cfg->secret_access_key ||
                        !*cfg->secret_access_key))
        return ig_error_set(err, IG_ERR_CONFIG,
                            "no credentials: give --access-key-id and --secret-access-key (or set "
                            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or --no-verify");
    return IG_OK;
}

ig_err bl_config_parse(bl_config *cfg, int argc, char **argv, ig_error *err)
{
    memset(cfg, 0, sizeof *cfg);
    snprintf(cfg->region, sizeof cfg->region, "us-east-1");
    cfg->verify = 1;
    cfg->max_skew_s = SKEW_DEFAULT_S;
    cfg->cache_bytes = (size_t)CACHE_DEFAULT_MB * 1024 * 1024;
    cfg->max_connections = CONNECTIONS_DEFAULT;
    cfg->startup_faults = json_object();
    if (!cfg->startup_faults)
        return ig_error_set(err, IG_ERR_NOMEM, "out of memory");

    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strncmp(arg, "--", 2) != 0 || !arg[2]) {
            bl_config_free(cfg);
            return ig_error_set(err, IG_ERR_CONFIG, "unexpected argument \"%.64s\" (see --help)", arg);
        }
        char name[64];
        const char *eq = strchr(arg + 2, '=');
        size_t len = eq ? (size_t)(eq - arg - 2) : strlen(arg + 2);
        snprintf(name, sizeof name, "%.*s", (int)(len < sizeof name ? len : sizeof name - 1), arg + 2);
        ig_err e;
        if (is_switch(name)) {
            e = eq ? ig_error_set(err, IG_ERR_CONFIG, "--%s takes no value", name) : IG_OK;
            if (!e)
                apply_switch(cfg, name);
        } else if (!takes_value(name)) {
            e = ig_error_set(err, IG_ERR_CONFIG, "unknown option --%.63s (see --help)", name);
        } else if (!eq && i + 1 >= argc) {
            e = ig_error_set(err, IG_ERR_CONFIG, "--%.63s needs a value", name);
        } else {
            e = apply_flag(cfg, name, eq ? eq + 1 : argv[++i], err);
        }
        if (e) {
            bl_config_free(cfg);
            return e;
        }
    }
    if (cfg->help)
        return IG_OK;
    ig_err e = credentials_from_env(cfg, err);
    if (e)
        bl_config_free(cfg);
    return e;
}
