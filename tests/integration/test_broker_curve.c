/*  test_broker_curve.c: the strong transport control (LAB.md #12) against live brokers: an
    agent with an allowed certificate logs in and works; an unknown key, a plaintext client
    and a wrong server key get no connection at all, and the broker counts and logs the
    refusals; with strong peer binding a session is bound to its client's key too;
    collab-keygen's output runs a broker; the swarm completes its scenario over CURVE. */
#include "agentproc.h"
#include "collab_clock.h"
#include "itest.h"

#include <signal.h>
#include <sys/stat.h>

static const char *keygen_exe, *curve_dir, *worker_exe, *coord_exe, *scenario;
static broker_proc_t CURVE, BOUND;

/*  "DIR/NAME" in a caller's buffer of PATH_CAP bytes. */
#define PATH_CAP 600
static const char *in_dir(char *buf, const char *dir, const char *name)
{
    if (snprintf(buf, PATH_CAP, "%s/%s", dir, name) >= PATH_CAP)
        buf[0] = '\0'; /* too long: a path that does not exist */
    return buf;
}

/*  --set arguments making a broker CURVE with the certificates of dir. */
static void curve_args(const char *dir, char cert[PATH_CAP + 32], char clients[PATH_CAP + 32])
{
    char path[PATH_CAP];
    snprintf(cert, PATH_CAP + 32, "transport.server_cert=%s", in_dir(path, dir, "broker.cert"));
    snprintf(clients, PATH_CAP + 32, "transport.clients_dir=%s", in_dir(path, dir, "clients"));
}

/*  A client of b for agent over CURVE with cert (a secret certificate file) and the broker
    key in server (a file or Z85); cert NULL: plaintext. Short timeouts, no retries. */
static collab_client_t *curve_client(const broker_proc_t *b, const char *agent, const char *cert,
                                     const char *server)
{
    char err[512];
    collab_client_opts_t o = {.endpoint = b->endpoint,
                              .agent_id = agent,
                              .password = it_password(agent),
                              .timeout_ms = 2000};
    o.has_key = collab_client_load_key(b->creds, agent, o.key, err, sizeof err) == 0;
    if (cert && !CHECK(collab_client_load_curve(&o, server, cert, err, sizeof err) == 0))
        fprintf(stderr, "  %s\n", err);
    return collab_client_new(&o);
}

/*  The demo agent's own certificate from sample_data/curve. */
static collab_client_t *demo_client(const broker_proc_t *b, const char *agent, bool login)
{
    char cert[PATH_CAP], name[128], server[PATH_CAP];
    snprintf(name, sizeof name, "%s.cert_secret", agent);
    collab_client_t *c = curve_client(b, agent, in_dir(cert, curve_dir, name),
                                      in_dir(server, curve_dir, "broker.cert"));
    if (c && login && !CHECK(collab_client_login(c) == 0))
        collab_client_destroy(&c);
    return c;
}

/*  A client whose key pair is fresh, so not in the allowed directory. */
static collab_client_t *stranger_client(const broker_proc_t *b, const char *agent)
{
    char server[PATH_CAP], cert[PATH_CAP], err[512];
    collab_client_opts_t o = {.endpoint = b->endpoint,
                              .agent_id = agent,
                              .password = it_password(agent),
                              .timeout_ms = 300};
    /* the right broker key (read along with worker1's pair), then a pair of its own */
    if (!CHECK(collab_client_load_curve(&o, in_dir(server, curve_dir, "broker.cert"),
                                        in_dir(cert, curve_dir, "worker1.cert_secret"), err,
                                        sizeof err) == 0))
        fprintf(stderr, "  %s\n", err);
    zcert_t *stranger = zcert_new();
    memcpy(o.curve_public, zcert_public_key(stranger), COLLAB_CURVE_KEY_LEN);
    memcpy(o.curve_secret, zcert_secret_key(stranger), COLLAB_CURVE_KEY_LEN);
    zcert_destroy(&stranger);
    return collab_client_new(&o);
}

