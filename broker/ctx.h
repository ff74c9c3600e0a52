/*  ctx.h: what a request handler, a guard, the event streams and the session life cycle may
    touch, and nothing of the loop's (sockets, monitor, hashing pool, transport). The loop
    owns one and lends it; a unit test builds one with a fake clock and an outbox it reads. */
#ifndef COLLAB_CTX_H
#define COLLAB_CTX_H

#include "collab.h"
#include "config.h"
#include "hash_job.h"
#include "ids.h"
#include "model.h"
#include "outbox.h"
#include "ratelimit.h"
#include "replay.h"
#include "seclog.h"
#include "readcache.h"
#include "store.h"
#include "tables.h"
#include "vault.h"

#include <stdbool.h>
#include <stdint.h>

#define COLLAB_EXPIRED_MEMORY 4096 /* expired sessions remembered (a power of two) */
#define COLLAB_EXPIRED_NONE   0xffffu
#define COLLAB_ENDED_MAX      64 /* ended sessions' connections awaiting their event */

/*  Counters reported by get_stats and the periodic log line. */
typedef struct {
    uint64_t requests, replies_ok, replies_error;
    uint64_t refused_auth, refused_forbidden, refused_signature, refused_session;
    uint64_t malformed, dropped, logins_ok, logins_failed, events_sent;
    uint64_t peer_warnings, commits, disconnects;
    uint64_t rate_limited, replays, hash_jobs; /* controls 10 and 8; jobs given the hasher */
    uint64_t hash_verified;     /* password verifications the hasher ran to the end */
    uint64_t transport_refused; /* handshakes the transport refused (the loop copies it) */
    uint64_t refused_conflict;  /* requests the store refused at commit (a cluster's conflict) */
    /* a cluster's shared store unreachable (outage.c) */
    uint64_t store_unavailable; /* requests answered unavailable */
    uint64_t store_unanswered;  /* requests of a batch in flight, outcome unknown: no answer */
    uint64_t store_outages, store_reconnects, store_reloads;
    uint64_t rate_syncs, rate_sync_failures; /* a cluster's shared rate budgets (ratesync.h) */
} collab_counters_t;

/*  A clock: Unix ms (wall) or ms since an arbitrary start (monotonic), from arg. */
typedef uint64_t (*collab_clock_fn)(void *arg);

/*  Hands a password job to the hashing pool; takes *job_p (nulled) on success. Returns 0,
    or non-zero when the pool's queue is full (*job_p stays the caller's). */
typedef int (*collab_hash_submit_fn)(void *arg, collab_hash_job_t **job_p);

/*  The sessions that ended by expiry, remembered (sessions.c): the last
    COLLAB_EXPIRED_MEMORY, as short keyed hashes of their keys in a ring, so that a request on
    one still gets session_expired after the sweep removed it (PROTOCOL.md 5), and an index
    over the ring (chains of ring positions by tag; COLLAB_EXPIRED_NONE ends one). */
typedef struct {
    uint64_t tag[COLLAB_EXPIRED_MEMORY];
    uint32_t next, count;
    uint16_t head[COLLAB_EXPIRED_MEMORY], link[COLLAB_EXPIRED_MEMORY];
    uint8_t key[16];
} collab_expired_t;

/*  A shared store (a cluster): the connection of a session that ended here, which the event
    telling it (session_revoked, ...) must still reach once the store has numbered it, when
    the session has left the tables (events.c). The event is known by its agent, name and
    data (which holds the session's handle). A ring, so that an event that never comes (its
    change set refused) is forgotten in time: past COLLAB_ENDED_MAX sessions ending within
    one commit, the oldest noted is told only through its agent's stream. */
typedef struct {
    char agent_id[COLLAB_MAX_AGENT_ID + 1];
    char name[COLLAB_MAX_EVENT_NAME + 1];
    uint8_t data[128];
    size_t len; /* 0: a free slot */
    uint8_t rid[COLLAB_RID_MAX];
    uint16_t rid_len;
} collab_ended_t;

typedef struct collab_ctx {
    collab_config_t cfg;
    collab_tables_t *tables;
    collab_store_t *store;
    collab_outbox_t *outbox; /* replies and events, held until their batch commits */
    collab_idgen_t *ids;
    collab_seclog_t *seclog;
    collab_vault_t *vault;         /* control 5 strong: token hashing and sealing key, else NULL */
    collab_replay_t *replay;       /* control 8: seen nonces and signatures, else NULL */
    collab_rate_gate_t *rate;      /* control 10: the budgets, else NULL */
    collab_readcache_t *readcache; /* packed get_project replies, or NULL: none kept */
    collab_clock_fn wall_ms, mono_ms;
    void *clock_arg;
    collab_hash_submit_fn submit_hash;
    void *submit_arg;
    /* what an unknown agent's login is verified against (strong login control) */
    char dummy_hash[COLLAB_HASH_MAX];
    collab_counters_t stats;
    collab_expired_t expired;
    collab_ended_t ended[COLLAB_ENDED_MAX];
    uint32_t ended_next;
    uint64_t started_ms;
    uint64_t next_project_id, next_task_id, next_handle;
    uint64_t id_end[3];      /* a cluster: the end of the block reserved, per collab_id_kind_t */
    uint64_t changeset;      /* the request being handled (0: none): tags its writes and output */
    uint64_t next_changeset; /* the last change set id given (collab_changeset_begin) */
    /* scratch buffers for encoding, one owner each */
    uint8_t data_buf[COLLAB_MAX_PAYLOAD];  /* the reply's data map (dispatch, login) */
    uint8_t event_buf[COLLAB_MAX_PAYLOAD]; /* an event's data map (handlers, sessions) */
    uint8_t list_buf[COLLAB_MAX_PAYLOAD];  /* the items of a paged list (the pager) */
} collab_ctx_t;

/*  The wall clock and the monotonic clock, as the context was given them. */
static inline uint64_t collab_ctx_now(const collab_ctx_t *ctx)
{
    return ctx->wall_ms(ctx->clock_arg);
}

static inline uint64_t collab_ctx_mono(const collab_ctx_t *ctx)
{
    return ctx->mono_ms(ctx->clock_arg);
}

/*  The next number of a kind (a project id, a task id, a session handle). In a cluster it
    comes from a block reserved in the shared store (COLLAB_ID_BLOCK at a time, so a broker
    asks once per block), so that no two brokers give the same. Returns 0, or the store's
    COLLAB_E_IO. */
#define COLLAB_ID_BLOCK 256
int collab_ctx_take_id(collab_ctx_t *ctx, collab_id_kind_t kind, uint64_t *id);

/*  Fills what every context needs but a loop: empty expired ring with a random key. The
    caller sets cfg, tables, store, outbox, the clocks and the rest. */
void collab_ctx_init(collab_ctx_t *ctx);

#endif
