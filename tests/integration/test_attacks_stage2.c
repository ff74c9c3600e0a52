/*  test_attacks_stage2.c: every attack of LAB.md against a live stage2 broker, each with a
    fresh broker and state: collab-attack must report SUCCEEDED, and the evidence is checked
    independently through the broker (the duplicate project exists, the demoted agent's
    project was created, the observer's change happened, ...). Also: the defaults found
    through the source tree (any working folder), ERROR (never BLOCKED) when an attack
    cannot run, decided_by, and enumerate-agents against the lab's cost-12 hashes. The wire
    attacks need a capture on lo (root or CAP_NET_RAW): where that is not possible they are
    reported as skipped, never as passed. */
#include "agentproc.h"
#include "itest.h"

#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *broker_exe, *creds, *attack_exe, *sample;
static char pwdir[300];
static bool can_capture;

/*  The password files the victims get, one per test agent. */
static void write_passwords(const char *dir)
{
    static const char *const agents[] = {"admin",   "coordinator1", "coordinator2", "worker1",
                                         "worker2", "worker3",      "viewer1",      "viewer2"};
    snprintf(pwdir, sizeof pwdir, "%s/pw", dir);
    mkdir(pwdir, 0700);
    for (size_t i = 0; i < sizeof agents / sizeof agents[0]; i++) {
        char path[400];
        snprintf(path, sizeof path, "%s/%s.pw", pwdir, agents[i]);
        FILE *f = fopen(path, "w");
        if (f) {
            fprintf(f, "%s\n", it_password(agents[i]));
            fclose(f);
        }
    }
}

/*  Runs one attack against b; returns its exit code, its output in *p. */
static int run(broker_proc_t *b, agent_proc_t *p, const char *attack, const char *const *extra)
{
    char *argv[40];
    char state[400], log[400], own_pw[400];
    int n = 0;
    argv[n++] = (char *)attack_exe;
    argv[n++] = (char *)attack;
    argv[n++] = "--broker";
    argv[n++] = b->endpoint;
    argv[n++] = "--victim-passwords";
    argv[n++] = pwdir;
    argv[n++] = "--victim-credentials";
    argv[n++] = (char *)creds;
    argv[n++] = "--credentials";
    argv[n++] = (char *)creds;
    snprintf(state, sizeof state, "%s", b->state);
    snprintf(log, sizeof log, "%s", b->seclog);
    for (int i = 0; extra && extra[i] && n < 36; i++) {
        const char *a = extra[i];
        if (strcmp(a, "@state") == 0)
            a = state;
        else if (strcmp(a, "@log") == 0)
            a = log;
        else if (strncmp(a, "@pw:", 4) == 0) {
            snprintf(own_pw, sizeof own_pw, "%s/%s.pw", pwdir, a + 4);
            a = own_pw;
        }
        argv[n++] = (char *)a;
    }
    argv[n] = NULL;
    if (agent_spawn(p, argv) != 0)
        return -1;
    return agent_wait_exit(p, 60000);
}

/*  Runs collab-attack with exactly these arguments (no victim or credential options: the
    defaults apply) from working folder cwd; returns its exit code. */
static int run_bare(agent_proc_t *p, const char *cwd, const char *const *args)
{
    char *argv[32], here[PATH_MAX];
    int n = 0;
    argv[n++] = (char *)attack_exe;
    for (int i = 0; args[i] && n < 31; i++)
        argv[n++] = (char *)args[i];
    argv[n] = NULL;
    if (!getcwd(here, sizeof here) || chdir(cwd) != 0)
        return -1;
    int rc = agent_spawn(p, argv);
    if (chdir(here) != 0 || rc != 0)
        return -1;
    return agent_wait_exit(p, 60000);
}

static bool fresh(broker_proc_t *b, const char *const *extra)
{
    return broker_init(b, broker_exe, creds) == 0 && broker_start(b, extra) == 0;
}

