/*  test_probe.c: collab-probe against real brokers on ephemeral ports: each probe's verdict
    line, exit code and evidence (the broker's own replies), its cleanup (no project left,
    the same verdict twice), a FAILS path (a broker whose timestamp window is wider than the
    seed's), the hardened profile over CURVE, and usage, unreachable and refused logins.
    The validation probes must HOLDS: the broker's error texts name the field and the limit
    (PROTOCOL.md 9). */
#include "childproc.h"
#include "collab_clock.h"
#include "itest.h"

#include <stdarg.h>
#include <sys/stat.h>

static broker_proc_t B, W, H;
static const char *PROBE, *DATA;
static char OUT[8192], ERR[16384], PWS[600], CURVE[600];

/*  Runs collab-probe NAME with the test credentials against b (NULL: no --broker) and the
    extra NULL-terminated arguments; returns its exit code, stdout in OUT, stderr in ERR. */
static int probe(const broker_proc_t *b, const char *name, ...)
{
    const char *argv[40] = {PROBE, name, "--credentials", B.creds, "--passwords", PWS};
    int n = 6;
    if (b) {
        argv[n++] = "--broker";
        argv[n++] = b->endpoint;
    }
    va_list ap;
    va_start(ap, name);
    for (const char *a; n < 38 && (a = va_arg(ap, const char *)) != NULL;)
        argv[n++] = a;
    va_end(ap);
    argv[n] = NULL;
    child_t c;
    OUT[0] = ERR[0] = '\0';
    if (child_start(&c, argv) != 0)
        return -1;
    int rc = child_wait(&c, 60000);
    snprintf(OUT, sizeof OUT, "%s", c.out ? c.out : "");
    snprintf(ERR, sizeof ERR, "%s", c.err ? c.err : "");
    child_free(&c);
    return rc;
}

static bool has(const char *text, const char *needle)
{
    if (strstr(text, needle))
        return true;
    fprintf(stderr, "  missing \"%s\" in:\n%s\n", needle, text);
    return false;
}

/*  The verdict is the one line on stdout, and the exit code goes with it. */
static void expect(int rc, bool holds)
{
    CHECK_EQ_INT(rc, holds ? 0 : 1);
    if (OUT[0] == '{')
        CHECK(has(OUT, holds ? "\"verdict\":\"HOLDS\"" : "\"verdict\":\"FAILS\""));
    else
        CHECK(has(OUT, holds ? "HOLDS: " : "FAILS: "));
    CHECK(strchr(OUT, '\n') == OUT + strlen(OUT) - 1);
}

static void test_usage(void)
{
    it_begin("usage");
    CHECK_EQ_INT(probe(NULL, "--help", NULL), 0);
    CHECK(has(OUT, "idle-timeout") && has(OUT, "error-messages"));
    CHECK_EQ_INT(probe(&B, "no-such-probe", NULL), 2);
    CHECK_EQ_INT(probe(NULL, "logout", "--broker", "tcp://192.0.2.1:5555", NULL), 2);
    CHECK(has(ERR, "refusing target"));
    CHECK_EQ_INT(probe(NULL, "logout", "--broker", "notaurl", NULL), 2);
    CHECK_EQ_INT(probe(&B, "timestamp", "--window-s", "abc", NULL), 2);
    CHECK_EQ_INT(probe(&B, "logout", "--agent", "nobody", NULL), 2); /* no password for it */
}

static void test_unreachable_and_refused(void)
{
    it_begin("unreachable_and_refused");
    const char *ep = "tcp://127.0.0.1:1"; /* a privileged port nobody serves (a freed
                                              ephemeral one may be taken at once by another) */
    int64_t t0 = collab_mono_ms();
    CHECK_EQ_INT(probe(NULL, "logout", "--broker", ep, "--login-timeout-ms", "500", NULL), 3);
    CHECK(collab_mono_ms() - t0 < 10000);
    CHECK(has(OUT, "ERROR: "));
    CHECK_EQ_INT(probe(&B, "logout", "--password", "wrong-password", NULL), 4);
    /* a step of the probe's own refused: ERROR (5), never a verdict on the improvement */
    CHECK_EQ_INT(probe(&B, "state-validation", "--worker", "viewer1", NULL), 5);
    CHECK(has(OUT, "ERROR: could not make a project and a task for viewer1: bad_request (45)"));
    CHECK_EQ_INT(probe(&B, "size-limits", "--agent", "viewer1", NULL), 5); /* an observer */
    CHECK(has(OUT, "as viewer1: forbidden (40)"));
    CHECK_EQ_INT(probe(NULL, "idle-timeout", "--broker-exe", "/nonexistent/collab-broker", NULL),
                 5);
    CHECK(has(OUT, "ERROR: cannot start /nonexistent/collab-broker"));
}

