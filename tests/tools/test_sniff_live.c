/*  test_sniff_live.c: collab-sniff capturing a real broker on lo: a coordinator logs in,
    creates a project, assigns a task and closes the project while the sniffer writes a
    capture file; every request and reply is decoded and the password shows (transport
    NULL). Then collab-replay uses the capture: a replayed create_project creates another
    project (no replay protection under stage2), and the captured close_project re-sent as
    delete_project from 127.0.0.2 deletes the project (the weak signature scope leaves the
    action out), while the captured create_project re-sent as delete_project is refused
    (exit 5, with a hint). A sniffer started with --broker -c 1 --action close_project stops
    by itself; replaying from a file a sniffer is still writing notes it, and the next run
    skips the replay the sniffer recorded. Capturing needs root or CAP_NET_RAW: without it
    the test exits 77 (skip). */
#include "childproc.h"
#include "itest.h"

#include <cjson/cJSON.h>
#include <czmq.h>
#include <signal.h>

static broker_proc_t B;
static int start_sniffer_argv(child_t *sn, const char *const *argv);
static const char *sniff_exe, *replay_exe;
static char capfile[400], port[16];
static uint64_t P; /* the project created and closed under capture */

/*  Starts collab-sniff on lo. Returns 0 once it is ready, 77 when capturing is not
    allowed here, -1 on any other failure. */
static int start_sniffer(child_t *sn)
{
    const char *argv[] = {sniff_exe, "-i", "lo", "-p", port, "-w", capfile, NULL};
    return start_sniffer_argv(sn, argv);
}

static int start_sniffer_argv(child_t *sn, const char *const *argv)
{
    if (child_start(sn, argv) != 0)
        return -1;
    if (child_expect(sn, true, "ready\n", 0, 10000) >= 0)
        return 0;
    int rc = child_wait(sn, 5000);
    fprintf(stderr, "collab-sniff did not start (exit %d): %s\n", rc, sn->err);
    bool denied = strstr(sn->err, "CAP_NET_RAW") || strstr(sn->err, "ermission");
    return rc == 1 && denied ? 77 : -1;
}

static collab_client_t *traffic(void)
{
    char arg[24];
    collab_client_t *c = it_client(&B, "coordinator1", true);
    P = it_create_project(c, "Sniffed");
    CHECK(it_assign_task(c, P, "worker1", "Be watched") != 0);
    CHECK_OK(it_call(c, NULL, "close_project", "project_id", it_u(arg, P), NULL));
    return c;
}

static int count(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

static void check_output(const child_t *sn)
{
    CHECK_EQ_INT(count(sn->out, "-> broker request "), 4);
    CHECK_EQ_INT(count(sn->out, "<- broker reply #"), 4);
    CHECK(strstr(sn->out, "request login #") != NULL);
    CHECK(strstr(sn->out, "payload{password=\"coord123\"}") != NULL);
    CHECK(strstr(sn->out, "(login) ok data{session_id=") != NULL);
    CHECK(strstr(sn->out, "request create_project #") != NULL);
    CHECK(strstr(sn->out, "request assign_task #") != NULL);
    CHECK(strstr(sn->out, "(close_project) ok") != NULL);
    CHECK(strstr(sn->out, "undecoded") == NULL);
    CHECK(strstr(sn->err, " 0 gaps") != NULL);
    CHECK(strstr(sn->err, "greeting, mechanism NULL") != NULL);
}

static const char *str_of(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

/*  Reads the capture file back; returns the index of the create_project request. */
static uint64_t check_capture_file(void)
{
    FILE *f = fopen(capfile, "r");
    char *line = NULL;
    size_t cap = 0;
    int requests = 0, replies = 0, n = 0;
    uint64_t create_index = 0;
    CHECK(f != NULL);
    while (f && getline(&line, &cap, f) > 0) {
        cJSON *o = cJSON_Parse(line);
        n++;
        CHECK(cJSON_GetObjectItem(o, "index") && cJSON_GetObjectItem(o, "index")->valuedouble == n);
        requests += strcmp(str_of(o, "dir"), "request") == 0;
        replies += strcmp(str_of(o, "dir"), "reply") == 0;
        CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(o, "frames")) == 1);
        if (strcmp(str_of(o, "dir"), "request") == 0) {
            CHECK_STR(str_of(o, "agent_id"), "coordinator1");
            if (strcmp(str_of(o, "action"), "create_project") == 0)
                create_index = (uint64_t)cJSON_GetObjectItem(o, "index")->valuedouble;
        }
        cJSON_Delete(o);
    }
    free(line);
    if (f)
        fclose(f);
    CHECK_EQ_INT(requests, 4);
    CHECK_EQ_INT(replies, 4);
    CHECK(create_index > 0);
    return create_index;
}

