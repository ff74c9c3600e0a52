/*  test_store_writer.c: the writer thread, driven by a fake commit callback that records
    which batches it was given, can be told to fail, and can be held inside a commit until
    the test lets it go. Holding the writer makes the rest deterministic, with no sleeps:
    batches queued meanwhile are committed together, a submit beyond max_queued waits,
    the eventfd stays quiet until a commit ends; waits for what must happen are bounded by
    deadlines (poll timeouts, timed condition waits), never by sleeping. */
#include "store_writer.h"
#include "testutil.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#define DEADLINE_S 20 /* what must happen has this long (a slow sanitizer build included) */
#define MAX_CALLS  64
#define MAX_IDS    256

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool hold;   /* commits wait inside the callback while set */
    int fail_at; /* the commit call (1-based) that fails; 0: none */
    int entered, returned;
    /* each call: how many batches and their ids (each batch is one record: stmt 1, id) */
    size_t calls;
    size_t nbatches[MAX_CALLS];
    int64_t ids[MAX_CALLS][MAX_IDS];
    int64_t applied[MAX_IDS]; /* ids of batches in successful commits, in order */
    size_t napplied;
    int malformed; /* batches that did not hold exactly one well-formed record */
} fake_t;

static void fake_init(fake_t *f)
{
    memset(f, 0, sizeof *f);
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, NULL);
}

static void fake_fini(fake_t *f)
{
    pthread_cond_destroy(&f->cv);
    pthread_mutex_destroy(&f->mu);
}

/*  The id recorded in a batch, or -1 when the batch is not what submit_id made. */
static int64_t batch_id(const collab_ops_t *o)
{
    size_t pos = 0;
    unsigned stmt, n;
    collab_opv_t v[COLLAB_OPS_MAX_VALUES];
    if (o->count != 1 || o->failed || !collab_ops_next(o, &pos, &stmt, v, &n) || stmt != 1 ||
        n != 1 || v[0].kind != COLLAB_OPV_INT || pos != o->len)
        return -1;
    return v[0].i;
}

static int fake_commit(void *arg, collab_ops_t *const *batches, size_t n)
{
    fake_t *f = arg;
    pthread_mutex_lock(&f->mu);
    f->entered++;
    pthread_cond_broadcast(&f->cv);
    while (f->hold)
        pthread_cond_wait(&f->cv, &f->mu);
    int rc = f->fail_at == f->entered ? COLLAB_E_IO : 0;
    size_t c = f->calls++;
    for (size_t i = 0; i < n; i++) {
        int64_t id = batch_id(batches[i]);
        f->malformed += id < 0;
        if (c < MAX_CALLS && i < MAX_IDS)
            f->ids[c][i] = id;
        if (rc == 0 && f->napplied < MAX_IDS)
            f->applied[f->napplied++] = id;
    }
    if (c < MAX_CALLS)
        f->nbatches[c] = n;
    f->returned++;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
    return rc;
}

/*  A fake that fails its fail_at-th commit (0: never) and a writer over it; when the
    writer cannot start, the fake is finished too and NULL returned. */
static collab_writer_t *start(fake_t *f, int fail_at, size_t max_queued)
{
    fake_init(f);
    f->fail_at = fail_at;
    collab_writer_t *w = collab_writer_new(fake_commit, f, max_queued);
    if (!w)
        fake_fini(f);
    return w;
}

static struct timespec deadline(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += DEADLINE_S;
    return ts;
}

/*  Waits (bounded) until *counter reaches want; false on the deadline. */
static bool wait_count(fake_t *f, const int *counter, int want)
{
    struct timespec until = deadline();
    pthread_mutex_lock(&f->mu);
    int rc = 0;
    while (*counter < want && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&f->cv, &f->mu, &until);
    bool ok = *counter >= want;
    pthread_mutex_unlock(&f->mu);
    return ok;
}

