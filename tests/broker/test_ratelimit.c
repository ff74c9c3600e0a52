/*  test_ratelimit.c: the token buckets of the strong rate-limit control, on an injected
    clock: burst, refill and its cap, the retry-after value, checks that spend nothing,
    aggregated reporting of refusals, a clock that steps back, the cap on buckets with
    idle full ones evicted first, and an active bucket surviving a flood of new keys; and
    the budgets (collab_ratelimit_admit): which buckets each class of request draws on, so
    that logins and anonymous traffic from an address never spend a logged-in agent's. */
#include "ratelimit.h"
#include "testutil.h"

#include <stdio.h>

#define K(s) (s), strlen(s)

static void test_burst_and_refill(void)
{
    collab_ratelimit_t *rl = collab_ratelimit_new(5, 5, 100); /* 5/s, burst 5 */
    collab_rate_verdict_t v;
    if (!CHECK(rl))
        return;
    uint64_t t = 1000;
    int ok = 0;
    for (int i = 0; i < 20; i++)
        if (collab_ratelimit_check(rl, K("worker1"), t, &v) == 0)
            ok += collab_ratelimit_spend(rl, K("worker1"), t) == 0;
    CHECK_EQ_INT(ok, 5);
    CHECK_EQ_INT(collab_ratelimit_count(rl), 1);
    CHECK_RC(collab_ratelimit_check(rl, K("worker1"), t, &v), COLLAB_E_RATE_LIMITED);
    CHECK_EQ_INT(v.retry_after_ms, 200); /* one token at 5/s */
    /* half a token later, half the wait */
    CHECK_RC(collab_ratelimit_check(rl, K("worker1"), t + 100, &v), COLLAB_E_RATE_LIMITED);
    CHECK_EQ_INT(v.retry_after_ms, 100);
    CHECK_RC(collab_ratelimit_check(rl, K("worker1"), t + 199, &v), COLLAB_E_RATE_LIMITED);
    CHECK_EQ_INT(v.retry_after_ms, 1);
    CHECK_OK(collab_ratelimit_check(rl, K("worker1"), t + 200, &v));
    CHECK_OK(collab_ratelimit_spend(rl, K("worker1"), t + 200));
    CHECK_RC(collab_ratelimit_check(rl, K("worker1"), t + 200, &v), COLLAB_E_RATE_LIMITED);
    /* a long idle time refills to the burst, not beyond */
    t += 3600 * 1000;
    CHECK(collab_ratelimit_tokens(rl, K("worker1"), t) == 5.0);
    ok = 0;
    for (int i = 0; i < 20; i++)
        ok += collab_ratelimit_spend(rl, K("worker1"), t) == 0;
    CHECK_EQ_INT(ok, 5);
    /* other keys are not touched */
    CHECK(collab_ratelimit_tokens(rl, K("worker2"), t) == 5.0);
    CHECK_EQ_INT(collab_ratelimit_count(rl), 1);
    collab_ratelimit_destroy(&rl);
    collab_ratelimit_destroy(&rl);
    CHECK(rl == NULL);
    CHECK(collab_ratelimit_new(0, 5, 10) == NULL);
    CHECK(collab_ratelimit_new(1, 0, 10) == NULL);
}

/*  A fractional rate: 2.5/s regains a token every 400 ms. */
static void test_retry_after(void)
{
    collab_ratelimit_t *rl = collab_ratelimit_new(2.5, 1, 10);
    collab_rate_verdict_t v;
    if (!CHECK(rl))
        return;
    CHECK_OK(collab_ratelimit_spend(rl, K("127.0.0.2"), 0));
    CHECK_RC(collab_ratelimit_check(rl, K("127.0.0.2"), 0, &v), COLLAB_E_RATE_LIMITED);
    CHECK_EQ_INT(v.retry_after_ms, 400);
    CHECK_RC(collab_ratelimit_check(rl, K("127.0.0.2"), 399, &v), COLLAB_E_RATE_LIMITED);
    CHECK_EQ_INT(v.retry_after_ms, 1);
    CHECK_OK(collab_ratelimit_check(rl, K("127.0.0.2"), 400, &v));
    /* spending on an empty bucket (a charge) leaves it at zero, never below */
    CHECK_OK(collab_ratelimit_spend(rl, K("127.0.0.2"), 400));
    for (int i = 0; i < 10; i++)
        CHECK_RC(collab_ratelimit_spend(rl, K("127.0.0.2"), 400), COLLAB_E_RATE_LIMITED);
    CHECK(collab_ratelimit_tokens(rl, K("127.0.0.2"), 400) == 0.0);
    CHECK_OK(collab_ratelimit_check(rl, K("127.0.0.2"), 800, NULL));
    collab_ratelimit_destroy(&rl);
}

