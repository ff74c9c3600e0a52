/*  lg_scenario.c: the benchmark's scenarios. Each one sets up (logins, a project, tasks)
    one synchronous request at a time, builds and signs every frame of its load, then
    drives the load for a warm-up and a timed window and prints one "result" line per
    phase: throughput, latency quantiles, and the server's CPU time and memory. */
#include "loadgen.h"
#include "collab_clock.h"

#include "lg_setup.h"

#include "collab_spawn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DESC                                                                                       \
    "Created by the taskcollab load generator: a project of ordinary size whose tasks the "        \
    "reading agents fetch again and again while the clock runs."
#define STORM_TIMEOUT_S  120
#define MEMORY_TIMEOUT_S 600
#define DRAIN_MS         5000

/* ---------------------------------------------------------------------------------------
   Connections and identities */

/*  Opens n connections into cs[0..n), connection i to endpoint i % nendpoints (a cluster's
    brokers share the load evenly). Returns 0 or -1 (none left open). */
static int open_into(bench_t *b, lg_conn_t *cs, unsigned n, unsigned window)
{
    for (unsigned i = 0; i < n; i++)
        if (lg_conn_open(&cs[i], b->ctx, b->endpoints[i % b->nendpoints], &b->curve, window) != 0) {
            fprintf(stderr, "loadgen: cannot connect to %s\n", b->endpoints[i % b->nendpoints]);
            for (unsigned k = 0; k < i; k++)
                lg_conn_close(&cs[k]);
            return -1;
        }
    return 0;
}

static lg_conn_t *open_conns(bench_t *b, unsigned n, unsigned window)
{
    lg_conn_t *cs = calloc(n, sizeof *cs);
    if (cs && open_into(b, cs, n, window) != 0) {
        free(cs);
        cs = NULL;
    }
    return cs;
}

static void close_conns_in(lg_conn_t *cs, unsigned n)
{
    for (unsigned i = 0; cs && i < n; i++)
        lg_conn_close(&cs[i]);
}

static void close_conns(lg_conn_t *cs, unsigned n)
{
    close_conns_in(cs, n);
    free(cs);
}

/*  Logs c in as agent (broker), or makes up the identity the broker would have given it
    (echo: the frames then have the broker run's sizes). Returns 0 or a negative code. */
int lg_become(bench_t *b, lg_conn_t *c, const char *agent, const char *password)
{
    uint8_t key[COLLAB_KEY_LEN] = {0};
    if (b->echo) {
        memset(&c->id, 0, sizeof c->id);
        snprintf(c->id.agent_id, sizeof c->id.agent_id, "%s", agent);
        lg_fake_session(c->id.session, b->echo_session_len);
        c->id.scope = b->echo_scope;
        c->id.nonce = b->echo_nonce;
        return 0;
    }
    if (lg_load_key(b->creds, agent, key) != 0) {
        fprintf(stderr, "loadgen: %s: no key for %s\n", b->creds, agent);
        return COLLAB_E_IO;
    }
    int rc = lg_login(c, agent, password, key);
    if (rc)
        fprintf(stderr, "loadgen: login of %s at %s failed: %s\n", agent, b->endpoint,
                collab_strerror(rc));
    return rc;
}

/*  With replay protection every signed request needs its own nonce and signature, so the
    pool cannot be re-sent: it must hold the whole run. */
static bool must_be_fresh(const lg_ident_t *id, int action)
{
    return id->nonce && collab_action_needs_signature(action, id->scope);
}

/*  Frames to pre-build for one connection, a multiple of unit. */
static size_t pool_size(const bench_t *b, unsigned window, bool fresh, size_t unit)
{
    size_t n = 4u * window < 64 ? 64 : 4u * window;
    if (fresh)
        n = b->pool ? b->pool
                    : (size_t)(40000.0 * (b->duration + b->warmup + 1) / b->conns) + 4u * window;
    return (n + unit - 1) / unit * unit;
}

/* ---------------------------------------------------------------------------------------
   Setup: a project and its tasks */

/*  Creates the project (as bench-coord) with ntasks tasks, task i assigned to worker
    i % nworkers; task_ids (may be NULL) receives their ids. Against the echo server the
    ids are those a fresh broker would give. Returns 0 or -1. */
