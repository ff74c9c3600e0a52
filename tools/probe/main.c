/*  main.c: collab-probe, one subcommand per Stage 2 improvement of the seed that no other
    command shows. Parses the options, finds the lab's files through the source tree it was
    built from, refuses targets outside loopback and the test namespaces, runs the probe. */
#include "agent_stop.h"
#include "probe.h"

#include <czmq.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef COLLAB_SOURCE_DIR
#define COLLAB_SOURCE_DIR "."
#endif

typedef struct {
    const char *name;
    probe_fn fn;
    const char *agent; /* the demo agent it logs in as by default (one with the role needed) */
    const char *shows;
} probe_row_t;

static const probe_row_t probes[] = {
    {"idle-timeout", probe_idle_timeout, "viewer1",
     "an idle session expires (session_expired) and a new login works. Starts its own broker\n"
     "      (--broker-exe, ephemeral port, sessions.idle_timeout_s = 2, stage2) in a temporary\n"
     "      directory it removes; --broker and the CURVE options are not used"},
    {"session-validation", probe_session_validation, "coordinator1",
     "a made-up session id (same shape as a real one) gets session_invalid, a malformed one\n"
     "      limit, and neither reaches the handler the real session reaches"},
    {"logout", probe_logout, "viewer1", "after logout the same session id gets session_invalid"},
    {"state-validation", probe_state_validation, "coordinator1",
     "a forbidden task transition gets conflict; an unknown status bad_request naming the\n"
     "      field. Under hardened (strong roles) cancelled->assigned is the assignee's and gets\n"
     "      forbidden first, so the probe shows cancelled->cancelled instead"},
    {"size-limits", probe_size_limits, "coordinator1",
     "a 201-code-point project name gets limit naming the field and the limit (200); 200 is\n"
     "      accepted (and deleted)"},
    {"timestamp", probe_timestamp, "coordinator1",
     "a signed request stamped outside the window gets stale_timestamp (past and future), one\n"
     "      inside is accepted. stage2: +-30 min, accepted 15 min old; hardened: +-60 s, accepted\n"
     "      stamped now (replay protection refuses times before the broker started)"},
    {"wrong-key", probe_wrong_key, "coordinator1",
     "a request signed with a wrong key gets bad_signature; the agent's own key is accepted"},
    {"input-validation", probe_input_validation, "coordinator1",
     "a name of the wrong type gets field_type, an empty one limit, a task for an agent that is\n"
     "      no worker bad_request, each naming the field"},
    {"error-messages", probe_error_messages, "coordinator1",
     "a missing field gets field_missing naming it (create_project name, get_project\n"
     "      project_id)"},
};

static void usage(FILE *out)
{
    fprintf(out, "usage: collab-probe PROBE [options]\n"
                 "Shows one Stage 2 improvement with real requests; prints one line, HOLDS or "
                 "FAILS, with its evidence.\nprobes (default agent):\n");
    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++)
        fprintf(out, "  %s (%s)\n      %s\n", probes[i].name, probes[i].agent, probes[i].shows);
    fprintf(
        out,
        "Each probe cleans up what it creates, so it gives the same verdict on every run, against\n"
        "the live swarm too. Outcomes are the same under stage2 and hardened except where said.\n"
        "options:\n"
        "  --broker tcp://HOST:PORT   default tcp://127.0.0.1:5555; loopback or the project's "
        "test\n"
        "                             namespaces (10.231.0.0/16) unless --target-is-mine\n"
        "  --agent ID                 the agent to log in as (default: the probe's, above)\n"
        "  --password PW | --password-file F   its password; default: its line in --passwords\n"
        "  --passwords F              \"agent password\" lines (default "
        "%s/sample_data/demo_passwords.txt)\n"
        "  --credentials F            its key (default %s/sample_data/valid_credentials.json);\n"
        "                             idle-timeout's broker reads this file too; or --key-file F\n"
        "  --curve-server-key K --curve-cert F   CURVE, for a broker with transport = strong\n"
        "  --curve-dir DIR            the same from DIR/broker.cert and DIR/AGENT.cert_secret\n"
        "                             (the agent's own), e.g. sample_data/curve\n"
        "  --worker ID                state-validation: the task's assignee (default worker1)\n"
        "  --window-s N               timestamp: the window to check (default: the one the\n"
        "                             login reply announces; e.g. 1800 checks the seed's claim)\n"
        "  --broker-exe PATH          idle-timeout: default collab-broker of the probe's build\n"
        "  --timeout-ms N (3000), --login-timeout-ms N (5000), --retries N (0), --json\n"
        "exit: 0 HOLDS, 1 FAILS, 2 usage, 3 broker unreachable, 4 login refused, 5 the probe "
        "could\n"
        "not run a step of its own (ERROR: why); SIGINT/SIGTERM stop it within 2 s, its\n"
        "private broker too: 128+signal (130, 143)\n",
        COLLAB_SOURCE_DIR, COLLAB_SOURCE_DIR);
}

