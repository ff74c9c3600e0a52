/*  main.c: collab-web's command line: the broker's configuration (--config, --profile,
    --set, in order, as collab-broker reads them), the web settings from it, then the
    gateway until SIGINT or SIGTERM. */
#include "agent_stop.h"
#include "gateway.h"
#include "webcfg.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(FILE *f)
{
    fprintf(f,
            "usage: collab-web [--config FILE] [--profile stage2|hardened] [--set KEY=VALUE]...\n"
            "                  [--broker tcp://HOST:PORT[,tcp://HOST:PORT]] [--bind HOST:PORT]\n"
            "                  [--static DIR] [--timeout-ms N] [--curve-dir DIR]\n"
            "The gateway onto the bus (docs/WEB.md): it logs web users in as their agents and\n"
            "holds their bus sessions, signing with the agents' keys from the credentials file\n"
            "(trusted like the broker). Binds 127.0.0.1:8080 unless told; port 0 picks one.\n"
            "Prints \"collab-web: http://HOST:PORT/\" once listening.\n"
            "With --curve-dir under strong transport (CURVE) each agent's bus client uses the\n"
            "broker's key (transport.server_cert) and that agent's secret certificate\n"
            "DIR/AGENT.cert_secret, as the agent itself would.\n");
}

typedef struct {
    const char *broker, *bind, *static_dir;
    long timeout_ms;
} cli_t;

static int parse_args(int argc, char **argv, web_settings_t *set, cli_t *cli)
{
    static const struct option longs[] = {{"config", 1, 0, 'c'},    {"profile", 1, 0, 'p'},
                                          {"set", 1, 0, 's'},       {"broker", 1, 0, 'B'},
                                          {"bind", 1, 0, 'b'},      {"static", 1, 0, 'S'},
                                          {"help", 0, 0, 'h'},      {"timeout-ms", 1, 0, 't'},
                                          {"curve-dir", 1, 0, 'C'}, {0, 0, 0, 0}};
    char err[512];
    int c;
    while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        int rc = 0;
        if (c == 'c')
            rc = collab_config_load(&set->cfg, optarg, err, sizeof err);
        else if (c == 'p' && (rc = collab_config_profile(&set->cfg, optarg)) != 0)
            snprintf(err, sizeof err, "--profile: unknown profile '%s'", optarg);
        else if (c == 's')
            rc = collab_config_set(&set->cfg, optarg, err, sizeof err);
        else if (c == 'B')
            cli->broker = optarg;
        else if (c == 'b')
            cli->bind = optarg;
        else if (c == 'S')
            cli->static_dir = optarg;
        else if (c == 'C' && strlen(optarg) >= sizeof set->curve_dir)
            rc = -1, snprintf(err, sizeof err, "--curve-dir: longer than %zu bytes",
                              sizeof set->curve_dir - 1);
        else if (c == 'C')
            snprintf(set->curve_dir, sizeof set->curve_dir, "%s", optarg);
        else if (c == 't' && (rc = collab_parse_long(optarg, 1, 600000, &cli->timeout_ms)) != 0)
            snprintf(err, sizeof err, "--timeout-ms: '%s' is not 1..600000", optarg);
        else if (c == 'h') {
            usage(stdout);
            exit(0);
        } else if (c == '?') {
            usage(stderr);
            return -1;
        }
        if (rc) {
            fprintf(stderr, "collab-web: %s\n", err);
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "collab-web: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    return 0;
}

/*  The command line wins over the configuration file for these. */
static int apply_cli(web_settings_t *set, const cli_t *cli)
{
    if (cli->broker)
        snprintf(set->broker, sizeof set->broker, "%s", cli->broker);
    if (cli->static_dir)
        snprintf(set->static_dir, sizeof set->static_dir, "%s", cli->static_dir);
    if (cli->timeout_ms)
        set->timeout_ms = (int)cli->timeout_ms;
    if (cli->bind && web_settings_bind(set, cli->bind) != 0) {
        fprintf(stderr, "collab-web: --bind: '%s' is not HOST:PORT\n", cli->bind);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static web_settings_t set; /* large: not on the stack */
    cli_t cli = {0};
    char err[512];
    web_settings_defaults(&set, argv[0]);
    if (parse_args(argc, argv, &set, &cli) != 0)
        return 2;
    if (web_settings_from_config(&set, err, sizeof err) != 0) {
        fprintf(stderr, "collab-web: %s\n", err);
        return 2;
    }
    if (apply_cli(&set, &cli) != 0)
        return 2;
    if (set.cfg.strong[COLLAB_CTL_TRANSPORT] && !set.curve_dir[0])
        fprintf(stderr, "collab-web: warning: transport is strong but no --curve-dir was given: "
                        "the gateway's bus clients speak plaintext, which a CURVE broker "
                        "refuses\n");
    if (strcmp(set.bind_host, "127.0.0.1") != 0)
        fprintf(stderr, "collab-web: warning: listening on %s, beyond loopback\n", set.bind_host);
    agent_stop_install(NULL);
    signal(SIGPIPE, SIG_IGN);
    gateway_t *gw = gateway_new(&set, err, sizeof err);
    if (!gw) {
        fprintf(stderr, "collab-web: %s\n", err);
        return 1;
    }
    int rc = gateway_run(gw);
    gateway_destroy(&gw);
    return rc;
}
