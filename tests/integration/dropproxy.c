/*  dropproxy.c: a dropping proxy in front of a broker (see dropproxy.h). */
#include "dropproxy.h"
#include "collab.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define MAX_CONNS 32
#define MAX_HELD  8 /* request ids whose reply is to be dropped, per connection */

typedef struct {
    size_t front;
    uint8_t id[256]; /* the agent connection's routing id on that front */
    size_t idlen;
    void *back; /* DEALER to the broker */
    uint64_t drop_ids[MAX_HELD];
} conn_t;

struct drop_proxy {
    void *ctx;
    char backend[128];
    void *fronts[DROP_PROXY_MAX_FRONTS];
    char endpoints[DROP_PROXY_MAX_FRONTS][64];
    size_t nfront;
    drop_rule_t rules[DROP_PROXY_MAX_RULES];
    bool fired[DROP_PROXY_MAX_RULES];
    size_t nrules;
    _Atomic int nfired;
    conn_t conns[MAX_CONNS];
    size_t nconns;
    pthread_t th;
    bool running;
};

static conn_t *conn_for(drop_proxy_t *self, size_t front, zmq_msg_t *id)
{
    for (size_t i = 0; i < self->nconns; i++) {
        conn_t *c = &self->conns[i];
        if (c->front == front && c->idlen == zmq_msg_size(id) &&
            memcmp(c->id, zmq_msg_data(id), c->idlen) == 0)
            return c;
    }
    if (self->nconns == MAX_CONNS || zmq_msg_size(id) > sizeof self->conns[0].id)
        return NULL;
    conn_t *c = &self->conns[self->nconns];
    int zero = 0;
    c->back = zmq_socket(self->ctx, ZMQ_DEALER);
    if (!c->back)
        return NULL;
    zmq_setsockopt(c->back, ZMQ_LINGER, &zero, sizeof zero);
    if (zmq_connect(c->back, self->backend) != 0) {
        zmq_close(c->back);
        return NULL;
    }
    c->front = front;
    c->idlen = zmq_msg_size(id);
    memcpy(c->id, zmq_msg_data(id), c->idlen);
    self->nconns++;
    return c;
}

/*  The rule a request meets, or -1; a rule fires once. */
static int rule_for(drop_proxy_t *self, const void *frame, size_t len, uint64_t *req_id)
{
    collab_envelope_t env;
    collab_map_t body;
    collab_span_t st;
    if (collab_envelope_decode_map(frame, len, &env, &body) != 0)
        return -1;
    *req_id = env.request_id;
    for (size_t i = 0; i < self->nrules; i++) {
        const drop_rule_t *r = &self->rules[i];
        if (self->fired[i] || !collab_span_eq(env.action, r->action))
            continue;
        if (r->status &&
            (collab_map_str(&body, "status", &st) != 0 || !collab_span_eq(st, r->status)))
            continue;
        self->fired[i] = true;
        atomic_fetch_add(&self->nfired, 1);
        return (int)i;
    }
    return -1;
}

/*  A request from an agent: forwarded, unless a rule drops it (or marks its reply). */
static void from_front(drop_proxy_t *self, size_t front)
{
    zmq_msg_t id, m;
    zmq_msg_init(&id);
    zmq_msg_init(&m);
    if (zmq_msg_recv(&id, self->fronts[front], 0) >= 0 && zmq_msg_more(&id) &&
        zmq_msg_recv(&m, self->fronts[front], 0) >= 0) {
        conn_t *c = conn_for(self, front, &id);
        uint64_t req = 0;
        int rule = rule_for(self, zmq_msg_data(&m), zmq_msg_size(&m), &req);
        if (rule >= 0 && !self->rules[rule].request)
            for (size_t i = 0; i < MAX_HELD; i++)
                if (c && c->drop_ids[i] == 0) {
                    c->drop_ids[i] = req;
                    break;
                }
        if (c && (rule < 0 || !self->rules[rule].request))
            zmq_msg_send(&m, c->back, 0);
    }
    zmq_msg_close(&id);
    zmq_msg_close(&m);
}

