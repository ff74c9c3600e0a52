/*  test_store_redis_open.c: the Redis store (broker/store_redis*.c) on a real redis-server, one
    broker at a time: what is committed loads back into a fresh store with its revisions,
    the index sets hold a record from its creation through later puts,
    events are numbered by Redis and kept within the retention, meta values are the node's
    own, id blocks never overlap, password hashes are sealed under a vault, a second broker
    with the same node name and a server that is not durable are refused, and after kill -9
    of redis-server and a restart every acknowledged batch loads back. */
#include "store_redis_test.h"
#include "vault.h"

static void put_sample(collab_store_t *st)
{
    collab_agent_t a;
    collab_session_t s;
    collab_project_t p;
    collab_task_t t;
    collab_event_t ev;
    mk_agent(&a, "w1");
    mk_session(&s, "tok-1", "w1");
    mk_project(&p, 3, "alpha");
    mk_task(&t, 5, 3, COLLAB_TASK_IN_PROGRESS, "review");
    mk_event(&ev, "w1", "task_assigned");
    collab_store_set_changeset(st, 1);
    CHECK_OK(collab_store_put_agent(st, &a));
    CHECK_OK(collab_store_put_session(st, &s));
    CHECK_OK(collab_store_put_project(st, &p));
    CHECK_OK(collab_store_put_task(st, &t));
    CHECK_OK(collab_store_put_event(st, &ev, 100));
}

/*  Written, committed, loaded back into a fresh store (another broker, the same prefix),
    every field; and a change to it from the fresh store wins (the revisions loaded). */
static void test_write_load(void)
{
    new_prefix();
    collab_store_t *a = open_ok("n1");
    if (!a)
        return;
    CHECK(collab_store_is_shared(a));
    put_sample(a);
    CHECK_OK(collab_store_commit(a));
    collab_store_destroy(&a);
    collab_store_t *b = open_ok("n2");
    seen_t *s = calloc(1, sizeof *s);
    CHECK_OK(collab_store_load(b, &seen_loader, s));
    CHECK_EQ_INT(s->n, 4);
    CHECK(find_line(s, 0, "a:w1 seq 1 failures 3") == 0); /* seq: Redis's counter */
    CHECK(find_line(s, 0, "s:tok-1 handle 77") == 1);
    CHECK(find_line(s, 0, "p:3 alpha") == 2);
    CHECK(find_line(s, 0, "t:5 status 1 title review") == 3);
    if (tu_failures)
        dump("load", s);
    /* the loaded revision is what b's next change expects: it wins */
    collab_task_t t;
    mk_task(&t, 5, 3, COLLAB_TASK_COMPLETED, "review");
    collab_store_set_changeset(b, 9);
    CHECK_OK(collab_store_put_task(b, &t));
    CHECK_OK(collab_store_commit(b));
    uint64_t cs = 0;
    CHECK_EQ_INT(collab_store_take_refused(b, &cs, &seen_loader, seen_gone, s), 0);
    redisReply *r = raw("HGET %s rev", "t:5");
    CHECK(r && r->type == REDIS_REPLY_STRING && strcmp(r->str, "2") == 0);
    freeReplyObject(r);
    free(s);
    collab_store_destroy(&b);
}

/*  Whether member is in the index set key (SISMEMBER). */
static bool indexed(const char *key, const char *member)
{
    char fmt[128];
    snprintf(fmt, sizeof fmt, "SISMEMBER %%s %s", member);
    redisReply *r = raw(fmt, key);
    bool in = r && r->type == REDIS_REPLY_INTEGER && r->integer == 1;
    if (r)
        freeReplyObject(r);
    return in;
}

/*  The index sets gain a record when the commit script creates it, and only then: a record
    put again (in the same batch as its creation, and in later ones) is still in them, and
    loads back; a project deleted leaves them with its tasks. */