int lg_make_project(bench_t *b, unsigned ntasks, uint64_t *task_ids)
{
    uint8_t pl[1024];
    size_t plen;
    b->project_id = 1;
    for (unsigned i = 0; task_ids && i < ntasks; i++)
        task_ids[i] = i + 1;
    if (b->echo)
        return 0;
    lg_conn_t coord;
    if (lg_conn_open(&coord, b->ctx, b->endpoint, &b->curve, 1) != 0)
        return -1;
    int rc = lg_become(b, &coord, "bench-coord", b->password);
    if (rc == 0) {
        plen = lg_payload_create_project(pl, sizeof pl, "bench project", DESC);
        rc = lg_rpc(&coord, COLLAB_ACT_CREATE_PROJECT, pl, plen, "project_id", &b->project_id);
    }
    for (unsigned i = 0; rc == 0 && i < ntasks; i++) {
        char title[64];
        uint64_t id = 0;
        snprintf(title, sizeof title, "bench task %u", i);
        plen = lg_payload_assign_task(pl, sizeof pl, b->project_id, title, DESC,
                                      b->workers[i % b->nworkers]);
        rc = lg_rpc(&coord, COLLAB_ACT_ASSIGN_TASK, pl, plen, "task_id", &id);
        if (task_ids)
            task_ids[i] = id;
    }
    if (rc)
        fprintf(stderr, "loadgen: setup (project and tasks) failed: %s\n", collab_strerror(rc));
    lg_conn_close(&coord);
    return rc ? -1 : 0;
}

/*  Logs each connection in as a worker and fills its pool with get_project requests. */
static int prepare_readers(bench_t *b, lg_conn_t *cs, unsigned n)
{
    uint8_t pl[64];
    size_t plen = lg_payload_get_project(pl, sizeof pl, b->project_id);
    for (unsigned i = 0; i < n; i++) {
        lg_conn_t *c = &cs[i];
        if (lg_become(b, c, b->workers[i % b->nworkers], b->password) != 0)
            return -1;
        bool fresh = must_be_fresh(&c->id, COLLAB_ACT_GET_PROJECT);
        size_t frames = pool_size(b, c->window, fresh, 1);
        for (size_t k = 0; k < frames; k++)
            if (lg_pool_add(&c->pool, &c->id, COLLAB_ACT_GET_PROJECT, pl, plen, k + 1) != 0)
                return -1;
        c->pool.cycle = !fresh;
        c->sending = true;
    }
    return 0;
}

/* ---------------------------------------------------------------------------------------
   Measuring */

/*  The servers' CPU time and memory added up (a cluster's brokers). */
static void sample_servers(const bench_t *b, lg_proc_t *out)
{
    *out = (lg_proc_t){0};
    for (unsigned i = 0; i < b->npids; i++) {
        lg_proc_t p;
        lg_proc_sample(b->pids[i], &p);
        out->cpu_s += p.cpu_s;
        out->rss_kb += p.rss_kb;
        out->hwm_kb += p.hwm_kb;
    }
}

void lg_mark(const bench_t *b, lg_mark_t *m)
{
    m->t0 = ((uint64_t)collab_mono_ns());
    sample_servers(b, &m->p0);
    lg_proc_sample(b->store_pid, &m->s0);
    m->gen0 = lg_proc_self_cpu();
    m->busy0 = lg_proc_machine_busy();
}

#define ON_WINDOW_TIMEOUT_MS 10000

int lg_on_window(const bench_t *b, const char *phase)
{
    if (!b->on_window)
        return 0;
    const char *argv[] = {"/bin/sh", "-c", b->on_window, "loadgen", phase, NULL};
    collab_proc_t proc;
    if (collab_spawn(&proc, argv, NULL) != 0 || collab_spawn_wait(&proc, ON_WINDOW_TIMEOUT_MS) ||
        collab_spawn_code(&proc) != 0) {
        fprintf(stderr, "loadgen: --on-window '%s' %s failed\n", b->on_window, phase);
        return -1;
    }
    return 0;
}

static double us(uint64_t ns)
{
    return (double)ns / 1000.0;
}

