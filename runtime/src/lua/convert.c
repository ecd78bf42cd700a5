/* convert.c - JSON (jansson) to Lua values and back.
 *
 * Requests enter the policy as JSON and plans and answers leave it as JSON, so this is the
 * whole boundary. Lua has one table type for objects and arrays: arrays handed to Lua get a
 * shared marker metatable so that they return as arrays even when empty; otherwise a table
 * whose keys are exactly 1..n is an array and anything else must have string keys. Going
 * out, nothing raises a Lua error (no metamethods are called, only raw access), so the
 * caller can run it outside protected mode and no partially built JSON leaks.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lua/host_internal.h"

static const char ig_array_mt_key = 'a';

/* The path to the value being converted, "req.body.items[3]", kept as the recursion goes. */
typedef struct {
    char text[256];
    size_t len;
} ig_path;

static size_t path_push_key(ig_path *p, const char *key, size_t key_len)
{
    size_t mark = p->len;
    if (p->len >= sizeof p->text - 1)
        return mark;
    int plain = key_len > 0 && key_len <= 40;
    for (size_t i = 0; plain && i < key_len; i++) {
        unsigned char c = (unsigned char)key[i];
        plain = c == '_' || c == '-' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
                (c >= 'A' && c <= 'Z');
    }
    size_t room = sizeof p->text - p->len;
    int n = plain ? snprintf(p->text + p->len, room, "%s%.*s", p->len ? "." : "", (int)key_len, key)
                  : snprintf(p->text + p->len, room, "[<key of %zu bytes>]", key_len);
    p->len = n < 0 ? p->len : (size_t)n >= room ? sizeof p->text - 1 : p->len + (size_t)n;
    return mark;
}

static size_t path_push_index(ig_path *p, size_t index)
{
    size_t mark = p->len;
    size_t room = sizeof p->text - p->len;
    int n = snprintf(p->text + p->len, room, "[%zu]", index);
    p->len = n < 0 ? p->len : (size_t)n >= room ? sizeof p->text - 1 : p->len + (size_t)n;
    return mark;
}

static void path_pop(ig_path *p, size_t mark)
{
    p->len = mark;
    p->text[mark] = '\0';
}

static void path_init(ig_path *p, const char *root)
{
    p->len = 0;
    p->text[0] = '\0';
    if (root && *root)
        path_push_key(p, root, strlen(root));
}

static const char *path_str(const ig_path *p)
{
    return p->len ? p->text : "the value";
}

/* ---- JSON -> Lua ---------------------------------------------------------------------- */

/* The marker is protected: getmetatable() shows scripts a stand-in with the same __name,
 * so that no script can add a __gc (or anything else) to the metatable every array shares. */
void ig_lua_convert_open(lua_State *L)
{
    lua_createtable(L, 0, 2);
    lua_pushliteral(L, "imagegen.array");
    lua_setfield(L, -2, "__name");
    lua_createtable(L, 0, 1);
    lua_pushliteral(L, "imagegen.array");
    lua_setfield(L, -2, "__name");
    lua_setfield(L, -2, "__metatable");
    lua_rawsetp(L, LUA_REGISTRYINDEX, &ig_array_mt_key);
}

void ig_lua_mark_array(lua_State *L)
{
    lua_rawgetp(L, LUA_REGISTRYINDEX, &ig_array_mt_key);
    lua_setmetatable(L, -2);
}

