/*  handlers_admin.c: workers and agents (register_worker, list_workers, list_agents) and
    the admin actions (set_role, list_sessions, revoke_session, get_stats). */
#include "handlers.h"
#include "events.h"
#include "reply.h"
#include "sessions.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

int collab_h_register_worker(collab_ctx_t *ctx, req_t *req)
{
    collab_mp_reader_t r;
    uint32_t n;
    int rc = collab_map_array(&req->args, "capabilities", &r, &n);
    if (rc == COLLAB_E_FIELD_MISSING)
        return collab_why(req, rc, "capabilities", "is missing", 0, NULL);
    if (rc)
        return collab_why(req, rc, "capabilities", "must be an array of strings", 0, NULL);
    if (n < 1)
        return collab_why(req, COLLAB_E_LIMIT, "capabilities", "must not be empty", 0, NULL);
    if (n > COLLAB_MAX_CAPABILITIES)
        return collab_why(req, COLLAB_E_LIMIT, "capabilities", "holds more than",
                          COLLAB_MAX_CAPABILITIES, "entries");
    char caps[COLLAB_MAX_CAPABILITIES][COLLAB_IDENT_MAX + 1];
    for (uint32_t i = 0; i < n; i++) {
        collab_mp_value_t v;
        if (collab_mp_read(&r, &v) != 0 || v.type != COLLAB_MP_STR)
            return collab_why(req, COLLAB_E_FIELD_TYPE, "capabilities",
                              "must be an array of strings", 0, NULL);
        if (v.len < 1)
            return collab_why(req, COLLAB_E_LIMIT, "capabilities", "holds an empty entry", 0, NULL);
        if (v.len > COLLAB_IDENT_MAX)
            return collab_why(req, COLLAB_E_LIMIT, "capabilities", "holds an entry longer than",
                              COLLAB_IDENT_MAX, "bytes");
        for (uint32_t k = 0; k < v.len; k++)
            if (!((v.ptr[k] >= 'a' && v.ptr[k] <= 'z') || v.ptr[k] == '_'))
                return collab_why(req, COLLAB_E_LIMIT, "capabilities",
                                  "must hold entries made of a-z and _ only", 0, NULL);
        memcpy(caps[i], v.ptr, v.len);
        caps[i][v.len] = '\0';
    }
    collab_agent_t *a = req->agent;
    a->registered = true;
    a->cap_count = (uint8_t)n;
    memcpy(a->caps, caps, sizeof caps);
    a->last_seen = req->now;
    if ((rc = collab_store_put_agent(ctx->store, a)) != 0)
        return rc;
    collab_pack_map(&req->out, 2);
    collab_pack_kv_str(&req->out, "agent_id", a->id);
    collab_pack_str(&req->out, "capabilities");
    collab_pack_array(&req->out, n);
    for (uint32_t i = 0; i < n; i++)
        collab_pack_str(&req->out, a->caps[i]);
    return 0;
}

static uint32_t active_tasks(collab_ctx_t *ctx, const char *worker)
{
    uint32_t n = 0;
    size_t np = collab_tables_project_count(ctx->tables);
    for (size_t i = 0; i < np; i++) {
        size_t nt;
        collab_project_t *p = collab_tables_project_at(ctx->tables, i);
        collab_task_t **t = collab_tables_project_tasks(ctx->tables, p->id, &nt);
        for (size_t k = 0; k < nt; k++)
            n += strcmp(t[k]->assigned_to, worker) == 0 &&
                 (t[k]->status == COLLAB_TASK_ASSIGNED || t[k]->status == COLLAB_TASK_IN_PROGRESS);
    }
    return n;
}

int collab_h_list_workers(collab_ctx_t *ctx, req_t *req)
{
    collab_pager_t pg;
    size_t n = collab_tables_agent_count(ctx->tables);
    collab_pager_init(ctx, &pg, 0);
    for (size_t i = 0; i < n; i++) {
        collab_agent_t *a = collab_tables_agent_at(ctx->tables, i);
        if (!a->registered)
            continue;
        collab_pager_begin_item(&pg);
        collab_pack_map(&pg.items, 5);
        collab_pack_kv_str(&pg.items, "agent_id", a->id);
        collab_pack_str(&pg.items, "capabilities");
        collab_pack_array(&pg.items, a->cap_count);
        for (uint8_t c = 0; c < a->cap_count; c++)
            collab_pack_str(&pg.items, a->caps[c]);
        collab_pack_kv_uint(&pg.items, "last_seen", a->last_seen);
        collab_pack_kv_bool(&pg.items, "online", a->session_count > 0);
        collab_pack_kv_uint(&pg.items, "active_tasks", active_tasks(ctx, a->id));
        if (!collab_pager_end_item(&pg))
            break;
    }
    collab_pack_map(&req->out, 1);
    collab_pager_emit(&pg, &req->out, "workers");
    return 0;
}

