/* limits.c - the memory cap, the instruction budget, the time limit and error positions.
 *
 * A policy runs inside the same process as the runtime, warm invocation after warm
 * invocation, so neither a leak nor an endless loop in a script may take the process
 * down. The allocator refuses growth beyond the cap (Lua then collects garbage, retries,
 * and raises "not enough memory" inside the script); the count hook charges the budget
 * every IG_LUA_HOOK_PERIOD instructions and raises an error once it is spent, after which
 * it fires on every instruction so that a pcall in the script cannot swallow the error
 * for long. The hook also remembers the last file:line it saw: memory errors carry no
 * position of their own, and that is the best honest one there is.
 *
 * Instructions do not measure time spent inside one C function (a backtracking pattern in
 * string.find, gsub over megabytes), so every call also has a wall-clock end: the earlier of
 * IMAGEGEN_LUA_TIME_MS and the invocation's deadline. The count hook checks the clock, which
 * ends loops of C calls; a watchdog (SIGALRM) at the end turns the hook on for every
 * instruction, which ends the call as soon as its C function returns. A C function still
 * running a second after that cannot be stopped safely: the process logs why and exits, as
 * Lambda's own timeout would end it, and the next request gets a fresh environment.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "core/clock.h"
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

static void lua_count_hook(lua_State *L, lua_Debug *ar);

/* Raises the budget's or the clock's error, and keeps the hook on every instruction so that a
 * pcall in the script cannot swallow it for long. */
static void stop_call(lua_State *L, ig_policy *p, int out_of_time)
{
    if (p->hook_period != 1) {
        p->hook_period = 1;
        lua_sethook(L, lua_count_hook, LUA_MASKCOUNT, 1);
    }
    p->mem_relaxed++;
    if (out_of_time)
        lua_pushfstring(L, "%s: time limit of %I ms exhausted (IMAGEGEN_LUA_TIME_MS, or the request's deadline)",
                        p->last_where[0] ? p->last_where : "?", (lua_Integer)p->time_limit_ms);
    else
        lua_pushfstring(L, "%s: instruction budget of %I exhausted (IMAGEGEN_LUA_INSTRUCTIONS)",
                        p->last_where[0] ? p->last_where : "?", (lua_Integer)p->instr_limit);
    p->mem_relaxed--;
    lua_error(L);
}

static void lua_count_hook(lua_State *L, lua_Debug *ar)
{
    ig_policy *p = ig_lua_policy(L);
    p->instr_used += (uint64_t)p->hook_period;
    if (lua_getinfo(L, "Sl", ar) && ar->currentline > 0)
        snprintf(p->last_where, sizeof p->last_where, "%s:%d", ar->short_src, ar->currentline);
    if (p->time_up || ig_mono_ms() >= p->call_end_ms)
        stop_call(L, p, 1);
    if (p->instr_used > p->instr_limit)
        stop_call(L, p, 0);
}

/* ---- the watchdog ---------------------------------------------------------------------- */

static ig_policy *volatile watched;          /* the policy whose call the timer guards */
static volatile sig_atomic_t watch_strikes;

static void on_watchdog(int sig)
{
    (void)sig;
    ig_policy *p = watched;
    if (!p)
        return;
    if (watch_strikes++ == 0) {
        p->time_up = 1;
        lua_sethook(p->L, lua_count_hook, LUA_MASKCOUNT, 1); /* safe in a signal handler */
        alarm(1);
        return;
    }
    static const char msg[] = "{\"level\":\"FATAL\",\"message\":\"a policy call ran past its time limit inside "
                              "a C function (a pattern or string operation on a large input?); the execution "
                              "environment stops\",\"code\":\"policy_error\"}\n";
    ssize_t w = write(STDOUT_FILENO, msg, sizeof msg - 1);
    (void)w;
    _exit(70);
}

static void arm_watchdog(ig_policy *p, int64_t ms)
{
    static int installed;
    if (!installed) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_watchdog;
        sigemptyset(&sa.sa_mask);
        sa.sa_flags = SA_RESTART;
        sigaction(SIGALRM, &sa, NULL);
        installed = 1;
    }
    watch_strikes = 0;
    watched = p;
    struct itimerval t;
    memset(&t, 0, sizeof t);
    t.it_value.tv_sec = ms / 1000;
    t.it_value.tv_usec = (suseconds_t)(ms % 1000) * 1000;
    if (t.it_value.tv_sec == 0 && t.it_value.tv_usec == 0)
        t.it_value.tv_usec = 1000;
    setitimer(ITIMER_REAL, &t, NULL);
}

void ig_lua_limits_end(ig_policy *p)
{
    (void)p;
    struct itimerval off;
    memset(&off, 0, sizeof off);
    setitimer(ITIMER_REAL, &off, NULL);
    alarm(0);
    watched = NULL;
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
    p->time_up = 0;
    int64_t now = ig_mono_ms();
    int64_t left = (int64_t)p->time_limit_ms;
    if (p->deadline_ms > 0) {
        int64_t until_deadline = p->deadline_ms - ig_now_ms();
        if (until_deadline < left)
            left = until_deadline > 1 ? until_deadline : 1;
    }
    p->call_end_ms = now + left;
    ig_lua_limits_install(p); /* also restarts the hook's count */
    arm_watchdog(p, left);
}

/* 1 when msg already starts with "file:line:" (as Lua's own messages do), or names a policy
 * file itself ("config.lua: ...", a message about a file rather than from a line of code). */
static int has_position(const char *msg)
{
    const char *lua = strstr(msg, ".lua: ");
    if (lua && lua > msg && strspn(msg, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./") ==
                                (size_t)(lua + 4 - msg))
        return 1;
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
