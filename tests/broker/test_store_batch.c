/*  test_store_batch.c: the store's batches in direct mode: group commit, a failed write
    fails its whole batch, durability across kill -9 of the writer, batch numbers after
    direct commits, and a rollback that keeps the retention. */
#include "collab_spawn.h"
#include "store_test.h"

/*  Times `commits` commits of `per` task upserts each; returns the total in ms. */
static double timed_upserts(collab_store_t *st, int commits, int per)
{
    char title[] = "timed";
    collab_task_t t;
    double t0 = now_ms();
    for (int c = 0; c < commits; c++) {
        CHECK_OK(collab_store_begin(st));
        for (int i = 0; i < per; i++) {
            sample_task(&t, 100000 + (uint64_t)i, 1, title);
            CHECK_OK(collab_store_put_task(st, &t));
        }
        CHECK_OK(collab_store_commit(st));
    }
    return now_ms() - t0;
}

static void test_group_commit(void)
{
    enum { N = 1500 };
    const char *path = tmp_path("group.db");
    collab_store_t *st = open_ok(path, false);
    if (!st)
        return;
    char title[N][24];
    collab_task_t t;
    CHECK_OK(collab_store_begin(st));
    CHECK_OK(collab_store_begin(st)); /* idempotent */
    for (int i = 0; i < N; i++) {
        snprintf(title[i], sizeof title[i], "task %d", i + 1);
        sample_task(&t, (uint64_t)i + 1, (uint64_t)i % 5 + 1, title[i]);
        t.status = (collab_task_status_t)(i % COLLAB_TASK_STATUS_COUNT);
        CHECK_OK(collab_store_put_task(st, &t));
    }
    CHECK_OK(collab_store_commit(st));
    collab_store_destroy(&st);

    st = open_ok(path, false);
    if (!st)
        return;
    loaded_t *l = load_all(st, 0);
    CHECK_EQ_INT(l->n_tasks, N);
    if (l->n_tasks == N)
        for (int i = 0; i < N; i++) {
            CHECK_EQ_U64(l->tasks[i].id, i + 1);
            CHECK_STR(l->tasks[i].title, title[i]);
            CHECK_EQ_INT(l->tasks[i].status, i % COLLAB_TASK_STATUS_COUNT);
        }
    loaded_free(l);

    /* the point of grouping: one fsync'd commit for many writes */
    double batched = timed_upserts(st, 1, 64);
    double single = timed_upserts(st, 64, 1);
    fprintf(stderr,
            "test_store: 1 commit of 64 upserts: %.2f ms; 64 commits of 1 upsert: %.2f ms "
            "(%.3f ms per commit)\n",
            batched, single, single / 64);
    collab_store_destroy(&st);
}

static void test_failed_write_fails_batch(void)
{
    collab_store_t *st = open_ok(tmp_path("failed.db"), false);
    if (!st)
        return;
    uint8_t small[4] = {1, 2, 3, 4};
    CHECK_OK(collab_store_put_meta(st, "kept", small, sizeof small));
    CHECK_OK(collab_store_commit(st));
    CHECK_OK(collab_store_put_meta(st, "lost", small, sizeof small));
    /* a length SQLite refuses to bind: the write fails before touching the bytes */
    CHECK_RC(collab_store_put_meta(st, "huge", small, (size_t)INT32_MAX + 1), COLLAB_E_IO);
    CHECK_RC(collab_store_commit(st), COLLAB_E_IO); /* the whole batch, not part of it */
    CHECK(!collab_store_in_batch(st));
    uint8_t buf[8];
    CHECK_EQ_INT(collab_store_get_meta(st, "lost", buf, sizeof buf), 0);
    CHECK_EQ_INT(collab_store_get_meta(st, "kept", buf, sizeof buf), 4);
    /* the next batch is unaffected */
    CHECK_OK(collab_store_put_meta(st, "next", small, 2));
    CHECK_OK(collab_store_commit(st));
    CHECK_EQ_INT(collab_store_get_meta(st, "next", buf, sizeof buf), 2);
    collab_store_destroy(&st);
}

/* ---------------------------------------------------------------------------------------
   Durability: a writer killed with SIGKILL loses nothing it reported as committed */

enum { DUR_BATCH = 16, DUR_WANT = 800 };

static void durable_writer(const char *path, int fd)
{
    char err[512];
    collab_store_t *st = collab_store_open(path, false, err, sizeof err);
    if (!st)
        _exit(2);
    char title[32];
    collab_task_t t;
    for (uint64_t next = 1;;) {
        uint64_t ids[DUR_BATCH];
        if (collab_store_begin(st) != 0)
            _exit(3);
        for (int i = 0; i < DUR_BATCH; i++, next++) {
            snprintf(title, sizeof title, "durable %llu", (unsigned long long)next);
            sample_task(&t, next, 1, title);
            if (collab_store_put_task(st, &t) != 0)
                _exit(3);
            ids[i] = next;
        }
        if (collab_store_commit(st) != 0)
            _exit(4);
        /* 128 bytes: one atomic pipe write */
        if (write(fd, ids, sizeof ids) != (ssize_t)sizeof ids)
            _exit(5);
    }
}

/*  The child's side, through collab_spawn_fn: it never returns (killed mid-batch). */
static int durable_child(void *arg, int fd)
{
    durable_writer(arg, fd);
    return 0;
}

