/*  dispatch.c: the checks every request passes, in the order PROTOCOL.md 4.6 gives, and
    the table from action to handler. Each check consults a control, never a profile. */
#include "dispatch.h"

#include "log.h"

#include <czmq.h>
#include <string.h>

/*  One handler per row of actions.def: a row without its collab_h_<name> fails the link. */
static const collab_handler_fn handlers[COLLAB_ACT_COUNT] = {
#define ACTION(ID, name, weak_signs, keys, weak_roles, strong_roles) [COLLAB_ACT_##ID] = collab_h_##name,
#include "actions.def"
#undef ACTION
};

static bool strong(const collab_broker_t *self, int control)
{
    return self->cfg.strong[control];
}

static int check_expiry(collab_broker_t *self, req_t *req)
{
    collab_session_t *s = req->session;
    const char *reason = NULL;
    /* guarded: a wall clock stepped back must not wrap the subtraction */
    if (req->now > s->last_activity &&
        req->now - s->last_activity > (uint64_t)self->cfg.idle_timeout_s * 1000u)
        reason = "idle";
    else if (strong(self, COLLAB_CTL_SESSION_LIFETIME) && req->now > s->created &&
             req->now - s->created > (uint64_t)self->cfg.absolute_lifetime_s * 1000u)
        reason = "lifetime";
    if (!reason)
        return 0;
    collab_session_end(self, &req->session, reason, NULL);
    return COLLAB_E_SESSION_EXPIRED;
}

/*  The session's peer address, and under CURVE its client's public key, are recorded at
    login; a change of either is a warning under the weak binding control and a refusal
    under the strong one. A session opened without a key (NULL transport) is bound by its
    address only. The audit names the key used (a public key, an identity like an address). */
static int check_peer(collab_broker_t *self, req_t *req)
{
    const collab_session_t *s = req->session;
    bool other_key = s->curve_key[0] && strcmp(req->curve_key, s->curve_key) != 0;
    bool other_peer = strcmp(req->peer, s->peer) != 0;
    if (!other_peer && !other_key)
        return 0;
    const char *k = other_peer ? "session_peer" : "client_key";
    const char *v = other_peer ? s->peer : req->curve_key;
    self->stats.peer_warnings++;
    if (strong(self, COLLAB_CTL_PEER_BINDING)) {
        collab_audit(self, req, "binding_violation", k, v);
        return COLLAB_E_BINDING;
    }
    if (other_peer)
        log_warning("session %llu of %s used from %s, logged in from %s (warning only)",
                    (unsigned long long)s->handle, req->agent->id, req->peer, s->peer);
    else
        log_warning("session %llu of %s used with another CURVE key (warning only)",
                    (unsigned long long)s->handle, req->agent->id);
    collab_audit(self, req, "peer_mismatch_warning", k, v);
    return 0;
}

static int check_session(collab_broker_t *self, req_t *req)
{
    char key[COLLAB_MAX_SESSION_ID + 1]; /* the token, or its keyed hash (state_at_rest) */
    collab_session_key(self, req->env.session_id.ptr, req->env.session_id.len, key);
    req->session = collab_tables_session(self->tables, key, strlen(key));
    if (!req->session) /* expired and already swept: still session_expired (PROTOCOL.md 5) */
        return collab_session_was_expired(self, key) ? COLLAB_E_SESSION_EXPIRED
                                                     : COLLAB_E_SESSION_INVALID;
    int rc = check_expiry(self, req);
    if (rc)
        return rc;
    req->agent =
        collab_tables_agent(self->tables, req->session->agent_id, strlen(req->session->agent_id));
    if (!req->agent)
        return COLLAB_E_SESSION_INVALID;
    if (!collab_span_eq(req->env.agent_id, req->agent->id))
        return COLLAB_E_AGENT_MISMATCH;
    return check_peer(self, req);
}

