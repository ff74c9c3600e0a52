/*  capfile.h: reads the JSON-lines capture files that collab-sniff -w writes: one object
    per message with its index, kind, action and the hex of its frames. */
#ifndef COLLAB_REPLAY_CAPFILE_H
#define COLLAB_REPLAY_CAPFILE_H

#include "collab.h"

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t index;
    char dir[16];                       /* "request", "reply", "event" or "unknown" */
    char action[COLLAB_MAX_ACTION + 1]; /* a request's action (a reply's: its request's) */
    size_t nframes;
    uint8_t **frames; /* the frame bodies, as captured */
    size_t *lens;
} cap_record_t;

typedef struct {
    cap_record_t *recs;
    size_t count;
} capfile_t;

/*  Loads every record of path into *cf (freed with capfile_free). Returns 0, or -1 with
    "FILE:LINE: reason" in err. */
int capfile_load(const char *path, capfile_t *cf, char *err, size_t errlen);

void capfile_free(capfile_t *cf);

#endif
