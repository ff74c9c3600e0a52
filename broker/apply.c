/*  apply.c: the store's records put into the tables (see apply.h), keeping what only this
    broker's memory knows: a session's routing id and its activity write-back mark. */
#include "apply.h"
#include "events.h"

#include <stdio.h>
#include <string.h>

static int restore_agent(void *arg, const collab_agent_t *row)
{
    collab_ctx_t *ctx = arg;
    /* not in the credentials file: the tables never held it */
    (void)collab_tables_restore_agent(ctx->tables, row);
    return 0;
}

/*  Replaces (or brings back) the session, keeping where its events go. A routing id is a
    connection on the socket of the broker that wrote the record, maybe another one in a
    cluster: a session the tables do not hold comes without one, until its next request
    here, so that no event of it goes to whoever holds that id on this broker's socket. */
static int restore_session(void *arg, const collab_session_t *row)
{
    collab_ctx_t *ctx = arg;
    collab_session_t s = *row;
    collab_session_t *old = collab_tables_session(ctx->tables, row->token, strlen(row->token));
    s.rid_len = 0;
    if (old) {
        memcpy(s.rid, old->rid, old->rid_len);
        s.rid_len = old->rid_len;
        collab_tables_remove_session(ctx->tables, &old);
    }
    s.persisted_activity = s.last_activity;
    s.verified_ms = collab_ctx_now(ctx); /* seen valid in the shared state just now */
    s.stale = false;
    if (!collab_tables_agent(ctx->tables, s.agent_id, strlen(s.agent_id)))
        return 0;
    return collab_tables_add_session(ctx->tables, &s) ? 0 : COLLAB_E_NOMEM;
}

static int restore_project(void *arg, const collab_project_t *row)
{
    collab_ctx_t *ctx = arg;
    collab_project_t *p = collab_tables_project(ctx->tables, row->id);
    if (!p) /* its tasks, if any, come as records of their own */
        return collab_tables_add_project(ctx->tables, row) ? 0 : COLLAB_E_NOMEM;
    if (collab_tables_set_text(&p->name, row->name, strlen(row->name)) != 0 ||
        collab_tables_set_text(&p->description, row->description, strlen(row->description)))
        return COLLAB_E_NOMEM;
    snprintf(p->owner, sizeof p->owner, "%s", row->owner);
    p->closed = row->closed;
    p->created = row->created; /* task_count: the tables count the tasks they hold */
    return 0;
}

static int restore_task(void *arg, const collab_task_t *row)
{
    collab_ctx_t *ctx = arg;
    collab_task_t *t = collab_tables_task(ctx->tables, row->id);
    if (!t)
        return collab_tables_add_task(ctx->tables, row) ? 0 : COLLAB_E_NOMEM;
    if (collab_tables_set_text(&t->title, row->title, strlen(row->title)) != 0 ||
        collab_tables_set_text(&t->description, row->description, strlen(row->description)) ||
        collab_tables_set_text(&t->result, row->result, strlen(row->result)))
        return COLLAB_E_NOMEM;
    snprintf(t->type, sizeof t->type, "%s", row->type);
    t->status = row->status;
    snprintf(t->assigned_to, sizeof t->assigned_to, "%s", row->assigned_to);
    snprintf(t->assigned_by, sizeof t->assigned_by, "%s", row->assigned_by);
    t->created = row->created;
    t->updated = row->updated;
    return 0;
}

/*  A record the store does not hold (any more): gone from the tables. */
int collab_apply_gone(void *arg, const collab_store_key_t *key)
{
    collab_ctx_t *ctx = arg;
    collab_session_t *s;
    switch (key->kind) {
    case COLLAB_STORE_KEY_SESSION:
        s = collab_tables_session(ctx->tables, key->id, strlen(key->id));
        collab_tables_remove_session(ctx->tables, &s);
        break;
    case COLLAB_STORE_KEY_PROJECT:
        collab_tables_remove_project(ctx->tables, key->num);
        break;
    case COLLAB_STORE_KEY_TASK:
        collab_tables_remove_task(ctx->tables, key->num);
        break;
    case COLLAB_STORE_KEY_AGENT:
        break; /* agents come from the credentials file: kept */
    }
    return 0;
}

const collab_store_loader_t collab_apply_records = {restore_agent, restore_session, restore_project,
                                                    restore_task};

/*  A record that the shared store's log says is deleted. Under the weak revocation control
    (16) a session that these tables hold is not dropped: it is marked stale, and the
    guards trust it until revocation.cache_s after this broker last saw it valid, the
    cache of the weak setting. Anything else, and every session under the strong control,
    is gone at once. */
static int apply_gone_logged(void *arg, const collab_store_key_t *key)
{
    collab_ctx_t *ctx = arg;
    if (key->kind == COLLAB_STORE_KEY_SESSION && !collab_strong(&ctx->cfg, COLLAB_CTL_REVOCATION)) {
        collab_session_t *s = collab_tables_session(ctx->tables, key->id, strlen(key->id));
        if (s) {
            s->stale = true;
            return 0;
        }
    }
    return collab_apply_gone(arg, key);
}

static int apply_event(void *arg, const collab_event_t *ev)
{
    return collab_event_push(arg, ev);
}

int collab_apply_committed(collab_ctx_t *ctx)
{
    static const collab_store_applier_t applier = {
        .records = {restore_agent, restore_session, restore_project, restore_task},
        .gone = apply_gone_logged,
        .event = apply_event};
    return collab_store_take_applied(ctx->store, &applier, ctx);
}
