/* host_internal.h - what the files of the Lua host share: the policy state and the internal calls
 * between limits, sandbox, conversion and the imagegen API. Not for use outside lua/.
 *
 * The ig_policy pointer lives in the state's extra space (lua_getextraspace), so every C
 * function, hook and allocator callback finds it without globals or registry look-ups.
 */
#ifndef IG_LUA_HOST_INTERNAL_H
#define IG_LUA_HOST_INTERNAL_H

#include <jansson.h>
#include <lauxlib.h>
#include <lua.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "lua/host.h"

/* Deepest nesting converted between JSON and Lua, either way. */
#define IG_LUA_MAX_DEPTH 64
/* Instructions between two runs of the count hook while the budget lasts. */
#define IG_LUA_HOOK_PERIOD 1000
/* Wall-clock time init.lua may take to load (Lambda's init phase lasts 10 s). */
#define IG_LUA_LOAD_TIME_MS 8000
/* Modules that may be in the middle of loading at once (require inside require). */
#define IG_LUA_MAX_LOADING 32
#define IG_LUA_MODULE_NAME_MAX 128
/* A policy file larger than this is refused: policies are code, not data. */
#define IG_LUA_MAX_FILE_BYTES (4u * 1024 * 1024)
/* Distinct imagegen.metric names per invocation (CloudWatch EMF allows 100 per record). */
#define IG_LUA_MAX_METRICS 100

struct ig_policy {
    lua_State *L;
    char *dir;
    char *env_allow;          /* comma-separated extra names for imagegen.env, or NULL */

    /* memory: the whole state, always */
    size_t mem_limit;
    size_t mem_used;
    int mem_relaxed;          /* > 0 while C builds an error message: the cap is lifted */
    unsigned mem_refusals;    /* allocations refused since the call began */

    /* instructions: per call */
    uint64_t instr_limit;
    uint64_t instr_used;
    int hook_period;
    char last_where[160];     /* "file:line" seen by the last run of the count hook */

    /* time: per call, by the earlier of the time limit and the invocation's deadline */
    uint64_t time_limit_ms;
    int64_t deadline_ms;      /* epoch ms, 0: none (ig_policy_set_deadline) */
    int64_t call_end_ms;      /* monotonic ms: the call must be over by then */
    volatile sig_atomic_t time_up; /* set by the watchdog's signal */

    /* modules being loaded by require, innermost last (reset per call) */
    char loading[IG_LUA_MAX_LOADING][IG_LUA_MODULE_NAME_MAX + 1];
    int loading_depth;

    json_t *metrics;          /* {name: {"value": v, "unit": u}} since the last take */
    json_t *cors_origins;     /* the origins the policy allows (its cors_origins), a JSON array */
    json_t *image_fields;     /* the body members that may carry input images (its image_fields) */
    int policy_ref;           /* registry reference to the table init.lua returned */
    char warning[512];        /* a warning being assembled from pieces */
    size_t warning_len;
};

/* ---- sandbox.c ---- */
/* Reads dir/rel (at most IG_LUA_MAX_FILE_BYTES) into a malloc'd, NUL-terminated buffer; NULL
 * with a sentence in msg. */
char *ig_lua_read_policy_file(const char *dir, const char *rel, size_t *len, char *msg, size_t msglen);

/* ---- limits.c ---- */
ig_policy *ig_lua_policy(lua_State *L);
void *ig_lua_alloc(void *ud, void *ptr, size_t osize, size_t nsize);
/* Installs the count hook; ig_lua_limits_begin resets the budget and the refusal count. */
void ig_lua_limits_install(ig_policy *p);
void ig_lua_limits_begin(ig_policy *p);
/* Disarms the call's watchdog; after every protected call (and close or collection). */
void ig_lua_limits_end(ig_policy *p);
/* "file:line" of the innermost Lua function at or above level, into out; 0 if none. */
int ig_lua_where(lua_State *L, int level, char *out, size_t outlen);
/* The memory limit as text: "64 MB" or "1500000 bytes". */
void ig_lua_describe_limit(size_t bytes, char *out, size_t outlen);
/* The message handler given to lua_pcall: makes every error a string starting with
 * "file:line: " when a Lua function can be blamed. */
int ig_lua_msgh(lua_State *L);

/* ---- convert.c ---- */
/* Pushes v as a Lua value. Raises a Lua error ("<path>: ...") when v is nested deeper than
 * IG_LUA_MAX_DEPTH; root names the value in that path ("req"). */
void ig_lua_push_json(lua_State *L, json_t *v, const char *root);
/* Converts the value at idx to JSON without raising Lua errors. NULL on failure, with a
 * sentence in msg naming the path below root ("generate.body.seed"). */
json_t *ig_lua_to_json(lua_State *L, int idx, const char *root, char *msg, size_t msglen);
/* Gives the table at the top of the stack the array marker (may raise a memory error). */
void ig_lua_mark_array(lua_State *L);
/* 1 when the table at idx carries the array marker. Raises nothing. */
int ig_lua_is_array(lua_State *L, int idx);
/* Creates the array marker metatable (during set-up). */
void ig_lua_convert_open(lua_State *L);

/* ---- sandbox.c ---- */
/* Opens the allowed libraries, removes what is not allowed, installs require, print and
 * the imagegen table. A lua_CFunction-style body run in protected mode. */
void ig_lua_sandbox_open(lua_State *L);
/* Reads <dir>/<rel>, compiles it as text with chunk name "@<rel>" and pushes the function.
 * Raises a Lua error when the file is missing, too large, binary or does not compile. */
void ig_lua_load_file(lua_State *L, const char *rel);
void ig_lua_warnf(void *ud, const char *msg, int tocont);

/* ---- api.c ---- */
/* Pushes the imagegen table. */
void ig_lua_api_open(lua_State *L);
/* 1 when imagegen.env may read name (allow_list: comma-separated extra names or NULL). */
int ig_lua_env_allowed(const char *name, const char *allow_list);

#endif
