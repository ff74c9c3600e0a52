/*  store_sqlite_read.c: the SQLite backend's reads (see store_sqlite.h): loading every
    record, meta values, the event index rebuilt from the log, and events since N. Rows
    come from a file: a value that does not fit its record is COLLAB_E_IO. */
#include "store_sqlite.h"

#include "collab_error.h"
#include "vault.h"

#include <stdint.h>
#include <string.h>

/*  A sealed password hash: the prefix and base64 of nonce, MAC, agent id, NUL and hash. */
#define STORE_SEALED_MAX 512
/*  The largest event row id or seq accepted from a file: far beyond any real log, and far
    enough from INT64_MAX that appending and counting never wrap. */
#define STORE_EVENT_ID_MAX ((sqlite3_int64)1 << 62)

int sq_get_meta(void *be, const char *key, void *buf, size_t cap)
{
    collab_sqlite_t *self = be;
    sqlite3_stmt *st = self->st[ST_GET_META];
    int ret = sq_read_begin(self);
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
    sq_read_end(self);
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

/*  A text column lent for the length of a callback ("" for NULL: a literal, which every
    loader only reads and copies; no mutable buffer shared between stores). */
static char *col_heap(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return t ? (char *)t : (char *)(uintptr_t) "";
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
static bool col_hash(const collab_sqlite_t *self, sqlite3_stmt *st, int col, collab_agent_t *a)
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

static bool row_agent(const collab_sqlite_t *self, sqlite3_stmt *st, collab_agent_t *a)
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
static int deliver(const collab_sqlite_t *self, sqlite3_stmt *st, sq_stmt_t id,
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

static int load_table(collab_sqlite_t *self, sq_stmt_t id, const collab_store_loader_t *cb,
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
int sq_load(void *be, const collab_store_loader_t *cb, void *arg)
{
    collab_sqlite_t *self = be;
    int rc = sq_read_begin(self);
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
    sq_read_end(self);
    return rc;
}

/*  Rebuilds the index from the log, oldest first. Rows that break an agent's run are left
    to the next collection. */
int sq_index_events(collab_sqlite_t *self)
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

/*  Reads one event by its log row into fn. With agent_id, the row must be the one the
    index names (that agent's seq); without, any event row is taken as it is. */
int sq_read_event(sqlite3_stmt *st, uint64_t rowid, const char *agent_id, uint64_t seq,
                  collab_store_event_fn *fn, void *arg)
{
    collab_event_t ev;
    memset(&ev, 0, sizeof ev);
    int ret = COLLAB_E_IO;
    if (sqlite3_bind_int64(st, 1, (sqlite3_int64)rowid) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW && col_str(st, 0, ev.agent_id, sizeof ev.agent_id) &&
        (!agent_id || (strcmp(ev.agent_id, agent_id) == 0 && col_u64(st, 1) == seq)) &&
        col_str(st, 2, ev.name, sizeof ev.name)) {
        ev.seq = col_u64(st, 1);
        ev.timestamp = col_u64(st, 3);
        ev.data = sqlite3_column_blob(st, 4);
        ev.data_len = (size_t)sqlite3_column_bytes(st, 4);
        ret = fn(arg, &ev);
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return ret;
}

/*  One retained event: in writer mode from the tail when its batch is not known durable,
    else from the read-only connection; in direct mode from the open transaction. Neither
    commits nor waits for the writer. */
static int event_at(collab_sqlite_t *self, uint64_t rowid, const char *agent_id, uint64_t seq,
                    collab_store_event_fn *fn, void *arg)
{
    if (!self->writer)
        return sq_read_event(self->st[ST_GET_EVENT], rowid, agent_id, seq, fn, arg);
    const collab_event_t *ev = sq_tail_find(self, rowid);
    if (!ev)
        return sq_read_event(self->rd_event, rowid, agent_id, seq, fn, arg);
    if (strcmp(ev->agent_id, agent_id) != 0 || ev->seq != seq)
        return COLLAB_E_IO;
    return fn(arg, ev);
}

int sq_events_since(void *be, const char *agent_id, uint64_t since, collab_store_event_fn *fn,
                    void *arg, uint64_t *oldest)
{
    collab_sqlite_t *self = be;
    uint64_t first, count;
    int ret = 0;
    collab_evindex_range(self->events, agent_id, &first, &count);
    if (oldest)
        *oldest = first;
    if (count == 0 || since >= first + count - 1) /* nothing newer than since */
        return 0;
    for (uint64_t seq = since < first ? first : since + 1; ret == 0 && seq < first + count; seq++)
        ret = event_at(self, collab_evindex_rowid(self->events, agent_id, seq), agent_id, seq, fn,
                       arg);
    return ret;
}
