/*  handlers_fixture.c: the socket-free handler context of the handler tests (see
    handlers_fixture.h). */
#include "handlers_fixture.h"

#include "apply.h"
#include "dispatch.h"
#include "reply.h"
#include "verdict.h"

#include <dirent.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static uint64_t fake_wall(void *arg)
{
    return ((fx_t *)arg)->now;
}

static uint64_t fake_mono(void *arg)
{
    return ((fx_t *)arg)->mono;
}

static int no_hashing(void *arg, collab_hash_job_t **job_p)
{
    (void)arg;
    (void)job_p;
    return -1; /* the pool is full: these tests never log in */
}

/*  Notes a frame sent in fx->frames, decoded. */
static void note_frame(fx_t *fx, const uint8_t *rid, size_t rid_len, const uint8_t *bytes,
                       size_t len)
{
    collab_envelope_t env;
    if (fx->n_frames == FX_MAX_FRAMES || collab_envelope_decode(bytes, len, &env) != 0) {
        fx->frames_lost++;
        return;
    }
    fx_frame_t *f = &fx->frames[fx->n_frames++];
    memset(f, 0, sizeof *f);
    snprintf(f->rid, sizeof f->rid, "%.*s", (int)rid_len, (const char *)rid);
    f->kind = env.kind;
    f->request_id = env.request_id;
    f->ok = env.ok;
    f->error_code = env.error_code;
    snprintf(f->name, sizeof f->name, "%.*s", (int)env.event.len, env.event.ptr);
    f->seq = env.seq;
}

static void sink(void *arg, const uint8_t *rid, size_t rid_len, const uint8_t *bytes, size_t len)
{
    fx_t *fx = arg;
    fx->sent++;
    memcpy(fx->last, bytes, len);
    fx->last_len = len;
    note_frame(fx, rid, rid_len, bytes, len);
}

static void die(const char *what, const char *err)
{
    fprintf(stderr, "handlers fixture: %s: %s\n", what, err);
    exit(2);
}

fx_t *fx_new(void)
{
    char err[512] = "", path[128];
    fx_t *fx = calloc(1, sizeof *fx);
    collab_ctx_t *ctx = fx ? calloc(1, sizeof *ctx) : NULL;
    if (!ctx || sodium_init() < 0)
        die("setup", "out of memory");
    fx->ctx = ctx;
    snprintf(fx->dir, sizeof fx->dir, "/tmp/collab-handlers-XXXXXX");
    if (!mkdtemp(fx->dir))
        die("mkdtemp", fx->dir);
    collab_config_defaults(&ctx->cfg);
    collab_ctx_init(ctx);
    fx->now = 1700000000000ull;
    fx->mono = 1000;
    ctx->wall_ms = fake_wall;
    ctx->mono_ms = fake_mono;
    ctx->clock_arg = fx;
    ctx->submit_hash = no_hashing;
    ctx->started_ms = fx->now;
    snprintf(path, sizeof path, "%s/state.db", fx->dir);
    ctx->store = collab_store_open(path, true, err, sizeof err);
    snprintf(path, sizeof path, "%s/security.log", fx->dir);
    ctx->seclog = collab_seclog_open(path, 1u << 20, err, sizeof err);
    ctx->tables = collab_tables_new();
    ctx->readcache = collab_readcache_new(); /* as the broker runs: every test reads through it */
    ctx->outbox = collab_outbox_new(sink, fx);
    ctx->ids = collab_idgen_new(false, 0);
    if (!ctx->store || !ctx->seclog || !ctx->tables || !ctx->readcache || !ctx->outbox || !ctx->ids)
        die("open", err);
    return fx;
}

void fx_destroy(fx_t **fx_p)
{
    fx_t *fx = *fx_p;
    collab_ctx_t *ctx = fx->ctx;
    collab_outbox_destroy(&ctx->outbox);
    collab_store_destroy(&ctx->store);
    collab_seclog_destroy(&ctx->seclog);
    collab_tables_destroy(&ctx->tables);
    collab_readcache_destroy(&ctx->readcache);
    collab_idgen_destroy(&ctx->ids);
    DIR *d = opendir(fx->dir);
    struct dirent *e;
    char path[512];
    while (d && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", fx->dir, e->d_name);
        unlink(path);
    }
    if (d)
        closedir(d);
    rmdir(fx->dir);
    free(ctx);
    free(fx);
    *fx_p = NULL;
}

