/*  test_signals.c: every agent and tool that connects or waits stops within 2 s of SIGTERM
    or SIGINT, in every phase, with the exit code agent_stop.h documents:
    - connecting: the first connection arrives at a listener that never accepts, which is
      then closed, so the agent keeps dialling a port nobody listens on;
    - logging in: a fake broker (a ROUTER) takes the login request and never answers;
    - working and waiting: the real broker, a worker on a long task, a coordinator
      monitoring it, an idle worker, an observer, a victim script, the interactive client
      at its prompt, collab-sniff capturing, collab-attack with its victim child.
    Each signal is sent once the phase is proven by an event (a connection, a request at the
    fake broker, a line of output); the exit is awaited on a pidfd with a 2 s bound. One-shot
    tools that never block (collab-keygen, collab-audit) are shown to exit normally.
    Arguments: the broker, the test credentials, then NAME=PATH for each binary. */
#include "childproc.h"
#include "collab_clock.h"
#include "itest.h"

#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define BOUND_MS 2000 /* the promise: exit within 2 s of the signal */
#define READY_MS 15000
#define SLOW     "60000" /* timeouts long enough that only the signal can end a wait */

static broker_proc_t B;
static const char *CREDS;
static char *BIN_NAME[32], *BIN_PATH[32];
static int NBIN;
static zsock_t *FAKE; /* a ROUTER that never answers */
static char FAKE_EP[64];
static char TMP[256];

static const char *bin(const char *name)
{
    for (int i = 0; i < NBIN; i++)
        if (strcmp(BIN_NAME[i], name) == 0)
            return BIN_PATH[i];
    fprintf(stderr, "test_signals: no %s=PATH argument\n", name);
    exit(2);
}

static int pidfd_of(pid_t pid)
{
    return (int)syscall(SYS_pidfd_open, pid, 0);
}

/*  True when the process ends within ms (a pidfd poll, no sleeping). */
static bool ends_within(int pidfd, int ms, long long *took)
{
    long long t0 = collab_mono_ms(), left;
    struct pollfd p = {pidfd, POLLIN, 0};
    while ((left = t0 + ms - collab_mono_ms()) > 0) {
        int n = poll(&p, 1, (int)left);
        if (n > 0)
            break;
        if (n < 0 && errno != EINTR)
            return false;
    }
    *took = collab_mono_ms() - t0;
    return p.revents & POLLIN;
}

/*  Sends sig to c and checks it exits with want within BOUND_MS, by the clean way (not
    agent_stop's backstop). */
static void stop_and_check(child_t *c, const char *what, int sig, int want)
{
    long long took = 0;
    int fd = pidfd_of(c->pid);
    if (!CHECK(fd >= 0))
        return;
    kill(c->pid, sig);
    bool ended = ends_within(fd, BOUND_MS, &took);
    close(fd);
    int code = child_wait(c, ended ? BOUND_MS : 1); /* reaps; kills one that did not end */
    printf("  %-52s %s: %s in %4lld ms, exit %d\n", what, sig == SIGINT ? "SIGINT " : "SIGTERM",
           ended ? "ended" : "STILL RUNNING", took, code);
    if (!CHECK(ended))
        fprintf(stderr, "%s did not stop within %d ms of %s\n", what, BOUND_MS, strsignal(sig));
    else
        CHECK_EQ_INT(code, want);
    CHECK(strstr(c->err, "stopping took too long") == NULL);
    if (code != want)
        fprintf(stderr, "%s: stdout:\n%s\nstderr:\n%s\n", what, c->out, c->err);
}

static int sig_code(int sig)
{
    return 128 + sig;
}

/* ---- connecting: a listener that never accepts, then closed ---- */

static int listener(int *port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 8) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    *port = ntohs(a.sin_port);
    return fd;
}