static void test_session_probes(void)
{
    it_begin("session_probes");
    expect(probe(&B, "session-validation", NULL), true);
    CHECK(has(OUT, "made-up session id: session_invalid (22)"));
    CHECK(has(OUT, "malformed id \"not a session id\": limit (6)"));
    CHECK(has(OUT, "reached its handler (field_missing (4)"));
    expect(probe(&B, "logout", NULL), true);
    CHECK(has(OUT, "logout ok, then the same id was refused: session_invalid (22)"));
    CHECK(has(ERR, "log in as viewer1"));
}

/*  The projects the broker holds, as coordinator1 sees them. */
static uint64_t projects(void)
{
    collab_client_t *c = it_client(&B, "coordinator1", true);
    uint64_t n = c ? it_project_total(c) : UINT64_MAX;
    collab_client_destroy(&c);
    return n;
}

static void test_state_validation(void)
{
    it_begin("state_validation");
    uint64_t before = projects();
    for (int run = 0; run < 2; run++) { /* the same verdict every time: it cleans up */
        expect(probe(&B, "state-validation", NULL), true);
        CHECK(has(OUT, "to cancelled: ok; then to assigned (the table forbids it): conflict (43)"));
        CHECK(has(OUT, "unknown status \"finished\": bad_request (45)"));
        CHECK(has(OUT, "status is not a task status"));
        CHECK(has(OUT, "which names it (status)"));
        CHECK_EQ_U64(projects(), before);
    }
}

static void test_size_and_input(void)
{
    it_begin("size_and_input");
    uint64_t before = projects();
    expect(probe(&B, "size-limits", NULL), true);
    CHECK(has(OUT, "name of 201 code points: limit (6)"));
    CHECK(has(OUT, "name is longer than 200 code points"));
    CHECK(has(OUT, "exactly 200: accepted"));
    CHECK(has(OUT, "names the field (name): yes"));
    CHECK(has(OUT, "the limit (200): yes"));
    expect(probe(&B, "input-validation", NULL), true);
    CHECK(has(OUT, "name 42: field_type (5)"));
    CHECK(has(OUT, "name must be a string"));
    CHECK(has(OUT, "name \"\": limit (6)"));
    CHECK(has(OUT, "name must not be empty"));
    CHECK(has(OUT, "worker coordinator1 (no worker): bad_request (45)"));
    CHECK(has(OUT, "worker is not an agent with the worker role"));
    CHECK(!strstr(OUT, "does NOT name it"));
    CHECK_EQ_U64(projects(), before);
    expect(probe(&B, "error-messages", NULL), true);
    CHECK(has(OUT, "create_project without name: field_missing (4)"));
    CHECK(has(OUT, "name is missing"));
    CHECK(has(OUT, "get_project without project_id: field_missing (4)"));
    CHECK(has(OUT, "project_id is missing"));
    CHECK(!strstr(OUT, "does NOT name it"));
}

static void test_signatures(void)
{
    it_begin("signatures");
    uint64_t before = projects();
    expect(probe(&B, "timestamp", NULL), true);
    CHECK(has(OUT, "window +-30 min: signed 31 min old: stale_timestamp (27)"));
    CHECK(has(OUT, "31 min ahead: stale_timestamp (27)"));
    CHECK(has(OUT, "15 min old: accepted (project "));
    expect(probe(&B, "wrong-key", "--json", NULL), true);
    CHECK(has(OUT, "{\"probe\":\"wrong-key\",\"verdict\":\"HOLDS\""));
    CHECK(has(OUT, "wrong key: bad_signature (26)"));
    CHECK(has(OUT, "with its own key: accepted (project "));
    CHECK_EQ_U64(projects(), before);
}

/*  The FAILS path: a broker configured with a 2 h window fails the seed's +-30 min claim;
    checked against its own announced window, it holds. */
