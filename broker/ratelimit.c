/*  ratelimit.c: token buckets in one slot array, found through a chained hash index and
    kept in least-recently-used order for eviction; the budgets (which buckets a request
    draws on, by its class). A pure class: the broker's use of it (replies, audit, the
    clock) is in guards.c. Slots are never freed, only reused by eviction, so the steady state
   allocates nothing; the array grows by doubling up to max_buckets. */
#include "ratelimit.h"

#include "collab.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define NONE        UINT32_MAX
#define FIRST_SLOTS 64u
#define EVICT_SCAN  8    /* least recently used buckets examined for a full one */
#define EPS         1e-9 /* refills are sums of small fractions: 0.995 + 0.005 may miss 1 */

typedef struct {
    char key[COLLAB_RATE_KEY_MAX];
    uint8_t key_len;
    double tokens;
    uint64_t last_ms;   /* tokens were counted at this time */
    uint64_t report_ms; /* refusals before this time are counted, not reported */
    uint32_t refused;   /* refusals not reported yet */
    uint32_t spent;     /* tokens spent since the last collab_ratelimit_take_spent */
    bool listed;        /* in dirty[] */
    uint32_t next;      /* hash chain */
    uint32_t newer, older;
} bucket_t;

struct collab_ratelimit {
    double per_ms, burst;
    uint32_t cap, alloc, used; /* buckets: the limit, allocated, in use [0, used) */
    bucket_t *b;
    uint32_t *heads;
    uint32_t mask;
    uint32_t newest, oldest;
    uint8_t hkey[crypto_shorthash_KEYBYTES];
    uint32_t *dirty; /* slots spent from since the last take_spent (a slot reused by an
                        eviction may appear twice: its spent is taken once) */
    uint32_t ndirty, capdirty;
};

static uint32_t hash_of(const collab_ratelimit_t *self, const char *key, size_t len)
{
    uint8_t h[crypto_shorthash_BYTES];
    uint64_t v;
    crypto_shorthash(h, (const unsigned char *)key, len, self->hkey);
    memcpy(&v, h, sizeof v);
    return (uint32_t)v & self->mask;
}

static int grow(collab_ratelimit_t *self, uint32_t slots)
{
    uint32_t buckets = 1;
    while (buckets < slots)
        buckets <<= 1;
    bucket_t *b = realloc(self->b, (size_t)slots * sizeof *b);
    if (b)
        self->b = b;
    uint32_t *heads = b ? malloc((size_t)buckets * sizeof *heads) : NULL;
    if (!heads)
        return COLLAB_E_NOMEM;
    memset(heads, 0xff, (size_t)buckets * sizeof *heads);
    free(self->heads);
    self->heads = heads;
    self->mask = buckets - 1;
    self->alloc = slots;
    for (uint32_t i = 0; i < self->used; i++) {
        uint32_t h = hash_of(self, self->b[i].key, self->b[i].key_len);
        self->b[i].next = heads[h];
        heads[h] = i;
    }
    return 0;
}

collab_ratelimit_t *collab_ratelimit_new(double per_s, uint32_t burst, uint32_t max_buckets)
{
    if (sodium_init() < 0 || !(per_s > 0) || burst == 0 || max_buckets == 0 || max_buckets >= NONE)
        return NULL;
    collab_ratelimit_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->per_ms = per_s / 1000.0;
    self->burst = burst;
    self->cap = max_buckets;
    self->newest = self->oldest = NONE;
    randombytes_buf(self->hkey, sizeof self->hkey);
    if (grow(self, max_buckets < FIRST_SLOTS ? max_buckets : FIRST_SLOTS) != 0)
        collab_ratelimit_destroy(&self);
    return self;
}

void collab_ratelimit_destroy(collab_ratelimit_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free((*self_p)->b);
    free((*self_p)->heads);
    free((*self_p)->dirty);
    free(*self_p);
    *self_p = NULL;
}

uint32_t collab_ratelimit_count(const collab_ratelimit_t *self)
{
    return self->used;
}

