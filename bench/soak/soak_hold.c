/*  soak_hold.c: connections logged in, held, then dropped, rounds times. Each round opens
    conns connections one after another, each logged in (as the agents named prefix* in
    turn) before the next is opened (opened all at once, 5,000 CURVE handshakes on a busy
    machine can outlast libzmq's 30 s handshake limit), samples the broker, closes them all, waits
    settle seconds (the broker idle) and samples again. The sessions stay open in the
    broker (nobody logs out): dropped connections, as when clients vanish. */
#include "soak.h"
#include "collab_clock.h"

#include "../lg_setup.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define MAX_AGENTS 256

typedef struct {
    long rss_kb;
    int fds;
} sample_t;

static sample_t sample(const soak_t *s)
{
    lg_proc_t pr;
    sample_t out = {-1, soak_fds(s->pid)};
    if (lg_proc_sample(s->pid, &pr) == 0)
        out.rss_kb = pr.rss_kb;
    return out;
}

int soak_hold(soak_t *s)
{
    char(*agents)[COLLAB_MAX_AGENT_ID + 1] = calloc(MAX_AGENTS, sizeof *agents);
    uint8_t(*keys)[COLLAB_KEY_LEN] = calloc(MAX_AGENTS, sizeof *keys);
    lg_conn_t *cs = calloc(s->conns, sizeof *cs);
    int na = agents ? lg_list_agents(s->creds, s->prefix, agents, MAX_AGENTS) : -1;
    int rc = keys && cs && na > 0 ? 0 : -1;
    for (int i = 0; rc == 0 && i < na; i++)
        rc = lg_load_key(s->creds, agents[i], keys[i]);
    if (rc)
        fprintf(stderr, "soak: hold needs agents %s* with keys in %s\n", s->prefix, s->creds);
    for (unsigned r = 0; rc == 0 && r < s->rounds; r++) {
        sample_t before = sample(s);
        unsigned opened = 0, failed = 0;
        int last = 0;
        uint64_t t0 = ((uint64_t)collab_mono_ns());
        for (; opened < s->conns; opened++) {
            unsigned i = opened;
            if (lg_conn_open(&cs[i], s->ctx, s->endpoint, &s->curve, 1) != 0)
                break;
            int lr =
                lg_login(&cs[i], agents[i % (unsigned)na], s->password, keys[i % (unsigned)na]);
            if (lr) {
                failed++;
                last = lr;
            }
        }
        double login_s = (double)(((uint64_t)collab_mono_ns()) - t0) / 1e9;
        sample_t during = sample(s);
        for (unsigned i = 0; i < opened; i++)
            lg_conn_close(&cs[i]);
        struct timespec ts = {(time_t)s->settle_s,
                              (long)((s->settle_s - (double)(time_t)s->settle_s) * 1e9)};
        nanosleep(&ts, NULL);
        sample_t after = sample(s);
        printf("result mode=hold round=%u conns=%u logged_in=%u failed=%u last_error=%s "
               "login_s=%.1f rss_before_kb=%ld rss_during_kb=%ld rss_after_kb=%ld "
               "fds_before=%d fds_during=%d fds_after=%d\n",
               r + 1, opened, opened - failed, failed, last ? collab_errname(last) : "-", login_s,
               before.rss_kb, during.rss_kb, after.rss_kb, before.fds, during.fds, after.fds);
        fflush(stdout);
        if (opened < s->conns) {
            fprintf(stderr, "soak: only %u of %u connections opened\n", opened, s->conns);
            rc = -1;
        }
    }
    free(agents);
    free(keys);
    free(cs);
    return rc;
}
