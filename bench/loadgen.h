/*  loadgen.h: the load generator's settings and shared state, between its command line
    (loadgen.c) and its scenarios (lg_scenario.c). */
#ifndef LOADGEN_H
#define LOADGEN_H

#include "lg_conn.h"
#include "lg_proc.h"

#define LG_MAX_AGENTS 1024

typedef struct {
    /* what to run */
    const char *endpoint, *scenario, *label;
    bool echo;               /* the target is bench/echo: no setup, sessions are made up */
    int pid;                 /* the server process to sample (0: none) */
    unsigned conns;          /* connections (agents) driving the load */
    unsigned window;         /* requests in flight per connection (1: synchronous) */
    double duration, warmup; /* seconds */
    unsigned tasks;          /* tasks in the project that reads fetch */
    unsigned storm;          /* simultaneous logins of the storm scenario */
    unsigned sessions;       /* sessions opened by the memory scenario */
    size_t pool;             /* frames per connection when every request must be fresh (0: auto) */
    unsigned prefill;        /* writes per connection before the warm-up (steady state) */
    unsigned io_threads;
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

#endif
