/*  test_store_redis_outage: the Redis store's outages (broker/store_redis_outage.c) on a real
    redis-server, one store at a time, below the broker:
    - frozen (SIGSTOP) with a batch in flight: the store goes down within the command
      timeout, the batch is reported lost with its change sets, what is submitted meanwhile
      is dropped, the loop's reads refuse at once; thawed, it reconnects by itself and the
      recovery reloads (a batch was lost), then commits again;
    - killed (-9) while idle: the tail sees it; restarted, the recovery is clean (nothing
      lost, the log still holds the last entry applied), and the log goes on from there;
    - the node's key expired (a process stopped longer than its lifetime): taken again, no
      failure; the key taken by another broker: fatal (COLLAB_E_IO);
    - a batch lost in an outage that Redis runs only after the recovery (its EVALSHA was
      still on the wire): the node's next change that did not see it is refused, not
      written over it by the node's run rule. */
#include "store_redis_test.h"

#define TIMEOUT_MS 300

static collab_store_t *open_fast(const char *node)
{
    char err[512] = "";
    collab_store_redis_opts_t o = {.address = redisproc_url(fx),
                                   .node = node,
                                   .prefix = prefix,
                                   .command_timeout_ms = TIMEOUT_MS,
                                   .node_ttl_ms = 600}; /* refreshed every 200 ms */
    collab_store_t *st = collab_store_open_redis(&o, err, sizeof err);
    if (!st)
        tu_fail(__FILE__, __LINE__, "open %s: %s", node, err);
    return st;
}

static void put_task(collab_store_t *st, uint64_t cs, uint64_t id, char *title)
{
    collab_task_t t;
    mk_task(&t, id, 1, COLLAB_TASK_ASSIGNED, title);
    collab_store_set_changeset(st, cs);
    CHECK_OK(collab_store_put_task(st, &t));
    collab_store_set_changeset(st, 0);
}

/*  Polls the descriptor until the store's outage says want (down, settled / ready), within
    ms; the applied entries are taken meanwhile. Returns the ms it took, or -1. */
static int64_t wait_outage(collab_store_t *st, seen_t *s, bool settled, bool ready, int ms)
{
    int64_t t0 = collab_mono_ms(), end = t0 + ms;
    for (;;) {
        uint64_t committed;
        collab_store_outage_t o;
        collab_store_committed(st, &committed);
        collab_store_take_applied(st, &seen_applier, s);
        if (collab_store_outage(st, &o) == COLLAB_E_UNAVAILABLE && (!settled || o.settled) &&
            (!ready || o.ready))
            return collab_mono_ms() - t0;
        int64_t left = end - collab_mono_ms();
        if (left <= 0)
            return -1;
        struct pollfd p = {.fd = collab_store_fd(st), .events = POLLIN};
        poll(&p, 1, (int)(left < 50 ? left : 50));
    }
}

/*  Commits one batch and waits (descriptor, deadline) until it is reported committed. */
static bool commit_one(collab_store_t *st, seen_t *s, uint64_t cs, uint64_t id, char *title)
{
    put_task(st, cs, id, title);
    uint64_t want = collab_store_pending(st), committed = 0;
    if (collab_store_submit(st) != 0)
        return false;
    int64_t end = collab_mono_ms() + 5000;
    while (collab_mono_ms() < end) {
        if (collab_store_committed(st, &committed) != 0)
            return false;
        collab_store_take_applied(st, &seen_applier, s);
        if (committed >= want)
            return true;
        struct pollfd p = {.fd = collab_store_fd(st), .events = POLLIN};
        poll(&p, 1, 50);
    }
    return false;
}

