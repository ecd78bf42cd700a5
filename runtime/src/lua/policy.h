/* policy.h - the Lua policy host: the only module that includes Lua headers.
 *
 * One Lua 5.4 state per process, created at init, living as long as the execution
 * environment (so token buckets and caches in scripts persist across warm invocations).
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
 * No io, os, debug, load/loadstring/dofile/loadfile, string.dump, package or bytecode.
 *
 * Every call runs under a memory cap (allocations beyond it fail inside the script) and an
 * instruction budget (a count hook raises an error when it is spent). A script error, a
 * runaway script, or a return value that is not a table becomes IG_ERR_POLICY with
 * "file:line: message"; the state is restored (garbage collected) and serves the next call.
 *
 * Values cross the boundary as jansson JSON: C -> Lua converts objects to tables, arrays to
 * sequences, null to cjson.null; Lua -> C converts sequences (keys 1..n) to arrays, other
 * tables to objects (an empty table becomes {}), cjson.null to null. Integral numbers stay
 * integers. Cycles, functions and non-string keys are errors.
 */
#ifndef IG_POLICY_H
#define IG_POLICY_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

typedef struct ig_policy ig_policy;

typedef struct {
    const char *dir;                 /* the policy directory (holds init.lua) */
    size_t memory_limit_bytes;       /* IMAGEGEN_LUA_MEMORY_MB (default 64) */
    uint64_t instruction_limit;      /* IMAGEGEN_LUA_INSTRUCTIONS per call (default 10,000,000) */
    const char *env_allow;           /* comma-separated names imagegen.env may read
                                        (IMAGEGEN_POLICY_ENV; IMAGEGEN_* and AWS_REGION are
                                        always allowed except credentials) */
} ig_policy_options;

/* Defaults and the IMAGEGEN_POLICY_DIR / IMAGEGEN_LUA_* variables; dir defaults to
 * $LAMBDA_TASK_ROOT/policy. Malformed numbers give IG_ERR_CONFIG naming the variable. */
ig_err ig_policy_options_from_env(ig_policy_options *o, ig_error *err);

/* Creates the state and runs init.lua, which must return a table with admit and respond
 * functions. Failure: IG_ERR_POLICY with "file:line: message" in err. */
ig_policy *ig_policy_load(const ig_policy_options *o, ig_error *err);
void ig_policy_free(ig_policy *p);

/* Calls policy.admit(req, ctx). On IG_OK, *out is the returned table as JSON (owned by the
 * caller). */
ig_err ig_policy_admit(ig_policy *p, json_t *req, json_t *ctx, json_t **out, ig_error *err);
/* Calls policy.respond(result, req). */
ig_err ig_policy_respond(ig_policy *p, json_t *result, json_t *req, json_t **out, ig_error *err);
/* Metrics recorded with imagegen.metric since the last call, as a JSON object
 * {name: {"value": v, "unit": u}}; the list is emptied. Never NULL. */
json_t *ig_policy_take_metrics(ig_policy *p);

/* Memory currently held by the Lua state, in bytes. */
size_t ig_policy_memory_in_use(const ig_policy *p);

#endif
