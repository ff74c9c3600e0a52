/*  reply.h: what a handler's output becomes: a reply envelope or a frame put into the
    outbox, held there until the batch it reflects commits (reply.c). */
#ifndef COLLAB_REPLY_H
#define COLLAB_REPLY_H

#include "ctx.h"
#include "req.h"

/*  Queues the reply to the request: rc and the data in req->out (an error's text from
    req->why). Counts it in replies_ok or replies_error. */
void collab_reply(collab_ctx_t *ctx, const req_t *req, int rc);

/*  Queues one frame to a routing id, behind the store's open batch; a frame the outbox
    cannot take is counted as dropped. */
void collab_send_to(collab_ctx_t *ctx, const uint8_t *rid, size_t rid_len, const uint8_t *bytes,
                    size_t len);

/*  A request's change set (one per request, and one per deferred completion): from begin
    to end, what it writes to the store and what it puts in the outbox carry a new id, so
    that a store's refusal of it (collab_verdict_release) finds its changes and its
    messages. Outside one (timers, the sweep) both carry 0, which no store refuses. */
void collab_changeset_begin(collab_ctx_t *ctx);
void collab_changeset_end(collab_ctx_t *ctx);

#endif
