/*  test_store_async.c: the store in writer mode: the round trip through the writer thread,
    batch numbers (pending, committed, the descriptor), events read without a commit while
    start-up reads commit first, refused values (while recording, and by SQLite at commit:
    final), and migrations refused once the writer runs. */
#include "store_test.h"

/* ---------------------------------------------------------------------------------------
   Writer mode: writes are recorded and a writer thread commits them */

/*  The round trip of test_roundtrip, written through the writer thread, known committed
    through the descriptor, then read back by a new store. */
static void test_writer_roundtrip(void)
{
    const char *path = tmp_path("writer-roundtrip.db");
    collab_store_t *st = open_ok(path, false);
    if (!st)
        return;
    CHECK_EQ_INT(collab_store_fd(st), -1); /* direct mode has no descriptor */
    CHECK_OK(collab_store_start_writer(st));
    CHECK(collab_store_fd(st) >= 0);
    samples_t x;
    samples_init(&x);
    CHECK(!collab_store_in_batch(st));
    samples_write(st, &x);
    CHECK_EQ_U64(collab_store_pending(st), 1);
    CHECK_OK(collab_store_submit(st));
    CHECK(!collab_store_in_batch(st));
    for (uint64_t seq = 1; seq <= 3; seq++)
        CHECK_OK(put_test_event(st, "w1", seq, 10));
    CHECK_OK(collab_store_put_meta(st, "next_project_id", "\x04", 1));
    CHECK_EQ_U64(collab_store_pending(st), 2);
    CHECK_OK(collab_store_submit(st));
    uint64_t got = 0;
    CHECK_OK(wait_committed(st, 2, &got));
    CHECK_EQ_U64(got, 2);
    CHECK_EQ_U64(collab_store_pending(st), 0);
    /* on disk while the store is still open: another connection sees it */
    CHECK_EQ_INT(raw_int(path, "SELECT count(*) FROM tasks"), 1);
    CHECK_EQ_INT(raw_int(path, "SELECT count(*) FROM projects"), 3);
    CHECK_EQ_INT(raw_int(path, "SELECT count(*) FROM event_log"), 3);
    collab_store_destroy(&st);

    st = open_ok(path, false);
    if (!st)
        return;
    loaded_t *l = load_all(st, 0);
    samples_check(l, &x);
    loaded_free(l);
    check_events(st, "w1", 0, 1, 3, 1);
    uint8_t buf[8];
    CHECK_EQ_INT(collab_store_get_meta(st, "next_project_id", buf, sizeof buf), 1);
    CHECK_EQ_INT(buf[0], 4);
    collab_store_destroy(&st);
}