/*  Starts argv (its endpoint argument "@" replaced by the listener's) and waits for its
    connection: the agent is then in its first connection's wait. With unused, the listener
    is closed at once (the connection is reset, nothing listens on the port any more: the
    agent, given --connect-timeout-ms 0, dials an unused port while its login waits);
    without, it stays open and never accepts (TCP is up, the ZMTP handshake never comes:
    the agent waits for it, up to --connect-timeout-ms). Then the agent is stopped. */
static void case_connecting(const char *what, const char **argv, bool unused, int sig, int want)
{
    int port, lfd = listener(&port);
    char ep[64];
    child_t c;
    if (!CHECK(lfd >= 0))
        return;
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", port);
    for (int i = 0; argv[i]; i++)
        if (strcmp(argv[i], "@") == 0)
            argv[i] = ep;
    if (!CHECK(child_start(&c, argv) == 0)) {
        close(lfd);
        return;
    }
    struct pollfd p = {lfd, POLLIN, 0};
    bool dialled = poll(&p, 1, READY_MS) == 1;
    if (unused)
        close(lfd);
    if (CHECK(dialled))
        stop_and_check(&c, what, sig, want);
    else
        fprintf(stderr, "%s never connected: %s%s\n", what, c.out, c.err);
    if (!unused)
        close(lfd);
    child_free(&c);
}

/* ---- logging in: the fake broker takes the request and never answers ---- */

static void drain_fake(void)
{
    zmq_pollitem_t it = {zsock_resolve(FAKE), 0, ZMQ_POLLIN, 0};
    while (zmq_poll(&it, 1, 0) > 0) {
        zmsg_t *m = zmsg_recv(FAKE);
        zmsg_destroy(&m);
    }
}

/*  True once the fake broker received a request (within READY_MS). */
static bool fake_got_request(void)
{
    zmq_pollitem_t it = {zsock_resolve(FAKE), 0, ZMQ_POLLIN, 0};
    long long deadline = collab_mono_ms() + READY_MS, left;
    while ((left = deadline - collab_mono_ms()) > 0)
        if (zmq_poll(&it, 1, (long)left) > 0) {
            zmsg_t *m = zmsg_recv(FAKE);
            zmsg_destroy(&m);
            return true;
        }
    return false;
}

static bool start_at_fake(child_t *c, const char *what, const char *const *argv,
                          const char *stdin_text)
{
    drain_fake();
    if (!CHECK(child_start(c, argv) == 0))
        return false;
    if (stdin_text)
        child_write(c, stdin_text);
    if (CHECK(fake_got_request()))
        return true;
    fprintf(stderr, "%s sent nothing to the fake broker: %s%s\n", what, c->out, c->err);
    return false;
}

static void case_login(const char *what, const char *const *argv, const char *stdin_text, int sig,
                       int want)
{
    child_t c;
    if (start_at_fake(&c, what, argv, stdin_text))
        stop_and_check(&c, what, sig, want);
    child_free(&c);
}

/*  The common agent options for agent id at endpoint ep, with slow timeouts. */
#define AGENT_ARGS(ep, id)                                                                         \
    "--broker", ep, "--agent", id, "--password", it_password(id), "--credentials", CREDS,          \
        "--timeout-ms", SLOW, "--login-timeout-ms", SLOW, "--retries", "3"