static size_t cut(size_t len)
{
    return len > COLLAB_RATE_KEY_MAX ? COLLAB_RATE_KEY_MAX : len;
}

static uint32_t find(const collab_ratelimit_t *self, const char *key, size_t len)
{
    for (uint32_t i = self->heads[hash_of(self, key, len)]; i != NONE; i = self->b[i].next)
        if (self->b[i].key_len == len && memcmp(self->b[i].key, key, len) == 0)
            return i;
    return NONE;
}

/*  Counts the tokens regained since last_ms. A clock that steps back regains nothing
    (the broker passes a monotonic clock, so this is for safety, not for use). */
static void refill(const collab_ratelimit_t *self, bucket_t *b, uint64_t now)
{
    if (now <= b->last_ms)
        return;
    double t = b->tokens + (double)(now - b->last_ms) * self->per_ms;
    b->tokens = t < self->burst ? t : self->burst;
    b->last_ms = now;
}

static void lru_unlink(collab_ratelimit_t *self, uint32_t i)
{
    bucket_t *b = &self->b[i];
    if (b->newer != NONE)
        self->b[b->newer].older = b->older;
    else
        self->newest = b->older;
    if (b->older != NONE)
        self->b[b->older].newer = b->newer;
    else
        self->oldest = b->newer;
}

static void lru_push(collab_ratelimit_t *self, uint32_t i)
{
    self->b[i].newer = NONE;
    self->b[i].older = self->newest;
    if (self->newest != NONE)
        self->b[self->newest].newer = i;
    self->newest = i;
    if (self->oldest == NONE)
        self->oldest = i;
}

static void touch(collab_ratelimit_t *self, uint32_t i)
{
    if (self->newest != i) {
        lru_unlink(self, i);
        lru_push(self, i);
    }
}

/*  The bucket to reuse when the table is full: among the least recently used few, one
    that is full again (forgetting it loses nothing, a new bucket starts full), else the
    least recently used. Forgetting a bucket that is still draining hands its owner a
    fresh burst; refusing every newcomer instead would let a flood from many addresses
    lock out every new peer, so the cap costs at most one burst per eviction. */
static uint32_t victim(collab_ratelimit_t *self, uint64_t now)
{
    uint32_t i = self->oldest;
    for (int n = 0; n < EVICT_SCAN && i != NONE; n++, i = self->b[i].newer) {
        refill(self, &self->b[i], now);
        if (self->b[i].tokens >= self->burst - EPS)
            return i;
    }
    return self->oldest;
}

static void unhash(collab_ratelimit_t *self, uint32_t i)
{
    uint32_t *p = &self->heads[hash_of(self, self->b[i].key, self->b[i].key_len)];
    while (*p != i)
        p = &self->b[*p].next;
    *p = self->b[i].next;
}

static uint32_t create(collab_ratelimit_t *self, const char *key, size_t len, uint64_t now)
{
    uint32_t i;
    if (self->used == self->alloc && self->alloc < self->cap &&
        grow(self, self->alloc > self->cap / 2 ? self->cap : self->alloc * 2) != 0)
        return NONE; /* out of memory: the caller does not limit this request */
    if (self->used < self->alloc) {
        i = self->used++;
    } else {
        i = victim(self, now);
        unhash(self, i);
        lru_unlink(self, i);
    }
    bucket_t *b = &self->b[i];
    memset(b, 0, sizeof *b);
    memcpy(b->key, key, len);
    b->key_len = (uint8_t)len;
    b->tokens = self->burst;
    b->last_ms = now;
    uint32_t h = hash_of(self, key, len);
    b->next = self->heads[h];
    self->heads[h] = i;
    lru_push(self, i);
    return i;
}

