/*  soak_agent.c: the well-behaved agent's thread (see soak_agent.h). */
#include "soak_agent.h"
#include "collab_clock.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

struct soak_agent {
    soak_t *s;
    void *ctx; /* its own: its messages never queue behind the storm's in the driver */
    lg_conn_t conn;
    pthread_t thread;
    atomic_int phase;
    atomic_bool stop;
    bool joined;
    soak_agent_stats_t stats[SOAK_PHASES];
};

static void sleep_until(uint64_t t_ns)
{
    uint64_t now = ((uint64_t)collab_mono_ns());
    if (t_ns <= now)
        return;
    struct timespec ts = {(time_t)((t_ns - now) / 1000000000u), (long)((t_ns - now) % 1000000000u)};
    nanosleep(&ts, NULL);
}

static void *run(void *arg)
{
    soak_agent_t *a = arg;
    uint8_t pl[256];
    char name[64];
    uint64_t next = ((uint64_t)collab_mono_ns()), n = 0,
             interval = (uint64_t)a->s->interval_ms * 1000000u;
    while (!atomic_load(&a->stop)) {
        sleep_until(next);
        snprintf(name, sizeof name, "soak-agent-%d-%llu", (int)getpid(), (unsigned long long)n++);
        size_t plen = lg_payload_create_project(pl, sizeof pl, name, "written during the soak");
        soak_agent_stats_t *st = &a->stats[atomic_load(&a->phase)];
        uint64_t t0 = ((uint64_t)collab_mono_ns());
        int rc = soak_call(a->s, &a->conn, COLLAB_ACT_CREATE_PROJECT, pl, plen, NULL, NULL);
        uint64_t t1 = ((uint64_t)collab_mono_ns());
        st->writes++;
        if (rc != COLLAB_E_TIMEOUT)
            lg_hist_add(&st->hist, t1 - t0);
        if (rc) {
            st->errors++;
            st->last_error = rc;
            st->refusals += rc == COLLAB_E_RATE_LIMITED;
        }
        /* the next write an interval after this one started, never sooner */
        next = t0 + interval;
        if (next < t1)
            next = t1;
    }
    return NULL;
}

soak_agent_t *soak_agent_start(soak_t *s)
{
    soak_agent_t *a = calloc(1, sizeof *a);
    if (!a)
        return NULL;
    a->s = s;
    a->ctx = zmq_ctx_new();
    int rc = a->ctx ? soak_connect_login(s, a->ctx, &a->conn, s->agent) : COLLAB_E_NOMEM;
    if (rc)
        fprintf(stderr, "soak: agent %s cannot log in: %s\n", s->agent, collab_strerror(rc));
    if (rc == 0 && pthread_create(&a->thread, NULL, run, a) == 0)
        return a;
    a->joined = true; /* no thread to join */
    soak_agent_destroy(&a);
    return NULL;
}

void soak_agent_phase(soak_agent_t *a, int phase)
{
    atomic_store(&a->phase, phase);
}

void soak_agent_stop(soak_agent_t *a)
{
    if (a->joined)
        return;
    atomic_store(&a->stop, true);
    pthread_join(a->thread, NULL);
    a->joined = true;
}

void soak_agent_destroy(soak_agent_t **a_p)
{
    soak_agent_t *a = *a_p;
    if (!a)
        return;
    soak_agent_stop(a);
    lg_conn_close(&a->conn);
    if (a->ctx)
        zmq_ctx_term(a->ctx);
    free(a);
    *a_p = NULL;
}

const soak_agent_stats_t *soak_agent_stats(const soak_agent_t *a, int phase)
{
    return &a->stats[phase];
}