/*  Prints the result line of a phase that started at m, over connections cs. */
void lg_report(const bench_t *b, const char *phase, const lg_conn_t *cs, unsigned n,
               const lg_hist_t *h, const lg_mark_t *m)
{
    uint64_t t1 = ((uint64_t)collab_mono_ns());
    lg_proc_t p1, s1;
    sample_servers(b, &p1);
    lg_proc_sample(b->store_pid, &s1);
    double gen = lg_proc_self_cpu() - m->gen0, secs = (double)(t1 - m->t0) / 1e9;
    double busy = lg_proc_machine_busy() - m->busy0;
    uint64_t done = 0, errors = 0, lost = 0, req = 0, rep = 0, sent = 0;
    unsigned spent = 0;
    int last_error = 0;
    for (unsigned i = 0; i < n; i++) {
        done += cs[i].done;
        sent += cs[i].sent;
        errors += cs[i].errors;
        lost += cs[i].lost;
        req += cs[i].req_bytes;
        rep += cs[i].rep_bytes;
        if (cs[i].last_error)
            last_error = cs[i].last_error;
        spent += !cs[i].pool.cycle && cs[i].pool.next == cs[i].pool.n;
    }
    double cpu = p1.cpu_s - m->p0.cpu_s, store = s1.cpu_s - m->s0.cpu_s;
    printf("result scenario=%s label=%s phase=%s mode=%s conns=%u window=%u seconds=%.3f "
           "requests=%llu rps=%.0f mean_us=%.1f p50_us=%.1f p99_us=%.1f p999_us=%.1f "
           "max_us=%.1f errors=%llu last_error=%s lost=%llu req_bytes=%.0f rep_bytes=%.0f "
           "server_cpu_s=%.2f server_cpu_us_per_req=%.1f rss_kb=%ld hwm_kb=%ld "
           "store_cpu_s=%.2f store_cpu_us_per_req=%.1f gen_cpu_s=%.2f other_cpu_s=%.2f "
           "pools_spent=%u\n",
           b->scenario, b->label, phase, b->echo ? "echo" : "broker", n, cs[0].window, secs,
           (unsigned long long)h->total, (double)h->total / secs, us((uint64_t)lg_hist_mean(h)),
           us(lg_hist_quantile(h, 0.50)), us(lg_hist_quantile(h, 0.99)),
           us(lg_hist_quantile(h, 0.999)), us(h->max), (unsigned long long)errors,
           last_error ? collab_errname(last_error) : "none", (unsigned long long)lost,
           sent ? (double)req / (double)sent : 0.0, done ? (double)rep / (double)done : 0.0, cpu,
           h->total ? cpu * 1e6 / (double)h->total : 0.0, p1.rss_kb, p1.hwm_kb, store,
           h->total ? store * 1e6 / (double)h->total : 0.0, gen,
           busy > cpu + store + gen ? busy - cpu - store - gen : 0.0, spent);
    fflush(stdout);
}

static void phase_all(lg_conn_t *cs, unsigned n, lg_hist_t *h)
{
    for (unsigned i = 0; i < n; i++)
        lg_conn_phase(&cs[i], h);
}

/*  Warm-up (not recorded), then the timed window, reported as phase. */
static int timed(bench_t *b, lg_conn_t *cs, unsigned n, lg_hist_t *h, const char *phase)
{
    lg_mark_t m;
    phase_all(cs, n, NULL);
    if (lg_drive(&b->drv, cs, n, ((uint64_t)collab_mono_ns()) + (uint64_t)(b->warmup * 1e9), NULL,
                 NULL) != 0)
        return -1;
    lg_hist_reset(h);
    phase_all(cs, n, h);
    if (lg_on_window(b, "start") != 0)
        return -1;
    lg_mark(b, &m);
    if (lg_drive(&b->drv, cs, n, m.t0 + (uint64_t)(b->duration * 1e9), NULL, NULL) != 0)
        return -1;
    lg_report(b, phase, cs, n, h, &m);
    return lg_on_window(b, "end");
}

/* ---------------------------------------------------------------------------------------
   Scenarios */

int lg_scenario_read(bench_t *b)
{
    lg_hist_t *h = malloc(sizeof *h);
    lg_conn_t *cs = open_conns(b, b->conns, b->window);
    int rc = h && cs ? 0 : -1;
    if (rc == 0)
        rc = lg_make_project(b, b->tasks, NULL);
    if (rc == 0)
        rc = prepare_readers(b, cs, b->conns);
    if (rc == 0)
        rc = timed(b, cs, b->conns, h, "reads");
    if (cs)
        lg_drain(&b->drv, cs, b->conns, DRAIN_MS);
    close_conns(cs, b->conns);
    free(h);
    return rc;
}

/*  Connection i owns task i and cycles it through three signed, durable writes that
    leave it where it started: assigned -> in_progress -> failed -> (reassign) assigned. */