int collab_h_list_agents(collab_ctx_t *ctx, req_t *req)
{
    collab_pager_t pg;
    size_t n = collab_tables_agent_count(ctx->tables);
    collab_pager_init(ctx, &pg, 0);
    for (size_t i = 0; i < n; i++) {
        collab_agent_t *a = collab_tables_agent_at(ctx->tables, i);
        collab_pager_begin_item(&pg);
        collab_pack_map(&pg.items, 3);
        collab_pack_kv_str(&pg.items, "agent_id", a->id);
        collab_pack_kv_str(&pg.items, "role", collab_role_name(a->role));
        collab_pack_kv_bool(&pg.items, "online", a->session_count > 0);
        if (!collab_pager_end_item(&pg))
            break;
    }
    collab_pack_map(&req->out, 1);
    collab_pager_emit(&pg, &req->out, "agents");
    return 0;
}

int collab_h_set_role(collab_ctx_t *ctx, req_t *req)
{
    collab_span_t id, role_name;
    int rc = collab_arg_str(req, "agent_id", true, &id);
    if (rc == 0)
        rc = collab_arg_str(req, "role", true, &role_name);
    if (rc)
        return rc;
    int role = collab_role_lookup(role_name.ptr, role_name.len);
    if (role < 0)
        return collab_why(req, COLLAB_E_BAD_REQUEST, "role",
                          "is not a role (admin, coordinator, worker, observer)", 0, NULL);
    collab_agent_t *a = collab_tables_agent(ctx->tables, id.ptr, id.len);
    if (!a)
        return collab_why(req, COLLAB_E_NOT_FOUND, "agent_id", "is not an agent", 0, NULL);
    collab_role_t previous = a->role;
    a->role = (collab_role_t)role;
    if ((rc = collab_store_put_agent(ctx->store, a)) != 0) {
        a->role = previous;
        return rc;
    }
    collab_audit(ctx, req, "role_changed", "target", a->id);
    collab_pack_t e;
    size_t len;
    collab_pack_init(&e, ctx->event_buf, sizeof ctx->event_buf);
    collab_pack_map(&e, 4);
    collab_pack_kv_str(&e, "agent_id", a->id);
    collab_pack_kv_str(&e, "role", collab_role_name(a->role));
    collab_pack_kv_str(&e, "previous", collab_role_name(previous));
    collab_pack_kv_str(&e, "by", req->agent->id);
    if (collab_pack_finish(&e, &len) != 0 ||
        (rc = collab_event_to(ctx, a, "role_changed", ctx->event_buf, len)) != 0)
        return rc ? rc : COLLAB_E_INTERNAL;
    collab_pack_map(&req->out, 3);
    collab_pack_kv_str(&req->out, "agent_id", a->id);
    collab_pack_kv_str(&req->out, "role", collab_role_name(a->role));
    collab_pack_kv_str(&req->out, "previous", collab_role_name(previous));
    return 0;
}

static int cmp_handle(const void *a, const void *b)
{
    const collab_session_t *x = *(collab_session_t *const *)a, *y = *(collab_session_t *const *)b;
    return x->handle < y->handle ? -1 : x->handle > y->handle;
}

