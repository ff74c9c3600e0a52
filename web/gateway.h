/*  gateway.h: collab-web, the gateway onto the bus (docs/WEB.md 1-2). One object owns
    everything (the HTTP daemon, the web sessions with their bus clients, the login thread,
    the event streams) and one thread runs its loop: a zmq_poll over libmicrohttpd's epoll
    descriptor, every held bus client's DEALER socket and the login thread's pipe. A
    request that needs the bus is sent at once and its connection suspended until the
    reply, or the timeout, resumes it. */
#ifndef WEB_GATEWAY_H
#define WEB_GATEWAY_H

#include "gw_self.h"

#include <stddef.h>

/*  Loads the credentials (the agents' keys: the gateway is trusted with them, as the
    broker is), starts the login thread and the HTTP daemon, and prints
    "collab-web: http://HOST:PORT/" on stdout. NULL with the reason in err. */
gateway_t *gateway_new(const web_settings_t *set, char *err, size_t errlen);

/*  Runs the loop until a stop signal (agent_stop.h). Returns 0. */
int gateway_run(gateway_t *gw);

/*  Answers what is still pending, logs the sessions out, stops everything. NULL-safe. */
void gateway_destroy(gateway_t **gw_p);

#endif
