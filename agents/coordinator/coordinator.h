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
    volatile sig_atomic_t *stopping;
    coord_worker_t workers[COORD_MAX_WORKERS];
    size_t nworkers;
    size_t rr; /* round-robin start for ties */
} coord_t;

/*  Runs the scenario to the end. Returns an agent exit code (0: every task completed). */
int coord_run(coord_t *co);

/*  Prints one line per task and a total. */
void coord_print_summary(const coord_t *co, FILE *out);

#endif
