/*  lg_many.h: thousands of connections at once, for the scale scenarios (lg_class.c,
    lg_fanout.c): the credentials' keys read in one pass, one or two requests per connection
    (a login and a subscribe, or one round trip) pipelined over a bounded window so that the
    broker's hashing queue never overflows, and a sweep that reads and counts whatever
    waits on connections nobody polls. */
#ifndef LG_MANY_H
#define LG_MANY_H

#include "lg_conn.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*  One agent of a credentials file: its id and HMAC key. */
typedef struct {
    char id[COLLAB_MAX_AGENT_ID + 1];
    uint8_t key[COLLAB_KEY_LEN];
} lg_agent_key_t;

/*  Reads the agents whose id starts with prefix from the credentials file at path, in file
    order, at most max, into a new array *out (the caller frees it). One parse of the file,
    however many agents. Returns their number, or -1 (unreadable file, bad key, no memory). */
int lg_keys_load(const char *path, const char *prefix, size_t max, lg_agent_key_t **out);

typedef enum {
    LG_MANY_JOIN, /* login (its reply's session kept in c->id), then subscribe if asked */
    LG_MANY_PING, /* one round trip: heartbeat (broker), or a login-shaped frame (echo) */
} lg_many_kind_t;

typedef struct {
    lg_many_kind_t kind;
    bool echo;       /* the server is bench/echo: any reply of the request id answers it */
    bool subscribe;  /* JOIN: subscribe once logged in */
    bool all;        /* the subscribe asks for every project and task event */
    unsigned window; /* connections with a request in flight, at most */
    const char *password;
    int timeout_ms; /* for the whole run */
} lg_many_opts_t;

typedef struct {
    uint64_t first_ns, last_first_ns; /* the first request sent; the last first-request answered */
    uint64_t last_ns;                 /* the last request of all answered */
    uint64_t done;                    /* connections through every step */
    uint64_t retries;                 /* requests answered `busy` and sent again */
    uint64_t errors;                  /* connections that failed (an error reply, a timeout) */
    int last_error;
    uint64_t events; /* events received meanwhile (skipped) */
} lg_many_stats_t;

/*  Runs the opts' requests on connections cs[0..n), connection i speaking as keys[i] (JOIN)
    or as its c->id (PING). hist (may be NULL) gets each connection's first request's round
    trip. Returns 0 when every connection went through, -1 otherwise (st says how far). */
int lg_many_run(lg_conn_t *cs, size_t n, const lg_agent_key_t *keys, const lg_many_opts_t *opts,
                lg_hist_t *hist, lg_many_stats_t *st);

/*  Opens n connections to endpoint into cs[0..n) (zeroed by the caller), with
    ZMQ_IMMEDIATE, and waits up to timeout_ms until every one is connected (polls
    writable). *connect_s gets the time from the first connect to the last connection up.
    Returns 0, or -1 (a socket that cannot be made, or connections still down at the
    deadline: they stay open, the caller closes them). */
int lg_many_open(lg_conn_t *cs, size_t n, void *ctx, const char *endpoint, const lg_curve_t *curve,
                 int timeout_ms, double *connect_s);

/*  Reads and drops whatever waits on cs[0..n) except cs[skip] (SIZE_MAX: none), without
    waiting; each connection's events are added to its c->done. Returns the events read. */
uint64_t lg_many_sweep(lg_conn_t *cs, size_t n, size_t skip);

#endif
