/*  replay.h: the strong replay control (LAB.md #8, PROTOCOL.md 4.4): a bounded cache of the
    nonces and signatures of the signed requests seen within the timestamp window, and the
    refusal of anything timestamped before the broker started, so a restart (which forgets
    the cache) does not reopen the window. The clock is the caller's: pure and testable. */
#ifndef COLLAB_REPLAY_H
#define COLLAB_REPLAY_H

#include "collab_map.h"

#include <stdint.h>

typedef struct collab_replay collab_replay_t;

/*  What a refusal was about, for the audit line. */
typedef enum {
    COLLAB_REPLAY_OK,
    COLLAB_REPLAY_BEFORE_START, /* timestamped before started_ms */
    COLLAB_REPLAY_WINDOW,       /* outside +-window of now */
    COLLAB_REPLAY_NO_NONCE,
    COLLAB_REPLAY_SEEN_NONCE,
    COLLAB_REPLAY_SEEN_SIGNATURE,
    COLLAB_REPLAY_FULL, /* cache_max entries still inside the window */
} collab_replay_why_t;

/*  A cache of at most cache_max entries (grown on demand, never beyond) for a window of
    +-window_s seconds, refusing timestamps before started_ms (Unix ms). Returns NULL when
    out of memory. */
collab_replay_t *collab_replay_new(uint32_t cache_max, uint32_t window_s, uint64_t started_ms);

/*  NULL-safe, idempotent; nulls *self_p. */
void collab_replay_destroy(collab_replay_t **self_p);

/*  Admits one signed request whose signature has been verified: ts is its timestamp, now
    the broker's clock (Unix ms). Returns 0 and remembers nonce and signature until ts leaves
    the window; or COLLAB_E_STALE_TIMESTAMP, COLLAB_E_NONCE_MISSING, COLLAB_E_REPLAY, or
    COLLAB_E_BUSY when the cache is full of live entries. *why (may be NULL) says which. */
int collab_replay_admit(collab_replay_t *self, collab_span_t nonce, collab_span_t signature,
                        uint64_t ts, uint64_t now, collab_replay_why_t *why);

/*  Entries remembered now (expired ones are dropped by the next admit). */
uint32_t collab_replay_count(const collab_replay_t *self);

/*  A short name for the audit log: "before_start", "nonce", "signature" ... */
const char *collab_replay_why_name(collab_replay_why_t why);

#endif
