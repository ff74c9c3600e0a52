/*  dispatch.h: from one received message to one handled request: decode, the guards
    (guards.h, PROTOCOL.md 4.6), the action's payload keys, then its handler. */
#ifndef COLLAB_DISPATCH_H
#define COLLAB_DISPATCH_H

#include "ctx.h"
#include "req.h"
#include "transport.h"

#include <zmq.h>

/*  Handles one message of `frames` body frames (body holds the first), read from a
    connection of transport (its peer address and CURVE key). Always answers through the
    outbox (or counts a drop); never takes ownership of the messages. */
void collab_dispatch(collab_ctx_t *ctx, const collab_transport_t *transport, zmq_msg_t *rid,
                     zmq_msg_t *body, int frames);

/*  Handles one decoded request whose req->env, req->args, req->action, rid, peer and now
    are set: guards, payload keys, handler, reply (the socket-free half of collab_dispatch,
    which unit tests drive). collab_dispatch runs it in a change set of its own; any other
    caller brackets it with collab_changeset_begin and collab_changeset_end (reply.h). */
void collab_dispatch_request(collab_ctx_t *ctx, req_t *req);

#endif
