/*  store_sqlite.c: the SQLite backend (see store_sqlite.h and store.h): open and close,
    the batch (direct or through the writer thread), and the backend's operations. Writes
    are in store_sqlite_write.c, reads in store_sqlite_read.c. */
#include "store_sqlite.h"

#include "collab_error.h"
#include "store.h"
#include "store_schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const stmt_sql[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_PUT_AGENT] = "INSERT OR REPLACE INTO agents(agent_id, role, pw_hash, registered, caps,"
                     " last_seen, event_seq, failures, locked_until)"
                     " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    [ST_PUT_SESSION] = "INSERT OR REPLACE INTO sessions(token, handle, agent_id, role, created,"
                       " last_activity, peer, rid, subscribed, subscribed_all, curve_key)"
                       " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    [ST_DEL_SESSION] = "DELETE FROM sessions WHERE token = ?1",
    [ST_PUT_PROJECT] = "INSERT OR REPLACE INTO projects(id, name, description, owner, closed,"
                       " created, task_count) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    [ST_DEL_PROJECT] = "DELETE FROM projects WHERE id = ?1",
    [ST_DEL_PROJECT_TASKS] = "DELETE FROM tasks WHERE project_id = ?1",
    /* an update in place, not OR REPLACE (a delete and an insert, in the table and in
       tasks_project); project_id is left alone: a task never changes project */
    [ST_PUT_TASK] = "INSERT INTO tasks(id, project_id, type, title, description,"
                    " result, status, assigned_to, assigned_by, created, updated)"
                    " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)"
                    " ON CONFLICT(id) DO UPDATE SET type = ?3, title = ?4, description = ?5,"
                    " result = ?6, status = ?7, assigned_to = ?8, assigned_by = ?9,"
                    " created = ?10, updated = ?11",
    [ST_PUT_EVENT] = "INSERT INTO event_log(id, agent_id, seq, name, ts, data)"
                     " VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
    [ST_GC_EVENTS] = "DELETE FROM event_log WHERE id < ?1",
    [ST_MOVE_EVENT] = "INSERT INTO event_log(id, agent_id, seq, name, ts, data)"
                      " SELECT ?1, agent_id, seq, name, ts, data FROM event_log WHERE id = ?2",
    [ST_PUT_META] = "INSERT OR REPLACE INTO meta(key, value) VALUES(?1, ?2)",
    [ST_GET_META] = "SELECT value FROM meta WHERE key = ?1",
    [ST_LOAD_AGENTS] = "SELECT agent_id, role, pw_hash, registered, caps, last_seen, event_seq,"
                       " failures, locked_until FROM agents",
    [ST_LOAD_SESSIONS] = "SELECT token, handle, agent_id, role, created, last_activity, peer,"
                         " rid, subscribed, subscribed_all, curve_key FROM sessions",
    [ST_LOAD_PROJECTS] = "SELECT id, name, description, owner, closed, created, task_count"
                         " FROM projects ORDER BY id",
    [ST_LOAD_TASKS] = "SELECT id, project_id, type, title, description, result, status,"
                      " assigned_to, assigned_by, created, updated FROM tasks ORDER BY id",
    [ST_GET_EVENT] = "SELECT agent_id, seq, name, ts, data FROM event_log WHERE id = ?1",
    [ST_LOAD_EVENTS] = "SELECT id, agent_id, seq FROM event_log ORDER BY id",
};

/*  Batches waiting for the writer before the loop waits too. */
#define STORE_MAX_QUEUED 4

sqlite3 *collab_store_db(collab_store_t *store)
{
    collab_sqlite_t *self = collab_store_backend(store, &collab_sqlite_backend);
    return self && !self->writer ? self->db : NULL; /* the writer thread owns it from then on */
}

static void sq_set_vault(void *be, const collab_vault_t *vault)
{
    collab_sqlite_t *self = be;
    self->vault = vault;
    /* what is overwritten or deleted is zeroed in the file, not left in free pages */
    if (vault)
        sqlite3_exec(self->db, "PRAGMA secure_delete=ON", NULL, NULL, NULL);
}

