/*  client_monitor.h: whether a client socket's first connection to the broker came up:
    a libzmq socket monitor watched until the ZMTP handshake succeeds, fails, or a deadline
    passes, so that an agent whose broker is down says so at once instead of after every
    retry of its login. Internal to the agents' common library (collab_client.c). */
#ifndef CLIENT_MONITOR_H
#define CLIENT_MONITOR_H

typedef struct client_monitor client_monitor_t;

/*  Starts watching sock (a raw libzmq socket, before it connects). NULL when the monitor
    cannot be set up (the caller then simply does not wait). */
client_monitor_t *client_monitor_new(void *sock);

/*  Waits up to timeout_ms for the handshake. Returns 0 (it succeeded), COLLAB_E_TIMEOUT
    (nothing answered: no broker there) or COLLAB_E_IO (the broker refused the handshake:
    a CURVE key it does not allow, or a peer that is no ZMTP broker). stop (may be NULL)
    is asked between waits: nonzero ends the wait early with COLLAB_E_TIMEOUT. */
int client_monitor_wait(client_monitor_t *self, int timeout_ms, int (*stop)(void));

/*  Stops watching; NULL-safe, nulls the caller's pointer. */
void client_monitor_destroy(client_monitor_t **self_p);

#endif