static void expect_success(agent_proc_t *p, int rc, const char *attack)
{
    if (!CHECK(rc == 0) || !CHECK(strstr(p->buf, "SUCCEEDED: ") != NULL))
        fprintf(stderr, "%s output:\n%s\n", attack, p->buf);
}

static void test_replay_and_tamper(void)
{
    it_begin("replay and tamper");
    if (!can_capture) {
        fprintf(stderr, "SKIPPED replay/tamper: cannot capture on lo here\n");
        return;
    }
    broker_proc_t b;
    agent_proc_t p;
    if (!CHECK(fresh(&b, NULL)))
        return;
    expect_success(&p, run(&b, &p, "replay", NULL), "replay");
    collab_client_t *c = it_client(&b, "admin", true);
    CHECK_EQ_U64(it_project_total(c), 2); /* the victim's project and its replayed twin */
    collab_client_destroy(&c);
    broker_cleanup(&b);

    if (!CHECK(fresh(&b, NULL)))
        return;
    expect_success(&p, run(&b, &p, "tamper", NULL), "tamper");
    c = it_client(&b, "admin", true);
    CHECK_EQ_U64(it_project_total(c), 0); /* closed, then deleted by the tampered request */
    collab_client_destroy(&c);
    broker_cleanup(&b);
}

/*  A strong replay control refuses the captured request, and --json names it. */
static void test_replay_blocked(void)
{
    it_begin("replay blocked by the replay control, decided_by");
    if (!can_capture) {
        fprintf(stderr, "SKIPPED replay (strong): cannot capture on lo here\n");
        return;
    }
    broker_proc_t b;
    agent_proc_t p;
    const char *strong[] = {"--set", "replay=strong", NULL};
    if (!CHECK(fresh(&b, strong)))
        return;
    int rc = run(&b, &p, "replay", (const char *const[]){"--json", NULL});
    if (!CHECK(rc == 10) || !CHECK(strstr(p.buf, "\"verdict\":\"BLOCKED\"") != NULL) ||
        !CHECK(strstr(p.buf, "\"decided_by\":\"replay\"") != NULL))
        fprintf(stderr, "replay (strong) output:\n%s\n", p.buf);
    collab_client_t *c = it_client(&b, "admin", true);
    CHECK_EQ_U64(it_project_total(c), 1); /* the victim's own project only */
    collab_client_destroy(&c);
    broker_cleanup(&b);
}

static void test_wire_reads(void)
{
    it_begin("sniff, hijack, predict-session");
    if (!can_capture) {
        fprintf(stderr, "SKIPPED sniff/hijack/predict-session: cannot capture on lo here\n");
        return;
    }
    broker_proc_t b;
    agent_proc_t p;
    if (!CHECK(fresh(&b, NULL)))
        return;
    expect_success(&p, run(&b, &p, "sniff", NULL), "sniff");
    CHECK(strstr(p.buf, "password 'coord123'") != NULL);
    expect_success(&p, run(&b, &p, "hijack", (const char *const[]){"--source", "127.0.0.2", NULL}),
                   "hijack");
    CHECK(broker_seclog_count(&b, "peer_mismatch_warning") >= 1);
    broker_cleanup(&b);
    if (!CHECK(fresh(&b, NULL)))
        return;
    expect_success(&p, run(&b, &p, "predict-session", NULL), "predict-session");
    CHECK(strstr(p.buf, "predicted coordinator1's next session id") != NULL);
    broker_cleanup(&b);
}

static void test_sessions(void)
{
    it_begin("session-forever, concurrent-sessions, steal-state");
    broker_proc_t b;
    agent_proc_t p;
    const char *short_life[] = {"--set", "session_lifetime.max_s=2", "--set",
                                "sessions.idle_timeout_s=1", NULL};
    if (!CHECK(fresh(&b, short_life)))
        return;
    expect_success(&p,
                   run(&b, &p, "session-forever",
                       (const char *const[]){"--agent", "worker3", "--password-file", "@pw:worker3",
                                             "--lifetime-s", "2", NULL}),
                   "session-forever");
    broker_cleanup(&b);
    if (!CHECK(fresh(&b, NULL)))
        return;
    expect_success(&p,
                   run(&b, &p, "concurrent-sessions",
                       (const char *const[]){"--agent", "worker2", "--password-file", "@pw:worker2",
                                             "--sessions", "3", NULL}),
                   "concurrent-sessions");
    expect_success(&p, run(&b, &p, "steal-state", (const char *const[]){"--state", "@state", NULL}),
                   "steal-state");
    CHECK(strstr(p.buf, "coordinator1") != NULL);
    broker_cleanup(&b);
}

