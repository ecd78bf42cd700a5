/* host.h - the Lua policy host: the only module that includes Lua headers.
 *
 * One Lua 5.4 state per ig_policy, created at init, living as long as the execution
 * environment (so token buckets and caches in scripts persist across warm invocations).
 * An ig_policy is used by one thread at a time.
 * Scripts see a sandbox: string, table, math, utf8, cjson, a require() that only loads
 * modules from the policy directory, and the `imagegen` table of C functions:
 *   imagegen.log(level, message [, fields])   level: "debug"|"info"|"warn"|"error"
 *   imagegen.metric(name, value [, unit])     collected for the invocation's EMF line
 *   imagegen.clock()                          wall-clock epoch seconds (float)
 *   imagegen.monotonic()                      monotonic seconds (float)
 *   imagegen.sha256(s)                        lower-case hex digest
 *   imagegen.uuid()                           random version-4 UUID
 *   imagegen.random(lo, hi)                   cryptographically random integer in [lo, hi]
 *   imagegen.env(name)                        value of an allow-listed variable, else nil
 *   imagegen.date(fmt [, epoch])              strftime in UTC
 *   imagegen.array([t])                       marks t (default: a new table) as a JSON array,
 *                                             so that it stays [] when empty; returns it
 * print(...) logs at INFO; collectgarbage only answers "count"; setmetatable refuses __gc
 * (finalizers run with hooks off, outside the instruction budget).
 * No io, os, debug, load/loadstring/dofile/loadfile, string.dump, package or bytecode.
 *
 * The memory cap covers everything the state holds (allocations beyond it fail inside the
 * script as "not enough memory"); the instruction budget is per call (a count hook raises an
 * error when it is spent). A script error, a runaway script, or a return value that is not a
 * table becomes IG_ERR_POLICY with "file:line: message"; the state is garbage collected and
 * serves the next call. Messages are valid UTF-8 (safe for the JSON log).
 *
 * Values cross the boundary as jansson JSON: C -> Lua converts objects to tables, arrays to
 * sequences, null to cjson.null; Lua -> C converts sequences (keys 1..n) to arrays, other
 * tables to objects (an empty table becomes {}), cjson.null to null. Arrays passed in keep a
 * marker (see imagegen.array), so an empty array comes back as []. Integers stay integers,
 * floats stay floats. Strings may hold NUL bytes. Nesting deeper than 64 levels, cycles,
 * functions, non-string keys, NaN/infinity and strings that are not UTF-8 are errors.
 */
#ifndef IG_LUA_HOST_H
#define IG_LUA_HOST_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

typedef struct ig_policy ig_policy;

typedef struct {
    const char *dir;                 /* the policy directory (holds init.lua) */
    char dir_buf[4096];              /* storage dir points into after ..._from_env */
    size_t memory_limit_bytes;       /* IMAGEGEN_LUA_MEMORY_MB (default 64) */
    uint64_t instruction_limit;      /* IMAGEGEN_LUA_INSTRUCTIONS per call (default 10,000,000) */
    uint64_t time_limit_ms;          /* IMAGEGEN_LUA_TIME_MS per call (default 1000) */
    const char *env_allow;           /* comma-separated names imagegen.env may read beyond the
                                        documented overrides (IMAGEGEN_POLICY_ENV); never
                                        credential-like names */
} ig_policy_options;

/* Defaults and the variables:
 *   IMAGEGEN_POLICY_DIR        default $LAMBDA_TASK_ROOT/policy, else ./policy; when that holds
 *                              no init.lua, the first of <executable's dir>/policy and
 *                              <executable's dir>/../runtime/policy that does
 *   IMAGEGEN_LUA_MEMORY_MB     1 .. 4096, default 64
 *   IMAGEGEN_LUA_INSTRUCTIONS  1000 .. 10^12, default 10,000,000
 *   IMAGEGEN_LUA_TIME_MS       10 .. 60000, default 1000: wall-clock time of one call
 *   IMAGEGEN_POLICY_ENV        extra names for imagegen.env (env_allow points into the
 *                              environment)
 * A malformed or out-of-range value gives IG_ERR_CONFIG naming the variable. */
ig_err ig_policy_options_from_env(ig_policy_options *o, ig_error *err);

/* Creates the state and runs init.lua, which must return a table with admit and respond
 * functions. Failure: IG_ERR_POLICY with "file:line: message" in err. */
ig_policy *ig_policy_load(const ig_policy_options *o, ig_error *err);
void ig_policy_free(ig_policy *p);

/* Calls policy.admit(req, ctx). On IG_OK, *out is the returned table as JSON (owned by the
 * caller; always an object). Errors, with *out NULL:
 *   IG_ERR_POLICY       the script failed, ran out of memory or instructions, or returned
 *                       something that is not a table or not representable as JSON
 *   IG_ERR_INVALID_ARG  an argument is nested deeper than 64 levels (a client's body can be:
 *                       answer 400)
 *   IG_ERR_TOO_LARGE    the arguments alone do not fit in the memory limit */
ig_err ig_policy_admit(ig_policy *p, json_t *req, json_t *ctx, json_t **out, ig_error *err);

/* 1 when the policy's table lists origin in cors_origins (or lists "*"): the runtime's own
 * last-resort answers then carry the CORS header the policy's answers would. */
int ig_policy_origin_allowed(const ig_policy *p, const char *origin);
/* The JSON body members the policy's table lists in image_fields (a JSON array of strings,
 * possibly empty; owned by the policy). */
const json_t *ig_policy_image_fields(const ig_policy *p);

/* Calls end by the earlier of their time limit and this deadline (epoch ms; 0: none), so that
 * the runtime can still answer before Lambda's deadline. The runtime sets it per invocation. */
void ig_policy_set_deadline(ig_policy *p, int64_t deadline_ms);
/* Calls policy.respond(result, req); the same contract. */
ig_err ig_policy_respond(ig_policy *p, json_t *result, json_t *req, json_t **out, ig_error *err);
/* Metrics recorded with imagegen.metric since the last take, as a JSON object
 * {name: {"value": v, "unit": u}} (a name recorded twice adds up); the list is emptied.
 * The caller owns the object. Never NULL unless out of memory. */
json_t *ig_policy_take_metrics(ig_policy *p);

/* Memory currently held by the Lua state, in bytes. */
size_t ig_policy_memory_in_use(const ig_policy *p);
/* A full garbage collection (for an idle moment, and for tests measuring memory). */
void ig_policy_collect(ig_policy *p);

#endif
