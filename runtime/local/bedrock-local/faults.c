/* faults.c - fault configuration and the per-call decision, behind one mutex
 * (requests arrive on many threads and the control endpoint changes the settings live). */
#include "faults.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/random.h"

#define LATENCY_MAX_MS 600000
#define WORD_MAX 256

typedef struct {
    uint64_t every;
    double rate;
    uint64_t next;
    uint64_t calls; /* seen since the trigger was set */
} bl_trigger;

/* The lists of model ids, each a document member. */
enum { LIST_DENY, LIST_RETIRED, LIST_LEGACY, N_LISTS };
static const char *const list_names[N_LISTS] = {"deny_models", "retired_models",
                                                "legacy_denied_models"};

struct bl_faults {
    pthread_mutex_t lock;
    bl_trigger trig[BL_TRIGGER_COUNT];
    int64_t latency_ms;
    int server_error_status;
    json_t *block_words;      /* array of lower-cased strings */
    json_t *models[N_LISTS];  /* arrays of model ids */
    uint64_t seed;
    uint64_t rng; /* splitmix64 state */
};

static const char *const fault_names[BL_FAULT_COUNT] = {
    "reset",           "truncate",      "non_json",      "model_timeout",
    "model_not_ready", "server_error",  "throttle",      "inference_error",
    "filter_output",   "retired_model", "legacy_denied_model"};

const char *bl_fault_name(bl_fault_kind kind)
{
    return (unsigned)kind < BL_FAULT_COUNT ? fault_names[kind] : "none";
}

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void faults_clear(bl_faults *f)
{
    memset(f->trig, 0, sizeof f->trig);
    f->latency_ms = 0;
    f->server_error_status = 500;
    json_array_clear(f->block_words);
    for (int l = 0; l < N_LISTS; l++)
        json_array_clear(f->models[l]);
}

static void faults_free_arrays(bl_faults *f)
{
    json_decref(f->block_words);
    for (int l = 0; l < N_LISTS; l++)
        json_decref(f->models[l]);
}

bl_faults *bl_faults_new(void)
{
    bl_faults *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    int ok = (f->block_words = json_array()) != NULL;
    for (int l = 0; l < N_LISTS; l++)
        ok &= (f->models[l] = json_array()) != NULL;
    if (!ok || pthread_mutex_init(&f->lock, NULL) != 0) {
        faults_free_arrays(f);
        free(f);
        return NULL;
    }
    faults_clear(f);
    ig_random_bytes(&f->seed, sizeof f->seed);
    f->rng = f->seed;
    return f;
}

void bl_faults_free(bl_faults *f)
{
    if (!f)
        return;
    pthread_mutex_destroy(&f->lock);
    faults_free_arrays(f);
    free(f);
}

/* ---- reading a configuration document ---- */

/* What a document sets; has_* say which members were present. */
typedef struct {
    int has_trig[BL_TRIGGER_COUNT];
    bl_trigger trig[BL_TRIGGER_COUNT];
    int status;
    int has_latency, has_words, has_list[N_LISTS], has_seed;
    int64_t latency_ms;
    json_t *words, *lists[N_LISTS];
    uint64_t seed;
} bl_staged;

static void staged_free(bl_staged *s)
{
    json_decref(s->words);
    for (int l = 0; l < N_LISTS; l++)
        json_decref(s->lists[l]);
}

static int trigger_index(const char *name)
{
    for (int k = 0; k < BL_TRIGGER_COUNT; k++)
        if (strcmp(name, fault_names[k]) == 0)
            return k;
    return -1;
}

static int list_index(const char *name)
{
    for (int l = 0; l < N_LISTS; l++)
        if (strcmp(name, list_names[l]) == 0)
            return l;
    return -1;
}

static ig_err read_count(const json_t *v, const char *where, const char *key, uint64_t *out,
                         ig_error *err)
{
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return ig_error_set(err, IG_ERR_INVALID_ARG, "%s.%s must be a non-negative integer", where,
                            key);
    *out = (uint64_t)json_integer_value(v);
    return IG_OK;
}

static ig_err read_trigger(const json_t *v, int kind, bl_staged *s, ig_error *err)
{
    const char *where = fault_names[kind];
    bl_trigger *t = &s->trig[kind];
    memset(t, 0, sizeof *t);
    s->has_trig[kind] = 1;
    if (json_is_null(v))
        return IG_OK;
    if (!json_is_object(v))
        return ig_error_set(err, IG_ERR_INVALID_ARG,
                            "%s must be an object like {\"every\": 3} or null", where);
    const char *key;
    json_t *m;
    json_object_foreach((json_t *)v, key, m)
    {
        ig_err e = IG_OK;
        if (strcmp(key, "every") == 0)
            e = read_count(m, where, key, &t->every, err);
        else if (strcmp(key, "next") == 0)
            e = read_count(m, where, key, &t->next, err);
        else if (strcmp(key, "rate") == 0) {
            if (!json_is_number(m) || json_number_value(m) < 0 || json_number_value(m) > 1)
                return ig_error_set(err, IG_ERR_INVALID_ARG, "%s.rate must be a number from 0 to 1",
                                    where);
            t->rate = json_number_value(m);
        } else if (strcmp(key, "status") == 0 && kind == BL_FAULT_SERVER_ERROR) {
            json_int_t st = json_is_integer(m) ? json_integer_value(m) : 0;
            if (st != 500 && st != 503)
                return ig_error_set(err, IG_ERR_INVALID_ARG, "server_error.status must be 500 or 503");
            s->status = (int)st;
        } else
            return ig_error_set(err, IG_ERR_INVALID_ARG,
                                "unknown member \"%.64s\" in %s (known: every, rate, next%s)", key,
                                where, kind == BL_FAULT_SERVER_ERROR ? ", status" : "");
        if (e)
            return e;
    }
    return IG_OK;
}

