/*  test_store_redis_two.c: two brokers' stores (nodes n1 and n2) on one redis-server and
    one prefix, each with its writer and tail threads: what one commits the other's
    take_applied hands over (records, deletions, numbered events, in log order, once); two
    changes of one task from the same revision: exactly one wins, the other comes back from
    take_refused with the winner's record; a broker's own two pipelined changes of one
    record both win (the run rule); an own entry older than a change still uncommitted does
    not reach the tables; a later batch built on a refused change set is refused too, and
    so is a chain of them, merged into one script call or not; a
    broadcast reaches the followers of all that Redis knows, whichever node they subscribed
    on. */
#include "store_redis_test.h"

static collab_store_t *a, *b;
static seen_t *sa, *sb;
static uint64_t ra[8], rb[8];
static size_t nra, nrb;

static bool setup(void)
{
    new_prefix();
    a = open_ok("n1");
    b = open_ok("n2");
    sa = calloc(1, sizeof *sa);
    sb = calloc(1, sizeof *sb);
    nra = nrb = 0;
    if (!a || !b || !sa || !sb)
        return false;
    CHECK_OK(collab_store_load(b, &seen_loader, sb));
    CHECK_OK(collab_store_start_writer(a));
    CHECK_OK(collab_store_start_writer(b));
    return true;
}

static void teardown(void)
{
    if (tu_failures) {
        dump("n1", sa);
        dump("n2", sb);
    }
    collab_store_destroy(&a);
    collab_store_destroy(&b);
    free(sa);
    free(sb);
}

static bool none_pending(const seen_t *s, const void *st)
{
    (void)s;
    return collab_store_pending(st) == 0;
}

/*  Takes until every batch of st is committed, and what came with them. */
static bool settle(collab_store_t *st, seen_t *s, uint64_t *refused, size_t *n)
{
    return take_until(st, s, refused, n, none_pending, st) && take_all(st, s, refused, n) == 0;
}

static int count_lines(const seen_t *s, const char *want)
{
    int n = 0;
    for (size_t i = 0; i < s->n; i++)
        n += strcmp(s->line[i], want) == 0;
    return n;
}

static void put_task(collab_store_t *st, uint64_t cs, uint64_t id, collab_task_status_t status)
{
    char title[] = "x";
    collab_task_t t;
    mk_task(&t, id, 1, status, title);
    collab_store_set_changeset(st, cs);
    CHECK_OK(collab_store_put_task(st, &t));
}

/*  Task id, created by n1 (change set 1) and seen by n2: both hold revision 1. */
static void created(uint64_t id)
{
    put_task(a, 1, id, COLLAB_TASK_ASSIGNED);
    CHECK_OK(collab_store_submit(a));
    CHECK(settle(a, sa, ra, &nra));
    char line[64];
    snprintf(line, sizeof line, "t:%" PRIu64 " status 0 title x", id);
    CHECK(take_until(b, sb, rb, &nrb, has_line, line));
}

/*  Waits until batch n of st is committed, without taking anything. */
static bool wait_committed(collab_store_t *st, uint64_t n)
{
    int64_t end = collab_mono_ms() + 5000;
    uint64_t committed = 0;
    while (collab_store_committed(st, &committed) == 0 && committed < n) {
        struct pollfd p = {.fd = collab_store_fd(st), .events = POLLIN};
        if (collab_mono_ms() > end)
            return false;
        poll(&p, 1, 100);
    }
    return committed >= n;
}

/*  n1's records, deletions and events reach n2 in log order, each once, with Redis's
    numbers; n2 submits nothing (its tail brings them). */
