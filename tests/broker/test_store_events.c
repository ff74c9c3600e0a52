/*  test_store_events.c: the event log: retention per agent, events since N, agents'
    event_seq recovered from the log, rows of the log that are not events of ours, and the
    migration of the old events table into the log. */
#include "store_test.h"

static void test_events(void)
{
    collab_store_t *st = open_ok(tmp_path("events.db"), false);
    if (!st)
        return;
    char data[16];
    for (uint64_t seq = 1; seq <= 10; seq++) {
        snprintf(data, sizeof data, "d%llu", (unsigned long long)seq);
        collab_event_t ev = {.agent_id = "w1",
                             .seq = seq,
                             .name = "task_assigned",
                             .timestamp = 1000 + seq,
                             .data = (const uint8_t *)data,
                             .data_len = strlen(data)};
        CHECK_OK(collab_store_put_event(st, &ev, 4));
        collab_event_t other = {.agent_id = "w2", .seq = seq, .name = "x", .timestamp = seq};
        CHECK_OK(collab_store_put_event(st, &other, 100)); /* no data at all */
    }
    CHECK_OK(collab_store_commit(st));

    events_t e = {0};
    uint64_t oldest = 0;
    CHECK_OK(collab_store_events_since(st, "w1", 0, on_event, &e, &oldest));
    CHECK_EQ_U64(oldest, 7); /* the newest 4 are kept */
    CHECK_EQ_INT(e.n, 4);
    if (e.n == 4)
        for (size_t i = 0; i < 4; i++) {
            char want[16];
            snprintf(want, sizeof want, "d%zu", i + 7);
            CHECK_EQ_U64(e.seq[i], i + 7);
            CHECK_EQ_U64(e.ts[i], 1007 + i);
            CHECK_STR(e.data[i], want);
        }
    memset(&e, 0, sizeof e);
    CHECK_OK(collab_store_events_since(st, "w1", 8, on_event, &e, &oldest));
    CHECK_EQ_INT(e.n, 2);
    CHECK_EQ_U64(e.seq[0], 9);
    CHECK_EQ_U64(oldest, 7);
    memset(&e, 0, sizeof e);
    e.stop_at = 2;
    CHECK_RC(collab_store_events_since(st, "w1", 0, on_event, &e, &oldest), COLLAB_E_BUSY);
    CHECK_EQ_INT(e.n, 2);

    /* the other agent's retention is its own */
    memset(&e, 0, sizeof e);
    CHECK_OK(collab_store_events_since(st, "w2", 0, on_event, &e, &oldest));
    CHECK_EQ_INT(e.n, 10);
    CHECK_EQ_U64(oldest, 1);
    CHECK_STR(e.data[0], "BAD"); /* name "x", so the callback flagged it; data was empty */
    memset(&e, 0, sizeof e);
    CHECK_OK(collab_store_events_since(st, "nobody", 0, on_event, &e, &oldest));
    CHECK_EQ_INT(e.n, 0);
    CHECK_EQ_U64(oldest, 0);
    collab_store_destroy(&st);
}

