/*  coldstart.c: the cold start scenario's timer. Starts the broker given after "--" on a
    state written before (bench/coldfill) as many times as asked, and for each start times
    from just before the exec to its "listening" line and to the answer of its first
    request (a login, sent as soon as it listens), then reads its memory from /proc and
    checks that the last task was loaded (get_task), and stops it (SIGTERM). */
#include "collab_clock.h"
#include "collab_pack.h"
#include "collab_spawn.h"
#include "collab_text.h"
#include "lg_conn.h"
#include "lg_proc.h"
#include "lg_setup.h"

#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zmq.h>

#define START_RUNS_MAX  15
#define STOP_TIMEOUT_MS 20000

typedef struct {
    const char *endpoint, *creds, *agent, *password;
    unsigned runs, timeout_s;
    uint64_t last_task;
    char *const *argv; /* the broker and its arguments */
} start_opts_t;

typedef struct {
    double listen_ms, first_ms;
    long rss_kb, hwm_kb;
} start_run_t;

/*  Reads the child's stdout until its "listening " line or the deadline; the endpoint is
    not used (the caller gave it). Returns 0 or -1. */
static int await_listening(int fd, int64_t deadline_ns)
{
    char buf[4096];
    size_t used = 0;
    while (collab_mono_ns() < deadline_ns) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int ms = (int)((deadline_ns - collab_mono_ns()) / 1000000) + 1;
        if (poll(&p, 1, ms) <= 0)
            continue;
        ssize_t n = read(fd, buf + used, sizeof buf - 1 - used);
        if (n <= 0)
            return -1; /* the broker closed its stdout: it exited */
        used += (size_t)n;
        buf[used] = '\0';
        char *line = strstr(buf, "listening ");
        if (line && (line == buf || line[-1] == '\n') && strchr(line, '\n'))
            return 0;
        if (used == sizeof buf - 1)
            used = 0; /* other output: the line starts later */
    }
    return -1;
}

/*  The get_task payload. */
static size_t payload_get_task(uint8_t *out, size_t cap, uint64_t task_id)
{
    collab_pack_t pk;
    size_t len = 0;
    collab_pack_init(&pk, out, cap);
    collab_pack_map(&pk, 1);
    collab_pack_kv_uint(&pk, "task_id", task_id);
    return collab_pack_finish(&pk, &len) == 0 ? len : 0;
}

/*  Logs in and asks for the last task: the state is loaded and served. */
static int first_requests(void *ctx, const start_opts_t *o, double *first_ms, int64_t t0)
{
    uint8_t key[COLLAB_KEY_LEN], pl[64];
    lg_conn_t c;
    if (lg_load_key(o->creds, o->agent, key) != 0 || lg_conn_open(&c, ctx, o->endpoint, NULL, 1))
        return -1;
    int rc = lg_login(&c, o->agent, o->password, key);
    *first_ms = (double)(collab_mono_ns() - t0) / 1e6;
    if (rc)
        fprintf(stderr, "coldstart: login of %s failed: %s\n", o->agent, collab_strerror(rc));
    size_t plen = payload_get_task(pl, sizeof pl, o->last_task);
    if (rc == 0 && o->last_task && (rc = lg_rpc(&c, COLLAB_ACT_GET_TASK, pl, plen, NULL, NULL)))
        fprintf(stderr, "coldstart: task %llu is not there after the start: %s\n",
                (unsigned long long)o->last_task, collab_strerror(rc));
    lg_conn_close(&c);
    return rc ? -1 : 0;
}

