/*  test_evindex.c: the per-agent rings of event-log row ids. Retention at its edges (1, 4,
    growth past the first capacity while the ring has wrapped), exactly which row ids the
    evict callback receives and in what order, restarts on a gap or a lower seq, agents
    kept apart, lookups of unknown agents and seqs out of range, lowered retention; and what
    the log's collection relies on: the live count, trim, the oldest retained row, relocation. */
#include "evindex.h"
#include "testutil.h"

#include "collab_limits.h"

#include <stdlib.h>

/*  Records every row id the index evicts, in order. */
typedef struct {
    uint64_t rowid[256];
    size_t n;
} evicted_t;

static void on_evict(void *arg, uint64_t rowid)
{
    evicted_t *e = arg;
    if (e->n < sizeof e->rowid / sizeof e->rowid[0])
        e->rowid[e->n] = rowid;
    e->n++;
}

/*  The agent's retained run is exactly seqs first..first+count-1 with row ids
    rowid_of(seq) = seq * mul + add, and nothing on either side. */
static void check_run(const collab_evindex_t *ix, const char *agent, uint64_t first, uint64_t count,
                      uint64_t mul, uint64_t add)
{
    uint64_t f = 99, c = 99;
    collab_evindex_range(ix, agent, &f, &c);
    CHECK_EQ_U64(f, first);
    CHECK_EQ_U64(c, count);
    for (uint64_t s = first; s < first + count; s++)
        CHECK_EQ_U64(collab_evindex_rowid(ix, agent, s), s * mul + add);
    if (first > 0)
        CHECK_EQ_U64(collab_evindex_rowid(ix, agent, first - 1), 0);
    CHECK_EQ_U64(collab_evindex_rowid(ix, agent, first + count), 0);
}

static void test_empty_and_unknown(void)
{
    collab_evindex_t *ix = collab_evindex_new();
    if (!CHECK(ix))
        return;
    uint64_t first = 99, count = 99;
    collab_evindex_range(ix, "nobody", &first, &count);
    CHECK_EQ_U64(first, 0);
    CHECK_EQ_U64(count, 0);
    CHECK_EQ_U64(collab_evindex_rowid(ix, "nobody", 0), 0);
    CHECK_EQ_U64(collab_evindex_rowid(ix, "nobody", 1), 0);
    CHECK_EQ_U64(collab_evindex_rowid(ix, "nobody", UINT64_MAX), 0);

    CHECK_OK(collab_evindex_push(ix, "a", 10, 500, 8, NULL, NULL)); /* NULL evict is allowed */
    check_run(ix, "a", 10, 1, 50, 0);
    CHECK_EQ_U64(collab_evindex_rowid(ix, "a", 0), 0);
    CHECK_EQ_U64(collab_evindex_rowid(ix, "a", UINT64_MAX), 0);
    /* lookups are exact: a prefix or an extension of a known id is another agent */
    collab_evindex_range(ix, "", &first, &count);
    CHECK_EQ_U64(count, 0);
    collab_evindex_range(ix, "ab", &first, &count);
    CHECK_EQ_U64(count, 0);
    CHECK_EQ_U64(collab_evindex_rowid(ix, "ab", 10), 0);

    /* clear forgets every agent; the index is usable afterwards */
    collab_evindex_clear(ix);
    collab_evindex_range(ix, "a", &first, &count);
    CHECK_EQ_U64(first, 0);
    CHECK_EQ_U64(count, 0);
    CHECK_EQ_U64(collab_evindex_rowid(ix, "a", 10), 0);
    CHECK_OK(collab_evindex_push(ix, "a", 3, 7, 8, NULL, NULL));
    CHECK_EQ_U64(collab_evindex_rowid(ix, "a", 3), 7);

    collab_evindex_destroy(&ix);
    CHECK(ix == NULL);
    collab_evindex_destroy(&ix); /* NULL-safe */
    collab_evindex_destroy(NULL);
}