int collab_h_list_sessions(collab_ctx_t *ctx, req_t *req)
{
    collab_span_t filter = {NULL, 0};
    uint64_t off = 0;
    int rc = collab_arg_str(req, "agent_id", false, &filter);
    if (rc == 0)
        rc = collab_arg_uint(req, "offset", false, &off);
    if (rc)
        return rc;
    size_t total = collab_tables_session_count(ctx->tables), n = 0;
    collab_session_t **all = malloc((total ? total : 1) * sizeof *all);
    if (!all)
        return COLLAB_E_NOMEM;
    for (collab_session_t *s = collab_tables_session_first(ctx->tables); s;
         s = collab_tables_session_next(ctx->tables))
        if (!filter.ptr || collab_span_eq(filter, s->agent_id))
            all[n++] = s;
    qsort(all, n, sizeof *all, cmp_handle);
    collab_pager_t pg;
    collab_pager_init(ctx, &pg, 0);
    size_t i = off;
    for (; i < n; i++) {
        const collab_session_t *s = all[i];
        collab_pager_begin_item(&pg);
        collab_pack_map(&pg.items, 6);
        collab_pack_kv_uint(&pg.items, "handle", s->handle);
        collab_pack_kv_str(&pg.items, "agent_id", s->agent_id);
        collab_pack_kv_str(&pg.items, "role", collab_role_name(s->role));
        collab_pack_kv_uint(&pg.items, "created", s->created);
        collab_pack_kv_uint(&pg.items, "last_activity", s->last_activity);
        collab_pack_kv_str(&pg.items, "peer_address", s->peer);
        if (!collab_pager_end_item(&pg))
            break;
    }
    free(all);
    collab_pack_map(&req->out, i < n ? 3 : 2);
    collab_pager_emit(&pg, &req->out, "sessions");
    collab_pack_kv_uint(&req->out, "total", n);
    if (i < n)
        collab_pack_kv_uint(&req->out, "next_offset", i);
    return 0;
}

int collab_h_revoke_session(collab_ctx_t *ctx, req_t *req)
{
    uint64_t handle;
    collab_span_t id;
    bool by_handle = collab_map_find(&req->args, "handle") != NULL;
    bool by_agent = collab_map_find(&req->args, "agent_id") != NULL;
    int rc = collab_arg_uint(req, "handle", false, &handle);
    if (rc == 0)
        rc = collab_arg_str(req, "agent_id", false, &id);
    if (rc)
        return rc;
    if (by_handle == by_agent) /* exactly one of the two */
        return collab_why(req, COLLAB_E_BAD_REQUEST, "handle",
                          "or agent_id: give exactly one of the two", 0, NULL);
    uint32_t revoked = 0;
    if (by_handle) {
        collab_session_t *s = collab_tables_session_by_handle(ctx->tables, handle);
        if (!s)
            return collab_why(req, COLLAB_E_NOT_FOUND, "handle", "names no session", 0, NULL);
        if (s == req->session)
            req->session = NULL;
        rc = collab_session_end(ctx, &s, "revoked", req->agent->id);
        revoked = rc == 0;
    } else {
        collab_agent_t *a = collab_tables_agent(ctx->tables, id.ptr, id.len);
        if (!a)
            return collab_why(req, COLLAB_E_NOT_FOUND, "agent_id", "is not an agent", 0, NULL);
        while (rc == 0 && a->sessions) {
            collab_session_t *s = a->sessions;
            if (s == req->session)
                req->session = NULL;
            if ((rc = collab_session_end(ctx, &s, "revoked", req->agent->id)) == 0)
                revoked++;
        }
    }
    if (rc)
        return rc;
    collab_audit(ctx, req, "sessions_revoked", NULL, NULL);
    collab_pack_map(&req->out, 1);
    collab_pack_kv_uint(&req->out, "revoked", revoked);
    return 0;
}

/*  Adds a length-prefixed field to the digest, so that no two records hash alike by
    moving bytes between fields. */
static void digest_str(crypto_generichash_state *h, const char *s)
{
    uint64_t n = strlen(s);
    crypto_generichash_update(h, (const uint8_t *)&n, sizeof n);
    crypto_generichash_update(h, (const uint8_t *)s, n);
}

static void digest_u64(crypto_generichash_state *h, uint64_t v)
{
    crypto_generichash_update(h, (const uint8_t *)&v, sizeof v);
}

/*  BLAKE2b-256 of the projects and tasks, in id order, every field a client can read: two
    brokers of a cluster that hold the same state give the same digest (docs/DISTRIBUTED.md). */
