/*  store.c: the broker's durable state in one SQLite file (see store.h). Every statement is
    prepared once at open and reused; writes join the batch's one transaction, which the
    broker commits before it replies (group commit, synchronous=FULL). */
#include "store.h"

#include "collab_error.h"
#include "evindex.h"
#include "store_ops.h"
#include "store_schema.h"
#include "store_writer.h"
#include "vault.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every statement the store runs after open, prepared once (SQLITE_PREPARE_PERSISTENT). */
typedef enum {
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_PUT_AGENT,
    ST_PUT_SESSION,
    ST_DEL_SESSION,
    ST_PUT_PROJECT,
    ST_DEL_PROJECT,
    ST_DEL_PROJECT_TASKS,
    ST_PUT_TASK,
    ST_PUT_EVENT,
    ST_GC_EVENTS,
    ST_MOVE_EVENT,
    ST_PUT_META,
    ST_GET_META,
    ST_LOAD_AGENTS,
    ST_LOAD_SESSIONS,
    ST_LOAD_PROJECTS,
    ST_LOAD_TASKS,
    ST_GET_EVENT,
    ST_LOAD_EVENTS,
    ST_COUNT
} stmt_id_t;

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

struct collab_store {
    sqlite3 *db;
    sqlite3_stmt *st[ST_COUNT];
    bool failed;                 /* direct: a write of the open transaction failed */
    const collab_vault_t *vault; /* set: secrets are sealed (strong state_at_rest) */
    collab_evindex_t *events;    /* each agent's retained events in the event log */
    uint64_t next_event_id;      /* the log row id of the next event */
    uint64_t gc_below;           /* rows below this id are deleted */
    uint32_t since_gc;           /* events appended since the last collection */
    uint32_t retain;             /* events kept per agent (set_retention; else all) */
    /* batches: numbered from 1; direct mode counts its commits */
    uint64_t submitted, committed; /* committed: as the loop last learnt it */
    collab_writer_t *writer;       /* NULL: direct mode */
    collab_ops_t *open;            /* writer mode: the batch being recorded */
    pthread_mutex_t db_mu;         /* writer mode: the connection, between the two threads */
};

static int index_events(collab_store_t *self);

/*  A sealed password hash: the prefix and base64 of nonce, MAC, agent id, NUL and hash. */
#define STORE_SEALED_MAX 512
/*  The largest event row id or seq accepted from a file: far beyond any real log, and far
    enough from INT64_MAX that appending and counting never wrap. */
#define STORE_EVENT_ID_MAX ((sqlite3_int64)1 << 62)
/*  Events appended between two collections of the log's garbage. */
#define STORE_GC_EVERY 4096u
/*  Batches waiting for the writer before the loop waits too. */
#define STORE_MAX_QUEUED 4

sqlite3 *collab_store_db(collab_store_t *self)
{
    return self->writer ? NULL : self->db; /* the writer thread owns it from then on */
}

void collab_store_set_vault(collab_store_t *self, const collab_vault_t *vault)
{
    self->vault = vault;
    /* what is overwritten or deleted is zeroed in the file, not left in free pages */
    if (vault)
        sqlite3_exec(self->db, "PRAGMA secure_delete=ON", NULL, NULL, NULL);
}

static char empty_text[1]; /* what a NULL text column reads as */

