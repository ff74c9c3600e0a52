/*  test_admin_cli.c: collab-admin run as a child process against a live broker: usage,
    list-agents, set-role (checked through --json), list-sessions (handles, never tokens),
    revoke by agent and by handle, stats, and the exit codes for a non-admin, an
    unreachable broker and a wrong password. */
#include "childproc.h"
#include "collab_clock.h"
#include "itest.h"

#include <arpa/inet.h>
#include <cJSON.h>
#include <czmq.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#define RUN_MS 20000

static broker_proc_t B;
static const char *ADMIN;

static const char *const AGENTS[] = {"admin",   "coordinator1", "worker1", "worker2", "worker3",
                                     "viewer1", "worker4",      "worker5", "worker6", "worker7",
                                     "worker8", "coordinator2", "viewer2"};

/*  Runs collab-admin as agent (with its key when key) against endpoint, followed by the
    NULL-terminated arguments. Returns the exit code; the output stays in *c. */
static int run_admin_at(child_t *c, const char *endpoint, const char *agent, const char *pw,
                        bool key, const char *const *args)
{
    const char *argv[40] = {ADMIN,        "--broker", endpoint,       "--agent", agent,
                            "--password", pw,         "--timeout-ms", "5000"};
    int n = 9;
    if (key) {
        argv[n++] = "--credentials";
        argv[n++] = B.creds;
    }
    for (int i = 0; args[i] && n < 39; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    return child_run(c, argv, NULL, RUN_MS);
}

#define ADMIN_RUN(c, agent, key, ...)                                                              \
    run_admin_at((c), B.endpoint, (agent), it_password(agent), (key),                              \
                 (const char *const[]){__VA_ARGS__, NULL})

/*  The output as JSON (NULL and a failed check when it does not parse). */
static cJSON *json_of(const child_t *c)
{
    cJSON *j = cJSON_Parse(c->out);
    if (!CHECK(j != NULL))
        fprintf(stderr, "not JSON: %s\n", c->out);
    return j;
}

static const char *role_in(cJSON *agents_json, const char *agent)
{
    cJSON *a;
    cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(agents_json, "agents"))
    {
        cJSON *id = cJSON_GetObjectItemCaseSensitive(a, "agent_id");
        if (cJSON_IsString(id) && strcmp(id->valuestring, agent) == 0)
            return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, "role"));
    }
    return NULL;
}

static void test_usage(void)
{
    child_t c;
    CHECK_EQ_INT(ADMIN_RUN(&c, "admin", false, "--help"), 0);
    const char *want[] = {"set-role",        "list-sessions", "revoke",     "list-agents",
                          "list-workers",    "stats",         "--broker",   "--agent",
                          "--password-file", "--credentials", "--key-file", "--json",
                          "--timeout-ms"};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!CHECK(strstr(c.out, want[i]) != NULL))
            fprintf(stderr, "--help lacks %s\n", want[i]);
    child_free(&c);
    /* usage errors are found before any connection: an unreachable broker does not matter */
    const char *const none[] = {NULL};
    CHECK_EQ_INT(run_admin_at(&c, "tcp://127.0.0.1:1", "admin", "x", false, none), 2);
    CHECK(strstr(c.err, "no command") != NULL);
    child_free(&c);
    CHECK_EQ_INT(ADMIN_RUN(&c, "admin", false, "frobnicate"), 2);
    CHECK(strstr(c.err, "unknown command") != NULL);
    child_free(&c);
    CHECK_EQ_INT(ADMIN_RUN(&c, "admin", false, "set-role", "worker1"), 2);
    child_free(&c);
    CHECK_EQ_INT(ADMIN_RUN(&c, "admin", false, "list-agents", "--bogus"), 2);
    child_free(&c);
    CHECK_EQ_INT(ADMIN_RUN(&c, "admin", false, "--timeout-ms", "soon", "stats"), 2);
    child_free(&c);
}

