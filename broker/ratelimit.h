/*  ratelimit.h: token buckets by key (an agent id, a peer address) for the strong rate
    limiting control (LAB.md #10). A bucket holds up to `burst` tokens and regains `per_s`
    a second; a request spends one. The table holds at most max_buckets buckets, evicting
    idle full ones first. The clock is the caller's (monotonic ms): pure and testable. */
#ifndef COLLAB_RATELIMIT_H
#define COLLAB_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define COLLAB_RATE_KEY_MAX     64 /* an agent id or a peer address, longer keys are cut */
#define COLLAB_RATE_BUCKETS_MAX 65536u

typedef struct collab_ratelimit collab_ratelimit_t;

/*  The answer to a check. */
typedef struct {
    uint32_t retry_after_ms; /* refused: how long until one token is back (>= 1) */
    bool report;             /* refused, and the first refusal of this bucket in a second */
    uint32_t refused;        /* with report: refusals of this bucket since the last report */
} collab_rate_verdict_t;

/*  A table of at most max_buckets buckets (grown on demand, never beyond). Returns NULL
    when out of memory or given zero rates. */
collab_ratelimit_t *collab_ratelimit_new(double per_s, uint32_t burst, uint32_t max_buckets);

/*  NULL-safe, idempotent; nulls *self_p. */
void collab_ratelimit_destroy(collab_ratelimit_t **self_p);

/*  Does key's bucket hold a token at now_ms? Spends nothing (so that a request checked
    against two buckets spends from neither when one refuses). Returns 0, or
    COLLAB_E_RATE_LIMITED with *v filled and the refusal counted for reporting. v may be
    NULL. A key without a bucket holds a full one. */
int collab_ratelimit_check(collab_ratelimit_t *self, const char *key, size_t len, uint64_t now_ms,
                           collab_rate_verdict_t *v);

/*  Spends one token from key's bucket, creating the bucket (and evicting one when the
    table is full) if needed. Returns 0, or COLLAB_E_RATE_LIMITED when it was empty (it
    stays at zero: the caller charges, it does not refuse). */
int collab_ratelimit_spend(collab_ratelimit_t *self, const char *key, size_t len, uint64_t now_ms);

/*  Buckets held now. */
uint32_t collab_ratelimit_count(const collab_ratelimit_t *self);

/*  Tokens in key's bucket at now_ms (burst when it has none): for tests. */
double collab_ratelimit_tokens(collab_ratelimit_t *self, const char *key, size_t len,
                               uint64_t now_ms);

#endif