static void connecting_and_login(void)
{
    static const struct {
        const char *name, *id;
        const char *extra[4];
    } agents[] = {
        {"collab-coordinator", "coordinator1", {"--rounds", "1", NULL}},
        {"collab-worker", "worker1", {NULL}},
        {"collab-observer", "viewer1", {"--lines", NULL}},
        {"collab-admin", "admin", {"list-agents", NULL}},
        {"collab-victim", "coordinator1", {"--script", "busy", NULL}},
    };
    it_begin("connecting");
    for (size_t i = 0; i < sizeof agents / sizeof agents[0]; i++)
        for (int s = 0; s < 2; s++) { /* SIGTERM: an unused port; SIGINT: no handshake */
            int sig = s ? SIGINT : SIGTERM;
            const char *argv[28] = {bin(agents[i].name), AGENT_ARGS("@", agents[i].id)};
            int n = 15;
            if (sig == SIGTERM) {
                argv[n++] = "--connect-timeout-ms";
                argv[n++] = "0";
            }
            for (int k = 0; agents[i].extra[k]; k++)
                argv[n++] = agents[i].extra[k];
            char what[96];
            snprintf(what, sizeof what, "%s connecting (%s)", agents[i].name,
                     sig == SIGTERM ? "unused port" : "no handshake");
            case_connecting(what, argv, sig == SIGTERM, sig, sig_code(sig));
        }
    it_begin("logging in");
    for (size_t i = 0; i < sizeof agents / sizeof agents[0]; i++)
        for (int s = 0; s < 2; s++) {
            int sig = s ? SIGINT : SIGTERM;
            const char *argv[24] = {bin(agents[i].name), AGENT_ARGS(FAKE_EP, agents[i].id)};
            int n = 15;
            for (int k = 0; agents[i].extra[k]; k++)
                argv[n++] = agents[i].extra[k];
            char what[96];
            snprintf(what, sizeof what, "%s logging in", agents[i].name);
            case_login(what, argv, NULL, sig, sig_code(sig));
        }
}

/* ---- the interactive client: at its prompt, and logging in from its menu ---- */

static void client_cases(void)
{
    it_begin("client");
    for (int s = 0; s < 2; s++) {
        int sig = s ? SIGINT : SIGTERM;
        child_t c;
        const char *argv[] = {bin("collab-client"), "--broker", B.endpoint, NULL};
        if (CHECK(child_start(&c, argv) == 0) &&
            CHECK(child_expect(&c, false, "Choice: ", 0, READY_MS) >= 0))
            stop_and_check(&c, "collab-client at its prompt (stdin open)", sig, sig_code(sig));
        child_free(&c);
    }
    const char *argv[] = {bin("collab-client"), AGENT_ARGS(FAKE_EP, "coordinator1"), NULL};
    case_login("collab-client logging in from its menu", argv,
               "1\ncoordinator1\ncoord123\n" /* it_password */, SIGTERM, sig_code(SIGTERM));
}

/* ---- working and waiting, against the real broker ---- */

static void working(void)
{
    it_begin("working and waiting");
    char scenario[400];
    snprintf(scenario, sizeof scenario, "%s/scenario.json", TMP);
    FILE *f = fopen(scenario, "w");
    if (!CHECK(f != NULL))
        return;
    fputs("{\"projects\":[{\"name\":\"Signals\",\"tasks\":[{\"title\":\"slow\","
          "\"type\":\"testing\"}]}]}\n",
          f);
    fclose(f);
    child_t idle, w, co, obs, vic;
    const char *idle_argv[] = {bin("collab-worker"), AGENT_ARGS(B.endpoint, "worker2"),
                               "--capabilities", "documentation", NULL};
    const char *w_argv[] = {bin("collab-worker"),
                            AGENT_ARGS(B.endpoint, "worker1"),
                            "--capabilities",
                            "testing",
                            "--work-ms",
                            "600000",
                            NULL};
    const char *co_argv[] = {bin("collab-coordinator"), AGENT_ARGS(B.endpoint, "coordinator1"),
                             "--scenario", scenario, NULL};
    const char *obs_argv[] = {bin("collab-observer"), AGENT_ARGS(B.endpoint, "viewer1"), "--lines",
                              NULL};
    const char *vic_argv[] = {bin("collab-victim"),
                              AGENT_ARGS(B.endpoint, "coordinator2"),
                              "--script",
                              "busy",
                              "--duration-ms",
                              "600000",
                              NULL};
    bool ok_idle = CHECK(child_start(&idle, idle_argv) == 0) &&
                   CHECK(child_expect(&idle, false, "waiting for tasks", 0, READY_MS) >= 0);
    bool ok_w = CHECK(child_start(&w, w_argv) == 0) &&
                CHECK(child_expect(&w, false, "waiting for tasks", 0, READY_MS) >= 0);
    bool ok_co = ok_w && CHECK(child_start(&co, co_argv) == 0) &&
                 CHECK(child_expect(&co, false, "assigned task", 0, READY_MS) >= 0) &&
                 CHECK(child_expect(&w, false, "working on task", 0, READY_MS) >= 0);
    bool ok_obs = CHECK(child_start(&obs, obs_argv) == 0) &&
                  CHECK(child_expect(&obs, true, "watching every", 0, READY_MS) >= 0);
    bool ok_vic = CHECK(child_start(&vic, vic_argv) == 0) &&
                  CHECK(child_expect(&vic, false, "ready", 0, READY_MS) >= 0);
    /* those that run until stopped exit 0; the coordinator's round is cut short: 128+sig */
    if (ok_idle)
        stop_and_check(&idle, "collab-worker idle, waiting for tasks", SIGTERM, 0);
    if (ok_w)
        stop_and_check(&w, "collab-worker working on a task", SIGINT, 0);
    if (ok_co)
        stop_and_check(&co, "collab-coordinator monitoring its round", SIGINT, sig_code(SIGINT));
    else
        fprintf(stderr, "coordinator: %s%s\nworker: %s%s\n", co.out, co.err, w.out, w.err);
    if (ok_obs)
        stop_and_check(&obs, "collab-observer watching", SIGTERM, 0);
    if (ok_vic)
        stop_and_check(&vic, "collab-victim working (busy script)", SIGINT, 0);
    child_free(&idle);
    child_free(&w);
    child_free(&co);
    child_free(&obs);
    child_free(&vic);
}