static void test_list_agents(void)
{
    child_t c;
    CHECK_EQ_INT(ADMIN_RUN(&c, "admin", false, "list-agents"), 0);
    CHECK(strncmp(c.out, "AGENT", 5) == 0 && strstr(c.out, "ROLE") && strstr(c.out, "ONLINE"));
    int lines = 0;
    for (const char *p = c.out; (p = strchr(p, '\n')) != NULL; p++)
        lines++;
    CHECK_EQ_INT(lines, 1 + 13);
    for (size_t i = 0; i < 13; i++) {
        char line_start[80];
        snprintf(line_start, sizeof line_start, "\n%s ", AGENTS[i]);
        if (!CHECK(strstr(c.out, line_start) != NULL))
            fprintf(stderr, "list-agents lacks %s:\n%s", AGENTS[i], c.out);
    }
    char id[64] = "", role[64] = "";
    const char *v = strstr(c.out, "\nviewer1 ");
    CHECK(v && sscanf(v + 1, "%63s %63s", id, role) == 2 && strcmp(role, "observer") == 0);
    child_free(&c);

    CHECK_EQ_INT(ADMIN_RUN(&c, "admin", false, "list-agents", "--json"), 0);
    cJSON *j = json_of(&c);
    CHECK_EQ_INT(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "agents")), 13);
    CHECK_STR(role_in(j, "admin"), "admin");
    CHECK_STR(role_in(j, "worker3"), "worker");
    cJSON_Delete(j);
    child_free(&c);
}

static void test_set_role(void)
{
    child_t c;
    CHECK_EQ_INT(ADMIN_RUN(&c, "admin", true, "set-role", "worker3", "observer"), 0);
    CHECK(strstr(c.out, "worker3: worker -> observer") != NULL);
    child_free(&c);
    CHECK_EQ_INT(ADMIN_RUN(&c, "admin", false, "list-agents", "--json"), 0);
    cJSON *j = json_of(&c);
    CHECK_STR(role_in(j, "worker3"), "observer");
    CHECK_STR(role_in(j, "worker2"), "worker");
    cJSON_Delete(j);
    child_free(&c);

    /* signed: without a key it says so and sends nothing */
    CHECK_EQ_INT(ADMIN_RUN(&c, "admin", false, "set-role", "worker3", "worker"), 2);
    CHECK(strstr(c.err, "must be signed") != NULL);
    child_free(&c);
    /* a role outside the four is a usage error, refused before anything is sent */
    const char *const bad_roles[] = {"emperor", "boss", "Worker", ""};
    for (size_t i = 0; i < sizeof bad_roles / sizeof bad_roles[0]; i++) {
        CHECK_EQ_INT(ADMIN_RUN(&c, "admin", true, "set-role", "worker1", bad_roles[i]), 2);
        CHECK(strstr(c.err, "unknown role") &&
              strstr(c.err, "admin, coordinator, worker or observer"));
        child_free(&c);
    }
    CHECK_EQ_INT(ADMIN_RUN(&c, "admin", false, "list-agents", "--json"), 0);
    j = json_of(&c);
    CHECK_STR(role_in(j, "worker1"), "worker");
    cJSON_Delete(j);
    child_free(&c);
    CHECK_EQ_INT(ADMIN_RUN(&c, "admin", true, "set-role", "nobody", "worker"), 5);
    CHECK(strstr(c.err, "not_found") != NULL);
    child_free(&c);
    CHECK_EQ_INT(ADMIN_RUN(&c, "admin", true, "--json", "set-role", "worker3", "worker"), 0);
    j = json_of(&c);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "role")), "worker");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "previous")), "observer");
    cJSON_Delete(j);
    child_free(&c);
}

/*  The handle of a client's session, from get_session_info. */
static uint64_t handle_of(collab_client_t *cl)
{
    collab_reply_t r;
    uint64_t h = 0;
    if (CHECK(it_call(cl, &r, "get_session_info", NULL) == 0)) {
        h = it_u64(&r, "handle");
        collab_reply_free(&r);
    }
    return h;
}