static void push_json(lua_State *L, json_t *v, ig_path *path, int depth)
{
    if (depth > IG_LUA_MAX_DEPTH)
        luaL_error(L, "%s is nested deeper than %d levels", path_str(path), IG_LUA_MAX_DEPTH);
    luaL_checkstack(L, 4, "converting JSON");
    switch (json_typeof(v)) {
    case JSON_OBJECT: {
        lua_createtable(L, 0, (int)(json_object_size(v) > 1000000 ? 0 : json_object_size(v)));
        for (void *it = json_object_iter(v); it; it = json_object_iter_next(v, it)) {
            const char *key = json_object_iter_key(it);
            size_t key_len = json_object_iter_key_len(it);
            size_t mark = path_push_key(path, key, key_len);
            lua_pushlstring(L, key, key_len);
            push_json(L, json_object_iter_value(it), path, depth + 1);
            lua_rawset(L, -3);
            path_pop(path, mark);
        }
        break;
    }
    case JSON_ARRAY: {
        size_t n = json_array_size(v);
        lua_createtable(L, n > 1000000 ? 0 : (int)n, 0);
        for (size_t i = 0; i < n; i++) {
            size_t mark = path_push_index(path, i);
            push_json(L, json_array_get(v, i), path, depth + 1);
            lua_rawseti(L, -2, (lua_Integer)i + 1);
            path_pop(path, mark);
        }
        ig_lua_mark_array(L);
        break;
    }
    case JSON_STRING:
        lua_pushlstring(L, json_string_value(v), json_string_length(v));
        break;
    case JSON_INTEGER:
        lua_pushinteger(L, (lua_Integer)json_integer_value(v));
        break;
    case JSON_REAL:
        lua_pushnumber(L, (lua_Number)json_real_value(v));
        break;
    case JSON_TRUE:
        lua_pushboolean(L, 1);
        break;
    case JSON_FALSE:
        lua_pushboolean(L, 0);
        break;
    case JSON_NULL:
    default:
        lua_pushlightuserdata(L, NULL); /* cjson.null */
        break;
    }
}

void ig_lua_push_json(lua_State *L, json_t *v, const char *root)
{
    ig_path path;
    path_init(&path, root);
    if (!v) {
        lua_pushnil(L);
        return;
    }
    push_json(L, v, &path, 1);
}

/* ---- Lua -> JSON ---------------------------------------------------------------------- */

typedef struct {
    lua_State *L;
    ig_path path;
    const void *tables[IG_LUA_MAX_DEPTH + 1]; /* the tables on the current path */
    int depth;
    char *msg;
    size_t msglen;
} ig_to_json;

static json_t *set_failure(ig_to_json *c, const char *what)
{
    snprintf(c->msg, c->msglen, "%s at %s", what, path_str(&c->path));
    return NULL;
}

static json_t *value_to_json(ig_to_json *c, int idx);

int ig_lua_is_array(lua_State *L, int idx)
{
    if (!lua_getmetatable(L, idx))
        return 0;
    lua_rawgetp(L, LUA_REGISTRYINDEX, &ig_array_mt_key);
    int same = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
    return same;
}

/* Classifies the table at idx: 1 array of *n elements, 0 object, -1 error (msg set). */
static int table_shape(ig_to_json *c, int idx, size_t *n)
{
    lua_State *L = c->L;
    size_t count = 0;
    lua_Integer max = 0;
    int strings = 0, others = 0;
    char bad[96] = "";
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        count++;
        int kt = lua_type(L, -2);
        if (kt == LUA_TSTRING) {
            strings++;
        } else if (lua_isinteger(L, -2) && lua_tointeger(L, -2) >= 1) {
            lua_Integer k = lua_tointeger(L, -2);
            if (k > max)
                max = k;
        } else {
            others++;
            if (!bad[0]) {
                if (kt == LUA_TNUMBER)
                    snprintf(bad, sizeof bad, "a table with the number key %.14g",
                             (double)lua_tonumber(L, -2));
                else
                    snprintf(bad, sizeof bad, "a table with a %s key", lua_typename(L, kt));
            }
        }
        lua_pop(L, 1);
    }
    int marked = ig_lua_is_array(L, idx);
    if (others) {
        set_failure(c, bad);
        return -1;
    }
    size_t ints = count - (size_t)strings;
    if (strings == 0 && (lua_Unsigned)max == ints && (ints > 0 || marked)) {
        *n = ints;
        return 1;
    }
    if (ints == 0 && !marked)
        return 0;
    if (marked)
        set_failure(c, "an array (imagegen.array) with keys other than 1..n");
    else if (strings)
        set_failure(c, "a table mixing string keys and integer keys");
    else
        set_failure(c, "a table with integer keys that are not 1..n (a sparse array)");
    return -1;
}

