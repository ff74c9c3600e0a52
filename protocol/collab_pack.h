/*  collab_pack.h: MessagePack encoding into a caller-owned, fixed-size buffer, through
    msgpack-c's packer. Overflow, and a map or array given more or fewer entries than its
    header declared, are remembered and reported once, at the end. */
#ifndef COLLAB_PACK_H
#define COLLAB_PACK_H

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/*  How deep the entry count of open containers is followed; a pack nested deeper is not
    checked (the protocol's payloads nest far less: COLLAB_MAX_DEPTH). */
#define COLLAB_PACK_DEPTH 16

typedef struct {
    char *data;
    size_t len;
    size_t cap;
    bool overflow;
    /* the count check: values still owed to each open container (a map's pairs count as
       two values each), how many are open, how many values the top level holds and whether
       its first was a container; unchecked: a pack that forges structure on purpose */
    uint64_t owed[COLLAB_PACK_DEPTH];
    uint32_t depth, top_values;
    bool top_container, miscounted, unchecked;
    msgpack_packer pk;
} collab_pack_t;

/*  Starts packing into mem[0..cap). The buffer stays the caller's. */
void collab_pack_init(collab_pack_t *p, void *mem, size_t cap);

/*  Returns 0 and the length written, COLLAB_E_TOO_LARGE if anything did not fit, or
    COLLAB_E_INTERNAL when the values written differ from what the containers declared: a
    map or array left short, or values after a top-level container was complete (it was
    given more than it declared). A pack of top-level scalars only is a sequence, not an
    error. A bug in the caller, not in its input: say so rather than send a broken frame. */
int collab_pack_finish(const collab_pack_t *p, size_t *len);

/*  Turns the count check off for this pack: for tests and tools that forge malformed
    MessagePack on purpose (a map with a missing value, a header of 2^32 entries). */
void collab_pack_unchecked(collab_pack_t *p);

void collab_pack_map(collab_pack_t *p, uint32_t n);
void collab_pack_array(collab_pack_t *p, uint32_t n);
void collab_pack_strn(collab_pack_t *p, const char *s, size_t len);
void collab_pack_bin(collab_pack_t *p, const void *b, size_t len);
void collab_pack_uint(collab_pack_t *p, uint64_t v);
void collab_pack_int(collab_pack_t *p, int64_t v);
void collab_pack_bool(collab_pack_t *p, bool v);
void collab_pack_nil(collab_pack_t *p);
/*  Appends bytes that already hold complete MessagePack values (for paging lists), counted
    as values toward the open container. Raw bytes whose values are not complete ones
    (forged input) need collab_pack_unchecked first. */
void collab_pack_raw(collab_pack_t *p, const void *b, size_t len, uint32_t values);

/*  A NUL-terminated string; and a key with its value, the common case of building a map.
    Inline, so that the length of a literal key is known when compiling, not counted on
    every call (a task list packs hundreds of keys per reply). */
static inline void collab_pack_str(collab_pack_t *p, const char *s)
{
    collab_pack_strn(p, s, strlen(s));
}

static inline void collab_pack_kv_str(collab_pack_t *p, const char *key, const char *val)
{
    collab_pack_str(p, key);
    collab_pack_str(p, val);
}

static inline void collab_pack_kv_strn(collab_pack_t *p, const char *key, const char *val,
                                       size_t len)
{
    collab_pack_str(p, key);
    collab_pack_strn(p, val, len);
}

static inline void collab_pack_kv_uint(collab_pack_t *p, const char *key, uint64_t val)
{
    collab_pack_str(p, key);
    collab_pack_uint(p, val);
}

static inline void collab_pack_kv_int(collab_pack_t *p, const char *key, int64_t val)
{
    collab_pack_str(p, key);
    collab_pack_int(p, val);
}

static inline void collab_pack_kv_bool(collab_pack_t *p, const char *key, bool val)
{
    collab_pack_str(p, key);
    collab_pack_bool(p, val);
}

#endif
