/*  handlers_project.c: create, list, get, close and delete projects. */
#include "handlers.h"
#include "events.h"
#include "reply.h"

#include <string.h>

static bool may_manage(const collab_ctx_t *ctx, const req_t *req, const collab_project_t *p)
{
    /* strong role enforcement: admins, or the coordinator that owns the project */
    if (!collab_authz_strong(ctx) || req->role == COLLAB_ROLE_ADMIN)
        return true;
    return req->role == COLLAB_ROLE_COORDINATOR && strcmp(p->owner, req->agent->id) == 0;
}

static int project_event(collab_ctx_t *ctx, const collab_project_t *p, const char *name,
                         const char *by, collab_agent_t **extra, size_t nextra)
{
    collab_pack_t e;
    size_t len;
    collab_pack_init(&e, ctx->event_buf, sizeof ctx->event_buf);
    bool created = strcmp(name, "project_created") == 0;
    collab_pack_map(&e, 3);
    collab_pack_kv_uint(&e, "project_id", p->id);
    if (created) {
        collab_pack_kv_str(&e, "name", p->name);
        collab_pack_kv_str(&e, "owner", p->owner);
    } else {
        collab_pack_kv_str(&e, "by", by);
        collab_pack_kv_str(&e, "name", p->name);
    }
    if (collab_pack_finish(&e, &len) != 0)
        return COLLAB_E_INTERNAL;
    collab_agent_t *to[1 + COLLAB_MAX_LIST_ENTRIES];
    size_t n = 0;
    to[n++] = collab_tables_agent(ctx->tables, p->owner, strlen(p->owner));
    for (size_t i = 0; i < nextra && n < sizeof to / sizeof to[0]; i++)
        to[n++] = extra[i];
    return collab_event_fanout(ctx, to, n, true, name, ctx->event_buf, len);
}

int collab_h_create_project(collab_ctx_t *ctx, req_t *req)
{
    collab_span_t name, desc;
    int rc = collab_arg_text(ctx, req, "name", 1, COLLAB_NAME_MAX_CP, true, &name);
    if (rc == 0)
        rc = collab_arg_text(ctx, req, "description", 0, COLLAB_DESC_MAX_CP, false, &desc);
    if (rc)
        return rc;
    if (collab_tables_projects_owned(ctx->tables, req->agent->id) >=
        ctx->cfg.max_projects_per_agent)
        return COLLAB_E_QUOTA;
    char name_z[COLLAB_MAX_STR_BYTES + 1], desc_z[COLLAB_MAX_STR_BYTES + 1];
    memcpy(name_z, name.ptr, name.len);
    name_z[name.len] = '\0';
    memcpy(desc_z, desc.ptr, desc.len);
    desc_z[desc.len] = '\0';
    collab_project_t p = {.name = name_z, .description = desc_z, .created = req->now};
    if ((rc = collab_ctx_take_id(ctx, COLLAB_ID_PROJECT, &p.id)) != 0)
        return rc;
    snprintf(p.owner, sizeof p.owner, "%s", req->agent->id);
    collab_project_t *stored = collab_tables_add_project(ctx->tables, &p);
    if (!stored)
        return COLLAB_E_NOMEM;
    if ((rc = collab_store_put_project(ctx->store, stored)) != 0 ||
        (rc = collab_save_ids(ctx)) != 0 ||
        (rc = project_event(ctx, stored, "project_created", req->agent->id, NULL, 0)) != 0)
        return rc;
    collab_pack_map(&req->out, 3);
    collab_pack_kv_uint(&req->out, "project_id", stored->id);
    collab_pack_kv_str(&req->out, "name", stored->name);
    collab_pack_kv_str(&req->out, "status", "open");
    return 0;
}

static void pack_summary(collab_pack_t *o, const collab_project_t *p)
{
    collab_pack_map(o, 6);
    collab_pack_kv_uint(o, "project_id", p->id);
    collab_pack_kv_str(o, "name", p->name);
    collab_pack_kv_str(o, "owner", p->owner);
    collab_pack_kv_str(o, "status", p->closed ? "closed" : "open");
    collab_pack_kv_uint(o, "task_count", p->task_count);
    collab_pack_kv_uint(o, "created", p->created);
}

/*  Reads an optional offset field (default 0). */
static int opt_offset(req_t *req, const char *key, uint64_t *off)
{
    *off = 0;
    return collab_arg_uint(req, key, false, off);
}

int collab_h_list_projects(collab_ctx_t *ctx, req_t *req)
{
    uint64_t off;
    int rc = opt_offset(req, "offset", &off);
    if (rc)
        return rc;
    size_t total = collab_tables_project_count(ctx->tables), i = off;
    collab_pager_t pg;
    collab_pager_init(ctx, &pg, 0);
    for (; i < total; i++) {
        collab_pager_begin_item(&pg);
        pack_summary(&pg.items, collab_tables_project_at(ctx->tables, i));
        if (!collab_pager_end_item(&pg))
            break;
    }
    collab_pack_map(&req->out, i < total ? 3 : 2);
    collab_pager_emit(&pg, &req->out, "projects");
    collab_pack_kv_uint(&req->out, "total", total);
    if (i < total)
        collab_pack_kv_uint(&req->out, "next_offset", i);
    return 0;
}