static void set_hold(fake_t *f, bool hold)
{
    pthread_mutex_lock(&f->mu);
    f->hold = hold;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

static int get_int(fake_t *f, const int *v)
{
    pthread_mutex_lock(&f->mu);
    int x = *v;
    pthread_mutex_unlock(&f->mu);
    return x;
}

/*  Records batch `id` into *ops and submits it; the writer's reply code. */
static int submit_id(collab_writer_t *w, collab_ops_t **ops, int64_t id)
{
    collab_ops_begin(*ops, 1);
    collab_ops_int(*ops, id);
    if (!collab_ops_end(*ops))
        return COLLAB_E_NOMEM;
    return collab_writer_submit(w, ops);
}

static collab_ops_t *ops_new(void)
{
    return calloc(1, sizeof(collab_ops_t));
}

static void ops_delete(collab_ops_t **ops)
{
    if (*ops) {
        collab_ops_free(*ops);
        free(*ops);
        *ops = NULL;
    }
}

/*  poll() on the writer's descriptor: 1 readable, 0 not within timeout_ms. */
static int fd_ready(const collab_writer_t *w, int timeout_ms)
{
    struct pollfd p = {.fd = collab_writer_fd(w), .events = POLLIN};
    int n = poll(&p, 1, timeout_ms);
    return n == 1 && (p.revents & POLLIN) ? 1 : n;
}

/*  The fake's successful commits applied exactly ids 1..n, in order. */
static void check_applied(fake_t *f, size_t n)
{
    pthread_mutex_lock(&f->mu);
    CHECK_EQ_U64(f->napplied, n);
    size_t wrong = 0;
    for (size_t i = 0; i < f->napplied && i < n; i++)
        wrong += f->applied[i] != (int64_t)i + 1;
    CHECK_EQ_U64(wrong, 0);
    CHECK_EQ_INT(f->malformed, 0);
    pthread_mutex_unlock(&f->mu);
}

/* --------------------------------------------------------------------------------------- */

static void test_numbering(void)
{
    fake_t f;
    collab_writer_t *w = start(&f, 0, 4);
    if (!CHECK(w))
        return;
    uint64_t committed = 99;
    CHECK_EQ_U64(collab_writer_submitted(w), 0);
    CHECK_OK(collab_writer_committed(w, &committed));
    CHECK_EQ_U64(committed, 0);
    CHECK_OK(collab_writer_sync(w)); /* nothing submitted: returns at once */
    CHECK(collab_writer_fd(w) >= 0);
    CHECK_EQ_INT(fd_ready(w, 0), 0);

    collab_ops_t *ops = ops_new();
    for (int64_t id = 1; id <= 12; id++) {
        collab_ops_t *given = ops;
        CHECK_OK(submit_id(w, &ops, id));
        CHECK_EQ_U64(collab_writer_submitted(w), (uint64_t)id);
        /* the caller gets an empty batch in place of the one handed over (after the
           first few, one the writer used and reset) */
        CHECK(ops != NULL && ops != given);
        if (ops)
            CHECK(ops->len == 0 && ops->count == 0 && !ops->failed && ops->mark == 0);
        if (id % 3 == 0) {
            CHECK_OK(collab_writer_sync(w));
            CHECK_OK(collab_writer_committed(w, &committed));
            CHECK_EQ_U64(committed, (uint64_t)id); /* synced: everything submitted */
        }
    }
    CHECK_OK(collab_writer_sync(w));
    CHECK_OK(collab_writer_committed(w, &committed));
    CHECK_EQ_U64(committed, 12);
    CHECK_EQ_INT(fd_ready(w, 0), 0); /* committed() cleared it */
    check_applied(&f, 12);
    collab_writer_destroy(&w);
    CHECK(w == NULL);
    collab_writer_destroy(&w); /* NULL-safe */
    collab_writer_destroy(NULL);
    check_applied(&f, 12); /* destroy commits nothing twice */
    ops_delete(&ops);
    fake_fini(&f);
}

static void test_eventfd(void)
{
    fake_t f;
    collab_writer_t *w = start(&f, 0, 4);
    if (!CHECK(w))
        return;
    collab_ops_t *ops = ops_new();
    uint64_t committed = 99;
    set_hold(&f, true);
    CHECK_OK(submit_id(w, &ops, 1));
    CHECK(wait_count(&f, &f.entered, 1));
    /* inside the commit: nothing on disk, nothing to read */
    CHECK_EQ_INT(fd_ready(w, 0), 0);
    CHECK_OK(collab_writer_committed(w, &committed));
    CHECK_EQ_U64(committed, 0);
    set_hold(&f, false);
    CHECK_EQ_INT(fd_ready(w, DEADLINE_S * 1000), 1); /* the commit ended: readable */
    CHECK_OK(collab_writer_committed(w, &committed));
    CHECK_EQ_U64(committed, 1);
    CHECK_EQ_INT(fd_ready(w, 0), 0);                  /* and cleared by reading it */
    CHECK_OK(collab_writer_committed(w, &committed)); /* reading a clear one is fine */
    CHECK_EQ_U64(committed, 1);

    /* each later commit makes it readable again */
    for (int64_t id = 2; id <= 5; id++) {
        CHECK_OK(submit_id(w, &ops, id));
        uint64_t seen = 0;
        while (seen < (uint64_t)id && fd_ready(w, DEADLINE_S * 1000) == 1)
            CHECK_OK(collab_writer_committed(w, &seen));
        CHECK_EQ_U64(seen, (uint64_t)id);
    }
    check_applied(&f, 5);
    collab_writer_destroy(&w);
    ops_delete(&ops);
    fake_fini(&f);
}

/*  Batches queued while a commit runs are committed together, in order, by the next. */
static void test_merge(void)
{
    fake_t f;
    collab_writer_t *w = start(&f, 0, 8);
    if (!CHECK(w))
        return;
    collab_ops_t *ops = ops_new();
    set_hold(&f, true);
    CHECK_OK(submit_id(w, &ops, 1));
    CHECK(wait_count(&f, &f.entered, 1));
    for (int64_t id = 2; id <= 6; id++)
        CHECK_OK(submit_id(w, &ops, id)); /* under max_queued: none of these waits */
    CHECK_EQ_U64(collab_writer_submitted(w), 6);
    uint64_t committed = 99;
    CHECK_OK(collab_writer_committed(w, &committed));
    CHECK_EQ_U64(committed, 0);
    set_hold(&f, false);
    CHECK_OK(collab_writer_sync(w));
    CHECK_OK(collab_writer_committed(w, &committed));
    CHECK_EQ_U64(committed, 6);
    pthread_mutex_lock(&f.mu);
    CHECK_EQ_U64(f.calls, 2);
    CHECK_EQ_U64(f.nbatches[0], 1);
    CHECK_EQ_U64(f.ids[0][0], 1);
    CHECK_EQ_U64(f.nbatches[1], 5); /* 2..6 in one commit */
    for (size_t i = 0; i < 5; i++)
        CHECK_EQ_U64(f.ids[1][i], i + 2);
    pthread_mutex_unlock(&f.mu);
    check_applied(&f, 6);

    /* far more queued than one commit may take: all of them, in order, few commits */
    collab_writer_destroy(&w);
    fake_fini(&f);
    w = start(&f, 0, 150);
    if (!CHECK(w)) {
        ops_delete(&ops);
        return;
    }
    set_hold(&f, true);
    CHECK_OK(submit_id(w, &ops, 1));
    CHECK(wait_count(&f, &f.entered, 1));
    for (int64_t id = 2; id <= 151; id++)
        CHECK_OK(submit_id(w, &ops, id));
    set_hold(&f, false);
    CHECK_OK(collab_writer_sync(w));
    CHECK_OK(collab_writer_committed(w, &committed));
    CHECK_EQ_U64(committed, 151);
    check_applied(&f, 151);
    pthread_mutex_lock(&f.mu);
    CHECK(f.calls >= 2 && f.calls < 151);
    pthread_mutex_unlock(&f.mu);
    collab_writer_destroy(&w);
    ops_delete(&ops);
    fake_fini(&f);
}

typedef struct {
    collab_writer_t *w;
    fake_t *f;
    collab_ops_t *ops;
    int64_t id;
    bool started;       /* about to call submit / sync / destroy */
    int rc;             /* what it returned */
    int returned_seen;  /* the fake's finished commits when it returned */
    pthread_mutex_t mu; /* guards started */
    pthread_cond_t cv;
} helper_t;

static void helper_started(helper_t *h)
{
    pthread_mutex_lock(&h->mu);
    h->started = true;
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
}

static bool helper_wait_started(helper_t *h)
{
    struct timespec until = deadline();
    int rc = 0;
    pthread_mutex_lock(&h->mu);
    while (!h->started && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&h->cv, &h->mu, &until);
    bool ok = h->started;
    pthread_mutex_unlock(&h->mu);
    return ok;
}

static void *helper_submit(void *arg)
{
    helper_t *h = arg;
    helper_started(h);
    h->rc = submit_id(h->w, &h->ops, h->id);
    h->returned_seen = get_int(h->f, &h->f->returned);
    return NULL;
}

static void *helper_sync(void *arg)
{
    helper_t *h = arg;
    helper_started(h);
    h->rc = collab_writer_sync(h->w);
    h->returned_seen = get_int(h->f, &h->f->returned);
    return NULL;
}

static void *helper_destroy(void *arg)
{
    helper_t *h = arg;
    helper_started(h);
    collab_writer_destroy(&h->w);
    h->returned_seen = get_int(h->f, &h->f->returned);
    return NULL;
}

/*  Runs fn on a thread that is started (about to call in) when this returns. */
static bool helper_run(helper_t *h, pthread_t *tid, void *(*fn)(void *))
{
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cv, NULL);
    if (!CHECK(pthread_create(tid, NULL, fn, h) == 0))
        return false;
    return CHECK(helper_wait_started(h));
}

