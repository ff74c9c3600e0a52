/*  client_self.h: collab_client_t's private half, shared by the files of the client
    library (collab_client.c: requests and failover; client_link.c: the socket to the
    endpoint in use; client_events.c: events and subscriptions). Nothing else includes it. */
#ifndef CLIENT_SELF_H
#define CLIENT_SELF_H

#include "collab_client.h"
#include "client_endpoints.h"
#include "client_monitor.h"

#include <czmq.h>

typedef struct event_node {
    collab_event_msg_t ev;
    struct event_node *next;
} event_node_t;

struct collab_client {
    collab_client_opts_t opts; /* curve_secret is kept only when there are endpoints to
                                  move to (a new socket needs it); wiped in destroy */
    collab_endpoints_t eps;
    size_t current; /* the endpoint in use: eps.ep[current] */
    unsigned moves; /* how many times the client moved to another endpoint */
    char agent_id[COLLAB_MAX_AGENT_ID + 1];
    char password[COLLAB_PASSWORD_MAX + 1];
    zsock_t *sock; /* one DEALER, connected to the endpoint in use only */
    void *raw;
    client_monitor_t *mon; /* the socket's monitor: the first connection, watched until the
                              first login, and with several endpoints every connection,
                              for its loss (NULL when unwatched) */
    bool first_done;       /* the first login's wait for a connection is over */
    uint64_t next_id;      /* never reset: a request id is unique across every socket */
    char session[COLLAB_MAX_SESSION_ID + 1];
    char role[16];
    collab_controls_t controls;
    uint64_t last_seq;
    uint64_t gap_asked; /* the event whose gap a catch-up was asked for, once */
    bool subscribed, subscribed_all;
    bool resubscribe; /* moved since the last subscribe: renewed (since last_seq) first */
    event_node_t *head, *tail;
    size_t queued;
    bool farewell; /* the logout at exit: waits (bounded) even after a stop signal */
    uint8_t frame[COLLAB_MAX_FRAME];
};

/*  Whether a SIGINT or SIGTERM asked the process to stop: every wait then ends at once
    (COLLAB_E_TIMEOUT) and is not retried, except the bounded farewell logout. */
bool client_stopped(const collab_client_t *self);

/*  client_link.c. Opens the socket to eps.ep[current] (watched by a monitor when watch, and
    always with several endpoints),
    replacing the one open; on failure the old one is kept. Returns 0 or COLLAB_E_IO. */
int client_link_open(collab_client_t *self, bool watch);
/*  Moves to the next endpoint that opens (round robin), closing the old socket with what
    it still held; marks the subscription for renewal. A no-op with one endpoint. */
void client_link_move(collab_client_t *self, bool watch);
/*  Before a request: forgets a loss already past and, when the connection in use is down
    (lost, not back), moves to the next endpoint at once. A no-op with one endpoint. */
void client_link_check(collab_client_t *self);

/*  client_events.c. Waits until deadline (collab_mono_ms) for the reply to want
    (CLIENT_ANY_REPLY: any reply; 0: none, which makes it a pause), its id in *id when id
    is not NULL; events are queued meanwhile and other replies dropped as stale. Returns 0
    with *reply to free, COLLAB_E_TIMEOUT at the deadline, on a stop signal or, waiting for
    a reply with several endpoints, as soon as the connection is lost (the reply cannot
    come), or a negative code when the reply could not be copied. */
#define CLIENT_ANY_REPLY UINT64_MAX
int client_await(collab_client_t *self, int64_t deadline, uint64_t want, collab_reply_t *reply,
                 uint64_t *id);
/*  Queues a pushed event in sequence order, once (an old or a repeated one is dropped). */
void client_queue_event(collab_client_t *self, const collab_envelope_t *env);
/*  Subscribes again, since the last event, after a move (a no-op when not needed). */
void client_renew_subscription(collab_client_t *self);
/*  Frees every queued event. */
void client_drop_events(collab_client_t *self);

/*  Copies a data map into heap memory and parses the view over the copy. */
int client_own_map(collab_span_t src, uint8_t **data, size_t *len, collab_map_t *map);

#endif
