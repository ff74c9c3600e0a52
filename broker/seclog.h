/*  seclog.h: the security log, one JSON object per line (time, event, agent, peer, detail),
    with retention by size (one rotated file kept). Never given a password, a key, a token
    or a whole payload: callers pass handles and reasons only. Under the strong audit
    control the log is chained (audit.h): each line also carries "seq" and "mac". */
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