/*  Waits until the broker's security log has a line with needle; shows the refusals if not. */
static bool seclog_shows(const broker_proc_t *b, const char *needle, int timeout_ms)
{
    if (broker_seclog_wait(b, needle, timeout_ms))
        return true;
    char cmd[400];
    snprintf(cmd, sizeof cmd, "grep connection_refused %s >&2", b->seclog);
    if (system(cmd) != 0)
        fprintf(stderr, "  (no connection_refused line)\n");
    return false;
}

/*  The broker's count of refused handshakes, asked over admin's session. */
static uint64_t refused_count(collab_client_t *admin)
{
    collab_reply_t r;
    uint64_t n = 0;
    if (admin && CHECK(it_call(admin, &r, "get_stats", NULL) == 0)) {
        n = it_u64(&r, "transport_refused");
        collab_reply_free(&r);
    }
    return n;
}

static uint64_t transport_refused(const broker_proc_t *b)
{
    collab_client_t *a = demo_client(b, "admin", true);
    uint64_t n = refused_count(a);
    collab_client_destroy(&a);
    return n;
}

static void test_known_cert_works(void)
{
    it_begin("an allowed certificate logs in and works");
    collab_client_t *co = demo_client(&CURVE, "coordinator1", true);
    collab_client_t *w = demo_client(&CURVE, "worker1", true);
    if (!co || !w)
        goto out;
    uint64_t pid = it_create_project(co, "over curve");
    uint64_t tid = it_assign_task(co, pid, "worker1", "encrypted work");
    char t[24];
    CHECK_OK(it_call(w, NULL, "update_task_status", "task_id", it_u(t, tid), "status",
                     "in_progress", NULL));
    CHECK_EQ_U64(it_project_total(co), 1);
    CHECK(broker_seclog_count(&CURVE, "\"transport\":\"curve\"") >= 1);
out:
    collab_client_destroy(&w);
    collab_client_destroy(&co);
}

static void test_unknown_key_refused(void)
{
    it_begin("an unknown key gets no connection");
    collab_client_t *c = stranger_client(&CURVE, "worker2");
    if (!CHECK(c != NULL))
        return;
    int64_t t0 = collab_mono_ms();
    CHECK_RC(collab_client_login(c), COLLAB_E_TIMEOUT);
    CHECK(collab_mono_ms() - t0 < 2000);
    CHECK(seclog_shows(&CURVE, "\"key_not_allowed\"", 5000));
    CHECK_EQ_INT(broker_seclog_count(&CURVE, "\"agent_id\":\"worker2\""), 0); /* never heard */
    collab_client_destroy(&c);
    CHECK(transport_refused(&CURVE) >= 1);
}

/*  Asks get_stats, one round trip after another until a deadline, whether the broker has
    refused more than before handshakes; returns the count. */
static uint64_t refused_beyond(const broker_proc_t *b, uint64_t before, int timeout_ms)
{
    int64_t deadline = collab_mono_ms() + timeout_ms;
    collab_client_t *a = demo_client(b, "admin", true);
    uint64_t n;
    while ((n = refused_count(a)) <= before && a && collab_mono_ms() < deadline)
        ;
    collab_client_destroy(&a);
    return n;
}

static void test_plaintext_refused(void)
{
    it_begin("a plaintext client gets nothing");
    uint64_t before = transport_refused(&CURVE);
    collab_client_t *c = curve_client(&CURVE, "worker3", NULL, NULL);
    collab_client_set_timeout(c, 300, 0);
    CHECK_RC(collab_client_login(c), COLLAB_E_TIMEOUT);
    collab_client_destroy(&c);
    /* a bare DEALER speaking the protocol in the clear gets no reply either */
    zsock_t *raw = it_raw_new(CURVE.endpoint);
    static it_msg_t m;
    uint8_t frame[COLLAB_MAX_FRAME];
    it_req_t q = {.request_id = 7, .action = "heartbeat", .agent_id = "worker3"};
    size_t len = it_encode(&q, frame, sizeof frame);
    if (CHECK(raw && len > 0) && CHECK(it_raw_send(raw, frame, len, false) == 0))
        CHECK_RC(it_raw_recv(raw, &m, 500), COLLAB_E_TIMEOUT);
    zsock_destroy(&raw);
    CHECK(refused_beyond(&CURVE, before, 5000) > before);
    /* which side notices the mismatch first is a race: the broker sees either the plaintext
       greeting or the client hanging up on its CURVE greeting */
    CHECK(broker_seclog_count(&CURVE, "\"mechanism_mismatch\"") +
              broker_seclog_count(&CURVE, "\"handshake_failed\"") >=
          1);
    CHECK_EQ_INT(broker_seclog_count(&CURVE, "\"agent_id\":\"worker3\""), 0);
}