static void helper_join(helper_t *h, pthread_t tid)
{
    pthread_join(tid, NULL);
    pthread_cond_destroy(&h->cv);
    pthread_mutex_destroy(&h->mu);
}

/*  A submit beyond max_queued waits until the writer takes the queue, i.e. until the
    commit in progress has ended. The writer is held inside batch 1's commit with 3
    queued (max_queued 3); a fourth submit, on another thread, cannot return before that
    commit has returned, whenever the test lets it go. */
static void test_backpressure(void)
{
    fake_t f;
    collab_writer_t *w = start(&f, 0, 3);
    if (!CHECK(w))
        return;
    collab_ops_t *ops = ops_new();
    set_hold(&f, true);
    CHECK_OK(submit_id(w, &ops, 1));
    CHECK(wait_count(&f, &f.entered, 1));
    for (int64_t id = 2; id <= 4; id++)
        CHECK_OK(submit_id(w, &ops, id)); /* fills the queue, no wait */
    CHECK_EQ_INT(get_int(&f, &f.returned), 0);

    helper_t h = {.w = w, .f = &f, .ops = ops, .id = 5, .rc = 99};
    ops = NULL; /* the helper's now */
    pthread_t tid;
    if (helper_run(&h, &tid, helper_submit)) {
        set_hold(&f, false);
        helper_join(&h, tid);
        CHECK_OK(h.rc);
        CHECK(h.returned_seen >= 1); /* it got through only after commit 1 ended */
    } else {
        set_hold(&f, false);
    }
    ops = h.ops;
    CHECK_OK(collab_writer_sync(w));
    uint64_t committed = 0;
    CHECK_OK(collab_writer_committed(w, &committed));
    CHECK_EQ_U64(committed, 5);
    check_applied(&f, 5);
    pthread_mutex_lock(&f.mu);
    /* the writer took 2..4 together as soon as commit 1 ended, before 5 could enter */
    CHECK_EQ_U64(f.calls, 3);
    CHECK_EQ_U64(f.nbatches[1], 3);
    CHECK_EQ_U64(f.nbatches[2], 1);
    pthread_mutex_unlock(&f.mu);
    collab_writer_destroy(&w);
    ops_delete(&ops);
    fake_fini(&f);

    /* max_queued 0 is 1: one batch waits while one commits */
    w = start(&f, 0, 0);
    if (!CHECK(w))
        return;
    ops = ops_new();
    set_hold(&f, true);
    CHECK_OK(submit_id(w, &ops, 1));
    CHECK(wait_count(&f, &f.entered, 1));
    CHECK_OK(submit_id(w, &ops, 2));
    helper_t h2 = {.w = w, .f = &f, .ops = ops, .id = 3, .rc = 99};
    ops = NULL;
    if (helper_run(&h2, &tid, helper_submit)) {
        set_hold(&f, false);
        helper_join(&h2, tid);
        CHECK_OK(h2.rc);
        CHECK(h2.returned_seen >= 1);
    } else {
        set_hold(&f, false);
    }
    ops = h2.ops;
    CHECK_OK(collab_writer_sync(w));
    check_applied(&f, 3);
    collab_writer_destroy(&w);
    ops_delete(&ops);
    fake_fini(&f);
}

