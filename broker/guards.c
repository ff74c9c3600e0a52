/*  guards.c: the checks every request passes before its handler, in the order PROTOCOL.md
    4.6 gives: session (lookup, expiry, agent, peer binding), rate admission, signature,
    timestamp window, replay, role. Each consults a control, never a profile. The pure
    classes they use (ratelimit.c, replay.c) know nothing of requests; the replies, the
    audit lines and the counters of their refusals are written here. */
#include "guards.h"
#include "apply.h"
#include "ids.h"

#include "handlers.h"
#include "log.h"
#include "sessions.h"

#include <string.h>

static bool strong(const collab_ctx_t *ctx, int control)
{
    return collab_strong(&ctx->cfg, control);
}

/* ---- Rate admission (control 10) and replay (control 8): the broker's use of them ---- */

static bool limiting(const collab_ctx_t *ctx)
{
    return strong(ctx, COLLAB_CTL_RATE_LIMIT) && ctx->rate;
}

/*  Admits a request of class cls (COLLAB_RATE_SESSION with its agent's id,
    COLLAB_RATE_LOGIN with the claimed id or NULL), or refuses it with rate_limited,
    {retry_after_ms} in req->out, audited at most once a second per bucket. Buckets count in
    monotonic time: a wall clock stepped back must not freeze them. */
static int rate_admit(collab_ctx_t *ctx, req_t *req, collab_rate_class_t cls, const char *agent_id)
{
    if (!limiting(ctx))
        return 0;
    collab_rate_verdict_t v = {0};
    if (collab_ratelimit_admit(ctx->rate, cls, req->peer, agent_id, collab_ctx_mono(ctx), &v) == 0)
        return 0;
    ctx->stats.rate_limited++;
    if (v.report) { /* audited at most once a second per bucket: not a line per refusal */
        char key[32], n[16];
        snprintf(key, sizeof key, "%s_refused", v.bucket);
        snprintf(n, sizeof n, "%u", v.refused);
        collab_audit(ctx, req, "rate_limited", key, n);
    }
    collab_pack_init(&req->out, ctx->data_buf, sizeof ctx->data_buf);
    collab_pack_map(&req->out, 1);
    collab_pack_kv_uint(&req->out, "retry_after_ms", v.retry_after_ms);
    req->retry_after_ms = v.retry_after_ms;
    return COLLAB_E_RATE_LIMITED;
}

bool collab_guard_charge(collab_ctx_t *ctx, const req_t *req)
{
    if (!limiting(ctx))
        return false;
    collab_rate_verdict_t v = {0};
    if (collab_ratelimit_admit(ctx->rate, COLLAB_RATE_ANON, req->peer, NULL, collab_ctx_mono(ctx),
                               &v) == 0)
        return false;
    if (v.report) { /* the request may not have decoded: name only its address */
        char n[16];
        snprintf(n, sizeof n, "%u", v.refused);
        collab_seclog_emit(ctx->seclog, req->now, "rate_limited", "peer", req->peer,
                           "unauthenticated_over_budget", n, NULL);
    }
    return true;
}

/*  Under the strong replay control, after the signature and the timestamp window: admits a
    signed request (PROTOCOL.md 4.4) or refuses it with stale_timestamp (before the broker
    started), nonce_missing, replay (audited "replay", with what was seen again) or busy.
    This broker's cache is its own; in a cluster under the strong replay_scope control (15)
    the nonce is also claimed in the shared store with the request's commit, for twice the
    window (the longest a timestamp stays acceptable), and a nonce that any broker claimed
    before turns the request's reply into replay then (verdict.c). */
static int replay_check(collab_ctx_t *ctx, req_t *req)
{
    collab_replay_why_t why = COLLAB_REPLAY_OK;
    int rc = collab_replay_admit(ctx->replay, req->env.nonce, req->env.signature,
                                 req->env.timestamp, req->now, &why);
    if (rc == COLLAB_E_REPLAY) {
        ctx->stats.replays++;
        collab_audit(ctx, req, "replay", "seen", collab_replay_why_name(why));
    }
    if (rc == 0 && strong(ctx, COLLAB_CTL_REPLAY_SCOPE))
        rc = collab_store_claim_nonce(ctx->store, (const uint8_t *)req->env.nonce.ptr,
                                      req->env.nonce.len,
                                      2000u * (uint64_t)ctx->cfg.replay_window_s);
    return rc;
}

/* ---- The session ---- */

static int check_expiry(collab_ctx_t *ctx, req_t *req)
{
    const char *reason = collab_session_expiry_reason(&ctx->cfg, req->session, req->now);
    if (!reason)
        return 0;
    collab_session_end(ctx, &req->session, reason, NULL);
    return COLLAB_E_SESSION_EXPIRED;
}