static int check_target(const char *endpoint, bool mine)
{
    char host[128];
    int port;
    return lab_target_parse("collab-probe", endpoint, mine, host, sizeof host, &port);
}

/*  The agent's password from a file of "agent password" lines ('#' comments). */
static int password_from(const char *path, const char *agent, char *out, size_t cap)
{
    char line[512], id[COLLAB_MAX_AGENT_ID + 2], pw[COLLAB_PASSWORD_MAX + 2];
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "collab-probe: cannot read passwords file %s\n", path);
        return -1;
    }
    int rc = -1;
    while (rc != 0 && fgets(line, sizeof line, f))
        if (line[0] != '#' && sscanf(line, "%65s %257s", id, pw) == 2 && strcmp(id, agent) == 0 &&
            strlen(pw) < cap) {
            snprintf(out, cap, "%s", pw);
            rc = 0;
        }
    fclose(f);
    if (rc)
        fprintf(stderr, "collab-probe: no password for %s in %s\n", agent, path);
    return rc;
}

static int set_path(char *dst, size_t cap, const char *flag, const char *val)
{
    if (strlen(val) >= cap) {
        fprintf(stderr, "collab-probe: --%s: longer than %zu bytes\n", flag, cap - 1);
        return -1;
    }
    snprintf(dst, cap, "%s", val);
    return 0;
}

