/*  handlers_session.c: login (its password check runs on the hashing pool, and
    collab_login_complete finishes it), logout, heartbeat, get_session_info,
    change_password and subscribe. */
#include "handlers.h"
#include "events.h"
#include "reply.h"
#include "sessions.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

typedef enum { PEND_LOGIN, PEND_CHPW_VERIFY, PEND_CHPW_CREATE } pend_kind_t;

/*  What a request waiting for the hashing pool needs to be answered later. */
typedef struct {
    pend_kind_t kind;
    uint8_t rid[COLLAB_RID_MAX];
    size_t rid_len;
    uint64_t request_id;
    int action;
    char agent_id[COLLAB_MAX_AGENT_ID + 1];
    bool known;
    bool locked; /* a locked-out agent: verified all the same, then refused */
    char peer[COLLAB_PEER_MAX];
    char curve_key[COLLAB_CURVE_KEY_TXT];
    char new_password[COLLAB_PASSWORD_MAX + 1];
    size_t new_len;
} pending_t;

static void pending_free(pending_t *p)
{
    if (p) {
        sodium_memzero(p->new_password, sizeof p->new_password);
        free(p);
    }
}

/*  Queues a password job for this request. Returns COLLAB_DEFERRED or an error. */
static int submit(collab_ctx_t *ctx, const req_t *req, pending_t *p, collab_hash_op_t op,
                  const char *hash, collab_span_t password)
{
    collab_hash_job_t *job = calloc(1, sizeof *job);
    if (!job) {
        pending_free(p);
        return COLLAB_E_NOMEM;
    }
    p->request_id = req->env.request_id;
    p->action = req->action;
    p->rid_len = req->rid_len;
    memmove(p->rid, req->rid, req->rid_len); /* req->rid may be p->rid itself */
    snprintf(p->peer, sizeof p->peer, "%s", req->peer);
    snprintf(p->curve_key, sizeof p->curve_key, "%s", req->curve_key);
    job->op = op;
    snprintf(job->hash, sizeof job->hash, "%s", hash);
    memcpy(job->password, password.ptr, password.len);
    job->password_len = password.len;
    snprintf(job->scheme, sizeof job->scheme, "bcrypt");
    job->cost = 12;
    job->ctx = p;
    if (ctx->submit_hash(ctx->submit_arg, &job) != 0) {
        sodium_memzero(job->password, sizeof job->password);
        free(job);
        pending_free(p);
        return COLLAB_E_BUSY;
    }
    ctx->stats.hash_jobs++;
    return COLLAB_DEFERRED;
}

static bool login_strong(const collab_ctx_t *ctx)
{
    return ctx->cfg.strong[COLLAB_CTL_LOGIN];
}

/*  Under the strong login control an unknown agent, a wrong password and a locked-out agent
    cost the same hashing (the agent's hash, or a dummy of the same scheme and cost) and get
    the same answer, auth_failed; the security log alone tells them apart. Under the weak
    one an unknown agent is refused before any hashing: the timing leak LAB.md keeps. */
int collab_h_login(collab_ctx_t *ctx, req_t *req)
{
    collab_span_t pw;
    /* a login opens a session, unsigned (PROTOCOL.md 5) */
    if (req->env.session_id.len)
        return collab_why(req, COLLAB_E_MALFORMED, "session_id", "must be empty in a login", 0,
                          NULL);
    if (req->env.signature.len)
        return collab_why(req, COLLAB_E_MALFORMED, "signature", "must be absent in a login", 0,
                          NULL);
    int rc = collab_arg_secret(req, "password", COLLAB_PASSWORD_MAX, &pw);
    if (rc)
        return rc;
    collab_agent_t *agent =
        collab_tables_agent(ctx->tables, req->env.agent_id.ptr, req->env.agent_id.len);
    if (!agent && !login_strong(ctx)) {
        ctx->stats.logins_failed++;
        collab_audit(ctx, req, "login_failed", "reason", "unknown_agent");
        return COLLAB_E_AUTH_FAILED;
    }
    if (collab_tables_session_count(ctx->tables) >= ctx->cfg.max_sessions)
        return COLLAB_E_SESSION_LIMIT;
    pending_t *p = calloc(1, sizeof *p);
    if (!p)
        return COLLAB_E_NOMEM;
    p->kind = PEND_LOGIN;
    p->known = agent != NULL;
    p->locked = agent && login_strong(ctx) && agent->locked_until > req->now;
    memcpy(p->agent_id, req->env.agent_id.ptr, req->env.agent_id.len);
    return submit(ctx, req, p, COLLAB_HASH_VERIFY, agent ? agent->pw_hash : ctx->dummy_hash, pw);
}