static void test_agent_id_length(void)
{
    collab_evindex_t *ix = collab_evindex_new();
    if (!CHECK(ix))
        return;
    char id[COLLAB_MAX_AGENT_ID + 2];
    memset(id, 'x', COLLAB_MAX_AGENT_ID);
    id[COLLAB_MAX_AGENT_ID] = '\0';
    CHECK_OK(collab_evindex_push(ix, id, 1, 11, 4, NULL, NULL)); /* the longest id fits */
    CHECK_EQ_U64(collab_evindex_rowid(ix, id, 1), 11);
    id[COLLAB_MAX_AGENT_ID] = 'x';
    id[COLLAB_MAX_AGENT_ID + 1] = '\0';
    evicted_t ev = {0};
    CHECK_RC(collab_evindex_push(ix, id, 1, 12, 4, on_evict, &ev), COLLAB_E_NOMEM);
    CHECK_EQ_U64(ev.n, 0);
    uint64_t first = 99, count = 99;
    collab_evindex_range(ix, id, &first, &count);
    CHECK_EQ_U64(count, 0);
    id[COLLAB_MAX_AGENT_ID] = '\0';
    CHECK_EQ_U64(collab_evindex_rowid(ix, id, 1), 11); /* the 64-byte agent is untouched */
    collab_evindex_destroy(&ix);
}

static void test_retain_one(void)
{
    collab_evindex_t *ix = collab_evindex_new();
    if (!CHECK(ix))
        return;
    evicted_t ev = {0};
    CHECK_OK(collab_evindex_push(ix, "a", 1, 100, 1, on_evict, &ev));
    CHECK_EQ_U64(ev.n, 0);
    check_run(ix, "a", 1, 1, 100, 0);
    for (uint64_t seq = 2; seq <= 20; seq++) {
        CHECK_OK(collab_evindex_push(ix, "a", seq, seq * 100, 1, on_evict, &ev));
        CHECK_EQ_U64(ev.n, seq - 1); /* exactly one eviction per push: the previous event */
        CHECK_EQ_U64(ev.rowid[seq - 2], (seq - 1) * 100);
        check_run(ix, "a", seq, 1, 100, 0);
    }
    /* retain 0 means 1 */
    ev.n = 0;
    CHECK_OK(collab_evindex_push(ix, "a", 21, 2100, 0, on_evict, &ev));
    CHECK_EQ_U64(ev.n, 1);
    CHECK_EQ_U64(ev.rowid[0], 2000);
    check_run(ix, "a", 21, 1, 100, 0);
    CHECK_OK(collab_evindex_push(ix, "b", 1, 1, 0, on_evict, &ev));
    CHECK_OK(collab_evindex_push(ix, "b", 2, 2, 0, on_evict, &ev));
    CHECK_EQ_U64(ev.n, 2);
    CHECK_EQ_U64(ev.rowid[1], 1);
    check_run(ix, "b", 2, 1, 1, 0);
    collab_evindex_destroy(&ix);
}

static void test_retain_four(void)
{
    collab_evindex_t *ix = collab_evindex_new();
    if (!CHECK(ix))
        return;
    evicted_t ev = {0};
    /* the first four fill the ring without evicting */
    for (uint64_t seq = 1; seq <= 4; seq++) {
        CHECK_OK(collab_evindex_push(ix, "a", seq, 1000 + seq, 4, on_evict, &ev));
        check_run(ix, "a", 1, seq, 1, 1000);
    }
    CHECK_EQ_U64(ev.n, 0);
    /* then each push evicts exactly the oldest, round and round the ring */
    for (uint64_t seq = 5; seq <= 15; seq++) {
        CHECK_OK(collab_evindex_push(ix, "a", seq, 1000 + seq, 4, on_evict, &ev));
        CHECK_EQ_U64(ev.n, seq - 4);
        check_run(ix, "a", seq - 3, 4, 1, 1000);
    }
    CHECK_EQ_U64(ev.n, 11);
    for (size_t i = 0; i < 11 && i < ev.n; i++)
        CHECK_EQ_U64(ev.rowid[i], 1001 + i);
    collab_evindex_destroy(&ix);
}

/*  Retention above the first capacity: the ring grows while it is wrapped (head not at
    0), and keeps every row id in place. */