int collab_ratelimit_check(collab_ratelimit_t *self, const char *key, size_t len, uint64_t now_ms,
                           collab_rate_verdict_t *v)
{
    uint32_t i = find(self, key, cut(len));
    if (i == NONE)
        return 0;
    bucket_t *b = &self->b[i];
    refill(self, b, now_ms);
    if (b->tokens >= 1.0 - EPS)
        return 0;
    touch(self, i);
    collab_rate_verdict_t out = {0};
    double wait = (1.0 - b->tokens) / self->per_ms; /* ms until one token, > 0 */
    uint32_t ms = wait >= UINT32_MAX - 1 ? UINT32_MAX - 1 : (uint32_t)wait;
    out.retry_after_ms = wait - ms > 1e-6 || ms == 0 ? ms + 1 : ms; /* rounded up, >= 1 */
    b->refused++;
    if (now_ms >= b->report_ms) {
        out.report = true;
        out.refused = b->refused;
        b->refused = 0;
        b->report_ms = now_ms + 1000u;
    }
    if (v)
        *v = out;
    return COLLAB_E_RATE_LIMITED;
}

/*  Lists slot i for the next take_spent. The list grows by doubling up to the table's cap
    (twice it: evictions may list a slot again); past that a spend goes unreported to the
    cluster, which costs only accuracy, never memory. */
static void note_dirty(collab_ratelimit_t *self, uint32_t i)
{
    if (self->b[i].listed)
        return;
    if (self->ndirty == self->capdirty) {
        uint64_t most = 2 * (uint64_t)self->cap,
                 cap = self->capdirty ? 2 * (uint64_t)self->capdirty : FIRST_SLOTS;
        if (most > UINT32_MAX)
            most = UINT32_MAX;
        if (cap > most)
            cap = most;
        if (cap <= self->capdirty)
            return;
        uint32_t *d = realloc(self->dirty, (size_t)cap * sizeof *d);
        if (!d)
            return;
        self->dirty = d;
        self->capdirty = (uint32_t)cap;
    }
    self->dirty[self->ndirty++] = i;
    self->b[i].listed = true;
}

int collab_ratelimit_spend(collab_ratelimit_t *self, const char *key, size_t len, uint64_t now_ms)
{
    len = cut(len);
    uint32_t i = find(self, key, len);
    if (i == NONE && (i = create(self, key, len, now_ms)) == NONE)
        return 0;
    bucket_t *b = &self->b[i];
    refill(self, b, now_ms);
    touch(self, i);
    if (b->tokens < 1.0 - EPS)
        return COLLAB_E_RATE_LIMITED;
    b->tokens = b->tokens > 1.0 ? b->tokens - 1.0 : 0.0;
    if (b->spent < UINT32_MAX)
        b->spent++;
    note_dirty(self, i);
    return 0;
}

double collab_ratelimit_tokens(collab_ratelimit_t *self, const char *key, size_t len,
                               uint64_t now_ms)
{
    uint32_t i = find(self, key, cut(len));
    if (i == NONE)
        return self->burst;
    refill(self, &self->b[i], now_ms);
    return self->b[i].tokens;
}

size_t collab_ratelimit_take_spent(collab_ratelimit_t *self, size_t max, collab_rate_spent_fn fn,
                                   void *arg)
{
    size_t n = 0;
    while (self->ndirty > 0 && n < max) {
        bucket_t *b = &self->b[self->dirty[--self->ndirty]];
        b->listed = false;
        if (b->spent == 0)
            continue;
        fn(arg, b->key, b->key_len, b->spent);
        b->spent = 0;
        n++;
    }
    return n;
}

void collab_ratelimit_share(collab_ratelimit_t *self, const char *key, size_t len, double ahead_ms,
                            uint64_t now_ms)
{
    len = cut(len);
    double shared = self->burst - (ahead_ms > 0 ? ahead_ms * self->per_ms : 0.0);
    uint32_t i = find(self, key, len);
    if (i == NONE) {
        if (shared >= self->burst - EPS || (i = create(self, key, len, now_ms)) == NONE)
            return; /* full, as a bucket this broker lacks already is */
    }
    bucket_t *b = &self->b[i];
    b->tokens = shared - b->spent; /* what this broker spent since the snapshot: not in it */
    if (b->tokens > self->burst)
        b->tokens = self->burst;
    b->last_ms = now_ms;
}