/*  Opens or creates the state file (see store.h). Returns NULL with err filled. */
collab_store_t *collab_store_open(const char *path, bool reset, char *err, size_t errlen)
{
    collab_store_t *self = calloc(1, sizeof *self);
    if (!self) {
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
    if (!(self->events = collab_evindex_new()) || index_events(self) != 0 ||
        collab_store_commit(self) != 0) {
        if (err && errlen)
            snprintf(err, errlen, "%s: cannot read the event log (%s)", path,
                     sqlite3_errmsg(self->db));
        goto fail;
    }
    return self;
fail:
    collab_store_destroy(&self);
    return NULL;
}

/*  Closes the database; an open batch is rolled back by the close. */
void collab_store_destroy(collab_store_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    collab_store_t *self = *self_p;
    collab_writer_destroy(&self->writer); /* what was submitted is committed first */
    if (self->open) {
        collab_ops_free(self->open);
        free(self->open);
    }
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(self->st[i]);
    sqlite3_close(self->db);
    collab_evindex_destroy(&self->events);
    pthread_mutex_destroy(&self->db_mu);
    free(self);
    *self_p = NULL;
}

/* ---------------------------------------------------------------------------------------
   The batch. Before collab_store_start_writer (start-up, tools, tests) every write binds
   and steps its statement inside the open transaction on the caller's thread ("direct").
   After it, every write is recorded into the open batch (store_ops.h) and the writer
   thread applies and commits batches in order ("writer"). The put functions below do not
   know which: they describe a row through row_*, which binds or records it. */

/*  Steps a statement that returns no rows, then readies it for reuse. Any thread. */
static int step_reset(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc;
}

/*  Direct mode: steps a write; a failure fails the batch. */
static int run(collab_store_t *self, sqlite3_stmt *st)
{
    if (step_reset(st) != SQLITE_DONE) {
        self->failed = true;
        return COLLAB_E_IO;
    }
    return 0;
}

int collab_store_begin(collab_store_t *self)
{
    if (self->writer || !sqlite3_get_autocommit(self->db))
        return 0;
    return run(self, self->st[ST_BEGIN]);
}

bool collab_store_in_batch(const collab_store_t *self)
{
    return self->writer ? self->open->len > 0 : !sqlite3_get_autocommit(self->db);
}

/*  Direct mode: commits the open transaction. If any write of it failed, the whole batch is
    rolled back instead and COLLAB_E_IO returned, so the broker acknowledges nothing of a
    partly written batch. */
static int commit_direct(collab_store_t *self)
{
    bool failed = self->failed;
    self->failed = false;
    if (sqlite3_get_autocommit(self->db)) /* nothing open (or SQLite already rolled back) */
        return failed ? COLLAB_E_IO : 0;
    if (!failed && run(self, self->st[ST_COMMIT]) == 0) {
        self->submitted = self->committed = self->submitted + 1;
        return 0;
    }
    collab_store_rollback(self);
    return COLLAB_E_IO;
}

int collab_store_submit(collab_store_t *self)
{
    if (!self->writer)
        return commit_direct(self);
    if (self->open->failed)
        return COLLAB_E_IO; /* the loop's tables are ahead of any batch we could write */
    if (self->open->len == 0)
        return 0;
    return collab_writer_submit(self->writer, &self->open);
}

bool collab_store_writer_idle(collab_store_t *self)
{
    return self->writer && collab_writer_idle(self->writer);
}

int collab_store_commit(collab_store_t *self)
{
    if (!self->writer)
        return commit_direct(self);
    int rc = collab_store_submit(self);
    return rc ? rc : collab_writer_sync(self->writer);
}

uint64_t collab_store_pending(const collab_store_t *self)
{
    uint64_t submitted = self->writer ? collab_writer_submitted(self->writer) : self->submitted;
    if (collab_store_in_batch(self))
        return submitted + 1;
    return submitted > self->committed ? submitted : 0;
}

int collab_store_committed(collab_store_t *self, uint64_t *committed)
{
    int rc = self->writer ? collab_writer_committed(self->writer, &self->committed) : 0;
    *committed = self->committed;
    return rc;
}

int collab_store_fd(const collab_store_t *self)
{
    return self->writer ? collab_writer_fd(self->writer) : -1;
}

/*  Before a read: every write made so far is on disk, and the writer is idle. */
static int read_begin(collab_store_t *self)
{
    if (!self->writer)
        return 0;
    int rc = collab_store_commit(self);
    if (rc == 0)
        pthread_mutex_lock(&self->db_mu);
    return rc;
}

static void read_end(collab_store_t *self)
{
    if (self->writer)
        pthread_mutex_unlock(&self->db_mu);
}

/*  The event index followed the abandoned writes: it is rebuilt from the log as it is. */
void collab_store_rollback(collab_store_t *self)
{
    if (self->writer) {
        collab_ops_reset(self->open);
        if (collab_writer_sync(self->writer) != 0)
            return; /* a failed writer is final */
        pthread_mutex_lock(&self->db_mu);
    } else if (!sqlite3_get_autocommit(self->db)) {
        run(self, self->st[ST_ROLLBACK]);
    }
    self->failed = false;
    if (index_events(self) != 0)
        self->failed = true; /* not rebuilt: the next commit fails too, and retries this */
    read_end(self);
}

/* ---------------------------------------------------------------------------------------
   Rows: bound now (direct) or recorded for the writer */

static void fail_batch(collab_store_t *self)
{
    if (self->writer)
        self->open->failed = true;
    else
        self->failed = true;
}

static bool batch_failed(const collab_store_t *self)
{
    return self->writer ? self->open->failed : self->failed;
}

typedef struct {
    collab_store_t *store;
    sqlite3_stmt *st; /* direct: the statement being bound; NULL when recording */
    int col, rc;      /* the next parameter; SQLITE_OK or the first failure */
} row_t;

static void row_begin(collab_store_t *self, row_t *r, stmt_id_t id)
{
    r->store = self;
    r->col = 1;
    r->rc = SQLITE_OK;
    r->st = self->writer ? NULL : self->st[id];
    if (self->writer)
        collab_ops_begin(self->open, id);
    else if (collab_store_begin(self) != 0)
        r->rc = SQLITE_ERROR;
}

static void row_u64(row_t *r, uint64_t v)
{
    if (!r->st)
        collab_ops_int(r->store->open, (int64_t)v);
    else if (r->rc == SQLITE_OK)
        r->rc = sqlite3_bind_int64(r->st, r->col, (sqlite3_int64)v);
    r->col++;
}

static void row_int(row_t *r, int v)
{
    row_u64(r, (uint64_t)(int64_t)v);
}

/*  Text of a fixed field or a heap string (up to cap bytes; NULL is ""). */
static void row_str(row_t *r, const char *s, size_t cap)
{
    size_t len = s ? strnlen(s, cap) : 0;
    if (!r->st)
        collab_ops_text(r->store->open, s ? s : "", len);
    else if (r->rc == SQLITE_OK)
        r->rc = len > INT32_MAX
                    ? SQLITE_TOOBIG
                    : sqlite3_bind_text(r->st, r->col, s ? s : "", (int)len, SQLITE_STATIC);
    r->col++;
}

/*  A blob; NULL or empty is a zero-length blob. */
static void row_bytes(row_t *r, const void *p, size_t len)
{
    if (!r->st)
        collab_ops_blob(r->store->open, p, len);
    else if (r->rc == SQLITE_OK)
        r->rc = len > INT32_MAX    ? SQLITE_TOOBIG
                : (!p || len == 0) ? sqlite3_bind_zeroblob(r->st, r->col, 0)
                                   : sqlite3_bind_blob(r->st, r->col, p, (int)len, SQLITE_STATIC);
    r->col++;
}

/*  Runs (direct) or completes (writer) the row. A failure fails the batch. */
static int row_end(row_t *r)
{
    collab_store_t *self = r->store;
    if (r->rc == SQLITE_OK)
        return r->st ? run(self, r->st) : collab_ops_end(self->open) ? 0 : COLLAB_E_IO;
    if (r->st) {
        sqlite3_reset(r->st);
        sqlite3_clear_bindings(r->st);
    }
    fail_batch(self);
    return COLLAB_E_IO;
}

/*  Writer thread: binds and steps every record of a batch. */
static int apply(collab_store_t *self, const collab_ops_t *ops)
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
        if (rc != SQLITE_OK || step_reset(st) != SQLITE_DONE) {
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
    collab_store_t *self = arg;
    pthread_mutex_lock(&self->db_mu);
    int rc = step_reset(self->st[ST_BEGIN]) == SQLITE_DONE ? 0 : COLLAB_E_IO;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = apply(self, batches[i]);
    if (rc == 0 && step_reset(self->st[ST_COMMIT]) != SQLITE_DONE)
        rc = COLLAB_E_IO;
    if (rc && !sqlite3_get_autocommit(self->db))
        step_reset(self->st[ST_ROLLBACK]);
    pthread_mutex_unlock(&self->db_mu);
    return rc;
}

int collab_store_start_writer(collab_store_t *self)
{
    if (self->writer)
        return 0;
    if (collab_store_commit(self) != 0)
        return COLLAB_E_IO;
    self->submitted = self->committed = 0; /* the writer numbers its batches from 1 */
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

/* ---------------------------------------------------------------------------------------
   Writes */

/*  "a,b,c" from the agent's capabilities. */
static void join_caps(const collab_agent_t *a, char *out, size_t cap)
{
    size_t n = 0;
    unsigned count =
        a->cap_count < COLLAB_MAX_CAPABILITIES ? a->cap_count : COLLAB_MAX_CAPABILITIES;
    out[0] = '\0';
    for (unsigned i = 0; i < count; i++) {
        size_t len = strnlen(a->caps[i], COLLAB_IDENT_MAX);
        if (n + len + 2 > cap)
            break;
        if (i)
            out[n++] = ',';
        memcpy(out + n, a->caps[i], len);
        n += len;
        out[n] = '\0';
    }
}

/*  The password hash as the state file keeps it: sealed under the vault, if any. */
static const char *stored_hash(const collab_store_t *self, const collab_agent_t *a, char *buf,
                               size_t cap)
{
    if (!self->vault || !a->pw_hash[0])
        return a->pw_hash;
    return collab_vault_seal(self->vault, a->id, a->pw_hash, buf, cap) == 0 ? buf : NULL;
}

int collab_store_put_agent(collab_store_t *self, const collab_agent_t *a)
{
    char caps[COLLAB_MAX_CAPABILITIES * (COLLAB_IDENT_MAX + 1) + 1], sealed[STORE_SEALED_MAX];
    row_t r;
    row_begin(self, &r, ST_PUT_AGENT);
    const char *hash = stored_hash(self, a, sealed, sizeof sealed);
    if (!hash)
        r.rc = SQLITE_ERROR; /* not sealed: not written */
    join_caps(a, caps, sizeof caps);
    row_str(&r, a->id, sizeof a->id);
    row_int(&r, (int)a->role);
    row_str(&r, hash ? hash : "", sizeof sealed);
    row_int(&r, a->registered);
    row_str(&r, caps, sizeof caps);
    row_u64(&r, a->last_seen);
    row_u64(&r, a->event_seq);
    row_u64(&r, a->failures);
    row_u64(&r, a->locked_until);
    return row_end(&r);
}

int collab_store_put_session(collab_store_t *self, const collab_session_t *s)
{
    row_t r;
    row_begin(self, &r, ST_PUT_SESSION);
    row_str(&r, s->token, sizeof s->token);
    row_u64(&r, s->handle);
    row_str(&r, s->agent_id, sizeof s->agent_id);
    row_int(&r, (int)s->role);
    row_u64(&r, s->created);
    row_u64(&r, s->last_activity);
    row_str(&r, s->peer, sizeof s->peer);
    row_bytes(&r, s->rid, s->rid_len < COLLAB_RID_MAX ? s->rid_len : COLLAB_RID_MAX);
    row_int(&r, s->subscribed);
    row_int(&r, s->subscribed_all);
    row_str(&r, s->curve_key, sizeof s->curve_key);
    return row_end(&r);
}

/*  A statement with one parameter, an id or a key. */
static int put_key_u64(collab_store_t *self, stmt_id_t id, uint64_t key)
{
    row_t r;
    row_begin(self, &r, id);
    row_u64(&r, key);
    return row_end(&r);
}

int collab_store_delete_session(collab_store_t *self, const char *token)
{
    row_t r;
    row_begin(self, &r, ST_DEL_SESSION);
    row_str(&r, token, COLLAB_MAX_SESSION_ID + 1);
    return row_end(&r);
}

int collab_store_put_project(collab_store_t *self, const collab_project_t *p)
{
    row_t r;
    row_begin(self, &r, ST_PUT_PROJECT);
    row_u64(&r, p->id);
    row_str(&r, p->name, SIZE_MAX);
    row_str(&r, p->description, SIZE_MAX);
    row_str(&r, p->owner, sizeof p->owner);
    row_int(&r, p->closed);
    row_u64(&r, p->created);
    row_u64(&r, p->task_count);
    return row_end(&r);
}

int collab_store_delete_project(collab_store_t *self, uint64_t project_id)
{
    int rc = put_key_u64(self, ST_DEL_PROJECT_TASKS, project_id);
    return rc ? rc : put_key_u64(self, ST_DEL_PROJECT, project_id);
}

int collab_store_put_task(collab_store_t *self, const collab_task_t *t)
{
    row_t r;
    row_begin(self, &r, ST_PUT_TASK);
    row_u64(&r, t->id);
    row_u64(&r, t->project_id);
    row_str(&r, t->type, sizeof t->type);
    row_str(&r, t->title, SIZE_MAX);
    row_str(&r, t->description, SIZE_MAX);
    row_str(&r, t->result, SIZE_MAX);
    row_int(&r, (int)t->status);
    row_str(&r, t->assigned_to, sizeof t->assigned_to);
    row_str(&r, t->assigned_by, sizeof t->assigned_by);
    row_u64(&r, t->created);
    row_u64(&r, t->updated);
    return row_end(&r);
}

/*  Moves one event to the log's end (the old row becomes garbage). */
static uint64_t move_event(void *arg, uint64_t rowid)
{
    collab_store_t *self = arg;
    row_t r;
    row_begin(self, &r, ST_MOVE_EVENT);
    row_u64(&r, self->next_event_id);
    row_u64(&r, rowid);
    if (row_end(&r) != 0)
        return rowid; /* the batch has failed; nothing of it stands */
    return self->next_event_id++;
}

/*  Evicted events are not deleted one by one: their rows are scattered over the log, and a
    delete each dirtied a page per recipient again. Every STORE_GC_EVERY appends, the rows
    below the oldest retained one are deleted in one range (the log's first pages), and
    when an agent with old events holds too much garbage below them, those events move to
    the log's end so that the next collection can go past them. The log so stays within
    about twice the retained events. */
static void collect_events(collab_store_t *self)
{
    const char *holder;
    uint64_t oldest = collab_evindex_oldest(self->events, &holder);
    uint64_t below = oldest ? oldest : self->next_event_id;
    self->since_gc = 0;
    if (below > self->gc_below && put_key_u64(self, ST_GC_EVENTS, below) == 0)
        self->gc_below = below;
    uint64_t span = self->next_event_id - below, live = collab_evindex_live(self->events);
    if (holder && span > 2 * live + STORE_GC_EVERY)
        collab_evindex_relocate(self->events, holder, move_event, self);
}

/*  Appends to the log and to the agent's run in the index. What the index evicts (older
    than the newest `retain`) stays in the log as garbage until collect_events. */
int collab_store_put_event(collab_store_t *self, const collab_event_t *ev, uint32_t retain)
{
    uint64_t rowid = self->next_event_id;
    row_t r;
    row_begin(self, &r, ST_PUT_EVENT);
    row_u64(&r, rowid);
    row_str(&r, ev->agent_id, sizeof ev->agent_id);
    row_u64(&r, ev->seq);
    row_str(&r, ev->name, sizeof ev->name);
    row_u64(&r, ev->timestamp);
    row_bytes(&r, ev->data, ev->data_len);
    int rc = row_end(&r);
    if (rc)
        return rc;
    self->next_event_id++;
    if (collab_evindex_push(self->events, ev->agent_id, ev->seq, rowid, retain, NULL, NULL) != 0) {
        fail_batch(self); /* the row is written but not indexed: the batch must not stand */
        return COLLAB_E_NOMEM;
    }
    if (++self->since_gc >= STORE_GC_EVERY)
        collect_events(self);
    return batch_failed(self) ? COLLAB_E_IO : 0;
}

void collab_store_set_retention(collab_store_t *self, uint32_t retain)
{
    self->retain = retain;
    collab_evindex_trim(self->events, retain, NULL, NULL);
}

int collab_store_put_meta(collab_store_t *self, const char *key, const void *val, size_t len)
{
    row_t r;
    row_begin(self, &r, ST_PUT_META);
    row_str(&r, key, SIZE_MAX);
    row_bytes(&r, val, len);
    return row_end(&r);
}

/* ---------------------------------------------------------------------------------------
   Reads. Rows come from a file: a value that does not fit its record is COLLAB_E_IO. */

int collab_store_get_meta(collab_store_t *self, const char *key, void *buf, size_t cap)
{
    sqlite3_stmt *st = self->st[ST_GET_META];
    int ret = read_begin(self);
    if (ret)
        return ret;
    int rc = sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC) != SQLITE_OK ? SQLITE_ERROR
                                                                           : sqlite3_step(st);
    ret = rc == SQLITE_DONE ? 0 : COLLAB_E_IO;
    if (rc == SQLITE_ROW) {
        const void *val = sqlite3_column_blob(st, 0);
        size_t len = (size_t)sqlite3_column_bytes(st, 0);
        if (len > cap) {
            ret = COLLAB_E_TOO_LARGE;
        } else {
            if (len)
                memcpy(buf, val, len);
            ret = (int)len;
        }
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    read_end(self);
    return ret;
}

/*  Copies a text column into a fixed field; false when it does not fit. */
static bool col_str(sqlite3_stmt *st, int col, char *dst, size_t cap)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    size_t len = (size_t)sqlite3_column_bytes(st, col);
    if (len >= cap)
        return false;
    if (t)
        memcpy(dst, t, len);
    dst[len] = '\0';
    return true;
}

/*  A text column lent for the length of a callback ("" for NULL). */
static char *col_heap(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return t ? (char *)t : empty_text;
}

static uint64_t col_u64(sqlite3_stmt *st, int col)
{
    return (uint64_t)sqlite3_column_int64(st, col);
}

/*  Reads a small enum column; false when it is out of range. */
static bool col_enum(sqlite3_stmt *st, int col, int count, int *out)
{
    sqlite3_int64 v = sqlite3_column_int64(st, col);
    if (v < 0 || v >= count)
        return false;
    *out = (int)v;
    return true;
}

/*  Splits "a,b,c" into the agent's capabilities (empty items skipped). */
static bool parse_caps(const char *s, collab_agent_t *a)
{
    a->cap_count = 0;
    while (*s) {
        size_t len = strcspn(s, ",");
        if (len > COLLAB_IDENT_MAX || (len && a->cap_count == COLLAB_MAX_CAPABILITIES))
            return false;
        if (len) {
            memcpy(a->caps[a->cap_count], s, len);
            a->caps[a->cap_count++][len] = '\0';
        }
        s += len + (s[len] == ',');
    }
    return true;
}

/*  Reads the password hash column, opening it under the vault (a value that does not open,
    or a clear one in a sealed state, fails the load). */
static bool col_hash(const collab_store_t *self, sqlite3_stmt *st, int col, collab_agent_t *a)
{
    char sealed[STORE_SEALED_MAX];
    if (!self->vault)
        return col_str(st, col, a->pw_hash, sizeof a->pw_hash);
    if (!col_str(st, col, sealed, sizeof sealed))
        return false;
    if (!sealed[0])
        return true;
    return collab_vault_unseal(self->vault, a->id, sealed, a->pw_hash, sizeof a->pw_hash) == 0;
}

static bool row_agent(const collab_store_t *self, sqlite3_stmt *st, collab_agent_t *a)
{
    int role;
    memset(a, 0, sizeof *a);
    if (!col_str(st, 0, a->id, sizeof a->id) || !col_enum(st, 1, COLLAB_ROLE_COUNT, &role) ||
        !col_hash(self, st, 2, a) || !parse_caps(col_heap(st, 4), a))
        return false;
    a->role = (collab_role_t)role;
    a->registered = sqlite3_column_int(st, 3) != 0;
    a->last_seen = col_u64(st, 5);
    /* the log has the latest seq; the row's is as of the agent's last write */
    uint64_t first, count;
    collab_evindex_range(self->events, a->id, &first, &count);
    a->event_seq = col_u64(st, 6);
    if (count && first + count - 1 > a->event_seq)
        a->event_seq = first + count - 1;
    a->failures = (uint32_t)col_u64(st, 7);
    a->locked_until = col_u64(st, 8);
    return true;
}

static bool row_session(sqlite3_stmt *st, collab_session_t *s)
{
    int role;
    memset(s, 0, sizeof *s);
    if (!col_str(st, 0, s->token, sizeof s->token) ||
        !col_str(st, 2, s->agent_id, sizeof s->agent_id) ||
        !col_enum(st, 3, COLLAB_ROLE_COUNT, &role) || !col_str(st, 6, s->peer, sizeof s->peer) ||
        !col_str(st, 10, s->curve_key, sizeof s->curve_key))
        return false;
    const void *rid = sqlite3_column_blob(st, 7);
    size_t rid_len = (size_t)sqlite3_column_bytes(st, 7);
    if (rid_len > COLLAB_RID_MAX)
        return false;
    if (rid_len)
        memcpy(s->rid, rid, rid_len);
    s->rid_len = (uint16_t)rid_len;
    s->handle = col_u64(st, 1);
    s->role = (collab_role_t)role;
    s->created = col_u64(st, 4);
    s->last_activity = col_u64(st, 5);
    s->subscribed = sqlite3_column_int(st, 8) != 0;
    s->subscribed_all = sqlite3_column_int(st, 9) != 0;
    return true;
}

static bool row_project(sqlite3_stmt *st, collab_project_t *p)
{
    memset(p, 0, sizeof *p);
    if (!col_str(st, 3, p->owner, sizeof p->owner))
        return false;
    p->id = col_u64(st, 0);
    p->name = col_heap(st, 1);
    p->description = col_heap(st, 2);
    p->closed = sqlite3_column_int(st, 4) != 0;
    p->created = col_u64(st, 5);
    p->task_count = (uint32_t)col_u64(st, 6);
    return true;
}

static bool row_task(sqlite3_stmt *st, collab_task_t *t)
{
    int status;
    memset(t, 0, sizeof *t);
    if (!col_str(st, 2, t->type, sizeof t->type) ||
        !col_enum(st, 6, COLLAB_TASK_STATUS_COUNT, &status) ||
        !col_str(st, 7, t->assigned_to, sizeof t->assigned_to) ||
        !col_str(st, 8, t->assigned_by, sizeof t->assigned_by))
        return false;
    t->id = col_u64(st, 0);
    t->project_id = col_u64(st, 1);
    t->title = col_heap(st, 3);
    t->description = col_heap(st, 4);
    t->result = col_heap(st, 5);
    t->status = (collab_task_status_t)status;
    t->created = col_u64(st, 9);
    t->updated = col_u64(st, 10);
    return true;
}

/*  Converts the current row and hands it to the table's callback. */
static int deliver(const collab_store_t *self, sqlite3_stmt *st, stmt_id_t id,
                   const collab_store_loader_t *cb, void *arg)
{
    union {
        collab_agent_t a;
        collab_session_t s;
        collab_project_t p;
        collab_task_t t;
    } r;
    switch (id) {
    case ST_LOAD_AGENTS:
        return row_agent(self, st, &r.a) ? cb->agent(arg, &r.a) : COLLAB_E_IO;
    case ST_LOAD_SESSIONS:
        return row_session(st, &r.s) ? cb->session(arg, &r.s) : COLLAB_E_IO;
    case ST_LOAD_PROJECTS:
        return row_project(st, &r.p) ? cb->project(arg, &r.p) : COLLAB_E_IO;
    default:
        return row_task(st, &r.t) ? cb->task(arg, &r.t) : COLLAB_E_IO;
    }
}

static int load_table(collab_store_t *self, stmt_id_t id, const collab_store_loader_t *cb,
                      void *arg)
{
    sqlite3_stmt *st = self->st[id];
    int ret = 0, rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW && (ret = deliver(self, st, id, cb, arg)) == 0)
        ;
    if (ret == 0 && rc != SQLITE_DONE)
        ret = COLLAB_E_IO;
    sqlite3_reset(st);
    return ret;
}

