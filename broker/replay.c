/*  replay.c: the nonce cache of the strong replay control (its use by the broker: guards.c).
    Entries live in one slot array; two chained hash indexes (by nonce, by signature) find
    them and a min-heap on the timestamp expires them in time order. Slots are reused
    through a free list, so the steady state allocates nothing; the arrays grow by doubling
    up to cache_max and never shrink. */
#include "replay.h"

#include "collab.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define NONE        UINT32_MAX
#define FIRST_SLOTS 1024u

typedef struct {
    uint8_t nonce[COLLAB_NONCE_LEN];
    uint8_t sig[COLLAB_SIGNATURE_LEN];
    uint32_t next_nonce; /* hash chain; also the free list's link */
    uint32_t next_sig;
} entry_t;

/*  A heap item carries its entry's timestamp, so that ordering the heap reads the heap
    alone, never the (scattered) slots. */
typedef struct {
    uint64_t ts;
    uint32_t slot;
} heap_item_t;

struct collab_replay {
    uint32_t cap;   /* cache_max */
    uint32_t alloc; /* slots allocated */
    uint32_t count; /* live entries: heap[0 .. count) */
    uint32_t fresh; /* slots [fresh, alloc) never used yet */
    uint32_t free_list;
    uint64_t window_ms, started_ms;
    entry_t *slots;
    heap_item_t *heap; /* the smallest timestamp first: the order entries expire in */
    uint32_t *by_nonce, *by_sig;
    uint32_t mask; /* buckets - 1; buckets is a power of two >= alloc */
    uint8_t hkey[crypto_shorthash_KEYBYTES];
};

/*  Nonces are chosen by the agents: a keyed hash keeps them from aiming at one chain. */
static uint32_t bucket(const collab_replay_t *self, const uint8_t *b, size_t n)
{
    uint8_t h[crypto_shorthash_BYTES];
    uint64_t v;
    crypto_shorthash(h, b, n, self->hkey);
    memcpy(&v, h, sizeof v);
    return (uint32_t)v & self->mask;
}

/*  Links slot i into the nonce bucket bn and the signature bucket bs. */
static void link_at(collab_replay_t *self, uint32_t i, uint32_t bn, uint32_t bs)
{
    entry_t *e = &self->slots[i];
    e->next_nonce = self->by_nonce[bn];
    self->by_nonce[bn] = i;
    e->next_sig = self->by_sig[bs];
    self->by_sig[bs] = i;
}

static void link_entry(collab_replay_t *self, uint32_t i)
{
    const entry_t *e = &self->slots[i];
    link_at(self, i, bucket(self, e->nonce, sizeof e->nonce), bucket(self, e->sig, sizeof e->sig));
}

/*  The chain link of slot i in the nonce index or in the signature index. */
static uint32_t *link_of(collab_replay_t *self, uint32_t i, bool by_sig)
{
    return by_sig ? &self->slots[i].next_sig : &self->slots[i].next_nonce;
}

static void unlink_from(collab_replay_t *self, uint32_t *head, uint32_t i, bool by_sig)
{
    for (uint32_t *p = head; *p != NONE; p = link_of(self, *p, by_sig))
        if (*p == i) {
            *p = *link_of(self, i, by_sig);
            return;
        }
}

static void unlink_entry(collab_replay_t *self, uint32_t i)
{
    entry_t *e = &self->slots[i];
    unlink_from(self, &self->by_nonce[bucket(self, e->nonce, sizeof e->nonce)], i, false);
    unlink_from(self, &self->by_sig[bucket(self, e->sig, sizeof e->sig)], i, true);
}

