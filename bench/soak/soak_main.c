/*  soak_main.c: the soak driver's command line (see soak.h; scripts/soak runs it).
    Usage: soak MODE --endpoint E --creds F --password P [options]
    MODE: storm | write | verify | hold */
#include "soak.h"

#include <czmq.h>
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

static void usage(void)
{
    fprintf(stderr,
            "usage: soak storm|write|verify|hold --endpoint E --creds F --password P [options]\n"
            "  --pid N            the broker's process (sampled from /proc)\n"
            "  --agent ID         the well-behaved agent / the writer (default soak-coord)\n"
            "  --curve-server-cert F --curve-client-cert F   CURVE (CZMQ certificates)\n"
            "  --timeout-ms N     a request unanswered this long: the broker is gone (5000)\n"
            "storm:  --storm N (messages, 100000) --storm-conns N (16) --interval-ms N (50)\n"
            "        --storm-rate R (messages/s in all; 0: as fast as they go, the default)\n"
            "        --storm-nice N (the sender's nice value, 0..19; 0)\n"
            "        --quiet S (10) --settle S (2)\n"
            "write:  --ack FILE --duration S (60)      verify: --ack FILE\n"
            "hold:   --conns N (5000) --rounds N (3) --prefix P (soak-h) --settle S (3)\n");
}

/*  A number option: the whole text, within [min, max]. */
static int num(const char *opt, const char *text, double min, double max, double *out)
{
    char *end;
    double v = strtod(text, &end);
    if (end == text || *end || !(v >= min && v <= max)) {
        fprintf(stderr, "soak: --%s %s: not a number in [%g, %g]\n", opt, text, min, max);
        return -1;
    }
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    soak_t s = {.agent = "soak-coord",
                .prefix = "soak-h",
                .storm = 100000,
                .storm_conns = 16,
                .storm_nice = 0,
                .interval_ms = 50,
                .quiet_s = 10,
                .settle_s = -1,
                .duration_s = 60,
                .conns = 5000,
                .rounds = 3,
                .timeout_ms = 5000};
    static const struct option opts[] = {{"endpoint", 1, 0, 'e'},
                                         {"creds", 1, 0, 'c'},
                                         {"password", 1, 0, 'p'},
                                         {"pid", 1, 0, 'P'},
                                         {"agent", 1, 0, 'a'},
                                         {"prefix", 1, 0, 'x'},
                                         {"ack", 1, 0, 'A'},
                                         {"storm", 1, 0, 'n'},
                                         {"storm-conns", 1, 0, 'N'},
                                         {"storm-rate", 1, 0, 'R'},
                                         {"storm-nice", 1, 0, 'Z'},
                                         {"interval-ms", 1, 0, 'i'},
                                         {"quiet", 1, 0, 'q'},
                                         {"settle", 1, 0, 's'},
                                         {"duration", 1, 0, 'd'},
                                         {"conns", 1, 0, 'C'},
                                         {"rounds", 1, 0, 'r'},
                                         {"timeout-ms", 1, 0, 't'},
                                         {"curve-server-cert", 1, 0, 'k'},
                                         {"curve-client-cert", 1, 0, 'K'},
                                         {"help", 0, 0, 'h'},
                                         {0, 0, 0, 0}};
    const char *server_cert = NULL, *client_cert = NULL;
    double v;
    int o, bad = 0;
    if (argc < 2 || argv[1][0] == '-') {
        usage();
        return 2;
    }
    const char *mode = argv[1];
    optind = 2;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'e':
            s.endpoint = optarg;
            break;
        case 'c':
            s.creds = optarg;
            break;
        case 'p':
            s.password = optarg;
            break;
        case 'a':
            s.agent = optarg;
            break;
        case 'x':
            s.prefix = optarg;
            break;
        case 'A':
            s.ack = optarg;
            break;
        case 'k':
            server_cert = optarg;
            break;
        case 'K':
            client_cert = optarg;
            break;
        case 'P':
            bad |= num("pid", optarg, 1, 4194304, &v);
            s.pid = (int)v;
            break;
        case 'n':
            bad |= num("storm", optarg, 1, 1e9, &v);
            s.storm = (uint64_t)v;
            break;
        case 'N':
            bad |= num("storm-conns", optarg, 1, 1000, &v);
            s.storm_conns = (unsigned)v;
            break;
        case 'R':
            bad |= num("storm-rate", optarg, 0, 1e9, &s.storm_rate);
            break;
        case 'Z':
            bad |= num("storm-nice", optarg, 0, 19, &v);
            s.storm_nice = (int)v;
            break;
        case 'i':
            bad |= num("interval-ms", optarg, 1, 60000, &v);
            s.interval_ms = (unsigned)v;
            break;
        case 'q':
            bad |= num("quiet", optarg, 0, 3600, &s.quiet_s);
            break;
        case 's':
            bad |= num("settle", optarg, 0, 3600, &s.settle_s);
            break;
        case 'd':
            bad |= num("duration", optarg, 0.1, 86400, &s.duration_s);
            break;
        case 'C':
            bad |= num("conns", optarg, 1, 100000, &v);
            s.conns = (unsigned)v;
            break;
        case 'r':
            bad |= num("rounds", optarg, 1, 100, &v);
            s.rounds = (unsigned)v;
            break;
        case 't':
            bad |= num("timeout-ms", optarg, 10, 600000, &v);
            s.timeout_ms = (int)v;
            break;
        default:
            usage();
            return 2;
        }
    }
    if (bad || optind != argc || !s.endpoint || !s.creds || !s.password) {
        usage();
        return 2;
    }
    bool needs_ack = strcmp(mode, "write") == 0 || strcmp(mode, "verify") == 0;
    if (needs_ack && !s.ack) {
        fprintf(stderr, "soak: %s needs --ack FILE\n", mode);
        return 2;
    }
    if (s.settle_s < 0)
        s.settle_s = strcmp(mode, "hold") == 0 ? 3 : 2;
    if ((server_cert || client_cert) &&
        (!server_cert || !client_cert || lg_curve_load(server_cert, client_cert, &s.curve) != 0)) {
        fprintf(stderr, "soak: cannot load the CURVE certificates (both, with secret)\n");
        return 2;
    }
    if (sodium_init() < 0)
        return 1;
    zsys_handler_set(NULL); /* CZMQ (certificates) must not take SIGINT */
    s.ctx = zmq_ctx_new();
    zmq_ctx_set(s.ctx, ZMQ_MAX_SOCKETS, (int)s.conns + s.storm_conns + 64);
    int rc;
    if (strcmp(mode, "storm") == 0)
        rc = soak_storm(&s);
    else if (strcmp(mode, "write") == 0)
        rc = soak_write(&s);
    else if (strcmp(mode, "verify") == 0)
        rc = soak_verify(&s);
    else if (strcmp(mode, "hold") == 0)
        rc = soak_hold(&s);
    else {
        usage();
        rc = -2;
    }
    zmq_ctx_term(s.ctx);
    return rc == 0 ? 0 : rc == -2 ? 2 : 1;
}