/* ---- the tools ---- */

/*  The pid of c's first child process (from /proc), or 0. */
static pid_t first_child(pid_t pid)
{
    char path[64];
    long v = 0;
    snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)pid, (int)pid);
    FILE *f = fopen(path, "r");
    if (f && fscanf(f, "%ld", &v) != 1)
        v = 0;
    if (f)
        fclose(f);
    return (pid_t)v;
}

static void tools(void)
{
    it_begin("collab-attack with its victim child");
    {
        /* steal-state starts a victim first; the victim is logging in at the fake broker */
        const char *argv[] = {bin("collab-attack"), "steal-state",  "--broker", FAKE_EP, "--state",
                              "/dev/null",          "--timeout-ms", SLOW,       NULL};
        child_t c;
        if (start_at_fake(&c, "collab-attack steal-state", argv, NULL)) {
            pid_t victim = first_child(c.pid);
            int vfd = victim > 0 ? pidfd_of(victim) : -1;
            CHECK(vfd >= 0);
            stop_and_check(&c, "collab-attack waiting for its victim", SIGTERM, sig_code(SIGTERM));
            long long took = 0;
            if (vfd >= 0) {
                bool gone = ends_within(vfd, BOUND_MS, &took);
                printf("  %-52s         %s\n", "its victim child",
                       gone ? "ended too" : "LEFT RUNNING");
                CHECK(gone);
                close(vfd);
            }
        }
        child_free(&c);
    }

    it_begin("collab-replay");
    {
        /* one captured login request, sent to the fake broker that never answers */
        char cap[400], hex[2 * 512 + 1];
        uint8_t frame[512];
        uint8_t pay[64];
        size_t plen = it_pack(pay, sizeof pay, "password", "s:x", NULL);
        it_req_t r = {.request_id = 1,
                      .action = "login",
                      .agent_id = "viewer1",
                      .payload = pay,
                      .payload_len = plen};
        size_t n = it_encode(&r, frame, sizeof frame);
        for (size_t i = 0; i < n; i++)
            sprintf(hex + 2 * i, "%02x", frame[i]);
        snprintf(cap, sizeof cap, "%s/capture.jsonl", TMP);
        FILE *f = fopen(cap, "w");
        if (CHECK(f != NULL && n > 0)) {
            fprintf(f,
                    "{\"index\":1,\"dir\":\"request\",\"action\":\"login\",\"frames\":[\"%s\"]}\n",
                    hex);
            fclose(f);
            const char *argv[] = {
                bin("collab-replay"), cap,  "--broker", FAKE_EP, "--index", "1", "--count", "5",
                "--timeout-ms",       SLOW, NULL};
            case_login("collab-replay waiting for a reply", argv, NULL, SIGINT, sig_code(SIGINT));
        }
    }

    it_begin("collab-probe");
    {
        const char *argv[] = {bin("collab-probe"), "logout", "--broker", FAKE_EP,
                              "--timeout-ms",      SLOW,     NULL};
        case_login("collab-probe logging in", argv, NULL, SIGTERM, sig_code(SIGTERM));
    }

    it_begin("collab-sniff");
    {
        char port[16], out[400];
        snprintf(port, sizeof port, "%d", B.port);
        snprintf(out, sizeof out, "%s/sniff.jsonl", TMP);
        const char *argv[] = {bin("collab-sniff"), "-i", "lo", "-p", port, "-w", out, NULL};
        child_t c;
        if (CHECK(child_start(&c, argv) == 0)) {
            if (child_expect(&c, true, "ready\n", 0, READY_MS) >= 0)
                stop_and_check(&c, "collab-sniff capturing", SIGTERM, 0);
            else
                printf("  collab-sniff: cannot capture here (%s): not checked\n",
                       strstr(c.err, "CAP_NET_RAW") ? "no CAP_NET_RAW" : "did not start");
        }
        child_free(&c);
    }

    it_begin("one-shot tools");
    { /* they never connect nor wait: shown to end by themselves, promptly */
        child_t c;
        const char *kg[] = {bin("collab-keygen"), TMP, "signals", NULL};
        long long t0 = collab_mono_ms();
        int rc = child_run(&c, kg, NULL, BOUND_MS);
        printf("  %-52s         exit %d in %lld ms\n", "collab-keygen (one-shot)", rc,
               collab_mono_ms() - t0);
        CHECK_EQ_INT(rc, 0);
        child_free(&c);
        const char *au[] = {bin("collab-audit"), "--help", NULL};
        t0 = collab_mono_ms();
        rc = child_run(&c, au, NULL, BOUND_MS);
        printf("  %-52s         exit %d in %lld ms\n", "collab-audit (one-shot)", rc,
               collab_mono_ms() - t0);
        CHECK_EQ_INT(rc, 0);
        child_free(&c);
    }
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    CREDS = argv[2];
    for (int i = 3; i < argc && NBIN < 32; i++) {
        char *eq = strchr(argv[i], '=');
        if (!eq)
            return 2;
        *eq = '\0';
        BIN_NAME[NBIN] = argv[i];
        BIN_PATH[NBIN++] = eq + 1;
    }
    signal(SIGPIPE, SIG_IGN);
    if (broker_init(&B, argv[1], argv[2]) != 0 || broker_start(&B, NULL) != 0)
        return 1;
    snprintf(TMP, sizeof TMP, "%s", B.dir);
    FAKE = zsock_new(ZMQ_ROUTER);
    int fport = FAKE ? zsock_bind(FAKE, "tcp://127.0.0.1:*") : -1;
    if (fport <= 0)
        return 1;
    zsock_set_linger(FAKE, 0);
    snprintf(FAKE_EP, sizeof FAKE_EP, "tcp://127.0.0.1:%d", fport);
    long long t0 = collab_mono_ms();
    printf("every agent and tool, stopped by a signal in each phase (bound %d ms):\n", BOUND_MS);
    connecting_and_login();
    client_cases();
    working();
    tools();
    printf("all cases in %lld ms\n", collab_mono_ms() - t0);
    zsock_destroy(&FAKE);
    it_stop(&B);
    broker_cleanup(&B);
    return it_exit("test_signals");
}