/*  Agents, sessions, projects, tasks, in that order; a NULL callback skips its table. */
int collab_store_load(collab_store_t *self, const collab_store_loader_t *cb, void *arg)
{
    int rc = read_begin(self);
    if (rc)
        return rc;
    if (cb->agent)
        rc = load_table(self, ST_LOAD_AGENTS, cb, arg);
    if (rc == 0 && cb->session)
        rc = load_table(self, ST_LOAD_SESSIONS, cb, arg);
    if (rc == 0 && cb->project)
        rc = load_table(self, ST_LOAD_PROJECTS, cb, arg);
    if (rc == 0 && cb->task)
        rc = load_table(self, ST_LOAD_TASKS, cb, arg);
    read_end(self);
    return rc;
}

/*  Rebuilds the index from the log, oldest first. Rows that break an agent's run are left
    to the next collection. */
static int index_events(collab_store_t *self)
{
    sqlite3_stmt *st = self->st[ST_LOAD_EVENTS];
    int rc, ret = 0;
    collab_evindex_clear(self->events);
    self->next_event_id = 1;
    while (ret == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        sqlite3_int64 rowid = sqlite3_column_int64(st, 0), seq = sqlite3_column_int64(st, 2);
        const char *agent = (const char *)sqlite3_column_text(st, 1);
        if (rowid > STORE_EVENT_ID_MAX) {
            ret = COLLAB_E_IO; /* no room left to append: not a log this store wrote */
            break;
        }
        if (rowid >= 1)
            self->next_event_id = (uint64_t)rowid + 1;
        /* rows that cannot be an event of ours are garbage for the next collection */
        if (rowid >= 1 && seq >= 1 && seq <= STORE_EVENT_ID_MAX && agent &&
            strlen(agent) <= COLLAB_MAX_AGENT_ID)
            ret = collab_evindex_push(self->events, agent, (uint64_t)seq, (uint64_t)rowid,
                                      self->retain, NULL, NULL);
    }
    if (ret == 0 && rc != SQLITE_DONE)
        ret = COLLAB_E_IO;
    sqlite3_reset(st);
    return ret;
}

