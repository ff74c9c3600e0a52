/*  client_events.c: pushed events, queued in sequence order, and the subscription that
    asks for them, renewed after a reconnect or a move (see collab_client.h). */
#include "client_self.h"
#include "collab_clock.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EVENT_QUEUE_MAX 10000
#define CLIENT_TAKE_MAX 64 /* messages read by one collab_client_take */

int client_own_map(collab_span_t src, uint8_t **data, size_t *len, collab_map_t *map)
{
    *data = malloc(src.len ? src.len : 1);
    if (!*data)
        return COLLAB_E_NOMEM;
    memcpy(*data, src.ptr, src.len);
    *len = src.len;
    return collab_map_parse(*data, *len, map);
}

/*  Queues an event in sequence order, once: a catch-up (subscribe since the last event
    seen) replays older events after a newer one may have been pushed live. */
void client_queue_event(collab_client_t *self, const collab_envelope_t *env)
{
    if (env->seq <= self->last_seq || self->queued >= EVENT_QUEUE_MAX)
        return; /* already handled (catch-up overlap) or beyond the queue: asked again later */
    event_node_t *prev = NULL, *next = self->head;
    while (next && next->ev.seq < env->seq) {
        prev = next;
        next = next->next;
    }
    if (next && next->ev.seq == env->seq)
        return; /* queued already */
    event_node_t *n = calloc(1, sizeof *n);
    if (!n)
        return;
    snprintf(n->ev.name, sizeof n->ev.name, "%.*s", (int)env->event.len, env->event.ptr);
    n->ev.seq = env->seq;
    n->ev.timestamp = env->timestamp;
    if (client_own_map(env->data, &n->ev.data, &n->ev.data_len, &n->ev.map) != 0) {
        collab_event_free(&n->ev);
        free(n);
        return;
    }
    n->next = next;
    if (prev)
        prev->next = n;
    else
        self->head = n;
    if (!next)
        self->tail = n;
    self->queued++;
}

void client_drop_events(collab_client_t *self)
{
    while (self->head) {
        event_node_t *n = self->head;
        self->head = n->next;
        collab_event_free(&n->ev);
        free(n);
    }
    self->tail = NULL;
    self->queued = 0;
}

/*  A reply envelope copied into *reply (to free). Returns 0 or a negative code. */
static int fill_reply(const collab_envelope_t *env, collab_reply_t *reply)
{
    memset(reply, 0, sizeof *reply);
    reply->ok = env->ok;
    reply->code = -(int)env->error_code;
    snprintf(reply->error, sizeof reply->error, "%.*s", (int)env->error.len, env->error.ptr);
    return client_own_map(env->data, &reply->data, &reply->data_len, &reply->map);
}

/*  take_one's answer when the connection was lost while a reply was awaited */
#define TAKE_LOST 2

/*  Waits up to ms for one message and takes it: an event is queued, a reply that want
    asks for is copied into *reply (its id in *id when id is not NULL), any other reply
    is dropped as stale. Returns 1 for that reply, TAKE_LOST when, with want not 0, the
    connection in use was lost (watched with several endpoints), 0 for anything else or
    nothing, or a negative code when the reply could not be copied. */
static int take_one(collab_client_t *self, int64_t ms, uint64_t want, collab_reply_t *reply,
                    uint64_t *id)
{
    zmq_pollitem_t item[2] = {{self->raw, 0, ZMQ_POLLIN, 0}}; /* the socket of now */
    int n = 1;
    if (self->mon && self->eps.n > 1 && self->first_done)
        item[n++] = (zmq_pollitem_t){client_monitor_socket(self->mon), 0, ZMQ_POLLIN, 0};
    if (zmq_poll(item, n, (long)ms) <= 0)
        return 0;
    if (!(item[0].revents & ZMQ_POLLIN)) /* only the monitor: a reply is taken first */
        return client_monitor_lost(self->mon) && want != 0 ? TAKE_LOST : 0;
    zmq_msg_t msg;
    collab_envelope_t env;
    int rc = 0;
    zmq_msg_init(&msg);
    if (zmq_msg_recv(&msg, self->raw, ZMQ_DONTWAIT) >= 0 &&
        collab_envelope_decode(zmq_msg_data(&msg), zmq_msg_size(&msg), &env) == 0) {
        if (env.kind == COLLAB_KIND_EVENT)
            client_queue_event(self, &env);
        else if (env.kind == COLLAB_KIND_REPLY && want != 0 &&
                 (want == CLIENT_ANY_REPLY || env.request_id == want)) {
            rc = fill_reply(&env, reply);
            rc = rc == 0 ? 1 : rc;
            if (id)
                *id = env.request_id;
        }
    }
    zmq_msg_close(&msg);
    return rc;
}