/*  An agent's event_seq at load is the newest of its row's and its log's. */
static void test_event_seq_recovery(void)
{
    const char *path = tmp_path("event-seq.db");
    collab_store_t *st = open_ok(path, false);
    if (!st)
        return;
    collab_agent_t a, ahead, quiet;
    sample_agent(&a);
    a.event_seq = 0; /* the row as of the agent's last write */
    ahead = a;
    snprintf(ahead.id, sizeof ahead.id, "ahead");
    ahead.event_seq = 100; /* the row is newer than its log */
    quiet = a;
    snprintf(quiet.id, sizeof quiet.id, "quiet");
    quiet.event_seq = 42; /* no events at all */
    CHECK_OK(collab_store_put_agent(st, &a));
    CHECK_OK(collab_store_put_agent(st, &ahead));
    CHECK_OK(collab_store_put_agent(st, &quiet));
    CHECK_OK(collab_store_commit(st));
    for (uint64_t seq = 1; seq <= 5; seq++)
        CHECK_OK(put_test_event(st, a.id, seq, 3));
    CHECK_OK(put_test_event(st, "ahead", 1, 3));
    CHECK_OK(put_test_event(st, "ahead", 2, 3));
    CHECK_OK(collab_store_commit(st));
    collab_store_destroy(&st);

    st = open_ok(path, false);
    if (!st)
        return;
    loaded_t *l = load_all(st, 0);
    CHECK_EQ_INT(l->n_agents, 3);
    const collab_agent_t *g = find_agent(l, a.id);
    if (CHECK(g))
        CHECK_EQ_U64(g->event_seq, 5); /* the latest in the log */
    if (CHECK((g = find_agent(l, "ahead"))))
        CHECK_EQ_U64(g->event_seq, 100);
    if (CHECK((g = find_agent(l, "quiet"))))
        CHECK_EQ_U64(g->event_seq, 42);
    loaded_free(l);
    collab_store_set_retention(st, 3); /* as the broker does at open */
    check_events(st, a.id, 0, 3, 5, 3);

    /* the same through the writer thread */
    CHECK_OK(collab_store_start_writer(st));
    for (uint64_t seq = 6; seq <= 8; seq++)
        CHECK_OK(put_test_event(st, a.id, seq, 3));
    CHECK_OK(collab_store_submit(st));
    collab_store_destroy(&st); /* commits what was submitted */
    st = open_ok(path, false);
    if (!st)
        return;
    l = load_all(st, 0);
    if (CHECK((g = find_agent(l, a.id))))
        CHECK_EQ_U64(g->event_seq, 8);
    loaded_free(l);
    collab_store_set_retention(st, 3);
    check_events(st, a.id, 0, 6, 8, 6);
    collab_store_destroy(&st);
}

/*  A file written before the event log: events(agent_id, seq, ...) keyed by (agent, seq),
    sessions without curve_key. Opening it moves the events into the log, each agent's in
    order, and drops the old table. */
/*  An event log from a file is input: rows that cannot be events (seq 0 or negative, a
    negative id, an agent id too long) are skipped, the rest replays; a row id so large that
    appending would wrap refuses the file with an error. */
static void test_event_log_bad_rows(void)
{
    const char *path = tmp_path("bad-log.db");
    collab_store_t *st = open_ok(path, true);
    if (!st)
        return;
    collab_event_t ev = {.agent_id = "w1", .seq = 1, .name = "x", .timestamp = 1};
    CHECK_OK(collab_store_put_event(st, &ev, 10));
    CHECK_OK(collab_store_commit(st));
    collab_store_destroy(&st);
    CHECK(raw_sql(path,
                  "INSERT INTO event_log(id, agent_id, seq, name, ts, data) VALUES"
                  " (-5, 'w1', 2, 'x', 1, x''), (7, 'w1', 0, 'x', 1, x''),"
                  " (8, 'w2', -1, 'x', 1, x''),"
                  " (9, 'wwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwww', 1,"
                  " 'x', 1, x''), (10, 'w1', 2, 'x', 2, x'')"));
    st = open_ok(path, false);
    if (!st)
        return;
    events_t e = {0};
    uint64_t oldest = 0;
    CHECK_OK(collab_store_events_since(st, "w1", 0, on_event, &e, &oldest));
    CHECK_EQ_INT(e.n, 2);
    CHECK_EQ_U64(oldest, 1);
    memset(&e, 0, sizeof e);
    CHECK_OK(collab_store_events_since(st, "w2", 0, on_event, &e, &oldest));
    CHECK_EQ_INT(e.n, 0);
    ev.seq = 3; /* appends after row 10 */
    CHECK_OK(collab_store_put_event(st, &ev, 10));
    CHECK_OK(collab_store_commit(st));
    collab_store_destroy(&st);

    CHECK(raw_sql(path, "INSERT INTO event_log(id, agent_id, seq, name, ts, data) VALUES"
                        " (9223372036854775807, 'w1', 4, 'x', 1, x'')"));
    char err[512] = "";
    st = collab_store_open(path, false, err, sizeof err);
    CHECK(st == NULL);
    CHECK(strstr(err, "event log") != NULL);
    collab_store_destroy(&st);
}

