/*  test_store_load.c: the SQLite state file. Every record type round-trips with every
    field, reset, cascading project deletion, meta values, refusal of files that are not
    ours (left byte-identical), WAL files and rows that do not fit their records. */
#include "store_test.h"

static void test_roundtrip(void)
{
    const char *path = tmp_path("roundtrip.db");
    collab_store_t *st = open_ok(path, false);
    if (!st)
        return;
    samples_t x;
    samples_init(&x);
    collab_agent_t a = x.a;
    collab_session_t s = x.s;

    CHECK(!collab_store_in_batch(st));
    samples_write(st, &x);
    CHECK_OK(collab_store_commit(st));
    CHECK(!collab_store_in_batch(st));
    CHECK_OK(collab_store_commit(st)); /* no-op */
    collab_store_destroy(&st);
    CHECK(st == NULL);
    collab_store_destroy(&st);

    st = open_ok(path, false);
    if (!st)
        return;
    loaded_t *l = load_all(st, 0);
    samples_check(l, &x);
    loaded_free(l);

    /* puts are upserts; a callback's code stops the load and is returned */
    a.role = COLLAB_ROLE_ADMIN;
    a.cap_count = 0;
    s.rid_len = 0;
    CHECK_OK(collab_store_put_agent(st, &a));
    CHECK_OK(collab_store_put_session(st, &s));
    CHECK_OK(collab_store_commit(st));
    l = load_all(st, 0);
    CHECK_EQ_INT(l->n_agents, 1);
    CHECK_EQ_INT(l->agents[0].role, COLLAB_ROLE_ADMIN);
    CHECK_EQ_INT(l->agents[0].cap_count, 0);
    CHECK_EQ_INT(l->n_sessions, 1);
    CHECK_EQ_INT(l->sessions[0].rid_len, 0);
    loaded_free(l);
    l = calloc(1, sizeof *l);
    l->stop_after = 3;
    CHECK_RC(collab_store_load(st, &loader, l), COLLAB_E_BUSY);
    CHECK_EQ_INT(l->n_projects, 1); /* agent, session, first project: stopped */
    CHECK_EQ_INT(l->n_tasks, 0);
    loaded_free(l);

    /* a NULL callback skips its table */
    collab_store_loader_t only_tasks = {.task = on_task};
    l = calloc(1, sizeof *l);
    CHECK_OK(collab_store_load(st, &only_tasks, l));
    CHECK_EQ_INT(l->n_agents + l->n_projects, 0);
    CHECK_EQ_INT(l->n_tasks, 1);
    loaded_free(l);

    CHECK_OK(collab_store_delete_session(st, s.token));
    CHECK_OK(collab_store_commit(st));
    l = load_all(st, 0);
    CHECK_EQ_INT(l->n_sessions, 0);
    loaded_free(l);
    collab_store_destroy(&st);
}

static void test_reset(void)
{
    const char *path = tmp_path("reset.db");
    collab_store_t *st = open_ok(path, false);
    if (!st)
        return;
    collab_agent_t a;
    collab_session_t s;
    collab_project_t p;
    collab_task_t t;
    char name[] = "p", title[] = "t";
    sample_agent(&a);
    sample_session(&s);
    sample_project(&p, 1, name, name);
    sample_task(&t, 1, 1, title);
    collab_event_t ev = {.agent_id = "worker-1", .seq = 1, .name = "task_assigned"};
    CHECK_OK(collab_store_put_agent(st, &a));
    CHECK_OK(collab_store_put_session(st, &s));
    CHECK_OK(collab_store_put_project(st, &p));
    CHECK_OK(collab_store_put_task(st, &t));
    CHECK_OK(collab_store_put_event(st, &ev, 10));
    CHECK_OK(collab_store_put_meta(st, "next_project_id", "\x02", 1));
    CHECK_OK(collab_store_commit(st));
    collab_store_destroy(&st);

    st = open_ok(path, true);
    if (!st)
        return;
    loaded_t *l = load_all(st, 0);
    CHECK_EQ_INT(l->n_agents + l->n_sessions + l->n_projects + l->n_tasks, 0);
    loaded_free(l);
    uint64_t oldest = 99;
    events_t e = {0};
    CHECK_OK(collab_store_events_since(st, "worker-1", 0, on_event, &e, &oldest));
    CHECK_EQ_INT(e.n, 0);
    CHECK_EQ_U64(oldest, 0);
    char buf[16];
    CHECK_EQ_INT(collab_store_get_meta(st, "next_project_id", buf, sizeof buf), 0);
    /* the schema survives: writes work and the file still opens as ours */
    CHECK_OK(collab_store_put_project(st, &p));
    CHECK_OK(collab_store_commit(st));
    collab_store_destroy(&st);
    st = open_ok(path, false);
    l = st ? load_all(st, 0) : NULL;
    CHECK(l && l->n_projects == 1);
    if (l)
        loaded_free(l);
    collab_store_destroy(&st);
}

