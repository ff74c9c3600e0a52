/*  test_attacks_stage2.c: every attack of LAB.md against a live stage2 broker, each with a
    fresh broker and state: collab-attack must report SUCCEEDED, and the evidence is checked
    independently through the broker (the duplicate project exists, the demoted agent's
    project was created, the observer's change happened, ...). The wire attacks need a
    capture on lo (root or CAP_NET_RAW): where that is not possible they are reported as
    skipped, never as passed. */
#include "agentproc.h"
#include "itest.h"

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
    test_wire_reads();
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return it_exit("test_attacks_stage2");
}