/*  Resizes the slot array and the heap to `slots`, and rebuilds both indexes. */
static int grow(collab_replay_t *self, uint32_t slots)
{
    uint32_t buckets = 1;
    while (buckets < slots)
        buckets <<= 1;
    entry_t *s = realloc(self->slots, (size_t)slots * sizeof *s);
    if (s)
        self->slots = s;
    heap_item_t *h = s ? realloc(self->heap, (size_t)slots * sizeof *h) : NULL;
    if (h)
        self->heap = h;
    uint32_t *bn = malloc((size_t)buckets * sizeof *bn);
    uint32_t *bs = malloc((size_t)buckets * sizeof *bs);
    if (!s || !h || !bn || !bs) {
        free(bn);
        free(bs);
        return COLLAB_E_NOMEM; /* the old arrays are intact (realloc keeps them) */
    }
    memset(bn, 0xff, (size_t)buckets * sizeof *bn);
    memset(bs, 0xff, (size_t)buckets * sizeof *bs);
    free(self->by_nonce);
    free(self->by_sig);
    self->by_nonce = bn;
    self->by_sig = bs;
    self->mask = buckets - 1;
    self->alloc = slots;
    for (uint32_t k = 0; k < self->count; k++)
        link_entry(self, self->heap[k].slot);
    return 0;
}

collab_replay_t *collab_replay_new(uint32_t cache_max, uint32_t window_s, uint64_t started_ms)
{
    if (sodium_init() < 0 || cache_max == 0 || cache_max >= NONE)
        return NULL;
    collab_replay_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->cap = cache_max;
    self->window_ms = (uint64_t)window_s * 1000u;
    self->started_ms = started_ms;
    self->free_list = NONE;
    randombytes_buf(self->hkey, sizeof self->hkey);
    if (grow(self, cache_max < FIRST_SLOTS ? cache_max : FIRST_SLOTS) != 0)
        collab_replay_destroy(&self);
    return self;
}

void collab_replay_destroy(collab_replay_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    collab_replay_t *self = *self_p;
    free(self->slots);
    free(self->heap);
    free(self->by_nonce);
    free(self->by_sig);
    free(self);
    *self_p = NULL;
}

uint32_t collab_replay_count(const collab_replay_t *self)
{
    return self->count;
}

static uint64_t ts_at(const collab_replay_t *self, uint32_t k)
{
    return self->heap[k].ts;
}

static void heap_swap(collab_replay_t *self, uint32_t a, uint32_t b)
{
    heap_item_t t = self->heap[a];
    self->heap[a] = self->heap[b];
    self->heap[b] = t;
}

static void heap_push(collab_replay_t *self, uint32_t slot, uint64_t ts)
{
    uint32_t k = self->count++;
    self->heap[k] = (heap_item_t){ts, slot};
    while (k > 0 && ts_at(self, (k - 1) / 2) > ts_at(self, k)) {
        heap_swap(self, k, (k - 1) / 2);
        k = (k - 1) / 2;
    }
}

static uint32_t heap_pop(collab_replay_t *self)
{
    uint32_t top = self->heap[0].slot;
    self->heap[0] = self->heap[--self->count];
    for (uint32_t k = 0;;) {
        uint32_t l = 2 * k + 1, r = l + 1, m = k;
        if (l < self->count && ts_at(self, l) < ts_at(self, m))
            m = l;
        if (r < self->count && ts_at(self, r) < ts_at(self, m))
            m = r;
        if (m == k)
            break;
        heap_swap(self, k, m);
        k = m;
    }
    return top;
}

/*  Forgets the entries whose timestamp has left the window: a request carrying one of
    their signatures carries their timestamp (it is signed), so it is refused as stale
    from now on. When the clock steps back nothing expires, which only keeps entries
    longer than needed. */
static void expire(collab_replay_t *self, uint64_t now)
{
    while (self->count > 0 && ts_at(self, 0) + self->window_ms < now) {
        uint32_t i = heap_pop(self);
        unlink_entry(self, i);
        self->slots[i].next_nonce = self->free_list;
        self->free_list = i;
    }
}