static void test_writer_pending(void)
{
    const char *path = tmp_path("writer-pending.db");
    collab_store_t *st = open_ok(path, false);
    if (!st)
        return;
    uint64_t got = 99;
    CHECK_OK(collab_store_start_writer(st));
    CHECK_OK(collab_store_start_writer(st)); /* idempotent */
    CHECK_EQ_U64(collab_store_pending(st), 0);
    CHECK_OK(collab_store_committed(st, &got));
    CHECK_EQ_U64(got, 0);
    CHECK_OK(collab_store_begin(st)); /* nothing to open in writer mode */
    CHECK(!collab_store_in_batch(st));
    CHECK_OK(collab_store_submit(st)); /* an empty batch is not handed over */
    CHECK_EQ_U64(collab_store_pending(st), 0);

    /* the open batch's number while it has writes; the same number once submitted */
    CHECK_OK(collab_store_put_meta(st, "k1", "1", 1));
    CHECK(collab_store_in_batch(st));
    CHECK_EQ_U64(collab_store_pending(st), 1);
    CHECK_OK(collab_store_put_meta(st, "k2", "2", 1));
    CHECK_EQ_U64(collab_store_pending(st), 1);
    CHECK_OK(collab_store_submit(st));
    CHECK(!collab_store_in_batch(st));
    CHECK_EQ_U64(collab_store_pending(st), 1); /* submitted, not known to be committed */
    CHECK_OK(collab_store_put_meta(st, "k3", "3", 1));
    CHECK_EQ_U64(collab_store_pending(st), 2);
    CHECK_OK(collab_store_submit(st));
    CHECK_EQ_U64(collab_store_pending(st), 2);
    CHECK_OK(wait_committed(st, 2, &got));
    CHECK_EQ_U64(got, 2);
    CHECK_EQ_U64(collab_store_pending(st), 0); /* everything on disk */
    CHECK_OK(collab_store_submit(st));         /* empty again: no batch 3 */
    CHECK_EQ_U64(collab_store_pending(st), 0);

    /* commit waits: batch 3 is on disk when it returns, no polling needed */
    CHECK_OK(collab_store_put_meta(st, "k4", "4", 1));
    CHECK_EQ_U64(collab_store_pending(st), 3);
    CHECK_OK(collab_store_commit(st));
    CHECK(!collab_store_in_batch(st));
    CHECK_OK(collab_store_committed(st, &got));
    CHECK_EQ_U64(got, 3);
    CHECK_EQ_U64(collab_store_pending(st), 0);
    CHECK_EQ_INT(raw_int(path, "SELECT count(*) FROM meta WHERE key LIKE 'k_'"), 4);

    /* a rolled-back batch reaches nothing and uses no number */
    CHECK_OK(collab_store_put_meta(st, "dropped", "x", 1));
    CHECK_EQ_U64(collab_store_pending(st), 4);
    collab_store_rollback(st);
    CHECK(!collab_store_in_batch(st));
    CHECK_EQ_U64(collab_store_pending(st), 0);
    uint8_t buf[8];
    CHECK_EQ_INT(collab_store_get_meta(st, "dropped", buf, sizeof buf), 0);
    CHECK_OK(collab_store_put_meta(st, "k5", "5", 1));
    CHECK_EQ_U64(collab_store_pending(st), 4);
    CHECK_OK(collab_store_commit(st));
    CHECK_OK(collab_store_committed(st, &got));
    CHECK_EQ_U64(got, 4);

    /* destroy commits what was submitted, not the open batch */
    CHECK_OK(collab_store_put_meta(st, "submitted", "s", 1));
    CHECK_OK(collab_store_submit(st));
    CHECK_OK(collab_store_put_meta(st, "unsubmitted", "u", 1));
    CHECK(collab_store_in_batch(st));
    collab_store_destroy(&st);
    st = open_ok(path, false);
    if (!st)
        return;
    CHECK_EQ_INT(collab_store_get_meta(st, "submitted", buf, sizeof buf), 1);
    CHECK_EQ_INT(collab_store_get_meta(st, "unsubmitted", buf, sizeof buf), 0);
    CHECK_EQ_INT(collab_store_get_meta(st, "dropped", buf, sizeof buf), 0);
    CHECK_EQ_INT(collab_store_get_meta(st, "k5", buf, sizeof buf), 1);
    collab_store_destroy(&st);
}

/*  In writer mode events_since sees what was recorded, submitted or not, without
    committing it or waiting for the writer; the start-up reads (meta, load) commit first. */
