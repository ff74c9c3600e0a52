/*  verdict.c: refused change sets rolled back in the tables and answered conflict (see
    verdict.h). The tables take the store's records as a load would, keeping what only
    memory knows: a session's routing id and its activity write-back mark. */
#include "verdict.h"

#include <stdio.h>
#include <string.h>

static int restore_agent(void *arg, const collab_agent_t *row)
{
    collab_ctx_t *ctx = arg;
    /* not in the credentials file: the tables never held it */
    (void)collab_tables_restore_agent(ctx->tables, row);
    return 0;
}

/*  Replaces (or brings back) the session, keeping where its events go. */
static int restore_session(void *arg, const collab_session_t *row)
{
    collab_ctx_t *ctx = arg;
    collab_session_t s = *row;
    collab_session_t *old = collab_tables_session(ctx->tables, row->token, strlen(row->token));
    if (old) {
        memcpy(s.rid, old->rid, old->rid_len);
        s.rid_len = old->rid_len;
        collab_tables_remove_session(ctx->tables, &old);
    }
    s.persisted_activity = s.last_activity;
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

/*  A record the refused change made and the store does not hold: gone from the tables. */
static int restore_absent(void *arg, const collab_store_key_t *key)
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

/*  The refused request's reply (PROTOCOL.md 9: conflict, the code's sentence alone). */
static size_t conflict_reply(void *arg, uint64_t request_id, uint8_t *buf, size_t cap)
{
    (void)arg;
    const char *text = collab_strerror(COLLAB_E_CONFLICT);
    collab_envelope_t rep = {.kind = COLLAB_KIND_REPLY,
                             .version = COLLAB_PROTOCOL_VERSION,
                             .request_id = request_id,
                             .ok = false,
                             .error_code = (uint32_t)-COLLAB_E_CONFLICT,
                             .error = {text, strlen(text)}};
    size_t len = 0;
    return collab_envelope_encode(&rep, buf, cap, &len) == 0 ? len : 0;
}

int collab_verdict_release(collab_ctx_t *ctx, uint64_t committed)
{
    static const collab_store_loader_t restore = {restore_agent, restore_session, restore_project,
                                                  restore_task};
    uint64_t cs;
    int got, rc = 0;
    while ((got = collab_store_take_refused(ctx->store, &cs, &restore, restore_absent, ctx)) != 0) {
        if (got < 0)
            rc = got; /* the change set is taken all the same: answer it */
        if (cs == 0)
            break;
        ctx->stats.refused_conflict++;
        bool was_ok = false;
        if (collab_outbox_refuse(ctx->outbox, cs, conflict_reply, NULL, &was_ok) == 1) {
            ctx->stats.replies_error++; /* what the agent gets now is a refusal */
            if (was_ok)
                ctx->stats.replies_ok--;
        }
    }
    collab_outbox_release(ctx->outbox, committed);
    return rc;
}
