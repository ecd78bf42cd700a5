/* net.h - listening sockets on 127.0.0.1 for the gateway's HTTP servers.
 *
 * The gateway binds its sockets itself (rather than letting libmicrohttpd do it) so that a
 * port already in use is reported as exactly that, and so that port 0 yields the port the
 * kernel picked.
 */
#ifndef GW_NET_H
#define GW_NET_H

#include "core/error.h"

/* IG_ERR_CONNECT with "port N on 127.0.0.1 is already in use" when it is. */
ig_err gw_listen(int port, int *fd, int *bound_port, ig_error *err);

/* The flags every gateway server runs libmicrohttpd with. Handlers may block (a long-polling
 * GET /next, a client waiting for its function), so each connection has its own thread. */
unsigned int gw_mhd_flags(void);

#endif