static void pack_controls(collab_ctx_t *ctx, collab_pack_t *o)
{
    const collab_config_t *c = &ctx->cfg;
    bool replay = c->strong[COLLAB_CTL_REPLAY];
    collab_pack_str(o, "controls");
    collab_pack_map(o, 4);
    collab_pack_kv_str(o, "signature_scope",
                       c->strong[COLLAB_CTL_SIGNATURE_SCOPE] ? "full" : "weak");
    collab_pack_kv_bool(o, "replay_protection", replay);
    collab_pack_kv_uint(o, "timestamp_window_s", replay ? c->replay_window_s : c->weak_window_s);
    collab_pack_kv_bool(o, "sanitize_output", c->strong[COLLAB_CTL_TEXT_FIELDS]);
}

/*  The per-agent cap (strong session_cap control): the oldest sessions make room. */
static void evict_for(collab_ctx_t *ctx, collab_agent_t *agent)
{
    while (ctx->cfg.strong[COLLAB_CTL_SESSION_CAP] &&
           agent->session_count >= ctx->cfg.sessions_per_agent && agent->sessions) {
        collab_session_t *oldest = agent->sessions;
        while (oldest->next_of_agent)
            oldest = oldest->next_of_agent; /* the list is newest first */
        if (collab_session_end(ctx, &oldest, "evicted", "session_cap") != 0)
            return;
    }
}

static int open_session(collab_ctx_t *ctx, req_t *req, collab_agent_t *agent)
{
    collab_session_t s = {0};
    int rc = collab_ctx_take_id(ctx, COLLAB_ID_HANDLE, &s.handle);
    if (rc)
        return rc;
    char token[COLLAB_MAX_SESSION_ID + 1]; /* the bearer token: in the reply, nowhere else */
    collab_idgen_next(ctx->ids, token, sizeof token);
    collab_session_key(ctx, token, strlen(token), s.token);
    snprintf(s.agent_id, sizeof s.agent_id, "%s", agent->id);
    s.role = agent->role;
    s.created = s.last_activity = s.persisted_activity = s.verified_ms = req->now;
    snprintf(s.peer, sizeof s.peer, "%s", req->peer);
    snprintf(s.curve_key, sizeof s.curve_key, "%s", req->curve_key); /* bound to it (CURVE) */
    memcpy(s.rid, req->rid, req->rid_len);
    s.rid_len = (uint16_t)req->rid_len;
    evict_for(ctx, agent);
    collab_session_t *stored = collab_tables_add_session(ctx->tables, &s);
    if (!stored)
        return COLLAB_E_NOMEM;
    rc = collab_store_put_session(ctx->store, stored);
    if (rc) {
        collab_tables_remove_session(ctx->tables, &stored);
        return rc;
    }
    agent->failures = 0;
    agent->last_seen = req->now;
    collab_store_put_agent(ctx->store, agent);
    req->session = stored;
    collab_pack_t *o = &req->out;
    collab_pack_map(o, 8);
    collab_pack_kv_str(o, "session_id", token);
    sodium_memzero(token, sizeof token);
    collab_pack_kv_str(o, "agent_id", agent->id);
    collab_pack_kv_str(o, "role", collab_role_name(agent->role));
    collab_pack_kv_uint(o, "created", stored->created);
    collab_pack_kv_uint(o, "idle_timeout_s", ctx->cfg.idle_timeout_s);
    collab_pack_kv_uint(o, "absolute_lifetime_s",
                        ctx->cfg.strong[COLLAB_CTL_SESSION_LIFETIME] ? ctx->cfg.absolute_lifetime_s
                                                                     : 0);
    collab_pack_kv_uint(o, "event_seq", agent->event_seq);
    pack_controls(ctx, o);
    return 0;
}

/*  Every failed login records one change, so that its reply waits for one commit whichever
    the reason: the failure count of a known agent, the id counters for an unknown one. */
static int login_failed(collab_ctx_t *ctx, req_t *req, collab_agent_t *agent, bool locked)
{
    ctx->stats.logins_failed++;
    if (locked) {
        collab_audit(ctx, req, "login_locked_out", NULL, NULL);
        collab_store_put_agent(ctx->store, agent);
        return COLLAB_E_AUTH_FAILED; /* not locked_out: that would tell the agent exists */
    }
    collab_audit(ctx, req, "login_failed", "reason", agent ? "password" : "unknown_agent");
    if (!agent) {
        collab_save_ids(ctx);
        return COLLAB_E_AUTH_FAILED;
    }
    agent->failures++;
    if (login_strong(ctx) && agent->failures >= ctx->cfg.lockout_failures) {
        agent->locked_until = req->now + (uint64_t)ctx->cfg.lockout_s * 1000u;
        agent->failures = 0;
        collab_audit(ctx, req, "lockout", NULL, NULL);
    }
    collab_store_put_agent(ctx->store, agent);
    return COLLAB_E_AUTH_FAILED;
}