static void test_wrong_server_key(void)
{
    it_begin("a wrong server key gets nothing");
    char cert[PATH_CAP], server[PATH_CAP];
    /* worker1's public certificate as the "broker key": the handshake cannot succeed */
    collab_client_t *c =
        curve_client(&CURVE, "worker1", in_dir(cert, curve_dir, "worker1.cert_secret"),
                     in_dir(server, curve_dir, "worker1.cert"));
    collab_client_set_timeout(c, 300, 0);
    CHECK_RC(collab_client_login(c), COLLAB_E_TIMEOUT);
    collab_client_destroy(&c);
    CHECK(seclog_shows(&CURVE, "\"cryptographic_error\"", 5000));
}

/*  The victim's session id over a connection with another allowed key, from the same
    address: served with a warning when the binding is weak, refused when it is strong. */
static void check_key_binding(broker_proc_t *b, bool bound)
{
    char cert[PATH_CAP], server[PATH_CAP];
    collab_client_t *victim = demo_client(b, "coordinator1", true);
    /* the thief holds worker1's allowed key and the victim's session id, nothing else */
    collab_client_t *thief =
        curve_client(b, "coordinator1", in_dir(cert, curve_dir, "worker1.cert_secret"),
                     in_dir(server, curve_dir, "broker.cert"));
    collab_client_t *again = demo_client(b, "coordinator1", false);
    if (!victim || !thief || !again)
        goto out;
    int refused = broker_seclog_count(b, "\"binding_violation\"");
    int warned = broker_seclog_count(b, "\"peer_mismatch_warning\"");
    collab_client_set_session(thief, collab_client_session(victim));
    CHECK_RC(it_call(thief, NULL, "get_session_info", NULL), bound ? COLLAB_E_BINDING : 0);
    CHECK_EQ_INT(broker_seclog_count(b, "\"binding_violation\""), refused + (bound ? 1 : 0));
    CHECK_EQ_INT(broker_seclog_count(b, "\"peer_mismatch_warning\""), warned + (bound ? 0 : 1));
    CHECK(broker_seclog_count(b, "\"client_key\"") >= 1);
    /* the same key over a new connection is the same client: served */
    collab_client_set_session(again, collab_client_session(victim));
    CHECK_OK(it_call(again, NULL, "heartbeat", NULL));
    CHECK_OK(it_call(victim, NULL, "heartbeat", NULL));
out:
    collab_client_destroy(&again);
    collab_client_destroy(&thief);
    collab_client_destroy(&victim);
}

static void test_key_binding(void)
{
    it_begin("session bound to its key, peer_binding weak");
    check_key_binding(&CURVE, false);
    it_begin("session bound to its key, peer_binding strong");
    check_key_binding(&BOUND, true);
}

/*  The binding is kept in the state file: after a restart the session still belongs to its
    key (the victim's client reconnects by itself with the same key). */
static void test_binding_survives_restart(void)
{
    it_begin("key binding across a broker restart");
    char cert[PATH_CAP], server[PATH_CAP];
    collab_client_t *victim = demo_client(&BOUND, "coordinator2", true);
    collab_client_t *thief =
        curve_client(&BOUND, "coordinator2", in_dir(cert, curve_dir, "worker2.cert_secret"),
                     in_dir(server, curve_dir, "broker.cert"));
    if (!victim || !thief)
        goto out;
    it_stop(&BOUND);
    if (!CHECK(broker_restart(&BOUND) == 0))
        goto out;
    collab_client_set_session(thief, collab_client_session(victim));
    CHECK_RC(it_call(thief, NULL, "heartbeat", NULL), COLLAB_E_BINDING);
    CHECK_OK(it_call(victim, NULL, "heartbeat", NULL));
out:
    collab_client_destroy(&thief);
    collab_client_destroy(&victim);
}