static void test_delete_project(void)
{
    collab_store_t *st = open_ok(tmp_path("delete.db"), false);
    if (!st)
        return;
    char name[] = "n", title[] = "t";
    collab_project_t p;
    collab_task_t t;
    for (uint64_t id = 1; id <= 2; id++) {
        sample_project(&p, id, name, name);
        CHECK_OK(collab_store_put_project(st, &p));
    }
    for (uint64_t id = 1; id <= 5; id++) {
        sample_task(&t, id, id <= 3 ? 1 : 2, title);
        CHECK_OK(collab_store_put_task(st, &t));
    }
    CHECK_OK(collab_store_commit(st));
    CHECK_OK(collab_store_delete_project(st, 1));
    CHECK_OK(collab_store_delete_project(st, 99)); /* absent: nothing to do */
    CHECK_OK(collab_store_commit(st));
    loaded_t *l = load_all(st, 0);
    CHECK_EQ_INT(l->n_projects, 1);
    CHECK_EQ_U64(l->projects[0].id, 2);
    CHECK_EQ_INT(l->n_tasks, 2);
    if (l->n_tasks == 2) {
        CHECK_EQ_U64(l->tasks[0].id, 4);
        CHECK_EQ_U64(l->tasks[1].id, 5);
    }
    loaded_free(l);
    collab_store_destroy(&st);
}

static void test_meta(void)
{
    collab_store_t *st = open_ok(tmp_path("meta.db"), false);
    if (!st)
        return;
    uint8_t head[32], buf[64];
    for (int i = 0; i < 32; i++)
        head[i] = (uint8_t)(i * 7);
    CHECK_EQ_INT(collab_store_get_meta(st, "audit_head", buf, sizeof buf), 0);
    CHECK_OK(collab_store_put_meta(st, "audit_head", head, sizeof head));
    CHECK_EQ_INT(collab_store_get_meta(st, "audit_head", buf, sizeof buf), 32);
    CHECK_MEM(buf, 32, head, 32);
    CHECK_RC(collab_store_get_meta(st, "audit_head", buf, 31), COLLAB_E_TOO_LARGE);
    CHECK_OK(collab_store_put_meta(st, "audit_head", "ab", 2)); /* replaces */
    CHECK_EQ_INT(collab_store_get_meta(st, "audit_head", buf, sizeof buf), 2);
    CHECK_MEM(buf, 2, "ab", 2);
    CHECK_OK(collab_store_put_meta(st, "empty", NULL, 0));
    CHECK_EQ_INT(collab_store_get_meta(st, "empty", buf, sizeof buf), 0);
    CHECK_OK(collab_store_commit(st));
    /* the schema marker is a meta row too */
    CHECK_EQ_INT(collab_store_get_meta(st, "schema", buf, sizeof buf), 12);
    CHECK_MEM(buf, 12, "taskcollab-1", 12);
    collab_store_destroy(&st);
}