static void test_growth_with_wraparound(void)
{
    collab_evindex_t *ix = collab_evindex_new();
    if (!CHECK(ix))
        return;
    evicted_t ev = {0};
    /* retain 6: fill, then wrap round a ring of 6 several times */
    for (uint64_t seq = 1; seq <= 17; seq++)
        CHECK_OK(collab_evindex_push(ix, "a", seq, seq * 3 + 1, 6, on_evict, &ev));
    CHECK_EQ_U64(ev.n, 11);
    for (size_t i = 0; i < 11 && i < ev.n; i++)
        CHECK_EQ_U64(ev.rowid[i], (i + 1) * 3 + 1);
    check_run(ix, "a", 12, 6, 3, 1);

    /* retention raised to 40: the wrapped ring grows (6 -> 12 -> 24 -> 40) with no evictions */
    ev.n = 0;
    for (uint64_t seq = 18; seq <= 51; seq++) {
        CHECK_OK(collab_evindex_push(ix, "a", seq, seq * 3 + 1, 40, on_evict, &ev));
        check_run(ix, "a", 12, seq - 11, 3, 1);
    }
    CHECK_EQ_U64(ev.n, 0);
    check_run(ix, "a", 12, 40, 3, 1);
    /* full at 40: wraps again, evicting the oldest one at a time */
    for (uint64_t seq = 52; seq <= 130; seq++)
        CHECK_OK(collab_evindex_push(ix, "a", seq, seq * 3 + 1, 40, on_evict, &ev));
    CHECK_EQ_U64(ev.n, 79);
    for (size_t i = 0; i < 79 && i < ev.n; i++)
        CHECK_EQ_U64(ev.rowid[i], (12 + i) * 3 + 1);
    check_run(ix, "a", 91, 40, 3, 1);

    /* an agent grown from empty past every doubling: 4, 8, ... 128, then 200 */
    evicted_t ev2 = {0};
    for (uint64_t seq = 1; seq <= 250; seq++)
        CHECK_OK(collab_evindex_push(ix, "big", seq, seq + 7, 200, on_evict, &ev2));
    CHECK_EQ_U64(ev2.n, 50);
    for (size_t i = 0; i < 50 && i < ev2.n; i++)
        CHECK_EQ_U64(ev2.rowid[i], i + 1 + 7);
    check_run(ix, "big", 51, 200, 1, 7);
    collab_evindex_destroy(&ix);
}

static void test_lower_retention(void)
{
    collab_evindex_t *ix = collab_evindex_new();
    if (!CHECK(ix))
        return;
    evicted_t ev = {0};
    /* 10 retained, the ring wrapped (pushed 1..13 with retain 10) */
    for (uint64_t seq = 1; seq <= 13; seq++)
        CHECK_OK(collab_evindex_push(ix, "a", seq, seq * 10, 10, on_evict, &ev));
    CHECK_EQ_U64(ev.n, 3);
    check_run(ix, "a", 4, 10, 10, 0);
    /* retain 3: the push evicts 4..11 at once (8 rows, oldest first), keeps 12, 13, 14 */
    ev.n = 0;
    CHECK_OK(collab_evindex_push(ix, "a", 14, 140, 3, on_evict, &ev));
    CHECK_EQ_U64(ev.n, 8);
    for (size_t i = 0; i < 8 && i < ev.n; i++)
        CHECK_EQ_U64(ev.rowid[i], (4 + i) * 10);
    check_run(ix, "a", 12, 3, 10, 0);
    /* and retain 3 holds from there on */
    ev.n = 0;
    CHECK_OK(collab_evindex_push(ix, "a", 15, 150, 3, on_evict, &ev));
    CHECK_EQ_U64(ev.n, 1);
    CHECK_EQ_U64(ev.rowid[0], 120);
    check_run(ix, "a", 13, 3, 10, 0);
    /* down to 1 at once */
    ev.n = 0;
    CHECK_OK(collab_evindex_push(ix, "a", 16, 160, 1, on_evict, &ev));
    CHECK_EQ_U64(ev.n, 3);
    CHECK_EQ_U64(ev.rowid[0], 130);
    CHECK_EQ_U64(ev.rowid[1], 140);
    CHECK_EQ_U64(ev.rowid[2], 150);
    check_run(ix, "a", 16, 1, 10, 0);
    /* and back up: grows again from a ring of 1 */
    ev.n = 0;
    for (uint64_t seq = 17; seq <= 30; seq++)
        CHECK_OK(collab_evindex_push(ix, "a", seq, seq * 10, 20, on_evict, &ev));
    CHECK_EQ_U64(ev.n, 0);
    check_run(ix, "a", 16, 15, 10, 0);
    collab_evindex_destroy(&ix);
}

