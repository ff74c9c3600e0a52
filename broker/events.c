/*  events.c: per-agent event streams. Each event gets the recipient's next sequence
    number, is stored with the batch (retained per agent), and is pushed to the agent's
    subscribed sessions when the batch commits. With a shared store (a cluster) the store
    numbers it, and it is pushed when applied (collab_event_push); the store also decides
    who follows all (collab_store_put_broadcast). */
#include "events.h"
#include "reply.h"

#include <stdlib.h>
#include <string.h>

/*  Copies a NUL-terminated string into dst[cap], cut short if it must be. */
static void copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = strnlen(src, cap - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/*  Encodes an event frame into the outbox's frame buffer; returns its length or 0. */
static size_t encode_event(collab_ctx_t *ctx, const collab_event_t *ev)
{
    collab_envelope_t env = {.kind = COLLAB_KIND_EVENT,
                             .version = COLLAB_PROTOCOL_VERSION,
                             .event = {ev->name, strlen(ev->name)},
                             .seq = ev->seq,
                             .timestamp = ev->timestamp,
                             .data = {(const char *)ev->data, ev->data_len}};
    size_t len = 0;
    if (collab_envelope_encode(&env, collab_outbox_frame_buf(ctx->outbox), COLLAB_MAX_FRAME,
                               &len) != 0)
        return 0;
    return len;
}

static void push(collab_ctx_t *ctx, const collab_session_t *s, size_t len)
{
    collab_send_to(ctx, s->rid, s->rid_len, collab_outbox_frame_buf(ctx->outbox), len);
    ctx->stats.events_sent++;
}

/*  The agent's first session that listens (subscribed, with a connection), or NULL. */
static collab_session_t *first_listener(collab_agent_t *agent)
{
    collab_session_t *s = collab_tables_agent_sessions(agent);
    while (s && !(s->subscribed && s->rid_len))
        s = s->next_of_agent;
    return s;
}

/*  A shared store: notes the ending session's connection, which the event, recorded
    unnumbered, must reach when it is applied (the session has left the tables by then). */
static void await_applied(collab_ctx_t *ctx, const collab_event_t *ev, const uint8_t *rid,
                          size_t rid_len)
{
    collab_ended_t *e = &ctx->ended[ctx->ended_next % COLLAB_ENDED_MAX];
    if (ev->data_len == 0 || ev->data_len > sizeof e->data || rid_len > sizeof e->rid)
        return; /* not noted: it is in the agent's stream all the same */
    ctx->ended_next++;
    copy_str(e->agent_id, sizeof e->agent_id, ev->agent_id);
    copy_str(e->name, sizeof e->name, ev->name);
    memcpy(e->data, ev->data, ev->data_len);
    e->len = ev->data_len;
    memcpy(e->rid, rid, rid_len);
    e->rid_len = (uint16_t)rid_len;
}

/*  The noted connection that awaits ev, or NULL. */
static collab_ended_t *awaiting(collab_ctx_t *ctx, const collab_event_t *ev)
{
    for (size_t i = 0; i < COLLAB_ENDED_MAX; i++) {
        collab_ended_t *e = &ctx->ended[i];
        if (e->len && e->len == ev->data_len && memcmp(e->data, ev->data, e->len) == 0 &&
            strcmp(e->agent_id, ev->agent_id) == 0 && strcmp(e->name, ev->name) == 0)
            return e;
    }
    return NULL;
}

int collab_event_to(collab_ctx_t *ctx, collab_agent_t *agent, const char *name, const uint8_t *data,
                    size_t len)
{
    return collab_event_to_also(ctx, agent, name, data, len, NULL, 0);
}

int collab_event_to_also(collab_ctx_t *ctx, collab_agent_t *agent, const char *name,
                         const uint8_t *data, size_t len, const uint8_t *rid, size_t rid_len)
{
    bool shared = collab_store_is_shared(ctx->store);
    collab_event_t ev = {.seq = shared ? 0 : agent->event_seq + 1,
                         .timestamp = collab_ctx_now(ctx),
                         .data = data,
                         .data_len = len};
    copy_str(ev.agent_id, sizeof ev.agent_id, agent->id);
    copy_str(ev.name, sizeof ev.name, name);
    int rc = collab_store_put_event(ctx->store, &ev, ctx->cfg.event_retention);
    if (rc == 0 && shared && rid_len)
        await_applied(ctx, &ev, rid, rid_len);
    if (rc || shared)
        return rc; /* shared: numbered by the store, pushed when applied (collab_event_push) */
    agent->event_seq = ev.seq; /* persisted by the event itself: the log keeps the latest */
    collab_session_t *first = first_listener(agent);
    if (!first && !rid_len)
        return 0; /* nobody listens now: stored for a later subscribe, no frame to make */
    size_t flen = encode_event(ctx, &ev);
    if (flen == 0)
        return COLLAB_E_INTERNAL;
    for (collab_session_t *s = first; s; s = s->next_of_agent)
        if (s->subscribed && s->rid_len)
            push(ctx, s, flen);
    if (rid_len) {
        collab_send_to(ctx, rid, rid_len, collab_outbox_frame_buf(ctx->outbox), flen);
        ctx->stats.events_sent++;
    }
    return 0;
}

/*  An applied event's frame (encoded, flen bytes) to a connection. It is committed
    already: it waits for no batch and no refusal can drop it (change set 0), only for
    what the outbox holds before it, so each client keeps its order. */
static void put_committed(collab_ctx_t *ctx, const uint8_t *rid, size_t rid_len, size_t flen)
{
    const uint8_t *frame = collab_outbox_frame_buf(ctx->outbox);
    if (collab_outbox_put(ctx->outbox, rid, rid_len, frame, flen, 0, 0) != 0)
        ctx->stats.dropped++;
    else
        ctx->stats.events_sent++;
}

int collab_event_push(collab_ctx_t *ctx, const collab_event_t *ev)
{
    collab_agent_t *agent = collab_tables_agent(ctx->tables, ev->agent_id, strlen(ev->agent_id));
    if (!agent)
        return 0; /* not in this broker's credentials file: nobody here listens */
    if (ev->seq > agent->event_seq)
        agent->event_seq = ev->seq;
    collab_session_t *first = first_listener(agent);
    collab_ended_t *ended = awaiting(ctx, ev);
    if (!first && !ended)
        return 0;
    size_t flen = encode_event(ctx, ev);
    if (flen == 0)
        return COLLAB_E_INTERNAL;
    for (collab_session_t *s = first; s; s = s->next_of_agent)
        if (s->subscribed && s->rid_len)
            put_committed(ctx, s->rid, s->rid_len, flen);
    for (; ended; ended = awaiting(ctx, ev)) {
        put_committed(ctx, ended->rid, ended->rid_len, flen);
        ended->len = 0; /* told once */
    }
    return 0;
}

static bool listed(collab_agent_t **to, size_t n, const collab_agent_t *a)
{
    for (size_t i = 0; i < n; i++)
        if (to[i] == a)
            return true;
    return false;
}

/*  A shared store: the followers of all are the cluster's, which these tables may not hold
    yet (a subscription made on another broker a moment ago), so the store finds them at
    commit. The listed agents have the event already. */
static int broadcast_shared(collab_ctx_t *ctx, collab_agent_t **to, size_t n, const char *name,
                            const uint8_t *data, size_t len)
{
    const char **except = n ? malloc(n * sizeof *except) : NULL;
    if (n && !except)
        return COLLAB_E_NOMEM;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (to[i] && !listed(to, i, to[i]))
            except[k++] = to[i]->id;
    collab_event_t ev = {.timestamp = collab_ctx_now(ctx), .data = data, .data_len = len};
    copy_str(ev.name, sizeof ev.name, name);
    int rc = collab_store_put_broadcast(ctx->store, &ev, except, k, ctx->cfg.event_retention);
    free(except);
    return rc;
}

int collab_event_fanout(collab_ctx_t *ctx, collab_agent_t **to, size_t n, bool broadcast,
                        const char *name, const uint8_t *data, size_t len)
{
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        if (to[i] && !listed(to, i, to[i]))
            rc = collab_event_to(ctx, to[i], name, data, len);
    if (rc || !broadcast)
        return rc;
    if (collab_store_is_shared(ctx->store))
        return broadcast_shared(ctx, to, n, name, data, len);
    if (collab_tables_follow_all_count(ctx->tables) == 0)
        return rc;
    size_t count = collab_tables_agent_count(ctx->tables);
    for (size_t i = 0; i < count && rc == 0; i++) {
        collab_agent_t *a = collab_tables_agent_at(ctx->tables, i);
        if (a->follow_all && !listed(to, n, a))
            rc = collab_event_to(ctx, a, name, data, len);
    }
    return rc;
}

typedef struct {
    collab_ctx_t *ctx;
    collab_session_t *session;
    uint32_t count;
} replay_t;

static int replay_one(void *arg, const collab_event_t *ev)
{
    replay_t *r = arg;
    size_t len = encode_event(r->ctx, ev);
    if (len == 0)
        return COLLAB_E_INTERNAL;
    push(r->ctx, r->session, len);
    r->count++;
    return 0;
}

int collab_event_replay(collab_ctx_t *ctx, collab_session_t *s, uint64_t since, uint32_t *replayed,
                        uint64_t *oldest)
{
    replay_t r = {ctx, s, 0};
    int rc = collab_store_events_since(ctx->store, s->agent_id, since, replay_one, &r, oldest);
    *replayed = r.count;
    return rc;
}
