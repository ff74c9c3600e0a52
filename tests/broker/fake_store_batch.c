/*  fake_store_batch.c: the fake backend's batches, commits with their verdicts, reads and
    operations (see fake_store.h). */
#include "fake_store_int.h"

#include "collab_error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

static bool refused(const fake_store_t *self, uint64_t cs)
{
    for (size_t i = 0; cs && i < self->n_refuse; i++)
        if (self->refuse[i] == cs)
            return true;
    return false;
}

/*  Notes the key a refused change touched in its change-set's verdict. */
/*  A key the refused change set touched, once. */
static void add_key(fverdict_t *d, collab_store_key_kind_t kind, const char *id, uint64_t num)
{
    for (size_t i = 0; i < d->n; i++)
        if (d->kind[i] == kind && d->num[i] == num && strcmp(d->id[i], id) == 0)
            return;
    if (d->n == sizeof d->kind / sizeof *d->kind)
        return;
    d->kind[d->n] = kind;
    d->num[d->n] = num;
    snprintf(d->id[d->n], sizeof d->id[0], "%s", id);
    d->n++;
}

static void note_refusal(fake_store_t *self, const fchange_t *c)
{
    size_t v = 0;
    while (v < self->n_verdicts && self->verdicts[v].cs != c->cs)
        v++;
    if (v == self->n_verdicts) {
        if (v == sizeof self->verdicts / sizeof *self->verdicts)
            return;
        memset(&self->verdicts[v], 0, sizeof self->verdicts[v]);
        self->verdicts[self->n_verdicts++].cs = c->cs;
    }
    fverdict_t *d = &self->verdicts[v];
    collab_store_key_kind_t kind;
    const char *id = "";
    uint64_t num = 0;
    switch (c->kind) {
    case COLLAB_CHANGE_AGENT:
        kind = COLLAB_STORE_KEY_AGENT;
        id = c->agent.id;
        break;
    case COLLAB_CHANGE_SESSION:
    case COLLAB_CHANGE_SESSION_DEL:
        kind = COLLAB_STORE_KEY_SESSION;
        id = c->kind == COLLAB_CHANGE_SESSION ? c->session.token : c->key;
        break;
    case COLLAB_CHANGE_PROJECT:
    case COLLAB_CHANGE_PROJECT_DEL:
        kind = COLLAB_STORE_KEY_PROJECT;
        num = c->kind == COLLAB_CHANGE_PROJECT ? c->project.id : c->id;
        break;
    case COLLAB_CHANGE_TASK:
        kind = COLLAB_STORE_KEY_TASK;
        num = c->task.id;
        break;
    default:
        return; /* an event: dropped, nothing to restore */
    }
    add_key(d, kind, id, num);
    /* a project deleted takes its tasks along: they are the refused change's keys too */
    for (size_t i = 0; c->kind == COLLAB_CHANGE_PROJECT_DEL && i < self->n_tasks; i++)
        if (self->tasks[i].project_id == num)
            add_key(d, COLLAB_STORE_KEY_TASK, "", self->tasks[i].id);
}

int fake_store_settle(fake_store_t *self)
{
    int n = 0;
    for (size_t q = 0; q < self->queued; q++, n++) {
        fbatch_t *b = &self->queue[q];
        for (size_t i = 0; i < b->n; i++) {
            if (b->c[i].kind != COLLAB_CHANGE_META && refused(self, b->c[i].cs))
                note_refusal(self, &b->c[i]);
            else
                fake_commit_change(self, &b->c[i]);
        }
        fake_batch_free(b);
        self->committed++;
    }
    self->queued = 0;
    if (n && fake_wake(self) != 0)
        return -1;
    return n;
}

int fake_wake(fake_store_t *self)
{
    uint64_t one = 1;
    if (self->efd >= 0 && write(self->efd, &one, sizeof one) != sizeof one)
        return COLLAB_E_IO;
    return 0;
}

void fake_store_refuse(fake_store_t *self, uint64_t cs)
{
    if (self->n_refuse < sizeof self->refuse / sizeof *self->refuse)
        self->refuse[self->n_refuse++] = cs;
}