void fx_use_store(fx_t *fx, collab_store_t *store)
{
    collab_store_destroy(&fx->ctx->store);
    fx->ctx->store = store;
    /* a new store counts its records' versions from the start again: nothing kept holds */
    collab_readcache_destroy(&fx->ctx->readcache);
    fx->ctx->readcache = collab_readcache_new();
    if (!store || collab_store_start_writer(store) != 0)
        die("store", "cannot start its writer");
}

collab_agent_t *fx_agent(fx_t *fx, const char *id, collab_role_t role)
{
    collab_agent_t a;
    memset(&a, 0, sizeof a);
    snprintf(a.id, sizeof a.id, "%s", id);
    a.role = role;
    collab_agent_t *in = collab_tables_add_agent(fx->ctx->tables, &a);
    if (!in)
        die("agent", id);
    return in;
}

collab_session_t *fx_session(fx_t *fx, const char *agent_id, uint64_t handle)
{
    collab_session_t s;
    memset(&s, 0, sizeof s);
    snprintf(s.token, sizeof s.token, "tok%llu", (unsigned long long)handle);
    snprintf(s.agent_id, sizeof s.agent_id, "%s", agent_id);
    s.handle = handle;
    s.role = collab_tables_agent(fx->ctx->tables, agent_id, strlen(agent_id))->role;
    s.created = s.last_activity = fx->now;
    snprintf(s.peer, sizeof s.peer, "127.0.0.1");
    return collab_tables_add_session(fx->ctx->tables, &s);
}

collab_session_t *fx_listener(fx_t *fx, const char *agent_id, uint64_t handle, bool all)
{
    collab_session_t *s = fx_session(fx, agent_id, handle);
    s->subscribed = true;
    s->rid_len = (uint16_t)snprintf((char *)s->rid, sizeof s->rid, "%s", agent_id);
    if (all)
        collab_tables_set_follow_all(
            fx->ctx->tables, collab_tables_agent(fx->ctx->tables, agent_id, strlen(agent_id)), s,
            true);
    if (!collab_store_is_shared(fx->ctx->store))
        return s;
    /* a shared store knows who follows all from the session records it holds, as after a
       subscribe: committed and applied back (a new copy in the tables) */
    char token[sizeof s->token];
    snprintf(token, sizeof token, "%s", s->token);
    if (collab_store_put_session(fx->ctx->store, s) != 0)
        die("listener", agent_id);
    fx_settle(fx);
    return collab_tables_session(fx->ctx->tables, token, strlen(token));
}

void fx_release(fx_t *fx)
{
    uint64_t committed = 0;
    collab_store_committed(fx->ctx->store, &committed);
    if (collab_apply_committed(fx->ctx) != 0)
        die("apply", "what the store committed could not be applied");
    collab_verdict_release(fx->ctx, committed);
}

void fx_settle(fx_t *fx)
{
    if (collab_store_in_batch(fx->ctx->store))
        collab_store_commit(fx->ctx->store);
    fx_release(fx);
}

static void req_init(fx_t *fx, const char *agent_id)
{
    req_t *req = &fx->req;
    memset(req, 0, sizeof *req);
    req->env.kind = COLLAB_KIND_REQUEST;
    req->env.request_id = fx->request_id ? fx->request_id : 7;
    req->env.agent_id = (collab_span_t){agent_id, strlen(agent_id)};
    req->rid = (const uint8_t *)"rid";
    req->rid_len = 3;
    snprintf(req->peer, sizeof req->peer, "127.0.0.1");
    req->now = fx->now;
    collab_pack_init(&req->out, fx->ctx->data_buf, sizeof fx->ctx->data_buf);
}

int fx_call(fx_t *fx, collab_handler_fn h, const char *agent_id, const void *payload, size_t len)
{
    req_t *req = &fx->req;
    req_init(fx, agent_id);
    if (collab_map_parse(payload ? payload : "\x80", payload ? len : 1, &req->args) != 0)
        die("payload", "not a map");
    req->agent = collab_tables_agent(fx->ctx->tables, agent_id, strlen(agent_id));
    req->role = req->agent->role;
    collab_changeset_begin(fx->ctx);
    int rc = h(fx->ctx, req);
    if (rc)
        collab_pack_init(&req->out, fx->ctx->data_buf, sizeof fx->ctx->data_buf);
    collab_reply(fx->ctx, req, rc);
    collab_changeset_end(fx->ctx);
    if (!fx->hold)
        fx_settle(fx);
    return rc;
}