int client_await(collab_client_t *self, int64_t deadline, uint64_t want, collab_reply_t *reply,
                 uint64_t *id)
{
    for (int64_t left; !client_stopped(self) && (left = deadline - collab_mono_ms()) > 0;) {
        int got = take_one(self, left, want, reply, id);
        if (got == TAKE_LOST)
            return COLLAB_E_TIMEOUT; /* the reply cannot come: as its timeout, only sooner */
        if (got)
            return got < 0 ? got : 0;
    }
    return COLLAB_E_TIMEOUT;
}

int collab_client_take(collab_client_t *self, uint64_t *id, collab_reply_t *reply)
{
    for (int i = 0; i < CLIENT_TAKE_MAX; i++) {
        int got = take_one(self, 0, CLIENT_ANY_REPLY, reply, id);
        if (got == TAKE_LOST)
            return 0;
        if (got)
            return got;
        int events = 0;
        size_t size = sizeof events;
        if (zmq_getsockopt(self->raw, ZMQ_EVENTS, &events, &size) != 0 || !(events & ZMQ_POLLIN))
            return 0;
    }
    return 0;
}

int collab_client_subscribe(collab_client_t *self, bool all)
{
    uint8_t buf[64];
    collab_pack_t p;
    size_t len;
    collab_pack_init(&p, buf, sizeof buf);
    collab_pack_map(&p, 2);
    collab_pack_kv_uint(&p, "since", self->last_seq);
    collab_pack_kv_bool(&p, "all", all);
    collab_pack_finish(&p, &len);
    collab_reply_t r;
    bool relogin = self->opts.auto_relogin;
    self->opts.auto_relogin = false; /* no recursion through request's re-login */
    self->resubscribe = false;       /* this is the renewal */
    int rc = collab_client_request(self, "subscribe", buf, len, &r);
    self->opts.auto_relogin = relogin;
    if (rc)
        return rc;
    rc = r.ok ? 0 : r.code;
    if (rc == 0) {
        self->subscribed = true;
        self->subscribed_all = all;
        self->resubscribe = false; /* a move during this request renewed nothing more */
    }
    collab_reply_free(&r);
    return rc;
}

void client_renew_subscription(collab_client_t *self)
{
    if (self->resubscribe && self->subscribed && self->session[0])
        collab_client_subscribe(self, self->subscribed_all); /* failing, it stays marked */
}

/*  Hands the queue's head over as *ev. */
static void take_head(collab_client_t *self, collab_event_msg_t *ev)
{
    event_node_t *n = self->head;
    self->head = n->next;
    if (!self->head)
        self->tail = NULL;
    self->queued--;
    *ev = n->ev;
    free(n);
    if (ev->seq > self->last_seq)
        self->last_seq = ev->seq;
}

int collab_client_next_event(collab_client_t *self, collab_event_msg_t *ev, int timeout_ms)
{
    int64_t deadline = collab_mono_ms() + timeout_ms;
    for (;;) {
        client_renew_subscription(self);
        if (self->head && self->subscribed && self->last_seq &&
            self->head->ev.seq > self->last_seq + 1 && self->gap_asked < self->head->ev.seq) {
            /* a gap before the next event (pushed to a connection that a broker restart or a
               failover cut): ask once for what is missing, which the queue sorts in front.
               What is still missing after that is gone (retention): handed over as is. */
            self->gap_asked = self->head->ev.seq;
            int rc = collab_client_subscribe(self, self->subscribed_all);
            if (rc == COLLAB_E_TIMEOUT && client_stopped(self))
                return rc;
            continue;
        }
        if (self->head) {
            take_head(self, ev);
            return 0;
        }
        int64_t left = deadline - collab_mono_ms();
        if (client_stopped(self) || left <= 0)
            return COLLAB_E_TIMEOUT;
        take_one(self, left, 0, NULL, NULL);
    }
}

/*  The newest event seq this client holds, handled or queued. */
static uint64_t newest_seq(const collab_client_t *self)
{
    return self->tail && self->tail->ev.seq > self->last_seq ? self->tail->ev.seq : self->last_seq;
}

int collab_client_heartbeat(collab_client_t *self)
{
    collab_reply_t r;
    int rc = collab_client_request(self, "heartbeat", NULL, 0, &r);
    if (rc)
        return rc;
    uint64_t seq = 0;
    rc = r.ok ? 0 : r.code;
    if (rc == 0 && collab_map_uint(&r.map, "event_seq", &seq) == 0 && self->subscribed &&
        seq > newest_seq(self))
        rc = collab_client_subscribe(self, self->subscribed_all);
    collab_reply_free(&r);
    return rc;
}