static void test_durability(void)
{
    const char *path = tmp_path("durable.db");
    collab_store_t *st = open_ok(path, false); /* create it before the child starts */
    collab_store_destroy(&st);
    const collab_spawn_opts_t opts = {.out = COLLAB_SPAWN_PIPE, .death_signal = SIGKILL};
    collab_proc_t child;
    fflush(NULL);
    if (!CHECK(collab_spawn_fn(&child, durable_child, (void *)path, &opts) == 0))
        return;
    /* a small pipe keeps the writer at most a few batches ahead of what we have read */
    fcntl(child.out, F_SETPIPE_SZ, 4096);
    int rfd = child.out;
    static uint64_t reported[1 << 16];
    size_t n = 0;
    bool killed = false;
    double deadline = now_ms() + 30000;
    for (;;) {
        struct pollfd pfd = {.fd = rfd, .events = POLLIN};
        int left = (int)(deadline - now_ms());
        if (left <= 0 || poll(&pfd, 1, left) <= 0)
            break;
        uint64_t ids[DUR_BATCH];
        ssize_t got = read(rfd, ids, sizeof ids);
        if (got <= 0)
            break; /* EOF: the child is gone and everything it reported is in */
        for (size_t i = 0; i < (size_t)got / 8 && n < sizeof reported / 8; i++)
            reported[n++] = ids[i];
        if (!killed && n >= DUR_WANT) {
            collab_spawn_kill(&child,
                              SIGKILL); /* mid-batch, most likely: the open transaction is lost */
            killed = true;
        }
    }
    if (!killed)
        collab_spawn_kill(&child, SIGKILL);
    CHECK(killed);
    CHECK_EQ_INT(collab_spawn_wait(&child, 10000), 0);
    CHECK_EQ_INT(collab_spawn_code(&child), 128 + SIGKILL);
    collab_spawn_close(&child);
    CHECK(n >= DUR_WANT);

    st = open_ok(path, false);
    if (!st)
        return;
    loaded_t *l = load_all(st, 0);
    /* every reported id is there; batches are whole; ids are exactly 1..count */
    CHECK(l->n_tasks >= n);
    CHECK_EQ_INT(l->n_tasks % DUR_BATCH, 0);
    size_t missing = 0;
    for (size_t i = 0; i < n; i++)
        missing += reported[i] == 0 || reported[i] > l->n_tasks ||
                   l->tasks[reported[i] - 1].id != reported[i];
    CHECK_EQ_INT(missing, 0);
    for (size_t i = 0; i < l->n_tasks; i++) {
        char want[32];
        snprintf(want, sizeof want, "durable %zu", i + 1);
        CHECK_EQ_U64(l->tasks[i].id, i + 1);
        CHECK_STR(l->tasks[i].title, want);
    }
    fprintf(stderr, "test_store: killed the writer after %zu reported ids; %zu on disk\n", n,
            l->n_tasks);
    loaded_free(l);
    collab_store_destroy(&st);
}

/* ---------------------------------------------------------------------------------------
   Regressions: two bugs these tests found in the writer mode and the retention */

/*  Batches committed in direct mode before collab_store_start_writer (collab_startup does
    one) leave store.c's `committed` at their count while the writer numbers its batches
    from 1 again: after the writer's first submit, collab_store_pending() says 0
    ("everything on disk") though batch 1 is not known to be committed. */
static void test_pending_after_direct_commits(void)
{
    const char *path = tmp_path("pending-direct.db");
    collab_store_t *st = open_ok(path, false);
    if (!st)
        return;
    CHECK_OK(collab_store_put_meta(st, "a", "x", 1));
    CHECK_OK(collab_store_commit(st)); /* direct mode: one commit */
    uint64_t got = 0;
    CHECK_OK(collab_store_committed(st, &got));
    CHECK_OK(collab_store_start_writer(st));
    CHECK_OK(collab_store_put_meta(st, "b", "y", 1));
    uint64_t open_batch = collab_store_pending(st);
    CHECK(open_batch != 0);
    CHECK_OK(collab_store_submit(st));
    CHECK_EQ_U64(collab_store_pending(st), open_batch); /* fails: 0 */
    CHECK_OK(wait_committed(st, open_batch, &got));
    CHECK(got >= open_batch);
    CHECK_EQ_U64(collab_store_pending(st), 0);
    collab_store_destroy(&st);
}

/*  Evicted events stay in the log until its next collection, and a rollback rebuilds the
    index from the log with no retention (index_events pushes with UINT32_MAX; the store
    does not remember collab_store_set_retention): after rolling back an unrelated batch,
    events_since hands out events the retention had dropped. */
static void test_rollback_keeps_retention(void)
{
    for (int writer = 0; writer <= 1; writer++) {
        collab_store_t *st = open_ok(tmp_path(writer ? "rb-ret-w.db" : "rb-ret-d.db"), false);
        if (!st)
            return;
        collab_store_set_retention(st, 3);
        if (writer)
            CHECK_OK(collab_store_start_writer(st));
        for (uint64_t seq = 1; seq <= 10; seq++)
            CHECK_OK(put_test_event(st, "w1", seq, 3));
        CHECK_OK(collab_store_commit(st));
        check_events(st, "w1", 0, 8, 10, 8);
        CHECK_OK(collab_store_put_meta(st, "unrelated", "x", 1));
        collab_store_rollback(st);
        check_events(st, "w1", 0, 8, 10, 8); /* fails: 1..10, oldest 1 */
        collab_store_destroy(&st);
    }
}

int main(void)
{
    if (store_test_setup("test_store_batch") != 0)
        return 1;
    TU_RUN(test_group_commit);
    TU_RUN(test_failed_write_fails_batch);
    TU_RUN(test_durability);
    TU_RUN(test_pending_after_direct_commits);
    TU_RUN(test_rollback_keeps_retention);
    return store_test_finish("test_store_batch");
}