int collab_h_get_project(collab_ctx_t *ctx, req_t *req)
{
    uint64_t id, off;
    int rc = collab_arg_id(req, "project_id", &id);
    if (rc == 0)
        rc = opt_offset(req, "task_offset", &off);
    if (rc)
        return rc;
    collab_project_t *p = collab_tables_project(ctx->tables, id);
    if (!p)
        return collab_why(req, COLLAB_E_NOT_FOUND, "project_id", "names no project", 0, NULL);
    /* the same reply as last time while nothing of the project has changed */
    uint64_t version = collab_store_records_version(ctx->store);
    size_t kept_len = 0, start = req->out.len;
    const void *kept =
        ctx->readcache ? collab_readcache_get(ctx->readcache, id, off, version, &kept_len) : NULL;
    if (kept) {
        collab_pack_raw(&req->out, kept, kept_len, 1);
        return 0;
    }
    size_t total, i = off;
    collab_task_t **tasks = collab_tables_project_tasks(ctx->tables, id, &total);
    collab_pager_t pg;
    collab_pager_init(ctx, &pg, strlen(p->name) + strlen(p->description) + 128);
    for (; i < total; i++) {
        collab_pager_begin_item(&pg);
        collab_pack_task(&pg.items, tasks[i]);
        if (!collab_pager_end_item(&pg))
            break;
    }
    collab_pack_t *o = &req->out;
    collab_pack_map(o, i < total ? 9 : 8);
    collab_pack_kv_uint(o, "project_id", p->id);
    collab_pack_kv_str(o, "name", p->name);
    collab_pack_kv_str(o, "description", p->description);
    collab_pack_kv_str(o, "owner", p->owner);
    collab_pack_kv_str(o, "status", p->closed ? "closed" : "open");
    collab_pack_kv_uint(o, "created", p->created);
    collab_pager_emit(&pg, o, "tasks");
    collab_pack_kv_uint(o, "task_total", total);
    if (i < total)
        collab_pack_kv_uint(o, "next_task_offset", i);
    if (ctx->readcache && !o->overflow)
        collab_readcache_put(ctx->readcache, id, off, version, o->data + start, o->len - start);
    return 0;
}

/*  The project named by the request, if this agent may manage it. */
static int managed_project(collab_ctx_t *ctx, req_t *req, collab_project_t **out)
{
    uint64_t id;
    int rc = collab_arg_id(req, "project_id", &id);
    if (rc)
        return rc;
    *out = collab_tables_project(ctx->tables, id);
    if (!*out)
        return collab_why(req, COLLAB_E_NOT_FOUND, "project_id", "names no project", 0, NULL);
    return may_manage(ctx, req, *out) ? 0 : COLLAB_E_FORBIDDEN;
}

/*  The distinct assignees of a project's tasks (for events). */
static size_t assignees(collab_ctx_t *ctx, uint64_t project_id, collab_agent_t **to, size_t cap)
{
    size_t total, n = 0;
    collab_task_t **tasks = collab_tables_project_tasks(ctx->tables, project_id, &total);
    for (size_t i = 0; i < total && n < cap; i++) {
        collab_agent_t *a =
            collab_tables_agent(ctx->tables, tasks[i]->assigned_to, strlen(tasks[i]->assigned_to));
        bool seen = false;
        for (size_t k = 0; k < n && !seen; k++)
            seen = to[k] == a;
        if (a && !seen)
            to[n++] = a;
    }
    return n;
}

int collab_h_close_project(collab_ctx_t *ctx, req_t *req)
{
    collab_project_t *p;
    int rc = managed_project(ctx, req, &p);
    if (rc)
        return rc;
    if (p->closed)
        return COLLAB_E_CONFLICT;
    p->closed = true;
    if ((rc = collab_store_put_project(ctx->store, p)) != 0) {
        p->closed = false;
        return rc;
    }
    collab_agent_t *to[COLLAB_MAX_LIST_ENTRIES];
    size_t n = assignees(ctx, p->id, to, COLLAB_MAX_LIST_ENTRIES);
    if ((rc = project_event(ctx, p, "project_closed", req->agent->id, to, n)) != 0)
        return rc;
    collab_pack_map(&req->out, 2);
    collab_pack_kv_uint(&req->out, "project_id", p->id);
    collab_pack_kv_str(&req->out, "status", "closed");
    return 0;
}

int collab_h_delete_project(collab_ctx_t *ctx, req_t *req)
{
    collab_project_t *p;
    int rc = managed_project(ctx, req, &p);
    if (rc)
        return rc;
    uint64_t id = p->id;
    collab_agent_t *to[COLLAB_MAX_LIST_ENTRIES];
    size_t n = assignees(ctx, id, to, COLLAB_MAX_LIST_ENTRIES);
    if ((rc = collab_store_delete_project(ctx->store, id)) != 0 ||
        (rc = project_event(ctx, p, "project_deleted", req->agent->id, to, n)) != 0)
        return rc;
    collab_tables_remove_project(ctx->tables, id);
    collab_pack_map(&req->out, 2);
    collab_pack_kv_uint(&req->out, "project_id", id);
    collab_pack_kv_bool(&req->out, "deleted", true);
    return 0;
}
