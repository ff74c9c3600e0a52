/*  test_cluster_ratelimit: the strong rate_limit control (LAB.md 10) in a cluster: two real
    brokers on one real redis-server share each agent's budget (broker/ratesync.c,
    docs/DISTRIBUTED.md 3 and 4). The agent budget is 6 tokens regained at 0.05 a second
    (one every 20 s: the test's seconds regain nothing), synced every 20 ms.
    - spent on A, refused on B once both brokers synced, with retry_after_ms;
    - one request at a time alternating over A and B, both synced between requests: exactly
      one budget passes (6 of 12), every refusal with retry_after_ms;
    - a burst alternating over A and B with no wait: at most one budget plus the bound of
      DISTRIBUTED.md 4 (what the other broker let through before it heard of the spends:
      here at most its own burst), and the overdraft is a debt both brokers then charge
      (the next refusal's retry_after_ms covers it);
    - rate_limit weak on two other brokers (their own prefix): everything passes, and they
      write no rate key.
    The brokers' syncs are seen in Redis (rate:node:NAME counts them): waits are on those
    counters, with deadlines. argv: collab-broker, the test credentials. */
#include "itest.h"
#include "redis_conn.h"
#include "redisproc.h"

#include <hiredis/hiredis.h>
#include <stdio.h>
#include <string.h>

#define BURST    6
#define PER_S    "0.05"
#define TOKEN_MS 20000u /* one token */

static broker_proc_t A, B, WA, WB; /* WA, WB: rate_limit weak */
static redisproc_t *R;
static collab_redis_t *RC; /* the test's own connection: the sync counters */

static int start_cluster(void)
{
    if (!(R = redisproc_start(NULL)))
        return -1;
    const char *url = redisproc_url(R);
    char err[256];
    collab_redis_opts_t o = {0};
    if (collab_redis_addr_parse(url, &o.addr, err, sizeof err) != 0 ||
        !(RC = collab_redis_new(&o)) || collab_redis_connect(RC) != 0)
        return -1;
#define STRONG(node)                                                                               \
    {                                                                                              \
        "--store", url, "--node", node, "--set", "rate_limit=strong", "--set",                     \
            "rate_limit.agent_per_s=" PER_S, "--set", "rate_limit.agent_burst=6", "--set",         \
            "rate_limit.sync_ms=20", NULL                                                          \
    }
#define WEAK(node)                                                                                 \
    {                                                                                              \
        "--store", url, "--node", node, "--set", "store.prefix=tw:", "--set",                      \
            "rate_limit.agent_per_s=" PER_S, "--set", "rate_limit.agent_burst=6", "--set",         \
            "rate_limit.sync_ms=20", NULL                                                          \
    }
    const char *a[] = STRONG("a"), *b[] = STRONG("b"), *wa[] = WEAK("wa"), *wb[] = WEAK("wb");
    if (broker_start(&A, a) != 0 || broker_start(&B, b) != 0 || broker_start(&WA, wa) != 0 ||
        broker_start(&WB, wb) != 0)
        return -1;
    return 0;
}

/*  The syncs node has made (rate:node:NAME), 0 before its first. */
static uint64_t syncs(const char *node)
{
    collab_redis_reply_t *r = NULL;
    uint64_t n = 0;
    if (collab_redis_callf(RC, &r, "GET tc:rate:node:%s", node) == 0 && r &&
        r->type == REDIS_REPLY_STRING)
        n = strtoull(r->str, NULL, 10);
    collab_redis_reply_free(&r);
    return n;
}

/*  Waits (5 s at most) until node has ended two syncs more than now: the second began after
    this call, so it carried every spend made before and brought back every key changed in
    Redis before it. */
static bool synced(const char *node)
{
    uint64_t want = syncs(node) + 2, deadline = it_now_ms() + 5000;
    while (syncs(node) < want)
        if (it_now_ms() > deadline)
            return false;
    return true;
}

/*  A spend reported by whoever made it, then brought back by both. */
static bool both_synced(void)
{
    return synced("a") && synced("b") && synced("a");
}

/*  One request of c's agent: 0 (ok) or its error code; *retry its retry_after_ms. */
static int one(collab_client_t *c, uint64_t *retry)
{
    collab_reply_t r;
    uint64_t got = 0;
    *retry = 0;
    uint64_t id = collab_client_send(c, "get_session_info", NULL, 0);
    if (collab_client_next_reply(c, &got, &r, 5000) != 0 || got != id)
        return COLLAB_E_TIMEOUT;
    int rc = r.ok ? 0 : r.code;
    collab_map_uint(&r.map, "retry_after_ms", retry);
    collab_reply_free(&r);
    return rc;
}

/*  agent logged in on x, and the same session on y. */
static bool pair(const broker_proc_t *x, const broker_proc_t *y, const char *agent,
                 collab_client_t **on_x, collab_client_t **on_y)
{
    *on_x = it_client(x, agent, true);
    *on_y = it_client(y, agent, false);
    if (!*on_x || !*on_y)
        return false;
    collab_client_set_session(*on_y, collab_client_session(*on_x));
    return true;
}