static int restore_key(fake_store_t *self, const fverdict_t *d, size_t k,
                       const collab_store_loader_t *cb, collab_store_absent_fn *absent, void *arg)
{
    for (size_t i = 0; d->kind[k] == COLLAB_STORE_KEY_AGENT && i < self->n_agents; i++)
        if (strcmp(self->agents[i].id, d->id[k]) == 0)
            return cb->agent(arg, &self->agents[i]);
    for (size_t i = 0; d->kind[k] == COLLAB_STORE_KEY_SESSION && i < self->n_sessions; i++)
        if (strcmp(self->sessions[i].token, d->id[k]) == 0)
            return cb->session(arg, &self->sessions[i]);
    for (size_t i = 0; d->kind[k] == COLLAB_STORE_KEY_PROJECT && i < self->n_projects; i++)
        if (self->projects[i].id == d->num[k])
            return cb->project(arg, &self->projects[i]);
    for (size_t i = 0; d->kind[k] == COLLAB_STORE_KEY_TASK && i < self->n_tasks; i++)
        if (self->tasks[i].id == d->num[k])
            return cb->task(arg, &self->tasks[i]);
    collab_store_key_t key = {d->kind[k], d->id[k], d->num[k]};
    return absent(arg, &key);
}

static int f_take_refused(void *be, uint64_t *cs, const collab_store_loader_t *restore,
                          collab_store_absent_fn *absent, void *arg)
{
    fake_store_t *self = be;
    if (self->n_verdicts == 0)
        return 0;
    fverdict_t d = self->verdicts[0];
    memmove(&self->verdicts[0], &self->verdicts[1], --self->n_verdicts * sizeof d);
    *cs = d.cs;
    for (size_t k = 0; k < d.n; k++) {
        int rc = restore_key(self, &d, k, restore, absent, arg);
        if (rc)
            return rc;
    }
    return 1;
}

/* ---------------------------------------------------------------------------------------
   The batch */

static int f_begin(void *be)
{
    (void)be;
    return 0;
}

static bool f_in_batch(const void *be)
{
    return ((const fake_store_t *)be)->open.n > 0;
}

static int f_submit(void *be)
{
    fake_store_t *self = be;
    if (self->open.n == 0)
        return 0;
    if (self->down) { /* an outage: dropped, as a shared store drops it */
        fake_batch_free(&self->open);
        return COLLAB_E_UNAVAILABLE;
    }
    if (self->queued == sizeof self->queue / sizeof *self->queue)
        fake_store_settle(self);
    self->queue[self->queued++] = self->open;
    memset(&self->open, 0, sizeof self->open);
    self->submitted++;
    if (!self->async)
        fake_store_settle(self);
    return 0;
}

static int f_commit(void *be)
{
    int rc = f_submit(be);
    fake_store_settle(be);
    return rc;
}

static void f_rollback(void *be)
{
    fake_batch_free(&((fake_store_t *)be)->open);
}

static int f_start_async(void *be)
{
    fake_store_t *self = be;
    int rc = f_commit(self);
    self->async = true;
    self->submitted = self->committed = 0; /* as SQLite's writer: batches from 1 */
    return rc;
}

static bool f_idle(void *be)
{
    return ((fake_store_t *)be)->queued == 0;
}

static uint64_t f_pending(const void *be)
{
    const fake_store_t *self = be;
    if (self->loop_down)
        return 0;
    if (self->open.n)
        return self->submitted + 1;
    return self->submitted > self->committed ? self->submitted : 0;
}

static int f_committed(void *be, uint64_t *committed)
{
    fake_store_t *self = be;
    uint64_t v;
    ssize_t got = read(self->efd, &v, sizeof v); /* clears it; EAGAIN: no news */
    (void)got;
    *committed = self->committed;
    self->loop_down |= self->down;
    return self->down ? COLLAB_E_UNAVAILABLE : 0;
}

static int f_fd(const void *be)
{
    const fake_store_t *self = be;
    return self->async ? self->efd : -1;
}

/* ---------------------------------------------------------------------------------------
   Reads */

/*  Calls fn for agent_id's events of `b` newer than since; notes the oldest seen. */
static int events_of(const fbatch_t *b, const char *agent_id, uint64_t since,
                     collab_store_event_fn *fn, void *arg, uint64_t *oldest)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && b && i < b->n; i++) {
        const collab_event_t *ev = &b->c[i].event;
        if (b->c[i].kind != COLLAB_CHANGE_EVENT || strcmp(ev->agent_id, agent_id) != 0)
            continue;
        if (!*oldest)
            *oldest = ev->seq;
        if (ev->seq > since)
            rc = fn(arg, ev);
    }
    return rc;
}