static int finish_login(collab_ctx_t *ctx, req_t *req, const pending_t *p, int result)
{
    collab_agent_t *agent =
        p->known ? collab_tables_agent(ctx->tables, p->agent_id, strlen(p->agent_id)) : NULL;
    if (result != 0 || !agent || p->locked)
        return login_failed(ctx, req, agent, agent && p->locked);
    req->agent = agent;
    if (collab_tables_session_count(ctx->tables) >= ctx->cfg.max_sessions)
        return COLLAB_E_SESSION_LIMIT;
    int rc = open_session(ctx, req, agent);
    if (rc == 0) {
        ctx->stats.logins_ok++;
        collab_audit(ctx, req, "login_ok", NULL, NULL);
        collab_audit(ctx, req, "session_created", NULL, NULL);
    }
    return rc;
}

static int finish_change_password(collab_ctx_t *ctx, req_t *req, pending_t **p_p,
                                  collab_hash_job_t *job)
{
    pending_t *p = *p_p;
    collab_agent_t *agent = collab_tables_agent(ctx->tables, p->agent_id, strlen(p->agent_id));
    req->agent = agent;
    if (!agent)
        return COLLAB_E_SESSION_INVALID;
    if (job->result != 0) {
        collab_audit(ctx, req, "change_password_failed", "reason", collab_errname(job->result));
        return job->result == COLLAB_E_AUTH_FAILED ? COLLAB_E_AUTH_FAILED : COLLAB_E_INTERNAL;
    }
    if (p->kind == PEND_CHPW_VERIFY) {
        p->kind = PEND_CHPW_CREATE;
        collab_span_t pw = {p->new_password, p->new_len};
        req->action = p->action;
        *p_p = NULL; /* submit owns it now */
        return submit(ctx, req, p, COLLAB_HASH_CREATE, "", pw);
    }
    snprintf(agent->pw_hash, sizeof agent->pw_hash, "%s", job->new_hash);
    int rc = collab_store_put_agent(ctx->store, agent);
    if (rc == 0) {
        collab_audit(ctx, req, "password_changed", NULL, NULL);
        collab_pack_map(&req->out, 0);
    }
    return rc;
}

void collab_login_complete(collab_ctx_t *ctx, collab_hash_job_t *job)
{
    pending_t *p = job->ctx;
    req_t req;
    memset(&req.env, 0, sizeof req.env);
    req.env.request_id = p->request_id;
    req.env.agent_id = (collab_span_t){p->agent_id, strlen(p->agent_id)};
    req.action = p->action;
    req.rid = p->rid;
    req.rid_len = p->rid_len;
    snprintf(req.peer, sizeof req.peer, "%s", p->peer);
    snprintf(req.curve_key, sizeof req.curve_key, "%s", p->curve_key);
    req.session = NULL;
    req.agent = NULL;
    req.why = (collab_why_t){0};
    req.now = collab_ctx_now(ctx);
    collab_pack_init(&req.out, ctx->data_buf, sizeof ctx->data_buf);
    collab_changeset_begin(ctx); /* the completion is a change set of its own */
    int rc;
    if (job->op == COLLAB_HASH_VERIFY && (job->result == 0 || job->result == COLLAB_E_AUTH_FAILED))
        ctx->stats.hash_verified++; /* the whole algorithm ran on a hash it could parse */
    if (p->kind == PEND_LOGIN)
        rc = finish_login(ctx, &req, p, job->result);
    else
        rc = finish_change_password(ctx, &req, &p, job);
    sodium_memzero(job, sizeof *job);
    free(job);
    if (rc != COLLAB_DEFERRED) {
        if (rc)
            collab_pack_init(&req.out, ctx->data_buf, sizeof ctx->data_buf);
        collab_reply(ctx, &req, rc); /* req borrows p's routing id: free p after */
        pending_free(p);
    }
    collab_changeset_end(ctx);
}

