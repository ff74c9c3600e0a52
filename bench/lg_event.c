/*  lg_event.c: the event delivery scenario of a cluster. One worker on broker A (endpoint
    0) cycles its task through the write scenario's three writes, one at a time; the
    project owner (bench-coord) is subscribed twice, once on A and once on B (endpoint 1).
    Each status change sends task_status_changed to the owner (PROTOCOL.md 7), so every
    such write is delivered by A to the same-broker subscriber and by B, once B has read it
    from the shared log, to the cross-broker one. Both are timed from the write's send, in
    the same rounds: the two figures share the same load and the same neighbours. A round
    ends when the write's reply and every expected event are in. Phases: same, cross (event
    latency), cause (the write's own round trip). */
#include "loadgen.h"
#include "collab_clock.h"

#include "lg_setup.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define ROUND_TIMEOUT_MS 5000
#define NSUBS            2 /* 0: on A (same broker), 1: on B (cross) */

typedef struct {
    lg_conn_t causer, subs[NSUBS];
    uint64_t next_seq[NSUBS]; /* the seq each subscriber expects next (0: any) */
    lg_hist_t *h;             /* [0], [1]: events; [2]: the write's reply */
    bool recording;
} ev_run_t;

static const char *const STATUS_EVENT = "task_status_changed";

/*  Opens and logs in the three connections and subscribes the owner's two. */
static int ev_setup(bench_t *b, ev_run_t *r)
{
    const char *a = b->endpoints[0], *bb = b->endpoints[b->nendpoints > 1 ? 1 : 0];
    static const uint8_t empty_map[] = {0x80};
    if (lg_conn_open(&r->causer, b->ctx, a, &b->curve, 1) != 0 ||
        lg_conn_open(&r->subs[0], b->ctx, a, &b->curve, 1) != 0 ||
        lg_conn_open(&r->subs[1], b->ctx, bb, &b->curve, 1) != 0) {
        fprintf(stderr, "loadgen: cannot connect to %s / %s\n", a, bb);
        return -1;
    }
    for (int i = 0; i < NSUBS; i++) {
        int rc = lg_become(b, &r->subs[i], "bench-coord", b->password);
        if (rc == 0)
            rc = lg_rpc(&r->subs[i], COLLAB_ACT_SUBSCRIBE, empty_map, sizeof empty_map, NULL, NULL);
        if (rc) {
            fprintf(stderr, "loadgen: subscribing bench-coord at %s failed: %s\n", i ? bb : a,
                    collab_strerror(rc));
            return -1;
        }
        r->subs[i].pool.cycle = true; /* they send nothing: no pool to run dry */
    }
    return lg_become(b, &r->causer, b->workers[0], b->password) == 0 ? 0 : -1;
}

/*  The causer's pool: the write scenario's cycle on the one task it owns. */
static int ev_pool(ev_run_t *r, uint64_t task)
{
    uint8_t pl[3][128];
    size_t plen[3];
    static const int actions[3] = {COLLAB_ACT_UPDATE_TASK_STATUS, COLLAB_ACT_UPDATE_TASK_STATUS,
                                   COLLAB_ACT_REASSIGN_TASK};
    plen[0] = lg_payload_update_status(pl[0], sizeof pl[0], task, "in_progress");
    plen[1] = lg_payload_update_status(pl[1], sizeof pl[1], task, "failed");
    plen[2] = lg_payload_reassign(pl[2], sizeof pl[2], task, r->causer.id.agent_id);
    if (r->causer.id.nonce) {
        fprintf(stderr, "loadgen: the event scenario re-sends its frames: replay protection "
                        "must be off\n");
        return -1;
    }
    for (int k = 0; k < 3; k++)
        if (lg_pool_add(&r->causer.pool, &r->causer.id, actions[k], pl[k], plen[k],
                        (uint64_t)k + 1) != 0)
            return -1;
    r->causer.pool.cycle = true;
    return 0;
}

/*  Handles one frame that arrived on connection c at t (sent at t0). Sets *reply when it
    is the causer's reply, counts an event of a subscriber in *got. */
static void ev_frame(ev_run_t *r, lg_conn_t *c, int sub, zmq_msg_t *m, uint64_t t0, uint64_t t,
                     bool *reply, bool *got)
{
    collab_envelope_t env;
    size_t len = zmq_msg_size(m);
    bool ok = collab_envelope_decode(zmq_msg_data(m), len, &env) == 0;
    c->rep_bytes += r->recording ? len : 0;
    if (sub < 0) { /* the causer: its reply (it has not subscribed: no events) */
        if (!ok || env.kind != COLLAB_KIND_REPLY)
            return;
        *reply = true;
        if (!env.ok) {
            c->errors++;
            c->last_error = -(int)env.error_code;
        }
        if (r->recording)
            lg_hist_add(&r->h[2], t - t0);
        c->done++;
        return;
    }
    if (!ok || env.kind != COLLAB_KIND_EVENT)
        return; /* nothing else is in flight on a subscriber */
    bool named = env.event.len == strlen(STATUS_EVENT) &&
                 memcmp(env.event.ptr, STATUS_EVENT, env.event.len) == 0;
    if (!named)
        return;
    /* in order, once each: a gap or a repeat is an error, the latency still counts */
    if (r->next_seq[sub] && env.seq != r->next_seq[sub]) {
        c->errors++;
        c->last_error = COLLAB_E_MALFORMED;
    }
    r->next_seq[sub] = env.seq + 1;
    if (r->recording)
        lg_hist_add(&r->h[sub], t - t0);
    c->done++;
    got[sub] = true;
}

