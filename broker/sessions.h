/*  sessions.h: the session life cycle (sessions.c): the key a session is known by, its end
    and who is told, the expiry rule and the sweep, the lazy write-back of activity, and the
    completion of a login whose password the hashing pool verified (handlers_session.c). */
#ifndef COLLAB_SESSIONS_H
#define COLLAB_SESSIONS_H

#include "ctx.h"

#include <stdbool.h>

/*  The key a session is known by in the session table and the state file: the bearer token
    itself, or under the strong state_at_rest control its keyed hash (hex). Written into out
    (COLLAB_MAX_SESSION_ID + 1 bytes; "" for a token too long to be one); returns out. */
const char *collab_session_key(const collab_ctx_t *ctx, const char *token, size_t len, char *out);
/*  The one expiry rule: "idle" when the session was inactive longer than the idle timeout,
    "lifetime" (strong session-lifetime control) when it is older than the absolute
    lifetime, else NULL. A wall clock stepped back never expires anything. */
const char *collab_session_expiry_reason(const collab_config_t *cfg, const collab_session_t *s,
                                         uint64_t now);
/*  Ends a session for a reason ("logout", "revoked", "idle", "lifetime", "evicted"),
    recording it and telling the holder by event unless the reason is logout. */
int collab_session_end(collab_ctx_t *ctx, collab_session_t **s_p, const char *reason,
                       const char *by);
/*  True when the session known by this key (collab_session_key) ended by its idle timeout
    or lifetime among the last COLLAB_EXPIRED_MEMORY that did, since the broker started. */
bool collab_session_was_expired(const collab_ctx_t *ctx, const char *key);
/*  Expires idle sessions; called from the loop's timer. */
void collab_session_sweep(collab_ctx_t *ctx, uint64_t now);
/*  Writes back last-activity times and worker last-seen times that changed. */
void collab_session_flush_activity(collab_ctx_t *ctx);
/*  Completes a password job handed back by the hashing pool. */
void collab_login_complete(collab_ctx_t *ctx, collab_hash_job_t *job);

#endif
