/*  test_sniff_tcpdump.c: tcpdump records lo while a small swarm (a broker, two workers, a
    coordinator with a two-task scenario) runs; collab-sniff -r then decodes that pcap
    file: every request has its reply, no gap, the passwords show. Capturing needs root or
    CAP_NET_RAW, and tcpdump: without them the test exits 77 (skip). */
#include "agentproc.h"
#include "collab_clock.h"
#include "childproc.h"
#include "itest.h"
#include "sniftest.h"

#include <czmq.h>
#include <poll.h>
#include <signal.h>
#include <sys/inotify.h>
#include <unistd.h>

static broker_proc_t B;
static const char *sniff_exe, *worker_exe, *coord_exe;
static char pcap[400], scenario[400], port[16];

static const char *find_tcpdump(void)
{
    static const char *const paths[] = {"/usr/bin/tcpdump", "/usr/sbin/tcpdump", "/sbin/tcpdump"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
        if (access(paths[i], X_OK) == 0)
            return paths[i];
    return NULL;
}

/*  Starts tcpdump on lo. Returns 0 once it listens, 77 when it cannot capture here. */
static int start_tcpdump(child_t *td)
{
    const char *exe = find_tcpdump();
    if (!exe)
        return 77;
    /* -Z root: writing into the test's private directory needs the rights it started with.
       -s and -B: in immediate mode each packet takes a slot of the snapshot length, and
       the default 2 MB buffer holds too few of them for a burst: the kernel drops some. */
    const char *argv[] = {exe,   "-i",    "lo", "-w",    pcap, "-U",   "--immediate-mode",
                          "-s",  "65600", "-B", "32768", "-Z", "root", "-n",
                          "tcp", "port",  port, NULL};
    if (child_start(td, argv) != 0)
        return -1;
    if (child_expect(td, true, "listening on", 0, 10000) >= 0)
        return 0;
    int rc = child_wait(td, 5000);
    fprintf(stderr, "tcpdump did not start (exit %d): %s\n", rc, td->err);
    return strstr(td->err, "ermission") || strstr(td->err, "not permitted") ? 77 : -1;
}

static int write_scenario(void)
{
    FILE *f = fopen(scenario, "w");
    if (!f)
        return -1;
    fputs("{\"projects\": [{\"name\": \"Sniffed swarm\", \"description\": \"seen by tcpdump\",\n"
          " \"tasks\": [{\"type\": \"testing\", \"title\": \"Test the sniffer\", \"description\": "
          "\"d\"},\n {\"type\": \"documentation\", \"title\": \"Document it\", \"description\": "
          "\"d\"}]}]}\n",
          f);
    return fclose(f);
}

static int start_worker(agent_proc_t *p, const char *agent)
{
    char *argv[] = {(char *)worker_exe,
                    "--broker",
                    B.endpoint,
                    "--agent",
                    (char *)agent,
                    "--password",
                    (char *)it_password(agent),
                    "--credentials",
                    (char *)B.creds,
                    "--work-ms",
                    "50",
                    "--heartbeat-ms",
                    "200",
                    NULL};
    return agent_spawn(p, argv);
}

static int start_coordinator(agent_proc_t *p)
{
    char *argv[] = {(char *)coord_exe,
                    "--broker",
                    B.endpoint,
                    "--agent",
                    "coordinator1",
                    "--password",
                    "coord123",
                    "--credentials",
                    (char *)B.creds,
                    "--scenario",
                    scenario,
                    "--silence-ms",
                    "1500",
                    "--deadline-ms",
                    "30000",
                    "--timeout-ms",
                    "1000",
                    NULL};
    return agent_spawn(p, argv);
}

/*  Runs the swarm to completion; the workers are stopped (they log out) afterwards. */
static void run_swarm(void)
{
    agent_proc_t w[2], coord;
    CHECK(start_worker(&w[0], "worker1") == 0 && start_worker(&w[1], "worker2") == 0);
    for (int i = 0; i < 2; i++)
        CHECK(agent_wait_output(&w[i], "waiting for tasks", 20000));
    CHECK(start_coordinator(&coord) == 0);
    int rc = agent_wait_exit(&coord, 40000);
    if (!CHECK(rc == 0) || !CHECK(strstr(coord.buf, "2 of 2 tasks completed") != NULL))
        fprintf(stderr, "coordinator output:\n%s\n", coord.buf);
    for (int i = 0; i < 2; i++) {
        agent_kill(&w[i], SIGTERM);
        CHECK_EQ_INT(w[i].status, 0);
    }
}

/*  The last exchange of the run, a logout by viewer1, is in the file: everything sent
    before it is too (tcpdump writes packets in the order lo carried them). */
static bool marker_captured(void)
{
    st_got_t *g = st_sniff_file(pcap, (uint16_t)B.port);
    uint32_t conn = 0;
    bool found = false;
    for (size_t i = 0; i < g->n; i++) {
        const st_msg_t *m = &g->m[i];
        if (m->kind == COLLAB_KIND_REQUEST && !strcmp(m->name, "logout") &&
            !strcmp(m->agent, "viewer1"))
            conn = m->conn;
        found = found || (conn && m->conn == conn && !strcmp(m->reply_to, "logout"));
    }
    st_free(&g);
    return found;
}

/*  Waits for the marker, reading the file again each time tcpdump writes to it. */
static bool wait_marker(int timeout_ms)
{
    int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    int wd = fd >= 0 ? inotify_add_watch(fd, pcap, IN_MODIFY) : -1;
    int64_t deadline = collab_mono_ms() + timeout_ms;
    bool ok;
    while (!(ok = marker_captured()) && wd >= 0) {
        struct pollfd p = {fd, POLLIN, 0};
        int64_t left = deadline - collab_mono_ms();
        if (left <= 0 || poll(&p, 1, (int)left) <= 0)
            break;
        char events[4096];
        while (read(fd, events, sizeof events) > 0)
            ;
    }
    if (fd >= 0)
        close(fd);
    return ok;
}

static void mark_end(void)
{
    collab_client_t *c = it_client(&B, "viewer1", true);
    CHECK(c && it_call(c, NULL, "logout", NULL) == 0);
    collab_client_destroy(&c);
    CHECK(wait_marker(10000));
}

static int count(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

static void check_decoded(void)
{
    child_t c;
    const char *argv[] = {sniff_exe, "-r", pcap, "-p", port, NULL};
    CHECK_EQ_INT(child_run(&c, argv, NULL, 30000), 0);
    int requests = count(c.out, "-> broker request "), replies = count(c.out, "<- broker reply #");
    CHECK(requests >= 10);
    CHECK_EQ_INT(requests, replies);
    CHECK(count(c.out, "request login #") >= 4);
    CHECK(strstr(c.out, "password=\"coord123\"") != NULL);
    CHECK(strstr(c.out, "password=\"worker123\"") != NULL);
    CHECK(strstr(c.out, "request update_task_status #") != NULL);
    CHECK(strstr(c.out, "event task_assigned") != NULL);
    CHECK(strstr(c.out, "undecoded") == NULL);
    CHECK(strstr(c.err, " 0 gaps (0 bytes)") != NULL);
    CHECK(strstr(c.err, "note: gap of") == NULL);
    if (tu_failures) {
        fprintf(stderr, "collab-sniff said:\n%s%s", c.out, c.err);
        char keep[64];
        snprintf(keep, sizeof keep, "/tmp/collab-sniff-failed-%d.pcap", (int)getpid());
        if (rename(pcap, keep) == 0)
            fprintf(stderr, "the capture is kept in %s\n", keep);
    }
    child_free(&c);
}

static int run(void)
{
    child_t td;
    int rc = start_tcpdump(&td);
    if (rc != 0) {
        child_free(&td);
        return rc == 77 ? 77 : CHECK(rc == 0);
    }
    run_swarm();
    mark_end();
    child_signal(&td, SIGINT);
    CHECK_EQ_INT(child_wait(&td, 10000), 0);
    child_free(&td);
    check_decoded();
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 6 || broker_init(&B, argv[1], argv[2]) != 0)
        return 2;
    sniff_exe = argv[3];
    worker_exe = argv[4];
    coord_exe = argv[5];
    snprintf(pcap, sizeof pcap, "%s/swarm.pcap", B.dir);
    snprintf(scenario, sizeof scenario, "%s/scenario.json", B.dir);
    it_begin("tcpdump swarm");
    int rc = 0;
    if (CHECK(write_scenario() == 0) && CHECK(broker_start(&B, NULL) == 0)) {
        snprintf(port, sizeof port, "%d", B.port);
        rc = run();
        it_stop(&B);
    }
    broker_cleanup(&B);
    zsys_shutdown();
    if (rc == 77) {
        fprintf(stderr, "test_sniff_tcpdump: tcpdump cannot capture on lo here: skipped\n");
        return 77;
    }
    return it_exit("test_sniff_tcpdump");
}