static void test_list_sessions(void)
{
    collab_client_t *cl = it_client(&B, "coordinator1", true);
    if (!cl)
        return;
    const char *token = collab_client_session(cl);
    uint64_t h = handle_of(cl);
    char hs[32];
    snprintf(hs, sizeof hs, "\n%llu ", (unsigned long long)h);
    child_t c;
    CHECK_EQ_INT(ADMIN_RUN(&c, "admin", false, "list-sessions"), 0);
    CHECK(strncmp(c.out, "HANDLE", 6) == 0 && strstr(c.out, "PEER"));
    CHECK(strstr(c.out, hs) != NULL);
    CHECK(strstr(c.out, "coordinator1") != NULL);
    CHECK(strstr(c.out, token) == NULL);
    child_free(&c);

    CHECK_EQ_INT(ADMIN_RUN(&c, "admin", false, "list-sessions", "coordinator1", "--json"), 0);
    CHECK(strstr(c.out, token) == NULL);
    cJSON *j = json_of(&c), *s;
    cJSON *sessions = cJSON_GetObjectItemCaseSensitive(j, "sessions");
    CHECK_EQ_INT(cJSON_GetArraySize(sessions), 1);
    CHECK_EQ_INT(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(j, "total")), 1);
    cJSON_ArrayForEach(s, sessions)
    {
        CHECK_EQ_U64((uint64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(s, "handle")),
                     h);
        CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(s, "agent_id")),
                  "coordinator1");
        CHECK(cJSON_GetObjectItemCaseSensitive(s, "session_id") == NULL);
    }
    cJSON_Delete(j);
    child_free(&c);
    collab_client_destroy(&cl);
}

static void test_revoke(void)
{
    collab_client_t *a = it_client(&B, "worker2", true), *b = it_client(&B, "worker2", true);
    collab_client_t *keep = it_client(&B, "worker1", true);
    child_t c;
    CHECK_EQ_INT(ADMIN_RUN(&c, "admin", true, "revoke", "worker2"), 0);
    CHECK(strstr(c.out, "revoked 2 sessions") != NULL);
    child_free(&c);
    CHECK_RC(it_call(a, NULL, "heartbeat", NULL), COLLAB_E_SESSION_INVALID);
    CHECK_RC(it_call(b, NULL, "heartbeat", NULL), COLLAB_E_SESSION_INVALID);
    CHECK_OK(it_call(keep, NULL, "heartbeat", NULL));

    /* by handle: one session ends, the agent's other one stays */
    CHECK_OK(collab_client_login(a));
    CHECK_OK(collab_client_login(b));
    char hs[32];
    snprintf(hs, sizeof hs, "%llu", (unsigned long long)handle_of(a));
    CHECK_EQ_INT(ADMIN_RUN(&c, "admin", true, "--json", "revoke", hs), 0);
    cJSON *j = json_of(&c);
    CHECK_EQ_INT(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(j, "revoked")), 1);
    cJSON_Delete(j);
    child_free(&c);
    CHECK_RC(it_call(a, NULL, "heartbeat", NULL), COLLAB_E_SESSION_INVALID);
    CHECK_OK(it_call(b, NULL, "heartbeat", NULL));
    CHECK_EQ_INT(ADMIN_RUN(&c, "admin", true, "revoke", "987654"), 5);
    CHECK(strstr(c.err, "not_found") != NULL);
    child_free(&c);
    collab_client_destroy(&a);
    collab_client_destroy(&b);
    collab_client_destroy(&keep);
}

static void test_stats(void)
{
    child_t c;
    CHECK_EQ_INT(ADMIN_RUN(&c, "admin", false, "stats", "--json"), 0);
    cJSON *j = json_of(&c);
    const char *counters[] = {"requests",  "replies_ok",    "replies_error", "refused_forbidden",
                              "logins_ok", "logins_failed", "sessions_open", "uptime_s"};
    for (size_t i = 0; i < sizeof counters / sizeof counters[0]; i++)
        if (!CHECK(cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(j, counters[i]))))
            fprintf(stderr, "stats lacks %s\n", counters[i]);
    CHECK(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(j, "requests")) > 10);
    CHECK(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(j, "logins_ok")) > 5);
    CHECK(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(j, "sessions_open")) >= 1);
    cJSON_Delete(j);
    child_free(&c);
    CHECK_EQ_INT(ADMIN_RUN(&c, "admin", false, "stats"), 0);
    CHECK(strncmp(c.out, "requests ", 9) == 0 && strstr(c.out, "\nlogins_ok "));
    child_free(&c);
}

