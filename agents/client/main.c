/*  main.c: collab-client, the seed's interactive client: parses the common options and
    runs the menu over standard input and output. */
#include "agent_cli.h"
#include "menu.h"

#include <czmq.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROG "collab-client"

#ifndef COLLAB_SOURCE_DIR
#define COLLAB_SOURCE_DIR "."
#endif
#define DEFAULT_VICTIM_PASSWORDS COLLAB_SOURCE_DIR "/sample_data/demo_passwords.txt"

typedef struct {
    char curve_dir[512];
    char victim_passwords[512];
} client_args_t;

static void usage(FILE *f)
{
    fprintf(
        f,
        "usage: " PROG " [options]\n"
        "the Stage 2 interactive client: reads menu choices and answers from standard\n"
        "input, one per line, so a session can be typed or scripted. --agent answers the\n"
        "agent question, --password-file (or --password) the password question;\n"
        "--credentials or --key-file give the key that signs state-changing actions.\n"
        "client options (and environment variables):\n"
        "  --curve-dir DIR          COLLAB_CURVE_DIR  for a broker with transport = strong:\n"
        "                           DIR/broker.cert is the broker's key, DIR/AGENT.cert_secret\n"
        "                           the certificate of whichever agent logs in (the demo\n"
        "                           swarm's: sample_data/curve); the common CURVE options\n"
        "                           below, when given, take precedence\n"
        "  --victim-passwords PATH  COLLAB_VICTIM_PASSWORDS  the demo agents' passwords that\n"
        "                           menu items 8-11 hand to collab-attack for its victims and\n"
        "                           use to put the lab back afterwards: a file of 'AGENT\n"
        "                           PASSWORD' lines or a folder of AGENT.pw files; default\n"
        "                           " DEFAULT_VICTIM_PASSWORDS "\n"
        "  COLLAB_ATTACK            the collab-attack binary (default: this build's)\n"
        "%s",
        agent_cli_help());
}

/*  The client's own options, after the common ones; returns 0, 1 for --help, or -1. */
static int parse_own(client_args_t *a, int argc, char **argv)
{
    const char *env;
    snprintf(a->curve_dir, sizeof a->curve_dir, "%s",
             (env = getenv("COLLAB_CURVE_DIR")) ? env : "");
    snprintf(a->victim_passwords, sizeof a->victim_passwords, "%s",
             (env = getenv("COLLAB_VICTIM_PASSWORDS")) && *env ? env : DEFAULT_VICTIM_PASSWORDS);
    for (int i = 1; i < argc; i++) {
        const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        char *dst = NULL;
        size_t cap = 0;
        if (strcmp(k, "--help") == 0 || strcmp(k, "-h") == 0)
            return 1;
        if (strcmp(k, "--curve-dir") == 0)
            dst = a->curve_dir, cap = sizeof a->curve_dir;
        else if (strcmp(k, "--victim-passwords") == 0)
            dst = a->victim_passwords, cap = sizeof a->victim_passwords;
        if (!dst || !v || strlen(v) >= cap) {
            fprintf(stderr, PROG ": %s '%s' (see --help)\n",
                    !dst ? "unknown argument"
                    : !v ? "a value is needed after"
                         : "too long:",
                    k);
            return -1;
        }
        snprintf(dst, cap, "%s", v);
        i++;
    }
    return 0;
}

int main(int argc, char **argv)
{
    agent_cli_t cli;
    client_args_t args;
    char err[600];
    int n = agent_cli_parse(&cli, PROG, argc, argv);
    if (n < 0)
        return AGENT_EXIT_USAGE;
    int own = parse_own(&args, n, argv);
    if (own != 0) {
        usage(own > 0 ? stdout : stderr);
        return own > 0 ? AGENT_EXIT_OK : AGENT_EXIT_USAGE;
    }
    if (agent_cli_check_endpoints(cli.endpoint, err, sizeof err) != 0) {
        fprintf(stderr, PROG ": %s\n", err);
        return AGENT_EXIT_UNREACHABLE;
    }
    signal(SIGPIPE, SIG_IGN);
    agent_cli_on_signal(NULL); /* a signal ends the prompt's read (EINTR) and any wait */
    prompt_t p;
    prompt_init(&p, stdin, stdout);
    session_t s = {.cli = &cli,
                   .p = &p,
                   .out = stdout,
                   .curve_dir = args.curve_dir,
                   .victim_passwords = args.victim_passwords};
    int rc = menu_run(&s);
    prompt_free(&p);
    sodium_memzero(cli.password, sizeof cli.password);
    zsys_shutdown();
    return agent_stop_exit_code(rc);
}
