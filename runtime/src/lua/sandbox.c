/* sandbox.c - what a policy script can reach, and how its files are loaded.
 *
 * Policies decide; they never touch files, sockets, processes or credentials. So the state
 * opens only base, string, table, math, utf8 and cjson, and then takes away what could
 * escape: loading code from strings or files, bytecode (which can break the VM's
 * invariants), string.dump, the garbage collector's controls, and finalizers (which run
 * with hooks off, beyond the reach of the instruction budget). require() is replaced by
 * one that only loads text files from the policy directory, by module name.
 */
#include <errno.h>
#include <fcntl.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "lua/host_internal.h"

#include <lua-cjson.h> /* after lua.h, which it assumes */

/* ---- file loading --------------------------------------------------------------------- */

char *ig_lua_read_policy_file(const char *dir, const char *rel, size_t *len, char *msg, size_t msglen)
{
    char path[4096 + IG_LUA_MODULE_NAME_MAX + 8];
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(msg, msglen, "cannot open %s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(msg, msglen, "%s is not a regular file", path);
        close(fd);
        return NULL;
    }
    if ((unsigned long long)st.st_size > IG_LUA_MAX_FILE_BYTES) {
        snprintf(msg, msglen, "%s is larger than %u bytes", path, IG_LUA_MAX_FILE_BYTES);
        close(fd);
        return NULL;
    }
    size_t cap = (size_t)st.st_size, n = 0;
    char *buf = malloc(cap + 1);
    if (!buf) {
        snprintf(msg, msglen, "out of memory reading %s", path);
        close(fd);
        return NULL;
    }
    while (n < cap) {
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            if (r < 0) {
                snprintf(msg, msglen, "cannot read %s: %s", path, strerror(errno));
                free(buf);
                close(fd);
                return NULL;
            }
            break; /* the file shrank: compile what there is */
        }
        n += (size_t)r;
    }
    close(fd);
    buf[n] = '\0';
    *len = n;
    return buf;
}

void ig_lua_load_file(lua_State *L, const char *rel)
{
    ig_policy *p = ig_lua_policy(L);
    char msg[4096 + IG_LUA_MODULE_NAME_MAX + 128]; /* room for the whole path */
    size_t len = 0;
    char *src = ig_lua_read_policy_file(p->dir, rel, &len, msg, sizeof msg);
    if (!src)
        luaL_error(L, "%s: %s", rel, msg);
    char chunkname[IG_LUA_MODULE_NAME_MAX + 8];
    snprintf(chunkname, sizeof chunkname, "@%s", rel);
    /* mode "t": text only; a binary chunk is refused before it is looked at */
    int rc = luaL_loadbufferx(L, src, len, chunkname, "t");
    free(src);
    if (rc != LUA_OK)
        lua_error(L);
}

/* ---- require -------------------------------------------------------------------------- */

/* Module names are dotted paths of [A-Za-z0-9_-] components: "lib.util" -> lib/util.lua.
 * This is what keeps require inside the policy directory: no '/', no "..", no empty part. */
static int module_name_ok(const char *name, size_t len)
{
    if (len == 0 || len > IG_LUA_MODULE_NAME_MAX - 4 || name[0] == '.' || name[len - 1] == '.')
        return 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        int ok = c == '_' || c == '-' || c == '.' || (c >= '0' && c <= '9') ||
                 (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        if (!ok || (c == '.' && name[i + 1] == '.'))
            return 0;
    }
    return 1;
}

static int sandboxed_require(lua_State *L)
{
    ig_policy *p = ig_lua_policy(L);
    size_t len;
    const char *name = luaL_checklstring(L, 1, &len);
    if (!module_name_ok(name, len))
        return luaL_error(L,
                          "require: invalid module name \"%s\": use letters, digits, '_' and '-', "
                          "with '.' between folder names (modules load only from the policy "
                          "directory)",
                          name);
    lua_settop(L, 1);
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE); /* 2 */
    if (lua_getfield(L, 2, name) != LUA_TNIL)
        return 1;
    lua_pop(L, 1);
    for (int i = 0; i < p->loading_depth; i++) {
        if (strcmp(p->loading[i], name) == 0)
            return luaL_error(L, "require: module '%s' requires itself (a require cycle)", name);
    }
    if (p->loading_depth >= IG_LUA_MAX_LOADING)
        return luaL_error(L, "require: modules nested more than %d deep", IG_LUA_MAX_LOADING);

    char rel[IG_LUA_MODULE_NAME_MAX + 8];
    size_t i = 0;
    for (; i < len; i++)
        rel[i] = name[i] == '.' ? '/' : name[i];
    memcpy(rel + i, ".lua", 5);

    ig_lua_load_file(L, rel); /* 3 */
    memcpy(p->loading[p->loading_depth++], name, len + 1);
    lua_pushvalue(L, 1);
    lua_call(L, 1, 1); /* errors leave loading_depth high; it is reset per call */
    p->loading_depth--;
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_pushboolean(L, 1);
    }
    lua_pushvalue(L, -1);
    lua_setfield(L, 2, name);
    return 1;
}