/*  One round: sends the next write and waits for its reply and, for a status change, the
    event on each subscriber. Returns 0, or -1 on a timeout or a socket failure. */
static int ev_round(ev_run_t *r)
{
    bool status_change = r->causer.pool.next % 3 != 2;
    const lg_frame_t *f = lg_pool_take(&r->causer.pool);
    uint64_t t0 = (uint64_t)collab_mono_ns();
    if (!f || zmq_send(r->causer.sock, lg_frame_bytes(&r->causer.pool, f), f->len, 0) < 0)
        return -1;
    r->causer.sent++;
    r->causer.req_bytes += f->len;
    for (int i = 0; i < NSUBS && status_change; i++)
        r->subs[i].sent++;
    bool reply = false, got[NSUBS] = {!status_change, !status_change};
    uint64_t deadline = t0 + (uint64_t)ROUND_TIMEOUT_MS * 1000000u;
    while (!reply || !got[0] || !got[1]) {
        uint64_t now = (uint64_t)collab_mono_ns();
        if (now >= deadline) {
            fprintf(stderr, "loadgen: a write or its events took more than %d ms\n",
                    ROUND_TIMEOUT_MS);
            return -1;
        }
        zmq_pollitem_t items[1 + NSUBS] = {{r->causer.sock, 0, ZMQ_POLLIN, 0},
                                           {r->subs[0].sock, 0, ZMQ_POLLIN, 0},
                                           {r->subs[1].sock, 0, ZMQ_POLLIN, 0}};
        if (zmq_poll(items, 1 + NSUBS, (long)((deadline - now) / 1000000u) + 1) < 0 &&
            errno != EINTR)
            return -1;
        for (int i = 0; i < 1 + NSUBS; i++) {
            if (!(items[i].revents & ZMQ_POLLIN))
                continue;
            lg_conn_t *c = i == 0 ? &r->causer : &r->subs[i - 1];
            zmq_msg_t m;
            zmq_msg_init(&m);
            while (zmq_msg_recv(&m, c->sock, ZMQ_DONTWAIT) >= 0) {
                ev_frame(r, c, i - 1, &m, t0, (uint64_t)collab_mono_ns(), &reply, got);
                zmq_msg_close(&m);
                zmq_msg_init(&m);
            }
            zmq_msg_close(&m);
        }
    }
    return 0;
}

static int ev_rounds_until(ev_run_t *r, uint64_t end_ns)
{
    while ((uint64_t)collab_mono_ns() < end_ns)
        if (ev_round(r) != 0)
            return -1;
    return 0;
}

static void ev_phase(ev_run_t *r)
{
    lg_conn_phase(&r->causer, NULL);
    for (int i = 0; i < NSUBS; i++)
        lg_conn_phase(&r->subs[i], NULL);
}

int lg_scenario_event(bench_t *b)
{
    ev_run_t r = {0};
    uint64_t task = 0;
    r.h = calloc(3, sizeof *r.h);
    int rc = r.h ? 0 : -1;
    if (rc == 0)
        rc = lg_make_project(b, 1, &task);
    if (rc == 0)
        rc = ev_setup(b, &r);
    if (rc == 0)
        rc = ev_pool(&r, task);
    if (rc == 0) { /* warm-up, then the timed window */
        ev_phase(&r);
        rc = ev_rounds_until(&r, (uint64_t)collab_mono_ns() + (uint64_t)(b->warmup * 1e9));
    }
    if (rc == 0) {
        lg_mark_t m;
        ev_phase(&r);
        for (int i = 0; i < 3; i++)
            lg_hist_reset(&r.h[i]);
        r.recording = true;
        rc = lg_on_window(b, "start");
        lg_mark(b, &m);
        if (rc == 0)
            rc = ev_rounds_until(&r, m.t0 + (uint64_t)(b->duration * 1e9));
        if (rc == 0) {
            lg_report(b, "same", &r.subs[0], 1, &r.h[0], &m);
            lg_report(b, "cross", &r.subs[1], 1, &r.h[1], &m);
            lg_report(b, "cause", &r.causer, 1, &r.h[2], &m);
            rc = lg_on_window(b, "end");
        }
    }
    lg_conn_close(&r.causer);
    for (int i = 0; i < NSUBS; i++)
        lg_conn_close(&r.subs[i]);
    free(r.h);
    return rc;
}