static void test_wide_window(void)
{
    it_begin("wide_window");
    const char *extra[] = {"--set", "replay.weak_window_s=7200", NULL};
    if (!CHECK(broker_start(&W, extra) == 0))
        return;
    expect(probe(&W, "timestamp", "--window-s", "1800", NULL), false);
    CHECK(has(OUT, "window +-30 min: signed 31 min old: accepted (project "));
    expect(probe(&W, "timestamp", NULL), true);
    CHECK(has(OUT, "window +-120 min: signed 121 min old: stale_timestamp (27)"));
    it_stop(&W);
}

static void test_idle_timeout(void)
{
    it_begin("idle_timeout");
    int64_t t0 = collab_mono_ms();
    expect(probe(NULL, "idle-timeout", NULL), true); /* PROTOCOL.md 5: session_expired */
    CHECK(collab_mono_ms() - t0 >= 3000);            /* it waited past the 2 s timeout */
    CHECK(has(OUT, "the next request got: session_expired (23)"));
    CHECK(has(OUT, "a new login and heartbeat: ok"));
    const char *dir = strstr(ERR, "/tmp/collab-probe-");
    struct stat st;
    if (CHECK(dir != NULL)) {
        char path[64];
        snprintf(path, sizeof path, "%.24s", dir);
        CHECK(stat(path, &st) != 0); /* its private broker's directory is gone */
    }
}

/*  The hardened profile over CURVE with the demo certificates. */
static void test_hardened(void)
{
    it_begin("hardened");
    char cert[700], clients[700], key1[700], key2[700], server[700], mine[700];
    snprintf(cert, sizeof cert, "transport.server_cert=%s/broker.cert", CURVE);
    snprintf(clients, sizeof clients, "transport.clients_dir=%s/clients", CURVE);
    snprintf(key1, sizeof key1, "state_at_rest.key_file=%s/state.key", H.dir);
    snprintf(key2, sizeof key2, "audit.key_file=%s/audit.key", H.dir);
    const char *extra[] = {"--profile", "hardened", "--set", cert, "--set", clients,
                           "--set",     key1,       "--set", key2, NULL};
    if (!CHECK(broker_start(&H, extra) == 0))
        return;
    snprintf(server, sizeof server, "%s/broker.cert", CURVE);
    snprintf(mine, sizeof mine, "%s/coordinator1.cert_secret", CURVE);
    const char *c1[] = {"--curve-server-key", server, "--curve-cert", mine};
#define HARD(name, ...) probe(&H, name, c1[0], c1[1], c1[2], c1[3], __VA_ARGS__)
    expect(HARD("session-validation", NULL), true);
    CHECK(has(OUT, "made-up session id: session_invalid (22)"));
    expect(probe(&H, "logout", "--curve-dir", CURVE, NULL), true); /* viewer1's own cert */
    HARD("state-validation", NULL);
    CHECK(has(OUT, "then to cancelled (the table forbids it): conflict (43)"));
    CHECK(has(ERR, "cancelled -> assigned: forbidden (40)"));
    expect(HARD("timestamp", NULL), true);
    CHECK(has(OUT, "window +-1 min: signed 2 min old: stale_timestamp (27)"));
    CHECK(has(OUT, "0 s old: accepted (project "));
    expect(HARD("wrong-key", NULL), true);
    CHECK(has(OUT, "wrong key: bad_signature (26)"));
    CHECK_EQ_INT(probe(&H, "logout", "--agent", "coordinator1", "--login-timeout-ms", "1000", NULL),
                 3); /* without CURVE the broker never answers */
    it_stop(&H);
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: test_probe BROKER CREDS COLLAB_PROBE SAMPLE_DATA\n");
        return 2;
    }
    PROBE = argv[3];
    DATA = argv[4];
    snprintf(PWS, sizeof PWS, "%s/test_passwords.txt", DATA);
    snprintf(CURVE, sizeof CURVE, "%s/curve", DATA);
    if (broker_init(&B, argv[1], argv[2]) != 0 || broker_init(&W, argv[1], argv[2]) != 0 ||
        broker_init(&H, argv[1], argv[2]) != 0 || broker_start(&B, NULL) != 0) {
        fprintf(stderr, "test_probe: cannot start the broker\n");
        return 1;
    }
    test_usage();
    test_unreachable_and_refused();
    test_session_probes();
    test_state_validation();
    test_size_and_input();
    test_signatures();
    test_wide_window();
    test_idle_timeout();
    test_hardened();
    it_stop(&B);
    broker_cleanup(&B);
    broker_cleanup(&W);
    broker_cleanup(&H);
    return it_exit("test_probe");
}
