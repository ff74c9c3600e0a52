/*  test_swarm_e2e.c: the swarm end to end: a live broker, three collab-worker processes and
    collab-coordinator running the sample scenario. Every task must reach completed with a
    result; also when a worker is killed mid-task (its tasks are reassigned) and when the
    broker is killed and restarted mid-scenario. */
#include "agentproc.h"
#include "itest.h"

#include <czmq.h>
#include <signal.h>

static const char *worker_exe, *coord_exe, *scenario;

typedef struct {
    broker_proc_t b;
    agent_proc_t workers[3];
    agent_proc_t coord;
} swarm_t;

static int start_worker(swarm_t *s, int i, const char *work_ms)
{
    char agent[24];
    snprintf(agent, sizeof agent, "worker%d", i + 1);
    char *argv[] = {(char *)worker_exe,
                    "--broker",
                    s->b.endpoint,
                    "--agent",
                    agent,
                    "--password",
                    (char *)it_password(agent),
                    "--credentials",
                    (char *)s->b.creds,
                    "--work-ms",
                    (char *)work_ms,
                    "--heartbeat-ms",
                    "200",
                    NULL};
    return agent_spawn(&s->workers[i], argv);
}

static int start_coordinator(swarm_t *s)
{
    char *argv[] = {(char *)coord_exe,
                    "--broker",
                    s->b.endpoint,
                    "--agent",
                    "coordinator1",
                    "--password",
                    "coord123",
                    "--credentials",
                    (char *)s->b.creds,
                    "--scenario",
                    (char *)scenario,
                    "--silence-ms",
                    "1500",
                    "--deadline-ms",
                    "60000",
                    "--retries",
                    "10",
                    "--timeout-ms",
                    "1000",
                    NULL};
    return agent_spawn(&s->coord, argv);
}

static void stop_all(swarm_t *s)
{
    for (int i = 0; i < 3; i++)
        agent_kill(&s->workers[i], SIGTERM);
    if (tu_failures) /* the workers' side of a failure */
        for (int i = 0; i < 3; i++)
            fprintf(stderr, "worker%d output:\n%s\n", i + 1, s->workers[i].buf);
    agent_kill(&s->coord, SIGKILL);
    broker_cleanup(&s->b);
}

/*  Reads every project back: each task completed with a result. Returns the number of
    completed tasks, and how many were finished by `by` (NULL: not counted). */
static int count_completed(swarm_t *s, const char *by, int *by_count)
{
    collab_client_t *c = it_client(&s->b, "viewer1", true);
    int completed = 0;
    *by_count = 0;
    for (uint64_t pid = 1; c && pid <= 3; pid++) {
        char arg[32];
        collab_reply_t r;
        snprintf(arg, sizeof arg, "u:%llu", (unsigned long long)pid);
        if (!CHECK(it_call(c, &r, "get_project", "project_id", arg, NULL) == 0))
            continue;
        collab_mp_reader_t rd;
        uint32_t n = 0;
        CHECK(collab_map_array(&r.map, "tasks", &rd, &n) == 0);
        for (uint32_t i = 0; i < n; i++) {
            const uint8_t *start = rd.p;
            collab_map_t t;
            collab_span_t st, res, to;
            if (collab_mp_skip(&rd, 8, 1000) != 0 ||
                collab_map_parse(start, (size_t)(rd.p - start), &t) != 0)
                break;
            bool done = collab_map_str(&t, "status", &st) == 0 && collab_span_eq(st, "completed") &&
                        collab_map_str(&t, "result", &res) == 0 && res.len > 0;
            completed += done;
            if (done && by && collab_map_str(&t, "assigned_to", &to) == 0 && collab_span_eq(to, by))
                (*by_count)++;
        }
        collab_reply_free(&r);
    }
    collab_client_destroy(&c);
    return completed;
}

static void test_scenario_completes(void)
{
    it_begin("scenario completes");
    swarm_t s = {0};
    int unused;
    CHECK(broker_init(&s.b, getenv("E2E_BROKER"), getenv("E2E_CREDS")) == 0);
    CHECK(broker_start(&s.b, NULL) == 0);
    for (int i = 0; i < 3; i++)
        CHECK(start_worker(&s, i, "50") == 0);
    CHECK(start_coordinator(&s) == 0);
    int rc = agent_wait_exit(&s.coord, 60000);
    if (!CHECK(rc == 0))
        fprintf(stderr, "coordinator output:\n%s\n", s.coord.buf);
    CHECK(strstr(s.coord.buf, "12 of 12 tasks completed") != NULL);
    CHECK_EQ_INT(count_completed(&s, NULL, &unused), 12);
    stop_all(&s);
}

static void test_worker_killed(void)
{
    it_begin("worker killed mid-task");
    swarm_t s = {0};
    int by_w1 = 0;
    broker_init(&s.b, getenv("E2E_BROKER"), getenv("E2E_CREDS"));
    CHECK(broker_start(&s.b, NULL) == 0);
    CHECK(start_worker(&s, 0, "60000") == 0); /* worker1 never finishes on its own */
    CHECK(start_worker(&s, 1, "50") == 0);
    CHECK(start_worker(&s, 2, "50") == 0);
    for (int i = 0; i < 3; i++) /* all registered, so worker1 gets its share of the tasks */
        CHECK(agent_wait_output(&s.workers[i], "waiting for tasks", 30000));
    CHECK(start_coordinator(&s) == 0);
    CHECK(agent_wait_output(&s.workers[0], "working on task", 30000));
    agent_kill(&s.workers[0], SIGKILL);
    int rc = agent_wait_exit(&s.coord, 60000);
    if (!CHECK(rc == 0))
        fprintf(stderr, "coordinator output:\n%s\n", s.coord.buf);
    CHECK(strstr(s.coord.buf, "its worker went silent") != NULL);
    CHECK_EQ_INT(count_completed(&s, "worker1", &by_w1), 12);
    CHECK_EQ_INT(by_w1, 0); /* every task of the dead worker went to another */
    stop_all(&s);
}

static void test_broker_restart(void)
{
    it_begin("broker restarted mid-scenario");
    swarm_t s = {0};
    int unused;
    broker_init(&s.b, getenv("E2E_BROKER"), getenv("E2E_CREDS"));
    CHECK(broker_start(&s.b, NULL) == 0);
    for (int i = 0; i < 3; i++)
        CHECK(start_worker(&s, i, "300") == 0);
    CHECK(start_coordinator(&s) == 0);
    CHECK(agent_wait_output(&s.coord, "is completed", 30000));
    broker_kill9(&s.b);
    CHECK(broker_restart(&s.b) == 0);
    int rc = agent_wait_exit(&s.coord, 60000);
    if (!CHECK(rc == 0))
        fprintf(stderr, "coordinator output:\n%s\n", s.coord.buf);
    CHECK_EQ_INT(count_completed(&s, NULL, &unused), 12);
    stop_all(&s);
}

int main(int argc, char **argv)
{
    if (argc < 6)
        return 2;
    setenv("E2E_BROKER", argv[1], 1);
    setenv("E2E_CREDS", argv[2], 1);
    worker_exe = argv[3];
    coord_exe = argv[4];
    scenario = argv[5];
    signal(SIGPIPE, SIG_IGN);
    test_scenario_completes();
    test_worker_killed();
    test_broker_restart();
    zsys_shutdown();
    return it_exit("test_swarm_e2e");
}
