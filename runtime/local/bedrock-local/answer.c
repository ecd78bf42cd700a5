/* answer.c - answers are written straight into the reply's buffer: a picture's
 * base64 text (megabytes) is appended once, never copied through a JSON tree. */
#include "answer.h"

#include <stdlib.h>
#include <string.h>

#include "codec/base64.h"
#include "edit.h"
#include "codec/hash.h"
#include "core/clock.h"

/* The cache key: everything that defines one delivered picture, unambiguously serialized. */
static void picture_key(const bl_target *t, const bl_job *job, unsigned index,
                        unsigned char key[32])
{
    ig_buf b;
    ig_buf_init(&b, 0);
    ig_buf_appendf(&b, "%s|%s|%llu|%u|%u|%u|%zu|", t->model->id, procpng_format_name(job->format),
                   (unsigned long long)job->seed, job->width, job->height, index, job->text_len);
    ig_buf_append(&b, job->text, job->text_len);
    ig_sha256(b.data ? b.data : "", b.len, key);
    ig_buf_free(&b);
}

/* Appends the base64 text of picture index to body: an edit's picture (never cached: its key
 * would be its input images), or a text-to-image picture from the cache or freshly drawn. */
static ig_err append_picture(bl_server *s, const bl_target *t, const bl_job *job, unsigned index,
                             ig_buf *body, bl_trace *trace, ig_error *err)
{
    unsigned char key[32];
    if (!job->edit) {
        picture_key(t, job, index, key);
        if (bl_cache_get(s->cache, key, body)) {
            trace->cache_hits++;
            return IG_OK;
        }
    }
    procpng_spec spec = {job->text, job->text_len, job->seed, job->width, job->height, index};
    ig_buf file, b64;
    ig_buf_init(&file, 0);
    ig_buf_init(&b64, 0);
    ig_err e = job->edit ? bl_edit_render(job->edit, index, job->format, &file, err)
                         : procpng_render(&spec, job->format, &file, err);
    if (!e && (e = ig_base64_encode_buf(file.data, file.len, &b64)))
        ig_error_set(err, e, "could not encode a picture: %s", ig_strerror(e));
    if (!e && (e = ig_buf_append(body, b64.data, b64.len)))
        ig_error_set(err, e, "could not grow the answer: %s", ig_strerror(e));
    if (!e && !job->edit)
        bl_cache_put(s->cache, key, b64.data, b64.len);
    ig_buf_free(&file);
    ig_buf_free(&b64);
    return e;
}

/* ["<base64>", ...] for pictures 0 .. count-1. */
static ig_err append_pictures(bl_server *s, const bl_target *t, const bl_job *job, unsigned count,
                              ig_buf *body, bl_trace *trace, ig_error *err)
{
    ig_err e = ig_buf_append_char(body, '[');
    for (unsigned i = 0; !e && i < count; i++) {
        e = ig_buf_append_str(body, i ? ",\"" : "\"");
        if (!e)
            e = append_picture(s, t, job, i, body, trace, err);
        if (!e)
            e = ig_buf_append_char(body, '"');
        if (!e)
            trace->images++;
    }
    return e ? e : ig_buf_append_char(body, ']');
}

/* A JSON string literal for text (encoded by jansson, never spliced). */
static ig_err append_json_string(ig_buf *body, const char *text)
{
    json_t *s = json_string(text);
    char *literal = s ? json_dumps(s, JSON_ENCODE_ANY) : NULL;
    json_decref(s);
    ig_err e = literal ? ig_buf_append_str(body, literal) : IG_ERR_NOMEM;
    free(literal);
    return e;
}

/* Timing, counters and the error sentence common to both shapes. */
static ig_err finish(bl_server *s, double t0, ig_err e, bl_trace *trace, ig_error *err)
{
    trace->render_ms = (ig_mono_s() - t0) * 1000.0;
    bl_stats_add(s->stats, BL_STAT_IMAGES, trace->images);
    bl_stats_add(s->stats, BL_STAT_CACHE_HITS, trace->cache_hits);
    if (e && err->code != e)
        ig_error_set(err, e, "could not build the answer: %s", ig_strerror(e));
    return e;
}

ig_err bl_answer_amazon(bl_server *s, const bl_target *t, const bl_job *job, unsigned withheld,
                        ig_buf *body, bl_trace *trace, ig_error *err)
{
    double t0 = ig_mono_s();
    unsigned shown = withheld < job->count ? job->count - withheld : 0;
    ig_error_clear(err);
    trace->format = procpng_format_name(job->format);
    ig_err e = ig_buf_append_str(body, "{\"images\":");
    if (!e)
        e = append_pictures(s, t, job, shown, body, trace, err);
    if (!e && shown < job->count) {
        e = ig_buf_append_str(body, ",\"error\":");
        if (!e)
            e = append_json_string(body, bl_model_output_filtered_message(t->model));
    }
    if (!e)
        e = ig_buf_append_char(body, '}');
    return finish(s, t0, e, trace, err);
}

ig_err bl_answer_stability(bl_server *s, const bl_target *t, const bl_job *job,
                           const char *reason, ig_buf *body, bl_trace *trace, ig_error *err)
{
    double t0 = ig_mono_s();
    ig_error_clear(err);
    trace->format = procpng_format_name(job->format);
    ig_err e = ig_buf_appendf(body, "{\"seeds\":[%llu],\"finish_reasons\":[",
                              (unsigned long long)job->seed);
    if (!e)
        e = reason ? append_json_string(body, reason) : ig_buf_append_str(body, "null");
    if (!e)
        e = ig_buf_append_str(body, "],\"images\":");
    if (!e)
        e = append_pictures(s, t, job, reason ? 0 : 1, body, trace, err);
    if (!e)
        e = ig_buf_append_char(body, '}');
    return finish(s, t0, e, trace, err);
}

ig_err bl_answer_stability_prompt_filtered(ig_buf *body)
{
    return ig_buf_append_str(body, "{\"finish_reasons\":[\"" BL_REASON_PROMPT "\"]}");
}
