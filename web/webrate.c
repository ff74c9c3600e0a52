/*  webrate.c: token buckets, and a bounded table of them by client address (webrate.h). */
#include "webrate.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROBE 16 /* slots an address may use, from its hash on */

/*  Refills b up to now; returns the milliseconds until it holds a whole token (0: it does). */
static int64_t refill(web_bucket_t *b, double per_s, double burst, int64_t now_ms)
{
    if (!b->started) {
        b->tokens = burst;
        b->last_ms = now_ms;
        b->started = 1;
    }
    if (now_ms > b->last_ms) {
        b->tokens += per_s * (double)(now_ms - b->last_ms) / 1000.0;
        if (b->tokens > burst)
            b->tokens = burst;
        b->last_ms = now_ms;
    }
    if (b->tokens >= 1.0)
        return 0;
    if (per_s <= 0)
        return 3600 * 1000;
    int64_t wait = (int64_t)((1.0 - b->tokens) * 1000.0 / per_s) + 1;
    return wait > 0 ? wait : 1;
}

int64_t web_bucket_take(web_bucket_t *b, double per_s, double burst, int64_t now_ms)
{
    int64_t wait = refill(b, per_s, burst, now_ms);
    if (wait == 0)
        b->tokens -= 1.0;
    return wait;
}

int64_t web_bucket_peek(web_bucket_t *b, double per_s, double burst, int64_t now_ms)
{
    return refill(b, per_s, burst, now_ms);
}

typedef struct {
    char addr[64];
    bool used;
    web_bucket_t b;
} slot_t;

struct web_rate {
    size_t cap;
    double per_s, burst;
    slot_t *slot;
};

web_rate_t *web_rate_new(size_t cap, double per_s, double burst)
{
    if (cap < PROBE || burst < 1)
        return NULL;
    web_rate_t *self = calloc(1, sizeof *self);
    if (!self || !(self->slot = calloc(cap, sizeof *self->slot))) {
        free(self);
        return NULL;
    }
    self->cap = cap;
    self->per_s = per_s;
    self->burst = burst;
    return self;
}

void web_rate_destroy(web_rate_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free((*self_p)->slot);
    free(*self_p);
    *self_p = NULL;
}

static size_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return (size_t)h;
}

/*  addr's slot: its own, a free one, or the one of its probe range used longest ago. */
static slot_t *find(web_rate_t *self, const char *addr)
{
    size_t h = hash(addr);
    slot_t *oldest = NULL, *free_slot = NULL;
    for (size_t i = 0; i < PROBE; i++) {
        slot_t *s = &self->slot[(h + i) % self->cap];
        if (s->used && strcmp(s->addr, addr) == 0)
            return s;
        if (!s->used && !free_slot)
            free_slot = s;
        if (s->used && (!oldest || s->b.last_ms < oldest->b.last_ms))
            oldest = s;
    }
    slot_t *s = free_slot ? free_slot : oldest;
    memset(s, 0, sizeof *s);
    s->used = true;
    snprintf(s->addr, sizeof s->addr, "%s", addr);
    return s;
}

int64_t web_rate_take(web_rate_t *self, const char *addr, int64_t now_ms)
{
    return web_bucket_take(&find(self, addr)->b, self->per_s, self->burst, now_ms);
}

int64_t web_rate_peek(web_rate_t *self, const char *addr, int64_t now_ms)
{
    return web_bucket_peek(&find(self, addr)->b, self->per_s, self->burst, now_ms);
}
