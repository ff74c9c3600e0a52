/*  statelock.h: one broker per state file. A lock file beside the state (STATE.lock) is
    held with flock for the broker's whole life and names its holder's pid, so that a second
    broker started on the same state refuses to start, saying who holds it. */
#ifndef COLLAB_STATELOCK_H
#define COLLAB_STATELOCK_H

#include <stddef.h>

typedef struct collab_statelock collab_statelock_t;

/*  Creates (or opens) STATE.lock, locks it without waiting and writes this process's pid
    into it. Returns the lock, or NULL with err set: "STATE is in use by another broker
    (pid N; lock file STATE.lock)" when another process holds it, or why the lock file
    could not be made. */
collab_statelock_t *collab_statelock_acquire(const char *state_path, char *err, size_t errlen);

/*  Removes the lock file and releases the lock. NULL-safe, idempotent; nulls *self_p. */
void collab_statelock_release(collab_statelock_t **self_p);

#endif
