/*  main.c: collab-coordinator. Reads a scenario, waits for capable workers, creates the
    projects, assigns each task to a registered worker with the task's capability
    (spreading the load), reassigns tasks whose worker has gone silent, closes each project
    when its tasks are done, and prints a summary; with --rounds, again with fresh project
    names, until stopped. Exits 0 only if every task completed (128+signal when SIGINT or
    SIGTERM cut the first round short). */
#include "agent_cli.h"
#include "agent_stop.h"
#include "collab_text.h"
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

#ifndef COLLAB_SOURCE_DIR
#define COLLAB_SOURCE_DIR "."
#endif

static void usage(void)
{
    printf("usage: collab-coordinator [common options] [--scenario FILE] [--silence-ms N]\n"
           "                          [--workers-wait-ms N] [--deadline-ms N]\n"
           "                          [--rounds N|forever] [--round-pause-ms N]\n"
           "  --scenario FILE      COLLAB_SCENARIO   default " COLLAB_SOURCE_DIR
           "/sample_data/scenario.json\n"
           "  --silence-ms N       a worker unheard of this long loses its tasks (default 4000)\n"
           "  --workers-wait-ms N  how long to wait for capable workers (default 60000)\n"
           "  --deadline-ms N      give up on a round after this long (default 600000)\n"
           "  --rounds N|forever   run the scenario N times (default 1), or until stopped\n"
           "                       (SIGINT/SIGTERM), with fresh project names each round and\n"
           "                       one session kept open throughout; each round first deletes\n"
           "                       the last round's projects (the broker's quota)\n"
           "  --round-pause-ms N   the pause between two rounds (default 3000)\n"
           "%s",
           agent_cli_help());
}

/*  A number option's value within [min, max], or -1 after saying why. */
static int number(const char *flag, const char *v, long min, long max, long *out)
{
    if (collab_parse_long(v, min, max, out) == 0)
        return 0;
    fprintf(stderr, "collab-coordinator: %s: '%s' is not a number in %ld..%ld\n", flag, v, min,
            max);
    return -1;
}

static int parse_own(coord_t *co, int argc, char **argv)
{
    const char *env = getenv("COLLAB_SCENARIO");
    snprintf(co->scenario_path, sizeof co->scenario_path, "%s",
             env ? env : COLLAB_SOURCE_DIR "/sample_data/scenario.json");
    co->silence_ms = 4000;
    co->workers_wait_ms = 60000;
    co->deadline_ms = 600000;
    co->rounds = 1;
    co->round_pause_ms = 3000;
    for (int i = 1; i < argc; i += 2) { /* every option takes one value */
        const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int rc = 0;
        if (strcmp(k, "--help") == 0 || strcmp(k, "-h") == 0) {
            usage();
            exit(0);
        } else if (!v) {
            fprintf(stderr, "collab-coordinator: unknown or incomplete option '%s'\n", k);
            return -1;
        } else if (strcmp(k, "--scenario") == 0) {
            snprintf(co->scenario_path, sizeof co->scenario_path, "%s", v);
        } else if (strcmp(k, "--silence-ms") == 0) {
            rc = number(k, v, 100, 86400000, &co->silence_ms);
        } else if (strcmp(k, "--workers-wait-ms") == 0) {
            rc = number(k, v, 0, 86400000, &co->workers_wait_ms);
        } else if (strcmp(k, "--deadline-ms") == 0) {
            rc = number(k, v, 1000, 86400000, &co->deadline_ms);
        } else if (strcmp(k, "--rounds") == 0) {
            co->rounds = 0; /* forever */
            if (strcmp(v, "forever") != 0)
                rc = number(k, v, 1, 1000000, &co->rounds);
        } else if (strcmp(k, "--round-pause-ms") == 0) {
            rc = number(k, v, 0, 86400000, &co->round_pause_ms);
        } else {
            fprintf(stderr, "collab-coordinator: unknown option '%s'\n", k);
            return -1;
        }
        if (rc)
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
    if (stopping && code != AGENT_EXIT_OK)
        code = agent_stop_exit_code(code); /* a round cut short by the signal */
    collab_client_logout(co.c);
    collab_client_destroy(&co.c);
    scenario_destroy(&co.sc);
    return code;
}