static json_t *array_to_json(ig_to_json *c, int idx, size_t n)
{
    json_t *a = json_array();
    if (!a)
        return set_failure(c, "out of memory");
    for (size_t i = 1; i <= n; i++) {
        lua_rawgeti(c->L, idx, (lua_Integer)i);
        size_t mark = path_push_index(&c->path, i - 1);
        json_t *v = value_to_json(c, lua_gettop(c->L));
        lua_pop(c->L, 1);
        if (!v || json_array_append_new(a, v) != 0) {
            if (v)
                set_failure(c, "out of memory");
            json_decref(a);
            return NULL;
        }
        path_pop(&c->path, mark);
    }
    return a;
}

static json_t *object_to_json(ig_to_json *c, int idx)
{
    lua_State *L = c->L;
    json_t *o = json_object();
    if (!o)
        return set_failure(c, "out of memory");
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        size_t klen;
        const char *k = lua_tolstring(L, -2, &klen); /* a string: shape checked */
        size_t mark = path_push_key(&c->path, k, klen);
        json_t *v = value_to_json(c, lua_gettop(L));
        if (!v) {
            lua_pop(L, 2);
            json_decref(o);
            return NULL;
        }
        if (json_object_setn_new(o, k, klen, v) != 0) {
            lua_pop(L, 2);
            json_decref(o);
            return set_failure(c, "a key that is not valid UTF-8");
        }
        path_pop(&c->path, mark);
        lua_pop(L, 1);
    }
    return o;
}

static json_t *table_to_json(ig_to_json *c, int idx)
{
    const void *self = lua_topointer(c->L, idx);
    for (int i = 0; i < c->depth; i++) {
        if (c->tables[i] == self)
            return set_failure(c, "a table that contains itself (a cycle)");
    }
    if (c->depth >= IG_LUA_MAX_DEPTH) {
        char what[64];
        snprintf(what, sizeof what, "tables nested deeper than %d levels", IG_LUA_MAX_DEPTH);
        return set_failure(c, what);
    }
    if (!lua_checkstack(c->L, 6))
        return set_failure(c, "no Lua stack space left");
    size_t n = 0;
    int shape = table_shape(c, idx, &n);
    if (shape < 0)
        return NULL;
    c->tables[c->depth++] = self;
    json_t *out = shape == 1 ? array_to_json(c, idx, n) : object_to_json(c, idx);
    c->depth--;
    return out;
}

static json_t *value_to_json(ig_to_json *c, int idx)
{
    lua_State *L = c->L;
    switch (lua_type(L, idx)) {
    case LUA_TNIL:
        return set_failure(c, "nil");
    case LUA_TBOOLEAN:
        return json_boolean(lua_toboolean(L, idx));
    case LUA_TNUMBER: {
        if (lua_isinteger(L, idx))
            return json_integer((json_int_t)lua_tointeger(L, idx));
        double d = (double)lua_tonumber(L, idx);
        if (isnan(d))
            return set_failure(c, "a NaN number, which JSON cannot represent,");
        if (isinf(d))
            return set_failure(c, "an infinite number, which JSON cannot represent,");
        json_t *r = json_real(d);
        return r ? r : set_failure(c, "out of memory");
    }
    case LUA_TSTRING: {
        size_t len;
        const char *s = lua_tolstring(L, idx, &len);
        json_t *j = json_stringn(s, len);
        return j ? j : set_failure(c, "a string that is not valid UTF-8");
    }
    case LUA_TTABLE:
        return table_to_json(c, idx);
    case LUA_TLIGHTUSERDATA:
        if (lua_touserdata(L, idx) == NULL)
            return json_null(); /* cjson.null */
        return set_failure(c, "a light userdata value, which JSON cannot represent,");
    default: {
        char what[80];
        snprintf(what, sizeof what, "a %s value, which JSON cannot represent,",
                 lua_typename(L, lua_type(L, idx)));
        return set_failure(c, what);
    }
    }
}

json_t *ig_lua_to_json(lua_State *L, int idx, const char *root, char *msg, size_t msglen)
{
    ig_to_json c;
    c.L = L;
    path_init(&c.path, root);
    c.depth = 0;
    c.msg = msg;
    c.msglen = msglen;
    if (msglen)
        msg[0] = '\0';
    int top = lua_gettop(L);
    json_t *v = value_to_json(&c, lua_absindex(L, idx));
    lua_settop(L, top);
    return v;
}
