/*  loadgen.c: the taskcollab load generator's command line. It drives the broker (or the
    bench/echo baseline, with frames of the same sizes) with one scenario and prints one
    "result key=value ..." line per phase on stdout; scripts/bench runs it. Usage: loadgen -h */
#include "loadgen.h"

#include <getopt.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define EXIT_USAGE 2

static void usage(FILE *out)
{
    fprintf(out,
            "usage: loadgen --endpoint EP[,EP...] "
            "--scenario read|write|storm|memory|event|class|fanout [options]\n"
            "  --endpoint A,B         several (a cluster's brokers): connection i uses the\n"
            "                         i-th modulo their number; setup uses A. event: caused on\n"
            "                         A, delivered on A and on B\n"
            "  --pid PID[,PID...]     the server processes: their CPU time and memory (added up)\n"
            "  --store-pid PID        a store process (redis-server): its CPU time, apart\n"
            "  --on-window CMD        runs sh -c CMD with $1 = start, then end, around each\n"
            "                         timed window (the load stands still meanwhile)\n"
            "  --echo                 the server is bench/echo (no setup; made-up sessions)\n"
            "  --conns N              connections, one agent each (default 64)\n"
            "  --window W             requests in flight per connection (default 1)\n"
            "  --duration S, --warmup S   timed window and warm-up in seconds (5, 1)\n"
            "  --tasks N              tasks in the project that reads fetch (default 4)\n"
            "  --storm N              simultaneous logins of the storm scenario (default 20)\n"
            "  --sessions N           sessions the memory scenario opens (default 10000)\n"
            "  --pool N               frames per connection when requests must be fresh\n"
            "  --prefill N            write scenario: N writes per connection before the warm-up\n"
            "  --creds FILE           bench credentials: bench-coord, bench-wNNN, bench-sNN\n"
            "  --password PW          password of bench-coord and bench-wNNN (default bench)\n"
            "  --storm-password PW    password of bench-sNN (default bench)\n"
            "  --scope weak|full, --nonce, --session-len N   how the broker would sign (--echo)\n"
            "  --curve-server-cert F, --curve-client-cert F  CURVE (CZMQ certificate files)\n"
            "  --agents N             class: agents connected at once, bench-aNNNN (5000)\n"
            "  --rate R               class: the coordinator's rounds per second (20)\n"
            "  --observers N          fanout: observers subscribed to all, bench-oNNNN (1000)\n"
            "  --events N             fanout: project_created events timed (200)\n"
            "  --login-window N       class, fanout: logins in flight at most (128)\n"
            "  --io-threads N         libzmq I/O threads (default 1)\n"
            "  --label TEXT           copied into the result lines\n");
}

/*  A whole number within [min, max] for option flag, or a message and -1. */
static int num(const char *flag, const char *v, long min, long max, long *out)
{
    if (collab_parse_long(v, min, max, out) == 0)
        return 0;
    fprintf(stderr, "loadgen: --%s: '%s' is not a number in %ld..%ld\n", flag, v, min, max);
    return -1;
}

/*  Seconds, at most an hour: more than 0, or at least 0 when zero_ok. */
static int seconds(const char *flag, const char *v, bool zero_ok, double *out)
{
    char *end;
    double d = strtod(v, &end);
    if (end != v && *end == '\0' && (zero_ok ? d >= 0 : d > 0) && d <= 3600) {
        *out = d;
        return 0;
    }
    fprintf(stderr, "loadgen: --%s: '%s' is not a number of seconds in %s0, 3600]\n", flag, v,
            zero_ok ? "[" : "(");
    return -1;
}

/*  A rate per second, more than 0 and at most 100,000. */
static int rate(const char *v, double *out)
{
    char *end;
    double d = strtod(v, &end);
    if (end != v && *end == '\0' && d > 0 && d <= 100000) {
        *out = d;
        return 0;
    }
    fprintf(stderr, "loadgen: --rate: '%s' is not a rate per second in (0, 100000]\n", v);
    return -1;
}