static void test_authz(void)
{
    it_begin("stale-permissions, weak-role");
    broker_proc_t b;
    agent_proc_t p;
    if (!CHECK(fresh(&b, NULL)))
        return;
    expect_success(&p,
                   run(&b, &p, "stale-permissions",
                       (const char *const[]){"--agent", "coordinator2", "--password-file",
                                             "@pw:coordinator2", NULL}),
                   "stale-permissions");
    collab_client_t *c = it_client(&b, "admin", true);
    collab_reply_t r;
    collab_map_t project;
    CHECK(it_call(c, &r, "list_projects", NULL) == 0);
    CHECK(it_find_in_array(&r.map, "projects", "owner", "coordinator2", &project) == 0);
    collab_reply_free(&r);
    expect_success(
        &p,
        run(&b, &p, "weak-role",
            (const char *const[]){"--agent", "viewer2", "--password-file", "@pw:viewer2", NULL}),
        "weak-role");
    collab_client_destroy(&c);
    broker_cleanup(&b);
}

/*  A number that is no number, or out of its range, is a usage error that names the option
    before anything is attempted (no broker runs here). */
static void test_bad_numbers(void)
{
    it_begin("numeric options are checked");
    static const char *const cases[][3] = {
        {"flood", "--flood-count", "12x"},         {"flood", "--flood-conns", "0"},
        {"flood", "--flood-conns", "17"},          {"concurrent-sessions", "--sessions", "64"},
        {"session-forever", "--lifetime-s", "-1"}, {"session-forever", "--lifetime-s", ""}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        static agent_proc_t p;
        memset(&p, 0, sizeof p);
        char *argv[] = {(char *)attack_exe,  (char *)cases[i][0], "--broker", "tcp://127.0.0.1:1",
                        (char *)cases[i][1], (char *)cases[i][2], NULL};
        int rc = agent_spawn(&p, argv) == 0 ? agent_wait_exit(&p, 10000) : -1;
        if (!CHECK(rc == 2) || !CHECK(strstr(p.buf, cases[i][1] + 2) != NULL) ||
            !CHECK(strstr(p.buf, "is not a number in") != NULL))
            fprintf(stderr, "%s %s '%s':\n%s\n", cases[i][0], cases[i][1], cases[i][2], p.buf);
    }
}

static void test_abuse(void)
{
    it_begin("flood, brute-force, terminal-injection, cover-tracks");
    broker_proc_t b;
    agent_proc_t p;
    char wordlist[400];
    snprintf(wordlist, sizeof wordlist, "%s/wordlist.txt", sample);
    if (!CHECK(fresh(&b, NULL)))
        return;
    expect_success(&p,
                   run(&b, &p, "flood",
                       (const char *const[]){"--agent", "viewer2", "--password-file", "@pw:viewer2",
                                             "--source", "127.0.0.2", "--flood-count", "300",
                                             "--flood-conns", "3", NULL}),
                   "flood");
    expect_success(
        &p,
        run(&b, &p, "brute-force",
            (const char *const[]){"--wordlist", wordlist, "--brute-agent", "viewer1", NULL}),
        "brute-force");
    CHECK(strstr(p.buf, "'viewer123' (attempt 6") != NULL);
    expect_success(
        &p,
        run(&b, &p, "terminal-injection",
            (const char *const[]){"--agent", "worker1", "--password-file", "@pw:worker1", NULL}),
        "terminal-injection");
    int failed_before = broker_seclog_count(&b, "\"login_failed\"");
    expect_success(
        &p, run(&b, &p, "cover-tracks", (const char *const[]){"--security-log", "@log", NULL}),
        "cover-tracks");
    /* the log now holds fewer failed logins than before the attack added three */
    CHECK(broker_seclog_count(&b, "\"login_failed\"") < failed_before + 3);
    broker_cleanup(&b);
}

