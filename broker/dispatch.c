/*  dispatch.c: one message to one reply: decode, the guards (guards.c, in the order
    PROTOCOL.md 4.6 gives), the action's payload keys, and the table from action to
    handler, generated from protocol/actions.def. */
#include "dispatch.h"

#include "guards.h"
#include "handlers.h"
#include "unavail.h"
#include "reply.h"

#include <czmq.h>
#include <string.h>

/*  One handler per row of actions.def: a row without its collab_h_<name> fails the link. */
static const collab_handler_fn handlers[COLLAB_ACT_COUNT] = {
#define ACTION(ID, name, weak_signs, keys, weak_roles, strong_roles)                               \
    [COLLAB_ACT_##ID] = collab_h_##name,
#include "actions.def"
#undef ACTION
};

static int decode(req_t *req, zmq_msg_t *body, int frames)
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
    return rc;
}

/*  The connection's address, and its CURVE public key when the transport has one. */
static void read_peer(const collab_transport_t *transport, req_t *req, zmq_msg_t *body)
{
    const char *peer = zmq_msg_gets(body, "Peer-Address");
    size_t n = peer ? strlen(peer) : 0;
    if (n >= sizeof req->peer)
        n = sizeof req->peer - 1;
    memcpy(req->peer, peer ? peer : "", n);
    req->peer[n] = '\0';
    if (collab_transport_curve(transport))
        collab_transport_peer_key(body, req->curve_key);
}

void collab_dispatch_request(collab_ctx_t *ctx, req_t *req)
{
    int rc = collab_outage_refuse(ctx, req); /* a cluster's store unreachable: nothing done */
    if (rc) {
        collab_reply(ctx, req, rc);
        return;
    }
    rc = req->action == COLLAB_ACT_LOGIN ? collab_guard_login(ctx, req)
                                         : collab_guard_request(ctx, req);
    if (rc) {
        collab_reply(ctx, req, rc);
        return;
    }
    /* the action's own validation starts with its payload's keys: no others are taken */
    rc = collab_why(req, collab_action_check_keys(req->action, &req->args),
                    collab_action_name(req->action), "takes no such payload key", 0, NULL);
    if (rc == 0)
        rc = handlers[req->action](ctx, req);
    if (rc == COLLAB_DEFERRED)
        return; /* the handler answers later (password hashing off the loop) */
    if (rc) {
        collab_pack_init(&req->out, ctx->data_buf, sizeof ctx->data_buf);
        if (rc == COLLAB_E_FORBIDDEN)
            collab_audit(ctx, req, "request_refused", "reason", collab_errname(rc));
    }
    collab_reply(ctx, req, rc);
}

static void dispatch_one(collab_ctx_t *ctx, const collab_transport_t *transport, zmq_msg_t *rid,
                         zmq_msg_t *body, int frames)
{
    req_t req;
    req.rid = zmq_msg_data(rid);
    req.rid_len = zmq_msg_size(rid);
    req.session = NULL;
    req.agent = NULL;
    req.now = collab_ctx_now(ctx);
    req.retry_after_ms = 0;
    req.why = (collab_why_t){0};
    req.peer[0] = req.curve_key[0] = '\0';
    collab_pack_init(&req.out, ctx->data_buf, sizeof ctx->data_buf);
    ctx->stats.requests++;
    if (req.rid_len > COLLAB_RID_MAX) {
        ctx->stats.dropped++;
        return;
    }
    if (frames >= 1)
        read_peer(transport, &req, body);
    int rc = decode(&req, body, frames);
    if (rc) {
        ctx->stats.malformed++; /* request_id stays 0 unless decoding reached it */
        collab_guard_charge(ctx, &req);
        collab_reply(ctx, &req, rc);
        return;
    }
    collab_dispatch_request(ctx, &req);
}

void collab_dispatch(collab_ctx_t *ctx, const collab_transport_t *transport, zmq_msg_t *rid,
                     zmq_msg_t *body, int frames)
{
    collab_changeset_begin(ctx); /* what the request writes and queues: refusable as one */
    dispatch_one(ctx, transport, rid, body, frames);
    collab_changeset_end(ctx);
}
