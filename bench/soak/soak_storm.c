/*  soak_storm.c: the malformed storm. storm_conns DEALER connections send storm messages
    as fast as they can: each sends until libzmq's high-water mark holds it back (so the
    rate is whatever the broker and TCP take), or at a fixed rate in all (storm_rate), and
    reads the error replies. Half the
    messages are undecodable bytes, half well-formed requests that claim the agent's name
    with a made-up session id (and a signature by a made-up key). Meanwhile the agent
    (soak_agent.c) writes every interval: alone first (quiet), then during the storm, then
    after it; the broker's resident memory is sampled throughout. */
#include "soak_agent.h"
#include "collab_clock.h"

#include <errno.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#define KINDS 512 /* distinct frames of each kind, sent in turn */

typedef struct {
    uint64_t sent, replies;
    long rss_start, rss_peak, rss_end;
    double seconds;
} storm_t;

/*  The storm's frames: KINDS undecodable, KINDS with a bogus session, interleaved. */
static int build_frames(soak_t *s, lg_pool_t *p)
{
    uint8_t pl[256], junk[256];
    size_t plen = lg_payload_create_project(pl, sizeof pl, "storm", "not a session");
    for (unsigned i = 0; i < KINDS; i++) {
        lg_ident_t id = {0};
        snprintf(id.agent_id, sizeof id.agent_id, "%s", s->agent);
        for (unsigned k = 0; k < 36; k++)
            id.session[k] = "0123456789abcdef"[randombytes_uniform(16)];
        randombytes_buf(id.key, sizeof id.key);
        id.scope = COLLAB_SCOPE_FULL;
        if (lg_pool_add(p, &id, COLLAB_ACT_CREATE_PROJECT, pl, plen, 1000 + i) != 0)
            return -1;
        /* undecodable: random bytes, 8 to 200 of them, appended as a frame of their own */
        size_t jlen = 8 + randombytes_uniform(193);
        randombytes_buf(junk, jlen);
        if (lg_pool_add(p, &id, COLLAB_ACT_HEARTBEAT, NULL, 0, 0) != 0)
            return -1;
        lg_frame_t *f = &p->frames[p->n - 1];
        memcpy(p->arena + f->off, junk, jlen); /* the slot is at least COLLAB_MAX_FRAME */
        f->len = (uint32_t)jlen;
        p->used = f->off + jlen;
    }
    return 0;
}

static void sample_rss(const soak_t *s, storm_t *st)
{
    lg_proc_t pr;
    if (lg_proc_sample(s->pid, &pr) == 0 && pr.rss_kb > st->rss_peak)
        st->rss_peak = pr.rss_kb;
}

static int run_storm(soak_t *s, storm_t *st)
{
    unsigned n = s->storm_conns;
    lg_pool_t pool = {0};
    void **socks = calloc(n, sizeof *socks);
    zmq_pollitem_t *items = calloc(n, sizeof *items);
    size_t *next = calloc(n, sizeof *next);
    int rc = socks && items && next ? build_frames(s, &pool) : -1;
    /* this thread's nice value, and so that of the libzmq I/O thread its first socket
       starts (threads inherit it; the agent's context, started earlier, keeps its own) */
    if (rc == 0 && setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), s->storm_nice) != 0)
        rc = -1;
    for (unsigned i = 0; rc == 0 && i < n; i++) {
        int linger = 0;
        socks[i] = zmq_socket(s->ctx, ZMQ_DEALER);
        if (!socks[i])
            rc = -1;
        else {
            zmq_setsockopt(socks[i], ZMQ_LINGER, &linger, sizeof linger);
            if (s->curve.on) {
                zmq_setsockopt(socks[i], ZMQ_CURVE_SERVERKEY, s->curve.server_public, 32);
                zmq_setsockopt(socks[i], ZMQ_CURVE_PUBLICKEY, s->curve.client_public, 32);
                zmq_setsockopt(socks[i], ZMQ_CURVE_SECRETKEY, s->curve.client_secret, 32);
            }
            rc = zmq_connect(socks[i], s->endpoint);
        }
        next[i] = (i * pool.n) / n;
    }
    uint64_t t0 = ((uint64_t)collab_mono_ns()), last_reply = t0, last_sample = 0;
    uint64_t deadline = t0 + (uint64_t)(60 + s->storm / 2000) * 1000000000u;
    zmq_msg_t m;
    while (rc == 0) {
        uint64_t now = ((uint64_t)collab_mono_ns());
        if (now - last_sample >= 100000000u) {
            sample_rss(s, st);
            last_sample = now;
        }
        if (now > deadline)
            break;
        /* all sent: wait for the replies still coming, until one second passes without */
        if (st->sent == s->storm && (st->replies >= st->sent || now - last_reply > 1000000000u))
            break;
        for (unsigned i = 0; i < n; i++)
            items[i] = (zmq_pollitem_t){
                socks[i], 0, (short)(ZMQ_POLLIN | (st->sent < s->storm ? ZMQ_POLLOUT : 0)), 0};
        /* a fixed rate: what the elapsed time allows so far */
        uint64_t allowed = s->storm;
        if (s->storm_rate > 0) {
            double due = s->storm_rate * (double)(now - t0) / 1e9 + 1;
            allowed = due < (double)s->storm ? (uint64_t)due : s->storm;
        }
        if (st->sent >= allowed && st->sent < s->storm)
            for (unsigned i = 0; i < n; i++)
                items[i].events = ZMQ_POLLIN;
        if (zmq_poll(items, (int)n, st->sent >= allowed && st->sent < s->storm ? 1 : 100) < 0 &&
            errno != EINTR) {
            rc = -1;
            break;
        }
        for (unsigned i = 0; i < n; i++) {
            while ((items[i].revents & ZMQ_POLLOUT) && st->sent < allowed) {
                const lg_frame_t *f = &pool.frames[next[i]];
                if (zmq_send(socks[i], pool.arena + f->off, f->len, ZMQ_DONTWAIT) < 0)
                    break; /* at the high-water mark */
                st->sent++;
                next[i] = (next[i] + 1) % pool.n;
            }
            zmq_msg_init(&m);
            while (zmq_msg_recv(&m, socks[i], ZMQ_DONTWAIT) >= 0) {
                st->replies++;
                last_reply = ((uint64_t)collab_mono_ns());
            }
            zmq_msg_close(&m);
        }
    }
    st->seconds = (double)(((uint64_t)collab_mono_ns()) - t0) / 1e9;
    for (unsigned i = 0; socks && i < n; i++)
        if (socks[i])
            zmq_close(socks[i]);
    free(socks);
    free(items);
    free(next);
    lg_pool_free(&pool);
    return rc;
}