static void test_restart(void)
{
    collab_evindex_t *ix = collab_evindex_new();
    if (!CHECK(ix))
        return;
    evicted_t ev = {0};
    for (uint64_t seq = 1; seq <= 5; seq++)
        CHECK_OK(collab_evindex_push(ix, "a", seq, seq, 10, on_evict, &ev));
    CHECK_EQ_U64(ev.n, 0);
    /* a gap (7 after 5): everything before goes, oldest first, and the run starts at 7 */
    CHECK_OK(collab_evindex_push(ix, "a", 7, 70, 10, on_evict, &ev));
    CHECK_EQ_U64(ev.n, 5);
    for (size_t i = 0; i < 5 && i < ev.n; i++)
        CHECK_EQ_U64(ev.rowid[i], i + 1);
    uint64_t first = 0, count = 0;
    collab_evindex_range(ix, "a", &first, &count);
    CHECK_EQ_U64(first, 7);
    CHECK_EQ_U64(count, 1);
    CHECK_EQ_U64(collab_evindex_rowid(ix, "a", 7), 70);
    for (uint64_t s = 1; s <= 6; s++)
        CHECK_EQ_U64(collab_evindex_rowid(ix, "a", s), 0);
    CHECK_OK(collab_evindex_push(ix, "a", 8, 80, 10, on_evict, &ev)); /* follows: kept */
    CHECK_EQ_U64(ev.n, 5);
    collab_evindex_range(ix, "a", &first, &count);
    CHECK_EQ_U64(first, 7);
    CHECK_EQ_U64(count, 2);

    /* a lower seq restarts too */
    ev.n = 0;
    CHECK_OK(collab_evindex_push(ix, "a", 3, 300, 10, on_evict, &ev));
    CHECK_EQ_U64(ev.n, 2);
    CHECK_EQ_U64(ev.rowid[0], 70);
    CHECK_EQ_U64(ev.rowid[1], 80);
    check_run(ix, "a", 3, 1, 100, 0);
    CHECK_EQ_U64(collab_evindex_rowid(ix, "a", 7), 0);
    CHECK_EQ_U64(collab_evindex_rowid(ix, "a", 8), 0);

    /* the same seq again is not "latest + 1": a restart of one */
    ev.n = 0;
    CHECK_OK(collab_evindex_push(ix, "a", 3, 301, 10, on_evict, &ev));
    CHECK_EQ_U64(ev.n, 1);
    CHECK_EQ_U64(ev.rowid[0], 300);
    CHECK_EQ_U64(collab_evindex_rowid(ix, "a", 3), 301);

    /* a restart in a wrapped, grown ring: pushed 4..40 with retain 16, then seq 1 */
    for (uint64_t seq = 4; seq <= 40; seq++)
        CHECK_OK(collab_evindex_push(ix, "a", seq, seq * 100, 16, NULL, NULL));
    check_run(ix, "a", 25, 16, 100, 0);
    ev.n = 0;
    CHECK_OK(collab_evindex_push(ix, "a", 1, 5, 16, on_evict, &ev));
    CHECK_EQ_U64(ev.n, 16);
    for (size_t i = 0; i < 16 && i < ev.n; i++)
        CHECK_EQ_U64(ev.rowid[i], (25 + i) * 100);
    check_run(ix, "a", 1, 1, 0, 5);
    /* and the run grows from there */
    for (uint64_t seq = 2; seq <= 16; seq++)
        CHECK_OK(collab_evindex_push(ix, "a", seq, 5, 16, on_evict, &ev));
    check_run(ix, "a", 1, 16, 0, 5);
    CHECK_EQ_U64(ev.n, 16);
    collab_evindex_destroy(&ix);
}