static int prepare_writers(bench_t *b, lg_conn_t *cs, unsigned n, const uint64_t *task_ids)
{
    uint8_t pl[3][128];
    size_t plen[3];
    static const int actions[3] = {COLLAB_ACT_UPDATE_TASK_STATUS, COLLAB_ACT_UPDATE_TASK_STATUS,
                                   COLLAB_ACT_REASSIGN_TASK};
    for (unsigned i = 0; i < n; i++) {
        lg_conn_t *c = &cs[i];
        const char *worker = b->workers[i % b->nworkers];
        if (lg_become(b, c, worker, b->password) != 0)
            return -1;
        plen[0] = lg_payload_update_status(pl[0], sizeof pl[0], task_ids[i], "in_progress");
        plen[1] = lg_payload_update_status(pl[1], sizeof pl[1], task_ids[i], "failed");
        plen[2] = lg_payload_reassign(pl[2], sizeof pl[2], task_ids[i], worker);
        bool fresh = must_be_fresh(&c->id, COLLAB_ACT_UPDATE_TASK_STATUS);
        size_t frames = pool_size(b, c->window, fresh, 3);
        for (size_t k = 0; k < frames; k++)
            if (lg_pool_add(&c->pool, &c->id, actions[k % 3], pl[k % 3], plen[k % 3], k + 1) != 0)
                return -1;
        c->pool.cycle = !fresh;
        c->sending = true;
    }
    return 0;
}

typedef struct {
    lg_conn_t *cs;
    unsigned n;
    uint64_t each;
} quota_t;

static bool quota_done(void *arg)
{
    const quota_t *q = arg;
    for (unsigned i = 0; i < q->n; i++)
        if (q->cs[i].done < q->each)
            return false;
    return true;
}

/*  Runs the load, unrecorded, until each connection has had `each` replies: the broker's
    event streams then hold their retention and every write also trims (the steady state). */
static int prefill(bench_t *b, lg_conn_t *cs, unsigned n, uint64_t each)
{
    quota_t q = {cs, n, each};
    phase_all(cs, n, NULL);
    return lg_drive(&b->drv, cs, n, ((uint64_t)collab_mono_ns()) + 600 * 1000000000ull, quota_done,
                    &q);
}

int lg_scenario_write(bench_t *b)
{
    lg_hist_t *h = malloc(sizeof *h);
    uint64_t *tasks = calloc(b->conns, sizeof *tasks);
    lg_conn_t *cs = open_conns(b, b->conns, b->window);
    int rc = h && tasks && cs ? 0 : -1;
    if (rc == 0)
        rc = lg_make_project(b, b->conns, tasks);
    if (rc == 0)
        rc = prepare_writers(b, cs, b->conns, tasks);
    if (rc == 0 && b->prefill)
        rc = prefill(b, cs, b->conns, b->prefill);
    if (rc == 0)
        rc = timed(b, cs, b->conns, h, "writes");
    if (cs)
        lg_drain(&b->drv, cs, b->conns, DRAIN_MS);
    close_conns(cs, b->conns);
    free(tasks);
    free(h);
    return rc;
}

typedef struct {
    lg_conn_t *cs;
    unsigned n;
} group_t;

static bool group_idle(void *arg)
{
    const group_t *g = arg;
    for (unsigned i = 0; i < g->n; i++)
        if (!lg_conn_idle(&g->cs[i]))
            return false;
    return true;
}

/*  Storm connection i holds one login of storm agent i, sent when the storm starts. */
static int prepare_storm(bench_t *b, lg_conn_t *cs, unsigned n)
{
    uint8_t pl[512];
    size_t plen = lg_payload_login(pl, sizeof pl, b->storm_password);
    if (b->nstormers < (int)n) {
        fprintf(stderr, "loadgen: the storm needs %u bench-sNN agents, %s has %d\n", n, b->creds,
                b->nstormers);
        return -1;
    }
    for (unsigned i = 0; i < n; i++) {
        lg_ident_t id = {0};
        snprintf(id.agent_id, sizeof id.agent_id, "%s", b->stormers[i]);
        if (lg_pool_add(&cs[i].pool, &id, COLLAB_ACT_LOGIN, pl, plen, 1) != 0)
            return -1;
        cs[i].sending = false;
    }
    return 0;
}

/*  Readers run a timed window alone (base), then again while the storm's logins are being
    hashed (storm: from the first login sent to the last login answered). */