static void test_applied(void)
{
    if (!setup())
        goto out;
    collab_project_t p;
    collab_task_t t;
    collab_event_t ev;
    mk_project(&p, 3, "alpha");
    mk_task(&t, 5, 3, COLLAB_TASK_ASSIGNED, "review");
    mk_event(&ev, "w1", "task_assigned");
    collab_store_set_changeset(a, 1);
    CHECK_OK(collab_store_put_project(a, &p));
    CHECK_OK(collab_store_put_task(a, &t));
    CHECK_OK(collab_store_put_event(a, &ev, 100));
    CHECK_OK(collab_store_submit(a));
    mk_event(&ev, "w1", "project_deleted");
    collab_store_set_changeset(a, 2);
    CHECK_OK(collab_store_delete_project(a, 3));
    CHECK_OK(collab_store_put_event(a, &ev, 100));
    CHECK_OK(collab_store_submit(a));
    CHECK(settle(a, sa, ra, &nra));
    CHECK(take_until(b, sb, rb, &nrb, has_line, "ev w1 2 project_deleted"));
    int p3 = find_line(sb, 0, "p:3 alpha"), t5 = find_line(sb, 0, "t:5 status 0 title review"),
        e1 = find_line(sb, 0, "ev w1 1 task_assigned"), gone = find_line(sb, 0, "gone p:3"),
        e2 = find_line(sb, 0, "ev w1 2 project_deleted");
    CHECK(p3 >= 0 && p3 < t5 && t5 < e1 && e1 < gone && gone < e2);
    CHECK_EQ_INT(sb->n, 5); /* none twice */
    /* n1's own entries come back to it too: the events with their numbers */
    CHECK(find_line(sa, 0, "ev w1 1 task_assigned") >= 0);
    CHECK_EQ_INT(count_lines(sa, "ev w1 2 project_deleted"), 1);
    CHECK_EQ_INT(nra + nrb, 0);
out:
    teardown();
}

/*  Both change task 5 from revision 1: exactly one wins; the other's change set comes out of
    take_refused with the winner's record, and the winner's change reaches both. */
static void test_conflict(void)
{
    if (!setup())
        goto out;
    created(5);
    put_task(a, 10, 5, COLLAB_TASK_IN_PROGRESS);
    put_task(b, 20, 5, COLLAB_TASK_FAILED);
    CHECK_OK(collab_store_submit(a));
    CHECK_OK(collab_store_submit(b));
    CHECK(settle(a, sa, ra, &nra));
    CHECK(settle(b, sb, rb, &nrb));
    CHECK_EQ_INT(nra + nrb, 1);
    if (nra == 1) { /* n2 won */
        CHECK_EQ_U64(ra[0], 10);
        CHECK(find_line(sa, 0, "restore t:5 status 3 title x") >= 0);
    } else if (nrb == 1) {
        CHECK_EQ_U64(rb[0], 20);
        CHECK(find_line(sb, 0, "restore t:5 status 1 title x") >= 0);
    }
out:
    teardown();
}

/*  n1 changes task 7 in two pipelined batches before its first entry comes back: both win
    (every write since the revision read was n1's own). And the first entry, applied while
    the second change waits uncommitted, does not take the tables back in time. */
static void test_run_rule(void)
{
    if (!setup())
        goto out;
    created(7);
    put_task(a, 2, 7, COLLAB_TASK_IN_PROGRESS);
    CHECK_OK(collab_store_submit(a));
    put_task(a, 3, 7, COLLAB_TASK_COMPLETED);
    CHECK_OK(collab_store_submit(a));
    CHECK(settle(a, sa, ra, &nra));
    CHECK_EQ_INT(nra, 0);
    CHECK(take_until(b, sb, rb, &nrb, has_line, "t:7 status 2 title x"));
    /* the next change: batch 4 committed, batch 5 recorded, then its entry is taken */
    size_t before = sa->n;
    put_task(a, 4, 7, COLLAB_TASK_FAILED);
    CHECK_OK(collab_store_submit(a));
    CHECK(wait_committed(a, 4));
    put_task(a, 5, 7, COLLAB_TASK_CANCELLED);
    CHECK_OK(take_all(a, sa, ra, &nra));
    CHECK(find_line(sa, before, "t:7 status 3 title x") < 0); /* older than the tables */
    CHECK_OK(collab_store_submit(a));
    CHECK(settle(a, sa, ra, &nra));
    CHECK_EQ_INT(nra, 0);
    CHECK(take_until(b, sb, rb, &nrb, has_line, "t:7 status 4 title x"));
out:
    teardown();
}

/*  n2's change set 30 (tasks 11 and 12) loses on task 12; its change set 31 (task 11 only),
    submitted before n2 learnt it, was built on 30 and is refused too, although task 11
    never moved. Once restored, n2's next change of task 11 wins. */