static int check_signature(collab_broker_t *self, req_t *req)
{
    collab_scope_t scope =
        strong(self, COLLAB_CTL_SIGNATURE_SCOPE) ? COLLAB_SCOPE_FULL : COLLAB_SCOPE_WEAK;
    if (!collab_action_needs_signature(req->action, scope))
        return 0;
    int rc = collab_verify_keyed(&req->env, scope, &req->agent->sign_key);
    if (rc)
        return rc;
    uint64_t window_s =
        strong(self, COLLAB_CTL_REPLAY) ? self->cfg.replay_window_s : self->cfg.weak_window_s;
    uint64_t ts = req->env.timestamp, window = window_s * 1000u;
    if (ts + window < req->now || ts > req->now + window)
        return COLLAB_E_STALE_TIMESTAMP;
    return strong(self, COLLAB_CTL_REPLAY) ? collab_replay_check(self, req) : 0;
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

static void count_refusal(collab_broker_t *self, int rc)
{
    if (rc == COLLAB_E_FORBIDDEN)
        self->stats.refused_forbidden++;
    else if (rc == COLLAB_E_BAD_SIGNATURE || rc == COLLAB_E_SIGNATURE_MISSING ||
             rc == COLLAB_E_STALE_TIMESTAMP)
        self->stats.refused_signature++;
    else if (rc <= COLLAB_E_SESSION_INVALID && rc >= COLLAB_E_BINDING)
        self->stats.refused_session++;
}

/*  Everything between a decoded request and its handler. */
static int authorize(collab_broker_t *self, req_t *req)
{
    int rc = check_session(self, req);
    bool flooding = false; /* a peer over its budget: its refusals are audited in bulk */
    if (rc)
        flooding = collab_rate_charge(self, req); /* no session: its address's anon budget */
    else
        rc = collab_rate_admit(self, req, COLLAB_RATE_SESSION, req->agent->id);
    if (rc == 0)
        rc = check_signature(self, req);
    if (rc == 0) {
        req->role = strong(self, COLLAB_CTL_PERMISSIONS) ? req->agent->role : req->session->role;
        if (!collab_authz_allowed(self, req->action, req->role))
            rc = COLLAB_E_FORBIDDEN;
    }
    if (rc) {
        count_refusal(self, rc);
        if (!flooding && rc != COLLAB_E_RATE_LIMITED && rc != COLLAB_E_REPLAY)
            collab_audit(self, req, "request_refused", "reason", collab_errname(rc));
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
static int admit_login(collab_broker_t *self, req_t *req)
{
    char name[COLLAB_MAX_AGENT_ID + 1];
    const collab_agent_t *a =
        collab_tables_agent(self->tables, req->env.agent_id.ptr, req->env.agent_id.len);
    if (a || !strong(self, COLLAB_CTL_LOGIN))
        return collab_rate_admit(self, req, COLLAB_RATE_LOGIN, a ? a->id : NULL);
    memcpy(name, req->env.agent_id.ptr, req->env.agent_id.len); /* 1..64 bytes, no NUL */
    name[req->env.agent_id.len] = '\0';
    return collab_rate_admit(self, req, COLLAB_RATE_LOGIN, name);
}

static int decode(collab_broker_t *self, req_t *req, zmq_msg_t *body, int frames)
{
    if (frames == 0 || zmq_msg_size(body) == 0) {
        memset(&req->env, 0, sizeof req->env);
        return COLLAB_E_FRAMES;
    }
    collab_envelope_why_t why;
    int rc = collab_envelope_decode_why(zmq_msg_data(body), zmq_msg_size(body), &req->env,
                                        &req->args, &why);
    if (frames != 1) /* the first frame may still say which request it was */
        return COLLAB_E_FRAMES;
    collab_why(req, rc, why.field, why.rule, 0, NULL);
    if (rc == 0 && req->env.kind != COLLAB_KIND_REQUEST)
        rc = collab_why(req, COLLAB_E_MALFORMED, "type", "must be request", 0, NULL);
    if (rc == 0 &&
        (req->action = collab_action_lookup(req->env.action.ptr, req->env.action.len)) < 0)
        rc = req->action;
    (void)self;
    return rc;
}

/*  The connection's address, and its CURVE public key when the transport has one. */
static void read_peer(collab_broker_t *self, req_t *req, zmq_msg_t *body)
{
    const char *peer = zmq_msg_gets(body, "Peer-Address");
    size_t n = peer ? strlen(peer) : 0;
    if (n >= sizeof req->peer)
        n = sizeof req->peer - 1;
    memcpy(req->peer, peer ? peer : "", n);
    req->peer[n] = '\0';
    if (collab_transport_curve(self->transport))
        collab_transport_peer_key(body, req->curve_key);
}

void collab_dispatch(collab_broker_t *self, zmq_msg_t *rid, zmq_msg_t *body, int frames)
{
    req_t req;
    req.rid = zmq_msg_data(rid);
    req.rid_len = zmq_msg_size(rid);
    req.session = NULL;
    req.agent = NULL;
    req.now = collab_now_ms();
    req.retry_after_ms = 0;
    req.why = (collab_why_t){0};
    req.peer[0] = req.curve_key[0] = '\0';
    collab_pack_init(&req.out, self->data_buf, sizeof self->data_buf);
    self->stats.requests++;
    if (req.rid_len > COLLAB_RID_MAX) {
        self->stats.dropped++;
        return;
    }
    if (frames >= 1)
        read_peer(self, &req, body);
    int rc = decode(self, &req, body, frames);
    if (rc) {
        self->stats.malformed++; /* request_id stays 0 unless decoding reached it */
        collab_rate_charge(self, &req);
        collab_reply(self, &req, rc);
        return;
    }
    rc = req.action == COLLAB_ACT_LOGIN ? admit_login(self, &req) : authorize(self, &req);
    if (rc) {
        collab_reply(self, &req, rc);
        return;
    }
    /* the action's own validation starts with its payload's keys: no others are taken */
    rc = collab_why(&req, collab_action_check_keys(req.action, &req.args),
                    collab_action_name(req.action), "takes no such payload key", 0, NULL);
    if (rc == 0)
        rc = handlers[req.action](self, &req);
    if (rc == COLLAB_DEFERRED)
        return; /* the handler answers later (password hashing off the loop) */
    if (rc) {
        collab_pack_init(&req.out, self->data_buf, sizeof self->data_buf);
        if (rc == COLLAB_E_FORBIDDEN)
            collab_audit(self, &req, "request_refused", "reason", collab_errname(rc));
    }
    collab_reply(self, &req, rc);
}
