/*  store_sqlite_write.c: the SQLite backend's writes (see store_sqlite.h): each change is
    bound and run now (direct mode) or recorded into the open batch for the writer thread. */
#include "store_sqlite.h"

#include "collab_error.h"
#include "vault.h"

#include <stdlib.h>
#include <string.h>

/*  A sealed password hash: the prefix and base64 of nonce, MAC, agent id, NUL and hash. */
#define STORE_SEALED_MAX 512
/*  Events appended between two collections of the log's garbage. */
#define STORE_GC_EVERY 4096u

typedef struct {
    collab_sqlite_t *self;
    uint64_t rowid, batch;
} tail_copy_t;

static int copy_event(void *arg, const collab_event_t *ev)
{
    tail_copy_t *c = arg;
    return sq_tail_add(c->self, c->rowid, c->batch, ev);
}

/*  Rows: bound now (direct) or recorded for the writer. */
typedef struct {
    collab_sqlite_t *store;
    sqlite3_stmt *st; /* direct: the statement being bound; NULL when recording */
    int col, rc;      /* the next parameter; SQLITE_OK or the first failure */
} row_t;

static void row_begin(collab_sqlite_t *self, row_t *r, sq_stmt_t id)
{
    r->store = self;
    r->col = 1;
    r->rc = SQLITE_OK;
    r->st = self->writer ? NULL : self->st[id];
    if (self->writer)
        collab_ops_begin(self->open, id);
    else if (sq_begin(self) != 0)
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
    collab_sqlite_t *self = r->store;
    if (r->rc == SQLITE_OK)
        return r->st ? sq_run(self, r->st) : collab_ops_end(self->open) ? 0 : COLLAB_E_IO;
    if (r->st) {
        sqlite3_reset(r->st);
        sqlite3_clear_bindings(r->st);
    }
    sq_fail_batch(self);
    return COLLAB_E_IO;
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
static const char *stored_hash(const collab_sqlite_t *self, const collab_agent_t *a, char *buf,
                               size_t cap)
{
    if (!self->vault || !a->pw_hash[0])
        return a->pw_hash;
    return collab_vault_seal(self->vault, a->id, a->pw_hash, buf, cap) == 0 ? buf : NULL;
}

static int put_agent(collab_sqlite_t *self, const collab_agent_t *a)
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

static int put_session(collab_sqlite_t *self, const collab_session_t *s)
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
static int put_key_u64(collab_sqlite_t *self, sq_stmt_t id, uint64_t key)
{
    row_t r;
    row_begin(self, &r, id);
    row_u64(&r, key);
    return row_end(&r);
}

static int delete_session(collab_sqlite_t *self, const char *token)
{
    row_t r;
    row_begin(self, &r, ST_DEL_SESSION);
    row_str(&r, token, COLLAB_MAX_SESSION_ID + 1);
    return row_end(&r);
}

static int put_project(collab_sqlite_t *self, const collab_project_t *p)
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

static int delete_project(collab_sqlite_t *self, uint64_t project_id)
{
    int rc = put_key_u64(self, ST_DEL_PROJECT_TASKS, project_id);
    return rc ? rc : put_key_u64(self, ST_DEL_PROJECT, project_id);
}

static int put_task(collab_sqlite_t *self, const collab_task_t *t)
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

/*  Writer mode: the moved event's copy at `to` is the open batch's, so the loop's reads
    find it in the tail: taken from the tail, or from the file where the event is durable. */
static int tail_move(collab_sqlite_t *self, uint64_t from, uint64_t to)
{
    uint64_t batch = collab_writer_submitted(self->writer) + 1;
    const collab_event_t *ev = sq_tail_find(self, from);
    if (ev)
        return sq_tail_add(self, to, batch, ev);
    tail_copy_t c = {self, to, batch};
    if (sq_read_event(self->rd_event, from, NULL, 0, copy_event, &c) == 0)
        return 0;
    sq_fail_batch(self);
    return COLLAB_E_IO;
}

/*  Moves one event to the log's end (the old row becomes garbage). */
static uint64_t move_event(void *arg, uint64_t rowid)
{
    collab_sqlite_t *self = arg;
    row_t r;
    row_begin(self, &r, ST_MOVE_EVENT);
    row_u64(&r, self->next_event_id);
    row_u64(&r, rowid);
    if (row_end(&r) != 0 || (self->writer && tail_move(self, rowid, self->next_event_id) != 0))
        return rowid; /* the batch has failed; nothing of it stands */
    return self->next_event_id++;
}

/*  Evicted events are not deleted one by one: their rows are scattered over the log, and a
    delete each dirtied a page per recipient again. Every STORE_GC_EVERY appends, the rows
    below the oldest retained one are deleted in one range (the log's first pages), and
    when an agent with old events holds too much garbage below them, those events move to
    the log's end so that the next collection can go past them. The log so stays within
    about twice the retained events. */
static void collect_events(collab_sqlite_t *self)
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
static int put_event(collab_sqlite_t *self, const collab_event_t *ev, uint32_t retain)
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
    if (self->writer &&
        sq_tail_add(self, rowid, collab_writer_submitted(self->writer) + 1, ev) != 0) {
        sq_fail_batch(self);
        return COLLAB_E_NOMEM;
    }
    if (collab_evindex_push(self->events, ev->agent_id, ev->seq, rowid, retain, NULL, NULL) != 0) {
        sq_fail_batch(self); /* the row is written but not indexed: the batch must not stand */
        return COLLAB_E_NOMEM;
    }
    if (++self->since_gc >= STORE_GC_EVERY)
        collect_events(self);
    return sq_batch_failed(self) ? COLLAB_E_IO : 0;
}

void sq_set_retention(void *be, uint32_t retain)
{
    collab_sqlite_t *self = be;
    self->retain = retain;
    collab_evindex_trim(self->events, retain, NULL, NULL);
}

static int put_meta(collab_sqlite_t *self, const char *key, const void *val, size_t len)
{
    row_t r;
    row_begin(self, &r, ST_PUT_META);
    row_str(&r, key, SIZE_MAX);
    row_bytes(&r, val, len);
    return row_end(&r);
}

int sq_record(void *be, const collab_change_t *c)
{
    collab_sqlite_t *self = be;
    switch (c->kind) {
    case COLLAB_CHANGE_AGENT:
        return put_agent(self, c->u.agent);
    case COLLAB_CHANGE_SESSION:
        return put_session(self, c->u.session);
    case COLLAB_CHANGE_SESSION_DEL:
        return delete_session(self, c->u.key);
    case COLLAB_CHANGE_PROJECT:
        return put_project(self, c->u.project);
    case COLLAB_CHANGE_PROJECT_DEL:
        return delete_project(self, c->u.id);
    case COLLAB_CHANGE_TASK:
        return put_task(self, c->u.task);
    case COLLAB_CHANGE_EVENT:
        return put_event(self, c->u.event.ev, c->u.event.retain);
    case COLLAB_CHANGE_META:
        return put_meta(self, c->u.meta.key, c->u.meta.val, c->u.meta.len);
    case COLLAB_CHANGE_BROADCAST: /* a shared store's only: the facade never hands it here */
        break;
    }
    return COLLAB_E_INTERNAL;
}