static void test_frozen_in_flight(void)
{
    new_prefix();
    seen_t *s = calloc(1, sizeof *s), *re = calloc(1, sizeof *re);
    collab_store_t *st = open_fast("n1");
    if (!st || !s || !re)
        goto out;
    CHECK_OK(collab_store_start_writer(st));
    CHECK(commit_one(st, s, 1, 1, "before"));
    CHECK(collab_store_available(st));
    CHECK_OK(redisproc_freeze(fx));
    put_task(st, 7, 2, "in flight");
    put_task(st, 8, 3, "in flight too");
    CHECK_OK(collab_store_submit(st)); /* handed to the writer: EVALSHA meets the freeze */
    int64_t took = wait_outage(st, s, true, false, 5000);
    fprintf(stderr, "  down and settled %lld ms after the submit (timeout %d)\n", (long long)took,
            TIMEOUT_MS);
    CHECK(took >= 0 && took <= TIMEOUT_MS + 250);
    collab_store_outage_t o;
    CHECK_RC(collab_store_outage(st, &o), COLLAB_E_UNAVAILABLE);
    CHECK(!collab_store_available(st)); /* the loop has seen it */
    CHECK_EQ_U64(o.nlost, 2);
    CHECK(o.nlost == 2 &&
          ((o.lost[0] == 7 && o.lost[1] == 8) || (o.lost[0] == 8 && o.lost[1] == 7)));
    CHECK(o.why[0] != '\0');
    CHECK(o.retry_after_ms >= 50);
    CHECK_EQ_U64(collab_store_pending(st), 0); /* what is made now leaves at once */
    /* meanwhile: writes dropped, a submit refused, reads refused at once */
    put_task(st, 9, 4, "during");
    CHECK(!collab_store_in_batch(st));
    uint64_t first = 0;
    int64_t t0 = collab_mono_ms();
    CHECK_RC(collab_store_reserve_ids(st, COLLAB_ID_PROJECT, 8, &first), COLLAB_E_UNAVAILABLE);
    CHECK_RC(collab_store_find_session(st, "tok-x", &seen_loader, s), COLLAB_E_UNAVAILABLE);
    CHECK(collab_mono_ms() - t0 < 50);
    bool reloaded = true;
    CHECK_RC(collab_store_recover(st, &seen_loader, re, &reloaded), COLLAB_E_UNAVAILABLE);
    /* it keeps trying, and says why each attempt failed (each waits out the timeout) */
    int64_t end = collab_mono_ms() + 5000;
    while (collab_store_outage(st, &o) == COLLAB_E_UNAVAILABLE && o.attempts == 0 &&
           collab_mono_ms() < end) {
        struct pollfd p = {.fd = collab_store_fd(st), .events = POLLIN};
        poll(&p, 1, 50);
    }
    CHECK(o.attempts >= 1 && o.attempt_why[0] != '\0');
    fprintf(stderr, "  attempt %llu failed: %s\n", (unsigned long long)o.attempts, o.attempt_why);
    CHECK_OK(redisproc_thaw(fx));
    CHECK(wait_outage(st, s, true, true, 10000) >= 0); /* it reconnected by itself */
    CHECK_OK(collab_store_recover(st, &seen_loader, re, &reloaded));
    CHECK(reloaded); /* a batch was lost: the tables may hold what Redis does not */
    CHECK(find_line(re, 0, "t:1 status 0 title before") >= 0);
    CHECK(find_line(re, 0, "t:4 status 0 title during") < 0); /* dropped: never written */
    CHECK(collab_store_available(st));
    CHECK_RC(collab_store_outage(st, &o), 0);
    CHECK(commit_one(st, s, 10, 5, "after"));
    CHECK_OK(collab_store_reserve_ids(st, COLLAB_ID_PROJECT, 8, &first));
out:
    collab_store_destroy(&st);
    free(s);
    free(re);
}

static void test_killed_idle(void)
{
    new_prefix();
    seen_t *s = calloc(1, sizeof *s), *re = calloc(1, sizeof *re);
    collab_store_t *st = open_fast("n1");
    if (!st || !s || !re)
        goto out;
    CHECK_OK(collab_store_start_writer(st));
    CHECK(commit_one(st, s, 1, 1, "before"));
    CHECK_OK(redisproc_kill9(fx));
    CHECK(wait_outage(st, s, true, false, 5000) >= 0); /* the tail's next call fails */
    collab_store_outage_t o;
    CHECK_RC(collab_store_outage(st, &o), COLLAB_E_UNAVAILABLE);
    CHECK_EQ_U64(o.nlost, 0);
    CHECK_OK(redisproc_restart(fx));
    CHECK(wait_outage(st, s, true, true, 10000) >= 0);
    bool reloaded = true;
    CHECK_OK(collab_store_recover(st, &seen_loader, re, &reloaded));
    CHECK(!reloaded); /* nothing lost, the log holds the last entry: it goes on from there */
    CHECK_EQ_U64(re->n, 0);
    CHECK(commit_one(st, s, 2, 2, "after"));
    CHECK(find_line(s, 0, "t:2 status 0 title after") >= 0);
out:
    collab_store_destroy(&st);
    free(s);
    free(re);
}

/*  After a recovery, Redis runs a batch the node had lost (late, from the old connection):
    emulated by writing the task as that batch's commit script would have (the node's run
    before the recovery, "n1#0", one revision on, not in the log). The node's tables still
    hold the revision before it; their next change of the task must be refused and the
    record restored from Redis. Before runs were per recovery, it passed as the node's own
    run and overwrote the lost batch's write. */