/*  From another working folder, without victim options: the victims get the demo
    passwords of the source tree (the demo agents' passwords are the test ones). */
static void test_defaults(void)
{
    it_begin("defaults through the source tree, passwords file");
    if (!can_capture) {
        fprintf(stderr, "SKIPPED defaults (sniff): cannot capture on lo here\n");
        return;
    }
    broker_proc_t b;
    agent_proc_t p;
    char pwfile[400];
    snprintf(pwfile, sizeof pwfile, "%s/test_passwords.txt", sample);
    if (!CHECK(fresh(&b, NULL)))
        return;
    int rc = run_bare(&p, "/", (const char *const[]){"sniff", "--broker", b.endpoint, NULL});
    expect_success(&p, rc, "sniff with the defaults");
    CHECK(strstr(p.buf, "password 'coord123'") != NULL);
    /* a file of "agent password" lines: the observer gets its password through
       collab-victim --exec, and the attack still succeeds */
    expect_success(&p,
                   run(&b, &p, "terminal-injection",
                       (const char *const[]){"--agent", "worker1", "--password-file", "@pw:worker1",
                                             "--victim-passwords", pwfile, NULL}),
                   "terminal-injection with a passwords file");
    broker_cleanup(&b);
}

/*  An attack that cannot run says ERROR (exit 1), never BLOCKED, and does nothing. */
static void test_errors(void)
{
    it_begin("ERROR when an attack cannot run");
    broker_proc_t b;
    agent_proc_t p;
    if (!CHECK(fresh(&b, NULL)))
        return;
    int rc = run(&b, &p, "stale-permissions",
                 (const char *const[]){"--agent", "coordinator2", "--password", "not-its-password",
                                       "--json", NULL});
    if (!CHECK(rc == 1) || !CHECK(strstr(p.buf, "\"verdict\":\"ERROR\"") != NULL) ||
        !CHECK(strstr(p.buf, "could not log in") != NULL) ||
        !CHECK(strstr(p.buf, "\"decided_by\":null") != NULL))
        fprintf(stderr, "stale-permissions (wrong password) output:\n%s\n", p.buf);
    collab_client_t *c = it_client(&b, "coordinator2", true); /* never demoted */
    CHECK(c && strcmp(collab_client_role(c), "coordinator") == 0);
    collab_client_destroy(&c);
    if (can_capture) { /* a victim that cannot start: ERROR with the reason and a hint */
        rc = run(&b, &p, "replay",
                 (const char *const[]){"--victim-passwords", "/nonexistent/passwords.txt",
                                       "--timeout-ms", "300", NULL});
        if (!CHECK(rc == 1) || !CHECK(strstr(p.buf, "ERROR: no signed create_project") != NULL) ||
            !CHECK(strstr(p.buf, "cannot read the passwords file") != NULL) ||
            !CHECK(strstr(p.buf, "pass --victim-passwords") != NULL))
            fprintf(stderr, "replay (no victim) output:\n%s\n", p.buf);
    }
    broker_cleanup(&b);
    /* nothing listens (port 1 is never an ephemeral port): ERROR, not BLOCKED */
    rc = run_bare(&p, "/",
                  (const char *const[]){"brute-force", "--broker", "tcp://127.0.0.1:1",
                                        "--timeout-ms", "300", NULL});
    if (!CHECK(rc == 1) || !CHECK(strstr(p.buf, "ERROR: ") != NULL))
        fprintf(stderr, "brute-force (no broker) output:\n%s\n", p.buf);
    /* candidates that are no agent ids: a usage error before anything is sent */
    static const char *const bad[] = {"a;b", "a,,b", "a,", ""};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        rc = run_bare(&p, "/",
                      (const char *const[]){"enumerate-agents", "--broker", "tcp://127.0.0.1:1",
                                            "--candidates", bad[i], NULL});
        if (!CHECK(rc == 2) || !CHECK(strstr(p.buf, "--candidates: ") != NULL))
            fprintf(stderr, "--candidates '%s':\n%s\n", bad[i], p.buf);
    }
}