/* ---- replacements --------------------------------------------------------------------- */

/* print(...) -> one INFO log line, arguments joined by tabs as print would. */
static int sandboxed_print(lua_State *L)
{
    int n = lua_gettop(L);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    for (int i = 1; i <= n; i++) {
        if (i > 1)
            luaL_addchar(&b, '\t');
        luaL_tolstring(L, i, NULL);
        luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
    char where[160] = "";
    ig_lua_where(L, 1, where, sizeof where);
    ig_log(IG_LOG_INFO, lua_tostring(L, -1), json_pack("{s:s}", "source", where));
    return 0;
}

/* setmetatable without finalizers: Lua runs __gc metamethods with hooks switched off, so a
 * finalizer would run outside the instruction budget, whenever the collector decides.
 * Otherwise it behaves as the standard one. */
static int sandboxed_setmetatable(lua_State *L)
{
    int t = lua_type(L, 2);
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_argexpected(L, t == LUA_TNIL || t == LUA_TTABLE, 2, "nil or table");
    if (t == LUA_TTABLE) {
        lua_pushliteral(L, "__gc");
        int has_gc = lua_rawget(L, 2) != LUA_TNIL;
        lua_pop(L, 1);
        if (has_gc)
            return luaL_error(L, "setmetatable: __gc finalizers are not available to policies "
                                 "(they would run outside the instruction budget)");
    }
    if (luaL_getmetafield(L, 1, "__metatable") != LUA_TNIL)
        return luaL_error(L, "cannot change a protected metatable");
    lua_settop(L, 2);
    lua_setmetatable(L, 1);
    return 1;
}

/* collectgarbage("count") only: collection is the host's business. */
static int sandboxed_collectgarbage(lua_State *L)
{
    const char *opt = luaL_optstring(L, 1, "count");
    if (strcmp(opt, "count") != 0)
        return luaL_error(L, "collectgarbage: only \"count\" is available to policies");
    int kb = lua_gc(L, LUA_GCCOUNT, 0), b = lua_gc(L, LUA_GCCOUNTB, 0);
    lua_pushnumber(L, (lua_Number)kb + (lua_Number)b / 1024);
    return 1;
}

void ig_lua_warnf(void *ud, const char *msg, int tocont)
{
    ig_policy *p = ud;
    if (p->warning_len == 0 && !tocont && msg[0] == '@')
        return; /* a control message ("@on", "@off") */
    size_t n = strlen(msg), room = sizeof p->warning - 1 - p->warning_len;
    if (n > room)
        n = room;
    memcpy(p->warning + p->warning_len, msg, n);
    p->warning_len += n;
    p->warning[p->warning_len] = '\0';
    if (tocont)
        return;
    ig_log(IG_LOG_WARN, "policy warning", json_pack("{s:s}", "warning", p->warning));
    p->warning_len = 0;
    p->warning[0] = '\0';
}

/* ---- cjson.encode within the memory cap ------------------------------------------------ */

/* cjson builds its output in a buffer of its own, outside the state's allocator, and keeps it
 * for the next call: a table holding one big string a hundred times would grow the process far
 * past the cap and stay there. So the size of the output is reckoned first (the string bytes,
 * their escapes, and what numbers and punctuation add), and encoding is refused when it could
 * not fit in what the cap has left; cjson is also told not to keep its buffer. */

static size_t json_string_bytes(const char *s, size_t n)
{
    size_t out = n + 2;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f)
            out += 5; /* \u00XX */
        else if (c == '"' || c == '\\' || c == '/')
            out += 1;
    }
    return out;
}

