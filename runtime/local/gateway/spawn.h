/* spawn.h - starting a function process the way Lambda starts a runtime.
 *
 * The child gets the environment Lambda gives a custom runtime (AWS_LAMBDA_RUNTIME_API,
 * _HANDLER, LAMBDA_TASK_ROOT, ...), AWS_ENDPOINT_URL_LAMBDA pointing at the gateway's own
 * Invoke API (invoke.h), plus the gateway's own AWS_*, IMAGEGEN_* and sanitizer
 * variables, its own process group (so it is stopped with everything it started), the
 * parent-death signal SIGKILL (so a killed gateway leaves no orphans), stdin from /dev/null
 * and stdout and stderr on one pipe that the gateway relays.
 */
#ifndef GW_SPAWN_H
#define GW_SPAWN_H

#include <sys/types.h>

#include "core/error.h"
#include "config.h"

typedef struct {
    pid_t pid;   /* also the process group id */
    int out_fd;  /* read end of the stdout+stderr pipe, non-blocking, close-on-exec */
} gw_process;

/* The environment for one execution environment (NULL-terminated, free with gw_strv_free). */
char **gw_spawn_environment(const gw_config *c, const char *runtime_api, const char *log_stream);
void gw_strv_free(char **v);

/* Forks and execs c->function_argv in c->task_root. Must be called from the thread that lives
 * as long as the gateway: Linux sends the parent-death signal when that thread ends. */
ig_err gw_spawn(const gw_config *c, char **envp, gw_process *p, ig_error *err);

/* Sends sig to the process group of p (ignored when it is gone). */
void gw_process_signal(const gw_process *p, int sig);

#endif
