/*  outbox.h: the replies and events a batch of requests produced, held until the store has
    committed the batch they reflect, then handed in order to a sink (the loop's socket, or
    a test's list). It knows no socket: a message is a routing id and the frame's bytes. */
#ifndef COLLAB_OUTBOX_H
#define COLLAB_OUTBOX_H

#include "collab.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct collab_outbox collab_outbox_t;

/*  Sends one frame to a routing id; the bytes are lent for the call. */
typedef void (*collab_outbox_sink_fn)(void *arg, const uint8_t *rid, size_t rid_len,
                                      const uint8_t *bytes, size_t len);

/*  An empty outbox sending through sink(arg, ...). NULL when out of memory. */
collab_outbox_t *collab_outbox_new(collab_outbox_sink_fn sink, void *arg);

/*  Frees what is still held, unsent. NULL-safe, nulls *self_p. */
void collab_outbox_destroy(collab_outbox_t **self_p);

/*  Queues a copy of one frame for rid. It waits for batch (the store's batch number it
    reflects, 0: none) and for every message queued before it, so that a client sees
    replies and events in the order they were made; a message that waits for nothing goes
    to the sink at once. changeset tags the request that made it (its sequence number), for
    collab_outbox_drop. Returns 0, or COLLAB_E_NOMEM (nothing queued: the caller counts the
    frame as dropped). */
int collab_outbox_put(collab_outbox_t *self, const uint8_t *rid, size_t rid_len,
                      const uint8_t *bytes, size_t len, uint64_t batch, uint64_t changeset);

/*  As collab_outbox_put, for the reply to the request request_id: the outbox remembers
    that it is one, so that collab_outbox_refuse can rebuild it after the store's verdict. */
int collab_outbox_put_reply(collab_outbox_t *self, const uint8_t *rid, size_t rid_len,
                            const uint8_t *bytes, size_t len, uint64_t batch, uint64_t changeset,
                            uint64_t request_id, bool ok);

/*  Encodes into buf (cap bytes) the reply to request_id that replaces a refused one;
    returns its length, or 0 when it cannot (the held reply is then dropped). */
typedef size_t (*collab_outbox_rebuild_fn)(void *arg, uint64_t request_id, uint8_t *buf,
                                           size_t cap);

/*  The store refused change set cs: drops its held events and replaces its held reply, in
    place (same routing id, same position in the queue), with what rebuild encodes. Returns
    1 when a reply was replaced (*was_ok, when not NULL, then says whether it had said ok),
    0 when none was held (a reply already sent, or none made).
    Uses the frame buffer (collab_outbox_frame_buf) for the rebuild. */
int collab_outbox_refuse(collab_outbox_t *self, uint64_t changeset,
                         collab_outbox_rebuild_fn rebuild, void *arg, bool *was_ok);

/*  A shared store's outage (nothing held will commit): every held message leaves or goes,
    in order. Those of the change sets in lost[0..nlost) (a batch whose outcome is unknown)
    are dropped, replies included: *unanswered counts those replies. Every other held reply
    is replaced, as by collab_outbox_refuse, with what rebuild encodes (a refusal) and sent;
    *refused counts them. Other held messages (events) are dropped. Nothing is held after. */
void collab_outbox_fail(collab_outbox_t *self, const uint64_t *lost, size_t nlost,
                        collab_outbox_rebuild_fn rebuild, void *arg, size_t *unanswered,
                        size_t *refused);

/*  Hands to the sink, in order, every held message whose batch is <= committed. */
void collab_outbox_release(collab_outbox_t *self, uint64_t committed);

/*  Drops the held messages of one change set (a request whose change the store refused:
    its reply is then replaced by a refusal and its events never leave). Returns how many
    were dropped. Messages already sent are gone: only held ones can be dropped. */
size_t collab_outbox_drop(collab_outbox_t *self, uint64_t changeset);

/*  How many messages are held. */
size_t collab_outbox_held(const collab_outbox_t *self);

/*  The scratch buffer one frame is encoded into before collab_outbox_put copies it
    (COLLAB_MAX_FRAME bytes); owned by the outbox, lent until the next put. */
uint8_t *collab_outbox_frame_buf(collab_outbox_t *self);

#endif