/*  --pid A,B,...: the processes whose CPU time and memory are added up. */
static int split_pids(const char *v, bench_t *b)
{
    char buf[256], *save = NULL;
    snprintf(buf, sizeof buf, "%s", v);
    b->npids = 0;
    for (char *t = strtok_r(buf, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        long n;
        if (b->npids == LG_MAX_PIDS || num("pid", t, 1, INT_MAX, &n) != 0) {
            fprintf(stderr, "loadgen: --pid takes 1 to %d process ids\n", LG_MAX_PIDS);
            return -1;
        }
        b->pids[b->npids++] = (int)n;
    }
    return 0;
}

/*  --endpoint A,B,...: cut in place (the argument outlives the run); endpoint becomes A. */
static int split_endpoints(bench_t *b)
{
    char *save = NULL;
    b->nendpoints = 0;
    for (char *t = strtok_r((char *)b->endpoint, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (b->nendpoints == LG_MAX_ENDPOINTS) {
            fprintf(stderr, "loadgen: --endpoint takes at most %d endpoints\n", LG_MAX_ENDPOINTS);
            return -1;
        }
        b->endpoints[b->nendpoints++] = t;
    }
    if (b->nendpoints == 0) {
        fprintf(stderr, "loadgen: --endpoint is empty\n");
        return -1;
    }
    b->endpoint = b->endpoints[0];
    return 0;
}

#define NUM(field, min, max)                                                                       \
    do {                                                                                           \
        long n_;                                                                                   \
        if (num(longs[index].name, optarg, min, max, &n_) != 0)                                    \
            return -1;                                                                             \
        b->field = (__typeof__(b->field))n_;                                                       \
    } while (0)

static int parse_args(int argc, char **argv, bench_t *b)
{
    static const struct option longs[] = {{"endpoint", 1, 0, 'e'},
                                          {"scenario", 1, 0, 's'},
                                          {"label", 1, 0, 'L'},
                                          {"pid", 1, 0, 'p'},
                                          {"echo", 0, 0, 'E'},
                                          {"conns", 1, 0, 'c'},
                                          {"window", 1, 0, 'w'},
                                          {"duration", 1, 0, 'd'},
                                          {"warmup", 1, 0, 'W'},
                                          {"tasks", 1, 0, 't'},
                                          {"storm", 1, 0, 'S'},
                                          {"sessions", 1, 0, 'n'},
                                          {"pool", 1, 0, 'P'},
                                          {"prefill", 1, 0, 'F'},
                                          {"creds", 1, 0, 'C'},
                                          {"password", 1, 0, 'x'},
                                          {"storm-password", 1, 0, 'X'},
                                          {"scope", 1, 0, 'o'},
                                          {"nonce", 0, 0, 'N'},
                                          {"session-len", 1, 0, 'l'},
                                          {"io-threads", 1, 0, 'i'},
                                          {"curve-server-cert", 1, 0, 'k'},
                                          {"curve-client-cert", 1, 0, 'K'},
                                          {"store-pid", 1, 0, 'Q'},
                                          {"on-window", 1, 0, 'O'},
                                          {"agents", 1, 0, 'a'},
                                          {"observers", 1, 0, 'b'},
                                          {"events", 1, 0, 'v'},
                                          {"rate", 1, 0, 'r'},
                                          {"login-window", 1, 0, 'g'},
                                          {"help", 0, 0, 'h'},
                                          {0, 0, 0, 0}};
    const char *server_cert = NULL, *client_cert = NULL;
    int ch, index = 0;
    while ((ch = getopt_long(argc, argv, "h", longs, &index)) != -1) {
        switch (ch) {
        case 'e':
            b->endpoint = optarg;
            break;
        case 's':
            b->scenario = optarg;
            break;
        case 'L':
            b->label = optarg;
            break;
        case 'p':
            if (split_pids(optarg, b) != 0)
                return -1;
            break;
        case 'Q':
            NUM(store_pid, 1, INT_MAX);
            break;
        case 'O':
            b->on_window = optarg;
            break;
        case 'E':
            b->echo = true;
            break;
        case 'c':
            NUM(conns, 1, 100000);
            break;
        case 'w':
            NUM(window, 1, 65536);
            break;
        case 'd':
            if (seconds("duration", optarg, false, &b->duration) != 0)
                return -1;
            break;
        case 'W':
            if (seconds("warmup", optarg, true, &b->warmup) != 0)
                return -1;
            break;
        case 't':
            NUM(tasks, 1, 1000000);
            break;
        case 'S':
            NUM(storm, 1, 100000);
            break;
        case 'n':
            NUM(sessions, 1, 10000000);
            break;
        case 'P':
            NUM(pool, 1, 100000000);
            break;
        case 'F':
            NUM(prefill, 0, 10000000);
            break;
        case 'C':
            b->creds = optarg;
            break;
        case 'x':
            b->password = optarg;
            break;
        case 'X':
            b->storm_password = optarg;
            break;
        case 'o':
            b->echo_scope = strcmp(optarg, "full") == 0 ? COLLAB_SCOPE_FULL : COLLAB_SCOPE_WEAK;
            break;
        case 'N':
            b->echo_nonce = true;
            break;
        case 'l':
            NUM(echo_session_len, 0, COLLAB_MAX_SESSION_ID);
            break;
        case 'i':
            NUM(io_threads, 1, 64);
            break;
        case 'k':
            server_cert = optarg;
            break;
        case 'K':
            client_cert = optarg;
            break;
        case 'a':
            NUM(agents, 1, 100000);
            break;
        case 'b':
            NUM(observers, 1, 100000);
            break;
        case 'v':
            NUM(events, 1, 1000000);
            break;
        case 'r':
            if (rate(optarg, &b->rate) != 0)
                return -1;
            break;
        case 'g':
            NUM(login_window, 1, 100000);
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            return -1;
        }
    }
    if (b->endpoint && split_endpoints(b) != 0)
        return -1;
    if (!b->endpoint || !b->scenario || optind < argc || b->conns < 1 || b->window < 1 ||
        b->duration <= 0 || b->echo_session_len > COLLAB_MAX_SESSION_ID || b->storm < 1 ||
        b->sessions < 1) {
        usage(stderr);
        return -1;
    }
    if (!b->echo && !b->creds) {
        fprintf(stderr, "loadgen: --creds is needed unless --echo\n");
        return -1;
    }
    if ((server_cert || client_cert) &&
        (!server_cert || !client_cert || lg_curve_load(server_cert, client_cert, &b->curve) != 0)) {
        fprintf(stderr, "loadgen: cannot load the CURVE certificates (both, with secret)\n");
        return -1;
    }
    return 0;
}

/*  The agents to speak as: from the credentials file, or made up for the echo server. */
static int load_agents(bench_t *b)
{
    b->workers = calloc(LG_MAX_AGENTS, sizeof *b->workers);
    b->stormers = calloc(LG_MAX_AGENTS, sizeof *b->stormers);
    if (!b->workers || !b->stormers)
        return -1;
    if (b->creds) {
        b->nworkers = lg_list_agents(b->creds, "bench-w", b->workers, LG_MAX_AGENTS);
        b->nstormers = lg_list_agents(b->creds, "bench-s", b->stormers, LG_MAX_AGENTS);
    } else {
        for (int i = 0; i < 64; i++)
            snprintf(b->workers[i], sizeof b->workers[i], "bench-w%03d", i);
        b->nworkers = 64;
    }
    if (b->nworkers < 1) {
        fprintf(stderr, "loadgen: %s holds no bench-wNNN agent\n", b->creds);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    bench_t b = {.conns = 64,
                 .window = 1,
                 .duration = 5,
                 .warmup = 1,
                 .tasks = 4,
                 .storm = 20,
                 .sessions = 10000,
                 .io_threads = 1,
                 .agents = 5000,
                 .observers = 1000,
                 .events = 200,
                 .rate = 20,
                 .login_window = 128,
                 .password = "bench",
                 .storm_password = "bench",
                 .label = "-",
                 .echo_session_len = 36};
    if (parse_args(argc, argv, &b) != 0)
        return EXIT_USAGE;
    if (sodium_init() < 0 || load_agents(&b) != 0)
        return 1;
    b.drv.echo = b.echo;
    b.ctx = zmq_ctx_new();
    zmq_ctx_set(b.ctx, ZMQ_IO_THREADS, (int)b.io_threads);
    zmq_ctx_set(b.ctx, ZMQ_MAX_SOCKETS, 65536);
    int rc;
    if (strcmp(b.scenario, "read") == 0)
        rc = lg_scenario_read(&b);
    else if (strcmp(b.scenario, "write") == 0)
        rc = lg_scenario_write(&b);
    else if (strcmp(b.scenario, "storm") == 0 && !b.echo)
        rc = lg_scenario_storm(&b);
    else if (strcmp(b.scenario, "memory") == 0)
        rc = lg_scenario_memory(&b);
    else if (strcmp(b.scenario, "event") == 0 && !b.echo)
        rc = lg_scenario_event(&b);
    else if (strcmp(b.scenario, "class") == 0)
        rc = lg_scenario_class(&b);
    else if (strcmp(b.scenario, "fanout") == 0 && !b.echo)
        rc = lg_scenario_fanout(&b);
    else {
        fprintf(stderr,
                "loadgen: unknown scenario '%s' (storm, event and fanout need the broker)\n",
                b.scenario);
        rc = -1;
    }
    zmq_ctx_term(b.ctx);
    free(b.workers);
    free(b.stormers);
    return rc == 0 ? 0 : 1;
}
