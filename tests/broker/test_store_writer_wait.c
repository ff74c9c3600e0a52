/*  test_store_writer_wait.c: what waits on the writer thread: a submit beyond max_queued
    waits until the writer takes the queue, and sync returns only once everything submitted
    is committed. Other threads call in while the fake holds a commit; what must happen is
    awaited under deadlines, never by sleeping. */
#include "writer_test.h"

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

int main(void)
{
    TU_RUN(test_backpressure);
    TU_RUN(test_sync_waits);
    return tu_exit("test_store_writer_wait");
}