static void test_foreign_files(void)
{
    const char *foreign = tmp_path("foreign.db");
    CHECK(raw_sql(foreign, "CREATE TABLE users(name TEXT, password TEXT);"
                           "INSERT INTO users VALUES('alice', 'secret');"));
    check_refused(foreign, ": not a taskcollab state file (no schema marker; it has 'users')");
    CHECK(!file_exists(tmp_path("foreign.db-wal")));

    const char *view = tmp_path("view.db"); /* no table at all, still someone's */
    CHECK(raw_sql(view, "CREATE VIEW answer AS SELECT 42"));
    check_refused(view, ": not a taskcollab state file (no schema marker; it has 'answer')");

    const char *other = tmp_path("other-schema.db");
    CHECK(raw_sql(other, "CREATE TABLE meta(key TEXT PRIMARY KEY, value BLOB);"
                         "INSERT INTO meta VALUES('schema', 'other-app-2\x1b[31m');"));
    check_refused(other, ": not a taskcollab state file (schema 'other-app-2?[31m', expected "
                         "'taskcollab-1')");

    const char *garbage = tmp_path("garbage.db");
    FILE *f = fopen(garbage, "wb");
    if (CHECK(f)) {
        for (int i = 0; i < 300; i++)
            fprintf(f, "this is not a database, line %d\n", i);
        fclose(f);
    }
    check_refused(garbage, ": not a taskcollab state file (file is not a database)");

    /* a missing directory is an error, never a crash */
    char err[512] = "";
    collab_store_t *st = collab_store_open(tmp_path("no/such/dir.db"), false, err, sizeof err);
    CHECK(st == NULL);
    CHECK(strstr(err, "cannot open") != NULL);

    /* an empty file is a new database: the schema goes in */
    const char *empty = tmp_path("empty.db");
    f = fopen(empty, "wb");
    if (CHECK(f))
        fclose(f);
    st = open_ok(empty, false);
    CHECK(st != NULL);
    collab_store_destroy(&st);
    st = open_ok(empty, false);
    CHECK(st != NULL);
    collab_store_destroy(&st);
}

static void test_wal_and_bad_rows(void)
{
    const char *path = tmp_path("rows.db");
    collab_store_t *st = open_ok(path, false);
    if (!st)
        return;
    sqlite3 *db = NULL;
    if (CHECK(sqlite3_open(path, &db) == SQLITE_OK)) {
        sqlite3_stmt *q = NULL;
        CHECK(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, NULL) == SQLITE_OK &&
              sqlite3_step(q) == SQLITE_ROW);
        CHECK_STR((const char *)sqlite3_column_text(q, 0), "wal");
        sqlite3_finalize(q);
    }
    sqlite3_close(db);

    /* rows another program wrote: out-of-range values are errors, not crashes */
    static const char *const bad[] = {
        "INSERT INTO agents(agent_id, role) VALUES('x', 99)",
        "INSERT INTO agents(agent_id, role, caps) VALUES('x', 0, "
        "'a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q')", /* 17 capabilities */
        "INSERT INTO sessions(token, role, rid) VALUES('t', 0, zeroblob(257))",
        "INSERT INTO projects(id, owner) VALUES(1, printf('%.65c', 'o'))",
        "INSERT INTO tasks(id, status) VALUES(1, -1)",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char sql[512];
        snprintf(sql, sizeof sql,
                 "DELETE FROM agents; DELETE FROM sessions; DELETE FROM projects;"
                 " DELETE FROM tasks; %s",
                 bad[i]);
        CHECK(raw_sql(path, sql));
        loaded_t *l = load_all(st, COLLAB_E_IO);
        loaded_free(l);
    }
    /* NULL columns read as empty values */
    CHECK(raw_sql(path, "DELETE FROM tasks; INSERT INTO tasks(id, status) VALUES(5, 0)"));
    loaded_t *l = load_all(st, 0);
    CHECK_EQ_INT(l->n_tasks, 1);
    if (l->n_tasks == 1) {
        CHECK_STR(l->tasks[0].title, "");
        CHECK_STR(l->tasks[0].assigned_to, "");
    }
    loaded_free(l);
    collab_store_destroy(&st);
}

int main(void)
{
    if (store_test_setup("test_store_load") != 0)
        return 1;
    TU_RUN(test_roundtrip);
    TU_RUN(test_reset);
    TU_RUN(test_delete_project);
    TU_RUN(test_meta);
    TU_RUN(test_foreign_files);
    TU_RUN(test_wal_and_bad_rows);
    return store_test_finish("test_store_load");
}
