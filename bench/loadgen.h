/*  loadgen.h: the load generator's settings and shared state, between its command line
    (loadgen.c) and its scenarios (lg_scenario.c). */
#ifndef LOADGEN_H
#define LOADGEN_H

#include "lg_conn.h"
#include "lg_proc.h"

#define LG_MAX_AGENTS    1024
#define LG_MAX_ENDPOINTS 4 /* a cluster's brokers: connection i uses endpoint i % n */
#define LG_MAX_PIDS      4 /* server processes whose CPU time is added up */

typedef struct {
    /* what to run */
    const char *endpoint, *scenario, *label;
    const char *endpoints[LG_MAX_ENDPOINTS]; /* --endpoint A,B,...: endpoints[0] is A */
    unsigned nendpoints;
    bool echo;             /* the target is bench/echo: no setup, sessions are made up */
    int pids[LG_MAX_PIDS]; /* the server processes to sample (none: npids 0) */
    unsigned npids;
    int store_pid;           /* a store process (redis-server) sampled apart (0: none) */
    const char *on_window;   /* a shell command run with "start" and "end" around a window */
    unsigned conns;          /* connections (agents) driving the load */
    unsigned window;         /* requests in flight per connection (1: synchronous) */
    double duration, warmup; /* seconds */
    unsigned tasks;          /* tasks in the project that reads fetch */
    unsigned storm;          /* simultaneous logins of the storm scenario */
    unsigned sessions;       /* sessions opened by the memory scenario */
    size_t pool;             /* frames per connection when every request must be fresh (0: auto) */
    unsigned prefill;        /* writes per connection before the warm-up (steady state) */
    unsigned io_threads;
    /* the scale scenarios (lg_class.c, lg_fanout.c) */
    unsigned agents;       /* class: agents connected at once (bench-aNNNN) */
    unsigned observers;    /* fanout: observers subscribed to everything (bench-oNNNN) */
    unsigned events;       /* fanout: project_created events timed, one at a time */
    double rate;           /* class: the coordinator's rounds per second */
    unsigned login_window; /* logins in flight at most (under the broker's hash.queue_max) */
    /* credentials: bench-coord, bench-wNNN (cheap hashes), bench-sNN (storm, costly) */
    const char *creds, *password, *storm_password;
    /* echo runs: how the broker's frames would be signed, and the session id length */
    collab_scope_t echo_scope;
    bool echo_nonce;
    unsigned echo_session_len;
    lg_curve_t curve;
    /* state */
    void *ctx;
    lg_driver_t drv;
    char (*workers)[COLLAB_MAX_AGENT_ID + 1];
    char (*stormers)[COLLAB_MAX_AGENT_ID + 1];
    int nworkers, nstormers;
    uint64_t project_id;
} bench_t;

/*  The scenarios: each sets up, runs and prints its "result" lines. Return 0 or -1. */
int lg_scenario_read(bench_t *b);
int lg_scenario_write(bench_t *b);
int lg_scenario_storm(bench_t *b);
int lg_scenario_memory(bench_t *b);
/*  An event caused on endpoints[0] and delivered there and on endpoints[1] (lg_event.c). */
int lg_scenario_event(bench_t *b);
/*  The scale of a class (lg_class.c) and one event fanned out to many observers
    (lg_fanout.c). */
int lg_scenario_class(bench_t *b);
int lg_scenario_fanout(bench_t *b);

/*  Helpers the scenario files share (lg_scenario.c). */
typedef struct {
    uint64_t t0;
    lg_proc_t p0, s0; /* the servers, the store */
    double gen0, busy0;
} lg_mark_t;
void lg_mark(const bench_t *b, lg_mark_t *m);
void lg_report(const bench_t *b, const char *phase, const lg_conn_t *cs, unsigned n,
               const lg_hist_t *h, const lg_mark_t *m);
/*  Runs --on-window with phase ("start", "end"); nothing without it. Returns 0 or -1. */
int lg_on_window(const bench_t *b, const char *phase);
/*  Logs c in as agent, or makes up its identity against the echo server. */
int lg_become(bench_t *b, lg_conn_t *c, const char *agent, const char *password);
/*  Creates the project (as bench-coord on endpoints[0]) with ntasks tasks. */
int lg_make_project(bench_t *b, unsigned ntasks, uint64_t *task_ids);

#endif
