/*  lg_fanout.c: one project_created reaching many observers (issue 18, bench/README.md
    "Fan-out"). The broker sends project_created to the project's owner and to every agent
    subscribed with all: true (PROTOCOL.md 7; broker/events.c, collab_event_fanout): each
    such agent gets its own copy, numbered in its own stream and stored with the batch, and
    every copy leaves when the batch commits, with the creator's reply.

    --observers N observers (bench-oNNNN, role observer) log in and subscribe with all: true,
    --login-window at a time. Then the creator (bench-coord, not subscribed) creates projects
    one at a time: WARM_EVENTS unrecorded (unless --warmup 0), then --events recorded. Each
    round waits for the reply and for every observer's project_created, and is timed from
    the create_project's send: to the first observer's receipt, to the last one's (the
    figure), the difference of the two (the fan-out's own spread), and to the creator's
    reply. The event's own timestamp (ts, wall-clock ms, taken before the commit) to the
    last receipt is given too, to the millisecond. Each observer's sequence numbers are
    checked: a gap or a repeat counts as an error. The creator needs the broker's
    limits.projects_per_agent (100) to allow every round: scripts/bench raises it. */
#include "loadgen.h"
#include "collab_clock.h"

#include "lg_many.h"
#include "lg_setup.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#define OBS_PREFIX       "bench-o"
#define JOIN_TIMEOUT_MS  600000
#define ROUND_TIMEOUT_MS 10000
#define WARM_EVENTS      5
#define EVENT_NAME       "project_created"
#define EPOLL_BATCH      256
#define QUIET_MS         50

enum { H_FIRST, H_LAST, H_SPREAD, H_REPLY, H_TS, H_JOIN, H_COUNT };

typedef struct {
    bench_t *b;
    lg_agent_key_t *keys;
    size_t n;
    lg_conn_t *obs;
    lg_conn_t creator;
    lg_pool_t scratch;
    uint64_t rid;
    uint64_t *next_seq; /* per observer: the seq expected next (0: any) */
    unsigned *got;      /* per observer: the last round whose event it received */
    size_t npend;       /* observers still waiting for this round's event */
    int epfd;           /* every socket's ZMQ_FD: index i for observer i, n the creator */
    lg_hist_t *h;
    unsigned round; /* the current round, numbered from 1 */
} fan_t;

static uint64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/*  Reads what waits on observer i; true when this round's event is in. */
static bool read_observer(fan_t *r, size_t i, uint64_t *t_got, uint64_t *ts)
{
    lg_conn_t *c = &r->obs[i];
    bool got = false;
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    while (zmq_msg_recv(&msg, c->sock, ZMQ_DONTWAIT) >= 0) {
        uint64_t t = (uint64_t)collab_mono_ns();
        collab_envelope_t env;
        bool ok = collab_envelope_decode(zmq_msg_data(&msg), zmq_msg_size(&msg), &env) == 0;
        if (ok && env.kind == COLLAB_KIND_EVENT) {
            if (r->next_seq[i] && env.seq != r->next_seq[i]) {
                c->errors++;
                c->last_error = COLLAB_E_MALFORMED;
            }
            r->next_seq[i] = env.seq + 1;
            bool named = env.event.len == strlen(EVENT_NAME) &&
                         memcmp(env.event.ptr, EVENT_NAME, env.event.len) == 0;
            if (named && !got) {
                got = true;
                c->done++;
                *t_got = t;
                *ts = env.timestamp;
            }
        }
        zmq_msg_close(&msg);
        zmq_msg_init(&msg);
    }
    zmq_msg_close(&msg);
    return got;
}

/*  Reads the creator's frames; true when the reply to rid is in (at *t). */
static bool read_creator(fan_t *r, uint64_t rid, uint64_t *t)
{
    bool replied = false;
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    while (zmq_msg_recv(&msg, r->creator.sock, ZMQ_DONTWAIT) >= 0) {
        collab_envelope_t env;
        if (collab_envelope_decode(zmq_msg_data(&msg), zmq_msg_size(&msg), &env) == 0 &&
            env.kind == COLLAB_KIND_REPLY && env.request_id == rid) {
            replied = true;
            *t = (uint64_t)collab_mono_ns();
            r->creator.done++;
            if (!env.ok) {
                r->creator.errors++;
                r->creator.last_error = -(int)env.error_code;
            }
        }
        zmq_msg_close(&msg);
        zmq_msg_init(&msg);
    }
    zmq_msg_close(&msg);
    return replied;
}

