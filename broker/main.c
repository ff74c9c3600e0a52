/*  main.c: collab-broker's command line: builds the configuration (defaults, --config,
    --profile, --set), refuses what it cannot honour, and runs the broker. */
#include "broker.h"
#include "collab.h"
#include "config.h"
#include "log.h"

#include <czmq.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXIT_CONFIG 2

static void usage(FILE *out)
{
    fprintf(
        out,
        "usage: collab-broker [options]\n"
        "  --bind ENDPOINT        listen here (default tcp://127.0.0.1:5555; port * picks one)\n"
        "  --profile NAME         stage2 (default, deliberately weak) or hardened\n"
        "  --config FILE          read settings (see sample_data/broker.cfg)\n"
        "  --set KEY=VALUE        override one setting (repeatable)\n"
        "  --show-config          print the settings in force and exit\n"
        "  --state PATH           SQLite state file; one broker per state (PATH.lock names\n"
        "                         the holder; a second broker exits 2)\n"
        "  --store URL            a state shared by a cluster of brokers: redis://HOST:PORT[/DB]\n"
        "                         or unix:///PATH (docs/DISTRIBUTED.md); default: --state\n"
        "  --node NAME            this broker's name in the cluster (with --store)\n"
        "  --store-password-file PATH  the Redis password (owner-only file; never argv)\n"
        "  --credentials PATH     credentials JSON file\n"
        "  --security-log PATH    JSON-lines security log ('' for none: security_log =)\n"
        "  --reset-state          start the lab afresh (empties the state file)\n"
        "  --log-format text|json, --log-level debug|info|warning|error\n");
}

typedef struct {
    collab_config_t cfg;
    bool show, reset;
    const char *log_format, *log_level;
} options_t;

/*  Applies a path option as the equivalent --set. */
static int set_kv(collab_config_t *cfg, const char *key, const char *val)
{
    char line[COLLAB_PATH_MAX + 64], err[256];
    snprintf(line, sizeof line, "%s=%s", key, val);
    if (collab_config_set(cfg, line, err, sizeof err) != 0) {
        fprintf(stderr, "collab-broker: --%s: %s\n", key, err);
        return -1;
    }
    return 0;
}

static int parse_args(int argc, char **argv, options_t *o)
{
    static const struct option longs[] = {
        {"bind", 1, 0, 'b'},         {"profile", 1, 0, 'p'},
        {"config", 1, 0, 'c'},       {"set", 1, 0, 's'},
        {"show-config", 0, 0, 'S'},  {"state", 1, 0, 't'},
        {"credentials", 1, 0, 'C'},  {"store", 1, 0, 'u'},
        {"node", 1, 0, 'n'},         {"store-password-file", 1, 0, 'P'},
        {"security-log", 1, 0, 'L'}, {"reset-state", 0, 0, 'R'},
        {"log-format", 1, 0, 'f'},   {"log-level", 1, 0, 'l'},
        {"help", 0, 0, 'h'},         {0, 0, 0, 0}};
    char err[512];
    int c;
    collab_config_defaults(&o->cfg);
    while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        int rc = 0;
        switch (c) {
        case 'b':
            rc = set_kv(&o->cfg, "bind", optarg);
            break;
        case 'p':
            if (collab_config_profile(&o->cfg, optarg) != 0) {
                fprintf(stderr,
                        "collab-broker: --profile: unknown profile '%s' "
                        "(stage2 or hardened)\n",
                        optarg);
                rc = -1;
            }
            break;
        case 'c':
            if (collab_config_load(&o->cfg, optarg, err, sizeof err) != 0) {
                fprintf(stderr, "collab-broker: %s\n", err);
                rc = -1;
            }
            break;
        case 's':
            if (collab_config_set(&o->cfg, optarg, err, sizeof err) != 0) {
                fprintf(stderr, "collab-broker: --set %s: %s\n", optarg, err);
                rc = -1;
            }
            break;
        case 'S':
            o->show = true;
            break;
        case 't':
            rc = set_kv(&o->cfg, "state", optarg);
            break;
        case 'C':
            rc = set_kv(&o->cfg, "credentials", optarg);
            break;
        case 'u':
            rc = set_kv(&o->cfg, "store", optarg);
            break;
        case 'n':
            rc = set_kv(&o->cfg, "store.node", optarg);
            break;
        case 'P':
            rc = set_kv(&o->cfg, "store.password_file", optarg);
            break;
        case 'L':
            rc = set_kv(&o->cfg, "security_log", optarg);
            break;
        case 'R':
            o->reset = true;
            break;
        case 'f':
            o->log_format = optarg;
            break;
        case 'l':
            o->log_level = optarg;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            return -1;
        }
        if (rc)
            return -1;
    }
    if (optind < argc) {
        fprintf(stderr, "collab-broker: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    return 0;
}

static bool weak_everywhere(const collab_config_t *cfg)
{
    for (int i = 0; i < COLLAB_CONTROL_COUNT; i++)
        if (cfg->strong[i])
            return false;
    return true;
}

/*  Set by SIGINT/SIGTERM, read by the broker's loop (collab_broker_stop_on). */
static volatile sig_atomic_t stop_signalled;

static void on_signal(int sig)
{
    (void)sig;
    stop_signalled = 1;
}

int main(int argc, char **argv)
{
    options_t o = {0};
    char err[1024];
    if (parse_args(argc, argv, &o) != 0)
        return EXIT_CONFIG;
    collab_log_level_t level = COLLAB_LOG_INFO;
    collab_log_format_t format = COLLAB_LOG_TEXT;
    if ((o.log_format && collab_log_format_parse(o.log_format, &format) != 0) ||
        (o.log_level && collab_log_level_parse(o.log_level, &level) != 0)) {
        fprintf(stderr, "collab-broker: bad --log-format or --log-level\n");
        return EXIT_CONFIG;
    }
    collab_log_init(level, format, stderr);
    if (collab_config_validate(&o.cfg, err, sizeof err) != 0) {
        fprintf(stderr, "collab-broker: configuration: %s\n", err);
        return EXIT_CONFIG;
    }
    if (o.show) {
        collab_config_print(&o.cfg, stdout);
        return 0;
    }
    if (weak_everywhere(&o.cfg))
        fprintf(stderr, "collab-broker: profile stage2: DELIBERATELY WEAK, for learning only; "
                        "never expose it to a network you do not own\n");
    zsys_handler_set(NULL); /* our own handlers: a clean stop through the loop */
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGPIPE, SIG_IGN);
    collab_broker_t *broker = collab_broker_new(&o.cfg, o.reset, err, sizeof err);
    if (!broker) {
        fprintf(stderr, "collab-broker: %s\n", err);
        return EXIT_CONFIG;
    }
    collab_broker_stop_on(broker, &stop_signalled);
    char *bind = o.cfg.bind, *star = strrchr(bind, '*');
    if (star)
        printf("listening %.*s%d\n", (int)(star - bind), bind, collab_broker_port(broker));
    else
        printf("listening %s\n", bind);
    fflush(stdout);
    int rc = collab_broker_run(broker);
    collab_broker_destroy(&broker);
    zsys_shutdown();
    return rc == 0 ? 0 : 1;
}
