/*  seclog.h: the security log, one JSON object per line (time, event, agent, peer, detail),
    with retention by size (one rotated file kept). Never given a password, a key, a token
    or a whole payload: callers pass handles and reasons only. Under the strong audit
    control the log is chained (audit.h): each line also carries "seq" and "mac".

    What the network can cause is bounded, in every profile, so that a flood cannot rotate
    the lines that matter out of the log:
    - refusals (the events collab_seclog_is_refusal names) are written one per (peer, event)
      per second; the rest of that second's are counted, and one "refusals_aggregated" line
      (peer, aggregated_event, count, from, to) carries the count once the second is over;
    - "login_failed" is written one per line up to failed_login_lines per peer per minute,
      then counted the same way;
    - at most COLLAB_SECLOG_REFUSAL_LINES_PER_S such lines (full and aggregated together,
      full ones at most half of them) are written per second; what is over is counted;
    - the counts live in COLLAB_SECLOG_AGG_SLOTS (peer, event) slots; when they are all in
      use a new peer is counted under peer "*".
    Every other event (logins, session ends, role changes, broker_started ...) is always
    written. A new event that the network can cause belongs in the refusal list. */
#ifndef COLLAB_SECLOG_H
#define COLLAB_SECLOG_H

#include "audit.h"

#include <stddef.h>
#include <stdint.h>

typedef struct collab_seclog collab_seclog_t;

/*  Opens (appends to) path; NULL path gives a log that discards. On failure returns NULL
    with "PATH: reason" in err. */
collab_seclog_t *collab_seclog_open(const char *path, uint64_t max_bytes, char *err, size_t errlen);
void collab_seclog_destroy(collab_seclog_t **self_p);

/*  Appends {"ts": ms, "event": event, k1: v1, k2: v2, ...} from NULL-terminated pairs of
    strings; a NULL value is skipped. Returns 0 or COLLAB_E_IO. */
int collab_seclog_emit(collab_seclog_t *self, uint64_t now_ms, const char *event, ...);

#define COLLAB_SECLOG_AGG_SLOTS             256
#define COLLAB_SECLOG_REFUSAL_LINES_PER_S   40
#define COLLAB_SECLOG_AGG_INTERVAL_MS       1000
#define COLLAB_SECLOG_FAILED_LOGINS_DEFAULT 20

/*  True for the events aggregated as refusals (request_refused, rate_limited, replay ...);
    "login_failed" is not one of them (it has its own allowance). */
int collab_seclog_is_refusal(const char *event);

/*  Failed logins written one per line per peer per minute before they are counted (0: all
    counted). */
void collab_seclog_set_failed_login_lines(collab_seclog_t *self, uint32_t per_minute);

/*  Writes the counts whose second is over (as far as the per-second cap allows) and frees
    the slots no longer needed. Cheap: does nothing until 250 ms after its last run. Called
    from the broker's timers. */
void collab_seclog_tick(collab_seclog_t *self, uint64_t now_ms);

/*  Writes every count now, whatever the cap (shutdown: collab_seclog_destroy does it too,
    at the last time the log was given, without calling the chain's on_line). */
void collab_seclog_flush(collab_seclog_t *self, uint64_t now_ms);

/*  Refusals counted into aggregates since open (written or still pending). */
uint64_t collab_seclog_aggregated(const collab_seclog_t *self);

/*  Lines written since open (for the stats). */
uint64_t collab_seclog_lines(const collab_seclog_t *self);

/*  Called after each chained line is on disk, with the chain's new head. */
typedef void (*collab_seclog_head_fn)(void *arg, const collab_audit_head_t *head);

/*  Chains every later line (audit.h) after head, under key (copied, wiped on destroy).
    Whenever a line goes into an empty file (a new log, or the file rotation just started)
    and the chain has a head, a "log_continued" line naming the previous head in prev_seq
    and prev_mac goes first, so that each file verifies on its own. on_line may be NULL.
    Returns 0, or COLLAB_E_BAD_REQUEST for a discarding log (no file to chain). */
int collab_seclog_chain(collab_seclog_t *self, const uint8_t key[COLLAB_AUDIT_KEY_LEN],
                        const collab_audit_head_t *head, collab_seclog_head_fn on_line, void *arg);

#endif
