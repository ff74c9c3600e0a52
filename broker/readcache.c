/*  readcache.c: a direct-mapped cache of packed get_project replies (see readcache.h). */
#include "readcache.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    uint64_t id, offset, version; /* version 0: empty (the store's start at 1) */
    size_t len;
    unsigned char bytes[COLLAB_READCACHE_BYTES];
} slot_t;

struct collab_readcache {
    uint64_t hits, misses;
    slot_t slot[COLLAB_READCACHE_SLOTS];
};

collab_readcache_t *collab_readcache_new(void)
{
    return calloc(1, sizeof(collab_readcache_t));
}

void collab_readcache_destroy(collab_readcache_t **self_p)
{
    if (self_p) {
        free(*self_p);
        *self_p = NULL;
    }
}

/*  The slot of (id, offset): ids are dense and mostly read from offset 0. */
static slot_t *slot_of(collab_readcache_t *self, uint64_t id, uint64_t offset)
{
    return &self->slot[(id + offset * 7) % COLLAB_READCACHE_SLOTS];
}

const void *collab_readcache_get(collab_readcache_t *self, uint64_t id, uint64_t offset,
                                 uint64_t version, size_t *len)
{
    slot_t *s = slot_of(self, id, offset);
    if (version == 0 || s->version != version || s->id != id || s->offset != offset) {
        self->misses++;
        return NULL;
    }
    self->hits++;
    *len = s->len;
    return s->bytes;
}

void collab_readcache_put(collab_readcache_t *self, uint64_t id, uint64_t offset, uint64_t version,
                          const void *bytes, size_t len)
{
    if (len == 0 || len > COLLAB_READCACHE_BYTES || version == 0)
        return;
    slot_t *s = slot_of(self, id, offset);
    memcpy(s->bytes, bytes, len);
    s->id = id;
    s->offset = offset;
    s->version = version;
    s->len = len;
}

void collab_readcache_stats(const collab_readcache_t *self, uint64_t *hits, uint64_t *misses)
{
    *hits = self->hits;
    *misses = self->misses;
}