/* A list of non-empty strings; lower-cased when fold (block words match case-insensitively). */
static ig_err read_strings(const json_t *v, const char *where, int fold, json_t **out, ig_error *err)
{
    *out = json_array();
    if (!*out)
        return ig_error_set(err, IG_ERR_NOMEM, "out of memory");
    if (json_is_null(v))
        return IG_OK;
    if (!json_is_array(v))
        return ig_error_set(err, IG_ERR_INVALID_ARG, "%s must be an array of strings", where);
    size_t i;
    json_t *item;
    json_array_foreach(v, i, item)
    {
        size_t len = json_is_string(item) ? json_string_length(item) : 0;
        if (len == 0 || len > WORD_MAX)
            return ig_error_set(err, IG_ERR_INVALID_ARG,
                                "%s[%zu] must be a string of 1 to %d bytes", where, i, WORD_MAX);
        char word[WORD_MAX + 1];
        memcpy(word, json_string_value(item), len);
        word[len] = '\0';
        for (size_t k = 0; fold && k < len; k++)
            if (word[k] >= 'A' && word[k] <= 'Z')
                word[k] = (char)(word[k] - 'A' + 'a');
        json_array_append_new(*out, json_stringn(word, len));
    }
    return IG_OK;
}

static ig_err read_member(const char *key, const json_t *v, bl_staged *s, ig_error *err)
{
    int kind = trigger_index(key);
    if (kind >= 0)
        return read_trigger(v, kind, s, err);
    int list = list_index(key);
    if (list >= 0) {
        s->has_list[list] = 1;
        json_decref(s->lists[list]);
        return read_strings(v, key, 0, &s->lists[list], err);
    }
    if (strcmp(key, "latency_ms") == 0) {
        s->has_latency = 1;
        if (json_is_null(v))
            return IG_OK;
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > LATENCY_MAX_MS)
            return ig_error_set(err, IG_ERR_INVALID_ARG, "latency_ms must be an integer from 0 to %d",
                                LATENCY_MAX_MS);
        s->latency_ms = json_integer_value(v);
        return IG_OK;
    }
    if (strcmp(key, "block_words") == 0) {
        s->has_words = 1;
        json_decref(s->words);
        return read_strings(v, key, 1, &s->words, err);
    }
    if (strcmp(key, "seed") == 0) {
        s->has_seed = 1;
        return read_count(v, "faults", key, &s->seed, err);
    }
    return ig_error_set(err, IG_ERR_INVALID_ARG,
                        "unknown fault setting \"%.64s\" (known: latency_ms, throttle, server_error, "
                        "model_timeout, model_not_ready, truncate, non_json, reset, "
                        "inference_error, filter_output, block_words, deny_models, "
                        "retired_models, legacy_denied_models, seed)",
                        key);
}

ig_err bl_faults_configure(bl_faults *f, const json_t *doc, int replace_all, ig_error *err)
{
    if (!json_is_object(doc))
        return ig_error_set(err, IG_ERR_INVALID_ARG, "the fault configuration must be a JSON object");
    bl_staged s;
    memset(&s, 0, sizeof s);
    s.status = 500;
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)doc, key, v)
    {
        ig_err e = read_member(key, v, &s, err);
        if (e) {
            staged_free(&s);
            return e;
        }
    }
    pthread_mutex_lock(&f->lock);
    if (replace_all)
        faults_clear(f);
    for (int k = 0; k < BL_TRIGGER_COUNT; k++)
        if (s.has_trig[k])
            f->trig[k] = s.trig[k];
    if (s.has_trig[BL_FAULT_SERVER_ERROR])
        f->server_error_status = s.status;
    if (s.has_latency)
        f->latency_ms = s.latency_ms;
    if (s.has_words) {
        json_decref(f->block_words);
        f->block_words = s.words;
        s.words = NULL;
    }
    for (int l = 0; l < N_LISTS; l++) {
        if (s.has_list[l]) {
            json_decref(f->models[l]);
            f->models[l] = s.lists[l];
            s.lists[l] = NULL;
        }
    }
    if (s.has_seed) {
        f->seed = s.seed;
        f->rng = s.seed;
    }
    pthread_mutex_unlock(&f->lock);
    staged_free(&s);
    return IG_OK;
}