static void test_index_sets(void)
{
    new_prefix();
    collab_store_t *a = open_ok("n1");
    if (!a)
        return;
    put_sample(a); /* cs 1: agent w1, project 3, task 5 */
    collab_task_t t;
    mk_task(&t, 5, 3, COLLAB_TASK_COMPLETED, "review");
    collab_store_set_changeset(a, 2); /* the same batch: task 5 put again */
    CHECK_OK(collab_store_put_task(a, &t));
    CHECK_OK(collab_store_commit(a));
    collab_agent_t ag;
    collab_project_t p;
    mk_agent(&ag, "w1");
    mk_project(&p, 3, "alpha2");
    mk_task(&t, 5, 3, COLLAB_TASK_FAILED, "review2");
    collab_store_set_changeset(a, 3); /* a later batch: each put again */
    CHECK_OK(collab_store_put_agent(a, &ag));
    CHECK_OK(collab_store_put_project(a, &p));
    CHECK_OK(collab_store_put_task(a, &t));
    CHECK_OK(collab_store_commit(a));
    redisReply *r = raw("HGET %s rev", "t:5");
    CHECK(r && r->type == REDIS_REPLY_STRING && strcmp(r->str, "3") == 0);
    if (r)
        freeReplyObject(r);
    CHECK(indexed("K:a", "w1"));
    CHECK(indexed("K:p", "3"));
    CHECK(indexed("K:t", "5"));
    CHECK(indexed("T:3", "5"));
    collab_store_destroy(&a);
    collab_store_t *b = open_ok("n2");
    seen_t *s = calloc(1, sizeof *s);
    CHECK_OK(collab_store_load(b, &seen_loader, s));
    CHECK_EQ_INT(s->n, 4);
    CHECK(find_line(s, 0, "p:3 alpha2") >= 0);
    CHECK(find_line(s, 0, "t:5 status 3 title review2") >= 0);
    if (tu_failures)
        dump("load", s);
    /* deleted: out of them, with its task */
    collab_store_set_changeset(b, 4);
    CHECK_OK(collab_store_delete_project(b, 3));
    CHECK_OK(collab_store_commit(b));
    CHECK(!indexed("K:p", "3"));
    CHECK(!indexed("K:t", "5"));
    CHECK(!indexed("T:3", "5"));
    free(s);
    collab_store_destroy(&b);
}

typedef struct {
    uint64_t seq[16];
    size_t n;
} seqs_t;

static int on_event(void *arg, const collab_event_t *ev)
{
    seqs_t *s = arg;
    if (s->n < 16 && strcmp(ev->name, "task_updated") == 0 && ev->data_len == 7 &&
        memcmp(ev->data, "\x81\xa1k\xa1v\x00\xff", 7) == 0)
        s->seq[s->n++] = ev->seq;
    return 0;
}

typedef struct {
    size_t n;
    uint64_t first, last;
} counted_t;

static int on_count(void *arg, const collab_event_t *ev)
{
    counted_t *c = arg;
    if (c->n++ == 0)
        c->first = ev->seq;
    c->last = ev->seq;
    return 0;
}

/*  Events are numbered 1, 2, ... per agent; only the newest `retain` are kept, and
    events_since says which is the oldest. */
static void test_events_retention(void)
{
    new_prefix();
    collab_store_t *st = open_ok("n1");
    if (!st)
        return;
    collab_store_set_retention(st, 3);
    collab_event_t ev;
    mk_event(&ev, "w1", "task_updated");
    for (int i = 0; i < 5; i++)
        CHECK_OK(collab_store_put_event(st, &ev, 3));
    mk_event(&ev, "w2", "task_updated");
    CHECK_OK(collab_store_put_event(st, &ev, 3));
    CHECK_OK(collab_store_commit(st));
    seqs_t s = {0};
    uint64_t oldest = 0;
    CHECK_OK(collab_store_events_since(st, "w1", 0, on_event, &s, &oldest));
    CHECK_EQ_INT(s.n, 3);
    CHECK_EQ_U64(s.seq[0], 3);
    CHECK_EQ_U64(s.seq[2], 5);
    CHECK_EQ_U64(oldest, 3);
    s.n = 0;
    CHECK_OK(collab_store_events_since(st, "w1", 4, on_event, &s, &oldest));
    CHECK_EQ_INT(s.n, 1);
    CHECK_EQ_U64(s.seq[0], 5);
    s.n = 0;
    CHECK_OK(collab_store_events_since(st, "w2", 0, on_event, &s, &oldest));
    CHECK_EQ_INT(s.n, 1);
    CHECK_EQ_U64(s.seq[0], 1);
    s.n = 0;
    CHECK_OK(collab_store_events_since(st, "nobody", 0, on_event, &s, &oldest));
    CHECK_EQ_INT(s.n, 0);
    CHECK_EQ_U64(oldest, 0);
    /* a longer retention (32) is trimmed back once the list holds a sixteenth more: Redis
       keeps at most 34, events_since gives exactly the newest 32 */
    collab_store_set_retention(st, 32);
    mk_event(&ev, "w3", "task_updated");
    for (int i = 0; i < 40; i++) {
        CHECK_OK(collab_store_put_event(st, &ev, 32));
        CHECK_OK(collab_store_commit(st));
        redisReply *r = raw("LLEN %s", "e:w3");
        CHECK(r && r->type == REDIS_REPLY_INTEGER &&
              r->integer == (i < 34 ? i + 1 : 32 + (i - 34) % 3));
        if (r)
            freeReplyObject(r);
    }
    counted_t c = {0};
    CHECK_OK(collab_store_events_since(st, "w3", 0, on_count, &c, &oldest));
    CHECK_EQ_INT(c.n, 32);
    CHECK_EQ_U64(c.first, 9);
    CHECK_EQ_U64(c.last, 40);
    CHECK_EQ_U64(oldest, 9);
    collab_store_destroy(&st);
}

