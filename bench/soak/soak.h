/*  soak.h: the soak driver's settings and its modes, between its command line (soak_main.c)
    and the modes, one per file: the malformed storm beside a well-behaved agent
    (soak_storm.c, soak_agent.c), the writes and checks around kill -9 cycles
    (soak_writes.c), and connections held and dropped (soak_hold.c). scripts/soak starts
    and kills the broker; this program only talks to it, and prints "key=value" lines. */
#ifndef SOAK_H
#define SOAK_H

#include "../lg_conn.h"
#include "../lg_proc.h"

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    const char *endpoint, *creds, *password;
    const char *agent;  /* the well-behaved agent / the writer (a coordinator) */
    const char *prefix; /* hold: the agents the held connections log in as */
    const char *ack;    /* write, verify: the file of acknowledged writes */
    int pid;            /* the broker, sampled from /proc (0: none) */
    uint64_t storm;     /* storm: malformed messages in all */
    unsigned storm_conns;
    double storm_rate;      /* storm: messages per second in all (0: as fast as they go) */
    int storm_nice;         /* storm: the sender's threads' nice value (0..19) */
    unsigned interval_ms;   /* storm: the agent's write interval */
    double quiet_s;         /* storm: the agent alone before the storm */
    double settle_s;        /* hold, storm: the wait before the "after"/"end" sample */
    double duration_s;      /* write: stop after this long even if the broker lives */
    unsigned conns, rounds; /* hold */
    int timeout_ms;         /* a request unanswered this long is lost (broker gone) */
    lg_curve_t curve;
    void *ctx;
} soak_t;

/*  The modes: each prints its result lines and returns 0, or -1 when it could not run. */
int soak_storm(soak_t *s);
int soak_write(soak_t *s);
int soak_verify(soak_t *s);
int soak_hold(soak_t *s);

/*  Opens a window-1 connection in ctx and logs it in as agent. Returns 0 or a negative
    code. */
int soak_connect_login(soak_t *s, void *ctx, lg_conn_t *c, const char *agent);

/*  One signed (as the login's controls say) request, waiting up to s->timeout_ms; when key
    is not NULL reads that uint of the reply's data into *out. Returns 0, the reply's error
    code or COLLAB_E_TIMEOUT. */
int soak_call(soak_t *s, lg_conn_t *c, int action, const uint8_t *payload, size_t plen,
              const char *key, uint64_t *out);

/*  The broker's open descriptors (entries of /proc/PID/fd), or -1. */
int soak_fds(int pid);

#endif