/*  Every event is kept (no retention): committed ones, then the waiting and open batches
    (not when shared: an event has its number only once committed). */
static int f_events_since(void *be, const char *agent_id, uint64_t since, collab_store_event_fn *fn,
                          void *arg, uint64_t *oldest)
{
    fake_store_t *self = be;
    uint64_t first = 0;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < self->n_events; i++) {
        const collab_event_t *ev = &self->events[i];
        if (strcmp(ev->agent_id, agent_id) != 0)
            continue;
        if (!first)
            first = ev->seq;
        if (ev->seq > since)
            rc = fn(arg, ev);
    }
    for (size_t q = 0; rc == 0 && !self->shared && q <= self->queued; q++)
        rc = events_of(q < self->queued ? &self->queue[q] : &self->open, agent_id, since, fn, arg,
                       &first);
    if (oldest)
        *oldest = first;
    return rc;
}

static int f_load(void *be, const collab_store_loader_t *cb, void *arg)
{
    fake_store_t *self = be;
    int rc = 0;
    for (size_t i = 0; rc == 0 && cb->agent && i < self->n_agents; i++)
        rc = cb->agent(arg, &self->agents[i]);
    for (size_t i = 0; rc == 0 && cb->session && i < self->n_sessions; i++)
        rc = cb->session(arg, &self->sessions[i]);
    for (size_t i = 0; rc == 0 && cb->project && i < self->n_projects; i++)
        rc = cb->project(arg, &self->projects[i]);
    for (size_t i = 0; rc == 0 && cb->task && i < self->n_tasks; i++)
        rc = cb->task(arg, &self->tasks[i]);
    return rc;
}

int fake_load(void *be, const collab_store_loader_t *cb, void *arg)
{
    return f_load(be, cb, arg);
}

/*  A start-up read: commits first, as the contract allows. */
static int f_get_meta(void *be, const char *key, void *buf, size_t cap)
{
    fake_store_t *self = be;
    f_commit(self);
    for (size_t i = 0; i < self->n_meta; i++)
        if (strcmp(self->meta[i].key, key) == 0) {
            if (self->meta[i].len > cap)
                return COLLAB_E_TOO_LARGE;
            memcpy(buf, self->meta[i].val, self->meta[i].len);
            return (int)self->meta[i].len;
        }
    return 0;
}

static void f_set_retention(void *be, uint32_t retain)
{
    (void)be;
    (void)retain; /* the fake keeps every event */
}

static void f_close(void *be)
{
    fake_store_t *self = be;
    fake_store_settle(self);
    fake_batch_free(&self->open);
    fake_batch_free(&self->applied);
    fake_tables_free(self);
    if (self->efd >= 0)
        close(self->efd);
    free(self);
}

static const collab_store_backend_t fake_backend = {
    .name = "fake",
    .close = f_close,
    .load = f_load,
    .record = fake_record,
    .begin = f_begin,
    .in_batch = f_in_batch,
    .commit = f_commit,
    .rollback = f_rollback,
    .start_async = f_start_async,
    .submit = f_submit,
    .idle = f_idle,
    .pending = f_pending,
    .committed = f_committed,
    .fd = f_fd,
    .take_refused = f_take_refused,
    .events_since = f_events_since,
    .get_meta = f_get_meta,
    .set_retention = f_set_retention,
    .set_vault = NULL,
};

static collab_store_t *fake_new(fake_store_t **fake, bool shared)
{
    fake_store_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (self->efd < 0) {
        free(self);
        return NULL;
    }
    self->shared = shared;
    *fake = self;
    if (!shared)
        return collab_store_new(&fake_backend, self);
    static collab_store_backend_t ops; /* the fake's, and what a shared store adds */
    ops = fake_backend;
    ops.name = "fake-shared";
    ops.shared = true;
    ops.take_applied = fake_take_applied;
    ops.available = fake_available;
    ops.outage = fake_outage;
    ops.recover = fake_recover;
    return collab_store_new(&ops, self);
}

collab_store_t *fake_store_new(fake_store_t **fake)
{
    return fake_new(fake, false);
}

collab_store_t *fake_store_new_shared(fake_store_t **fake)
{
    return fake_new(fake, true);
}