/*  Meta values are the node's own; get_meta in writer mode sees what was just put. */
static void test_meta(void)
{
    new_prefix();
    collab_store_t *a = open_ok("n1"), *b = open_ok("n2");
    if (!a || !b)
        goto out;
    uint64_t ids[3] = {7, 8, 9}, got[3] = {0};
    CHECK_OK(collab_store_start_writer(a));
    CHECK_OK(collab_store_put_meta(a, "ids", ids, sizeof ids));
    CHECK_EQ_INT(collab_store_get_meta(a, "ids", got, sizeof got), sizeof got);
    CHECK(memcmp(ids, got, sizeof ids) == 0);
    CHECK_RC(collab_store_get_meta(a, "ids", got, 8), COLLAB_E_TOO_LARGE);
    CHECK_EQ_INT(collab_store_get_meta(b, "ids", got, sizeof got), 0);
    CHECK_EQ_INT(collab_store_get_meta(a, "none", got, sizeof got), 0);
out:
    collab_store_destroy(&a);
    collab_store_destroy(&b);
}

/*  Two brokers' id blocks never overlap. */
static void test_reserve_ids(void)
{
    new_prefix();
    collab_store_t *a = open_ok("n1"), *b = open_ok("n2");
    if (!a || !b)
        goto out;
    uint64_t fa = 0, fb = 0, fa2 = 0;
    CHECK_OK(collab_store_reserve_ids(a, COLLAB_ID_TASK, 256, &fa));
    CHECK_OK(collab_store_reserve_ids(b, COLLAB_ID_TASK, 256, &fb));
    CHECK_OK(collab_store_reserve_ids(a, COLLAB_ID_TASK, 256, &fa2));
    CHECK_EQ_U64(fa, 1);
    CHECK_EQ_U64(fb, 257);
    CHECK_EQ_U64(fa2, 513);
    CHECK_OK(collab_store_reserve_ids(b, COLLAB_ID_PROJECT, 10, &fb));
    CHECK_EQ_U64(fb, 1); /* each kind counts alone */
out:
    collab_store_destroy(&a);
    collab_store_destroy(&b);
}

/*  Strong state_at_rest: Redis holds the password hash sealed; it loads back clear under
    the key, and not at all under another. */
static void test_vault(void)
{
    new_prefix();
    uint8_t key[COLLAB_VAULT_KEY_LEN] = {1, 2, 3}, other[COLLAB_VAULT_KEY_LEN] = {9};
    collab_vault_t *v = collab_vault_new(key), *w = collab_vault_new(other);
    collab_store_t *st = open_ok("n1");
    if (!st || !v || !w)
        goto out;
    collab_store_set_vault(st, v);
    collab_agent_t a;
    mk_agent(&a, "w1");
    CHECK_OK(collab_store_put_agent(st, &a));
    CHECK_OK(collab_store_commit(st));
    redisReply *r = raw("HGET %s v", "a:w1");
    CHECK(r && r->type == REDIS_REPLY_STRING && !memmem(r->str, r->len, "$2b$04$", 7) &&
          memmem(r->str, r->len, COLLAB_VAULT_SEALED_PREFIX, 4));
    freeReplyObject(r);
    seen_t *s = calloc(1, sizeof *s);
    CHECK_OK(collab_store_load(st, &seen_loader, s));
    CHECK_EQ_INT(s->n, 1);
    collab_store_set_vault(st, w);
    CHECK_RC(collab_store_load(st, &seen_loader, s), COLLAB_E_IO);
    free(s);
out:
    collab_store_destroy(&st);
    collab_vault_destroy(&v);
    collab_vault_destroy(&w);
}