static int one_start(void *ctx, const start_opts_t *o, start_run_t *r)
{
    collab_proc_t proc;
    collab_spawn_opts_t so = {.out = COLLAB_SPAWN_PIPE, .death_signal = SIGKILL};
    int64_t t0 = collab_mono_ns();
    if (collab_spawn(&proc, (const char *const *)o->argv, &so) != 0) {
        perror("coldstart: cannot start the broker");
        return -1;
    }
    int rc = await_listening(proc.out, t0 + (int64_t)o->timeout_s * 1000000000);
    r->listen_ms = (double)(collab_mono_ns() - t0) / 1e6;
    if (rc)
        fprintf(stderr, "coldstart: the broker did not say it listens within %u s\n", o->timeout_s);
    if (rc == 0)
        rc = first_requests(ctx, o, &r->first_ms, t0);
    lg_proc_t p;
    if (rc == 0 && lg_proc_sample(proc.pid, &p) == 0) {
        r->rss_kb = p.rss_kb;
        r->hwm_kb = p.hwm_kb;
    }
    collab_spawn_kill(&proc, SIGTERM);
    if (collab_spawn_wait(&proc, STOP_TIMEOUT_MS) != 0 || collab_spawn_code(&proc) != 0) {
        fprintf(stderr, "coldstart: the broker did not stop cleanly (code %d)\n",
                collab_spawn_code(&proc));
        rc = -1;
    }
    collab_spawn_close(&proc);
    return rc;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/*  The median of n values (sorted in place). */
static double median(double *v, unsigned n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int run(const start_opts_t *o)
{
    start_run_t r[START_RUNS_MAX] = {{0}};
    double listen[START_RUNS_MAX], first[START_RUNS_MAX], rss[START_RUNS_MAX], hwm[START_RUNS_MAX];
    void *ctx = zmq_ctx_new();
    int rc = ctx ? 0 : -1;
    for (unsigned i = 0; rc == 0 && i < o->runs; i++) {
        rc = one_start(ctx, o, &r[i]);
        printf("result scenario=coldstart phase=run%u listen_ms=%.1f first_ms=%.1f rss_kb=%ld "
               "hwm_kb=%ld ok=%d\n",
               i + 1, r[i].listen_ms, r[i].first_ms, r[i].rss_kb, r[i].hwm_kb, rc == 0);
        fflush(stdout);
        listen[i] = r[i].listen_ms;
        first[i] = r[i].first_ms;
        rss[i] = (double)r[i].rss_kb;
        hwm[i] = (double)r[i].hwm_kb;
    }
    if (rc == 0)
        printf("result scenario=coldstart phase=median runs=%u listen_ms=%.1f first_ms=%.1f "
               "rss_kb=%.0f hwm_kb=%.0f\n",
               o->runs, median(listen, o->runs), median(first, o->runs), median(rss, o->runs),
               median(hwm, o->runs));
    if (ctx)
        zmq_ctx_term(ctx);
    return rc ? 1 : 0;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: coldstart --endpoint EP --creds FILE --agent ID --password PW\n"
            "                 [--runs N] [--last-task ID] [--timeout S] -- BROKER ARGS...\n"
            "Starts BROKER ARGS (which must bind EP) N times (default 3, at most %d) and\n"
            "prints one result line per start (listen_ms: exec to its listening line;\n"
            "first_ms: to the answer of a login sent then; rss_kb, hwm_kb: its VmRSS and\n"
            "VmHWM after that) and one with the medians. --last-task: a task id that must be\n"
            "there once started. --timeout: seconds a start may take (default 120).\n",
            START_RUNS_MAX);
}

static int parse(int argc, char **argv, start_opts_t *o)
{
    static const struct option longs[] = {
        {"endpoint", 1, 0, 'e'}, {"creds", 1, 0, 'c'}, {"agent", 1, 0, 'a'},
        {"password", 1, 0, 'p'}, {"runs", 1, 0, 'r'},  {"last-task", 1, 0, 't'},
        {"timeout", 1, 0, 'T'},  {"help", 0, 0, 'h'},  {0, 0, 0, 0}};
    int c;
    long n = 0;
    bool bad = false; /* a number that is not one, or out of its range */
    *o = (start_opts_t){.runs = 3, .timeout_s = 120};
    while ((c = getopt_long(argc, argv, "+h", longs, NULL)) != -1) {
        switch (c) {
        case 'e':
            o->endpoint = optarg;
            break;
        case 'c':
            o->creds = optarg;
            break;
        case 'a':
            o->agent = optarg;
            break;
        case 'p':
            o->password = optarg;
            break;
        case 'r':
            bad |= collab_parse_long(optarg, 1, START_RUNS_MAX, &n) != 0;
            o->runs = (unsigned)n;
            break;
        case 't':
            bad |= collab_parse_u64(optarg, 1, UINT64_MAX, &o->last_task) != 0;
            break;
        case 'T':
            bad |= collab_parse_long(optarg, 1, 86400, &n) != 0;
            o->timeout_s = (unsigned)n;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            return -1;
        }
    }
    o->argv = argv + optind;
    return !bad && o->endpoint && o->creds && o->agent && o->password && o->runs >= 1 &&
                   o->runs <= START_RUNS_MAX && o->timeout_s && optind < argc
               ? 0
               : -1;
}

int main(int argc, char **argv)
{
    start_opts_t o;
    if (parse(argc, argv, &o) != 0) {
        usage(stderr);
        return 2;
    }
    return run(&o);
}
