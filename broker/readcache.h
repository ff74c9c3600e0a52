/*  readcache.h: the packed data of recent get_project replies, sent again while nothing of
    the project or its tasks has changed. A reply is keyed by the project, the task offset
    it starts at, and the store's records version (collab_store_records_version), which
    changes with every change of a project or a task and every time records reach the
    tables: an entry packed at another version is never returned. Direct-mapped, a fixed
    number of slots of a fixed size, so that its memory is bounded whatever is read; a
    reply larger than a slot is not kept. Loop thread only. */
#ifndef COLLAB_READCACHE_H
#define COLLAB_READCACHE_H

#include <stddef.h>
#include <stdint.h>

#define COLLAB_READCACHE_SLOTS 64
#define COLLAB_READCACHE_BYTES 4096 /* per slot: a project with a dozen tasks */

typedef struct collab_readcache collab_readcache_t;

/*  An empty cache (its slots' pages are touched only once used), or NULL. */
collab_readcache_t *collab_readcache_new(void);
/*  NULL-safe, nulls *self_p. */
void collab_readcache_destroy(collab_readcache_t **self_p);

/*  The bytes kept for (id, offset) at this version, and their length in *len; NULL when
    none are (never kept, replaced, or kept at another version). Valid until the next put. */
const void *collab_readcache_get(collab_readcache_t *self, uint64_t id, uint64_t offset,
                                 uint64_t version, size_t *len);

/*  Keeps a copy of bytes[0..len) for (id, offset) at this version, replacing what its slot
    held; a reply longer than COLLAB_READCACHE_BYTES, or empty, is not kept. */
void collab_readcache_put(collab_readcache_t *self, uint64_t id, uint64_t offset, uint64_t version,
                          const void *bytes, size_t len);

/*  Counters for get_stats: lookups answered from the cache, and not. */
void collab_readcache_stats(const collab_readcache_t *self, uint64_t *hits, uint64_t *misses);

#endif