static void test_poison(void)
{
    if (!setup())
        goto out;
    created(11);
    created(12);
    put_task(a, 2, 12, COLLAB_TASK_IN_PROGRESS); /* n2 has not seen this one */
    CHECK_OK(collab_store_submit(a));
    CHECK(settle(a, sa, ra, &nra));
    collab_store_t *keep = b;
    put_task(b, 30, 11, COLLAB_TASK_IN_PROGRESS);
    put_task(b, 30, 12, COLLAB_TASK_FAILED);
    CHECK_OK(collab_store_submit(b));
    put_task(b, 31, 11, COLLAB_TASK_COMPLETED);
    CHECK_OK(collab_store_submit(b));
    CHECK(settle(b, sb, rb, &nrb));
    CHECK_EQ_INT(nrb, 2);
    CHECK_EQ_U64(rb[0], 30);
    CHECK_EQ_U64(rb[1], 31);
    CHECK(find_line(sb, 0, "restore t:12 status 1 title x") >= 0);
    CHECK(find_line(sb, 0, "restore t:11 status 0 title x") >= 0);
    put_task(keep, 32, 11, COLLAB_TASK_FAILED);
    CHECK_OK(collab_store_submit(keep));
    CHECK(settle(b, sb, rb, &nrb));
    CHECK_EQ_INT(nrb, 2);
    CHECK(take_until(a, sa, ra, &nra, has_line, "t:11 status 3 title x"));
out:
    teardown();
}

/*  A chain built on a refused change set is refused, however the writer groups the batches
    (one script call for batches that waited behind the one in flight): n2's set 40 (tasks
    21, 22) loses on 22; 41 (22, 23) was built on it; 42 (task 23 only) was built on 41,
    although neither 23 nor 21 moved in Redis. All three come back refused, in order, and
    Redis still holds 23 at its first revision. */
static void test_poison_chain(void)
{
    if (!setup())
        goto out;
    created(21);
    created(22);
    created(23);
    put_task(a, 2, 22, COLLAB_TASK_IN_PROGRESS); /* n2 has not seen this one */
    CHECK_OK(collab_store_submit(a));
    CHECK(settle(a, sa, ra, &nra));
    put_task(b, 40, 21, COLLAB_TASK_IN_PROGRESS);
    put_task(b, 40, 22, COLLAB_TASK_FAILED);
    CHECK_OK(collab_store_submit(b));
    put_task(b, 41, 22, COLLAB_TASK_COMPLETED);
    put_task(b, 41, 23, COLLAB_TASK_IN_PROGRESS);
    CHECK_OK(collab_store_submit(b));
    put_task(b, 42, 23, COLLAB_TASK_COMPLETED);
    CHECK_OK(collab_store_submit(b));
    CHECK(settle(b, sb, rb, &nrb));
    CHECK_EQ_INT(nrb, 3);
    CHECK_EQ_U64(rb[0], 40);
    CHECK_EQ_U64(rb[1], 41);
    CHECK_EQ_U64(rb[2], 42);
    redisReply *r = raw("HGET %s rev", "t:23");
    CHECK(r && r->type == REDIS_REPLY_STRING && strcmp(r->str, "1") == 0);
    if (r)
        freeReplyObject(r);
    CHECK(find_line(sb, 0, "restore t:23 status 0 title x") >= 0);
out:
    teardown();
}

/*  A session of agent, subscribed with all or not, put by st in change set cs. */
static void put_follower(collab_store_t *st, uint64_t cs, const char *token, const char *agent,
                         bool all)
{
    collab_session_t s;
    mk_session(&s, token, agent);
    s.subscribed_all = all;
    collab_store_set_changeset(st, cs);
    CHECK_OK(collab_store_put_session(st, &s));
}

/*  n1 creates a project in change set cs of its open batch: the event to its owner coord by
    a change of its own, and to every follower of all but coord. */
static void broadcast_in(uint64_t cs)
{
    collab_event_t ev;
    const char *except[] = {"coord"};
    mk_event(&ev, "coord", "project_created");
    collab_store_set_changeset(a, cs);
    CHECK_OK(collab_store_put_event(a, &ev, 100));
    CHECK_OK(collab_store_put_broadcast(a, &ev, except, 1, 100));
}

/*  The same, committed and taken. */
static void broadcast(uint64_t cs)
{
    broadcast_in(cs);
    CHECK_OK(collab_store_submit(a));
    CHECK(settle(a, sa, ra, &nra));
}