static void test_writer_reads_commit_first(void)
{
    const char *path = tmp_path("writer-reads.db");
    collab_store_t *st = open_ok(path, false);
    if (!st)
        return;
    CHECK_OK(collab_store_start_writer(st));
    for (uint64_t seq = 1; seq <= 5; seq++)
        CHECK_OK(put_test_event(st, "w1", seq, 3));
    CHECK(collab_store_in_batch(st));
    CHECK_EQ_U64(collab_store_pending(st), 1);
    CHECK_EQ_INT(raw_int(path, "SELECT count(*) FROM event_log"), 0); /* nothing on disk */
    check_events(st, "w1", 0, 3, 5, 3);                               /* the newest 3 */
    /* the read committed nothing: the batch is still open, the committed number unmoved */
    CHECK(collab_store_in_batch(st));
    CHECK_EQ_U64(collab_store_pending(st), 1);
    uint64_t got = 99;
    CHECK_OK(collab_store_committed(st, &got));
    CHECK_EQ_U64(got, 0);
    CHECK_EQ_INT(raw_int(path, "SELECT count(*) FROM event_log"), 0);

    /* submitted: the same answer whether the writer has committed it yet or not */
    CHECK_OK(collab_store_submit(st));
    check_events(st, "w1", 0, 3, 5, 3);
    CHECK_OK(wait_committed(st, 1, &got));
    CHECK_EQ_U64(got, 1);
    check_events(st, "w1", 0, 3, 5, 3); /* now from the file */
    /* the retained events are on disk (the evicted ones wait for the log's collection) */
    CHECK_EQ_INT(raw_int(path, "SELECT count(*) FROM event_log WHERE seq >= 3"), 3);

    /* recorded, not submitted, then read from the middle of the run */
    CHECK_OK(put_test_event(st, "w1", 6, 3));
    CHECK_OK(put_test_event(st, "w1", 7, 3));
    check_events(st, "w1", 5, 6, 7, 5);
    check_events(st, "w1", 7, 8, 7, 5); /* nothing newer: no callback */
    check_events(st, "nobody", 0, 1, 0, 0);
    CHECK(collab_store_in_batch(st)); /* half from the file, half from the open batch */
    CHECK_OK(collab_store_committed(st, &got));
    CHECK_EQ_U64(got, 1);

    /* the start-up reads, meta and load, commit first */
    CHECK_OK(collab_store_put_meta(st, "m", "abc", 3));
    uint8_t buf[8];
    CHECK_EQ_INT(collab_store_get_meta(st, "m", buf, sizeof buf), 3);
    CHECK(!collab_store_in_batch(st));
    collab_task_t t;
    char title[] = "written, then loaded";
    sample_task(&t, 9, 1, title);
    CHECK_OK(collab_store_put_task(st, &t));
    loaded_t *l = load_all(st, 0);
    CHECK_EQ_INT(l->n_tasks, 1);
    if (l->n_tasks == 1)
        CHECK_STR(l->tasks[0].title, title);
    loaded_free(l);
    CHECK(!collab_store_in_batch(st));
    collab_store_destroy(&st);

    st = open_ok(path, false);
    if (!st)
        return;
    collab_store_set_retention(st, 3); /* as the broker does at open */
    check_events(st, "w1", 0, 5, 7, 5);
    collab_store_destroy(&st);
}

/*  A value SQLite cannot take, in writer mode: refused while recording (the batch fails,
    the next one is fine after a rollback), or refused by SQLite at commit (final). */
