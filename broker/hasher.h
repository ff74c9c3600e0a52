/*  hasher.h: a small pool of threads that verify and create password hashes off the
    broker's event loop, at a lower scheduling priority, so a bcrypt-12 login (about 0.2 s)
    delays no other request. The loop submits jobs and polls a file descriptor for results. */
#ifndef COLLAB_HASHER_H
#define COLLAB_HASHER_H

#include "hash_job.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct collab_hasher collab_hasher_t;

/*  Starts `threads` workers at `nice_delta` lower priority; at most queue_max jobs wait.
    Returns NULL on failure. */
collab_hasher_t *collab_hasher_new(unsigned threads, unsigned queue_max, int nice_delta);

/*  Stops the workers (jobs not started are returned as COLLAB_E_BUSY and freed along with
    their results). NULL-safe, nulls *self_p. */
void collab_hasher_destroy(collab_hasher_t **self_p);

/*  Queues a job, taking ownership of *job_p (malloc'd by the caller). Returns 0 or
    COLLAB_E_BUSY when the queue is full (the job then stays the caller's). */
int collab_hasher_submit(collab_hasher_t *self, collab_hash_job_t **job_p);

/*  Returns the next finished job (the caller owns and frees it) or NULL when none. */
collab_hash_job_t *collab_hasher_take(collab_hasher_t *self);

/*  A descriptor that polls readable while finished jobs wait (for zmq_poll). */
int collab_hasher_fd(const collab_hasher_t *self);

#endif