static void test_agents_independent(void)
{
    collab_evindex_t *ix = collab_evindex_new();
    if (!CHECK(ix))
        return;
    evicted_t ea = {0}, eb = {0}, ec = {0};
    /* interleaved, as the log is: a keeps 3, b keeps 50, c restarts */
    for (uint64_t seq = 1; seq <= 30; seq++) {
        CHECK_OK(collab_evindex_push(ix, "a", seq, 1000 + seq, 3, on_evict, &ea));
        CHECK_OK(collab_evindex_push(ix, "b", 100 + seq, 2000 + seq, 50, on_evict, &eb));
        CHECK_OK(collab_evindex_push(ix, "c", seq % 5 + 1, 3000 + seq, 50, on_evict, &ec));
    }
    check_run(ix, "a", 28, 3, 1, 1000);
    CHECK_EQ_U64(ea.n, 27);
    for (size_t i = 0; i < 27 && i < ea.n; i++)
        CHECK_EQ_U64(ea.rowid[i], 1001 + i); /* a's callback saw only a's rows */
    check_run(ix, "b", 101, 30, 1, 1900);
    CHECK_EQ_U64(eb.n, 0);
    /* c: seq 2,3,4,5,1,2,... - every 1 after 5 restarts the run */
    uint64_t first = 0, count = 0;
    collab_evindex_range(ix, "c", &first, &count);
    CHECK_EQ_U64(first, 1);
    CHECK_EQ_U64(count, 1); /* seq 30 % 5 + 1 == 1 */
    CHECK_EQ_U64(collab_evindex_rowid(ix, "c", 1), 3030);
    CHECK_EQ_U64(ec.n, 29);
    for (size_t i = 0; i < 29 && i < ec.n; i++)
        CHECK_EQ_U64(ec.rowid[i], 3001 + i);
    /* the same seq under another agent is another row */
    CHECK_OK(collab_evindex_push(ix, "d", 28, 9, 3, NULL, NULL));
    CHECK_EQ_U64(collab_evindex_rowid(ix, "a", 28), 1028);
    CHECK_EQ_U64(collab_evindex_rowid(ix, "d", 28), 9);
    /* many agents (the hash grows past its first size) all stay distinct */
    char id[16];
    for (int i = 0; i < 500; i++) {
        snprintf(id, sizeof id, "agent-%d", i);
        CHECK_OK(collab_evindex_push(ix, id, 1, (uint64_t)i + 1, 2, NULL, NULL));
        CHECK_OK(collab_evindex_push(ix, id, 2, (uint64_t)i + 10001, 2, NULL, NULL));
    }
    int bad = 0;
    for (int i = 0; i < 500; i++) {
        snprintf(id, sizeof id, "agent-%d", i);
        collab_evindex_range(ix, id, &first, &count);
        bad += first != 1 || count != 2 || collab_evindex_rowid(ix, id, 1) != (uint64_t)i + 1 ||
               collab_evindex_rowid(ix, id, 2) != (uint64_t)i + 10001;
    }
    CHECK_EQ_INT(bad, 0);
    check_run(ix, "a", 28, 3, 1, 1000);
    collab_evindex_destroy(&ix);
}

/*  collab_evindex_live counts what every ring holds, through pushes, evictions, restarts,
    trims and clear. */
static void test_live(void)
{
    collab_evindex_t *ix = collab_evindex_new();
    if (!CHECK(ix))
        return;
    CHECK_EQ_U64(collab_evindex_live(ix), 0);
    for (uint64_t seq = 1; seq <= 10; seq++)
        CHECK_OK(collab_evindex_push(ix, "a", seq, seq, 4, NULL, NULL));
    CHECK_EQ_U64(collab_evindex_live(ix), 4);
    for (uint64_t seq = 1; seq <= 3; seq++)
        CHECK_OK(collab_evindex_push(ix, "b", seq, 100 + seq, 50, NULL, NULL));
    CHECK_EQ_U64(collab_evindex_live(ix), 7);
    CHECK_OK(collab_evindex_push(ix, "b", 9, 200, 50, NULL, NULL)); /* restart: 3 out, 1 in */
    CHECK_EQ_U64(collab_evindex_live(ix), 5);
    CHECK_OK(collab_evindex_push(ix, "a", 11, 11, 2, NULL, NULL)); /* lowered: 3 out, 1 in */
    CHECK_EQ_U64(collab_evindex_live(ix), 3);
    collab_evindex_trim(ix, 1, NULL, NULL);
    CHECK_EQ_U64(collab_evindex_live(ix), 2);
    char too_long[COLLAB_MAX_AGENT_ID + 2];
    memset(too_long, 'x', sizeof too_long - 1);
    too_long[sizeof too_long - 1] = '\0';
    CHECK_RC(collab_evindex_push(ix, too_long, 1, 1, 4, NULL, NULL), COLLAB_E_NOMEM);
    CHECK_EQ_U64(collab_evindex_live(ix), 2); /* a refused push counts nothing */
    collab_evindex_clear(ix);
    CHECK_EQ_U64(collab_evindex_live(ix), 0);
    CHECK_OK(collab_evindex_push(ix, "a", 1, 1, 4, NULL, NULL));
    CHECK_EQ_U64(collab_evindex_live(ix), 1);
    collab_evindex_destroy(&ix);
}

