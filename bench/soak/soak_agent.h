/*  soak_agent.h: the well-behaved agent of the storm: one coordinator, logged in, making a
    signed durable write (create_project) every interval on its own thread, each write timed
    and counted under the phase it started in. It never sends two writes closer than the
    interval and never catches up after a slow reply, so it stays within the per-agent
    budget of the hardened profile (20/s). */
#ifndef SOAK_AGENT_H
#define SOAK_AGENT_H

#include "soak.h"

enum { SOAK_QUIET, SOAK_STORM, SOAK_AFTER, SOAK_PHASES };

typedef struct {
    uint64_t writes, errors, refusals; /* refusals: rate_limited replies (also in errors) */
    int last_error;
    lg_hist_t hist; /* latency of every answered write, ns */
} soak_agent_stats_t;

typedef struct soak_agent soak_agent_t;

/*  Logs the agent in and starts its writes. NULL when it cannot log in (said on stderr). */
soak_agent_t *soak_agent_start(soak_t *s);

/*  Writes started from now on count under phase. */
void soak_agent_phase(soak_agent_t *a, int phase);

/*  Stops the writes and waits for the one in flight. */
void soak_agent_stop(soak_agent_t *a);

/*  Stops the agent if it runs and frees it. NULL-safe; nulls the pointer. */
void soak_agent_destroy(soak_agent_t **a_p);

/*  A phase's figures (read them after soak_agent_stop). */
const soak_agent_stats_t *soak_agent_stats(const soak_agent_t *a, int phase);

#endif