static int run_tool(child_t *t, const char *const *argv)
{
    int rc = child_run(t, argv, NULL, 20000);
    if (rc != 0)
        fprintf(stderr, "%s exited %d:\n%s%s", argv[0], rc, t->out, t->err);
    return rc;
}

static void test_replay(collab_client_t *c, uint64_t create_index)
{
    child_t t;
    char idx[24];
    uint64_t before = it_project_total(c);
    const char *by_action[] = {replay_exe, capfile,          "--broker", B.endpoint,
                               "--action", "create_project", NULL};
    CHECK_EQ_INT(run_tool(&t, by_action), 0);
    CHECK(strstr(t.out, "create_project [1/1]: reply #") != NULL);
    CHECK(strstr(t.out, " ok data{project_id=") != NULL);
    CHECK(strstr(t.err, "1 sent: 1 accepted, 0 refused, 0 unanswered") != NULL);
    CHECK(strstr(t.err, "still being written") == NULL); /* the sniffer has stopped */
    child_free(&t);
    CHECK_EQ_U64(it_project_total(c), before + 1);

    snprintf(idx, sizeof idx, "%llu", (unsigned long long)create_index);
    const char *twice[] = {replay_exe, "-r", capfile,   "--broker", B.endpoint,
                           "--index",  idx,  "--count", "2",        NULL};
    CHECK_EQ_INT(run_tool(&t, twice), 0);
    CHECK_EQ_INT(count(t.out, " ok data{project_id="), 2);
    child_free(&t);
    CHECK_EQ_U64(it_project_total(c), before + 3);
}

static void test_tamper(collab_client_t *c)
{
    child_t t;
    char arg[24];
    uint64_t before = it_project_total(c);
    const char *argv[] = {
        replay_exe,     capfile,          "--broker", B.endpoint,  "--action", "close_project",
        "--set-action", "delete_project", "--source", "127.0.0.2", NULL};
    CHECK_EQ_INT(run_tool(&t, argv), 0);
    CHECK(strstr(t.out, "close_project as delete_project [1/1]: reply #") != NULL);
    CHECK(strstr(t.out, "deleted=true") != NULL);
    child_free(&t);
    CHECK_RC(it_call(c, NULL, "get_project", "project_id", it_u(arg, P), NULL), COLLAB_E_NOT_FOUND);
    CHECK_EQ_U64(it_project_total(c), before - 1);
}

/*  A create_project payload is no delete_project payload: every replay is refused. */
static void test_mismatch(void)
{
    child_t t;
    const char *argv[] = {replay_exe,     capfile,          "--broker",
                          B.endpoint,     "--action",       "create_project",
                          "--set-action", "delete_project", NULL};
    CHECK_EQ_INT(child_run(&t, argv, NULL, 20000), 5);
    if (!CHECK(strstr(t.out, "create_project as delete_project [1/1]: reply #") &&
               strstr(t.out, " error ") &&
               strstr(t.out, "hint: --set-action changes only the "
                             "action") &&
               strstr(t.err, "1 sent: 0 accepted, 1 refused")))
        fprintf(stderr, "collab-replay:\n%s%s", t.out, t.err);
    child_free(&t);
}

