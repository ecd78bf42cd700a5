/* control.c - the control endpoints: a small table of (path, method, handler). */
#include "control.h"

#include <string.h>

typedef void (*control_fn)(bl_server *s, const bl_request *req, bl_reply *reply);

static void control_health(bl_server *s, const bl_request *req, bl_reply *reply)
{
    (void)s;
    (void)req;
    bl_reply_json(reply, 200, json_pack("{s:s}", "status", "ok"));
}

static void control_stats(bl_server *s, const bl_request *req, bl_reply *reply)
{
    (void)req;
    json_t *doc = bl_stats_json(s->stats);
    if (doc)
        json_object_set_new(doc, "cache", bl_cache_json(s->cache));
    bl_reply_json(reply, 200, doc);
}

static void control_faults_get(bl_server *s, const bl_request *req, bl_reply *reply)
{
    (void)req;
    bl_reply_json(reply, 200, bl_faults_describe(s->faults));
}

static void control_faults_post(bl_server *s, const bl_request *req, bl_reply *reply)
{
    if (req->body_too_large) {
        bl_reply_error(reply, 413, "InvalidFaultConfiguration", NULL,
                       "The fault document is larger than %u bytes.", BL_CONTROL_BODY_MAX);
        return;
    }
    json_error_t jerr;
    json_t *doc = json_loadb(req->body ? req->body : "", req->body_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc) {
        bl_reply_error(reply, 400, "InvalidFaultConfiguration", NULL,
                       "The fault document is not valid JSON: %s (line %d, column %d).", jerr.text,
                       jerr.line, jerr.column);
        return;
    }
    ig_error err;
    if (bl_faults_configure(s->faults, doc, 0, &err) != IG_OK)
        bl_reply_error(reply, 400, "InvalidFaultConfiguration", NULL, "%s", err.message);
    else
        bl_reply_json(reply, 200, bl_faults_describe(s->faults));
    json_decref(doc);
}

static void control_reset(bl_server *s, const bl_request *req, bl_reply *reply)
{
    (void)req;
    ig_error err;
    bl_stats_reset(s->stats);
    /* The startup document was checked when the server started; it cannot fail now. */
    if (bl_faults_configure(s->faults, s->cfg.startup_faults, 1, &err) != IG_OK) {
        bl_reply_error(reply, 500, "InternalServerException", NULL, "%s", err.message);
        return;
    }
    bl_reply_json(reply, 200, json_pack("{s:b,s:o}", "reset", 1, "faults", bl_faults_describe(s->faults)));
}

static const struct {
    const char *path;
    const char *method;
    control_fn fn;
    const char *allow;
} control_routes[] = {
    {BL_CONTROL_PREFIX "health", "GET", control_health, "GET"},
    {BL_CONTROL_PREFIX "stats", "GET", control_stats, "GET"},
    {BL_CONTROL_PREFIX "faults", "GET", control_faults_get, "GET, POST"},
    {BL_CONTROL_PREFIX "faults", "POST", control_faults_post, "GET, POST"},
    {BL_CONTROL_PREFIX "reset", "POST", control_reset, "POST"},
};

void bl_control(bl_server *s, const bl_request *req, bl_reply *reply)
{
    bl_stats_add(s->stats, BL_STAT_CONTROL, 1);
    const char *allow = NULL;
    for (size_t i = 0; i < sizeof control_routes / sizeof control_routes[0]; i++) {
        if (strcmp(req->path, control_routes[i].path) != 0)
            continue;
        if (strcmp(req->method, control_routes[i].method) == 0) {
            control_routes[i].fn(s, req, reply);
            return;
        }
        allow = control_routes[i].allow;
    }
    if (allow) {
        bl_reply_error(reply, 405, "MethodNotAllowed", NULL, "This control endpoint takes %s.", allow);
        reply->allow = allow;
        return;
    }
    bl_reply_error(reply, 404, "NotFound", NULL,
                   "Unknown control endpoint; known: /_control/health, /_control/stats, "
                   "/_control/faults, /_control/reset.");
}
