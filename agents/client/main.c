/*  main.c: collab-client, the seed's interactive client: parses the common options and
    runs the menu over standard input and output. */
#include "agent_cli.h"
#include "menu.h"

#include <czmq.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#define PROG "collab-client"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: " PROG " [options]\n"
            "the Stage 2 interactive client: reads menu choices and answers from standard\n"
            "input, one per line, so a session can be typed or scripted. --agent and\n"
            "--password-file (or --password) answer the login questions; --credentials or\n"
            "--key-file give the key that signs state-changing actions.\n"
            "%s",
            agent_cli_help());
}

int main(int argc, char **argv)
{
    agent_cli_t cli;
    int n = agent_cli_parse(&cli, PROG, argc, argv);
    if (n < 0)
        return AGENT_EXIT_USAGE;
    for (int i = 1; i < n; i++) {
        bool help = strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0;
        if (!help)
            fprintf(stderr, PROG ": unknown argument '%s' (see --help)\n", argv[i]);
        usage(help ? stdout : stderr);
        return help ? AGENT_EXIT_OK : AGENT_EXIT_USAGE;
    }
    signal(SIGPIPE, SIG_IGN);
    prompt_t p;
    prompt_init(&p, stdin, stdout);
    session_t s = {.cli = &cli, .p = &p, .out = stdout};
    int rc = menu_run(&s);
    prompt_free(&p);
    sodium_memzero(cli.password, sizeof cli.password);
    zsys_shutdown();
    return rc;
}