int lg_scenario_storm(bench_t *b)
{
    unsigned nr = b->conns, ns = b->storm;
    lg_hist_t *h = calloc(3, sizeof *h);
    lg_conn_t *all = calloc(nr + ns, sizeof *all); /* readers, then the storm's */
    int rc = h && all ? 0 : -1;
    if (rc == 0 && (rc = open_into(b, all, nr, b->window)) == 0 &&
        (rc = open_into(b, all + nr, ns, 1)) != 0)
        close_conns_in(all, nr);
    bool opened = rc == 0;
    if (rc == 0)
        rc = lg_make_project(b, b->tasks, NULL);
    if (rc == 0)
        rc = prepare_readers(b, all, nr);
    if (rc == 0)
        rc = prepare_storm(b, all + nr, ns);
    if (rc == 0)
        rc = timed(b, all, nr, &h[0], "base");
    if (rc == 0) {
        lg_mark_t m;
        group_t g = {all + nr, ns};
        phase_all(all, nr, &h[1]);
        phase_all(all + nr, ns, &h[2]);
        for (unsigned i = 0; i < ns; i++)
            all[nr + i].sending = true;
        lg_mark(b, &m);
        rc =
            lg_drive(&b->drv, all, nr + ns, m.t0 + STORM_TIMEOUT_S * 1000000000ull, group_idle, &g);
        lg_report(b, "storm", all, nr, &h[1], &m);
        lg_report(b, "logins", all + nr, ns, &h[2], &m);
    }
    if (opened) {
        lg_drain(&b->drv, all, nr + ns, DRAIN_MS);
        close_conns_in(all, nr + ns);
    }
    free(all);
    free(h);
    return rc;
}

/*  Fills each connection's pool with its share of `total` logins, agents in rotation. */
static int prepare_logins(bench_t *b, lg_conn_t *cs, unsigned n, unsigned total)
{
    uint8_t pl[512];
    size_t plen = lg_payload_login(pl, sizeof pl, b->password);
    for (unsigned k = 0; k < total; k++) {
        lg_conn_t *c = &cs[k % n];
        lg_ident_t id = {0};
        snprintf(id.agent_id, sizeof id.agent_id, "%s", b->workers[k % b->nworkers]);
        if (lg_pool_add(&c->pool, &id, COLLAB_ACT_LOGIN, pl, plen, k + 1) != 0)
            return -1;
    }
    for (unsigned i = 0; i < n; i++) {
        cs[i].pool.cycle = false;
        cs[i].sending = true;
    }
    return 0;
}

/*  A few connections open `sessions` sessions; the server's resident memory is read once
    the connections are up (one session each) and again when every login is answered. */
int lg_scenario_memory(bench_t *b)
{
    lg_hist_t *h = malloc(sizeof *h);
    lg_conn_t *cs = open_conns(b, b->conns, b->window);
    int rc = h && cs ? 0 : -1;
    for (unsigned i = 0; rc == 0 && i < b->conns; i++) {
        rc = lg_become(b, &cs[i], b->workers[i % b->nworkers], b->password);
        if (rc == 0 && b->echo) { /* one round trip, as a login would make */
            uint8_t pl[512], reply[1024];
            size_t rlen = 0;
            size_t plen = lg_payload_login(pl, sizeof pl, b->password);
            rc = lg_pool_add(&cs[i].pool, &cs[i].id, COLLAB_ACT_LOGIN, pl, plen, 1);
            if (rc == 0)
                rc = lg_conn_call(&cs[i], cs[i].pool.arena, cs[i].pool.frames[0].len, 5000, reply,
                                  sizeof reply, &rlen);
            lg_pool_clear(&cs[i].pool);
        }
    }
    if (rc == 0)
        rc = prepare_logins(b, cs, b->conns, b->sessions);
    if (rc == 0) {
        lg_mark_t m;
        group_t g = {cs, b->conns};
        lg_hist_reset(h);
        phase_all(cs, b->conns, h);
        rc = lg_on_window(b, "start");
        lg_mark(b, &m);
        if (rc == 0)
            rc = lg_drive(&b->drv, cs, b->conns, m.t0 + MEMORY_TIMEOUT_S * 1000000000ull,
                          group_idle, &g);
        lg_proc_t p1;
        sample_servers(b, &p1);
        uint64_t ok = 0, errors = 0;
        for (unsigned i = 0; i < b->conns; i++) {
            ok += cs[i].done - cs[i].errors;
            errors += cs[i].errors;
        }
        lg_report(b, "logins", cs, b->conns, h, &m);
        long grown = p1.rss_kb - m.p0.rss_kb;
        printf("result scenario=%s label=%s phase=sessions mode=%s conns=%u sessions=%llu "
               "errors=%llu rss_before_kb=%ld rss_after_kb=%ld hwm_kb=%ld "
               "bytes_per_session=%.0f\n",
               b->scenario, b->label, b->echo ? "echo" : "broker", b->conns, (unsigned long long)ok,
               (unsigned long long)errors, m.p0.rss_kb, p1.rss_kb, p1.hwm_kb,
               ok ? (double)grown * 1024.0 / (double)ok : 0.0);
        fflush(stdout);
        if (lg_on_window(b, "end") != 0)
            rc = -1;
    }
    if (cs)
        lg_drain(&b->drv, cs, b->conns, DRAIN_MS);
    close_conns(cs, b->conns);
    free(h);
    return rc;
}