/*  -c 1 --action close_project: the sniffer stops by itself after that request. */
static void test_count_action(collab_client_t *c)
{
    child_t sn;
    char arg[24];
    const char *argv[] = {sniff_exe,       "-i", "lo", "--broker",
                          B.endpoint,      "-c", "1",  "--action",
                          "close_project", "-q", NULL};
    if (!CHECK(start_sniffer_argv(&sn, argv) == 0)) {
        child_free(&sn);
        return;
    }
    uint64_t p = it_create_project(c, "Counted");
    CHECK_OK(it_call(c, NULL, "close_project", "project_id", it_u(arg, p), NULL));
    CHECK_EQ_INT(child_wait(&sn, 10000), 0);
    CHECK(strstr(sn.err, "collab-sniff: ") && strstr(sn.err, " 0 gaps"));
    child_free(&sn);
}

/*  Replaying from a file the sniffer is still writing: the note, then the next run skips
    the replay the sniffer recorded. */
static void test_replay_while_sniffing(collab_client_t *c)
{
    child_t sn, t;
    char live[420];
    snprintf(live, sizeof live, "%s/live.jsonl", B.dir);
    const char *argv[] = {sniff_exe, "-i", "lo", "-p", port, "-w", live, NULL};
    if (!CHECK(start_sniffer_argv(&sn, argv) == 0)) {
        child_free(&sn);
        return;
    }
    it_create_project(c, "Watched");
    long at = child_expect(&sn, false, "(create_project) ok", 0, 10000);
    CHECK(at >= 0);
    const char *replay[] = {replay_exe,       live, "--broker", B.endpoint, "--action",
                            "create_project", NULL};
    CHECK_EQ_INT(run_tool(&t, replay), 0);
    CHECK(strstr(t.err, "is still being written by a running collab-sniff") != NULL);
    CHECK(strstr(t.err, "1 sent: 1 accepted") != NULL);
    child_free(&t);
    CHECK(child_expect(&sn, false, "(create_project) ok", at > 0 ? (size_t)at : 0, 10000) >= 0);
    CHECK_EQ_INT(run_tool(&t, replay), 0);
    if (!CHECK(strstr(t.err, "1 of the selected messages are replays of earlier messages") &&
               strstr(t.err, "skipped") && strstr(t.err, "1 sent: 1 accepted")))
        fprintf(stderr, "collab-replay:\n%s%s", t.out, t.err);
    child_free(&t);
    child_signal(&sn, SIGTERM);
    CHECK_EQ_INT(child_wait(&sn, 10000), 0);
    child_free(&sn);
}

static void run(void)
{
    child_t sn;
    it_begin("capture");
    int rc = start_sniffer(&sn);
    if (rc == 77) {
        child_free(&sn);
        broker_cleanup(&B);
        fprintf(stderr, "test_sniff_live: cannot capture on lo here: skipped\n");
        exit(77);
    }
    if (!CHECK(rc == 0)) {
        child_free(&sn);
        return;
    }
    collab_client_t *c = traffic();
    CHECK(child_expect(&sn, false, "(close_project) ok", 0, 10000) >= 0);
    child_signal(&sn, SIGTERM);
    CHECK_EQ_INT(child_wait(&sn, 10000), 0);
    check_output(&sn);
    uint64_t create_index = check_capture_file();
    child_free(&sn);
    it_begin("replay");
    test_replay(c, create_index);
    it_begin("mismatched payloads");
    test_mismatch();
    it_begin("tamper");
    test_tamper(c);
    it_begin("-c with --action");
    test_count_action(c);
    it_begin("replay while sniffing");
    test_replay_while_sniffing(c);
    collab_client_destroy(&c);
}

int main(int argc, char **argv)
{
    if (argc < 5 || broker_init(&B, argv[1], argv[2]) != 0)
        return 2;
    sniff_exe = argv[3];
    replay_exe = argv[4];
    snprintf(capfile, sizeof capfile, "%s/capture.jsonl", B.dir);
    if (CHECK(broker_start(&B, NULL) == 0)) {
        snprintf(port, sizeof port, "%d", B.port);
        run();
        it_stop(&B);
    }
    broker_cleanup(&B);
    zsys_shutdown();
    return it_exit("test_sniff_live");
}
