/*  client_monitor.h: a libzmq socket monitor on the client's socket. It tells whether the
    first connection to the broker came up (watched until the ZMTP handshake succeeds,
    fails, or a deadline passes, so that an agent whose broker is down says so at once
    instead of after every retry of its login), and, with several endpoints, when the
    connection in use is lost. Internal to the agents' common library. */
#ifndef CLIENT_MONITOR_H
#define CLIENT_MONITOR_H

#include <stdbool.h>

typedef struct client_monitor client_monitor_t;

/*  Starts watching sock (a raw libzmq socket, before it connects). NULL when the monitor
    cannot be set up (the caller then simply does not wait). */
client_monitor_t *client_monitor_new(void *sock);

/*  Waits up to timeout_ms for the handshake. Returns 0 (it succeeded), COLLAB_E_TIMEOUT
    (nothing answered: no broker there) or COLLAB_E_IO (the broker refused the handshake:
    a CURVE key it does not allow, or a peer that is no ZMTP broker). stop (may be NULL)
    is asked between waits: nonzero ends the wait early with COLLAB_E_TIMEOUT. */
int client_monitor_wait(client_monitor_t *self, int timeout_ms, int (*stop)(void));

/*  The monitor's own socket, readable when events arrived (for zmq_poll). */
void *client_monitor_socket(client_monitor_t *self);

/*  Reads the events that arrived, without waiting. Returns true when the connection was
    lost (ZMQ_EVENT_DISCONNECTED) since the last call, even if it has come back since: a
    reply asked for before then cannot come. */
bool client_monitor_lost(client_monitor_t *self);

/*  Whether the last event read said the connection is down: lost, and no handshake has
    succeeded since. */
bool client_monitor_down(const client_monitor_t *self);

/*  Stops watching; NULL-safe, nulls the caller's pointer. */
void client_monitor_destroy(client_monitor_t **self_p);

#endif
