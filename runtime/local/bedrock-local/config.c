/* config.c - bedrock-local's options as a table (common/options.h): strict numbers,
 * and fault flags turned into the fault document. */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "faults.h"
#include "options.h"

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

void bl_config_free(bl_config *cfg)
{
    lo_credentials_free(&cfg->creds);
    json_decref(cfg->startup_faults);
    cfg->startup_faults = NULL;
}

ig_err bl_config_copy(bl_config *dst, const bl_config *src)
{
    *dst = *src;
    dst->startup_faults = src->startup_faults ? json_deep_copy(src->startup_faults) : json_object();
    if (lo_credentials_copy(&dst->creds, &src->creds) != IG_OK || !dst->startup_faults) {
        bl_config_free(dst);
        return IG_ERR_NOMEM;
    }
    return IG_OK;
}

/* ---- values ---- */

static ig_err parse_rate(const lo_source *src, const char *v, double *out, ig_error *err)
{
    char *end;
    errno = 0;
    double d = strtod(v, &end);
    if (errno || end == v || *end || !(d >= 0 && d <= 1))
        return ig_error_set(err, IG_ERR_CONFIG, "%s wants a probability from 0 to 1, not \"%.32s\"",
                            src->as, v);
    *out = d;
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

/* ---- the options: one table, one apply function each ---- */

static ig_err apply_no_verify(void *cfg, const lo_source *src, const char *v, ig_error *err)
{
    (void)src, (void)v, (void)err;
    ((bl_config *)cfg)->verify = 0;
    return IG_OK;
}

static ig_err apply_log_prompts(void *cfg, const lo_source *src, const char *v, ig_error *err)
{
    (void)src, (void)v, (void)err;
    ((bl_config *)cfg)->log_prompts = 1;
    return IG_OK;
}

static ig_err apply_max_skew(void *cfg, const lo_source *src, const char *v, ig_error *err)
{
    long long n;
    ig_err e = lo_whole_number(src, v, 0, 7 * 24 * 3600, &n, err);
    if (!e)
        ((bl_config *)cfg)->max_skew_s = (int64_t)n;
    return e;
}

static ig_err apply_cache_mb(void *cfg, const lo_source *src, const char *v, ig_error *err)
{
    long long n;
    ig_err e = lo_whole_number(src, v, 0, 65536, &n, err);
    if (!e)
        ((bl_config *)cfg)->cache_bytes = (size_t)n * 1024 * 1024;
    return e;
}

static ig_err apply_max_connections(void *cfg, const lo_source *src, const char *v, ig_error *err)
{
    long long n;
    ig_err e = lo_whole_number(src, v, 1, 65536, &n, err);
    if (!e)
        ((bl_config *)cfg)->max_connections = (unsigned)n;
    return e;
}

/* A whole number of the fault document (arg: the member's name), up to INT64_MAX. */
static ig_err apply_fault_number(void *cfg, const lo_source *src, const char *v, ig_error *err)
{
    long long n;
    long long max = strcmp((const char *)src->opt->arg, "latency_ms") == 0 ? 600000 : INT64_MAX;
    ig_err e = lo_whole_number(src, v, 0, max, &n, err);
    if (!e)
        json_object_set_new(((bl_config *)cfg)->startup_faults, (const char *)src->opt->arg,
                            json_integer((json_int_t)n));
    return e;
}

static ig_err apply_server_error_status(void *cfg, const lo_source *src, const char *v, ig_error *err)
{
    (void)src;
    if (strcmp(v, "500") != 0 && strcmp(v, "503") != 0)
        return ig_error_set(err, IG_ERR_CONFIG, "--server-error-status must be 500 or 503");
    json_object_set_new(member_object(((bl_config *)cfg)->startup_faults, "server_error"), "status",
                        json_integer(atoi(v)));
    return IG_OK;
}

/* One more string in a list of the fault document (arg: the member's name). */
static ig_err apply_fault_list(void *cfg, const lo_source *src, const char *v, ig_error *err)
{
    (void)err;
    append_string(((bl_config *)cfg)->startup_faults, (const char *)src->opt->arg, v);
    return IG_OK;
}

static ig_err apply_faults(void *cfg, const lo_source *src, const char *v, ig_error *err)
{
    (void)src;
    return merge_faults_json(((bl_config *)cfg)->startup_faults, v, err);
}

/* --KIND-every / --KIND-next / --KIND-rate (arg: kind * 3 + part). */
static const char *const trigger_parts[] = {"every", "next", "rate"};

static ig_err apply_trigger(void *cfg, const lo_source *src, const char *v, ig_error *err)
{
    int kind = (int)(src->opt->arg / 3), part = (int)(src->opt->arg % 3);
    json_t *trig = member_object(((bl_config *)cfg)->startup_faults, bl_fault_name((bl_fault_kind)kind));
    if (part == 2) {
        double rate = 0;
        ig_err e = parse_rate(src, v, &rate, err);
        if (!e)
            json_object_set_new(trig, "rate", json_real(rate));
        return e;
    }
    long long count;
    ig_err e = lo_whole_number(src, v, 0, INT64_MAX, &count, err);
    if (!e)
        json_object_set_new(trig, trigger_parts[part], json_integer((json_int_t)count));
    return e;
}

#define BL_OFFSET(field) ((intptr_t)offsetof(bl_config, field))

static const lo_option fixed_options[] = {
    {"port", LO_VALUE, NULL, lo_apply_port, BL_OFFSET(port)},
    {"region", LO_VALUE, NULL, lo_apply_region, BL_OFFSET(region)},
    {"access-key-id", LO_VALUE, NULL, lo_apply_secret, BL_OFFSET(creds.access_key_id)},
    {"secret-access-key", LO_VALUE, NULL, lo_apply_secret, BL_OFFSET(creds.secret_access_key)},
    {"session-token", LO_VALUE, NULL, lo_apply_secret, BL_OFFSET(creds.session_token)},
    {"no-verify", 0, NULL, apply_no_verify, 0},
    {"max-skew-s", LO_VALUE, NULL, apply_max_skew, 0},
    {"cache-mb", LO_VALUE, NULL, apply_cache_mb, 0},
    {"max-connections", LO_VALUE, NULL, apply_max_connections, 0},
    {"log-prompts", 0, NULL, apply_log_prompts, 0},
    {"latency-ms", LO_VALUE, NULL, apply_fault_number, (intptr_t)"latency_ms"},
    {"server-error-status", LO_VALUE, NULL, apply_server_error_status, 0},
    {"block-word", LO_VALUE, NULL, apply_fault_list, (intptr_t)"block_words"},
    {"deny-model", LO_VALUE, NULL, apply_fault_list, (intptr_t)"deny_models"},
    {"retired-model", LO_VALUE, NULL, apply_fault_list, (intptr_t)"retired_models"},
    {"legacy-denied-model", LO_VALUE, NULL, apply_fault_list, (intptr_t)"legacy_denied_models"},
    {"fault-seed", LO_VALUE, NULL, apply_fault_number, (intptr_t)"seed"},
    {"faults", LO_VALUE, NULL, apply_faults, 0},
};

#define FIXED_COUNT (sizeof fixed_options / sizeof fixed_options[0])
#define TRIGGER_COUNT ((size_t)BL_TRIGGER_COUNT * 3)

/* The whole table: the fixed options, then --KIND-every/-next/-rate for every fault kind,
 * named after trigger_flags. names holds the generated names. */
static void build_table(lo_option *table, char names[][48])
{
    memcpy(table, fixed_options, sizeof fixed_options);
    for (size_t i = 0; i < TRIGGER_COUNT; i++) {
        snprintf(names[i], 48, "%s-%s", trigger_flags[i / 3], trigger_parts[i % 3]);
        table[FIXED_COUNT + i] = (lo_option){names[i], LO_VALUE, NULL, apply_trigger, (intptr_t)i};
    }
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

    lo_option table[FIXED_COUNT + TRIGGER_COUNT];
    char names[TRIGGER_COUNT][48];
    build_table(table, names);
    lo_outcome o = lo_parse(table, FIXED_COUNT + TRIGGER_COUNT, cfg, argc, argv, NULL, err);
    ig_err e = o == LO_ERROR ? IG_ERR_CONFIG : IG_OK;
    cfg->help = o == LO_HELP;
    if (!e && !cfg->help)
        e = lo_credentials_from_env(&cfg->creds, cfg->verify, ", or --no-verify", err);
    if (e)
        bl_config_free(cfg);
    return e;
}