/*  Runs collab-keygen with NULL-terminated arguments; returns its exit code. */
static int keygen(const char *const *args)
{
    char *argv[16] = {(char *)keygen_exe};
    for (int i = 0; args[i] && i < 14; i++)
        argv[i + 1] = (char *)args[i];
    agent_proc_t p;
    if (agent_spawn(&p, argv) != 0)
        return -1;
    return agent_wait_exit(&p, 10000);
}

static void test_keygen(void)
{
    it_begin("collab-keygen");
    broker_proc_t b;
    char dir[PATH_CAP], p[PATH_CAP], cert[PATH_CAP + 32], clients[PATH_CAP + 32];
    struct stat st;
    if (!CHECK(broker_init(&b, CURVE.exe, CURVE.creds) == 0))
        return;
    in_dir(dir, b.dir, "keys");
    CHECK_EQ_INT(keygen((const char *const[]){dir, "worker1", "admin", NULL}), 0);
    CHECK(stat(in_dir(p, dir, "worker1.cert_secret"), &st) == 0 && (st.st_mode & 077) == 0);
    CHECK(stat(in_dir(p, dir, "broker.cert_secret"), &st) == 0 && (st.st_mode & 077) == 0);
    CHECK(stat(in_dir(p, dir, "clients/worker1.cert"), &st) == 0);
    CHECK(stat(in_dir(p, dir, "clients/worker1.cert_secret"), &st) != 0);
    CHECK_EQ_INT(keygen((const char *const[]){dir, "worker1", NULL}), 1); /* no overwrite */
    CHECK_EQ_INT(keygen((const char *const[]){dir, "../evil", NULL}), 2);
    CHECK_EQ_INT(keygen((const char *const[]){dir, NULL}), 2);
    curve_args(dir, cert, clients);
    const char *const extra[] = {"--set", "transport=strong", "--set", cert, "--set", clients,
                                 NULL};
    if (CHECK(broker_start(&b, extra) == 0)) {
        char secret[PATH_CAP], server[PATH_CAP];
        collab_client_t *c = curve_client(&b, "worker1", in_dir(secret, dir, "worker1.cert_secret"),
                                          in_dir(server, dir, "broker.cert"));
        CHECK(c && collab_client_login(c) == 0);
        collab_client_destroy(&c);
        /* sample_data's worker2 is not allowed by this broker */
        c = demo_client(&b, "worker2", false);
        collab_client_set_timeout(c, 300, 0);
        CHECK_RC(collab_client_login(c), COLLAB_E_TIMEOUT);
        collab_client_destroy(&c);
        it_stop(&b);
    }
    broker_cleanup(&b);
}

static void test_bad_config(void)
{
    it_begin("transport = strong without its files");
    char out[4096], err[4096], state[PATH_CAP], log[PATH_CAP], cert[PATH_CAP + 32];
    const char *const no_cert[] = {"--bind",
                                   "tcp://127.0.0.1:*",
                                   "--state",
                                   in_dir(state, CURVE.dir, "other.db"),
                                   "--credentials",
                                   CURVE.creds,
                                   "--security-log",
                                   in_dir(log, CURVE.dir, "other.log"),
                                   "--set",
                                   "transport=strong",
                                   "--set",
                                   "transport.server_cert=/nonexistent/broker.cert",
                                   NULL};
    CHECK_EQ_INT(broker_run_capture(&CURVE, no_cert, out, sizeof out, err, sizeof err, 10000), 2);
    CHECK(strstr(err, "/nonexistent/broker.cert") != NULL);
    snprintf(cert, sizeof cert, "transport.server_cert=%s/broker.cert", curve_dir);
    const char *const no_dir[] = {"--bind",
                                  "tcp://127.0.0.1:*",
                                  "--state",
                                  state,
                                  "--credentials",
                                  CURVE.creds,
                                  "--security-log",
                                  log,
                                  "--set",
                                  "transport=strong",
                                  "--set",
                                  cert,
                                  "--set",
                                  "transport.clients_dir=/nonexistent/clients",
                                  NULL};
    CHECK_EQ_INT(broker_run_capture(&CURVE, no_dir, out, sizeof out, err, sizeof err, 10000), 2);
    CHECK(strstr(err, "/nonexistent/clients") != NULL);
}