/*  enumerate-agents against the lab's cost-12 hashes: the timing names exactly the agents
    under stage2; the strong login control (or CURVE) leaves nothing to tell apart. */
static void test_enumerate(void)
{
    it_begin("enumerate-agents");
    broker_proc_t b;
    agent_proc_t p;
    char valid[400], cert[400], clients[400];
    snprintf(valid, sizeof valid, "%s/valid_credentials.json", sample);
    const char *args[] = {"enumerate-agents", "--broker", NULL, "--json", NULL};
    /* every failed login in full (past 20 a minute they are counted, without their reason) */
    const char *all_lines[] = {"--set", "security_log.failed_login_lines=1000", NULL};
    if (!CHECK(broker_init(&b, broker_exe, valid) == 0 && broker_start(&b, all_lines) == 0))
        return;
    args[2] = b.endpoint;
    int rc = run_bare(&p, "/", args);
    if (!CHECK(rc == 0) || !CHECK(strstr(p.buf, "agents that exist: admin (median ") != NULL) ||
        !CHECK(strstr(p.buf, "), coordinator1 (median ") != NULL) ||
        !CHECK(strstr(p.buf, "), worker1 (median ") != NULL) ||
        !CHECK(strstr(p.buf, "no sign of: root, guest;") != NULL))
        fprintf(stderr, "enumerate-agents (stage2) output:\n%s\n", p.buf);
    /* the broker's own account: 3 tries of root and guest, 2 random ids per round */
    CHECK(broker_seclog_count(&b, "unknown_agent") == 12);
    broker_cleanup(&b);

    const char *strong[] = {"--set", "login=strong", NULL};
    if (!CHECK(broker_init(&b, broker_exe, valid) == 0 && broker_start(&b, strong) == 0))
        return;
    args[2] = b.endpoint;
    rc = run_bare(&p, "/", args);
    if (!CHECK(rc == 10) ||
        !CHECK(strstr(p.buf, "nothing distinguishes the 5 candidates") != NULL) ||
        !CHECK(strstr(p.buf, "\"decided_by\":\"login\"") != NULL))
        fprintf(stderr, "enumerate-agents (login strong) output:\n%s\n", p.buf);
    broker_cleanup(&b);

    snprintf(cert, sizeof cert, "transport.server_cert=%s/curve/broker.cert", sample);
    snprintf(clients, sizeof clients, "transport.clients_dir=%s/curve/clients", sample);
    const char *curve[] = {"--set", "transport=strong", "--set", cert, "--set", clients, NULL};
    if (!CHECK(broker_init(&b, broker_exe, valid) == 0 && broker_start(&b, curve) == 0))
        return;
    args[2] = b.endpoint;
    rc = run_bare(&p, "/", args);
    if (!CHECK(rc == 10) || !CHECK(strstr(p.buf, "\"decided_by\":\"transport\"") != NULL))
        fprintf(stderr, "enumerate-agents (CURVE) output:\n%s\n", p.buf);
    broker_cleanup(&b);
}

int main(int argc, char **argv)
{
    if (argc < 5)
        return 2;
    broker_exe = argv[1];
    creds = argv[2];
    attack_exe = argv[3];
    sample = argv[4];
    char dir[] = "/tmp/collab-attacks-XXXXXX";
    if (!mkdtemp(dir))
        return 2;
    write_passwords(dir);
    can_capture = geteuid() == 0; /* libpcap on lo needs root (or CAP_NET_RAW) */
    test_bad_numbers();
    test_sessions();
    test_authz();
    test_abuse();
    test_replay_and_tamper();
    test_replay_blocked();
    test_wire_reads();
    test_defaults();
    test_errors();
    test_enumerate();
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return it_exit("test_attacks_stage2");
}
