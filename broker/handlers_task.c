/*  handlers_task.c: assign, reassign, update and read tasks. Status transitions follow
    PROTOCOL.md; under strong role enforcement only the assignee moves a task forward and
    only admins and coordinators cancel. */
#include "handlers.h"
#include "events.h"
#include "reply.h"

#include <string.h>

static collab_agent_t *agent_of(collab_ctx_t *ctx, const char *id)
{
    return collab_tables_agent(ctx->tables, id, strlen(id));
}

/*  The worker named by a payload field: it must exist and hold the worker role now. */
static int worker_arg(collab_ctx_t *ctx, req_t *req, collab_agent_t **out)
{
    collab_span_t id;
    int rc = collab_arg_str(req, "worker", true, &id);
    if (rc)
        return rc;
    *out = collab_tables_agent(ctx->tables, id.ptr, id.len);
    if (!*out)
        return collab_why(req, COLLAB_E_NOT_FOUND, "worker", "is not an agent", 0, NULL);
    if ((*out)->role != COLLAB_ROLE_WORKER)
        return collab_why(req, COLLAB_E_BAD_REQUEST, "worker",
                          "is not an agent with the worker role", 0, NULL);
    return 0;
}

/*  The data of task_status_changed (PROTOCOL.md 7); each map's count is checked by the
    encoder against the pairs written (collab_pack_finish). */
static void pack_status_changed(collab_pack_t *e, const collab_task_t *t, const char *by,
                                const char *previous)
{
    collab_pack_map(e, 6);
    collab_pack_kv_uint(e, "task_id", t->id);
    collab_pack_kv_uint(e, "project_id", t->project_id);
    collab_pack_kv_str(e, "status", collab_task_status_name(t->status));
    collab_pack_kv_str(e, "previous", previous);
    collab_pack_kv_str(e, "by", by);
    collab_pack_kv_str(e, "result", t->result);
}

/*  The data of task_assigned, or of task_reassigned when from is set. */
static void pack_assigned(collab_pack_t *e, const collab_task_t *t, const char *by,
                          const char *from)
{
    collab_pack_map(e, from ? 8 : 7);
    collab_pack_kv_uint(e, "task_id", t->id);
    collab_pack_kv_uint(e, "project_id", t->project_id);
    collab_pack_kv_str(e, "type", t->type);
    collab_pack_kv_str(e, "title", t->title);
    collab_pack_kv_str(e, "description", t->description);
    if (from) {
        collab_pack_kv_str(e, "from", from);
        collab_pack_kv_str(e, "to", t->assigned_to);
        collab_pack_kv_str(e, "by", by);
    } else {
        collab_pack_kv_str(e, "assigned_to", t->assigned_to);
        collab_pack_kv_str(e, "assigned_by", t->assigned_by);
    }
}

static int task_event(collab_ctx_t *ctx, const collab_task_t *t, const char *name, const char *by,
                      const char *from, const char *previous)
{
    collab_pack_t e;
    size_t len;
    bool status = strcmp(name, "task_status_changed") == 0;
    collab_pack_init(&e, ctx->event_buf, sizeof ctx->event_buf);
    if (status)
        pack_status_changed(&e, t, by, previous);
    else
        pack_assigned(&e, t, by, from);
    if (collab_pack_finish(&e, &len) != 0)
        return COLLAB_E_INTERNAL;
    collab_project_t *p = collab_tables_project(ctx->tables, t->project_id);
    collab_agent_t *to[3] = {agent_of(ctx, t->assigned_to), from ? agent_of(ctx, from) : NULL,
                             status && p ? agent_of(ctx, p->owner) : NULL};
    return collab_event_fanout(ctx, to, 3, true, name, ctx->event_buf, len);
}

static void copy_z(char *dst, size_t cap, collab_span_t s)
{
    size_t n = s.len < cap - 1 ? s.len : cap - 1;
    memcpy(dst, s.ptr, n);
    dst[n] = '\0';
}

int collab_h_assign_task(collab_ctx_t *ctx, req_t *req)
{
    uint64_t pid;
    collab_span_t type, title, desc;
    collab_agent_t *worker;
    int rc = collab_arg_id(req, "project_id", &pid);
    if (rc == 0)
        rc = collab_arg_ident(req, "type", &type);
    if (rc == 0)
        rc = collab_arg_text(ctx, req, "title", 1, COLLAB_NAME_MAX_CP, true, &title);
    if (rc == 0)
        rc = collab_arg_text(ctx, req, "description", 0, COLLAB_DESC_MAX_CP, false, &desc);
    if (rc == 0)
        rc = worker_arg(ctx, req, &worker);
    if (rc)
        return rc;
    collab_project_t *p = collab_tables_project(ctx->tables, pid);
    if (!p)
        return collab_why(req, COLLAB_E_NOT_FOUND, "project_id", "names no project", 0, NULL);
    if (p->closed)
        return COLLAB_E_CONFLICT;
    if (p->task_count >= ctx->cfg.max_tasks_per_project)
        return COLLAB_E_QUOTA;
    char title_z[COLLAB_MAX_STR_BYTES + 1], desc_z[COLLAB_MAX_STR_BYTES + 1];
    copy_z(title_z, sizeof title_z, title);
    copy_z(desc_z, sizeof desc_z, desc);
    collab_task_t t = {.project_id = pid,
                       .title = title_z,
                       .description = desc_z,
                       .result = "",
                       .status = COLLAB_TASK_ASSIGNED,
                       .created = req->now,
                       .updated = req->now};
    copy_z(t.type, sizeof t.type, type);
    snprintf(t.assigned_to, sizeof t.assigned_to, "%s", worker->id);
    snprintf(t.assigned_by, sizeof t.assigned_by, "%s", req->agent->id);
    if ((rc = collab_ctx_take_id(ctx, COLLAB_ID_TASK, &t.id)) != 0)
        return rc;
    collab_task_t *stored = collab_tables_add_task(ctx->tables, &t);
    if (!stored)
        return COLLAB_E_NOMEM;
    if ((rc = collab_store_put_task(ctx->store, stored)) != 0 ||
        (rc = collab_store_put_project(ctx->store, p)) != 0 || (rc = collab_save_ids(ctx)) != 0 ||
        (rc = task_event(ctx, stored, "task_assigned", req->agent->id, NULL, NULL)) != 0)
        return rc;
    collab_pack_map(&req->out, 3);
    collab_pack_kv_uint(&req->out, "task_id", stored->id);
    collab_pack_kv_str(&req->out, "status", "assigned");
    collab_pack_kv_str(&req->out, "assigned_to", stored->assigned_to);
    return 0;
}

