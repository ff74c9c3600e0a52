/*  observer.h: collab-observer's loop. Subscribed to every project and task event, it
    prints one line per event (or keeps a live table on a terminal) and only ever sends
    read actions: subscribe, heartbeat, list_projects, get_project, and logout at the end. */
#ifndef OBSERVER_H
#define OBSERVER_H

#include "collab_client.h"

#include <stdbool.h>

typedef struct {
    long max_events;    /* stop after this many events (0: no limit) */
    long until_idle_ms; /* stop after this long without an event (0: never) */
    long heartbeat_ms;  /* heartbeat this often (0: a third of the idle timeout, <= 60 s) */
    bool table;         /* draw the live table (a terminal, and not --lines) */
    const char *prog;
} observer_opts_t;

/*  Subscribes with all=true through a logged-in client and runs until a limit is reached
    or SIGINT/SIGTERM arrives. Returns an AGENT_EXIT_* code. */
int observer_run(collab_client_t *c, const observer_opts_t *opts);

#endif
