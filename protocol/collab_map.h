/*  collab_map.h: a validated, read-only view of a MessagePack map (a payload or reply data).
    Parsing checks the whole value against the limits of collab_limits.h (depth, entries,
    string sizes, UTF-8 of every str, no key twice in one map) without allocating; getters
    then look keys up. */
#ifndef COLLAB_MAP_H
#define COLLAB_MAP_H

#include "collab_limits.h"
#include "collab_mp.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*  A borrowed byte range: it points into memory somebody else owns. */
typedef struct {
    const char *ptr;
    size_t len;
} collab_span_t;

typedef struct {
    collab_span_t key;
    collab_mp_value_t val; /* header of the value */
    collab_span_t raw;     /* the value's complete encoding */
} collab_map_entry_t;

typedef struct {
    uint32_t count;
    collab_map_entry_t e[COLLAB_MAX_MAP_ENTRIES];
} collab_map_t;

/*  Checks that bytes hold exactly one map within every payload limit, with str keys,
    no duplicate top-level key, and valid UTF-8 in every str at any depth. Fills *m with
    views into bytes (which must outlive *m). Returns 0 or COLLAB_E_MALFORMED,
    COLLAB_E_LIMIT, COLLAB_E_UTF8, COLLAB_E_TOO_LARGE. */
int collab_map_parse(const void *bytes, size_t len, collab_map_t *m);

/*  Same checks as collab_map_parse without keeping the view (for relaying). */
int collab_map_validate(const void *bytes, size_t len);

/*  Getters return 0, COLLAB_E_FIELD_MISSING, or COLLAB_E_FIELD_TYPE; on success *out
    borrows from the parsed bytes. */
const collab_map_entry_t *collab_map_find(const collab_map_t *m, const char *key);
int collab_map_str(const collab_map_t *m, const char *key, collab_span_t *out);
int collab_map_uint(const collab_map_t *m, const char *key, uint64_t *out);
int collab_map_int(const collab_map_t *m, const char *key, int64_t *out);
int collab_map_bool(const collab_map_t *m, const char *key, bool *out);
int collab_map_bin(const collab_map_t *m, const char *key, collab_span_t *out);
/*  Array: *r is positioned on its first element and *n holds its length. */
int collab_map_array(const collab_map_t *m, const char *key, collab_mp_reader_t *r, uint32_t *n);
/*  The next element of an array read with collab_map_array, which must be a map: parsed
    into *out and the reader moved past it. Returns 0, or COLLAB_E_MALFORMED (not a map,
    or not well-formed) / COLLAB_E_LIMIT. */
int collab_map_array_next(collab_mp_reader_t *r, collab_map_t *out);
/*  Nested map: parsed into *sub (already validated by the parent's parse). */
int collab_map_submap(const collab_map_t *m, const char *key, collab_map_t *sub);

/*  A NUL-terminated heap copy of len bytes at ptr (which need not be NUL-terminated), for
    the caller to free; NULL when out of memory. */
char *collab_strndup(const char *ptr, size_t len);

/*  True when the span equals the NUL-terminated string s. */
bool collab_span_eq(collab_span_t s, const char *cstr);

#endif