static int task_arg(collab_ctx_t *ctx, req_t *req, collab_task_t **out)
{
    uint64_t id;
    int rc = collab_arg_id(req, "task_id", &id);
    if (rc)
        return rc;
    *out = collab_tables_task(ctx->tables, id);
    return *out ? 0 : collab_why(req, COLLAB_E_NOT_FOUND, "task_id", "names no task", 0, NULL);
}

int collab_h_reassign_task(collab_ctx_t *ctx, req_t *req)
{
    collab_task_t *t;
    collab_agent_t *worker;
    int rc = task_arg(ctx, req, &t);
    if (rc == 0)
        rc = worker_arg(ctx, req, &worker);
    if (rc)
        return rc;
    if (t->status == COLLAB_TASK_COMPLETED || t->status == COLLAB_TASK_CANCELLED)
        return COLLAB_E_CONFLICT;
    char from[COLLAB_MAX_AGENT_ID + 1];
    snprintf(from, sizeof from, "%s", t->assigned_to);
    snprintf(t->assigned_to, sizeof t->assigned_to, "%s", worker->id);
    t->status = COLLAB_TASK_ASSIGNED;
    t->updated = req->now;
    if ((rc = collab_store_put_task(ctx->store, t)) != 0 ||
        (rc = task_event(ctx, t, "task_reassigned", req->agent->id, from, NULL)) != 0)
        return rc;
    collab_pack_map(&req->out, 3);
    collab_pack_kv_uint(&req->out, "task_id", t->id);
    collab_pack_kv_str(&req->out, "status", "assigned");
    collab_pack_kv_str(&req->out, "assigned_to", t->assigned_to);
    return 0;
}

static bool transition_ok(collab_task_status_t from, collab_task_status_t to)
{
    switch (to) {
    case COLLAB_TASK_IN_PROGRESS:
        return from == COLLAB_TASK_ASSIGNED;
    case COLLAB_TASK_COMPLETED:
    case COLLAB_TASK_FAILED:
        return from == COLLAB_TASK_IN_PROGRESS;
    case COLLAB_TASK_CANCELLED:
        return from == COLLAB_TASK_ASSIGNED || from == COLLAB_TASK_IN_PROGRESS;
    default:
        return false;
    }
}

/*  Strong role enforcement: the assignee works the task, managers cancel it. */
static bool may_update(const collab_ctx_t *ctx, const req_t *req, const collab_task_t *t,
                       collab_task_status_t to)
{
    if (!collab_authz_strong(ctx))
        return true;
    if (to == COLLAB_TASK_CANCELLED)
        return req->role == COLLAB_ROLE_ADMIN || req->role == COLLAB_ROLE_COORDINATOR;
    return req->role == COLLAB_ROLE_WORKER && strcmp(t->assigned_to, req->agent->id) == 0;
}

int collab_h_update_task_status(collab_ctx_t *ctx, req_t *req)
{
    collab_task_t *t;
    collab_span_t status, result;
    int rc = task_arg(ctx, req, &t);
    if (rc == 0)
        rc = collab_arg_str(req, "status", true, &status);
    if (rc == 0)
        rc = collab_arg_text(ctx, req, "result", 0, COLLAB_DESC_MAX_CP, false, &result);
    if (rc)
        return rc;
    int to = collab_task_status_lookup(status.ptr, status.len);
    if (to < 0) /* a known status the table does not reach this way, even assigned: conflict */
        return collab_why(req, COLLAB_E_BAD_REQUEST, "status",
                          "is not a task status (assigned, in_progress, completed, failed, "
                          "cancelled)",
                          0, NULL);
    if (!may_update(ctx, req, t, (collab_task_status_t)to))
        return COLLAB_E_FORBIDDEN;
    if (!transition_ok(t->status, (collab_task_status_t)to))
        return COLLAB_E_CONFLICT;
    bool has_result = collab_map_find(&req->args, "result") != NULL;
    if (has_result && collab_tables_set_text(&t->result, result.ptr, result.len) != 0)
        return COLLAB_E_NOMEM;
    const char *previous = collab_task_status_name(t->status);
    t->status = (collab_task_status_t)to;
    t->updated = req->now;
    if ((rc = collab_store_put_task(ctx->store, t)) != 0 ||
        (rc = task_event(ctx, t, "task_status_changed", req->agent->id, NULL, previous)) != 0)
        return rc;
    collab_pack_map(&req->out, 2);
    collab_pack_kv_uint(&req->out, "task_id", t->id);
    collab_pack_kv_str(&req->out, "status", collab_task_status_name(t->status));
    return 0;
}

int collab_h_get_task(collab_ctx_t *ctx, req_t *req)
{
    collab_task_t *t;
    int rc = task_arg(ctx, req, &t);
    if (rc == 0)
        collab_pack_task(&req->out, t);
    return rc;
}