static void test_migrate_old_events(void)
{
    const char *path = tmp_path("old-events.db");
    CHECK(raw_sql(path,
                  "CREATE TABLE meta(key TEXT PRIMARY KEY, value BLOB);"
                  "CREATE TABLE agents(agent_id TEXT PRIMARY KEY, role INT, pw_hash TEXT,"
                  " registered INT, caps TEXT, last_seen INT, event_seq INT, failures INT,"
                  " locked_until INT);"
                  "CREATE TABLE sessions(token TEXT PRIMARY KEY, handle INT, agent_id TEXT,"
                  " role INT, created INT, last_activity INT, peer TEXT, rid BLOB, subscribed INT,"
                  " subscribed_all INT);"
                  "CREATE TABLE projects(id INTEGER PRIMARY KEY, name TEXT, description TEXT,"
                  " owner TEXT, closed INT, created INT, task_count INT);"
                  "CREATE TABLE tasks(id INTEGER PRIMARY KEY, project_id INT, type TEXT,"
                  " title TEXT, description TEXT, result TEXT, status INT, assigned_to TEXT,"
                  " assigned_by TEXT, created INT, updated INT);"
                  "CREATE INDEX tasks_project ON tasks(project_id);"
                  "CREATE TABLE events(agent_id TEXT, seq INT, name TEXT, ts INT, data BLOB,"
                  " PRIMARY KEY(agent_id, seq));"
                  "INSERT INTO meta(key, value) VALUES('schema', 'taskcollab-1');"
                  "INSERT INTO agents VALUES('w1', 0, '', 1, '', 5, 2, 0, 0);"
                  "INSERT INTO sessions VALUES('tok', 1, 'w1', 0, 10, 20, 'peer', x'01', 1, 0);"
                  /* interleaved and out of order, as rows of a keyed table may be */
                  "INSERT INTO events VALUES('w2', 11, 'task_assigned', 1011, 'd11');"
                  "INSERT INTO events VALUES('w1', 3, 'task_assigned', 1003, 'd3');"
                  "INSERT INTO events VALUES('w1', 1, 'task_assigned', 1001, 'd1');"
                  "INSERT INTO events VALUES('w2', 10, 'task_assigned', 1010, 'd10');"
                  "INSERT INTO events VALUES('w1', 4, 'task_assigned', 1004, 'd4');"
                  "INSERT INTO events VALUES('w1', 2, 'task_assigned', 1002, 'd2');"
                  "INSERT INTO events VALUES('w2', 12, 'task_assigned', 1012, 'd12');"));

    collab_store_t *st = open_ok(path, false);
    if (!st)
        return;
    check_events(st, "w1", 0, 1, 4, 1);
    check_events(st, "w2", 0, 10, 12, 10);
    check_events(st, "w2", 10, 11, 12, 10);
    loaded_t *l = load_all(st, 0);
    CHECK_EQ_INT(l->n_agents, 1);
    CHECK_EQ_U64(l->agents[0].event_seq, 4); /* the row said 2; the log has 4 */
    CHECK_EQ_INT(l->n_sessions, 1);
    CHECK_STR(l->sessions[0].curve_key, "");
    loaded_free(l);
    collab_store_destroy(&st);
    CHECK_EQ_INT(raw_int(path, "SELECT count(*) FROM sqlite_master WHERE name = 'events'"), 0);
    CHECK_EQ_INT(raw_int(path, "SELECT count(*) FROM event_log"), 7);

    /* opened again: nothing more to move, the events are the same, and the runs go on */
    st = open_ok(path, false);
    if (!st)
        return;
    check_events(st, "w1", 0, 1, 4, 1);
    check_events(st, "w2", 0, 10, 12, 10);
    CHECK_OK(put_test_event(st, "w1", 5, 100));
    CHECK_OK(collab_store_commit(st));
    check_events(st, "w1", 3, 4, 5, 1);
    collab_store_destroy(&st);
    CHECK_EQ_INT(raw_int(path, "SELECT count(*) FROM event_log"), 8);
}

int main(void)
{
    if (store_test_setup("test_store_events") != 0)
        return 1;
    TU_RUN(test_events);
    TU_RUN(test_event_seq_recovery);
    TU_RUN(test_event_log_bad_rows);
    TU_RUN(test_migrate_old_events);
    return store_test_finish("test_store_events");
}