static void test_trim(void)
{
    collab_evindex_t *ix = collab_evindex_new();
    if (!CHECK(ix))
        return;
    /* a: 1..20 retained and wrapped (pushed 1..25 with retain 20); b: 3 events; c: 1 */
    for (uint64_t seq = 1; seq <= 25; seq++)
        CHECK_OK(collab_evindex_push(ix, "a", seq, seq * 10, 20, NULL, NULL));
    for (uint64_t seq = 1; seq <= 3; seq++)
        CHECK_OK(collab_evindex_push(ix, "b", seq, 1000 + seq, 20, NULL, NULL));
    CHECK_OK(collab_evindex_push(ix, "c", 7, 5000, 20, NULL, NULL));
    check_run(ix, "a", 6, 20, 10, 0);

    /* trimming to 5: a loses its oldest 15 (in order), b and c are under it already */
    evicted_t ev = {0};
    collab_evindex_trim(ix, 5, on_evict, &ev);
    CHECK_EQ_U64(ev.n, 15);
    for (size_t i = 0; i < 15 && i < ev.n; i++)
        CHECK_EQ_U64(ev.rowid[i], (6 + i) * 10);
    check_run(ix, "a", 21, 5, 10, 0);
    check_run(ix, "b", 1, 3, 1, 1000);
    check_run(ix, "c", 7, 1, 0, 5000);
    CHECK_EQ_U64(collab_evindex_live(ix), 9);

    /* the runs go on from where they were */
    CHECK_OK(collab_evindex_push(ix, "a", 26, 260, 5, NULL, NULL));
    check_run(ix, "a", 22, 5, 10, 0);

    /* trim 0 means 1; every agent's evictions are its own, oldest first */
    ev.n = 0;
    collab_evindex_trim(ix, 0, on_evict, &ev);
    CHECK_EQ_U64(ev.n, 6); /* a: 4, b: 2, c: none */
    size_t from_a = 0, from_b = 0;
    for (size_t i = 0; i < ev.n && i < 6; i++) {
        if (ev.rowid[i] >= 220 && ev.rowid[i] <= 250 && ev.rowid[i] == 220 + from_a * 10)
            from_a++;
        else if (ev.rowid[i] == 1001 + from_b)
            from_b++;
    }
    CHECK_EQ_U64(from_a, 4);
    CHECK_EQ_U64(from_b, 2);
    check_run(ix, "a", 26, 1, 10, 0);
    check_run(ix, "b", 3, 1, 1, 1000);
    check_run(ix, "c", 7, 1, 0, 5000);
    CHECK_EQ_U64(collab_evindex_live(ix), 3);

    /* trimming an empty index, or above every run, does nothing */
    ev.n = 0;
    collab_evindex_trim(ix, 100, on_evict, &ev);
    CHECK_EQ_U64(ev.n, 0);
    collab_evindex_clear(ix);
    collab_evindex_trim(ix, 1, on_evict, &ev);
    CHECK_EQ_U64(ev.n, 0);
    collab_evindex_destroy(&ix);
}

