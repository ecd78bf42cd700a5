/* relay.h - a function's stdout and stderr, relayed line by line to the gateway's stdout.
 *
 * Each line gets the environment's prefix ("[env-3] "). A thread follows the pipe; the
 * platform lines of an invocation call gw_relay_drain first, so that what the function
 * wrote before posting its result appears before END and REPORT, as in CloudWatch.
 */
#ifndef GW_RELAY_H
#define GW_RELAY_H

typedef struct gw_relay gw_relay;

/* Takes ownership of fd (non-blocking). NULL when out of memory or threads. */
gw_relay *gw_relay_start(int fd, const char *prefix);
/* Relays every complete line that is in the pipe now. */
void gw_relay_drain(gw_relay *r);
/* Relays what is left (the writer has exited), stops the thread, closes fd and frees r. */
void gw_relay_stop(gw_relay *r);

#endif
