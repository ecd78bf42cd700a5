/* routes.c - resource template matching. */
#include "routes.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    char *text;  /* "/images/{id}" */
    int is_public;
} gw_route;

struct gw_routes {
    gw_route *items;
    size_t n;
};

static const char gw_catch_all[] = "/{proxy+}";
static const char gw_root[] = "/";

static int gw_param_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
}

/* Checks one template; a sentence in err when it is not one API Gateway would accept. */
static ig_err gw_route_check(const char *t, ig_error *err)
{
    if (t[0] != '/')
        return ig_error_set(err, IG_ERR_CONFIG, "route \"%s\" must start with '/'", t);
    if (strcmp(t, "/") == 0)
        return IG_OK;
    const char *seg = t + 1;
    for (;;) {
        const char *end = strchr(seg, '/');
        size_t len = end ? (size_t)(end - seg) : strlen(seg);
        if (len == 0)
            return ig_error_set(err, IG_ERR_CONFIG, "route \"%s\" has an empty segment", t);
        if (seg[0] == '{') {
            int greedy = len >= 3 && seg[len - 2] == '+';
            size_t name_len = len - 2 - (greedy ? 1 : 0);
            if (seg[len - 1] != '}' || name_len == 0)
                return ig_error_set(err, IG_ERR_CONFIG, "route \"%s\": a parameter is written {name} or {name+}", t);
            for (size_t i = 1; i <= name_len; i++)
                if (!gw_param_char(seg[i]))
                    return ig_error_set(err, IG_ERR_CONFIG, "route \"%s\": bad parameter name", t);
            if (greedy && end)
                return ig_error_set(err, IG_ERR_CONFIG, "route \"%s\": {name+} must be the last segment", t);
        } else {
            for (size_t i = 0; i < len; i++)
                if (seg[i] == '{' || seg[i] == '}')
                    return ig_error_set(err, IG_ERR_CONFIG, "route \"%s\": braces only around a whole segment", t);
        }
        if (!end)
            return IG_OK;
        seg = end + 1;
    }
}

gw_routes *gw_routes_new(char *const *templates, size_t n, char *const *public_templates, size_t n_public,
                         ig_error *err)
{
    gw_routes *r = calloc(1, sizeof *r);
    if (!r || (n + n_public && !(r->items = calloc(n + n_public, sizeof *r->items)))) {
        free(r);
        ig_error_set(err, IG_ERR_NOMEM, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < n + n_public; i++) {
        const char *t = i < n ? templates[i] : public_templates[i - n];
        if (gw_route_check(t, err) != IG_OK) {
            gw_routes_free(r);
            return NULL;
        }
        r->items[r->n].is_public = i >= n;
        r->items[r->n].text = strdup(t);
        if (!r->items[r->n].text) {
            gw_routes_free(r);
            ig_error_set(err, IG_ERR_NOMEM, "out of memory");
            return NULL;
        }
        r->n++;
    }
    return r;
}

void gw_routes_free(gw_routes *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->n; i++)
        free(r->items[i].text);
    free(r->items);
    free(r);
}

static void gw_param_set(json_t **params, const char *name, size_t name_len, const char *v, size_t vlen)
{
    if (!*params)
        *params = json_object();
    char key[128];
    if (!*params || name_len >= sizeof key)
        return;
    memcpy(key, name, name_len);
    key[name_len] = '\0';
    json_t *s = json_stringn(v, vlen);
    if (s)
        json_object_set_new(*params, key, s);
}

/* Matches path against template t; on success *params holds the parameters (or NULL). */
static int gw_route_try(const char *t, const char *path, json_t **params)
{
    *params = NULL;
    if (strcmp(t, "/") == 0)
        return strcmp(path, "/") == 0;
    const char *ts = t + 1, *ps = path + 1;
    for (;;) {
        const char *tend = strchr(ts, '/');
        size_t tlen = tend ? (size_t)(tend - ts) : strlen(ts);
        const char *pend = strchr(ps, '/');
        size_t plen = pend ? (size_t)(pend - ps) : strlen(ps);
        if (ts[0] == '{' && ts[tlen - 2] == '+') {
            if (!*ps)
                break;
            gw_param_set(params, ts + 1, tlen - 3, ps, strlen(ps));
            return 1;
        }
        if (plen == 0)
            break;
        if (ts[0] == '{')
            gw_param_set(params, ts + 1, tlen - 2, ps, plen);
        else if (tlen != plen || memcmp(ts, ps, tlen) != 0)
            break;
        if (!tend && !pend)
            return 1;
        if (!tend || !pend)
            break;
        ts = tend + 1;
        ps = pend + 1;
    }
    json_decref(*params);
    *params = NULL;
    return 0;
}

const char *gw_routes_match(const gw_routes *r, const char *path, json_t **params, int *is_public)
{
    *params = NULL;
    *is_public = 0;
    if (!path || path[0] != '/')
        path = "/";
    for (size_t i = 0; i < r->n; i++) {
        if (gw_route_try(r->items[i].text, path, params)) {
            *is_public = r->items[i].is_public;
            return r->items[i].text;
        }
    }
    if (strcmp(path, "/") == 0)
        return gw_root;
    gw_route_try(gw_catch_all, path, params);
    return gw_catch_all;
}