/*  The strong login control's policy: length, not the agent id, three character classes. */
static int password_policy(const collab_ctx_t *ctx, const collab_agent_t *agent, collab_span_t pw)
{
    if (!login_strong(ctx))
        return 0;
    int lower = 0, upper = 0, digit = 0, other = 0;
    size_t cp = 0;
    collab_utf8_check(pw.ptr, pw.len, &cp);
    for (size_t i = 0; i < pw.len; i++) {
        unsigned char c = (unsigned char)pw.ptr[i];
        lower |= c >= 'a' && c <= 'z';
        upper |= c >= 'A' && c <= 'Z';
        digit |= c >= '0' && c <= '9';
        other |= !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'));
    }
    bool has_id = memmem(pw.ptr, pw.len, agent->id, strlen(agent->id)) != NULL;
    if (cp < ctx->cfg.password_min_len || has_id || lower + upper + digit + other < 3)
        return COLLAB_E_WEAK_PASSWORD;
    return 0;
}

int collab_h_change_password(collab_ctx_t *ctx, req_t *req)
{
    collab_span_t old_pw, new_pw;
    int rc = collab_arg_secret(req, "old_password", COLLAB_PASSWORD_MAX, &old_pw);
    if (rc == 0)
        rc = collab_arg_secret(req, "new_password", COLLAB_PASSWORD_MAX, &new_pw);
    if (rc)
        return rc;
    if ((rc = password_policy(ctx, req->agent, new_pw)) != 0)
        return collab_why(req, rc, "new_password",
                          "must not hold the agent id, must mix 3 kinds of character (a-z, A-Z, "
                          "0-9, other) and be at least",
                          ctx->cfg.password_min_len, "code points");
    pending_t *p = calloc(1, sizeof *p);
    if (!p)
        return COLLAB_E_NOMEM;
    p->kind = PEND_CHPW_VERIFY;
    p->known = true;
    snprintf(p->agent_id, sizeof p->agent_id, "%s", req->agent->id);
    memcpy(p->new_password, new_pw.ptr, new_pw.len);
    p->new_len = new_pw.len;
    return submit(ctx, req, p, COLLAB_HASH_VERIFY, req->agent->pw_hash, old_pw);
}

int collab_h_logout(collab_ctx_t *ctx, req_t *req)
{
    int rc = collab_session_end(ctx, &req->session, "logout", req->agent->id);
    if (rc == 0)
        collab_pack_map(&req->out, 0);
    return rc;
}

int collab_h_heartbeat(collab_ctx_t *ctx, req_t *req)
{
    (void)ctx;
    collab_pack_map(&req->out, 2);
    collab_pack_kv_uint(&req->out, "now", req->now);
    collab_pack_kv_uint(&req->out, "event_seq", req->agent->event_seq);
    return 0;
}

int collab_h_get_session_info(collab_ctx_t *ctx, req_t *req)
{
    const collab_session_t *s = req->session;
    collab_pack_t *o = &req->out;
    bool life = ctx->cfg.strong[COLLAB_CTL_SESSION_LIFETIME];
    collab_pack_map(o, 8);
    collab_pack_kv_uint(o, "handle", s->handle);
    collab_pack_kv_str(o, "agent_id", s->agent_id);
    collab_pack_kv_str(o, "role", collab_role_name(s->role));
    collab_pack_kv_uint(o, "created", s->created);
    collab_pack_kv_uint(o, "last_activity", s->last_activity);
    collab_pack_kv_str(o, "peer_address", s->peer);
    collab_pack_kv_uint(o, "idle_timeout_s", ctx->cfg.idle_timeout_s);
    collab_pack_kv_uint(o, "absolute_expires",
                        life ? s->created + (uint64_t)ctx->cfg.absolute_lifetime_s * 1000u : 0);
    return 0;
}

int collab_h_subscribe(collab_ctx_t *ctx, req_t *req)
{
    uint64_t since = req->agent->event_seq;
    bool all = false;
    int rc = collab_arg_uint(req, "since", false, &since);
    if (rc == 0)
        rc = collab_arg_bool(req, "all", false, &all);
    if (rc)
        return rc;
    collab_session_t *s = req->session;
    collab_tables_set_follow_all(ctx->tables, req->agent, s, all);
    s->subscribed = true;
    if ((rc = collab_store_put_session(ctx->store, s)) != 0)
        return rc;
    uint32_t replayed = 0;
    uint64_t oldest = 0;
    if (since < req->agent->event_seq &&
        (rc = collab_event_replay(ctx, s, since, &replayed, &oldest)) != 0)
        return rc;
    collab_pack_map(&req->out, 3);
    collab_pack_kv_uint(&req->out, "last_seq", req->agent->event_seq);
    collab_pack_kv_uint(&req->out, "replayed", replayed);
    collab_pack_kv_uint(&req->out, "oldest_seq", oldest);
    return 0;
}
