/* control.h - the test-facing endpoints under /_control/, on the same 127.0.0.1
 * port and without SigV4 (they are not part of Bedrock's API):
 *
 *   GET  /_control/health   {"status": "ok"}
 *   GET  /_control/stats    counters (see stats.h) plus "cache"
 *   GET  /_control/faults   the fault configuration (see faults.h)
 *   POST /_control/faults   merges a fault document; answers the resulting configuration
 *   POST /_control/reset    zeroes the counters and restores the command line's faults
 *
 * Errors answer 400 (bad document), 404 (unknown endpoint) or 405 (wrong method, with Allow),
 * each with {"message": "..."}.
 */
#ifndef BEDROCK_LOCAL_CONTROL_H
#define BEDROCK_LOCAL_CONTROL_H

#include "reply.h"
#include "exchange.h"

#define BL_CONTROL_PREFIX "/_control/"
#define BL_CONTROL_BODY_MAX (1024u * 1024u)

void bl_control(bl_server *s, const bl_request *req, bl_reply *reply);

#endif