/*  Observer i's frames; records this round's event once (first and last receipts). */
static void observe(fan_t *r, size_t i, uint64_t *first, uint64_t *last, uint64_t *ts,
                    uint64_t *last_wall)
{
    uint64_t t, ev_ts;
    if (!read_observer(r, i, &t, &ev_ts) || r->got[i] == r->round)
        return;
    r->got[i] = r->round;
    r->npend--;
    *first = *first && *first < t ? *first : t;
    if (t >= *last) {
        *last = t;
        *ts = ev_ts;
        *last_wall = wall_ms();
    }
}

/*  One project_created: sent, then waited for on the creator and on every observer. The
    sockets are watched through their ZMQ_FD in one epoll set, so that a wake-up costs the
    sockets that have something, not all of them (zmq_poll over 1,000 sockets took the
    generator a whole CPU and stretched the spread it measures); a socket is read to EAGAIN
    each time, which clears its ZMQ_FD. */
static int fan_round(fan_t *r, bool record)
{
    uint8_t pl[256];
    char name[64];
    struct epoll_event evs[EPOLL_BATCH];
    r->round++;
    snprintf(name, sizeof name, "fan-out %u", r->round);
    size_t plen = lg_payload_create_project(pl, sizeof pl, name, "");
    lg_pool_clear(&r->scratch);
    if (lg_pool_add(&r->scratch, &r->creator.id, COLLAB_ACT_CREATE_PROJECT, pl, plen, ++r->rid))
        return -1;
    r->npend = r->n;
    uint64_t t0 = (uint64_t)collab_mono_ns(), first = 0, last = 0, t_reply = 0, ts = 0;
    if (zmq_send(r->creator.sock, r->scratch.arena, r->scratch.frames[0].len, 0) < 0)
        return -1;
    r->creator.sent++;
    uint64_t deadline = t0 + (uint64_t)ROUND_TIMEOUT_MS * 1000000u, last_wall = 0;
    bool replied = false;
    while (!replied || r->npend > 0) {
        uint64_t now = (uint64_t)collab_mono_ns();
        if (now >= deadline) {
            fprintf(stderr,
                    "loadgen: project_created reached %zu of %zu observers (reply: %s) "
                    "in %d ms\n",
                    r->n - r->npend, r->n, replied ? "in" : "none", ROUND_TIMEOUT_MS);
            return -1;
        }
        uint64_t left_ms = (deadline - now) / 1000000u + 1;
        int k = epoll_wait(r->epfd, evs, EPOLL_BATCH, left_ms < QUIET_MS ? (int)left_ms : QUIET_MS);
        if (k < 0 && errno != EINTR)
            return -1;
        for (int e = 0; e < k; e++) {
            size_t i = (size_t)evs[e].data.u64;
            if (i == r->n)
                replied = read_creator(r, r->rid, &t_reply) || replied;
            else
                observe(r, i, &first, &last, &ts, &last_wall);
        }
        if (k != 0)
            continue;
        /* quiet for QUIET_MS: read every socket once, in case a wake-up was missed */
        replied = read_creator(r, r->rid, &t_reply) || replied;
        for (size_t i = 0; i < r->n; i++)
            if (r->got[i] != r->round)
                observe(r, i, &first, &last, &ts, &last_wall);
    }
    if (record) {
        lg_hist_add(&r->h[H_FIRST], first - t0);
        lg_hist_add(&r->h[H_LAST], last - t0);
        lg_hist_add(&r->h[H_SPREAD], last - first);
        lg_hist_add(&r->h[H_REPLY], t_reply - t0);
        lg_hist_add(&r->h[H_TS], last_wall > ts ? (last_wall - ts) * 1000000u : 0);
    }
    return 0;
}

/*  Watches socket sock's ZMQ_FD in the epoll set, as index. Returns 0 or -1. */
static int watch(fan_t *r, void *sock, size_t index)
{
    int fd;
    size_t len = sizeof fd;
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = index};
    if (zmq_getsockopt(sock, ZMQ_FD, &fd, &len) != 0)
        return -1;
    return epoll_ctl(r->epfd, EPOLL_CTL_ADD, fd, &ev);
}

