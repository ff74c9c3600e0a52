/*  store.c: the broker's durable state in one SQLite file (see store.h). Every statement is
    prepared once at open and reused; writes join the batch's one transaction, which the
    broker commits before it replies (group commit, synchronous=FULL). */
#include "store.h"

#include "collab_error.h"
#include "store_schema.h"
#include "vault.h"

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
    ST_TRIM_EVENTS,
    ST_PUT_META,
    ST_GET_META,
    ST_LOAD_AGENTS,
    ST_LOAD_SESSIONS,
    ST_LOAD_PROJECTS,
    ST_LOAD_TASKS,
    ST_EVENTS_SINCE,
    ST_EVENTS_OLDEST,
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
    [ST_PUT_TASK] = "INSERT OR REPLACE INTO tasks(id, project_id, type, title, description,"
                    " result, status, assigned_to, assigned_by, created, updated)"
                    " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    [ST_PUT_EVENT] = "INSERT OR REPLACE INTO events(agent_id, seq, name, ts, data)"
                     " VALUES(?1, ?2, ?3, ?4, ?5)",
    [ST_TRIM_EVENTS] = "DELETE FROM events WHERE agent_id = ?1 AND seq <= ?2",
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
    [ST_EVENTS_SINCE] = "SELECT seq, name, ts, data FROM events"
                        " WHERE agent_id = ?1 AND seq > ?2 ORDER BY seq",
    [ST_EVENTS_OLDEST] = "SELECT min(seq) FROM events WHERE agent_id = ?1",
};

struct collab_store {
    sqlite3 *db;
    sqlite3_stmt *st[ST_COUNT];
    bool failed;                 /* a write of the open batch failed: its commit must fail too */
    const collab_vault_t *vault; /* set: secrets are sealed (strong state_at_rest) */
};

/*  A sealed password hash: the prefix and base64 of nonce, MAC, agent id, NUL and hash. */
#define STORE_SEALED_MAX 512

sqlite3 *collab_store_db(collab_store_t *self)
{
    return self->db;
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
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(self->st[i]);
    sqlite3_close(self->db);
    free(self);
    *self_p = NULL;
}

/* ---------------------------------------------------------------------------------------
   The batch transaction */

/*  Steps a statement that returns no rows, then readies it for reuse. */
static int run(collab_store_t *self, sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc != SQLITE_DONE) {
        self->failed = true;
        return COLLAB_E_IO;
    }
    return 0;
}

/*  A bind failed (too big, out of memory): the write is abandoned and the batch fails. */
static int bind_failed(collab_store_t *self, sqlite3_stmt *st)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    self->failed = true;
    return COLLAB_E_IO;
}

int collab_store_begin(collab_store_t *self)
{
    if (!sqlite3_get_autocommit(self->db))
        return 0;
    return run(self, self->st[ST_BEGIN]);
}

bool collab_store_in_batch(const collab_store_t *self)
{
    return !sqlite3_get_autocommit(self->db);
}

/*  Commits the batch. If any write of it failed, the whole batch is rolled back instead and
    COLLAB_E_IO returned, so the broker acknowledges nothing of a partly written batch. */
int collab_store_commit(collab_store_t *self)
{
    bool failed = self->failed;
    self->failed = false;
    if (sqlite3_get_autocommit(self->db)) /* nothing open (or SQLite already rolled back) */
        return failed ? COLLAB_E_IO : 0;
    if (!failed && run(self, self->st[ST_COMMIT]) == 0)
        return 0;
    if (!sqlite3_get_autocommit(self->db))
        run(self, self->st[ST_ROLLBACK]);
    self->failed = false;
    return COLLAB_E_IO;
}

void collab_store_rollback(collab_store_t *self)
{
    if (!sqlite3_get_autocommit(self->db))
        run(self, self->st[ST_ROLLBACK]);
    self->failed = false;
}

/* ---------------------------------------------------------------------------------------
   Writes */

static int bind_str(sqlite3_stmt *st, int col, const char *s, size_t cap)
{
    if (!s)
        return sqlite3_bind_text(st, col, "", 0, SQLITE_STATIC);
    size_t len = strnlen(s, cap);
    if (len > INT32_MAX)
        return SQLITE_TOOBIG;
    return sqlite3_bind_text(st, col, s, (int)len, SQLITE_STATIC);
}

static int bind_u64(sqlite3_stmt *st, int col, uint64_t v)
{
    return sqlite3_bind_int64(st, col, (sqlite3_int64)v);
}