/*  A reply or an event from the broker: back to its agent, unless it is a reply to drop. */
static void from_back(drop_proxy_t *self, conn_t *c)
{
    zmq_msg_t m;
    collab_envelope_t env;
    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, c->back, 0) >= 0) {
        bool drop = false;
        if (collab_envelope_decode(zmq_msg_data(&m), zmq_msg_size(&m), &env) == 0 &&
            env.kind == COLLAB_KIND_REPLY)
            for (size_t i = 0; i < MAX_HELD && !drop; i++)
                if (c->drop_ids[i] && c->drop_ids[i] == env.request_id) {
                    c->drop_ids[i] = 0;
                    drop = true;
                }
        if (!drop && zmq_send(self->fronts[c->front], c->id, c->idlen, ZMQ_SNDMORE) >= 0)
            zmq_msg_send(&m, self->fronts[c->front], 0);
    }
    zmq_msg_close(&m);
}

/*  Polls the fronts and every broker connection until the context is shut down. */
static void *run(void *arg)
{
    drop_proxy_t *self = arg;
    zmq_pollitem_t items[DROP_PROXY_MAX_FRONTS + MAX_CONNS];
    for (;;) {
        size_t n = 0;
        for (size_t i = 0; i < self->nfront; i++)
            items[n++] = (zmq_pollitem_t){self->fronts[i], 0, ZMQ_POLLIN, 0};
        for (size_t i = 0; i < self->nconns; i++)
            items[n++] = (zmq_pollitem_t){self->conns[i].back, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(items, (int)n, -1) < 0 && zmq_errno() == ETERM)
            return NULL;
        size_t nconns = self->nconns; /* a front may add one; it is polled next turn */
        for (size_t i = 0; i < self->nfront; i++)
            if (items[i].revents & ZMQ_POLLIN)
                from_front(self, i);
        for (size_t i = 0; i < nconns; i++)
            if (items[self->nfront + i].revents & ZMQ_POLLIN)
                from_back(self, &self->conns[i]);
    }
}

drop_proxy_t *drop_proxy_new(const char *backend, size_t nfront, const drop_rule_t *rules,
                             size_t nrules)
{
    if (nfront == 0 || nfront > DROP_PROXY_MAX_FRONTS || nrules > DROP_PROXY_MAX_RULES ||
        strlen(backend) >= sizeof((drop_proxy_t *)0)->backend)
        return NULL;
    drop_proxy_t *self = calloc(1, sizeof *self);
    if (!self || !(self->ctx = zmq_ctx_new())) {
        free(self);
        return NULL;
    }
    snprintf(self->backend, sizeof self->backend, "%s", backend);
    memcpy(self->rules, rules, nrules * sizeof *rules);
    self->nrules = nrules;
    int zero = 0;
    for (; self->nfront < nfront; self->nfront++) {
        size_t i = self->nfront, len = sizeof self->endpoints[i];
        void *s = self->fronts[i] = zmq_socket(self->ctx, ZMQ_ROUTER);
        if (!s || zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero) != 0 ||
            zmq_bind(s, "tcp://127.0.0.1:*") != 0 ||
            zmq_getsockopt(s, ZMQ_LAST_ENDPOINT, self->endpoints[i], &len) != 0) {
            self->nfront += s != NULL;
            drop_proxy_destroy(&self);
            return NULL;
        }
    }
    self->running = pthread_create(&self->th, NULL, run, self) == 0;
    if (!self->running)
        drop_proxy_destroy(&self);
    return self;
}

const char *drop_proxy_endpoint(const drop_proxy_t *self, size_t i)
{
    return i < self->nfront ? self->endpoints[i] : "";
}

int drop_proxy_fired(drop_proxy_t *self)
{
    return atomic_load(&self->nfired);
}

void drop_proxy_destroy(drop_proxy_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    drop_proxy_t *self = *self_p;
    zmq_ctx_shutdown(self->ctx);
    if (self->running)
        pthread_join(self->th, NULL);
    for (size_t i = 0; i < self->nfront; i++)
        if (self->fronts[i])
            zmq_close(self->fronts[i]);
    for (size_t i = 0; i < self->nconns; i++)
        zmq_close(self->conns[i].back);
    zmq_ctx_term(self->ctx);
    free(self);
    *self_p = NULL;
}