/* An upper bound of the encoded size of the value at idx, at most `limit` (then it stops). */
static size_t encoded_size(lua_State *L, int idx, int depth, size_t limit)
{
    size_t len;
    const char *str;
    switch (lua_type(L, idx)) {
    case LUA_TSTRING:
        str = lua_tolstring(L, idx, &len);
        return json_string_bytes(str, len);
    case LUA_TNUMBER:
        return 32;
    case LUA_TTABLE:
        break;
    default:
        return 8;
    }
    if (depth > IG_LUA_MAX_DEPTH) {
        luaL_error(L, "cjson.encode: the value is nested more than %d levels deep", IG_LUA_MAX_DEPTH);
        return 0;
    }
    luaL_checkstack(L, 3, "cjson.encode");
    size_t total = 2;
    idx = lua_absindex(L, idx);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        total += 1 + encoded_size(L, -2, depth + 1, limit) + 1 + encoded_size(L, -1, depth + 1, limit);
        lua_pop(L, 1);
        if (total > limit) {
            lua_pop(L, 1);
            return total;
        }
    }
    return total;
}

static int guarded_encode(lua_State *L)
{
    ig_policy *p = ig_lua_policy(L);
    size_t room = p->mem_limit > p->mem_used ? p->mem_limit - p->mem_used : 0;
    size_t need = encoded_size(L, 1, 0, room);
    if (need > room) {
        char limit[48];
        ig_lua_describe_limit(p->mem_limit, limit, sizeof limit);
        return luaL_error(L, "cjson.encode: the result would be larger than the memory the policy has left "
                             "(limit %s, IMAGEGEN_LUA_MEMORY_MB)", limit);
    }
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
}

static void guard_cjson(lua_State *L)
{
    lua_getglobal(L, "cjson");
    lua_getfield(L, -1, "encode_keep_buffer");
    lua_pushboolean(L, 0);
    lua_call(L, 1, 0);
    lua_getfield(L, -1, "encode");
    lua_pushcclosure(L, guarded_encode, 1);
    lua_setfield(L, -2, "encode");
    lua_pop(L, 1);
}

/* ---- the string library, read-only ----------------------------------------------------- */

static int refuse_change(lua_State *L)
{
    return luaL_error(L, "the string library is shared by every request: it cannot be changed");
}

/* Strings share one metatable whose __index is the string library. Both become unreachable or
 * read-only: getmetatable("") answers false, and `string` (global and __index alike) is a proxy
 * that reads through and refuses writes. A change would otherwise outlive the request. */
static void freeze_strings(lua_State *L)
{
    lua_newtable(L);                          /* proxy */
    lua_newtable(L);                          /* its metatable */
    lua_getglobal(L, LUA_STRLIBNAME);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, refuse_change);
    lua_setfield(L, -2, "__newindex");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);
    lua_pushliteral(L, "");
    lua_getmetatable(L, -1);                  /* proxy, "", string metatable */
    lua_pushvalue(L, -3);
    lua_setfield(L, -2, "__index");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 2);
    lua_setglobal(L, LUA_STRLIBNAME);
}

/* ---- the environment ------------------------------------------------------------------ */

static void open_lib(lua_State *L, const char *name, lua_CFunction open)
{
    luaL_requiref(L, name, open, 1);
    lua_pop(L, 1);
}

void ig_lua_sandbox_open(lua_State *L)
{
    open_lib(L, LUA_GNAME, luaopen_base);
    open_lib(L, LUA_STRLIBNAME, luaopen_string);
    open_lib(L, LUA_TABLIBNAME, luaopen_table);
    open_lib(L, LUA_MATHLIBNAME, luaopen_math);
    open_lib(L, LUA_UTF8LIBNAME, luaopen_utf8);
    open_lib(L, "cjson", luaopen_cjson);
    ig_lua_convert_open(L);

    static const char *const removed[] = {"dofile", "loadfile", "load", "loadstring", "warn"};
    for (size_t i = 0; i < sizeof removed / sizeof removed[0]; i++) {
        lua_pushnil(L);
        lua_setglobal(L, removed[i]);
    }
    lua_getglobal(L, LUA_STRLIBNAME);
    lua_pushnil(L);
    lua_setfield(L, -2, "dump");
    lua_pop(L, 1);

    guard_cjson(L);
    freeze_strings(L);

    lua_pushcfunction(L, sandboxed_require);
    lua_setglobal(L, "require");
    lua_pushcfunction(L, sandboxed_print);
    lua_setglobal(L, "print");
    lua_pushcfunction(L, sandboxed_collectgarbage);
    lua_setglobal(L, "collectgarbage");
    lua_pushcfunction(L, sandboxed_setmetatable);
    lua_setglobal(L, "setmetatable");
    ig_lua_api_open(L);
    lua_setglobal(L, "imagegen");
}
