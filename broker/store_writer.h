/*  store_writer.h: internal to the store. The writer thread: batches of recorded writes are
    handed over in order and committed by one thread, several queued batches in one
    transaction, while the loop goes on with the next. Batches are numbered from 1 in the
    order submitted; "committed" is the number of the newest batch on disk. An eventfd
    becomes readable when that number moves (or the writer fails), for the loop's poll.
    A failed commit is final: the writer applies nothing more, and every call says so. */
#ifndef COLLAB_STORE_WRITER_H
#define COLLAB_STORE_WRITER_H

#include "store_ops.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct collab_writer collab_writer_t;

/*  Applies and commits n batches as one transaction, on the writer thread. Returns 0 or a
    negative code (then nothing of them may be on disk). */
typedef int(collab_writer_commit_fn)(void *arg, collab_ops_t *const *batches, size_t n);

/*  Starts the thread. At most max_queued batches wait at a time; a submit beyond that
    waits for the writer. Returns NULL when the thread or its descriptor cannot be made. */
collab_writer_t *collab_writer_new(collab_writer_commit_fn *commit, void *arg, size_t max_queued);

/*  Commits what is queued, stops the thread. NULL-safe, nulls *self_p. */
void collab_writer_destroy(collab_writer_t **self_p);

/*  Hands over *ops (which must not be empty) and puts an empty batch in its place. Returns
    0, or COLLAB_E_IO when the writer has failed (*ops is then kept, untouched). */
int collab_writer_submit(collab_writer_t *self, collab_ops_t **ops);

/*  True when nothing is queued or being committed. */
bool collab_writer_idle(collab_writer_t *self);

/*  The number of the newest batch submitted (0: none yet). */
uint64_t collab_writer_submitted(const collab_writer_t *self);

/*  Reads the newest committed batch number into *committed and clears the descriptor.
    Returns 0 or COLLAB_E_IO when the writer has failed. */
int collab_writer_committed(collab_writer_t *self, uint64_t *committed);

/*  Waits until every submitted batch is committed. Returns 0 or COLLAB_E_IO. */
int collab_writer_sync(collab_writer_t *self);

/*  Readable when the committed number has moved or the writer failed. */
int collab_writer_fd(const collab_writer_t *self);

#endif