/*  Checking spends nothing, so a request checked against two buckets spends from
    neither when one of them refuses. */
static void test_check_spends_nothing(void)
{
    collab_ratelimit_t *rl = collab_ratelimit_new(1, 3, 10);
    if (!CHECK(rl))
        return;
    for (int i = 0; i < 100; i++)
        CHECK_OK(collab_ratelimit_check(rl, K("a"), 0, NULL));
    CHECK_EQ_INT(collab_ratelimit_count(rl), 0); /* a check makes no bucket */
    CHECK_OK(collab_ratelimit_spend(rl, K("a"), 0));
    CHECK(collab_ratelimit_tokens(rl, K("a"), 0) == 2.0);
    collab_ratelimit_destroy(&rl);
}

/*  The first refusal of a bucket in a second is reported, with the count of the
    refusals since the last report; the others are only counted. */
static void test_reporting(void)
{
    collab_ratelimit_t *rl = collab_ratelimit_new(0.001, 1, 10); /* practically no refill */
    collab_rate_verdict_t v;
    if (!CHECK(rl))
        return;
    CHECK_OK(collab_ratelimit_spend(rl, K("x"), 5000));
    CHECK_RC(collab_ratelimit_check(rl, K("x"), 5000, &v), COLLAB_E_RATE_LIMITED);
    CHECK(v.report);
    CHECK_EQ_INT(v.refused, 1);
    int reports = 0;
    for (int i = 0; i < 99; i++) {
        CHECK_RC(collab_ratelimit_check(rl, K("x"), 5000 + (uint64_t)i * 10, &v),
                 COLLAB_E_RATE_LIMITED);
        reports += v.report;
    }
    CHECK_EQ_INT(reports, 0);
    CHECK_RC(collab_ratelimit_check(rl, K("x"), 6000, &v), COLLAB_E_RATE_LIMITED);
    CHECK(v.report);
    CHECK_EQ_INT(v.refused, 100);
    /* another bucket reports on its own */
    CHECK_OK(collab_ratelimit_spend(rl, K("y"), 6000));
    CHECK_RC(collab_ratelimit_check(rl, K("y"), 6000, &v), COLLAB_E_RATE_LIMITED);
    CHECK(v.report);
    collab_ratelimit_destroy(&rl);
}

/*  A clock that steps back regains nothing and breaks nothing. */
static void test_clock_back(void)
{
    collab_ratelimit_t *rl = collab_ratelimit_new(10, 2, 10);
    collab_rate_verdict_t v;
    if (!CHECK(rl))
        return;
    CHECK_OK(collab_ratelimit_spend(rl, K("a"), 10000));
    CHECK_OK(collab_ratelimit_spend(rl, K("a"), 10000));
    CHECK_RC(collab_ratelimit_check(rl, K("a"), 5000, &v), COLLAB_E_RATE_LIMITED);
    CHECK(v.retry_after_ms == 100);
    CHECK(collab_ratelimit_tokens(rl, K("a"), 0) == 0.0);
    CHECK_OK(collab_ratelimit_check(rl, K("a"), 10100, &v)); /* counted from 10000 */
    collab_ratelimit_destroy(&rl);
}

/*  At the cap, a full bucket is reused before a draining one (forgetting it loses
    nothing); when none is full, the least recently used goes. */
static void test_eviction(void)
{
    collab_ratelimit_t *rl = collab_ratelimit_new(1, 2, 4);
    if (!CHECK(rl))
        return;
    CHECK_OK(collab_ratelimit_spend(rl, K("b"), 0)); /* b: oldest, drained */
    CHECK_OK(collab_ratelimit_spend(rl, K("b"), 0));
    CHECK_OK(collab_ratelimit_spend(rl, K("a"), 0));
    CHECK_OK(collab_ratelimit_spend(rl, K("c"), 0));
    CHECK_OK(collab_ratelimit_spend(rl, K("d"), 0));
    CHECK_EQ_INT(collab_ratelimit_count(rl), 4);
    /* one second on: a, c, d are full again, b holds one token */
    CHECK_OK(collab_ratelimit_spend(rl, K("e"), 1000));
    CHECK_EQ_INT(collab_ratelimit_count(rl), 4);
    CHECK(collab_ratelimit_tokens(rl, K("b"), 1000) == 1.0); /* kept */
    CHECK(collab_ratelimit_tokens(rl, K("e"), 1000) == 1.0);
    collab_ratelimit_destroy(&rl);

    /* nothing full: the least recently used bucket is forgotten */
    rl = collab_ratelimit_new(1, 2, 2);
    if (!CHECK(rl))
        return;
    CHECK_OK(collab_ratelimit_spend(rl, K("x"), 0));
    CHECK_OK(collab_ratelimit_spend(rl, K("x"), 0));
    CHECK_OK(collab_ratelimit_spend(rl, K("y"), 0));
    CHECK_OK(collab_ratelimit_spend(rl, K("y"), 0));
    CHECK_OK(collab_ratelimit_spend(rl, K("z"), 0));
    CHECK_EQ_INT(collab_ratelimit_count(rl), 2);
    CHECK(collab_ratelimit_tokens(rl, K("x"), 0) == 2.0); /* forgotten: starts full */
    CHECK(collab_ratelimit_tokens(rl, K("y"), 0) == 0.0);
    collab_ratelimit_destroy(&rl);
}

