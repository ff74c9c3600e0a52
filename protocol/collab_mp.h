/*  collab_mp.h: a bounded, allocation-free MessagePack reader over a byte span.
    msgpack-c's unpacker sizes its allocations from counts found in the input; this cursor
    reads values in place instead, so a decoder built on it never allocates and never reads
    past the end of its input. Encoding uses msgpack-c's packer (collab_pack.h). */
#ifndef COLLAB_MP_H
#define COLLAB_MP_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

typedef enum {
    COLLAB_MP_NIL,
    COLLAB_MP_BOOL,
    COLLAB_MP_UINT, /* non-negative integer, whatever its encoding */
    COLLAB_MP_INT,  /* negative integer */
    COLLAB_MP_FLOAT,
    COLLAB_MP_STR,
    COLLAB_MP_BIN,
    COLLAB_MP_ARRAY,
    COLLAB_MP_MAP,
    COLLAB_MP_EXT,
} collab_mp_type_t;

/*  A reader is a plain cursor over memory it does not own. */
typedef struct {
    const uint8_t *p;
    const uint8_t *end;
} collab_mp_reader_t;

/*  One value's header: scalar values are complete, str/bin/ext point into the input,
    array/map give their element count (the elements follow in the reader). */
typedef struct {
    collab_mp_type_t type;
    bool b;
    uint64_t u;
    int64_t i;
    double f;
    const char *ptr; /* str, bin, ext body */
    uint32_t len;    /* str/bin/ext byte length, array/map entry count */
} collab_mp_value_t;

void collab_mp_reader_init(collab_mp_reader_t *r, const void *data, size_t len);

/*  Reads one value's header and advances past it (and past str/bin/ext bodies).
    Returns 0, or COLLAB_E_MALFORMED on truncated or reserved (0xc1) input. */
int collab_mp_read(collab_mp_reader_t *r, collab_mp_value_t *v);

/*  Skips one complete value, nested ones included, refusing nesting deeper than
    max_depth containers (a container nested in max_depth others fails) and arrays or maps
    longer than max_entries. Returns 0, COLLAB_E_MALFORMED
    or COLLAB_E_LIMIT. Never recurses more than max_depth. */
int collab_mp_skip(collab_mp_reader_t *r, int max_depth, uint32_t max_entries);

/*  Returns true when every byte of the input has been consumed. */
bool collab_mp_at_end(const collab_mp_reader_t *r);

#endif
