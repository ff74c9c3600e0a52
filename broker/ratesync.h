/*  ratesync.h: the strong rate_limit control's budgets shared by the brokers of a cluster
    (docs/DISTRIBUTED.md 3 and 4). Each broker decides on its own buckets, at once, on the
    loop; this object's thread, with its own Redis connection, sends every sync period the
    tokens each bucket spent since the last sync in one script call (GCRA: per key a
    theoretical arrival time, advanced by spent / rate) and brings back the cluster's view of
    every key changed since its last call, which the loop then puts into its buckets. The
    loop never waits on Redis: it hands a snapshot over and takes a result when one is
    ready. A failed call (Redis down, a deadline) leaves the local buckets working alone;
    the spends it carried are not sent again. */
#ifndef COLLAB_RATESYNC_H
#define COLLAB_RATESYNC_H

#include "ratelimit.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*  Keys sent, and keys brought back, per sync. A script holds Redis for its whole run, about
    20 us a key here (measured: 0.4 ms for 1 key, 2.3 ms for 100, 20 ms for 1,000), so a
    flood of keys (addresses) must not stall every broker's commits behind it. */
#define COLLAB_RATESYNC_KEYS_MAX 512
#define COLLAB_RATESYNC_KEEP_MS  60000u /* lifetime of rate:recent, rate:seq, rate:node:N */
#define COLLAB_RATESYNC_RECENT   65536  /* rate:recent's members, at most */

typedef struct collab_ratesync collab_ratesync_t;

typedef struct {
    const char *address;    /* the store's redis:// or unix:// address */
    const char *passfile;   /* NULL, or the store's owner-only password file */
    const char *prefix;     /* the store's key prefix */
    const char *node;       /* this broker's name: rate:node:NAME counts its syncs */
    int command_timeout_ms; /* each reply (the store's deadline) */
    uint32_t sync_ms;       /* the sync period, > 0 */
    /* the budgets' rates (a second), as given to collab_rate_gate_new */
    double agent_per_s, login_per_s, anon_per_s;
} collab_ratesync_opts_t;

/*  Starts the thread (it connects on its first sync, never the caller). gate is lent and
    touched only by collab_ratesync_tick. NULL with a sentence in err (a bad address, an
    unreadable password file, out of memory). */
collab_ratesync_t *collab_ratesync_new(const collab_ratesync_opts_t *o, collab_rate_gate_t *gate,
                                       char *err, size_t errlen);

/*  Stops and joins the thread. NULL-safe, idempotent, nulls *self_p. */
void collab_ratesync_destroy(collab_ratesync_t **self_p);

/*  Readable when a sync's result is ready for collab_ratesync_tick. */
int collab_ratesync_fd(const collab_ratesync_t *self);

/*  The loop's part, never blocking: puts a ready result into the buckets, and when the
    period is over and no sync is under way, hands the next snapshot to the thread.
    now_ms: the clock of the buckets; wall_ms: Unix ms (the shared GCRA clock). Returns 1
    when a sync was applied, -1 when one failed (why: collab_ratesync_why), 0 otherwise. */
int collab_ratesync_tick(collab_ratesync_t *self, uint64_t now_ms, uint64_t wall_ms);

/*  Why the last sync failed (for the log); "" after a success. */
const char *collab_ratesync_why(const collab_ratesync_t *self);

/*  The longest the loop may wait before its next tick. */
uint32_t collab_ratesync_period(const collab_ratesync_t *self);

#endif
