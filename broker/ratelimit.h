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
    const char *bucket;      /* collab_ratelimit_admit: the budget that refused ("agent", ...) */
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

/* ---- Sharing the buckets between brokers (ratesync.c, docs/DISTRIBUTED.md 3) ---- */

typedef void (*collab_rate_spent_fn)(void *arg, const char *key, size_t len, uint32_t spent);

/*  Calls fn once for each of at most max buckets spent from since the last call, with the
    tokens spent meanwhile, and resets that count (the rest wait for the next call). Returns
    how many it reported. */
size_t collab_ratelimit_take_spent(collab_ratelimit_t *self, size_t max, collab_rate_spent_fn fn,
                                   void *arg);

/*  Sets key's bucket to the cluster's view at now_ms: ahead_ms is how far the key's
    theoretical arrival time (GCRA) is past the shared clock, i.e. the shared bucket lacks
    ahead_ms x rate tokens (more than burst: a debt, repaid before anything passes). What
    this broker spent since its last take_spent is not in that view and is subtracted. A
    key without a bucket gets one only when the view is not full. */
void collab_ratelimit_share(collab_ratelimit_t *self, const char *key, size_t len, double ahead_ms,
                            uint64_t now_ms);

/*  Buckets held now. */
uint32_t collab_ratelimit_count(const collab_ratelimit_t *self);

/*  Tokens in key's bucket at now_ms (burst when it has none): for tests. */
double collab_ratelimit_tokens(collab_ratelimit_t *self, const char *key, size_t len,
                               uint64_t now_ms);

/* ---- The budgets of the strong rate_limit control, and who draws on which ---- */

/*  What a request is, for the rate limits. */
typedef enum {
    COLLAB_RATE_SESSION, /* a request on a valid session: its agent's budget, nothing else */
    COLLAB_RATE_LOGIN,   /* a login: its address's login budget and the claimed agent id's */
    COLLAB_RATE_ANON,    /* undecodable, or no valid session: its address's anonymous budget */
} collab_rate_class_t;

/*  Rates (a second) and bursts of each budget, all > 0 (the broker resolves the keys left
    0 to rate_limit.peer_*). The claimed agent id's login budget takes the agent's values. */
typedef struct {
    double agent_per_s;
    uint32_t agent_burst;
    double login_per_s;
    uint32_t login_burst;
    double anon_per_s;
    uint32_t anon_burst;
} collab_rate_budgets_t;

typedef struct collab_rate_gate collab_rate_gate_t;

/*  One table of buckets per budget, each of at most max_buckets. NULL when out of memory
    or given a zero rate or burst. */
collab_rate_gate_t *collab_rate_gate_new(const collab_rate_budgets_t *b, uint32_t max_buckets);

/*  NULL-safe, idempotent; nulls *self_p. */
void collab_rate_gate_destroy(collab_rate_gate_t **self_p);

/*  The decision: may a request of class cls, from address peer, of (or claiming) agent_id,
    go ahead at now_ms? A session request draws on agent_id's budget only (never its
    address's, shared behind NAT); a login on peer's login budget and, when agent_id is not
    NULL, that id's login budget (kept apart from the agent's own requests, so that bad
    logins under its name cannot starve its sessions); anonymous traffic on peer's anonymous
    budget. Admitted: one token spent from each, returns 0. Refused: none spent, returns
    COLLAB_E_RATE_LIMITED with *v filled (the longest retry_after_ms; bucket names the
    refusing budget, the reporting one first: "agent", "login_peer", "login_agent",
    "anon_peer"). v may be NULL. */
int collab_ratelimit_admit(collab_rate_gate_t *self, collab_rate_class_t cls, const char *peer,
                           const char *agent_id, uint64_t now_ms, collab_rate_verdict_t *v);

/*  The bucket table behind a budget (for tests): "agent", "login_peer", "login_agent",
    "anon_peer"; NULL for another name. */
collab_ratelimit_t *collab_rate_gate_table(collab_rate_gate_t *self, const char *bucket);

#endif
