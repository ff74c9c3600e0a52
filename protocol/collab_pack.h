/*  collab_pack.h: MessagePack encoding into a caller-owned, fixed-size buffer, through
    msgpack-c's packer. Overflow is remembered and reported once, at the end. */
#ifndef COLLAB_PACK_H
#define COLLAB_PACK_H

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct {
    char *data;
    size_t len;
    size_t cap;
    bool overflow;
    msgpack_packer pk;
} collab_pack_t;

/*  Starts packing into mem[0..cap). The buffer stays the caller's. */
void collab_pack_init(collab_pack_t *p, void *mem, size_t cap);

/*  Returns 0 and the length written, or COLLAB_E_TOO_LARGE if anything did not fit. */
int collab_pack_finish(const collab_pack_t *p, size_t *len);

void collab_pack_map(collab_pack_t *p, uint32_t n);
void collab_pack_array(collab_pack_t *p, uint32_t n);
void collab_pack_strn(collab_pack_t *p, const char *s, size_t len);
void collab_pack_bin(collab_pack_t *p, const void *b, size_t len);
void collab_pack_uint(collab_pack_t *p, uint64_t v);
void collab_pack_int(collab_pack_t *p, int64_t v);
void collab_pack_bool(collab_pack_t *p, bool v);
void collab_pack_nil(collab_pack_t *p);
/*  Appends bytes that already hold complete MessagePack values (for paging lists). */
void collab_pack_raw(collab_pack_t *p, const void *b, size_t len);

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