static void test_lost_batch_run_late(void)
{
    new_prefix();
    seen_t *s = calloc(1, sizeof *s), *re = calloc(1, sizeof *re);
    collab_store_t *st = open_fast("n1");
    if (!st || !s || !re)
        goto out;
    CHECK_OK(collab_store_start_writer(st));
    CHECK(commit_one(st, s, 1, 1, "before"));
    redisReply *r = raw("HGET %s rn", "t:1");
    CHECK(r && r->type == REDIS_REPLY_STRING && strcmp(r->str, "n1#0") == 0);
    if (r)
        freeReplyObject(r);
    CHECK_OK(redisproc_kill9(fx));
    CHECK(wait_outage(st, s, true, false, 5000) >= 0);
    CHECK_OK(redisproc_restart(fx));
    CHECK(wait_outage(st, s, true, true, 10000) >= 0);
    bool reloaded = true;
    CHECK_OK(collab_store_recover(st, &seen_loader, re, &reloaded));
    CHECK(!reloaded);
    r = raw("HSET %s rev 2 rn n1#0 rb 0", "t:1"); /* the lost batch, run late */
    CHECK(r && r->type == REDIS_REPLY_INTEGER);
    if (r)
        freeReplyObject(r);
    uint64_t refused[8];
    size_t nrefused = 0;
    put_task(st, 2, 1, "after");
    CHECK_OK(collab_store_submit(st));
    int64_t end = collab_mono_ms() + 5000;
    while (nrefused == 0 && collab_mono_ms() < end) {
        struct pollfd p = {.fd = collab_store_fd(st), .events = POLLIN};
        poll(&p, 1, 50);
        CHECK_OK(take_all(st, s, refused, &nrefused));
    }
    CHECK_EQ_U64(nrefused, 1);
    CHECK_EQ_U64(refused[0], 2);
    CHECK(find_line(s, 0, "restore t:1 status 0 title before") >= 0);
    r = raw("HGET %s rev", "t:1");
    CHECK(r && r->type == REDIS_REPLY_STRING && strcmp(r->str, "2") == 0); /* not written */
    if (r)
        freeReplyObject(r);
out:
    collab_store_destroy(&st);
    free(s);
    free(re);
}

/*  Whether the node's key holds want, within 5 s: GET after GET on one connection (each a
    round trip; the broker refreshes on its own clock, which no descriptor tells). */
static bool node_key_is(const char *want)
{
    collab_redis_opts_t o = {.command_timeout_ms = 2000};
    char err[256], key[128];
    bool is = false;
    snprintf(key, sizeof key, "%snode:n1", prefix);
    if (collab_redis_addr_parse(redisproc_url(fx), &o.addr, err, sizeof err) != 0)
        return false;
    collab_redis_t *c = collab_redis_new(&o);
    int64_t end = collab_mono_ms() + 5000;
    while (!is && c && collab_mono_ms() < end) {
        redisReply *r = NULL;
        if (collab_redis_callf(c, &r, "GET %s", key) != 0 && collab_redis_connect(c) != 0)
            break;
        is = r && r->type == REDIS_REPLY_STRING && strcmp(r->str, want) == 0;
        collab_redis_reply_free(&r);
    }
    collab_redis_destroy(&c);
    return is;
}

static void test_node_key(void)
{
    new_prefix();
    seen_t *s = calloc(1, sizeof *s);
    collab_store_t *st = open_fast("n1");
    if (!st || !s)
        goto out;
    CHECK_OK(collab_store_start_writer(st));
    redisReply *r = raw("GET %s", "node:n1");
    char token[64] = "";
    if (CHECK(r && r->type == REDIS_REPLY_STRING))
        snprintf(token, sizeof token, "%s", r->str);
    if (r)
        freeReplyObject(r);
    /* expired: the next refresh takes it again, and nothing fails */
    if ((r = raw("DEL %s", "node:n1")))
        freeReplyObject(r);
    CHECK(node_key_is(token));
    CHECK(commit_one(st, s, 1, 1, "still fine"));
    /* another broker's now: fatal at the next refresh */
    if ((r = raw("SET %s someone-else", "node:n1")))
        freeReplyObject(r);
    uint64_t committed;
    int rc = 0;
    int64_t end = collab_mono_ms() + 5000;
    while ((rc = collab_store_committed(st, &committed)) == 0 && collab_mono_ms() < end) {
        struct pollfd p = {.fd = collab_store_fd(st), .events = POLLIN};
        poll(&p, 1, 50);
    }
    CHECK_RC(rc, COLLAB_E_IO);
    CHECK(strstr(collab_store_redis_why(st), "taken") != NULL);
out:
    collab_store_destroy(&st);
    free(s);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    fx = redisproc_start(NULL);
    if (!CHECK(fx != NULL))
        return tu_exit("test_store_redis_outage");
    TU_RUN(test_frozen_in_flight);
    TU_RUN(test_killed_idle);
    TU_RUN(test_node_key);
    TU_RUN(test_lost_batch_run_late);
    redisproc_stop(&fx);
    return tu_exit("test_store_redis_outage");
}
