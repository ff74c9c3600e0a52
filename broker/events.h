/*  events.h: per-agent event streams (events.c): each event gets the recipient's next
    sequence number, is stored with the batch, and goes to the agent's subscribed sessions
    through the outbox. data is a packed map. */
#ifndef COLLAB_EVENTS_H
#define COLLAB_EVENTS_H

#include "ctx.h"

#include <stdbool.h>

/*  Appends an event to an agent's stream and pushes it to its subscribed sessions.
    In a cluster (a shared store) the store numbers it and every broker pushes it when it
    is applied (collab_event_push). Returns 0 or the store's error. */
int collab_event_to(collab_ctx_t *ctx, collab_agent_t *agent, const char *name, const uint8_t *data,
                    size_t len);
/*  The same, and also straight to one connection (a session that is ending); in a cluster
    that connection is noted (ctx->ended) and gets the event when it is applied. */
int collab_event_to_also(collab_ctx_t *ctx, collab_agent_t *agent, const char *name,
                         const uint8_t *data, size_t len, const uint8_t *rid, size_t rid_len);
/*  A shared store (a cluster): an event it committed and numbered, from this broker or
    another, pushed to this broker's subscribed sessions of its agent (whose event_seq
    follows), and to the connection of a session that ended here awaiting it. Returns 0 or
    COLLAB_E_INTERNAL. */
int collab_event_push(collab_ctx_t *ctx, const collab_event_t *ev);
/*  The same event to each listed agent (NULL entries and duplicates skipped) and, when
    broadcast (project and task events), to every agent that follows all: those of these
    tables, or, with a shared store, those of the whole cluster when the store commits
    (collab_store_put_broadcast). */
int collab_event_fanout(collab_ctx_t *ctx, collab_agent_t **to, size_t n, bool broadcast,
                        const char *name, const uint8_t *data, size_t len);
/*  Replays retained events with seq > since to one session. */
int collab_event_replay(collab_ctx_t *ctx, collab_session_t *s, uint64_t since, uint32_t *replayed,
                        uint64_t *oldest);

#endif
