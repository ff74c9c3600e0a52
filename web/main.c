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
    fprintf(
        f, "usage: collab-web [--config FILE] [--profile stage2|hardened] [--set KEY=VALUE]...\n"
           "                  [--broker tcp://HOST:PORT[,tcp://HOST:PORT]] [--bind HOST:PORT]\n"
           "                  [--static DIR] [--timeout-ms N]\n"
           "                  [--curve-server-key FILE|Z85 --curve-cert FILE | --curve-dir DIR]\n"
           "                  [--catalogue FILE] [--attack-bin FILE] [--sniff-bin FILE]\n"
           "The gateway onto the bus (docs/WEB.md): it logs web users in as their agents and\n"
           "holds their bus sessions, signing with the agents' keys from the credentials file\n"
           "(trusted like the broker). Binds 127.0.0.1:8080 unless told; port 0 picks one.\n"
           "Prints \"collab-web: http://HOST:PORT/\" once listening.\n"
           "  --broker A,B           COLLAB_BROKER  the broker (default: the configuration's\n"
           "                         bind), or a cluster's brokers: a web session's bus client\n"
           "                         uses the first, the next when its connection is lost or\n"
           "                         times out\n"
           "  --curve-server-key K   COLLAB_CURVE_SERVER  the broker's CURVE public key: its\n"
           "                         certificate file or 40 Z85 characters\n"
           "  --curve-cert FILE      COLLAB_CURVE_CERT    the gateway's secret CURVE certificate:\n"
           "                         one key pair for all its bus clients (both, as the agents\n"
           "                         take them, for a broker with transport = strong)\n"
           "  --curve-dir DIR        instead, under strong transport: each agent's bus client\n"
           "                         with that agent's own DIR/AGENT.cert_secret and the broker's\n"
           "                         key (transport.server_cert), as the agent itself would\n"
           "Under strong transport with none of these: the TEST-ONLY pair web.cert_secret beside\n"
           "transport.server_cert (sample_data/curve), with a warning.\n"
           "The lab page reads the matrix's catalogue (--catalogue FILE, default the source\n"
           "tree's sample_data/attack_scenarios.json, else the working folder's) and runs\n"
           "collab-attack and collab-sniff (--attack-bin FILE, --sniff-bin FILE; default:\n"
           "beside this build, ../tools/attack/collab-attack and ../tools/sniff/collab-sniff).\n");
}

typedef struct {
    const char *broker, *bind, *static_dir;
    const char *lab_files[3]; /* --catalogue, --attack-bin, --sniff-bin */
    long timeout_ms;
} cli_t;

/*  One CURVE setting, from the command line or the environment (which it overrides). */
static int set_curve(web_settings_t *set, const char *name, const char *value, char *err,
                     size_t errlen)
{
    bool server =
        strcmp(name, "--curve-server-key") == 0 || strcmp(name, "COLLAB_CURVE_SERVER") == 0;
    char *dst = server ? set->curve_server : set->curve_cert;
    size_t cap = server ? sizeof set->curve_server : sizeof set->curve_cert;
    if (!value[0] || strlen(value) >= cap) {
        snprintf(err, errlen, "%s: %s", name, value[0] ? "value too long" : "empty");
        return -1;
    }
    snprintf(dst, cap, "%s", value);
    return 0;
}

static int parse_args(int argc, char **argv, web_settings_t *set, cli_t *cli)
{
    static const struct option longs[] = {
        {"config", 1, 0, 'c'},     {"profile", 1, 0, 'p'},    {"set", 1, 0, 's'},
        {"broker", 1, 0, 'B'},     {"bind", 1, 0, 'b'},       {"static", 1, 0, 'S'},
        {"help", 0, 0, 'h'},       {"timeout-ms", 1, 0, 't'}, {"curve-server-key", 1, 0, 'K'},
        {"curve-cert", 1, 0, 'k'}, {"curve-dir", 1, 0, 'C'},  {"catalogue", 1, 0, 'L'},
        {"attack-bin", 1, 0, 'A'}, {"sniff-bin", 1, 0, 'N'},  {0, 0, 0, 0}};
    char err[COLLAB_PATH_MAX + 64];
    int c;
    const char *env_broker = getenv("COLLAB_BROKER"); /* as the agents take it; --broker wins */
    if (env_broker && *env_broker)
        cli->broker = env_broker;
    static const char *const envs[] = {"COLLAB_CURVE_SERVER", "COLLAB_CURVE_CERT"};
    for (size_t i = 0; i < 2; i++) {
        const char *v = getenv(envs[i]);
        if (v && *v && set_curve(set, envs[i], v, err, sizeof err) != 0) {
            fprintf(stderr, "collab-web: %s\n", err);
            return -1;
        }
    }
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
        else if (c == 'L' || c == 'A' || c == 'N')
            cli->lab_files[c == 'L' ? 0 : c == 'A' ? 1 : 2] = optarg;
        else if (c == 'K' || c == 'k')
            rc = set_curve(set, c == 'K' ? "--curve-server-key" : "--curve-cert", optarg, err,
                           sizeof err);
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
    char *const lab[3] = {set->catalogue, set->attack_bin, set->sniff_bin};
    for (int i = 0; i < 3; i++)
        if (cli->lab_files[i] && strlen(cli->lab_files[i]) >= sizeof set->catalogue) {
            fprintf(stderr, "collab-web: %s: longer than %zu bytes\n", cli->lab_files[i],
                    sizeof set->catalogue - 1);
            return -1;
        } else if (cli->lab_files[i])
            snprintf(lab[i], sizeof set->catalogue, "%s", cli->lab_files[i]);
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
    if (set.curve_test_pair)
        fprintf(stderr,
                "collab-web: warning: CURVE with the TEST-ONLY key pair %s (published with "
                "taskcollab): give --curve-server-key and --curve-cert for real keys\n",
                set.curve_cert);
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
