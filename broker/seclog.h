/*  seclog.h: the security log, one JSON object per line (time, event, agent, peer, detail),
    with retention by size (one rotated file kept). Never given a password, a key, a token
    or a whole payload: callers pass handles and reasons only. */
#ifndef COLLAB_SECLOG_H
#define COLLAB_SECLOG_H

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

#endif