json_t *bl_faults_describe(bl_faults *f)
{
    json_t *doc = json_object();
    if (!doc)
        return NULL;
    pthread_mutex_lock(&f->lock);
    json_object_set_new(doc, "latency_ms", json_integer(f->latency_ms));
    for (int k = 0; k < BL_TRIGGER_COUNT; k++) {
        const bl_trigger *t = &f->trig[k];
        json_t *o = json_pack("{s:I,s:f,s:I,s:I}", "every", (json_int_t)t->every, "rate", t->rate,
                              "next", (json_int_t)t->next, "calls", (json_int_t)t->calls);
        if (o && k == BL_FAULT_SERVER_ERROR)
            json_object_set_new(o, "status", json_integer(f->server_error_status));
        json_object_set_new(doc, fault_names[k], o);
    }
    json_object_set_new(doc, "block_words", json_deep_copy(f->block_words));
    for (int l = 0; l < N_LISTS; l++)
        json_object_set_new(doc, list_names[l], json_deep_copy(f->models[l]));
    json_object_set_new(doc, "seed", json_integer((json_int_t)(f->seed & 0x7fffffffffffffffull)));
    pthread_mutex_unlock(&f->lock);
    return doc;
}

static int trigger_active(const bl_trigger *t)
{
    return t->every || t->next || t->rate > 0;
}

/* 1 when list holds model_id or called_id. Under the lock. */
static int list_has(const json_t *list, const char *model_id, const char *called_id)
{
    size_t i;
    json_t *m;
    json_array_foreach(list, i, m)
    {
        if (strcmp(json_string_value(m), model_id) == 0 || strcmp(json_string_value(m), called_id) == 0)
            return 1;
    }
    return 0;
}

void bl_faults_decide(bl_faults *f, const char *model_id, const char *called_id,
                      bl_fault_plan *plan)
{
    pthread_mutex_lock(&f->lock);
    plan->kind = BL_FAULT_NONE;
    plan->latency_ms = f->latency_ms;
    plan->status = f->server_error_status;
    int listed = 1; /* a listed model's calls are not shown to the triggers */
    if (list_has(f->models[LIST_RETIRED], model_id, called_id))
        plan->kind = BL_FAULT_RETIRED;
    else if (list_has(f->models[LIST_LEGACY], model_id, called_id))
        plan->kind = BL_FAULT_LEGACY_DENIED;
    else
        listed = 0;
    for (int k = 0; !listed && k < BL_TRIGGER_COUNT; k++) {
        bl_trigger *t = &f->trig[k];
        if (!trigger_active(t))
            continue;
        t->calls++;
        if (plan->kind != BL_FAULT_NONE)
            continue; /* counted, but a fault earlier in the order already won this call */
        int fire = 0;
        if (t->next > 0) {
            t->next--;
            fire = 1;
        } else if (t->every && t->calls % t->every == 0) {
            fire = 1;
        } else if (t->rate > 0) {
            double u = (double)(splitmix64(&f->rng) >> 11) * (1.0 / 9007199254740992.0);
            fire = u < t->rate;
        }
        if (fire)
            plan->kind = (bl_fault_kind)k;
    }
    pthread_mutex_unlock(&f->lock);
}

static int is_word_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80;
}

/* Whole-word occurrence of needle (lower-case) in hay (lower-cased copy). */
static int contains_word(const char *hay, size_t hay_len, const char *needle, size_t n)
{
    for (size_t i = 0; n && i + n <= hay_len; i++) {
        if (memcmp(hay + i, needle, n) != 0)
            continue;
        int left_ok = i == 0 || !is_word_char((unsigned char)hay[i - 1]) ||
                      !is_word_char((unsigned char)needle[0]);
        int right_ok = i + n == hay_len || !is_word_char((unsigned char)hay[i + n]) ||
                       !is_word_char((unsigned char)needle[n - 1]);
        if (left_ok && right_ok)
            return 1;
    }
    return 0;
}

int bl_faults_blocks_text(bl_faults *f, const char *text, size_t len)
{
    char *lower = malloc(len + 1);
    if (!lower)
        return 0;
    for (size_t i = 0; i < len; i++)
        lower[i] = (text[i] >= 'A' && text[i] <= 'Z') ? (char)(text[i] - 'A' + 'a') : text[i];
    lower[len] = '\0';
    int blocked = 0;
    pthread_mutex_lock(&f->lock);
    size_t i;
    json_t *w;
    json_array_foreach(f->block_words, i, w)
    {
        if (contains_word(lower, len, json_string_value(w), json_string_length(w))) {
            blocked = 1;
            break;
        }
    }
    pthread_mutex_unlock(&f->lock);
    free(lower);
    return blocked;
}

int bl_faults_denies_model(bl_faults *f, const char *model_id, const char *called_id)
{
    pthread_mutex_lock(&f->lock);
    int denied = list_has(f->models[LIST_DENY], model_id, called_id);
    pthread_mutex_unlock(&f->lock);
    return denied;
}
