/* watch.h - the policy folder the local stack follows (--watch-policy DIR).
 *
 * An operator saves a policy file and expects the next request to see it. The gateway's main
 * thread polls the folder's *.lua files (name, size, modification time, inode) every few
 * hundred milliseconds; on a change it runs `imagegen-policy check DIR` (beside the gateway's
 * executable), the same sandbox bootstrap loads the policy in, and only a policy that loads
 * recycles the environments. The check's verdict, with file:line, is for the operator.
 */
#ifndef GW_WATCH_H
#define GW_WATCH_H

#include <stdint.h>

#include "core/error.h"

typedef struct gw_watch gw_watch;

/* NULL with err set when dir cannot be read or the policy tool is missing. */
gw_watch *gw_watch_new(const char *dir, ig_error *err);
void gw_watch_free(gw_watch *w);
const char *gw_watch_dir(const gw_watch *w);

/* 1 when the folder's *.lua files differ from the last poll (at most one look per interval). */
int gw_watch_changed(gw_watch *w, int64_t now_ms);

/* Runs the policy check; 1 when the policy loads. *output (malloc'd, caller frees) holds what
 * the check printed. Blocks the caller for the check's duration. */
int gw_watch_check(const gw_watch *w, char **output);

#endif
