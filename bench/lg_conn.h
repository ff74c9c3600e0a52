/*  lg_conn.h: the load generator's connections and the loop that drives them. Each
    connection is one DEALER socket (raw libzmq, zmq_msg_t) with a pool of pre-encoded
    frames and a window of requests in flight; one thread drives many connections with
    zmq_poll, sending from the pools and timing each reply against its request, found by its
    request id (replies come back in order, except logins, which the broker's hashing
    threads may finish out of order). */
#ifndef LG_CONN_H
#define LG_CONN_H

#include "lg_hist.h"
#include "lg_req.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*  CURVE keys for a connection (all 32 raw bytes), or on = false for the NULL mechanism. */
typedef struct {
    bool on;
    uint8_t server_public[32], client_public[32], client_secret[32];
} lg_curve_t;

/*  Fills out from two CZMQ certificate files: the server's public key and the client's
    pair. Returns 0, or -1 when either cannot be read. */
int lg_curve_load(const char *server_cert, const char *client_cert, lg_curve_t *out);

typedef struct {
    uint64_t t_ns; /* when it was sent (monotonic) */
    uint64_t request_id;
    uint32_t len;
    bool done; /* answered, waiting for the older ones to leave the window */
} lg_flight_t;

typedef struct {
    void *sock;
    lg_ident_t id;
    lg_pool_t pool;
    unsigned window;      /* requests in flight at most */
    uint64_t limit;       /* sends still allowed (UINT64_MAX: no limit) */
    bool sending;         /* false: let the requests in flight finish, send no more */
    lg_flight_t *ring;    /* window entries; head is the oldest unanswered */
    unsigned head, count; /* count: ring entries from head, answered or not */
    lg_hist_t *hist;      /* where this connection's latencies go; NULL: not recorded */
    uint64_t setup_id;    /* request ids of setup calls (lg_setup.c), far from the pools' */
    /* counters: the caller zeroes them at a phase boundary */
    uint64_t sent, done, errors, req_bytes, rep_bytes;
    uint64_t lost;  /* requests abandoned unanswered by lg_drain */
    int last_error; /* the last error code a reply carried (negative) */
} lg_conn_t;

/*  How replies are checked. */
typedef struct {
    bool echo; /* an echo server answers: check only the request id, never an envelope */
} lg_driver_t;

/*  Opens a DEALER connected to endpoint with a window. Returns 0 or -1 (errno from libzmq). */
int lg_conn_open(lg_conn_t *c, void *ctx, const char *endpoint, const lg_curve_t *curve,
                 unsigned window);

/*  The same; with immediate (ZMQ_IMMEDIATE), the socket queues nothing before its
    connection is up, so that it polls writable (ZMQ_POLLOUT) only once connected. */
int lg_conn_open_opts(lg_conn_t *c, void *ctx, const char *endpoint, const lg_curve_t *curve,
                      unsigned window, bool immediate);

/*  Closes the socket and frees the pool. Idempotent. */
void lg_conn_close(lg_conn_t *c);

/*  Zeroes the counters and points the latencies at hist (NULL: not recorded). */
void lg_conn_phase(lg_conn_t *c, lg_hist_t *hist);

/*  One synchronous request for setup: sends frame, waits up to timeout_ms for a reply
    (skipping events) and copies it into reply[0..cap). Returns 0 or COLLAB_E_TIMEOUT /
    COLLAB_E_TOO_LARGE. Only with nothing in flight. */
int lg_conn_call(lg_conn_t *c, const uint8_t *frame, size_t len, int timeout_ms, uint8_t *reply,
                 size_t cap, size_t *rlen);

/*  True when the connection has nothing in flight and will send nothing more. */
bool lg_conn_idle(const lg_conn_t *c);

/*  Drives the connections until deadline_ns (monotonic) or until done(arg) returns true
    (done may be NULL). Returns 0, or -1 when polling fails. */
int lg_drive(const lg_driver_t *d, lg_conn_t *conns, size_t n, uint64_t deadline_ns,
             bool (*done)(void *arg), void *arg);

/*  Stops sending and waits up to timeout_ms for the requests in flight. Returns the number
    of requests still unanswered. */
uint64_t lg_drain(const lg_driver_t *d, lg_conn_t *conns, size_t n, int timeout_ms);

#endif
