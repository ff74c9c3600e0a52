/*  main.c: collab-observer, a read-only watcher of the whole bus: parses its options,
    logs in and runs the observer loop. */
#include "agent_cli.h"
#include "observer.h"

#include <czmq.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PROG "collab-observer"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: " PROG " [options]\n"
            "prints one line per project or task event of the whole system; on a terminal\n"
            "it keeps a live table of projects and tasks above the latest lines.\n"
            "  --max-events N       exit 0 after N events\n"
            "  --until-idle-ms N    exit 0 when no event came for N ms\n"
            "  --heartbeat-ms N     heartbeat every N ms (default: a third of the session's idle\n"
            "                       timeout, at most 60 s); a heartbeat notices a broker that\n"
            "                       restarted and replays the events missed meanwhile\n"
            "  --lines              line log only, even on a terminal\n"
            "%s",
            agent_cli_help());
}

static int parse_count(const char *flag, const char *val, long *out)
{
    if (collab_parse_long(val, 0, LONG_MAX, out) == 0)
        return 0;
    fprintf(stderr, PROG ": %s needs a non-negative number\n", flag);
    return -1;
}

/*  Parses the observer's own options. Returns 0, 1 for --help, or -1. */
static int parse_own(int argc, char **argv, observer_opts_t *o, bool *lines)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *next = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
            return 1;
        if (strcmp(a, "--lines") == 0) {
            *lines = true;
        } else if (strcmp(a, "--max-events") == 0 || strcmp(a, "--until-idle-ms") == 0 ||
                   strcmp(a, "--heartbeat-ms") == 0) {
            long *n = a[2] == 'm'   ? &o->max_events
                      : a[2] == 'u' ? &o->until_idle_ms
                                    : &o->heartbeat_ms;
            if (parse_count(a, next, n) != 0)
                return -1;
            i++;
        } else {
            fprintf(stderr, PROG ": unknown argument '%s' (see --help)\n", a);
            return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    agent_cli_t cli;
    observer_opts_t o = {.prog = PROG};
    bool lines = false;
    int n = agent_cli_parse(&cli, PROG, argc, argv);
    int own = n < 0 ? -1 : parse_own(n, argv, &o, &lines);
    if (own != 0) {
        if (own > 0)
            usage(stdout);
        return own > 0 ? AGENT_EXIT_OK : AGENT_EXIT_USAGE;
    }
    o.table = !lines && isatty(STDOUT_FILENO);
    int rc;
    agent_cli_on_signal(NULL);
    collab_client_t *c = agent_cli_connect(&cli, PROG, &rc);
    if (!c)
        return rc;
    rc = observer_run(c, &o);
    collab_client_destroy(&c);
    zsys_shutdown();
    return rc;
}