static void test_spent_on_a_refused_on_b(void)
{
    it_begin("an agent's budget spent on A is refused on B, with retry_after_ms");
    collab_client_t *on_a = NULL, *on_b = NULL;
    if (!CHECK(pair(&A, &B, "worker1", &on_a, &on_b)))
        goto out;
    uint64_t retry = 0;
    for (int i = 0; i < BURST; i++)
        CHECK_OK(one(on_a, &retry));
    CHECK(both_synced());
    CHECK_RC(one(on_b, &retry), COLLAB_E_RATE_LIMITED);
    CHECK(retry > 0 && retry <= TOKEN_MS);
    CHECK_RC(one(on_a, &retry), COLLAB_E_RATE_LIMITED);
    CHECK(retry > 0 && retry <= TOKEN_MS);
    /* the brokers count their syncs (the admin's one request is within its own budget) */
    collab_client_t *admin = it_client(&B, "admin", true);
    collab_reply_t r;
    if (CHECK(admin) && CHECK(it_call(admin, &r, "get_stats", NULL) == 0)) {
        CHECK(it_u64(&r, "rate_syncs") >= 4);
        CHECK(it_u64(&r, "rate_sync_failures") == 0);
        CHECK(it_u64(&r, "rate_limited") >= 1);
        collab_reply_free(&r);
    }
    collab_client_destroy(&admin);
out:
    collab_client_destroy(&on_a);
    collab_client_destroy(&on_b);
}

static void test_alternating_one_budget(void)
{
    it_begin("alternating over A and B, synced between requests: one budget in all");
    collab_client_t *on_a = NULL, *on_b = NULL;
    if (!CHECK(pair(&A, &B, "worker2", &on_a, &on_b)))
        goto out;
    int ok = 0, limited = 0;
    for (int i = 0; i < 2 * BURST; i++) {
        uint64_t retry = 0;
        int rc = one(i % 2 ? on_b : on_a, &retry);
        ok += rc == 0;
        if (rc == COLLAB_E_RATE_LIMITED && CHECK(retry > 0 && retry <= TOKEN_MS))
            limited++;
        CHECK(both_synced());
    }
    CHECK_EQ_INT(ok, BURST);
    CHECK_EQ_INT(limited, BURST);
out:
    collab_client_destroy(&on_a);
    collab_client_destroy(&on_b);
}

static void test_burst_bound_and_debt(void)
{
    it_begin("a burst over A and B: one budget plus the bound, then a debt on both");
    collab_client_t *on_a = NULL, *on_b = NULL;
    if (!CHECK(pair(&A, &B, "worker3", &on_a, &on_b)))
        goto out;
    enum { SENT = 8 * BURST };
    int ok = 0, limited = 0;
    for (int i = 0; i < SENT; i++) {
        uint64_t retry = 0;
        int rc = one(i % 2 ? on_b : on_a, &retry);
        ok += rc == 0;
        limited += rc == COLLAB_E_RATE_LIMITED && retry > 0;
    }
    fprintf(stderr, "  %d of %d passed (one budget %d, the bound %d more)\n", ok, SENT, BURST,
            BURST);
    CHECK(ok >= BURST && ok <= 2 * BURST);
    CHECK_EQ_INT(ok + limited, SENT);
    CHECK(both_synced());
    /* the overdraft, ok - BURST tokens, is owed on both brokers: the next token is that
       many tokens away, plus one */
    uint64_t want = (uint64_t)(ok - BURST + 1) * TOKEN_MS, retry = 0;
    CHECK_RC(one(on_a, &retry), COLLAB_E_RATE_LIMITED);
    CHECK(retry + 5000 >= want && retry <= want); /* minus what the test's seconds regained */
    CHECK_RC(one(on_b, &retry), COLLAB_E_RATE_LIMITED);
    CHECK(retry + 5000 >= want && retry <= want); /* minus what the test's seconds regained */
out:
    collab_client_destroy(&on_a);
    collab_client_destroy(&on_b);
}

static void test_weak_accepts_all(void)
{
    it_begin("rate_limit weak: every request passes, no rate key is written");
    collab_client_t *on_a = NULL, *on_b = NULL;
    if (!CHECK(pair(&WA, &WB, "worker4", &on_a, &on_b)))
        goto out;
    int ok = 0;
    for (int i = 0; i < 8 * BURST; i++) {
        uint64_t retry = 0;
        ok += one(i % 2 ? on_b : on_a, &retry) == 0;
    }
    CHECK_EQ_INT(ok, 8 * BURST);
    collab_redis_reply_t *r = NULL;
    CHECK_OK(collab_redis_callf(RC, &r, "KEYS tw:rate:*"));
    CHECK(r && r->type == REDIS_REPLY_ARRAY && r->elements == 0);
    collab_redis_reply_free(&r);
out:
    collab_client_destroy(&on_a);
    collab_client_destroy(&on_b);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: test_cluster_ratelimit COLLAB_BROKER CREDENTIALS\n");
        return 2;
    }
    broker_proc_t *all[] = {&A, &B, &WA, &WB};
    for (int i = 0; i < 4; i++)
        broker_init(all[i], argv[1], argv[2]);
    if (CHECK(start_cluster() == 0)) {
        test_spent_on_a_refused_on_b();
        test_alternating_one_budget();
        test_burst_bound_and_debt();
        test_weak_accepts_all();
    }
    for (int i = 0; i < 4; i++)
        broker_cleanup(all[i]);
    collab_redis_destroy(&RC);
    redisproc_stop(&R);
    return it_exit("test_cluster_ratelimit");
}