/* ---- The budgets ---- */

struct collab_rate_gate {
    collab_ratelimit_t *agents;    /* session requests, by agent id */
    collab_ratelimit_t *login_ids; /* logins, by claimed agent id */
    collab_ratelimit_t *logins;    /* logins, by address */
    collab_ratelimit_t *anon;      /* undecodable or no valid session, by address */
};

collab_rate_gate_t *collab_rate_gate_new(const collab_rate_budgets_t *b, uint32_t max_buckets)
{
    collab_rate_gate_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->agents = collab_ratelimit_new(b->agent_per_s, b->agent_burst, max_buckets);
    self->login_ids = collab_ratelimit_new(b->agent_per_s, b->agent_burst, max_buckets);
    self->logins = collab_ratelimit_new(b->login_per_s, b->login_burst, max_buckets);
    self->anon = collab_ratelimit_new(b->anon_per_s, b->anon_burst, max_buckets);
    if (!self->agents || !self->login_ids || !self->logins || !self->anon)
        collab_rate_gate_destroy(&self);
    return self;
}

void collab_rate_gate_destroy(collab_rate_gate_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    collab_ratelimit_destroy(&(*self_p)->agents);
    collab_ratelimit_destroy(&(*self_p)->login_ids);
    collab_ratelimit_destroy(&(*self_p)->logins);
    collab_ratelimit_destroy(&(*self_p)->anon);
    free(*self_p);
    *self_p = NULL;
}

collab_ratelimit_t *collab_rate_gate_table(collab_rate_gate_t *self, const char *bucket)
{
    return strcmp(bucket, "agent") == 0         ? self->agents
           : strcmp(bucket, "login_agent") == 0 ? self->login_ids
           : strcmp(bucket, "login_peer") == 0  ? self->logins
           : strcmp(bucket, "anon_peer") == 0   ? self->anon
                                                : NULL;
}

typedef struct {
    collab_ratelimit_t *t;
    const char *key, *name;
} draw_t;

/*  The buckets a request of class cls draws on: at most two. */
static int draws(collab_rate_gate_t *self, collab_rate_class_t cls, const char *peer,
                 const char *agent_id, draw_t d[2])
{
    switch (cls) {
    case COLLAB_RATE_SESSION:
        d[0] = (draw_t){self->agents, agent_id, "agent"};
        return agent_id ? 1 : 0;
    case COLLAB_RATE_LOGIN:
        d[0] = (draw_t){self->logins, peer, "login_peer"};
        d[1] = (draw_t){self->login_ids, agent_id, "login_agent"};
        return agent_id ? 2 : 1;
    case COLLAB_RATE_ANON:
        d[0] = (draw_t){self->anon, peer, "anon_peer"};
        return 1;
    }
    return 0;
}

int collab_ratelimit_admit(collab_rate_gate_t *self, collab_rate_class_t cls, const char *peer,
                           const char *agent_id, uint64_t now_ms, collab_rate_verdict_t *v)
{
    draw_t d[2];
    int n = draws(self, cls, peer ? peer : "", agent_id, d);
    collab_rate_verdict_t out = {0};
    bool refused = false;
    for (int i = 0; i < n; i++) {
        collab_rate_verdict_t r = {0};
        if (collab_ratelimit_check(d[i].t, d[i].key, strlen(d[i].key), now_ms, &r) == 0)
            continue;
        refused = true;
        if (r.retry_after_ms > out.retry_after_ms)
            out.retry_after_ms = r.retry_after_ms;
        if (r.report) {
            out.refused += r.refused;
            if (!out.report)
                out.bucket = d[i].name;
            out.report = true;
        }
        if (!out.bucket)
            out.bucket = d[i].name;
    }
    if (refused) {
        if (v)
            *v = out;
        return COLLAB_E_RATE_LIMITED;
    }
    for (int i = 0; i < n; i++)
        collab_ratelimit_spend(d[i].t, d[i].key, strlen(d[i].key), now_ms);
    return 0;
}
