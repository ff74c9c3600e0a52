/*  store.c: the store facade (see store.h): turns each write into a change tagged with the
    request's change-set and hands it, and every batch and read call, to the backend. */
#include "store.h"

#include "collab_error.h"
#include "collab_hex.h"
#include "collab_limits.h"
#include "store_backend.h"

#include <stdlib.h>

struct collab_store {
    const collab_store_backend_t *ops;
    void *be;
    uint64_t changeset;
    uint64_t records_version; /* collab_store_records_version */
};

collab_store_t *collab_store_new(const collab_store_backend_t *ops, void *be)
{
    collab_store_t *self = calloc(1, sizeof *self);
    if (!self) {
        ops->close(be);
        return NULL;
    }
    self->records_version = 1;
    self->ops = ops;
    self->be = be;
    return self;
}

void *collab_store_backend(collab_store_t *self, const collab_store_backend_t *ops)
{
    return self->ops == ops ? self->be : NULL;
}

void collab_store_destroy(collab_store_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    collab_store_t *self = *self_p;
    self->ops->close(self->be);
    free(self);
    *self_p = NULL;
}

/* ---------------------------------------------------------------------------------------
   Batches */

int collab_store_begin(collab_store_t *self)
{
    return self->ops->begin(self->be);
}

bool collab_store_in_batch(const collab_store_t *self)
{
    return self->ops->in_batch(self->be);
}

int collab_store_commit(collab_store_t *self)
{
    return self->ops->commit(self->be);
}

void collab_store_rollback(collab_store_t *self)
{
    self->ops->rollback(self->be);
}

int collab_store_start_writer(collab_store_t *self)
{
    return self->ops->start_async(self->be);
}

int collab_store_submit(collab_store_t *self)
{
    return self->ops->submit(self->be);
}

bool collab_store_writer_idle(collab_store_t *self)
{
    return self->ops->idle(self->be);
}

uint64_t collab_store_pending(const collab_store_t *self)
{
    return self->ops->pending(self->be);
}

int collab_store_committed(collab_store_t *self, uint64_t *committed)
{
    return self->ops->committed(self->be, committed);
}

int collab_store_fd(const collab_store_t *self)
{
    return self->ops->fd(self->be);
}

void collab_store_set_changeset(collab_store_t *self, uint64_t cs)
{
    self->changeset = cs;
}

uint64_t collab_store_changeset(const collab_store_t *self)
{
    return self->changeset;
}

bool collab_store_is_shared(const collab_store_t *self)
{
    return self->ops->shared;
}

uint64_t collab_store_records_version(const collab_store_t *self)
{
    return self->records_version;
}

/*  A call that may have handed records to the tables has returned: rc passes through. */
static int handed(collab_store_t *self, int rc)
{
    self->records_version++;
    return rc;
}

int collab_store_take_applied(collab_store_t *self, const collab_store_applier_t *cb, void *arg)
{
    return self->ops->take_applied ? handed(self, self->ops->take_applied(self->be, cb, arg)) : 0;
}

int collab_store_reserve_ids(collab_store_t *self, collab_id_kind_t kind, uint32_t n,
                             uint64_t *first)
{
    *first = 0;
    return self->ops->reserve_ids ? self->ops->reserve_ids(self->be, kind, n, first) : 0;
}

int collab_store_find_session(collab_store_t *self, const char *key,
                              const collab_store_loader_t *cb, void *arg)
{
    return self->ops->find_session ? handed(self, self->ops->find_session(self->be, key, cb, arg))
                                   : 0;
}

bool collab_store_available(const collab_store_t *self)
{
    return !self->ops->available || self->ops->available(self->be);
}

int collab_store_outage(collab_store_t *self, collab_store_outage_t *out)
{
    *out = (collab_store_outage_t){.why = "", .attempt_why = ""};
    return self->ops->outage ? self->ops->outage(self->be, out) : 0;
}

int collab_store_recover(collab_store_t *self, const collab_store_loader_t *cb, void *arg,
                         bool *reloaded)
{
    *reloaded = false;
    return self->ops->recover ? handed(self, self->ops->recover(self->be, cb, arg, reloaded)) : 0;
}

int collab_store_claim_nonce(collab_store_t *self, const uint8_t *nonce, size_t nonce_len,
                             uint64_t ttl_ms)
{
    char hex[2 * COLLAB_NONCE_LEN + 1];
    if (!self->ops->require)
        return 0;
    if (collab_hex_encode(nonce, nonce_len, hex, sizeof hex) < 0)
        return COLLAB_E_INTERNAL; /* the guard passes only a nonce of COLLAB_NONCE_LEN */
    collab_require_t r = {COLLAB_REQUIRE_NONCE, self->changeset, hex, ttl_ms};
    return self->ops->require(self->be, &r);
}