static void wait_s(const soak_t *s, storm_t *st, double seconds)
{
    uint64_t end = ((uint64_t)collab_mono_ns()) + (uint64_t)(seconds * 1e9);
    while (((uint64_t)collab_mono_ns()) < end) {
        sample_rss(s, st);
        struct timespec ts = {0, 100000000};
        nanosleep(&ts, NULL);
    }
}

static void print_phase(const char *name, const soak_agent_stats_t *a)
{
    printf(" %s_writes=%llu %s_errors=%llu %s_refusals=%llu %s_p50_us=%.0f %s_p99_us=%.0f "
           "%s_max_us=%.0f",
           name, (unsigned long long)a->writes, name, (unsigned long long)a->errors, name,
           (unsigned long long)a->refusals, name, (double)lg_hist_quantile(&a->hist, 0.5) / 1e3,
           name, (double)lg_hist_quantile(&a->hist, 0.99) / 1e3, name, (double)a->hist.max / 1e3);
    if (a->errors)
        printf(" %s_last_error=%s", name, collab_errname(a->last_error));
}

int soak_storm(soak_t *s)
{
    storm_t st = {0};
    lg_proc_t pr;
    if (lg_proc_sample(s->pid, &pr) == 0)
        st.rss_start = st.rss_peak = pr.rss_kb;
    soak_agent_t *a = soak_agent_start(s);
    if (!a)
        return -1;
    wait_s(s, &st, s->quiet_s);
    soak_agent_phase(a, SOAK_STORM);
    int rc = run_storm(s, &st);
    soak_agent_phase(a, SOAK_AFTER);
    wait_s(s, &st, s->settle_s);
    soak_agent_stop(a);
    bool alive = s->pid > 0 && kill(s->pid, 0) == 0;
    if (lg_proc_sample(s->pid, &pr) == 0)
        st.rss_end = pr.rss_kb;
    printf("result mode=storm sent=%llu replies=%llu seconds=%.2f rate=%.0f alive=%d "
           "rss_start_kb=%ld rss_peak_kb=%ld rss_end_kb=%ld",
           (unsigned long long)st.sent, (unsigned long long)st.replies, st.seconds,
           st.seconds > 0 ? (double)st.sent / st.seconds : 0.0, alive, st.rss_start, st.rss_peak,
           st.rss_end);
    print_phase("quiet", soak_agent_stats(a, SOAK_QUIET));
    print_phase("storm", soak_agent_stats(a, SOAK_STORM));
    print_phase("after", soak_agent_stats(a, SOAK_AFTER));
    printf("\n");
    fflush(stdout);
    soak_agent_destroy(&a);
    return rc;
}