static int bind_bytes(sqlite3_stmt *st, int col, const void *p, size_t len)
{
    if (len > INT32_MAX)
        return SQLITE_TOOBIG;
    if (!p || len == 0)
        return sqlite3_bind_zeroblob(st, col, 0);
    return sqlite3_bind_blob(st, col, p, (int)len, SQLITE_STATIC);
}

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
    sqlite3_stmt *st = self->st[ST_PUT_AGENT];
    if (collab_store_begin(self) != 0)
        return COLLAB_E_IO;
    const char *hash = stored_hash(self, a, sealed, sizeof sealed);
    if (!hash)
        return bind_failed(self, st);
    join_caps(a, caps, sizeof caps);
    int rc = bind_str(st, 1, a->id, sizeof a->id) | sqlite3_bind_int(st, 2, (int)a->role) |
             bind_str(st, 3, hash, sizeof sealed) | sqlite3_bind_int(st, 4, a->registered) |
             bind_str(st, 5, caps, sizeof caps) | bind_u64(st, 6, a->last_seen) |
             bind_u64(st, 7, a->event_seq) | bind_u64(st, 8, a->failures) |
             bind_u64(st, 9, a->locked_until);
    return rc != SQLITE_OK ? bind_failed(self, st) : run(self, st);
}

int collab_store_put_session(collab_store_t *self, const collab_session_t *s)
{
    sqlite3_stmt *st = self->st[ST_PUT_SESSION];
    if (collab_store_begin(self) != 0)
        return COLLAB_E_IO;
    size_t rid_len = s->rid_len < COLLAB_RID_MAX ? s->rid_len : COLLAB_RID_MAX;
    int rc = bind_str(st, 1, s->token, sizeof s->token) | bind_u64(st, 2, s->handle) |
             bind_str(st, 3, s->agent_id, sizeof s->agent_id) |
             sqlite3_bind_int(st, 4, (int)s->role) | bind_u64(st, 5, s->created) |
             bind_u64(st, 6, s->last_activity) | bind_str(st, 7, s->peer, sizeof s->peer) |
             bind_bytes(st, 8, s->rid, rid_len) | sqlite3_bind_int(st, 9, s->subscribed) |
             sqlite3_bind_int(st, 10, s->subscribed_all) |
             bind_str(st, 11, s->curve_key, sizeof s->curve_key);
    return rc != SQLITE_OK ? bind_failed(self, st) : run(self, st);
}

int collab_store_delete_session(collab_store_t *self, const char *token)
{
    sqlite3_stmt *st = self->st[ST_DEL_SESSION];
    if (collab_store_begin(self) != 0)
        return COLLAB_E_IO;
    if (bind_str(st, 1, token, COLLAB_MAX_SESSION_ID + 1) != SQLITE_OK)
        return bind_failed(self, st);
    return run(self, st);
}

int collab_store_put_project(collab_store_t *self, const collab_project_t *p)
{
    sqlite3_stmt *st = self->st[ST_PUT_PROJECT];
    if (collab_store_begin(self) != 0)
        return COLLAB_E_IO;
    int rc = bind_u64(st, 1, p->id) | bind_str(st, 2, p->name, SIZE_MAX) |
             bind_str(st, 3, p->description, SIZE_MAX) |
             bind_str(st, 4, p->owner, sizeof p->owner) | sqlite3_bind_int(st, 5, p->closed) |
             bind_u64(st, 6, p->created) | bind_u64(st, 7, p->task_count);
    return rc != SQLITE_OK ? bind_failed(self, st) : run(self, st);
}

int collab_store_delete_project(collab_store_t *self, uint64_t project_id)
{
    if (collab_store_begin(self) != 0)
        return COLLAB_E_IO;
    sqlite3_stmt *tasks = self->st[ST_DEL_PROJECT_TASKS], *proj = self->st[ST_DEL_PROJECT];
    if (bind_u64(tasks, 1, project_id) != SQLITE_OK)
        return bind_failed(self, tasks);
    if (run(self, tasks) != 0)
        return COLLAB_E_IO;
    if (bind_u64(proj, 1, project_id) != SQLITE_OK)
        return bind_failed(self, proj);
    return run(self, proj);
}

int collab_store_put_task(collab_store_t *self, const collab_task_t *t)
{
    sqlite3_stmt *st = self->st[ST_PUT_TASK];
    if (collab_store_begin(self) != 0)
        return COLLAB_E_IO;
    int rc = bind_u64(st, 1, t->id) | bind_u64(st, 2, t->project_id) |
             bind_str(st, 3, t->type, sizeof t->type) | bind_str(st, 4, t->title, SIZE_MAX) |
             bind_str(st, 5, t->description, SIZE_MAX) | bind_str(st, 6, t->result, SIZE_MAX) |
             sqlite3_bind_int(st, 7, (int)t->status) |
             bind_str(st, 8, t->assigned_to, sizeof t->assigned_to) |
             bind_str(st, 9, t->assigned_by, sizeof t->assigned_by) | bind_u64(st, 10, t->created) |
             bind_u64(st, 11, t->updated);
    return rc != SQLITE_OK ? bind_failed(self, st) : run(self, st);
}

