/*  capfile.h: reads the JSON-lines capture files that collab-sniff -w writes: one object
    per message with its index, kind, action and the hex of its frames (none for a message
    the sniffer dropped over its limits), and tells which records repeat an earlier one. */
#ifndef COLLAB_REPLAY_CAPFILE_H
#define COLLAB_REPLAY_CAPFILE_H

#include "collab.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint64_t index;
    char dir[16];                       /* "request", "reply", "event", "unknown" or "dropped" */
    char action[COLLAB_MAX_ACTION + 1]; /* a request's action (a reply's: its request's) */
    size_t nframes;
    uint8_t **frames; /* the frame bodies, as captured; none when dropped */
    size_t *lens;
    uint8_t ident[16]; /* a hash of what makes the message itself: a request's every field
                          but its action, or else all its bytes */
} cap_record_t;

typedef struct {
    cap_record_t *recs;
    size_t count;
} capfile_t;

/*  Loads every record of path into *cf (freed with capfile_free). Returns 0, or -1 with
    "FILE:LINE: reason" in err. */
int capfile_load(const char *path, capfile_t *cf, char *err, size_t errlen);

/*  The same from len bytes in memory (what capfile_load runs on the file's bytes); name
    stands for the file in err. */
int capfile_parse(const char *buf, size_t len, const char *name, capfile_t *cf, char *err,
                  size_t errlen);

void capfile_free(capfile_t *cf);

/*  The record with this index, or NULL. */
const cap_record_t *capfile_find(const capfile_t *cf, uint64_t index);

/*  The first record before r in the file that is the same message as r: the same bytes,
    or the same request under another action (what collab-replay sends, recorded again
    by a sniffer still running). NULL when r is the first of its kind. */
const cap_record_t *capfile_repeat_of(const capfile_t *cf, const cap_record_t *r);

/*  True when a collab-sniff still holds path open for writing (its lock is taken). */
bool capfile_being_written(const char *path);

#endif
