/* routes.c - route parsing and matching: methods, then resource templates. */
#include "routes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char method[8]; /* "GET", ..., or "ANY" */
    char *text;     /* "/images/{id}" */
    int is_public;
} gw_route;

struct gw_routes {
    gw_route *items;
    size_t n;
};

/* The methods a REST API resource can have. */
static const char *const gw_methods[] = {"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "ANY"};

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

/* Splits "METHOD /template" (or "/template") into r's method and a copy of the template. */
static ig_err gw_route_parse(const char *spec, gw_route *r, ig_error *err)
{
    const char *t = spec;
    snprintf(r->method, sizeof r->method, "ANY");
    if (spec[0] != '/') {
        size_t len = strcspn(spec, " ");
        int known = 0;
        for (size_t i = 0; i < sizeof gw_methods / sizeof gw_methods[0]; i++)
            known |= strlen(gw_methods[i]) == len && strncmp(spec, gw_methods[i], len) == 0;
        if (!known || spec[len] != ' ')
            return ig_error_set(err, IG_ERR_CONFIG,
                                "route \"%s\" must start with '/' (a path), or with a method (GET, POST, PUT, "
                                "DELETE, PATCH, HEAD, OPTIONS or ANY) and a space",
                                spec);
        snprintf(r->method, sizeof r->method, "%.*s", (int)len, spec);
        t = spec + len + 1;
    }
    ig_err e = gw_route_check(t, err);
    if (e)
        return e;
    if (!(r->text = strdup(t)))
        return ig_error_set(err, IG_ERR_NOMEM, "out of memory");
    return IG_OK;
}

gw_routes *gw_routes_new(char *const *routes, size_t n, char *const *public_routes, size_t n_public,
                         ig_error *err)
{
    gw_routes *r = calloc(1, sizeof *r);
    if (!r || (n + n_public && !(r->items = calloc(n + n_public, sizeof *r->items)))) {
        free(r);
        ig_error_set(err, IG_ERR_NOMEM, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < n + n_public; i++) {
        if (gw_route_parse(i < n ? routes[i] : public_routes[i - n], &r->items[r->n], err) != IG_OK) {
            gw_routes_free(r);
            return NULL;
        }
        r->items[r->n++].is_public = i >= n;
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

static int gw_method_allows(const gw_route *route, const char *method)
{
    return strcmp(route->method, "ANY") == 0 || strcmp(route->method, method) == 0;
}

const char *gw_routes_match(const gw_routes *r, const char *method, const char *path, json_t **params,
                            int *is_public)
{
    *params = NULL;
    *is_public = 0;
    if (!path || path[0] != '/')
        path = "/";
    const char *resource = NULL;
    for (size_t i = 0; i < r->n && !resource; i++)
        if (gw_route_try(r->items[i].text, path, params))
            resource = r->items[i].text;
    /* The resource is the first template that matches; its methods are those of every route
     * with that template. */
    for (size_t i = 0; resource && i < r->n; i++) {
        if (strcmp(r->items[i].text, resource) == 0 && gw_method_allows(&r->items[i], method)) {
            *is_public = r->items[i].is_public;
            return resource;
        }
    }
    json_decref(*params);
    *params = NULL;
    return NULL;
}

/* Appends "A", "A and B", "A, B and C" item by item: index i of n. */
static void gw_append_listed(char *out, size_t outlen, const char *item, size_t i, size_t n)
{
    size_t used = strlen(out);
    const char *sep = i == 0 ? "" : i + 1 == n ? " and " : ", ";
    snprintf(out + used, outlen - used, "%s%s", sep, item);
}

/* The methods but OPTIONS of every route with template t, as "GET and POST"; how many. */
static size_t gw_methods_of(const gw_routes *r, const char *t, char *out, size_t outlen)
{
    size_t total = 0, k = 0;
    for (size_t j = 0; j < r->n; j++)
        total += strcmp(r->items[j].text, t) == 0 && strcmp(r->items[j].method, "OPTIONS") != 0;
    out[0] = '\0';
    for (size_t j = 0; j < r->n; j++)
        if (strcmp(r->items[j].text, t) == 0 && strcmp(r->items[j].method, "OPTIONS") != 0)
            gw_append_listed(out, outlen, r->items[j].method, k++, total);
    return total;
}

/* 1 when route i is the first with its template, and that template has a method to list. */
static int gw_listed(const gw_routes *r, size_t i, char *methods, size_t len)
{
    for (size_t j = 0; j < i; j++)
        if (strcmp(r->items[j].text, r->items[i].text) == 0)
            return 0;
    return gw_methods_of(r, r->items[i].text, methods, len) > 0;
}

void gw_routes_describe(const gw_routes *r, char *out, size_t outlen)
{
    char methods[128];
    size_t n_items = 0, k = 0;
    for (size_t i = 0; i < r->n; i++)
        n_items += (size_t)gw_listed(r, i, methods, sizeof methods);
    snprintf(out, outlen, "%s", n_items ? "" : "no route");
    for (size_t i = 0; i < r->n; i++) {
        if (!gw_listed(r, i, methods, sizeof methods))
            continue;
        char item[512];
        snprintf(item, sizeof item, "%s %s", methods, r->items[i].text);
        gw_append_listed(out, outlen, item, k++, n_items);
    }
}