/*  The session's peer address, and under CURVE its client's public key, are recorded at
    login; a change of either is a warning under the weak binding control and a refusal
    under the strong one. A session opened without a key (NULL transport) is bound by its
    address only. The audit names the key used (a public key, an identity like an address). */
static int check_peer(collab_ctx_t *ctx, req_t *req)
{
    const collab_session_t *s = req->session;
    bool other_key = s->curve_key[0] && strcmp(req->curve_key, s->curve_key) != 0;
    bool other_peer = strcmp(req->peer, s->peer) != 0;
    if (!other_peer && !other_key)
        return 0;
    const char *k = other_peer ? "session_peer" : "client_key";
    const char *v = other_peer ? s->peer : req->curve_key;
    ctx->stats.peer_warnings++;
    if (strong(ctx, COLLAB_CTL_PEER_BINDING)) {
        collab_audit(ctx, req, "binding_violation", k, v);
        return COLLAB_E_BINDING;
    }
    if (other_peer)
        log_warning("session %llu of %s used from %s, logged in from %s (warning only)",
                    (unsigned long long)s->handle, req->agent->id, req->peer, s->peer);
    else
        log_warning("session %llu of %s used with another CURVE key (warning only)",
                    (unsigned long long)s->handle, req->agent->id);
    collab_audit(ctx, req, "peer_mismatch_warning", k, v);
    return 0;
}

/*  A session id of a length the broker gives (a weak UUID or a strong token): only such an
    id is looked up in a cluster's shared store, a blocking read on the loop, so that random
    bytes from the wire cost no round trip to Redis. */
static bool plausible_id(collab_span_t id)
{
    return id.len == COLLAB_UUID_LEN || id.len == COLLAB_TOKEN_LEN;
}

/*  A session ended on another broker, kept by the weak revocation control (16): trusted
    until revocation.cache_s after this broker last saw it valid in the shared state, then
    dropped from the tables (the shared state lost it already: nothing is written). */
static bool stale_expired(collab_ctx_t *ctx, req_t *req)
{
    collab_session_t *s = req->session;
    if (!s->stale || req->now < s->verified_ms + (uint64_t)ctx->cfg.revocation_cache_s * 1000u)
        return false;
    collab_tables_remove_session(ctx->tables, &req->session);
    return true;
}

/*  The strong revocation control (16) in a cluster: the session must still be in the shared
    state when the request commits, so a revocation or expiry acknowledged by any broker
    holds here at once; the check rides on the batch's one round trip (verdict.c answers
    session_invalid). A heartbeat reads and changes no state and is not checked, so that it
    is answered while the shared store is away. */
static int check_revocation(collab_ctx_t *ctx, req_t *req)
{
    if (!strong(ctx, COLLAB_CTL_REVOCATION) || req->action == COLLAB_ACT_HEARTBEAT)
        return 0;
    return collab_store_require_session(ctx->store, req->session->token);
}

static int check_session(collab_ctx_t *ctx, req_t *req)
{
    char key[COLLAB_MAX_SESSION_ID + 1]; /* the token, or its keyed hash (state_at_rest) */
    collab_session_key(ctx, req->env.session_id.ptr, req->env.session_id.len, key);
    req->session = collab_tables_session(ctx->tables, key, strlen(key));
    /* a cluster: opened on another broker, and not yet applied here */
    if (!req->session && collab_store_is_shared(ctx->store) && plausible_id(req->env.session_id)) {
        int found = collab_store_find_session(ctx->store, key, &collab_apply_records, ctx);
        if (found == COLLAB_E_UNAVAILABLE)
            return found; /* it may exist: the store cannot say now */
        if (found == 1)
            req->session = collab_tables_session(ctx->tables, key, strlen(key));
    }
    if (!req->session) /* expired and already swept: still session_expired (PROTOCOL.md 5) */
        return collab_session_was_expired(ctx, key) ? COLLAB_E_SESSION_EXPIRED
                                                    : COLLAB_E_SESSION_INVALID;
    if (stale_expired(ctx, req))
        return COLLAB_E_SESSION_INVALID;
    int rc = check_expiry(ctx, req);
    if (rc)
        return rc;
    req->agent =
        collab_tables_agent(ctx->tables, req->session->agent_id, strlen(req->session->agent_id));
    if (!req->agent)
        return COLLAB_E_SESSION_INVALID;
    if (!collab_span_eq(req->env.agent_id, req->agent->id))
        return COLLAB_E_AGENT_MISMATCH;
    rc = check_peer(ctx, req);
    return rc ? rc : check_revocation(ctx, req);
}

/* ---- Signature, timestamp window, replay ---- */