static void test_writer_refused_value(void)
{
    const char *path = tmp_path("writer-refused.db");
    collab_store_t *st = open_ok(path, false);
    if (!st)
        return;
    uint8_t small[4] = {1, 2, 3, 4}, buf[8];
    CHECK_OK(collab_store_start_writer(st));
    CHECK_OK(collab_store_put_meta(st, "kept", small, sizeof small));
    CHECK_OK(collab_store_commit(st));
    CHECK_OK(collab_store_put_meta(st, "lost", small, sizeof small));
    /* a length over INT32_MAX with a 4-byte buffer: refused without reading it */
    CHECK_RC(collab_store_put_meta(st, "huge", small, (size_t)INT32_MAX + 1), COLLAB_E_IO);
    CHECK_RC(collab_store_put_meta(st, "after", small, 1), COLLAB_E_IO); /* the batch failed */
    CHECK_RC(collab_store_submit(st), COLLAB_E_IO);
    CHECK_RC(collab_store_commit(st), COLLAB_E_IO);
    CHECK_RC(collab_store_get_meta(st, "kept", buf, sizeof buf), COLLAB_E_IO); /* cannot commit */
    collab_store_rollback(st);
    CHECK(!collab_store_in_batch(st));
    CHECK_EQ_INT(collab_store_get_meta(st, "lost", buf, sizeof buf), 0);
    CHECK_EQ_INT(collab_store_get_meta(st, "kept", buf, sizeof buf), 4);
    CHECK_OK(collab_store_put_meta(st, "next", small, 2)); /* the writer did not fail */
    CHECK_OK(collab_store_commit(st));
    CHECK_EQ_INT(collab_store_get_meta(st, "next", buf, sizeof buf), 2);
    collab_store_destroy(&st);
    st = open_ok(path, false);
    if (!st)
        return;
    CHECK_EQ_INT(collab_store_get_meta(st, "kept", buf, sizeof buf), 4);
    CHECK_EQ_INT(collab_store_get_meta(st, "next", buf, sizeof buf), 2);
    CHECK_EQ_INT(collab_store_get_meta(st, "lost", buf, sizeof buf), 0);
    CHECK_EQ_INT(collab_store_get_meta(st, "huge", buf, sizeof buf), 0);
    collab_store_destroy(&st);

    /* a value only SQLite refuses (over its length limit, lowered here to 64 bytes): the
       batch is recorded and submitted, the commit fails, and the writer is done */
    path = tmp_path("writer-final.db");
    st = open_ok(path, false);
    if (!st)
        return;
    sqlite3_limit(collab_store_db(st), SQLITE_LIMIT_LENGTH, 64);
    CHECK_OK(collab_store_start_writer(st));
    CHECK_OK(collab_store_put_meta(st, "ok", small, sizeof small));
    CHECK_OK(collab_store_commit(st));
    uint8_t big[200];
    memset(big, 0xab, sizeof big);
    CHECK_OK(collab_store_put_meta(st, "beside", small, sizeof small));
    CHECK_OK(collab_store_put_meta(st, "big", big, sizeof big)); /* recorded: 200 bytes is fine */
    CHECK_OK(collab_store_submit(st));
    uint64_t got = 99;
    CHECK_RC(wait_committed(st, 2, &got), COLLAB_E_IO);
    CHECK_EQ_U64(got, 1);
    CHECK_RC(collab_store_committed(st, &got), COLLAB_E_IO); /* and it stays failed */
    CHECK_EQ_U64(got, 1);
    CHECK_OK(collab_store_put_meta(st, "later", small, 1)); /* recorded ... */
    CHECK_RC(collab_store_submit(st), COLLAB_E_IO);         /* ... never handed over */
    CHECK_RC(collab_store_commit(st), COLLAB_E_IO);
    CHECK_RC(collab_store_get_meta(st, "ok", buf, sizeof buf), COLLAB_E_IO);
    collab_store_destroy(&st);
    st = open_ok(path, false);
    if (!st)
        return;
    CHECK_EQ_INT(collab_store_get_meta(st, "ok", buf, sizeof buf), 4);
    CHECK_EQ_INT(collab_store_get_meta(st, "beside", buf, sizeof buf), 0); /* all or nothing */
    CHECK_EQ_INT(collab_store_get_meta(st, "big", buf, sizeof buf), 0);
    CHECK_EQ_INT(collab_store_get_meta(st, "later", buf, sizeof buf), 0);
    collab_store_destroy(&st);
}

/*  The migrations work on the connection directly: once the writer thread owns it, they
    refuse instead of racing it, and the stored sessions are left alone. */
static void test_writer_refuses_migrations(void)
{
    const char *path = tmp_path("writer-migrations.db");
    collab_store_t *st = open_ok(path, false);
    if (!st)
        return;
    collab_session_t s;
    sample_session(&s);
    CHECK_OK(collab_store_put_session(st, &s));
    CHECK(collab_store_db(st) != NULL);
    CHECK_OK(collab_store_start_writer(st));
    CHECK(collab_store_db(st) == NULL);
    uint32_t dropped = 99;
    CHECK_RC(collab_store_drop_sessions(st, &dropped), COLLAB_E_INTERNAL);
    CHECK_EQ_INT(dropped, 0);
    CHECK_RC(collab_store_scrub(st), COLLAB_E_INTERNAL);
    collab_store_destroy(&st);
    st = open_ok(path, false);
    loaded_t *l = st ? load_all(st, 0) : NULL;
    CHECK(l && l->n_sessions == 1);
    if (l)
        loaded_free(l);
    collab_store_destroy(&st);
}

int main(void)
{
    if (store_test_setup("test_store_async") != 0)
        return 1;
    TU_RUN(test_writer_roundtrip);
    TU_RUN(test_writer_pending);
    TU_RUN(test_writer_reads_commit_first);
    TU_RUN(test_writer_refused_value);
    TU_RUN(test_writer_refuses_migrations);
    return store_test_finish("test_store_async");
}