/*  A flood of new keys (addresses) through a small table: memory stays at the cap, the
    table grows through its first allocation, and an active drained bucket, touched by its
    refusals, is never forgotten (so its owner gets no fresh burst). */
static void test_flood_of_keys(void)
{
    enum { CAP = 200 };
    collab_ratelimit_t *rl = collab_ratelimit_new(1, 2, CAP);
    collab_rate_verdict_t v;
    if (!CHECK(rl))
        return;
    CHECK_OK(collab_ratelimit_spend(rl, K("flooder"), 0));
    CHECK_OK(collab_ratelimit_spend(rl, K("flooder"), 0));
    int refused = 0;
    char key[32];
    for (int i = 0; i < 100000; i++) {
        snprintf(key, sizeof key, "10.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255, i & 255);
        collab_ratelimit_spend(rl, K(key), 0);
        if (i % 50 == 0)
            refused += collab_ratelimit_check(rl, K("flooder"), 0, &v) == COLLAB_E_RATE_LIMITED;
    }
    CHECK_EQ_INT(refused, 2000);
    CHECK_EQ_INT(collab_ratelimit_count(rl), CAP);
    /* the most recent keys are all there, each with its one token spent */
    int kept = 0;
    for (int i = 100000 - 100; i < 100000; i++) {
        snprintf(key, sizeof key, "10.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255, i & 255);
        kept += collab_ratelimit_tokens(rl, K(key), 0) == 1.0;
    }
    CHECK_EQ_INT(kept, 100);
    collab_ratelimit_destroy(&rl);
}

/*  Keys longer than the limit share their first COLLAB_RATE_KEY_MAX bytes. */
static void test_long_keys(void)
{
    collab_ratelimit_t *rl = collab_ratelimit_new(1, 1, 10);
    if (!CHECK(rl))
        return;
    char a[100], b[100];
    memset(a, 'k', sizeof a);
    memcpy(b, a, sizeof b);
    b[99] = 'z';
    CHECK_OK(collab_ratelimit_spend(rl, a, sizeof a, 0));
    CHECK_RC(collab_ratelimit_check(rl, b, sizeof b, 0, NULL), COLLAB_E_RATE_LIMITED);
    CHECK_OK(collab_ratelimit_check(rl, a, 63, 0, NULL));
    collab_ratelimit_destroy(&rl);
}

/* ---- The budgets ---- */

static collab_rate_gate_t *gate(void)
{
    /* agents 5/s burst 5; logins by address 10/s burst 10; anonymous 2/s burst 3 */
    collab_rate_budgets_t b = {.agent_per_s = 5,
                               .agent_burst = 5,
                               .login_per_s = 10,
                               .login_burst = 10,
                               .anon_per_s = 2,
                               .anon_burst = 3};
    return collab_rate_gate_new(&b, 100);
}

/*  Admits of one class until the first refusal: how many went through. */
static int admitted(collab_rate_gate_t *g, collab_rate_class_t cls, const char *peer,
                    const char *agent, uint64_t t, collab_rate_verdict_t *v)
{
    int n = 0;
    while (n < 1000 && collab_ratelimit_admit(g, cls, peer, agent, t, v) == 0)
        n++;
    return n;
}

/*  A session request spends its agent's budget and nothing else: not its address's,
    whatever else that address sends; and other agents at the same address have their own. */
static void test_session_draws_on_agent_only(void)
{
    collab_rate_gate_t *g = gate();
    collab_rate_verdict_t v = {0};
    uint64_t t = 5000;
    if (!CHECK(g))
        return;
    /* the address is spent on every anonymous budget first */
    CHECK_EQ_INT(admitted(g, COLLAB_RATE_LOGIN, "10.0.0.1", "nobody", t, &v), 5); /* id's 5 */
    CHECK_EQ_INT(admitted(g, COLLAB_RATE_LOGIN, "10.0.0.1", NULL, t, &v), 5);     /* address: 10 */
    CHECK_STR(v.bucket, "login_peer");
    CHECK_EQ_INT(admitted(g, COLLAB_RATE_ANON, "10.0.0.1", NULL, t, &v), 3);
    CHECK_STR(v.bucket, "anon_peer");
    CHECK_EQ_INT(v.retry_after_ms, 500); /* one token at 2/s */
    /* the agents behind it are served their whole budget */
    CHECK_EQ_INT(admitted(g, COLLAB_RATE_SESSION, "10.0.0.1", "coordinator1", t, &v), 5);
    CHECK_STR(v.bucket, "agent");
    CHECK_EQ_INT(v.retry_after_ms, 200);
    CHECK_EQ_INT(admitted(g, COLLAB_RATE_SESSION, "10.0.0.1", "worker1", t, &v), 5);
    /* and an agent's own flood does not spend the address's logins nor anonymous budget */
    CHECK(collab_ratelimit_tokens(collab_rate_gate_table(g, "login_peer"), K("10.0.0.2"), t) ==
          10.0);
    CHECK_EQ_INT(admitted(g, COLLAB_RATE_SESSION, "10.0.0.2", "worker2", t, &v), 5);
    CHECK(collab_ratelimit_tokens(collab_rate_gate_table(g, "login_peer"), K("10.0.0.2"), t) ==
          10.0);
    CHECK(collab_ratelimit_tokens(collab_rate_gate_table(g, "anon_peer"), K("10.0.0.2"), t) == 3.0);
    CHECK(collab_rate_gate_table(g, "peer") == NULL);
    /* a session request without an agent id draws on nothing */
    CHECK_OK(collab_ratelimit_admit(g, COLLAB_RATE_SESSION, "10.0.0.1", NULL, t, &v));
    collab_rate_gate_destroy(&g);
    collab_rate_gate_destroy(&g);
    CHECK(g == NULL);
}

/*  Bad logins under an agent's name spend that name's login budget, never the agent's
    own: its sessions keep being served. A login needs a token in both of its buckets,
    and a refusal spends neither. */
static void test_login_budgets(void)
{
    collab_rate_gate_t *g = gate();
    collab_rate_verdict_t v = {0};
    uint64_t t = 5000;
    if (!CHECK(g))
        return;
    CHECK_EQ_INT(admitted(g, COLLAB_RATE_LOGIN, "10.0.0.1", "coordinator1", t, &v), 5);
    CHECK_STR(v.bucket, "login_agent");
    CHECK_EQ_INT(admitted(g, COLLAB_RATE_SESSION, "10.0.0.1", "coordinator1", t, &v), 5);
    /* the address kept the 5 tokens the refused logins did not spend */
    collab_ratelimit_t *lp = collab_rate_gate_table(g, "login_peer");
    CHECK(collab_ratelimit_tokens(lp, K("10.0.0.1"), t) == 5.0);
    CHECK_EQ_INT(admitted(g, COLLAB_RATE_LOGIN, "10.0.0.1", "worker1", t, &v), 5);
    /* now both are spent: the longest wait is told (the address's 100 ms, the id's 200) */
    CHECK_RC(collab_ratelimit_admit(g, COLLAB_RATE_LOGIN, "10.0.0.1", "worker1", t, &v),
             COLLAB_E_RATE_LIMITED);
    CHECK_EQ_INT(v.retry_after_ms, 200);
    /* 100 ms later the address has a token, the id not yet */
    CHECK_RC(collab_ratelimit_admit(g, COLLAB_RATE_LOGIN, "10.0.0.1", "worker1", t + 100, &v),
             COLLAB_E_RATE_LIMITED);
    CHECK_STR(v.bucket, "login_agent");
    CHECK_OK(collab_ratelimit_admit(g, COLLAB_RATE_LOGIN, "10.0.0.1", "worker2", t + 100, &v));
    collab_rate_gate_destroy(&g);
}

/*  A refusal reports at most once a second per budget, with the count since the last. */
static void test_admit_reporting(void)
{
    collab_rate_gate_t *g = gate();
    collab_rate_verdict_t v = {0};
    uint64_t t = 5000;
    int reports = 0;
    uint32_t counted = 0;
    if (!CHECK(g))
        return;
    for (int i = 0; i < 103; i++)
        if (collab_ratelimit_admit(g, COLLAB_RATE_ANON, "10.0.0.9", NULL, t, &v) != 0 && v.report) {
            reports++;
            counted += v.refused;
        }
    CHECK_EQ_INT(reports, 1);
    CHECK_EQ_INT(counted, 1);
    t += 1000; /* two tokens back, then the rest refused: one report counting the 99 */
    for (int i = 0; i < 10; i++)
        if (collab_ratelimit_admit(g, COLLAB_RATE_ANON, "10.0.0.9", NULL, t, &v) != 0 && v.report)
            counted = v.refused;
    CHECK_EQ_INT(counted, 100);
    collab_rate_budgets_t zero = {.agent_per_s = 1, .agent_burst = 1, .login_per_s = 1};
    CHECK(collab_rate_gate_new(&zero, 10) == NULL);
    collab_rate_gate_destroy(&g);
}

typedef struct {
    char keys[8][COLLAB_RATE_KEY_MAX + 1];
    uint32_t spent[8];
    int n;
} taken_t;

static void take(void *arg, const char *key, size_t len, uint32_t spent)
{
    taken_t *t = arg;
    if (t->n < 8) {
        snprintf(t->keys[t->n], sizeof t->keys[t->n], "%.*s", (int)len, key);
        t->spent[t->n++] = spent;
    }
}

/*  What a cluster's sync reads (the spends since the last take) and writes (the shared
    view, minus what was spent since the take). */
static void test_take_spent_and_share(void)
{
    collab_ratelimit_t *rl = collab_ratelimit_new(1.0, 10, 16);
    if (!CHECK(rl))
        return;
    for (int i = 0; i < 3; i++)
        CHECK_OK(collab_ratelimit_spend(rl, "a", 1, 0));
    CHECK_OK(collab_ratelimit_spend(rl, "b", 1, 0));
    taken_t t = {0};
    CHECK(collab_ratelimit_take_spent(rl, 1, take, &t) == 1); /* at most max... */
    CHECK(collab_ratelimit_take_spent(rl, 8, take, &t) == 1); /* ...the rest next time */
    CHECK(t.n == 2);
    CHECK(collab_ratelimit_take_spent(rl, 8, take, &t) == 0); /* nothing spent since */
    int ia = strcmp(t.keys[0], "a") == 0 ? 0 : 1;
    CHECK(t.spent[ia] == 3 && t.spent[1 - ia] == 1);
    /* spent once more after the take: not in the shared view, so subtracted from it */
    CHECK_OK(collab_ratelimit_spend(rl, "a", 1, 0));
    collab_ratelimit_share(rl, "a", 1, 5000.0, 0); /* the cluster lacks 5 tokens */
    CHECK(collab_ratelimit_tokens(rl, "a", 1, 0) > 3.99 &&
          collab_ratelimit_tokens(rl, "a", 1, 0) < 4.01);
    /* a debt: below zero, refused with the wait for one token */
    collab_ratelimit_share(rl, "b", 1, 13000.0, 0);
    collab_rate_verdict_t v = {0};
    CHECK_RC(collab_ratelimit_check(rl, "b", 1, 0, &v), COLLAB_E_RATE_LIMITED);
    CHECK_EQ_U64(v.retry_after_ms, 4000);
    /* a key this table lacks: a bucket only when the view is not full */
    uint32_t n = collab_ratelimit_count(rl);
    collab_ratelimit_share(rl, "c", 1, 0.0, 0);
    CHECK(collab_ratelimit_count(rl) == n);
    collab_ratelimit_share(rl, "d", 1, 9500.0, 0);
    CHECK(collab_ratelimit_count(rl) == n + 1);
    CHECK_RC(collab_ratelimit_check(rl, "d", 1, 0, NULL), COLLAB_E_RATE_LIMITED);
    collab_ratelimit_destroy(&rl);
}

int main(void)
{
    TU_RUN(test_burst_and_refill);
    TU_RUN(test_retry_after);
    TU_RUN(test_check_spends_nothing);
    TU_RUN(test_reporting);
    TU_RUN(test_clock_back);
    TU_RUN(test_eviction);
    TU_RUN(test_flood_of_keys);
    TU_RUN(test_long_keys);
    TU_RUN(test_session_draws_on_agent_only);
    TU_RUN(test_login_budgets);
    TU_RUN(test_admit_reporting);
    TU_RUN(test_take_spent_and_share);
    return tu_exit("test_ratelimit");
}
