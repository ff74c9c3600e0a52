/*  test_replay.c: the nonce cache of the strong replay control, on an injected clock:
    duplicates of a nonce and of a signature, the timestamp window and its expiry in
    timestamp order, the broker's start, capacity (busy, never forgetting a live entry),
    growth past the first allocation, and a clock that steps back. */
#include "replay.h"
#include "testutil.h"

#include "collab.h"

#include <stdlib.h>

#define T0 1700000000000ull /* the broker started here (Unix ms) */
#define W  60000u           /* the window, ms */

static uint8_t nonces[8192][COLLAB_NONCE_LEN], sigs[8192][COLLAB_SIGNATURE_LEN];

/*  Distinct nonces and signatures by index. */
static void make_values(void)
{
    for (uint32_t i = 0; i < 8192; i++) {
        memset(nonces[i], 0xa5, COLLAB_NONCE_LEN);
        memset(sigs[i], 0x5a, COLLAB_SIGNATURE_LEN);
        memcpy(nonces[i], &i, sizeof i);
        memcpy(sigs[i] + 7, &i, sizeof i);
    }
}

static collab_span_t N(uint32_t i)
{
    return (collab_span_t){(const char *)nonces[i], COLLAB_NONCE_LEN};
}

static collab_span_t S(uint32_t i)
{
    return (collab_span_t){(const char *)sigs[i], COLLAB_SIGNATURE_LEN};
}

static int admit(collab_replay_t *r, uint32_t n, uint32_t s, uint64_t ts, uint64_t now,
                 collab_replay_why_t *why)
{
    return collab_replay_admit(r, N(n), S(s), ts, now, why);
}

static void test_duplicates(void)
{
    collab_replay_t *r = collab_replay_new(100, 60, T0);
    collab_replay_why_t why;
    if (!CHECK(r))
        return;
    uint64_t now = T0 + 1000;
    CHECK_OK(admit(r, 1, 1, now, now, &why));
    CHECK_EQ_INT(why, COLLAB_REPLAY_OK);
    CHECK_EQ_INT(collab_replay_count(r), 1);
    /* the same request again, byte for byte */
    CHECK_RC(admit(r, 1, 1, now, now + 10, &why), COLLAB_E_REPLAY);
    CHECK_EQ_INT(why, COLLAB_REPLAY_SEEN_NONCE);
    /* the nonce again under another signature (another request, another agent) */
    CHECK_RC(admit(r, 1, 2, now + 5, now + 10, &why), COLLAB_E_REPLAY);
    CHECK_EQ_INT(why, COLLAB_REPLAY_SEEN_NONCE);
    /* the signature again with a fresh nonce (cannot verify on the wire, but the cache
       must refuse it on its own too) */
    CHECK_RC(admit(r, 2, 1, now, now + 10, &why), COLLAB_E_REPLAY);
    CHECK_EQ_INT(why, COLLAB_REPLAY_SEEN_SIGNATURE);
    CHECK_STR(collab_replay_why_name(why), "signature");
    CHECK_EQ_INT(collab_replay_count(r), 1); /* refusals remember nothing */
    CHECK_OK(admit(r, 2, 2, now, now + 10, NULL));
    CHECK_EQ_INT(collab_replay_count(r), 2);
    collab_replay_destroy(&r);
    collab_replay_destroy(&r); /* idempotent */
    CHECK(r == NULL);
}

