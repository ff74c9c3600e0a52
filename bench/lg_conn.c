/*  lg_conn.c: connections and the driving loop (see lg_conn.h). */
#include "lg_conn.h"
#include "collab_clock.h"

#include <czmq.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

int lg_conn_open(lg_conn_t *c, void *ctx, const char *endpoint, const lg_curve_t *curve,
                 unsigned window)
{
    return lg_conn_open_opts(c, ctx, endpoint, curve, window, false);
}

int lg_conn_open_opts(lg_conn_t *c, void *ctx, const char *endpoint, const lg_curve_t *curve,
                      unsigned window, bool immediate)
{
    int hwm = 100000, linger = 0, imm = immediate;
    memset(c, 0, sizeof *c);
    c->window = window ? window : 1;
    c->limit = UINT64_MAX;
    c->setup_id = 1ull << 40;
    c->ring = calloc(c->window, sizeof *c->ring);
    c->sock = zmq_socket(ctx, ZMQ_DEALER);
    if (!c->ring || !c->sock)
        goto fail;
    zmq_setsockopt(c->sock, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(c->sock, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(c->sock, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(c->sock, ZMQ_IMMEDIATE, &imm, sizeof imm);
    if (curve && curve->on &&
        (zmq_setsockopt(c->sock, ZMQ_CURVE_SERVERKEY, curve->server_public, 32) != 0 ||
         zmq_setsockopt(c->sock, ZMQ_CURVE_PUBLICKEY, curve->client_public, 32) != 0 ||
         zmq_setsockopt(c->sock, ZMQ_CURVE_SECRETKEY, curve->client_secret, 32) != 0))
        goto fail;
    if (zmq_connect(c->sock, endpoint) != 0)
        goto fail;
    return 0;
fail:
    lg_conn_close(c);
    return -1;
}

void lg_conn_close(lg_conn_t *c)
{
    if (c->sock)
        zmq_close(c->sock);
    c->sock = NULL;
    free(c->ring);
    c->ring = NULL;
    lg_pool_free(&c->pool);
}

void lg_conn_phase(lg_conn_t *c, lg_hist_t *hist)
{
    c->hist = hist;
    c->sent = c->done = c->errors = c->lost = c->req_bytes = c->rep_bytes = 0;
}

bool lg_conn_idle(const lg_conn_t *c)
{
    bool can_send = c->sending && c->limit > 0 && (c->pool.cycle || c->pool.next < c->pool.n);
    return c->count == 0 && !can_send;
}

int lg_conn_call(lg_conn_t *c, const uint8_t *frame, size_t len, int timeout_ms, uint8_t *reply,
                 size_t cap, size_t *rlen)
{
    if (zmq_send(c->sock, frame, len, 0) < 0)
        return COLLAB_E_IO;
    uint64_t deadline = ((uint64_t)collab_mono_ns()) + (uint64_t)timeout_ms * 1000000u;
    for (;;) {
        uint64_t now = ((uint64_t)collab_mono_ns());
        if (now >= deadline)
            return COLLAB_E_TIMEOUT;
        zmq_pollitem_t item = {c->sock, 0, ZMQ_POLLIN, 0};
        if (zmq_poll(&item, 1, (long)((deadline - now) / 1000000u) + 1) < 0 && errno != EINTR)
            return COLLAB_E_IO;
        if (!(item.revents & ZMQ_POLLIN))
            continue;
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, c->sock, 0) < 0) {
            zmq_msg_close(&m);
            return COLLAB_E_IO;
        }
        collab_envelope_t env;
        size_t n = zmq_msg_size(&m);
        bool event =
            collab_envelope_decode(zmq_msg_data(&m), n, &env) == 0 && env.kind == COLLAB_KIND_EVENT;
        if (!event && n <= cap)
            memcpy(reply, zmq_msg_data(&m), n);
        zmq_msg_close(&m);
        if (event)
            continue;
        *rlen = n;
        return n <= cap ? 0 : COLLAB_E_TOO_LARGE;
    }
}

/*  Sends from the pool while the window and the limit allow. */
static void pump(lg_conn_t *c)
{
    while (c->sending && c->count < c->window && c->limit > 0) {
        size_t saved = c->pool.next;
        const lg_frame_t *f = lg_pool_take(&c->pool);
        if (!f)
            return;
        zmq_msg_t m;
        if (zmq_msg_init_size(&m, f->len) != 0)
            return;
        memcpy(zmq_msg_data(&m), lg_frame_bytes(&c->pool, f), f->len);
        uint64_t t = ((uint64_t)collab_mono_ns());
        if (zmq_msg_send(&m, c->sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&m);
            c->pool.next = saved; /* at the high-water mark: try again later */
            return;
        }
        unsigned slot = (c->head + c->count) % c->window;
        c->ring[slot] = (lg_flight_t){t, f->request_id, f->len, false};
        c->count++;
        c->sent++;
        c->req_bytes += f->len;
        if (c->limit != UINT64_MAX)
            c->limit--;
    }
}

/*  The request id a reply answers, and whether it is an event to skip. Returns 0 or -1. */
static int reply_id(const lg_driver_t *d, const uint8_t *b, size_t len, const lg_flight_t *f,
                    uint64_t *id, int *code, bool *event)
{
    collab_envelope_t env;
    *event = false;
    *code = 0;
    if (d->echo) { /* the echo may be padded or cut to the broker's reply size */
        if (len < f->len) {
            *id = f->request_id;
            return 0;
        }
        len = f->len;
    }
    if (collab_envelope_decode(b, len, &env) != 0)
        return -1;
    *id = env.request_id;
    if (d->echo)
        return 0;
    if (env.kind == COLLAB_KIND_EVENT)
        *event = true;
    else if (env.kind != COLLAB_KIND_REPLY)
        return -1;
    else if (!env.ok)
        *code = -(int)env.error_code;
    return 0;
}

static void on_reply(const lg_driver_t *d, lg_conn_t *c, const uint8_t *b, size_t len, uint64_t t)
{
    uint64_t id;
    int code;
    bool event;
    if (c->count == 0)
        return; /* nothing in flight: a stray (a reply to an abandoned request) */
    if (reply_id(d, b, len, &c->ring[c->head], &id, &code, &event) != 0) {
        id = c->ring[c->head].request_id; /* undecodable: charge it to the oldest */
        code = COLLAB_E_MALFORMED;
    }
    if (event)
        return;
    /* most replies answer the oldest request; logins finish out of order (hashing threads) */
    unsigned k = 0;
    lg_flight_t *f = NULL;
    for (; k < c->count && !f; k++) {
        lg_flight_t *e = &c->ring[(c->head + k) % c->window];
        if (!e->done && e->request_id == id)
            f = e;
    }
    if (!f)
        return; /* answers nothing in flight: a late reply to an abandoned request */
    if (code) {
        c->errors++;
        c->last_error = code;
    }
    if (c->hist)
        lg_hist_add(c->hist, t - f->t_ns);
    f->done = true;
    c->done++;
    c->rep_bytes += len;
    while (c->count > 0 && c->ring[c->head].done) {
        c->head = (c->head + 1) % c->window;
        c->count--;
    }
}

static void drain(const lg_driver_t *d, lg_conn_t *c)
{
    zmq_msg_t m;
    zmq_msg_init(&m);
    while (zmq_msg_recv(&m, c->sock, ZMQ_DONTWAIT) >= 0) {
        uint64_t t = ((uint64_t)collab_mono_ns());
        on_reply(d, c, zmq_msg_data(&m), zmq_msg_size(&m), t);
        zmq_msg_close(&m);
        zmq_msg_init(&m);
    }
    zmq_msg_close(&m);
}

int lg_drive(const lg_driver_t *d, lg_conn_t *conns, size_t n, uint64_t deadline_ns,
             bool (*done)(void *arg), void *arg)
{
    zmq_pollitem_t *items = calloc(n ? n : 1, sizeof *items);
    if (!items)
        return -1;
    for (size_t i = 0; i < n; i++) {
        items[i] = (zmq_pollitem_t){conns[i].sock, 0, ZMQ_POLLIN, 0};
        pump(&conns[i]);
    }
    int rc = 0;
    for (;;) {
        uint64_t now = ((uint64_t)collab_mono_ns());
        if (now >= deadline_ns || (done && done(arg)))
            break;
        uint64_t left_ms = (deadline_ns - now) / 1000000u;
        long timeout = left_ms < 10 ? (long)left_ms + 1 : 10;
        if (zmq_poll(items, (int)n, timeout) < 0) {
            if (errno == EINTR)
                continue;
            rc = -1;
            break;
        }
        for (size_t i = 0; i < n; i++)
            if (items[i].revents & ZMQ_POLLIN) {
                drain(d, &conns[i]);
                pump(&conns[i]);
            }
    }
    free(items);
    return rc;
}

typedef struct {
    lg_conn_t *conns;
    size_t n;
} drain_arg_t;

static bool all_idle(void *arg)
{
    drain_arg_t *a = arg;
    for (size_t i = 0; i < a->n; i++)
        if (!lg_conn_idle(&a->conns[i]))
            return false;
    return true;
}

uint64_t lg_drain(const lg_driver_t *d, lg_conn_t *conns, size_t n, int timeout_ms)
{
    for (size_t i = 0; i < n; i++)
        conns[i].sending = false;
    drain_arg_t a = {conns, n};
    lg_drive(d, conns, n, ((uint64_t)collab_mono_ns()) + (uint64_t)timeout_ms * 1000000u, all_idle,
             &a);
    uint64_t left = 0;
    for (size_t i = 0; i < n; i++) {
        uint64_t unanswered = 0;
        for (unsigned k = 0; k < conns[i].count; k++)
            unanswered += !conns[i].ring[(conns[i].head + k) % conns[i].window].done;
        conns[i].lost += unanswered;
        left += unanswered;
        conns[i].count = 0; /* abandoned: a late reply is dropped as a stray */
    }
    return left;
}

int lg_curve_load(const char *server_cert, const char *client_cert, lg_curve_t *out)
{
    zcert_t *s = zcert_load(server_cert), *c = zcert_load(client_cert);
    int rc = s && c ? 0 : -1;
    if (rc == 0) {
        memcpy(out->server_public, zcert_public_key(s), 32);
        memcpy(out->client_public, zcert_public_key(c), 32);
        memcpy(out->client_secret, zcert_secret_key(c), 32);
        out->on = true;
    }
    zcert_destroy(&s);
    zcert_destroy(&c);
    return rc;
}