static void test_refusals(void)
{
    child_t c;
    CHECK_EQ_INT(ADMIN_RUN(&c, "coordinator1", false, "stats"), 5);
    CHECK(strstr(c.err, "get_stats refused") && strstr(c.err, "forbidden"));
    CHECK_EQ_INT(c.out_len, 0);
    child_free(&c);
    CHECK_EQ_INT(ADMIN_RUN(&c, "worker1", true, "set-role", "worker1", "admin"), 5);
    CHECK(strstr(c.err, "forbidden") != NULL);
    child_free(&c);

    CHECK_EQ_INT(run_admin_at(&c, B.endpoint, "admin", "wrong-password", false,
                              (const char *const[]){"stats", NULL}),
                 4);
    CHECK(strstr(c.err, "refused") != NULL);
    child_free(&c);
}

/*  A port that refuses connections: bound, never listening, held open meanwhile. */
static int dead_port(int *fd)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    *fd = socket(AF_INET, SOCK_STREAM, 0);
    if (*fd < 0 || bind(*fd, (struct sockaddr *)&a, sizeof a) != 0 ||
        getsockname(*fd, (struct sockaddr *)&a, &len) != 0)
        return -1;
    return ntohs(a.sin_port);
}

static void test_unreachable(void)
{
    int fd, port = dead_port(&fd);
    char ep[64];
    child_t c;
    if (!CHECK(port > 0))
        return;
    snprintf(ep, sizeof ep, "tcp://127.0.0.1:%d", port);
    const char *const args[] = {"--timeout-ms", "300", "--retries", "0", "list-agents", NULL};
    CHECK_EQ_INT(run_admin_at(&c, ep, "admin", "admin123", false, args), 3);
    CHECK(strstr(c.err, "no broker answers at") != NULL);
    child_free(&c);
    /* the default: the first connection gets 5 s, not every retry of a slow login (36 s) */
    const char *argv[] = {ADMIN,      "--broker",    ep,  "--agent", "admin", "--password",
                          "admin123", "list-agents", NULL};
    int64_t t0 = collab_mono_ms();
    CHECK_EQ_INT(child_run(&c, argv, NULL, RUN_MS), 3);
    CHECK(collab_mono_ms() - t0 >= 4500 && collab_mono_ms() - t0 < 8000);
    CHECK(strstr(c.err, "no broker answers at") && strstr(c.err, "--connect-timeout-ms"));
    child_free(&c);
    const char *const quick[] = {"--connect-timeout-ms", "200", "list-agents", NULL};
    t0 = collab_mono_ms();
    CHECK_EQ_INT(run_admin_at(&c, ep, "admin", "admin123", false, quick), 3);
    CHECK(collab_mono_ms() - t0 < 3000);
    child_free(&c);
    close(fd);
    /* an endpoint that is none is said at once, exit 3, not "a payload value ..." */
    const char *const none[] = {"list-agents", NULL};
    CHECK_EQ_INT(run_admin_at(&c, "notaurl", "admin", "admin123", false, none), 3);
    CHECK(strstr(c.err, "'notaurl' is not a broker endpoint: expected tcp://HOST:PORT") != NULL);
    child_free(&c);
}

int main(int argc, char **argv)
{
    if (argc < 4 || broker_init(&B, argv[1], argv[2]) != 0)
        return 2;
    ADMIN = argv[3];
    if (!CHECK(broker_start(&B, NULL) == 0))
        return 1;
    TU_RUN(test_usage);
    TU_RUN(test_list_agents);
    TU_RUN(test_set_role);
    TU_RUN(test_list_sessions);
    TU_RUN(test_revoke);
    TU_RUN(test_stats);
    TU_RUN(test_refusals);
    TU_RUN(test_unreachable);
    broker_cleanup(&B);
    zsys_shutdown();
    return it_exit("test_admin_cli");
}