static void test_refusals(void)
{
    collab_replay_t *r = collab_replay_new(100, 60, T0);
    collab_replay_why_t why;
    if (!CHECK(r))
        return;
    uint64_t now = T0 + 5000;
    collab_span_t none = {NULL, 0}, short_nonce = {(const char *)nonces[3], 8};
    CHECK_RC(collab_replay_admit(r, none, S(3), now, now, &why), COLLAB_E_NONCE_MISSING);
    CHECK_EQ_INT(why, COLLAB_REPLAY_NO_NONCE);
    CHECK_RC(collab_replay_admit(r, short_nonce, S(3), now, now, &why), COLLAB_E_NONCE_MISSING);
    /* before the broker started, though well inside the window */
    CHECK_RC(admit(r, 3, 3, T0 - 1, now, &why), COLLAB_E_STALE_TIMESTAMP);
    CHECK_EQ_INT(why, COLLAB_REPLAY_BEFORE_START);
    CHECK_STR(collab_replay_why_name(why), "before_start");
    CHECK_OK(admit(r, 3, 3, T0, now, &why)); /* the start itself is fine */
    /* the window, both sides, to the millisecond */
    now = T0 + 10 * W;
    CHECK_RC(admit(r, 4, 4, now - W - 1, now, &why), COLLAB_E_STALE_TIMESTAMP);
    CHECK_EQ_INT(why, COLLAB_REPLAY_WINDOW);
    CHECK_RC(admit(r, 4, 4, now + W + 1, now, &why), COLLAB_E_STALE_TIMESTAMP);
    CHECK_OK(admit(r, 4, 4, now - W, now, NULL));
    CHECK_OK(admit(r, 5, 5, now + W, now, NULL));
    collab_replay_destroy(&r);
    CHECK(collab_replay_new(0, 60, T0) == NULL);
}

/*  Entries leave when their own timestamp leaves the window, in timestamp order, whatever
    the order they arrived in; until then they are refused. */
static void test_expiry(void)
{
    collab_replay_t *r = collab_replay_new(100, 60, T0);
    if (!CHECK(r))
        return;
    uint64_t now = T0 + W; /* timestamps from T0 to T0 + 2W are admissible */
    CHECK_OK(admit(r, 10, 10, now + 1000, now, NULL)); /* a fast clock */
    CHECK_OK(admit(r, 11, 11, now - 1000, now, NULL)); /* a slow one */
    CHECK_OK(admit(r, 12, 12, now, now, NULL));
    CHECK_EQ_INT(collab_replay_count(r), 3);
    /* at the last millisecond of #11's window it is still refused */
    CHECK_RC(admit(r, 11, 99, now, now - 1000 + W, NULL), COLLAB_E_REPLAY);
    CHECK_EQ_INT(collab_replay_count(r), 3);
    /* one millisecond later it is gone (and its own re-send is stale) */
    uint64_t later = now - 1000 + W + 1;
    CHECK_RC(admit(r, 11, 11, now - 1000, later, NULL), COLLAB_E_STALE_TIMESTAMP);
    CHECK_OK(admit(r, 20, 20, later, later, NULL));
    CHECK_EQ_INT(collab_replay_count(r), 3);                         /* #11 out, #20 in */
    CHECK_OK(admit(r, 11, 11, later, later, NULL));                  /* its nonce is free again */
    CHECK_RC(admit(r, 12, 98, later, later, NULL), COLLAB_E_REPLAY); /* #12 is not */
    CHECK_RC(admit(r, 97, 10, later, later, NULL), COLLAB_E_REPLAY); /* nor #10 */
    /* long after, everything has gone */
    uint64_t much_later = now + 10 * W;
    CHECK_OK(admit(r, 30, 30, much_later, much_later, NULL));
    CHECK_EQ_INT(collab_replay_count(r), 1);
    collab_replay_destroy(&r);
}

/*  Full of live entries, the cache refuses newcomers with busy rather than forget one;
    duplicates are still told apart; it takes newcomers again as entries expire. */
static void test_capacity(void)
{
    collab_replay_t *r = collab_replay_new(4, 60, T0);
    collab_replay_why_t why;
    if (!CHECK(r))
        return;
    uint64_t now = T0 + W;
    for (uint32_t i = 0; i < 4; i++)
        CHECK_OK(admit(r, i, i, now + i, now, NULL));
    CHECK_RC(admit(r, 4, 4, now, now, &why), COLLAB_E_BUSY);
    CHECK_EQ_INT(why, COLLAB_REPLAY_FULL);
    CHECK_RC(admit(r, 2, 2, now + 2, now, &why), COLLAB_E_REPLAY);
    CHECK_EQ_INT(collab_replay_count(r), 4);
    /* #0 leaves first (the smallest timestamp): one place */
    uint64_t t = now + W + 1;
    CHECK_OK(admit(r, 4, 4, t, t, NULL));
    CHECK_RC(admit(r, 5, 5, t, t, NULL), COLLAB_E_BUSY);
    CHECK_RC(admit(r, 1, 1, now + 1, t, NULL), COLLAB_E_REPLAY);
    CHECK_OK(admit(r, 5, 5, t + 1, t + 1, NULL)); /* #1 left too */
    collab_replay_destroy(&r);
}