int collab_store_put_event(collab_store_t *self, const collab_event_t *ev, uint32_t retain)
{
    sqlite3_stmt *st = self->st[ST_PUT_EVENT], *trim = self->st[ST_TRIM_EVENTS];
    if (collab_store_begin(self) != 0)
        return COLLAB_E_IO;
    int rc = bind_str(st, 1, ev->agent_id, sizeof ev->agent_id) | bind_u64(st, 2, ev->seq) |
             bind_str(st, 3, ev->name, sizeof ev->name) | bind_u64(st, 4, ev->timestamp) |
             bind_bytes(st, 5, ev->data, ev->data_len);
    if (rc != SQLITE_OK)
        return bind_failed(self, st);
    if (run(self, st) != 0)
        return COLLAB_E_IO;
    if (ev->seq < retain)
        return 0;
    rc = bind_str(trim, 1, ev->agent_id, sizeof ev->agent_id) | bind_u64(trim, 2, ev->seq - retain);
    return rc != SQLITE_OK ? bind_failed(self, trim) : run(self, trim);
}

int collab_store_put_meta(collab_store_t *self, const char *key, const void *val, size_t len)
{
    sqlite3_stmt *st = self->st[ST_PUT_META];
    if (collab_store_begin(self) != 0)
        return COLLAB_E_IO;
    int rc = bind_str(st, 1, key, SIZE_MAX) | bind_bytes(st, 2, val, len);
    return rc != SQLITE_OK ? bind_failed(self, st) : run(self, st);
}

/* ---------------------------------------------------------------------------------------
   Reads. Rows come from a file: a value that does not fit its record is COLLAB_E_IO. */

int collab_store_get_meta(collab_store_t *self, const char *key, void *buf, size_t cap)
{
    sqlite3_stmt *st = self->st[ST_GET_META];
    int rc = bind_str(st, 1, key, SIZE_MAX) != SQLITE_OK ? SQLITE_ERROR : sqlite3_step(st);
    int ret = rc == SQLITE_DONE ? 0 : COLLAB_E_IO;
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
    a->event_seq = col_u64(st, 6);
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
    int rc = 0;
    if (cb->agent)
        rc = load_table(self, ST_LOAD_AGENTS, cb, arg);
    if (rc == 0 && cb->session)
        rc = load_table(self, ST_LOAD_SESSIONS, cb, arg);
    if (rc == 0 && cb->project)
        rc = load_table(self, ST_LOAD_PROJECTS, cb, arg);
    if (rc == 0 && cb->task)
        rc = load_table(self, ST_LOAD_TASKS, cb, arg);
    return rc;
}

static int oldest_event(collab_store_t *self, const char *agent_id, uint64_t *oldest)
{
    sqlite3_stmt *st = self->st[ST_EVENTS_OLDEST];
    int rc = bind_str(st, 1, agent_id, COLLAB_MAX_AGENT_ID + 1);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *oldest = col_u64(st, 0); /* min() of no rows is NULL, read as 0 */
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return rc == SQLITE_ROW ? 0 : COLLAB_E_IO;
}

int collab_store_events_since(collab_store_t *self, const char *agent_id, uint64_t since,
                              int (*fn)(void *arg, const collab_event_t *ev), void *arg,
                              uint64_t *oldest)
{
    uint64_t first = 0;
    if (oldest_event(self, agent_id, &first) != 0)
        return COLLAB_E_IO;
    if (oldest)
        *oldest = first;
    sqlite3_stmt *st = self->st[ST_EVENTS_SINCE];
    int ret = 0, rc = bind_str(st, 1, agent_id, COLLAB_MAX_AGENT_ID + 1) | bind_u64(st, 2, since);
    if (rc != SQLITE_OK)
        rc = SQLITE_ERROR;
    else
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
            collab_event_t ev;
            memset(&ev, 0, sizeof ev);
            if (!col_str(st, 1, ev.name, sizeof ev.name)) {
                ret = COLLAB_E_IO;
                break;
            }
            snprintf(ev.agent_id, sizeof ev.agent_id, "%s", agent_id);
            ev.seq = col_u64(st, 0);
            ev.timestamp = col_u64(st, 2);
            ev.data = sqlite3_column_blob(st, 3);
            ev.data_len = (size_t)sqlite3_column_bytes(st, 3);
            if ((ret = fn(arg, &ev)) != 0)
                break;
        }
    if (ret == 0 && rc != SQLITE_DONE)
        ret = COLLAB_E_IO;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return ret;
}