/*  Reads one retained event by its log row; the row must be the one the index names. */
static int read_event(collab_store_t *self, uint64_t rowid, const char *agent_id, uint64_t seq,
                      int (*fn)(void *arg, const collab_event_t *ev), void *arg)
{
    sqlite3_stmt *st = self->st[ST_GET_EVENT];
    collab_event_t ev;
    memset(&ev, 0, sizeof ev);
    int ret = COLLAB_E_IO;
    if (sqlite3_bind_int64(st, 1, (sqlite3_int64)rowid) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW && col_str(st, 0, ev.agent_id, sizeof ev.agent_id) &&
        strcmp(ev.agent_id, agent_id) == 0 && col_u64(st, 1) == seq &&
        col_str(st, 2, ev.name, sizeof ev.name)) {
        ev.seq = seq;
        ev.timestamp = col_u64(st, 3);
        ev.data = sqlite3_column_blob(st, 4);
        ev.data_len = (size_t)sqlite3_column_bytes(st, 4);
        ret = fn(arg, &ev);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return ret;
}

int collab_store_events_since(collab_store_t *self, const char *agent_id, uint64_t since,
                              int (*fn)(void *arg, const collab_event_t *ev), void *arg,
                              uint64_t *oldest)
{
    uint64_t first, count;
    collab_evindex_range(self->events, agent_id, &first, &count);
    if (oldest)
        *oldest = first;
    if (count == 0 || since >= first + count - 1) /* nothing newer than since */
        return 0;
    int ret = read_begin(self);
    if (ret)
        return ret;
    for (uint64_t seq = since < first ? first : since + 1; ret == 0 && seq < first + count; seq++)
        ret = read_event(self, collab_evindex_rowid(self->events, agent_id, seq), agent_id, seq, fn,
                         arg);
    read_end(self);
    return ret;
}
