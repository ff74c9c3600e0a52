/*  test_ratelimit.c: the token buckets of the strong rate-limit control, on an injected
    clock: burst, refill and its cap, the retry-after value, checks that spend nothing,
    aggregated reporting of refusals, a clock that steps back, the cap on buckets with
    idle full ones evicted first, and an active bucket surviving a flood of new keys. */
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
    return tu_exit("test_ratelimit");
}
