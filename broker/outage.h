/*  outage.h: the broker through an outage of its shared store (a cluster; docs/DISTRIBUTED.md
    section 5): while Redis cannot be reached, every request but a heartbeat (and get_stats,
    which reads only this broker's counters) is answered `unavailable` with
    {retry_after_ms}, and nothing is changed; the batch in flight when Redis failed, whose
    outcome is unknown, stays unanswered; once the store has reconnected, the tables are
    brought up to date (the log, or a whole reload that keeps this broker's sessions'
    connections) before anything is answered again. A store of one broker never calls in. */
#ifndef COLLAB_OUTAGE_H
#define COLLAB_OUTAGE_H

#include "ctx.h"

#include <stdbool.h>
#include <stdint.h>

/*  The loop's record of the outage under way (zeroed: none). */
typedef struct {
    bool noted;        /* logged and counted */
    bool settled;      /* what was held for it is answered or dropped */
    uint64_t since_ms; /* monotonic, when it was noted */
    uint64_t said_ms;  /* monotonic, when the failed attempts were last logged */
} collab_outage_t;

/*  One step, each loop turn after the committed batches are released: notes an outage,
    answers or drops what it held once the store's batches are settled, and recovers once
    the store has reconnected (counted in stats, logged, a security-log line at each end).
    No-op while the store is up. */
void collab_outage_step(collab_ctx_t *ctx, collab_outage_t *o);

#endif
