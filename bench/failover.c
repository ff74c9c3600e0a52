/*  failover.c: the benchmark's failover timer. One agent, through the agents' own client
    library (agents/common, `--broker A,B`), reads in a loop; for each line "PID_A PID_B ..."
    on stdin (the brokers' current process ids, in the order of the endpoint list) it
    kill -9s the broker it is using, right after a successful read, and times from the kill
    to its next successful read, which the library gets from another broker (the lost
    connection, or else a timeout, moves it on; the session is cluster-wide). It prints "failover
   kill=K index=I ms=T reads=N" per kill (I: the endpoint killed), then waits for the next line:
   scripts/bench restarts the killed broker meanwhile. Usage: failover -h */
#include "collab_client.h"
#include "collab_clock.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#define GIVE_UP_MS 30000 /* a kill after which no read succeeds for this long: a failure */

static void usage(FILE *out)
{
    fprintf(out, "usage: failover --broker A,B --creds FILE --agent ID --password PW\n"
                 "                [--timeout-ms N] [--retries N]\n"
                 "  --timeout-ms N   the client's per-attempt timeout (default 3000, the agents'\n"
                 "                   own): a killed broker is noticed when its connection is\n"
                 "                   lost, or else when an attempt times out\n"
                 "  stdin: one line of process ids per kill, in the endpoint order; stdout: one\n"
                 "  result line per kill\n");
}

/*  One read; true when it was answered ok. */
static bool read_once(collab_client_t *c)
{
    static const uint8_t empty_map[] = {0x80};
    collab_reply_t rep;
    memset(&rep, 0, sizeof rep);
    bool ok =
        collab_client_request(c, "list_projects", empty_map, sizeof empty_map, &rep) == 0 && rep.ok;
    collab_reply_free(&rep);
    return ok;
}

/*  The index of the endpoint in use within the list. */
static int current_index(collab_client_t *c, const char *list)
{
    collab_endpoints_t eps;
    char err[128];
    const char *now = collab_client_endpoint(c);
    if (collab_endpoints_parse(list, &eps, err, sizeof err) != 0)
        return -1;
    for (size_t i = 0; i < eps.n; i++)
        if (strcmp(eps.ep[i], now) == 0)
            return (int)i;
    return -1;
}

/*  Reads until one succeeds or GIVE_UP_MS pass; returns the reads made, or -1. */
static long read_until_ok(collab_client_t *c)
{
    int64_t give_up = collab_mono_ns() + (int64_t)GIVE_UP_MS * 1000000;
    long n = 0;
    while (collab_mono_ns() < give_up) {
        n++;
        if (read_once(c))
            return n;
    }
    return -1;
}

static int run(collab_client_t *c, const char *list)
{
    char line[256];
    int kills = 0;
    while (fgets(line, sizeof line, stdin)) {
        long pids[COLLAB_CLIENT_MAX_ENDPOINTS] = {0};
        int npids = 0;
        char *save = NULL;
        for (char *t = strtok_r(line, " \t\n", &save); t && npids < COLLAB_CLIENT_MAX_ENDPOINTS;
             t = strtok_r(NULL, " \t\n", &save))
            pids[npids++] = strtol(t, NULL, 10);
        if (read_until_ok(c) < 0) { /* on a live broker before the kill */
            fprintf(stderr, "failover: no read succeeded before kill %d\n", kills + 1);
            return -1;
        }
        int idx = current_index(c, list);
        if (idx < 0 || idx >= npids || pids[idx] <= 1) {
            fprintf(stderr, "failover: no process id for endpoint %s\n", collab_client_endpoint(c));
            return -1;
        }
        int64_t t0 = collab_mono_ns();
        if (kill((pid_t)pids[idx], SIGKILL) != 0) {
            perror("failover: kill");
            return -1;
        }
        long reads = read_until_ok(c);
        int64_t t1 = collab_mono_ns();
        if (reads < 0) {
            fprintf(stderr, "failover: no read succeeded within %d ms of kill %d\n", GIVE_UP_MS,
                    kills + 1);
            return -1;
        }
        printf("failover kill=%d index=%d ms=%.1f reads=%ld to=%d\n", ++kills, idx,
               (double)(t1 - t0) / 1e6, reads, current_index(c, list));
        fflush(stdout);
    }
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option longs[] = {{"broker", 1, 0, 'b'},     {"creds", 1, 0, 'c'},
                                          {"agent", 1, 0, 'a'},      {"password", 1, 0, 'p'},
                                          {"timeout-ms", 1, 0, 't'}, {"retries", 1, 0, 'r'},
                                          {"help", 0, 0, 'h'},       {0, 0, 0, 0}};
    collab_client_opts_t o = {.timeout_ms = 3000, .retries = 2, .connect_timeout_ms = 5000};
    const char *creds = NULL;
    int ch;
    while ((ch = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        switch (ch) {
        case 'b':
            o.endpoint = optarg;
            break;
        case 'c':
            creds = optarg;
            break;
        case 'a':
            o.agent_id = optarg;
            break;
        case 'p':
            o.password = optarg;
            break;
        case 't':
            o.timeout_ms = atoi(optarg);
            break;
        case 'r':
            o.retries = atoi(optarg);
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!o.endpoint || !creds || !o.agent_id || !o.password || o.timeout_ms < 1 || o.retries < 0 ||
        optind < argc) {
        usage(stderr);
        return 2;
    }
    char err[256];
    if (collab_client_load_key(creds, o.agent_id, o.key, err, sizeof err) != 0) {
        fprintf(stderr, "failover: %s\n", err);
        return 1;
    }
    o.has_key = true;
    o.auto_relogin = true;
    o.login_timeout_ms = 3 * o.timeout_ms;
    collab_client_t *c = collab_client_new(&o);
    int rc = c ? collab_client_login(c) : -1;
    if (rc != 0)
        fprintf(stderr, "failover: login of %s failed: %s\n", o.agent_id, collab_strerror(rc));
    else
        rc = run(c, o.endpoint);
    collab_client_destroy(&c);
    return rc == 0 ? 0 : 1;
}