int collab_store_require_session(collab_store_t *self, const char *key)
{
    if (!self->ops->require)
        return 0;
    collab_require_t r = {COLLAB_REQUIRE_SESSION, self->changeset, key, 0};
    return self->ops->require(self->be, &r);
}

int collab_store_take_refused(collab_store_t *self, uint64_t *cs,
                              const collab_store_loader_t *restore, collab_store_absent_fn *absent,
                              void *arg)
{
    *cs = 0;
    if (!self->ops->take_refused)
        return 0;
    return handed(self, self->ops->take_refused(self->be, cs, restore, absent, arg));
}

/* ---------------------------------------------------------------------------------------
   Writes: one change each */

static int record(collab_store_t *self, collab_change_t *c)
{
    c->changeset = self->changeset;
    return self->ops->record(self->be, c);
}

int collab_store_put_agent(collab_store_t *self, const collab_agent_t *agent)
{
    collab_change_t c = {.kind = COLLAB_CHANGE_AGENT, .u.agent = agent};
    return record(self, &c);
}

int collab_store_put_session(collab_store_t *self, const collab_session_t *s)
{
    if (s->stale) /* ended in the shared state (weak revocation keeps it here): never revived */
        return 0;
    collab_change_t c = {.kind = COLLAB_CHANGE_SESSION, .u.session = s};
    return record(self, &c);
}

int collab_store_delete_session(collab_store_t *self, const char *token)
{
    collab_change_t c = {.kind = COLLAB_CHANGE_SESSION_DEL, .u.key = token};
    return record(self, &c);
}

int collab_store_put_project(collab_store_t *self, const collab_project_t *p)
{
    collab_change_t c = {.kind = COLLAB_CHANGE_PROJECT, .u.project = p};
    self->records_version++;
    return record(self, &c);
}

int collab_store_delete_project(collab_store_t *self, uint64_t project_id)
{
    collab_change_t c = {.kind = COLLAB_CHANGE_PROJECT_DEL, .u.id = project_id};
    self->records_version++;
    return record(self, &c);
}

int collab_store_put_task(collab_store_t *self, const collab_task_t *t)
{
    collab_change_t c = {.kind = COLLAB_CHANGE_TASK, .u.task = t};
    self->records_version++;
    return record(self, &c);
}

int collab_store_put_event(collab_store_t *self, const collab_event_t *ev, uint32_t retain)
{
    collab_change_t c = {.kind = COLLAB_CHANGE_EVENT, .u.event = {ev, retain}};
    return record(self, &c);
}

int collab_store_put_broadcast(collab_store_t *self, const collab_event_t *ev,
                               const char *const *except, size_t nexcept, uint32_t retain)
{
    if (!self->ops->shared)
        return COLLAB_E_INTERNAL; /* a broker of one decides the recipients itself */
    collab_change_t c = {.kind = COLLAB_CHANGE_BROADCAST,
                         .u.broadcast = {ev, retain, except, nexcept}};
    return record(self, &c);
}

int collab_store_put_meta(collab_store_t *self, const char *key, const void *val, size_t len)
{
    collab_change_t c = {.kind = COLLAB_CHANGE_META, .u.meta = {key, val, len}};
    return record(self, &c);
}

void collab_store_set_retention(collab_store_t *self, uint32_t retain)
{
    self->ops->set_retention(self->be, retain);
}

void collab_store_set_vault(collab_store_t *self, const collab_vault_t *vault)
{
    if (self->ops->set_vault)
        self->ops->set_vault(self->be, vault);
}

/* ---------------------------------------------------------------------------------------
   Reads */

int collab_store_get_meta(collab_store_t *self, const char *key, void *buf, size_t cap)
{
    return self->ops->get_meta(self->be, key, buf, cap);
}

int collab_store_load(collab_store_t *self, const collab_store_loader_t *cb, void *arg)
{
    return handed(self, self->ops->load(self->be, cb, arg));
}

int collab_store_events_since(collab_store_t *self, const char *agent_id, uint64_t since,
                              collab_store_event_fn *fn, void *arg, uint64_t *oldest)
{
    return self->ops->events_since(self->be, agent_id, since, fn, arg, oldest);
}