static int sq_commit(void *be);
static void sq_rollback(void *be);

/*  Closes the database; an open batch is rolled back by the close. */
static void sq_close(void *be)
{
    collab_sqlite_t *self = be;
    if (!self)
        return;
    collab_writer_destroy(&self->writer); /* what was submitted is committed first */
    if (self->open) {
        collab_ops_free(self->open);
        free(self->open);
    }
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(self->st[i]);
    sqlite3_close(self->db);
    sqlite3_finalize(self->rd_event);
    sqlite3_close(self->rdb);
    sq_tail_free(self);
    collab_evindex_destroy(&self->events);
    pthread_mutex_destroy(&self->db_mu);
    free(self->path);
    free(self);
}

collab_sqlite_t *collab_sqlite_open(const char *path, bool reset, char *err, size_t errlen)
{
    collab_sqlite_t *self = calloc(1, sizeof *self);
    if (!self || !(self->path = strdup(path))) {
        free(self);
        if (err && errlen)
            snprintf(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    pthread_mutex_init(&self->db_mu, NULL);
    self->retain = UINT32_MAX;
    self->db = collab_store_schema_open(path, reset, err, errlen);
    if (!self->db)
        goto fail;
    for (int i = 0; i < ST_COUNT; i++)
        if (sqlite3_prepare_v3(self->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &self->st[i],
                               NULL) != SQLITE_OK) {
            if (err && errlen)
                snprintf(err, errlen, "%s: cannot prepare statements (%s)", path,
                         sqlite3_errmsg(self->db));
            goto fail;
        }
    if (!(self->events = collab_evindex_new()) || sq_index_events(self) != 0 ||
        sq_commit(self) != 0) {
        if (err && errlen)
            snprintf(err, errlen, "%s: cannot read the event log (%s)", path,
                     sqlite3_errmsg(self->db));
        goto fail;
    }
    return self;
fail:
    sq_close(self);
    return NULL;
}

/* ---------------------------------------------------------------------------------------
   The batch. Before collab_store_start_writer (start-up, tools, tests) every write binds
   and steps its statement inside the open transaction on the caller's thread ("direct").
   After it, every write is recorded into the open batch (store_ops.h) and the writer
   thread applies and commits batches in order ("writer"). The writes (store_sqlite_write.c)
   do not know which: they describe a row through row_*, which binds or records it. */

/*  Steps a statement that returns no rows, then readies it for reuse. Any thread. */
int sq_step_reset(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

/*  Direct mode: steps a write; a failure fails the batch. */
int sq_run(collab_sqlite_t *self, sqlite3_stmt *st)
{
    if (sq_step_reset(st) != SQLITE_DONE) {
        self->failed = true;
        return COLLAB_E_IO;
    }
    return 0;
}

int sq_begin(void *be)
{
    collab_sqlite_t *self = be;
    if (self->writer || !sqlite3_get_autocommit(self->db))
        return 0;
    return sq_run(self, self->st[ST_BEGIN]);
}

static bool sq_in_batch(const void *be)
{
    const collab_sqlite_t *self = be;
    return self->writer ? self->open->len > 0 : !sqlite3_get_autocommit(self->db);
}

/*  Direct mode: commits the open transaction. If any write of it failed, the whole batch is
    rolled back instead and COLLAB_E_IO returned, so the broker acknowledges nothing of a
    partly written batch. */
static int commit_direct(collab_sqlite_t *self)
{
    bool failed = self->failed;
    self->failed = false;
    if (sqlite3_get_autocommit(self->db)) /* nothing open (or SQLite already rolled back) */
        return failed ? COLLAB_E_IO : 0;
    if (!failed && sq_run(self, self->st[ST_COMMIT]) == 0) {
        self->submitted = self->committed = self->submitted + 1;
        return 0;
    }
    sq_rollback(self);
    return COLLAB_E_IO;
}

static int sq_submit(void *be)
{
    collab_sqlite_t *self = be;
    if (!self->writer)
        return commit_direct(self);
    if (self->open->failed)
        return COLLAB_E_IO; /* the loop's tables are ahead of any batch we could write */
    if (self->open->len == 0)
        return 0;
    return collab_writer_submit(self->writer, &self->open);
}

static bool sq_idle(void *be)
{
    collab_sqlite_t *self = be;
    return self->writer && collab_writer_idle(self->writer);
}

static int sq_commit(void *be)
{
    collab_sqlite_t *self = be;
    if (!self->writer)
        return commit_direct(self);
    int rc = sq_submit(self);
    if (rc == 0 && (rc = collab_writer_sync(self->writer)) == 0)
        sq_tail_prune(self, collab_writer_submitted(self->writer)); /* all of it is on disk */
    return rc;
}

static uint64_t sq_pending(const void *be)
{
    const collab_sqlite_t *self = be;
    uint64_t submitted = self->writer ? collab_writer_submitted(self->writer) : self->submitted;
    if (sq_in_batch(self))
        return submitted + 1;
    return submitted > self->committed ? submitted : 0;
}

static int sq_committed(void *be, uint64_t *committed)
{
    collab_sqlite_t *self = be;
    int rc = self->writer ? collab_writer_committed(self->writer, &self->committed) : 0;
    *committed = self->committed;
    sq_tail_prune(self, self->committed);
    return rc;
}

static int sq_fd(const void *be)
{
    const collab_sqlite_t *self = be;
    return self->writer ? collab_writer_fd(self->writer) : -1;
}

/*  Before a read: every write made so far is on disk, and the writer is idle. */
int sq_read_begin(collab_sqlite_t *self)
{
    if (!self->writer)
        return 0;
    int rc = sq_commit(self);
    if (rc == 0)
        pthread_mutex_lock(&self->db_mu);
    return rc;
}

void sq_read_end(collab_sqlite_t *self)
{
    if (self->writer)
        pthread_mutex_unlock(&self->db_mu);
}

/*  The event index followed the abandoned writes: it is rebuilt from the log as it is. */
static void sq_rollback(void *be)
{
    collab_sqlite_t *self = be;
    if (self->writer) {
        collab_ops_reset(self->open);
        if (collab_writer_sync(self->writer) != 0)
            return;                      /* a failed writer is final */
        sq_tail_prune(self, UINT64_MAX); /* the open batch is gone, the rest on disk */
        pthread_mutex_lock(&self->db_mu);
    } else if (!sqlite3_get_autocommit(self->db)) {
        sq_run(self, self->st[ST_ROLLBACK]);
    }
    self->failed = false;
    if (sq_index_events(self) != 0)
        self->failed = true; /* not rebuilt: the next commit fails too, and retries this */
    sq_read_end(self);
}

void sq_fail_batch(collab_sqlite_t *self)
{
    if (self->writer)
        self->open->failed = true;
    else
        self->failed = true;
}

bool sq_batch_failed(const collab_sqlite_t *self)
{
    return self->writer ? self->open->failed : self->failed;
}

/*  Writer thread: binds and steps every record of a batch. */
static int apply(collab_sqlite_t *self, const collab_ops_t *ops)
{
    collab_opv_t v[COLLAB_OPS_MAX_VALUES];
    unsigned id, n;
    uint32_t done = 0;
    size_t pos = 0;
    while (collab_ops_next(ops, &pos, &id, v, &n)) {
        if (id >= ST_COUNT)
            return COLLAB_E_INTERNAL;
        sqlite3_stmt *st = self->st[id];
        int rc = SQLITE_OK;
        for (unsigned i = 0; i < n && rc == SQLITE_OK; i++) {
            int col = (int)i + 1;
            if (v[i].kind == COLLAB_OPV_INT)
                rc = sqlite3_bind_int64(st, col, v[i].i);
            else if (v[i].kind == COLLAB_OPV_TEXT)
                rc = sqlite3_bind_text(st, col, v[i].p, (int)v[i].len, SQLITE_STATIC);
            else if (v[i].len == 0)
                rc = sqlite3_bind_zeroblob(st, col, 0);
            else
                rc = sqlite3_bind_blob(st, col, v[i].p, (int)v[i].len, SQLITE_STATIC);
        }
        if (rc != SQLITE_OK || sq_step_reset(st) != SQLITE_DONE) {
            sqlite3_reset(st);
            sqlite3_clear_bindings(st);
            return COLLAB_E_IO;
        }
        done++;
    }
    return done == ops->count && pos == ops->len ? 0 : COLLAB_E_INTERNAL;
}

/*  Writer thread: n batches, one transaction, all or nothing. */
static int commit_batches(void *arg, collab_ops_t *const *batches, size_t n)
{
    collab_sqlite_t *self = arg;
    pthread_mutex_lock(&self->db_mu);
    int rc = sq_step_reset(self->st[ST_BEGIN]) == SQLITE_DONE ? 0 : COLLAB_E_IO;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = apply(self, batches[i]);
    if (rc == 0 && sq_step_reset(self->st[ST_COMMIT]) != SQLITE_DONE)
        rc = COLLAB_E_IO;
    if (rc && !sqlite3_get_autocommit(self->db))
        sq_step_reset(self->st[ST_ROLLBACK]);
    pthread_mutex_unlock(&self->db_mu);
    return rc;
}

/*  The loop's read-only connection for durable events: WAL lets it read while the writer
    thread commits, without waiting for it. */
static int open_reader(collab_sqlite_t *self)
{
    if (sqlite3_open_v2(self->path, &self->rdb, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_busy_timeout(self->rdb, 5000) == SQLITE_OK &&
        sqlite3_prepare_v3(self->rdb, stmt_sql[ST_GET_EVENT], -1, SQLITE_PREPARE_PERSISTENT,
                           &self->rd_event, NULL) == SQLITE_OK)
        return 0;
    sqlite3_finalize(self->rd_event);
    sqlite3_close(self->rdb);
    self->rd_event = NULL;
    self->rdb = NULL;
    return COLLAB_E_IO;
}

static int sq_start_async(void *be)
{
    collab_sqlite_t *self = be;
    if (self->writer)
        return 0;
    if (sq_commit(self) != 0)
        return COLLAB_E_IO;
    self->submitted = self->committed = 0; /* the writer numbers its batches from 1 */
    if (open_reader(self) != 0)
        return COLLAB_E_IO;
    self->open = calloc(1, sizeof *self->open);
    if (self->open)
        self->writer = collab_writer_new(commit_batches, self, STORE_MAX_QUEUED);
    if (!self->writer) {
        free(self->open);
        self->open = NULL;
        return COLLAB_E_NOMEM;
    }
    return 0;
}

const collab_store_backend_t collab_sqlite_backend = {
    .name = "sqlite",
    .close = sq_close,
    .load = sq_load,
    .record = sq_record,
    .begin = sq_begin,
    .in_batch = sq_in_batch,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .start_async = sq_start_async,
    .submit = sq_submit,
    .idle = sq_idle,
    .pending = sq_pending,
    .committed = sq_committed,
    .fd = sq_fd,
    .take_refused = NULL, /* SQLite is the only truth: it refuses nothing */
    .events_since = sq_events_since,
    .get_meta = sq_get_meta,
    .set_retention = sq_set_retention,
    .set_vault = sq_set_vault,
};

/*  The default store of store.h: this backend on a file. */
collab_store_t *collab_store_open(const char *path, bool reset, char *err, size_t errlen)
{
    void *be = collab_sqlite_open(path, reset, err, errlen);
    return be ? collab_store_new(&collab_sqlite_backend, be) : NULL;
}