/*  One name, one broker: the second is refused while the first runs, and accepted once it
    has closed. */
static void test_duplicate_node(void)
{
    new_prefix();
    char err[512] = "";
    collab_store_t *a = open_ok("n1");
    collab_store_t *b = open_node("n1", err, sizeof err);
    CHECK(b == NULL);
    if (!CHECK(strstr(err, "node name n1 is in use by another broker") != NULL))
        fprintf(stderr, "  err: %s\n", err);
    collab_store_destroy(&b);
    collab_store_destroy(&a);
    b = open_ok("n1");
    collab_store_destroy(&b);
    CHECK(open_node("bad name", err, sizeof err) == NULL && strstr(err, "node name") != NULL);
}

/*  A server that would lose acknowledged writes (fsync every second) is refused, saying so. */
static void test_not_durable(void)
{
    redisproc_opts_t o = {.appendfsync = "everysec"};
    redisproc_t *lax = redisproc_start(&o);
    if (!CHECK(lax != NULL))
        return;
    collab_store_redis_opts_t so = {.address = redisproc_url(lax), .node = "n1"};
    char err[1024] = "";
    collab_store_t *st = collab_store_open_redis(&so, err, sizeof err);
    CHECK(st == NULL);
    if (!CHECK(strstr(err, "appendfsync") != NULL && strstr(err, "everysec") != NULL))
        fprintf(stderr, "  err: %s\n", err);
    collab_store_destroy(&st);
    redisproc_stop(&lax);
}

/*  Waits until every batch submitted so far is acknowledged (committed). */
static bool acknowledged(collab_store_t *st)
{
    int64_t end = collab_mono_ms() + 5000;
    uint64_t committed = 0;
    while (collab_store_pending(st) != 0) {
        struct pollfd p = {.fd = collab_store_fd(st), .events = POLLIN};
        if (collab_mono_ms() > end || poll(&p, 1, 100) < 0 ||
            collab_store_committed(st, &committed) != 0)
            return false;
        seen_t s = {0};
        collab_store_take_applied(st, &seen_applier, &s);
    }
    return true;
}

/*  kill -9 of redis-server between batches, and a restart on the same folder: every task
    whose batch was acknowledged loads back (AOF, fsync always). */
static void test_kill9(void)
{
    new_prefix();
    collab_store_t *st = open_ok("n1");
    if (!st)
        goto out;
    CHECK_OK(collab_store_start_writer(st));
    char title[] = "t";
    for (uint64_t i = 1; i <= 40; i++) {
        collab_task_t t;
        mk_task(&t, i, 1, COLLAB_TASK_ASSIGNED, title);
        collab_store_set_changeset(st, i);
        CHECK_OK(collab_store_put_task(st, &t));
        if (collab_store_submit(st) != 0) {
            tu_fail(__FILE__, __LINE__, "submit: %s", collab_store_redis_why(st));
            goto out;
        }
        if (i % 10 == 0)
            CHECK(acknowledged(st));
    }
    CHECK(acknowledged(st));
    CHECK_OK(redisproc_kill9(fx));
    CHECK_OK(redisproc_restart(fx));
    collab_store_destroy(&st); /* its connections broke: it gives its name back on a new one */
    st = open_ok("n2");
    seen_t *s = calloc(1, sizeof *s);
    if (st)
        CHECK_OK(collab_store_load(st, &seen_loader, s));
    CHECK_EQ_INT(s->n, 40);
    CHECK(find_line(s, 0, "t:40 status 0 title t") == 39);
    free(s);
out:
    collab_store_destroy(&st);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    fx = redisproc_start(NULL);
    if (!CHECK(fx != NULL))
        return tu_exit("test_store_redis");
    TU_RUN(test_write_load);
    TU_RUN(test_index_sets);
    TU_RUN(test_events_retention);
    TU_RUN(test_meta);
    TU_RUN(test_reserve_ids);
    TU_RUN(test_vault);
    TU_RUN(test_duplicate_node);
    TU_RUN(test_not_durable);
    TU_RUN(test_kill9);
    redisproc_stop(&fx);
    return tu_exit("test_store_redis");
}
