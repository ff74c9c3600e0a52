/*  handlers_util.c: payload field validation shared by the handlers, and the audit hook. */
#include "handlers.h"

#include <string.h>

int collab_why(req_t *req, int rc, const char *field, const char *rule, uint32_t n,
               const char *unit)
{
    if (rc)
        req->why = (collab_why_t){.field = field, .rule = rule, .unit = unit, .n = n};
    return rc;
}

/*  A map getter's answer about key: missing, or not of the type `want` says. */
static int got(req_t *req, int rc, const char *key, const char *want)
{
    if (rc == COLLAB_E_FIELD_MISSING)
        return collab_why(req, rc, key, "is missing", 0, NULL);
    if (rc == COLLAB_E_FIELD_TYPE)
        return collab_why(req, rc, key, want, 0, NULL);
    return rc;
}

int collab_arg_str(req_t *req, const char *key, bool required, collab_span_t *out)
{
    collab_span_t v;
    int rc = collab_map_str(&req->args, key, &v);
    if (rc == COLLAB_E_FIELD_MISSING && !required)
        return 0;
    if (rc == 0)
        *out = v;
    return got(req, rc, key, "must be a string");
}

int collab_arg_uint(req_t *req, const char *key, bool required, uint64_t *out)
{
    uint64_t v;
    int rc = collab_map_uint(&req->args, key, &v);
    if (rc == COLLAB_E_FIELD_MISSING && !required)
        return 0;
    if (rc == 0)
        *out = v;
    return got(req, rc, key, "must be an unsigned integer");
}

int collab_arg_bool(req_t *req, const char *key, bool required, bool *out)
{
    bool v;
    int rc = collab_map_bool(&req->args, key, &v);
    if (rc == COLLAB_E_FIELD_MISSING && !required)
        return 0;
    if (rc == 0)
        *out = v;
    return got(req, rc, key, "must be a boolean");
}

int collab_arg_id(req_t *req, const char *key, uint64_t *out)
{
    return collab_arg_uint(req, key, true, out);
}

/*  Says which end of min..max a length broke (min is 0 or 1 wherever this is used). */
static int length_why(req_t *req, const char *key, size_t have, size_t min, size_t max,
                      const char *unit)
{
    if (have < min)
        return min == 1
                   ? collab_why(req, COLLAB_E_LIMIT, key, "must not be empty", 0, NULL)
                   : collab_why(req, COLLAB_E_LIMIT, key, "is shorter than", (uint32_t)min, unit);
    return collab_why(req, COLLAB_E_LIMIT, key, "is longer than", (uint32_t)max, unit);
}

int collab_arg_text(const collab_ctx_t *ctx, req_t *req, const char *key, size_t min_cp,
                    size_t max_cp, bool required, collab_span_t *out)
{
    *out = (collab_span_t){"", 0};
    int rc = collab_arg_str(req, key, required, out);
    if (rc)
        return rc;
    rc = collab_text_check(out->ptr, out->len, min_cp, max_cp,
                           ctx->cfg.strong[COLLAB_CTL_TEXT_FIELDS]);
    if (rc == COLLAB_E_LIMIT) {
        size_t cp = 0;
        collab_utf8_check(out->ptr, out->len, &cp);
        return length_why(req, key, cp, min_cp, max_cp, "code points");
    }
    if (rc == COLLAB_E_UTF8)
        return collab_why(req, rc, key, "is not valid UTF-8", 0, NULL);
    return collab_why(req, rc, key, "holds refused control characters", 0, NULL);
}

int collab_arg_ident(req_t *req, const char *key, collab_span_t *out)
{
    int rc = collab_arg_str(req, key, true, out);
    if (rc)
        return rc;
    if (out->len < 1 || out->len > COLLAB_IDENT_MAX)
        return length_why(req, key, out->len, 1, COLLAB_IDENT_MAX, "bytes");
    for (size_t i = 0; i < out->len; i++)
        if (!((out->ptr[i] >= 'a' && out->ptr[i] <= 'z') || out->ptr[i] == '_'))
            return collab_why(req, COLLAB_E_LIMIT, key, "must be made of a-z and _ only", 0, NULL);
    return 0;
}

int collab_arg_secret(req_t *req, const char *key, size_t max, collab_span_t *out)
{
    int rc = collab_arg_str(req, key, true, out);
    if (rc == 0 && (out->len < 1 || out->len > max))
        return length_why(req, key, out->len, 1, max, "bytes");
    return rc;
}

void collab_audit(collab_ctx_t *ctx, const req_t *req, const char *event, const char *k1,
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
    collab_seclog_emit(ctx->seclog, req->now, event, "agent_id", agent, "peer", req->peer, "action",
                       collab_action_name(req->action), "session", handle[0] ? handle : NULL, k1,
                       v1, NULL);
}

int collab_save_ids(collab_ctx_t *ctx)
{
    uint64_t ids[3] = {ctx->next_project_id, ctx->next_task_id, ctx->next_handle};
    return collab_store_put_meta(ctx->store, "ids", ids, sizeof ids);
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

void collab_pager_init(collab_ctx_t *ctx, collab_pager_t *pg, size_t reserve)
{
    collab_pack_init(&pg->items, ctx->list_buf, sizeof ctx->list_buf - PAGER_RESERVE - reserve);
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
    collab_pack_raw(out, pg->items.data, pg->items.len, pg->count);
}