int fx_request(fx_t *fx, const char *action, const char *agent_id, const char *token)
{
    req_t *req = &fx->req;
    req_init(fx, agent_id);
    req->env.session_id = (collab_span_t){token, strlen(token)};
    req->env.action = (collab_span_t){action, strlen(action)};
    req->action = collab_action_lookup(action, strlen(action));
    collab_map_parse("\x80", 1, &req->args);
    collab_changeset_begin(fx->ctx);
    collab_dispatch_request(fx->ctx, req);
    collab_changeset_end(fx->ctx);
    fx_settle(fx);
    collab_envelope_t env;
    collab_map_t data;
    if (fx_last_reply(fx, &env, &data) != 0)
        return COLLAB_E_INTERNAL;
    return env.ok ? 0 : -(int)env.error_code;
}

int fx_last_reply(fx_t *fx, collab_envelope_t *env, collab_map_t *data)
{
    int rc = collab_envelope_decode(fx->last, fx->last_len, env);
    if (rc == 0 && env->data.len)
        rc = collab_map_parse(env->data.ptr, env->data.len, data);
    else if (rc == 0)
        data->count = 0;
    return rc;
}

int fx_reply_at(const fx_t *fx, uint64_t request_id)
{
    for (size_t i = 0; i < fx->n_frames; i++)
        if (fx->frames[i].kind == COLLAB_KIND_REPLY && fx->frames[i].request_id == request_id)
            return (int)i;
    return -1;
}

int fx_reply_rc(const fx_t *fx, uint64_t request_id)
{
    int i = fx_reply_at(fx, request_id);
    if (i < 0)
        return 1;
    return fx->frames[i].ok ? 0 : -(int)fx->frames[i].error_code;
}

int fx_events(const fx_t *fx, const char *name, const char *rid)
{
    int n = 0;
    for (size_t i = 0; i < fx->n_frames; i++)
        n += fx->frames[i].kind == COLLAB_KIND_EVENT && strcmp(fx->frames[i].name, name) == 0 &&
             (!rid || strcmp(fx->frames[i].rid, rid) == 0);
    return n;
}

size_t fx_payload_uint(fx_t *fx, const char *k1, uint64_t v1, const char *k2, uint64_t v2)
{
    collab_pack_t p;
    size_t len = 0;
    collab_pack_init(&p, fx->payload, sizeof fx->payload);
    collab_pack_map(&p, k2 ? 2 : 1);
    collab_pack_kv_uint(&p, k1, v1);
    if (k2)
        collab_pack_kv_uint(&p, k2, v2);
    collab_pack_finish(&p, &len);
    return len;
}

size_t fx_payload_str(fx_t *fx, const char *k1, const char *v1, const char *k2, const char *v2)
{
    collab_pack_t p;
    size_t len = 0;
    collab_pack_init(&p, fx->payload, sizeof fx->payload);
    collab_pack_map(&p, k2 ? 2 : 1);
    collab_pack_kv_str(&p, k1, v1);
    if (k2)
        collab_pack_kv_str(&p, k2, v2);
    collab_pack_finish(&p, &len);
    return len;
}

int fx_assign(fx_t *fx, const char *as, uint64_t project, const char *worker)
{
    collab_pack_t p;
    size_t len = 0;
    collab_pack_init(&p, fx->payload, sizeof fx->payload);
    collab_pack_map(&p, 4);
    collab_pack_kv_uint(&p, "project_id", project);
    collab_pack_kv_str(&p, "type", "build");
    collab_pack_kv_str(&p, "title", "a task");
    collab_pack_kv_str(&p, "worker", worker);
    if (collab_pack_finish(&p, &len) != 0)
        return COLLAB_E_INTERNAL;
    return fx_call(fx, collab_h_assign_task, as, fx->payload, len);
}

/*  Calls h as `as` with {task_id: task, key: value}. */
static int call_on_task(fx_t *fx, collab_handler_fn h, const char *as, uint64_t task,
                        const char *key, const char *value)
{
    collab_pack_t p;
    size_t len = 0;
    collab_pack_init(&p, fx->payload, sizeof fx->payload);
    collab_pack_map(&p, 2);
    collab_pack_kv_uint(&p, "task_id", task);
    collab_pack_kv_str(&p, key, value);
    if (collab_pack_finish(&p, &len) != 0)
        return COLLAB_E_INTERNAL;
    return fx_call(fx, h, as, fx->payload, len);
}

int fx_set_status(fx_t *fx, const char *as, uint64_t task, const char *status)
{
    return call_on_task(fx, collab_h_update_task_status, as, task, "status", status);
}

int fx_reassign(fx_t *fx, const char *as, uint64_t task, const char *worker)
{
    return call_on_task(fx, collab_h_reassign_task, as, task, "worker", worker);
}