/*  sync returns only once everything submitted is committed. */
static void test_sync_waits(void)
{
    fake_t f;
    collab_writer_t *w = start(&f, 0, 4);
    if (!CHECK(w))
        return;
    collab_ops_t *ops = ops_new();
    set_hold(&f, true);
    CHECK_OK(submit_id(w, &ops, 1));
    CHECK(wait_count(&f, &f.entered, 1));
    CHECK_OK(submit_id(w, &ops, 2)); /* queued behind the held commit */
    helper_t h = {.w = w, .f = &f, .rc = 99};
    pthread_t tid;
    if (helper_run(&h, &tid, helper_sync)) {
        set_hold(&f, false);
        helper_join(&h, tid);
        CHECK_OK(h.rc);
        CHECK_EQ_INT(h.returned_seen, 2); /* both commits had ended */
    } else {
        set_hold(&f, false);
    }
    uint64_t committed = 0;
    CHECK_OK(collab_writer_committed(w, &committed));
    CHECK_EQ_U64(committed, 2); /* no further wait needed */
    check_applied(&f, 2);
    collab_writer_destroy(&w);
    ops_delete(&ops);
    fake_fini(&f);
}

/*  A failed commit is final: the batches it had and every later one stay unapplied,
    and every call says COLLAB_E_IO. */