static void test_oldest(void)
{
    collab_evindex_t *ix = collab_evindex_new();
    if (!CHECK(ix))
        return;
    const char *who = "unset";
    CHECK_EQ_U64(collab_evindex_oldest(ix, &who), 0);
    CHECK(who == NULL);

    /* interleaved as in the log: a gets rows 1, 4, 7..., b 2, 5, 8..., c 3, 6, 9... */
    uint64_t row = 1;
    for (uint64_t seq = 1; seq <= 10; seq++) {
        CHECK_OK(collab_evindex_push(ix, "a", seq, row++, 3, NULL, NULL));
        CHECK_OK(collab_evindex_push(ix, "b", seq, row++, 5, NULL, NULL));
        CHECK_OK(collab_evindex_push(ix, "c", seq, row++, 2, NULL, NULL));
    }
    /* a keeps 8..10 (rows 22, 25, 28), b 6..10 (rows 17...), c 9..10 (rows 27, 30) */
    CHECK_EQ_U64(collab_evindex_oldest(ix, &who), 17);
    CHECK(who && strcmp(who, "b") == 0);
    /* b's oldest go: a holds the oldest row now */
    collab_evindex_trim(ix, 2, NULL, NULL);
    CHECK_EQ_U64(collab_evindex_oldest(ix, &who), 25); /* a: 9, 10 at rows 25, 28 */
    CHECK(who && strcmp(who, "a") == 0);
    /* a restart moves a's run to new rows: b's head (row 26) is the oldest */
    CHECK_OK(collab_evindex_push(ix, "a", 1, 31, 2, NULL, NULL));
    CHECK_EQ_U64(collab_evindex_oldest(ix, &who), 26);
    CHECK(who && strcmp(who, "b") == 0);
    collab_evindex_clear(ix);
    who = "unset";
    CHECK_EQ_U64(collab_evindex_oldest(ix, &who), 0);
    CHECK(who == NULL);
    collab_evindex_destroy(&ix);
}

typedef struct {
    uint64_t next;     /* the row id the next moved event gets */
    uint64_t from[64]; /* row ids moved, in the order asked */
    size_t n;
} mover_t;

static uint64_t move_to_end(void *arg, uint64_t rowid)
{
    mover_t *m = arg;
    if (m->n < 64)
        m->from[m->n] = rowid;
    m->n++;
    return m->next++;
}

static void test_relocate(void)
{
    collab_evindex_t *ix = collab_evindex_new();
    if (!CHECK(ix))
        return;
    /* a: seqs 3..8 at rows 30..80 in a wrapped ring (pushed 1..8 with retain 6) */
    for (uint64_t seq = 1; seq <= 8; seq++)
        CHECK_OK(collab_evindex_push(ix, "a", seq, seq * 10, 6, NULL, NULL));
    CHECK_OK(collab_evindex_push(ix, "b", 1, 5, 6, NULL, NULL));
    mover_t m = {.next = 1000};
    collab_evindex_relocate(ix, "a", move_to_end, &m);
    CHECK_EQ_U64(m.n, 6); /* every retained event, oldest first */
    for (size_t i = 0; i < 6 && i < m.n; i++)
        CHECK_EQ_U64(m.from[i], (3 + i) * 10);
    check_run(ix, "a", 3, 6, 1, 997); /* seq s now at row 1000 + s - 3 */
    check_run(ix, "b", 1, 1, 0, 5);   /* another agent is not touched */
    CHECK_EQ_U64(collab_evindex_live(ix), 7);
    const char *who = NULL;
    CHECK_EQ_U64(collab_evindex_oldest(ix, &who), 5);
    CHECK(who && strcmp(who, "b") == 0);

    /* the run goes on after the move, and evicts the moved rows */
    evicted_t ev = {0};
    CHECK_OK(collab_evindex_push(ix, "a", 9, 2000, 6, on_evict, &ev));
    CHECK_EQ_U64(ev.n, 1);
    CHECK_EQ_U64(ev.rowid[0], 1000);
    CHECK_EQ_U64(collab_evindex_rowid(ix, "a", 9), 2000);

    /* unknown agent: nothing is moved */
    m.n = 0;
    collab_evindex_relocate(ix, "nobody", move_to_end, &m);
    CHECK_EQ_U64(m.n, 0);
    collab_evindex_destroy(&ix);
}

int main(void)
{
    TU_RUN(test_empty_and_unknown);
    TU_RUN(test_agent_id_length);
    TU_RUN(test_retain_one);
    TU_RUN(test_retain_four);
    TU_RUN(test_growth_with_wraparound);
    TU_RUN(test_lower_retention);
    TU_RUN(test_restart);
    TU_RUN(test_agents_independent);
    TU_RUN(test_live);
    TU_RUN(test_trim);
    TU_RUN(test_oldest);
    TU_RUN(test_relocate);
    return tu_exit("test_evindex");
}