/*  The probe's own options (the common agent options were taken out before). */
static int parse(int argc, char **argv, probe_opts_t *o, char *passwords, size_t cap, bool *mine,
                 char *curve_dir, size_t dcap)
{
    static const struct option longs[] = {{"passwords", 1, 0, 'P'},      {"worker", 1, 0, 'w'},
                                          {"window-s", 1, 0, 'W'},       {"broker-exe", 1, 0, 'x'},
                                          {"target-is-mine", 0, 0, 'M'}, {"curve-dir", 1, 0, 'D'},
                                          {"help", 0, 0, 'h'},           {0, 0, 0, 0}};
    int c, index = 0;
    long n;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longs, &index)) != -1) {
        const char *flag = longs[index].name;
        if ((c == 'P' && set_path(passwords, cap, flag, optarg) != 0) ||
            (c == 'w' && set_path(o->worker, sizeof o->worker, flag, optarg) != 0) ||
            (c == 'x' && set_path(o->broker_exe, sizeof o->broker_exe, flag, optarg) != 0) ||
            (c == 'D' && set_path(curve_dir, dcap, flag, optarg) != 0))
            return -1;
        if (c == 'W') {
            if (collab_parse_long(optarg, 1, 31536000, &n) != 0) {
                fprintf(stderr, "collab-probe: --window-s: '%s' is not a number in 1..31536000\n",
                        optarg);
                return -1;
            }
            o->window_s = (uint32_t)n;
        } else if (c == 'M') {
            *mine = true;
        } else if (c == 'h') {
            usage(stdout);
            exit(0);
        } else if (c == '?') {
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "collab-probe: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    return 0;
}

/*  Fills what was not given: the probe's agent, its password and key, short timeouts (a
    broker that is down is reported within ~5 s), the broker binary beside this build. */
static int defaults(probe_opts_t *o, const probe_row_t *row, const char *passwords,
                    bool retries_set, const char *self_dir, const char *curve_dir)
{
    agent_cli_t *cli = &o->cli;
    if (!cli->agent_id[0])
        snprintf(cli->agent_id, sizeof cli->agent_id, "%s", row->agent);
    if (curve_dir[0] && !cli->curve_server[0])
        snprintf(cli->curve_server, sizeof cli->curve_server, "%.400s/broker.cert", curve_dir);
    if (curve_dir[0] && !cli->curve_cert[0])
        snprintf(cli->curve_cert, sizeof cli->curve_cert, "%.400s/%s.cert_secret", curve_dir,
                 cli->agent_id);
    if (!cli->credentials[0])
        snprintf(cli->credentials, sizeof cli->credentials, "%s/sample_data/valid_credentials.json",
                 COLLAB_SOURCE_DIR);
    if (!retries_set)
        cli->retries = 0;
    if (!cli->login_timeout_ms)
        cli->login_timeout_ms = 5000;
    if (!o->worker[0])
        snprintf(o->worker, sizeof o->worker, "worker1");
    if (!o->broker_exe[0])
        snprintf(o->broker_exe, sizeof o->broker_exe, "%.400s/../../broker/collab-broker",
                 self_dir);
    if (cli->password[0] || cli->password_file[0])
        return 0;
    return password_from(passwords, cli->agent_id, cli->password, sizeof cli->password);
}

static const probe_row_t *find(const char *name)
{
    for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++)
        if (strcmp(name, probes[i].name) == 0)
            return &probes[i];
    return NULL;
}

int main(int argc, char **argv)
{
    static probe_opts_t o;
    char self[PATH_MAX], passwords[512], curve_dir[400] = "";
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    self[len > 0 ? len : 0] = '\0';
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? PROBE_USAGE : 0;
    }
    const probe_row_t *row = find(argv[1]);
    if (!row) {
        fprintf(stderr, "collab-probe: unknown probe '%s' (collab-probe --help lists them)\n",
                argv[1]);
        return PROBE_USAGE;
    }
    bool retries_set = getenv("COLLAB_RETRIES") != NULL, mine = false;
    for (int i = 2; i < argc; i++)
        retries_set = retries_set || strcmp(argv[i], "--retries") == 0;
    snprintf(passwords, sizeof passwords, "%s/sample_data/demo_passwords.txt", COLLAB_SOURCE_DIR);
    int rest = agent_cli_parse(&o.cli, "collab-probe", argc - 1, argv + 1);
    if (rest < 0 ||
        parse(rest, argv + 1, &o, passwords, sizeof passwords, &mine, curve_dir,
              sizeof curve_dir) != 0 ||
        check_target(o.cli.endpoint, mine) != 0 ||
        defaults(&o, row, passwords, retries_set, dirname(self), curve_dir) != 0)
        return PROBE_USAGE;
    o.json = o.cli.json;
    signal(SIGPIPE, SIG_IGN);
    agent_stop_install(NULL); /* a signal ends every wait; the victim/broker child follows */
    fprintf(stderr, "collab-probe %s against %s as %s\n", row->name,
            row->fn == probe_idle_timeout ? "a private broker" : o.cli.endpoint, o.cli.agent_id);
    verdict_t v = {PROBE_ERROR, "no verdict"};
    row->fn(&o, &v);
    int code = verdict_print(row->name, &v, o.json);
    sodium_memzero(o.cli.password, sizeof o.cli.password);
    zsys_shutdown();
    return agent_stop_exit_code(code);
}
