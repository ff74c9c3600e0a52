/*  test_store_writer.c: the writer thread (batch numbers, the descriptor, merged
    commits, a final failure, destroy), driven by a fake commit callback that records
    which batches it was given, can be told to fail, and can be held inside a commit until
    the test lets it go. Holding the writer makes the rest deterministic, with no sleeps:
    batches queued meanwhile are committed together, a submit beyond max_queued waits,
    the eventfd stays quiet until a commit ends; waits for what must happen are bounded by
    deadlines (poll timeouts, timed condition waits), never by sleeping. */
#include "writer_test.h"

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
    TU_RUN(test_failure_is_final);
    TU_RUN(test_destroy_commits_queued);
    return tu_exit("test_store_writer");
}
