/*  evindex.c: per-agent rings of event-log row ids (see evindex.h). A ring grows by doubling
    up to the retention it is pushed with, so an agent with few events costs little. */
#include "evindex.h"

#include "collab_error.h"
#include "collab_limits.h"

#include <czmq.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char agent_id[COLLAB_MAX_AGENT_ID + 1]; /* the hash's key points here */
    uint64_t *rowid;                        /* ring storage, cap entries */
    uint32_t cap, head, count;              /* head: index of the oldest */
    uint64_t first_seq;                     /* seq of the oldest retained event */
} ring_t;

struct collab_evindex {
    zhashx_t *rings; /* agent_id -> ring_t */
    uint64_t live;   /* entries in all rings */
};

static void ring_destroy(void **item)
{
    ring_t *r = *item;
    if (r) {
        free(r->rowid);
        free(r);
    }
    *item = NULL;
}

collab_evindex_t *collab_evindex_new(void)
{
    collab_evindex_t *self = calloc(1, sizeof *self);
    if (!self || !(self->rings = zhashx_new())) {
        free(self);
        return NULL;
    }
    zhashx_set_key_duplicator(self->rings, NULL);
    zhashx_set_key_destructor(self->rings, NULL);
    zhashx_set_destructor(self->rings, ring_destroy);
    return self;
}

void collab_evindex_destroy(collab_evindex_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zhashx_destroy(&(*self_p)->rings);
    free(*self_p);
    *self_p = NULL;
}

void collab_evindex_clear(collab_evindex_t *self)
{
    zhashx_purge(self->rings);
    self->live = 0;
}

static ring_t *find(const collab_evindex_t *self, const char *agent_id)
{
    return zhashx_lookup(self->rings, agent_id);
}

static uint64_t at(const ring_t *r, uint64_t i)
{
    return r->rowid[(r->head + i) % r->cap];
}

static void evict_oldest(collab_evindex_t *self, ring_t *r, collab_evindex_evict_fn *evict,
                         void *arg)
{
    self->live--;
    if (evict)
        evict(arg, r->rowid[r->head]);
    r->head = (r->head + 1) % r->cap;
    r->count--;
    r->first_seq++;
}

/*  Makes room for one more entry within the cap `limit`; false on no memory. */
static bool grow(ring_t *r, uint32_t limit)
{
    if (r->count < r->cap || r->cap >= limit)
        return true;
    uint32_t cap = r->cap ? r->cap * 2 : 4;
    if (cap > limit || cap < r->cap)
        cap = limit;
    uint64_t *p = malloc((size_t)cap * sizeof *p);
    if (!p)
        return false;
    for (uint32_t i = 0; i < r->count; i++) /* linearise: the oldest first */
        p[i] = at(r, i);
    free(r->rowid);
    r->rowid = p;
    r->cap = cap;
    r->head = 0;
    return true;
}

static ring_t *ring_for(collab_evindex_t *self, const char *agent_id)
{
    ring_t *r = find(self, agent_id);
    if (r)
        return r;
    if (strlen(agent_id) > COLLAB_MAX_AGENT_ID || !(r = calloc(1, sizeof *r)))
        return NULL;
    memcpy(r->agent_id, agent_id, strlen(agent_id) + 1);
    if (zhashx_insert(self->rings, r->agent_id, r) != 0) {
        free(r);
        return NULL;
    }
    return r;
}

int collab_evindex_push(collab_evindex_t *self, const char *agent_id, uint64_t seq, uint64_t rowid,
                        uint32_t retain, collab_evindex_evict_fn *evict, void *arg)
{
    ring_t *r = ring_for(self, agent_id);
    if (!r)
        return COLLAB_E_NOMEM;
    if (retain == 0)
        retain = 1;
    bool restart = r->count && seq != r->first_seq + r->count;
    /* room first, so that failing leaves the ring as it was */
    if (!restart && r->count < retain && !grow(r, retain))
        return COLLAB_E_NOMEM;
    if (r->cap == 0 && !grow(r, retain))
        return COLLAB_E_NOMEM;
    while (r->count && (restart || r->count >= retain))
        evict_oldest(self, r, evict, arg);
    if (r->count == 0)
        r->first_seq = seq;
    r->rowid[(r->head + r->count) % r->cap] = rowid;
    r->count++;
    self->live++;
    return 0;
}

void collab_evindex_range(const collab_evindex_t *self, const char *agent_id, uint64_t *first,
                          uint64_t *count)
{
    const ring_t *r = find(self, agent_id);
    *first = r && r->count ? r->first_seq : 0;
    *count = r ? r->count : 0;
}

uint64_t collab_evindex_rowid(const collab_evindex_t *self, const char *agent_id, uint64_t seq)
{
    const ring_t *r = find(self, agent_id);
    if (!r || r->count == 0 || seq < r->first_seq || seq - r->first_seq >= r->count)
        return 0;
    return at(r, seq - r->first_seq);
}

void collab_evindex_trim(collab_evindex_t *self, uint32_t retain, collab_evindex_evict_fn *evict,
                         void *arg)
{
    if (retain == 0)
        retain = 1;
    for (ring_t *r = zhashx_first(self->rings); r; r = zhashx_next(self->rings))
        while (r->count > retain)
            evict_oldest(self, r, evict, arg);
}

uint64_t collab_evindex_live(const collab_evindex_t *self)
{
    return self->live;
}

uint64_t collab_evindex_oldest(const collab_evindex_t *self, const char **agent_id)
{
    uint64_t oldest = 0;
    *agent_id = NULL;
    for (ring_t *r = zhashx_first(self->rings); r; r = zhashx_next(self->rings))
        if (r->count && (oldest == 0 || r->rowid[r->head] < oldest)) {
            oldest = r->rowid[r->head];
            *agent_id = r->agent_id;
        }
    return oldest;
}

void collab_evindex_relocate(collab_evindex_t *self, const char *agent_id,
                             uint64_t (*move)(void *arg, uint64_t rowid), void *arg)
{
    ring_t *r = find(self, agent_id);
    for (uint32_t i = 0; r && i < r->count; i++) {
        uint64_t *slot = &r->rowid[(r->head + i) % r->cap];
        *slot = move(arg, *slot);
    }
}