/*  Whether b (a nonce, or a signature) is in the chain of bucket k of its index. */
static bool seen(collab_replay_t *self, const uint8_t *b, bool by_sig, uint32_t k)
{
    size_t n = by_sig ? COLLAB_SIGNATURE_LEN : COLLAB_NONCE_LEN;
    uint32_t i = (by_sig ? self->by_sig : self->by_nonce)[k];
    for (; i != NONE; i = *link_of(self, i, by_sig)) {
        const entry_t *e = &self->slots[i];
        if (memcmp(by_sig ? e->sig : e->nonce, b, n) == 0)
            return true;
    }
    return false;
}

/*  A free slot, growing the arrays when every allocated one is live. NONE when full. */
static uint32_t take_slot(collab_replay_t *self)
{
    if (self->free_list != NONE) {
        uint32_t i = self->free_list;
        self->free_list = self->slots[i].next_nonce;
        return i;
    }
    if (self->fresh == self->alloc && self->alloc < self->cap) {
        uint32_t want = self->alloc > self->cap / 2 ? self->cap : self->alloc * 2;
        if (grow(self, want) != 0)
            return NONE;
    }
    return self->fresh < self->alloc ? self->fresh++ : NONE;
}

static int refuse(collab_replay_why_t reason, collab_replay_why_t *why, int rc)
{
    if (why)
        *why = reason;
    return rc;
}

int collab_replay_admit(collab_replay_t *self, collab_span_t nonce, collab_span_t signature,
                        uint64_t ts, uint64_t now, collab_replay_why_t *why)
{
    if (ts < self->started_ms)
        return refuse(COLLAB_REPLAY_BEFORE_START, why, COLLAB_E_STALE_TIMESTAMP);
    if (ts + self->window_ms < now || ts > now + self->window_ms)
        return refuse(COLLAB_REPLAY_WINDOW, why, COLLAB_E_STALE_TIMESTAMP);
    if (nonce.len != COLLAB_NONCE_LEN)
        return refuse(COLLAB_REPLAY_NO_NONCE, why, COLLAB_E_NONCE_MISSING);
    if (signature.len != COLLAB_SIGNATURE_LEN)
        return refuse(COLLAB_REPLAY_SEEN_SIGNATURE, why, COLLAB_E_REPLAY); /* verified: never */
    const uint8_t *n = (const uint8_t *)nonce.ptr, *s = (const uint8_t *)signature.ptr;
    expire(self, now);
    /* both buckets at once: their two cache misses overlap, and the link below reuses them
       (a growth in take_slot rebuilds the indexes: then they are computed again) */
    uint32_t bn = bucket(self, n, COLLAB_NONCE_LEN), bs = bucket(self, s, COLLAB_SIGNATURE_LEN);
    __builtin_prefetch(&self->by_nonce[bn]);
    __builtin_prefetch(&self->by_sig[bs]);
    if (seen(self, n, false, bn))
        return refuse(COLLAB_REPLAY_SEEN_NONCE, why, COLLAB_E_REPLAY);
    if (seen(self, s, true, bs))
        return refuse(COLLAB_REPLAY_SEEN_SIGNATURE, why, COLLAB_E_REPLAY);
    uint32_t mask = self->mask;
    /* Full of entries still inside the window: refuse the newcomer rather than forget one
       of them, because a forgotten entry could be replayed and accepted until its
       timestamp leaves the window. The agent retries (a new nonce) once entries expire. */
    uint32_t i = take_slot(self);
    if (i == NONE)
        return refuse(COLLAB_REPLAY_FULL, why, COLLAB_E_BUSY);
    entry_t *e = &self->slots[i];
    memcpy(e->nonce, n, COLLAB_NONCE_LEN);
    memcpy(e->sig, s, COLLAB_SIGNATURE_LEN);
    if (self->mask == mask)
        link_at(self, i, bn, bs);
    else
        link_entry(self, i);
    heap_push(self, i, ts);
    return refuse(COLLAB_REPLAY_OK, why, 0);
}

const char *collab_replay_why_name(collab_replay_why_t why)
{
    static const char *const names[] = {"ok",    "before_start", "window",    "no_nonce",
                                        "nonce", "signature",    "cache_full"};
    return (unsigned)why < sizeof names / sizeof names[0] ? names[why] : "unknown";
}