/*  Past the first allocation the arrays grow and the indexes are rebuilt: every entry is
    still found, and the cap still holds. A long steady run then reuses slots. */
static void test_growth_and_steady_state(void)
{
    enum { CAP = 5000 };
    collab_replay_t *r = collab_replay_new(CAP, 60, T0);
    if (!CHECK(r))
        return;
    uint64_t now = T0 + W;
    int fails = 0;
    for (uint32_t i = 0; i < CAP; i++)
        fails += admit(r, i, i, now, now, NULL) != 0;
    CHECK_EQ_INT(fails, 0);
    CHECK_EQ_INT(collab_replay_count(r), CAP);
    int found = 0;
    for (uint32_t i = 0; i < CAP; i++) {
        found += admit(r, i, 8000, now, now, NULL) == COLLAB_E_REPLAY;
        found += admit(r, 8000, i, now, now, NULL) == COLLAB_E_REPLAY;
    }
    CHECK_EQ_INT(found, 2 * CAP);
    CHECK_RC(admit(r, 6000, 6000, now, now, NULL), COLLAB_E_BUSY);
    /* steady state: 100 entries a "second" for 300 s through a 60 s window */
    collab_replay_destroy(&r);
    r = collab_replay_new(7000, 60, T0);
    if (!CHECK(r))
        return;
    fails = 0;
    uint32_t most = 0;
    for (uint32_t k = 0; k < 30000; k++) {
        uint64_t t = T0 + (uint64_t)k * 10;
        fails += admit(r, k % 8192, (k + 17) % 8192, t, t, NULL) != 0;
        if (collab_replay_count(r) > most)
            most = collab_replay_count(r);
    }
    CHECK_EQ_INT(fails, 0);
    CHECK_EQ_INT(most, 6001); /* the window's worth: 60 s at 100/s, both ends included */
    collab_replay_destroy(&r);
}

/*  A wall clock stepped back expires nothing: duplicates stay refused, and new requests
    inside the window around the new time are still taken (and remembered). */
static void test_clock_back(void)
{
    collab_replay_t *r = collab_replay_new(100, 60, T0);
    if (!CHECK(r))
        return;
    uint64_t now = T0 + 5 * W;
    CHECK_OK(admit(r, 1, 1, now, now, NULL));
    uint64_t back = now - 2 * W; /* the clock steps back two windows */
    CHECK_RC(admit(r, 1, 1, now, back, NULL), COLLAB_E_STALE_TIMESTAMP); /* now "future" */
    CHECK_RC(admit(r, 1, 2, back, back, NULL), COLLAB_E_REPLAY);         /* nonce kept */
    CHECK_OK(admit(r, 2, 2, back, back, NULL));
    CHECK_EQ_INT(collab_replay_count(r), 2);
    CHECK_RC(admit(r, 2, 3, back + 10, back + 10, NULL), COLLAB_E_REPLAY);
    /* when the clock is past both again, both expire */
    uint64_t fwd = now + W + 1;
    CHECK_OK(admit(r, 3, 3, fwd, fwd, NULL));
    CHECK_EQ_INT(collab_replay_count(r), 1);
    collab_replay_destroy(&r);
}

int main(void)
{
    make_values();
    TU_RUN(test_duplicates);
    TU_RUN(test_refusals);
    TU_RUN(test_expiry);
    TU_RUN(test_capacity);
    TU_RUN(test_growth_and_steady_state);
    TU_RUN(test_clock_back);
    return tu_exit("test_replay");
}
