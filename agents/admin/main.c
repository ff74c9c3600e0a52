/*  main.c: collab-admin, the admin's one-shot command line: parses the common options and
    one command, logs in, runs the command, logs out. */
#include "admin_cmds.h"
#include "agent_cli.h"

#include <czmq.h>
#include <stdio.h>
#include <string.h>

#define PROG "collab-admin"

static bool wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return true;
    return argc > 1 && strcmp(argv[1], "help") == 0;
}

/*  The command named by the remaining arguments, or NULL after a usage message. */
static const admin_cmd_t *parse_command(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (argv[i][0] == '-' && argv[i][1] == '-') {
            fprintf(stderr, PROG ": unknown option %s (see --help)\n", argv[i]);
            return NULL;
        }
    if (argc < 2) {
        fprintf(stderr, PROG ": no command given (see --help)\n");
        return NULL;
    }
    const admin_cmd_t *cmd = admin_cmd_find(argv[1]);
    if (!cmd) {
        fprintf(stderr, PROG ": unknown command '%s' (see --help)\n", argv[1]);
        return NULL;
    }
    if (argc - 2 < cmd->min_args || argc - 2 > cmd->max_args) {
        fprintf(stderr, PROG ": usage: " PROG " %s %s\n", cmd->name, cmd->args);
        return NULL;
    }
    return !cmd->check || cmd->check(PROG, argv + 2, argc - 2) ? cmd : NULL;
}

int main(int argc, char **argv)
{
    agent_cli_t cli;
    int n = agent_cli_parse(&cli, PROG, argc, argv);
    if (n < 0)
        return AGENT_EXIT_USAGE;
    if (wants_help(n, argv)) {
        admin_usage(stdout);
        return AGENT_EXIT_OK;
    }
    const admin_cmd_t *cmd = parse_command(n, argv);
    if (!cmd)
        return AGENT_EXIT_USAGE;
    int rc;
    agent_cli_on_signal(NULL);
    collab_client_t *c = agent_cli_connect(&cli, PROG, &rc);
    if (!c)
        return rc;
    admin_t a = {.c = c,
                 .prog = PROG,
                 .json = cli.json,
                 .has_key = cli.credentials[0] || cli.key_file[0],
                 .sanitize = collab_client_controls(c)->sanitize_output};
    rc = cmd->run(&a, argv + 2, n - 2);
    if (rc != AGENT_EXIT_UNREACHABLE)
        collab_client_logout(c);
    collab_client_destroy(&c);
    zsys_shutdown();
    return rc;
}