static int fan_setup(fan_t *r)
{
    bench_t *b = r->b;
    int n = lg_keys_load(b->creds, OBS_PREFIX, b->observers, &r->keys);
    if (n < (int)b->observers) {
        fprintf(stderr, "loadgen: the fan-out needs %u %sNNNN observers, %s has %d\n", b->observers,
                OBS_PREFIX, b->creds, n);
        return -1;
    }
    r->n = b->observers;
    r->obs = calloc(r->n, sizeof *r->obs);
    r->next_seq = calloc(r->n, sizeof *r->next_seq);
    r->got = calloc(r->n, sizeof *r->got);
    if (!r->obs || !r->next_seq || !r->got)
        return -1;
    double connect_s;
    if (lg_many_open(r->obs, r->n, b->ctx, b->endpoint, &b->curve, JOIN_TIMEOUT_MS, &connect_s))
        return -1;
    if (lg_conn_open(&r->creator, b->ctx, b->endpoint, &b->curve, 1) != 0 ||
        lg_become(b, &r->creator, "bench-coord", b->password) != 0)
        return -1;
    lg_many_stats_t st;
    lg_many_opts_t o = {.kind = LG_MANY_JOIN,
                        .subscribe = true,
                        .all = true,
                        .window = b->login_window,
                        .password = b->password,
                        .timeout_ms = JOIN_TIMEOUT_MS};
    lg_mark_t m;
    lg_mark(b, &m);
    int rc = lg_many_run(r->obs, r->n, r->keys, &o, &r->h[H_JOIN], &st);
    lg_report(b, "logins", r->obs, (unsigned)r->n, &r->h[H_JOIN], &m);
    printf("result scenario=fanout label=%s phase=join mode=broker observers=%zu joined=%llu "
           "errors=%llu retries=%llu connect_s=%.3f all_s=%.3f\n",
           b->label, r->n, (unsigned long long)st.done, (unsigned long long)st.errors,
           (unsigned long long)st.retries, connect_s,
           st.last_ns > st.first_ns ? (double)(st.last_ns - st.first_ns) / 1e9 : 0.0);
    fflush(stdout);
    if (rc) {
        fprintf(stderr, "loadgen: %llu of %zu observers logged in and subscribed (last error %s)\n",
                (unsigned long long)st.done, r->n,
                st.last_error ? collab_errname(st.last_error) : "none");
        return rc;
    }
    r->epfd = epoll_create1(EPOLL_CLOEXEC);
    rc = r->epfd >= 0 && watch(r, r->creator.sock, r->n) == 0 ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < r->n; i++)
        rc = watch(r, r->obs[i].sock, i);
    uint64_t t, ts;
    for (size_t i = 0; rc == 0 && i < r->n; i++) /* from a clear start: each ZMQ_FD read */
        read_observer(r, i, &t, &ts);
    if (rc == 0)
        read_creator(r, 0, &t);
    return rc;
}

int lg_scenario_fanout(bench_t *b)
{
    fan_t r = {.b = b, .epfd = -1};
    r.h = calloc(H_COUNT, sizeof *r.h);
    int rc = r.h ? fan_setup(&r) : -1;
    for (unsigned i = 0; rc == 0 && b->warmup > 0 && i < WARM_EVENTS; i++)
        rc = fan_round(&r, false);
    if (rc == 0) {
        lg_mark_t m;
        for (size_t i = 0; i < r.n; i++)
            lg_conn_phase(&r.obs[i], NULL);
        lg_conn_phase(&r.creator, NULL);
        lg_mark(b, &m);
        for (unsigned i = 0; rc == 0 && i < b->events; i++)
            rc = fan_round(&r, true);
        if (rc == 0) {
            lg_report(b, "first", r.obs, (unsigned)r.n, &r.h[H_FIRST], &m);
            lg_report(b, "last", r.obs, (unsigned)r.n, &r.h[H_LAST], &m);
            lg_report(b, "spread", r.obs, (unsigned)r.n, &r.h[H_SPREAD], &m);
            lg_report(b, "reply", &r.creator, 1, &r.h[H_REPLY], &m);
            lg_report(b, "ts_last", r.obs, (unsigned)r.n, &r.h[H_TS], &m);
        }
    }
    for (size_t i = 0; r.obs && i < r.n; i++)
        lg_conn_close(&r.obs[i]);
    lg_conn_close(&r.creator);
    lg_pool_free(&r.scratch);
    free(r.obs);
    free(r.keys);
    free(r.next_seq);
    free(r.got);
    if (r.epfd >= 0)
        close(r.epfd);
    free(r.h);
    return rc;
}