static int hexists_follower(const char *token)
{
    char cmd[96];
    snprintf(cmd, sizeof cmd, "HEXISTS %%s %s", token);
    redisReply *r = raw(cmd, "F");
    int v = r && r->type == REDIS_REPLY_INTEGER ? (int)r->integer : -1;
    if (r)
        freeReplyObject(r);
    return v;
}

/*  A broadcast's recipients are decided by the commit script, from the sessions that follow
    all in Redis: viewer subscribed with all through n2 only, and n1's broadcast, which knows
    no follower, is numbered for viewer once (two sessions), for coord once (listed apart),
    never for w1 (subscribed, not to all); both nodes take it. A session deleted, or put
    again without all, follows no more; one that Redis let expire is dropped by the next
    broadcast. */
static void test_broadcast(void)
{
    if (!setup())
        goto out;
    put_follower(b, 1, "sv1", "viewer", true);
    put_follower(b, 1, "sv2", "viewer", true);
    put_follower(b, 1, "sc", "coord", true);
    put_follower(b, 1, "sw", "w1", false);
    CHECK_OK(collab_store_submit(b));
    CHECK(settle(b, sb, rb, &nrb));
    broadcast(1);
    CHECK_EQ_INT(count_lines(sa, "ev viewer 1 project_created"), 1);
    CHECK_EQ_INT(count_lines(sa, "ev coord 1 project_created"), 1);
    CHECK(find_line(sa, 0, "ev w1 1 project_created") < 0);
    CHECK(find_line(sa, 0, "ev coord 2 project_created") < 0);
    CHECK(take_until(b, sb, rb, &nrb, has_line, "ev viewer 1 project_created"));

    collab_store_set_changeset(b, 2);
    CHECK_OK(collab_store_delete_session(b, "sv1"));
    CHECK_OK(collab_store_submit(b));
    CHECK(settle(b, sb, rb, &nrb));
    CHECK_EQ_INT(hexists_follower("sv1"), 0);
    broadcast(2);
    CHECK_EQ_INT(count_lines(sa, "ev viewer 2 project_created"), 1); /* sv2 still follows */

    put_follower(b, 3, "sv2", "viewer", false); /* subscribe with all=false */
    put_follower(b, 3, "sg", "ghost", true);
    CHECK_OK(collab_store_submit(b));
    CHECK(settle(b, sb, rb, &nrb));
    CHECK_EQ_INT(hexists_follower("sg"), 1);
    redisReply *r = raw("DEL %s", "s:sg"); /* as when its TTL runs out, no broker ending it */
    CHECK(r && r->type == REDIS_REPLY_INTEGER && r->integer == 1);
    if (r)
        freeReplyObject(r);
    broadcast(3);
    CHECK(find_line(sa, 0, "ev viewer 3 project_created") < 0);
    CHECK(find_line(sa, 0, "ev ghost 1 project_created") < 0);
    CHECK_EQ_INT(hexists_follower("sg"), 0);
    CHECK_EQ_INT(count_lines(sa, "ev coord 3 project_created"), 1);

    /* one batch: a broadcast, then viewer follows again, then a broadcast: only the second
       is viewer's (the script reads the followers again after a session is written) */
    broadcast_in(10);
    put_follower(a, 11, "sv3", "viewer", true);
    broadcast_in(12);
    CHECK_OK(collab_store_submit(a));
    CHECK(settle(a, sa, ra, &nra));
    CHECK_EQ_INT(count_lines(sa, "ev viewer 3 project_created"), 1);
    CHECK(find_line(sa, 0, "ev viewer 4 project_created") < 0);
    CHECK_EQ_INT(count_lines(sa, "ev coord 5 project_created"), 1);
    CHECK_EQ_INT(nra + nrb, 0);
out:
    teardown();
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    fx = redisproc_start(NULL);
    if (!CHECK(fx != NULL))
        return tu_exit("test_store_redis_two");
    TU_RUN(test_applied);
    TU_RUN(test_conflict);
    TU_RUN(test_run_rule);
    TU_RUN(test_poison);
    TU_RUN(test_poison_chain);
    TU_RUN(test_broadcast);
    redisproc_stop(&fx);
    return tu_exit("test_store_redis_two");
}
