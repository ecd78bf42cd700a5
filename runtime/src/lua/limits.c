/* limits.c - the memory cap, the instruction budget and error positions.
 *
 * A policy runs inside the same process as the runtime, warm invocation after warm
 * invocation, so neither a leak nor an endless loop in a script may take the process
 * down. The allocator refuses growth beyond the cap (Lua then collects garbage, retries,
 * and raises "not enough memory" inside the script); the count hook charges the budget
 * every IG_LUA_HOOK_PERIOD instructions and raises an error once it is spent, after which
 * it fires on every instruction so that a pcall in the script cannot swallow the error
 * for long. The hook also remembers the last file:line it saw: memory errors carry no
 * position of their own, and that is the best honest one there is.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lua/host_internal.h"

ig_policy *ig_lua_policy(lua_State *L)
{
    ig_policy *p;
    memcpy(&p, lua_getextraspace(L), sizeof p);
    return p;
}

void *ig_lua_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    ig_policy *p = ud;
    size_t old = ptr ? osize : 0; /* for a new block, osize is the object type */
    if (nsize == 0) {
        free(ptr);
        p->mem_used -= old;
        return NULL;
    }
    if (nsize > old && !p->mem_relaxed) {
        size_t grow = nsize - old;
        if (grow > p->mem_limit || p->mem_used > p->mem_limit - grow) {
            p->mem_refusals++;
            return NULL;
        }
    }
    void *q = realloc(ptr, nsize);
    if (!q)
        return NULL;
    p->mem_used = p->mem_used - old + nsize;
    return q;
}

int ig_lua_where(lua_State *L, int level, char *out, size_t outlen)
{
    lua_Debug ar;
    for (; lua_getstack(L, level, &ar); level++) {
        if (lua_getinfo(L, "Sl", &ar) && ar.currentline > 0) {
            snprintf(out, outlen, "%s:%d", ar.short_src, ar.currentline);
            return 1;
        }
    }
    return 0;
}

void ig_lua_describe_limit(size_t bytes, char *out, size_t outlen)
{
    if (bytes % (1024 * 1024) == 0)
        snprintf(out, outlen, "%zu MB", bytes / (1024 * 1024));
    else
        snprintf(out, outlen, "%zu bytes", bytes);
}

static void lua_count_hook(lua_State *L, lua_Debug *ar)
{
    ig_policy *p = ig_lua_policy(L);
    p->instr_used += (uint64_t)p->hook_period;
    if (lua_getinfo(L, "Sl", ar) && ar->currentline > 0)
        snprintf(p->last_where, sizeof p->last_where, "%s:%d", ar->short_src, ar->currentline);
    if (p->instr_used <= p->instr_limit)
        return;
    if (p->hook_period != 1) {
        p->hook_period = 1;
        lua_sethook(L, lua_count_hook, LUA_MASKCOUNT, 1);
    }
    p->mem_relaxed++;
    lua_pushfstring(L, "%s: instruction budget of %I exhausted (IMAGEGEN_LUA_INSTRUCTIONS)",
                    p->last_where[0] ? p->last_where : "?", (lua_Integer)p->instr_limit);
    p->mem_relaxed--;
    lua_error(L);
}

void ig_lua_limits_install(ig_policy *p)
{
    p->hook_period = IG_LUA_HOOK_PERIOD;
    lua_sethook(p->L, lua_count_hook, LUA_MASKCOUNT, IG_LUA_HOOK_PERIOD);
}

void ig_lua_limits_begin(ig_policy *p)
{
    p->instr_used = 0;
    p->mem_refusals = 0;
    p->mem_relaxed = 0;
    p->last_where[0] = '\0';
    p->loading_depth = 0;
    ig_lua_limits_install(p); /* also restarts the hook's count */
}

/* 1 when msg already starts with "file:line:" (as Lua's own messages do). */
static int has_position(const char *msg)
{
    const char *c = strchr(msg, ':');
    if (!c || c == msg || !(c[1] >= '0' && c[1] <= '9'))
        return 0;
    for (c++; *c >= '0' && *c <= '9'; c++) {
    }
    return *c == ':';
}

int ig_lua_msgh(lua_State *L)
{
    ig_policy *p = ig_lua_policy(L);
    const char *msg;
    if (lua_type(L, 1) == LUA_TSTRING) {
        msg = lua_tostring(L, 1);
    } else if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) {
        msg = lua_tostring(L, -1);
    } else {
        p->mem_relaxed++;
        msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
        p->mem_relaxed--;
    }
    char where[160];
    if (!has_position(msg) && ig_lua_where(L, 1, where, sizeof where)) {
        p->mem_relaxed++;
        lua_pushfstring(L, "%s: %s", where, msg);
        p->mem_relaxed--;
    }
    return 1;
}
