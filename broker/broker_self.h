/*  broker_self.h: the loop's self, private to broker.c (building it) and loop.c (running
    it): what only the loop touches (the sockets, the monitor, the hashing pool, the
    transport, the timers) around the handler context it lends to dispatch. */
#ifndef COLLAB_BROKER_SELF_H
#define COLLAB_BROKER_SELF_H

#include "broker.h"
#include "ctx.h"
#include "hasher.h"
#include "outage.h"
#include "ratesync.h"
#include "statelock.h"
#include "transport.h"

#include <signal.h>
#include <stdint.h>

struct collab_broker {
    collab_ctx_t ctx;            /* what handlers may touch: config, tables, store, outbox ... */
    void *router;                /* raw libzmq handle of the ROUTER (owned through zsock) */
    void *zsock;                 /* zsock_t *, kept opaque here */
    void *monitor;               /* PAIR receiving the ROUTER's socket events */
    collab_ratesync_t *ratesync; /* a cluster's shared rate budgets, else NULL */
    int port;
    collab_transport_t *transport; /* CURVE and ZAP, or nothing (transport control) */
    collab_statelock_t *lock;      /* STATE.lock, held while the broker lives */
    collab_hasher_t *hasher;
    uint64_t last_sweep_ms, last_flush_ms, last_stats_ms;
    /* loop.c's trim when quiet: the last second's start and its request count, and the
       counters at the last trim */
    uint64_t trim_tick_ms, trim_tick_requests, trim_requests, trim_disconnects;
    collab_outage_t outage;           /* the shared store's, while one lasts (outage.c) */
    volatile sig_atomic_t stop;       /* collab_broker_stop */
    volatile sig_atomic_t *stop_flag; /* a signal handler's, lent (or NULL) */
};

/*  The clocks the loop gives its context: Unix ms, and monotonic ms (arg unused). */
uint64_t collab_broker_wall_ms(void *arg);
uint64_t collab_broker_mono_ms(void *arg);

/*  The outbox's sink: sends one frame on the ROUTER (arg: the broker), counting a drop. */
void collab_broker_sink(void *arg, const uint8_t *rid, size_t rid_len, const uint8_t *bytes,
                        size_t len);

#endif
