/*  store_ops.h: internal to the store. A batch of writes recorded as bytes, so that a
    writer thread can apply it to SQLite while the loop goes on: each record names a
    prepared statement and carries the values of its parameters, in order, copied (the
    records outlive the rows they were taken from). Pure: no SQLite here. */
#ifndef COLLAB_STORE_OPS_H
#define COLLAB_STORE_OPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define COLLAB_OPS_MAX_VALUES 16 /* parameters of one statement */

typedef struct {
    uint8_t *data;
    size_t len, cap;
    size_t mark;    /* where the record being written starts */
    uint32_t count; /* complete records */
    bool failed;    /* a value could not be recorded: the batch must not be applied */
} collab_ops_t;

typedef enum {
    COLLAB_OPV_INT = 'i',
    COLLAB_OPV_TEXT = 't',
    COLLAB_OPV_BLOB = 'b'
} collab_opv_kind_t;

typedef struct {
    collab_opv_kind_t kind;
    int64_t i;
    const void *p; /* into the batch, for text and blob */
    uint32_t len;
} collab_opv_t;

/*  Empties the batch, keeping its memory. */
void collab_ops_reset(collab_ops_t *o);
/*  Frees the memory; the batch is empty and usable again. */
void collab_ops_free(collab_ops_t *o);

/*  Starts a record for statement stmt (0..255); then its values; then end. A record with
    a value that cannot be recorded (no memory, over 2 GiB, more than MAX_VALUES) marks the
    batch failed; end returns false when the batch has failed. */
void collab_ops_begin(collab_ops_t *o, unsigned stmt);
void collab_ops_int(collab_ops_t *o, int64_t v);
void collab_ops_text(collab_ops_t *o, const char *s, size_t len);
void collab_ops_blob(collab_ops_t *o, const void *p, size_t len);
bool collab_ops_end(collab_ops_t *o);

/*  Walks the records: *pos starts at 0. Returns true with the next record's statement and
    values, false at the end or at a malformed record (*pos is then left at it). */
bool collab_ops_next(const collab_ops_t *o, size_t *pos, unsigned *stmt, collab_opv_t *vals,
                     unsigned *nvals);

#endif