static void test_failure_is_final(void)
{
    fake_t f;
    collab_writer_t *w = start(&f, 2, 4);
    if (!CHECK(w))
        return;
    collab_ops_t *ops = ops_new();
    uint64_t committed = 99;
    CHECK_OK(submit_id(w, &ops, 1));
    CHECK_OK(collab_writer_sync(w));
    CHECK_OK(collab_writer_committed(w, &committed));
    CHECK_EQ_U64(committed, 1);

    /* commit 2 (batch 2) fails while batches 3 and 4 wait behind it */
    set_hold(&f, true);
    CHECK_OK(submit_id(w, &ops, 2));
    CHECK(wait_count(&f, &f.entered, 2));
    CHECK_OK(submit_id(w, &ops, 3));
    CHECK_OK(submit_id(w, &ops, 4));
    set_hold(&f, false);
    CHECK_EQ_INT(fd_ready(w, DEADLINE_S * 1000), 1); /* the failure is news too */
    CHECK_RC(collab_writer_committed(w, &committed), COLLAB_E_IO);
    CHECK_EQ_U64(committed, 1); /* the newest batch that did commit */
    CHECK_RC(collab_writer_sync(w), COLLAB_E_IO);

    /* a submit is refused and the batch left as it was */
    collab_ops_begin(ops, 1);
    collab_ops_int(ops, 5);
    CHECK(collab_ops_end(ops));
    collab_ops_t *mine = ops;
    size_t len = ops->len;
    CHECK_RC(collab_writer_submit(w, &ops), COLLAB_E_IO);
    CHECK(ops == mine);
    CHECK(ops->len == len && ops->count == 1 && !ops->failed);
    CHECK_EQ_U64(batch_id(ops), 5);
    CHECK_EQ_U64(collab_writer_submitted(w), 4);
    CHECK_RC(collab_writer_submit(w, &ops), COLLAB_E_IO); /* and again */
    CHECK_RC(collab_writer_committed(w, &committed), COLLAB_E_IO);
    CHECK_EQ_U64(committed, 1);

    collab_writer_destroy(&w); /* discards 3 and 4: never handed to commit */
    pthread_mutex_lock(&f.mu);
    CHECK_EQ_U64(f.calls, 2);
    CHECK_EQ_U64(f.nbatches[1], 1);
    CHECK_EQ_U64(f.ids[1][0], 2);
    pthread_mutex_unlock(&f.mu);
    check_applied(&f, 1);
    ops_delete(&ops);
    fake_fini(&f);

    /* the very first commit failing, with the queue full behind it */
    w = start(&f, 1, 2);
    if (!CHECK(w))
        return;
    ops = ops_new();
    set_hold(&f, true);
    CHECK_OK(submit_id(w, &ops, 1));
    CHECK(wait_count(&f, &f.entered, 1));
    CHECK_OK(submit_id(w, &ops, 2));
    CHECK_OK(submit_id(w, &ops, 3)); /* queue full */
    helper_t h = {.w = w, .f = &f, .ops = ops, .id = 4, .rc = 99};
    ops = NULL;
    pthread_t tid;
    if (helper_run(&h, &tid, helper_submit)) {
        set_hold(&f, false); /* commit 1 fails: the waiting submit is refused, not stuck */
        helper_join(&h, tid);
        CHECK_RC(h.rc, COLLAB_E_IO);
        CHECK_EQ_U64(batch_id(h.ops), 4); /* kept, untouched */
    } else {
        set_hold(&f, false);
    }
    ops = h.ops;
    CHECK_RC(collab_writer_sync(w), COLLAB_E_IO);
    CHECK_RC(collab_writer_committed(w, &committed), COLLAB_E_IO);
    CHECK_EQ_U64(committed, 0);
    collab_writer_destroy(&w);
    pthread_mutex_lock(&f.mu);
    CHECK_EQ_U64(f.calls, 1);
    pthread_mutex_unlock(&f.mu);
    check_applied(&f, 0);
    ops_delete(&ops);
    fake_fini(&f);
}