static void state_digest(collab_ctx_t *ctx, char hex[2 * 32 + 1], uint64_t *ntasks)
{
    crypto_generichash_state h;
    uint8_t out[32];
    crypto_generichash_init(&h, NULL, 0, sizeof out);
    size_t np = collab_tables_project_count(ctx->tables);
    for (size_t i = 0; i < np; i++) {
        const collab_project_t *p = collab_tables_project_at(ctx->tables, i);
        digest_u64(&h, p->id);
        digest_str(&h, p->name);
        digest_str(&h, p->description);
        digest_str(&h, p->owner);
        digest_u64(&h, p->closed);
        digest_u64(&h, p->created);
        size_t nt = 0;
        collab_task_t **tasks = collab_tables_project_tasks(ctx->tables, p->id, &nt);
        digest_u64(&h, nt);
        *ntasks += nt;
        for (size_t j = 0; j < nt; j++) {
            const collab_task_t *t = tasks[j];
            digest_u64(&h, t->id);
            digest_str(&h, t->type);
            digest_str(&h, t->title);
            digest_str(&h, t->description);
            digest_str(&h, t->result);
            digest_u64(&h, (uint64_t)t->status);
            digest_str(&h, t->assigned_to);
            digest_str(&h, t->assigned_by);
            digest_u64(&h, t->created);
            digest_u64(&h, t->updated);
        }
    }
    crypto_generichash_final(&h, out, sizeof out);
    sodium_bin2hex(hex, 2 * sizeof out + 1, out, sizeof out);
}

int collab_h_get_stats(collab_ctx_t *ctx, req_t *req)
{
    const collab_counters_t *c = &ctx->stats;
    collab_pack_t *o = &req->out;
    char digest[2 * 32 + 1];
    uint64_t ntasks = 0;
    state_digest(ctx, digest, &ntasks);
    collab_pack_map(o, 34);
    collab_pack_kv_uint(o, "requests", c->requests);
    collab_pack_kv_uint(o, "replies_ok", c->replies_ok);
    collab_pack_kv_uint(o, "replies_error", c->replies_error);
    collab_pack_kv_uint(o, "refused_auth", c->logins_failed);
    collab_pack_kv_uint(o, "refused_forbidden", c->refused_forbidden);
    collab_pack_kv_uint(o, "refused_signature", c->refused_signature);
    collab_pack_kv_uint(o, "refused_session", c->refused_session);
    collab_pack_kv_uint(o, "malformed", c->malformed);
    collab_pack_kv_uint(o, "dropped", c->dropped);
    collab_pack_kv_uint(o, "disconnects", c->disconnects);
    collab_pack_kv_uint(o, "sessions_open", collab_tables_session_count(ctx->tables));
    collab_pack_kv_uint(o, "logins_ok", c->logins_ok);
    collab_pack_kv_uint(o, "logins_failed", c->logins_failed);
    collab_pack_kv_uint(o, "events_sent", c->events_sent);
    collab_pack_kv_uint(o, "peer_warnings", c->peer_warnings);
    collab_pack_kv_uint(o, "transport_refused", ctx->stats.transport_refused);
    collab_pack_kv_uint(o, "rate_limited", c->rate_limited);
    collab_pack_kv_uint(o, "rate_syncs", c->rate_syncs);
    collab_pack_kv_uint(o, "rate_sync_failures", c->rate_sync_failures);
    collab_pack_kv_uint(o, "replays", c->replays);
    collab_pack_kv_uint(o, "hash_jobs", c->hash_jobs);
    collab_pack_kv_uint(o, "hash_verified", c->hash_verified);
    collab_pack_kv_uint(o, "commits", c->commits);
    collab_pack_kv_uint(o, "refused_conflict", c->refused_conflict);
    collab_pack_kv_str(o, "state_digest", digest);
    collab_pack_kv_uint(o, "projects", collab_tables_project_count(ctx->tables));
    collab_pack_kv_uint(o, "tasks", ntasks);
    collab_pack_kv_uint(o, "uptime_s", (req->now - ctx->started_ms) / 1000u);
    /* a cluster's shared store (outage.c); 1 and zeros for a broker alone */
    collab_pack_kv_uint(o, "store_available", collab_store_available(ctx->store));
    collab_pack_kv_uint(o, "store_unavailable", c->store_unavailable);
    collab_pack_kv_uint(o, "store_unanswered", c->store_unanswered);
    collab_pack_kv_uint(o, "store_outages", c->store_outages);
    collab_pack_kv_uint(o, "store_reconnects", c->store_reconnects);
    collab_pack_kv_uint(o, "store_reloads", c->store_reloads);
    return 0;
}