static int check_signature(collab_ctx_t *ctx, req_t *req)
{
    collab_scope_t scope =
        strong(ctx, COLLAB_CTL_SIGNATURE_SCOPE) ? COLLAB_SCOPE_FULL : COLLAB_SCOPE_WEAK;
    if (!collab_action_needs_signature(req->action, scope))
        return 0;
    int rc = collab_verify_keyed(&req->env, scope, &req->agent->sign_key);
    if (rc)
        return rc;
    uint64_t window_s =
        strong(ctx, COLLAB_CTL_REPLAY) ? ctx->cfg.replay_window_s : ctx->cfg.weak_window_s;
    uint64_t ts = req->env.timestamp, window = window_s * 1000u;
    if (ts + window < req->now || ts > req->now + window)
        return COLLAB_E_STALE_TIMESTAMP;
    return strong(ctx, COLLAB_CTL_REPLAY) ? replay_check(ctx, req) : 0;
}

/*  Marks the session used: activity, the connection that events go to, worker last-seen. */
static void touch(req_t *req)
{
    collab_session_t *s = req->session;
    s->last_activity = req->now;
    if (s->rid_len != req->rid_len || memcmp(s->rid, req->rid, req->rid_len) != 0) {
        memcpy(s->rid, req->rid, req->rid_len);
        s->rid_len = (uint16_t)req->rid_len;
    }
    req->agent->last_seen = req->now;
    req->agent->dirty = true;
}

collab_refusal_class_t collab_refusal_class(int rc)
{
    switch (rc) {
    case COLLAB_E_FORBIDDEN:
        return COLLAB_REFUSAL_FORBIDDEN;
    case COLLAB_E_BAD_SIGNATURE:
    case COLLAB_E_SIGNATURE_MISSING:
    case COLLAB_E_STALE_TIMESTAMP:
        return COLLAB_REFUSAL_SIGNATURE;
    case COLLAB_E_SESSION_INVALID:
    case COLLAB_E_SESSION_EXPIRED:
    case COLLAB_E_AGENT_MISMATCH:
    case COLLAB_E_BINDING:
        return COLLAB_REFUSAL_SESSION;
    default: /* replay and nonce_missing among them: replays has its own counter */
        return COLLAB_REFUSAL_OTHER;
    }
}

static void count_refusal(collab_ctx_t *ctx, int rc)
{
    switch (collab_refusal_class(rc)) {
    case COLLAB_REFUSAL_FORBIDDEN:
        ctx->stats.refused_forbidden++;
        break;
    case COLLAB_REFUSAL_SIGNATURE:
        ctx->stats.refused_signature++;
        break;
    case COLLAB_REFUSAL_SESSION:
        ctx->stats.refused_session++;
        break;
    case COLLAB_REFUSAL_OTHER:
        break;
    }
}

int collab_guard_request(collab_ctx_t *ctx, req_t *req)
{
    int rc = check_session(ctx, req);
    bool flooding = false; /* a peer over its budget: its refusals are audited in bulk */
    if (rc)
        flooding = collab_guard_charge(ctx, req); /* no session: its address's anon budget */
    else
        rc = rate_admit(ctx, req, COLLAB_RATE_SESSION, req->agent->id);
    if (rc == 0)
        rc = check_signature(ctx, req);
    if (rc == 0) {
        req->role = strong(ctx, COLLAB_CTL_PERMISSIONS) ? req->agent->role : req->session->role;
        if (!collab_authz_allowed(ctx, req->action, req->role))
            rc = COLLAB_E_FORBIDDEN;
    }
    if (rc) {
        count_refusal(ctx, rc);
        if (!flooding && rc != COLLAB_E_RATE_LIMITED && rc != COLLAB_E_REPLAY)
            collab_audit(ctx, req, "request_refused", "reason", collab_errname(rc));
        return rc;
    }
    touch(req);
    return 0;
}

/*  Logins are rate limited first, before the password costs any hashing: the address's
    login budget and the claimed agent id's (apart from that agent's session requests).
    Under the weak login control a name that is no agent makes no bucket; under the strong
    one every claimed name has one, so that running out of tokens does not tell a known
    agent from an unknown one. */
int collab_guard_login(collab_ctx_t *ctx, req_t *req)
{
    char name[COLLAB_MAX_AGENT_ID + 1];
    const collab_agent_t *a =
        collab_tables_agent(ctx->tables, req->env.agent_id.ptr, req->env.agent_id.len);
    if (a || !strong(ctx, COLLAB_CTL_LOGIN))
        return rate_admit(ctx, req, COLLAB_RATE_LOGIN, a ? a->id : NULL);
    memcpy(name, req->env.agent_id.ptr, req->env.agent_id.len); /* 1..64 bytes, no NUL */
    name[req->env.agent_id.len] = '\0';
    return rate_admit(ctx, req, COLLAB_RATE_LOGIN, name);
}