/*  destroy commits what was queued before the thread stops. */
static void test_destroy_commits_queued(void)
{
    fake_t f;
    collab_writer_t *w = start(&f, 0, 4);
    if (!CHECK(w))
        return;
    collab_ops_t *ops = ops_new();
    set_hold(&f, true);
    CHECK_OK(submit_id(w, &ops, 1));
    CHECK(wait_count(&f, &f.entered, 1));
    for (int64_t id = 2; id <= 5; id++)
        CHECK_OK(submit_id(w, &ops, id));
    /* stop is asked for while 2..5 wait and 1 is still being committed */
    helper_t h = {.w = w, .f = &f};
    pthread_t tid;
    if (helper_run(&h, &tid, helper_destroy)) {
        set_hold(&f, false);
        helper_join(&h, tid);
        CHECK(h.w == NULL);
        CHECK_EQ_INT(h.returned_seen, 2); /* [1], then [2..5] together */
    } else {
        set_hold(&f, false);
        collab_writer_destroy(&w);
    }
    check_applied(&f, 5);
    ops_delete(&ops);
    fake_fini(&f);

    /* and without holding anything: submitted, not synced, destroyed */
    w = start(&f, 0, 2);
    if (!CHECK(w))
        return;
    ops = ops_new();
    for (int64_t id = 1; id <= 20; id++)
        CHECK_OK(submit_id(w, &ops, id));
    collab_writer_destroy(&w);
    check_applied(&f, 20);
    ops_delete(&ops);
    fake_fini(&f);
}

int main(void)
{
    TU_RUN(test_numbering);
    TU_RUN(test_eventfd);
    TU_RUN(test_merge);
    TU_RUN(test_backpressure);
    TU_RUN(test_sync_waits);
    TU_RUN(test_failure_is_final);
    TU_RUN(test_destroy_commits_queued);
    return tu_exit("test_store_writer");
}
