/*  coordinator.h: the coordinator's run: workers, assignment, silence detection, project
    closing and the summary. main.c parses options and calls coord_run. */
#ifndef COORDINATOR_H
#define COORDINATOR_H

#include "agent_cli.h"
#include "scenario.h"

#include <signal.h>
#include <stdio.h>

#define COORD_MAX_WORKERS 256

typedef struct {
    char id[COLLAB_MAX_AGENT_ID + 1];
    char caps[COLLAB_MAX_CAPABILITIES][COLLAB_IDENT_MAX + 1];
    int ncaps;
    uint64_t last_seen;
    bool online;
} coord_worker_t;

typedef struct {
    agent_cli_t cli;
    collab_client_t *c;
    scenario_t *sc;
    char scenario_path[512];
    long silence_ms, workers_wait_ms, deadline_ms;
    long rounds;         /* --rounds: how many times to run the scenario; 0: until stopped */
    long round_pause_ms; /* --round-pause-ms: the pause between two rounds */
    long round;          /* the round running, from 1; its projects get fresh names */
    volatile sig_atomic_t *stopping;
    coord_worker_t workers[COORD_MAX_WORKERS];
    size_t nworkers;
    size_t rr; /* round-robin start for ties */
} coord_t;

/*  Runs the scenario co->rounds times (0: until *co->stopping), each round with fresh
    project names ("NAME (round N)" from round 2), printing each round's summary, keeping
    one session open throughout. Returns an agent exit code: 0 when every task of every
    round that ran to its end completed (a round cut short by a stop does not count). */
int coord_run(coord_t *co);

/*  Sends a request with a packed payload (p NULL: {}), through the client's failover.
    Returns 0 with *r to free, or a negative code: the reply's error or the client's. */
int coord_call(coord_t *co, collab_reply_t *r, const char *action, collab_pack_t *p);

/*  Prints one line per task of the current round and a total. */
void coord_print_summary(const coord_t *co, FILE *out);

#endif
