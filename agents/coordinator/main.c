/*  main.c: collab-coordinator. Reads a scenario, waits for capable workers, creates the
    projects, assigns each task to a registered worker with the task's capability
    (spreading the load), reassigns tasks whose worker has gone silent, closes each project
    when its tasks are done, and prints a summary. Exits 0 only if every task completed. */
#include "agent_cli.h"
#include "coordinator.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

static void usage(void)
{
    printf("usage: collab-coordinator [common options] [--scenario FILE] [--silence-ms N]\n"
           "                          [--workers-wait-ms N] [--deadline-ms N]\n"
           "  --scenario FILE      COLLAB_SCENARIO   default sample_data/scenario.json\n"
           "  --silence-ms N       a worker unheard of this long loses its tasks (default 4000)\n"
           "  --workers-wait-ms N  how long to wait for capable workers (default 60000)\n"
           "  --deadline-ms N      give up on the scenario after this long (default 600000)\n"
           "%s",
           agent_cli_help());
}

static int parse_own(coord_t *co, int argc, char **argv)
{
    const char *env = getenv("COLLAB_SCENARIO");
    snprintf(co->scenario_path, sizeof co->scenario_path, "%s",
             env ? env : "sample_data/scenario.json");
    co->silence_ms = 4000;
    co->workers_wait_ms = 60000;
    co->deadline_ms = 600000;
    for (int i = 1; i < argc; i += 2) { /* every option takes one value */
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(argv[i], "--help") == 0) {
            usage();
            exit(0);
        } else if (strcmp(argv[i], "--scenario") == 0 && v) {
            snprintf(co->scenario_path, sizeof co->scenario_path, "%s", v);
        } else if (strcmp(argv[i], "--silence-ms") == 0 && v) {
            co->silence_ms = atol(v);
        } else if (strcmp(argv[i], "--workers-wait-ms") == 0 && v) {
            co->workers_wait_ms = atol(v);
        } else if (strcmp(argv[i], "--deadline-ms") == 0 && v) {
            co->deadline_ms = atol(v);
        } else {
            fprintf(stderr, "collab-coordinator: unknown or incomplete option '%s'\n", argv[i]);
            return -1;
        }
    }
    if (co->silence_ms < 100 || co->workers_wait_ms < 0 || co->deadline_ms < 1000) {
        fprintf(stderr, "collab-coordinator: --silence-ms >= 100, --deadline-ms >= 1000\n");
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static coord_t co;
    char err[512];
    int code;
    argc = agent_cli_parse(&co.cli, "collab-coordinator", argc, argv);
    if (argc < 0 || parse_own(&co, argc, argv) != 0)
        return AGENT_EXIT_USAGE;
    co.sc = scenario_load(co.scenario_path, err, sizeof err);
    if (!co.sc) {
        fprintf(stderr, "collab-coordinator: %s\n", err);
        return AGENT_EXIT_USAGE;
    }
    agent_cli_on_signal(on_signal);
    co.stopping = &stopping;
    co.c = agent_cli_connect(&co.cli, "collab-coordinator", &code);
    if (!co.c) {
        scenario_destroy(&co.sc);
        return code;
    }
    code = coord_run(&co);
    coord_print_summary(&co, stdout);
    collab_reply_t r;
    collab_client_set_timeout(co.c, 500, 0); /* do not linger on a broker that is gone */
    if (collab_client_request(co.c, "logout", NULL, 0, &r) == 0)
        collab_reply_free(&r);
    collab_client_destroy(&co.c);
    scenario_destroy(&co.sc);
    return code;
}
