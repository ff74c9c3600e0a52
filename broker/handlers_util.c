/*  handlers_util.c: payload field validation shared by the handlers, and the audit hook. */
#include "core.h"

#include <string.h>

int collab_arg_text(const collab_broker_t *self, const req_t *req, const char *key, size_t min_cp,
                    size_t max_cp, bool required, collab_span_t *out)
{
    int rc = collab_map_str(&req->args, key, out);
    if (rc == COLLAB_E_FIELD_MISSING && !required) {
        *out = (collab_span_t){"", 0};
        return 0;
    }
    if (rc)
        return rc;
    return collab_text_check(out->ptr, out->len, min_cp, max_cp,
                             self->cfg.strong[COLLAB_CTL_TEXT_FIELDS]);
}

int collab_arg_ident(const req_t *req, const char *key, collab_span_t *out)
{
    int rc = collab_map_str(&req->args, key, out);
    if (rc)
        return rc;
    if (out->len < 1 || out->len > COLLAB_IDENT_MAX)
        return COLLAB_E_LIMIT;
    for (size_t i = 0; i < out->len; i++)
        if (!((out->ptr[i] >= 'a' && out->ptr[i] <= 'z') || out->ptr[i] == '_'))
            return COLLAB_E_LIMIT;
    return 0;
}

int collab_arg_id(const req_t *req, const char *key, uint64_t *out)
{
    return collab_map_uint(&req->args, key, out);
}

void collab_audit(collab_broker_t *self, const req_t *req, const char *event, const char *k1,
                  const char *v1)
{
    char handle[24] = "";
    const char *agent = req->agent ? req->agent->id : NULL;
    char claimed[COLLAB_MAX_AGENT_ID + 1] = "";
    if (!agent && req->env.agent_id.len <= COLLAB_MAX_AGENT_ID) {
        memcpy(claimed, req->env.agent_id.ptr, req->env.agent_id.len);
        claimed[req->env.agent_id.len] = '\0';
        agent = claimed;
    }
    if (req->session)
        snprintf(handle, sizeof handle, "%llu", (unsigned long long)req->session->handle);
    collab_seclog_emit(self->seclog, req->now, event, "agent_id", agent, "peer", req->peer,
                       "action", collab_action_name(req->action), "session",
                       handle[0] ? handle : NULL, k1, v1, NULL);
}

int collab_save_ids(collab_broker_t *self)
{
    uint64_t ids[3] = {self->next_project_id, self->next_task_id, self->next_handle};
    return collab_store_put_meta(self->store, "ids", ids, sizeof ids);
}

void collab_pack_task(collab_pack_t *p, const collab_task_t *t)
{
    collab_pack_map(p, 11);
    collab_pack_kv_uint(p, "task_id", t->id);
    collab_pack_kv_uint(p, "project_id", t->project_id);
    collab_pack_kv_str(p, "type", t->type);
    collab_pack_kv_str(p, "title", t->title);
    collab_pack_kv_str(p, "description", t->description);
    collab_pack_kv_str(p, "status", collab_task_status_name(t->status));
    collab_pack_kv_str(p, "assigned_to", t->assigned_to);
    collab_pack_kv_str(p, "assigned_by", t->assigned_by);
    collab_pack_kv_str(p, "result", t->result);
    collab_pack_kv_uint(p, "created", t->created);
    collab_pack_kv_uint(p, "updated", t->updated);
}

/*  Room left for the map around the list: its keys and a few integers. */
#define PAGER_RESERVE 256

void collab_pager_init(collab_broker_t *self, collab_pager_t *pg, size_t reserve)
{
    collab_pack_init(&pg->items, self->list_buf, sizeof self->list_buf - PAGER_RESERVE - reserve);
    pg->count = 0;
    pg->mark = 0;
}

void collab_pager_begin_item(collab_pager_t *pg)
{
    pg->mark = pg->items.len;
}

bool collab_pager_end_item(collab_pager_t *pg)
{
    if (pg->items.overflow || pg->count >= COLLAB_MAX_LIST_ENTRIES) {
        pg->items.len = pg->mark;
        pg->items.overflow = false;
        return false;
    }
    pg->count++;
    return true;
}

void collab_pager_emit(collab_pager_t *pg, collab_pack_t *out, const char *key)
{
    collab_pack_str(out, key);
    collab_pack_array(out, pg->count);
    collab_pack_raw(out, pg->items.data, pg->items.len);
}