/*  The swarm over CURVE: three workers and the coordinator with their certificates. */
static int spawn_agent(agent_proc_t *p, const broker_proc_t *b, const char *exe, const char *agent,
                       const char *const *more)
{
    char cert[PATH_CAP], name[128], server[PATH_CAP];
    snprintf(name, sizeof name, "%s.cert_secret", agent);
    char *argv[40] = {(char *)exe,
                      "--broker",
                      (char *)b->endpoint,
                      "--agent",
                      (char *)agent,
                      "--password",
                      (char *)it_password(agent),
                      "--credentials",
                      (char *)b->creds,
                      "--curve-server-key",
                      (char *)in_dir(server, curve_dir, "broker.cert"),
                      "--curve-cert",
                      (char *)in_dir(cert, curve_dir, name)};
    int n = 13;
    for (int i = 0; more[i] && n < 39; i++)
        argv[n++] = (char *)more[i];
    argv[n] = NULL;
    return agent_spawn(p, argv);
}

static void test_swarm(void)
{
    it_begin("the swarm over CURVE");
    agent_proc_t workers[3], coord;
    const char *const wopts[] = {"--work-ms", "50", "--heartbeat-ms", "200", NULL};
    const char *const copts[] = {
        "--scenario", scenario,       "--silence-ms", "1500", "--deadline-ms", "60000", "--retries",
        "10",         "--timeout-ms", "1000",         NULL};
    for (int i = 0; i < 3; i++) {
        char agent[24];
        snprintf(agent, sizeof agent, "worker%d", i + 1);
        CHECK(spawn_agent(&workers[i], &BOUND, worker_exe, agent, wopts) == 0);
    }
    CHECK(spawn_agent(&coord, &BOUND, coord_exe, "coordinator1", copts) == 0);
    int rc = agent_wait_exit(&coord, 60000);
    if (!CHECK(rc == 0))
        fprintf(stderr, "coordinator output:\n%s\n", coord.buf);
    CHECK(strstr(coord.buf, "12 of 12 tasks completed") != NULL);
    for (int i = 0; i < 3; i++)
        agent_kill(&workers[i], SIGTERM);
}

int main(int argc, char **argv)
{
    if (argc < 8)
        return 2;
    keygen_exe = argv[3];
    curve_dir = argv[4];
    worker_exe = argv[5];
    coord_exe = argv[6];
    scenario = argv[7];
    signal(SIGPIPE, SIG_IGN);
    char cert[PATH_CAP + 32], clients[PATH_CAP + 32];
    curve_args(curve_dir, cert, clients);
    const char *const curve[] = {"--set", "transport=strong", "--set", cert, "--set", clients,
                                 NULL};
    const char *const bound[] = {"--set", "transport=strong",    "--set", cert, "--set", clients,
                                 "--set", "peer_binding=strong", NULL};
    if (broker_init(&CURVE, argv[1], argv[2]) == 0 && CHECK(broker_start(&CURVE, curve) == 0) &&
        broker_init(&BOUND, argv[1], argv[2]) == 0 && CHECK(broker_start(&BOUND, bound) == 0)) {
        test_known_cert_works();
        test_unknown_key_refused();
        test_plaintext_refused();
        test_wrong_server_key();
        test_key_binding();
        test_binding_survives_restart();
        test_keygen();
        test_bad_config();
        test_swarm();
    }
    it_stop(&CURVE);
    broker_cleanup(&CURVE);
    it_stop(&BOUND);
    broker_cleanup(&BOUND);
    zsys_shutdown();
    return it_exit("test_broker_curve");
}
