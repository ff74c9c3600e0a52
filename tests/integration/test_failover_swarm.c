/*  test_failover_swarm: the coordinator's scenario and three workers, every agent given two
    endpoints, while its brokers lose writes: a proxy in front of one real broker plays two
    brokers (dropproxy.h) and drops, once each, the reply to a create_project, to an
    assign_task and to a close_project (the broker did them, then "died"), and the request
    of a worker's update_task_status to completed (the broker died before doing it). The
    client library sends none of them again; the coordinator and the worker read the state
    and send only what is missing. The run must end as a clean one does: exit 0, exactly 3
    projects, all closed, and 12 tasks, all completed, nothing twice. */
#include "agentproc.h"
#include "dropproxy.h"
#include "itest.h"

#include <czmq.h>
#include <signal.h>

static const char *broker_exe, *creds, *worker_exe, *coord_exe, *scenario;

static int start_agent(agent_proc_t *p, const char *exe, const char *agent, const char *eps,
                       const char *creds, const char *const *own)
{
    char *argv[32] = {(char *)exe,
                      "--broker",
                      (char *)eps,
                      "--agent",
                      (char *)agent,
                      "--password",
                      (char *)it_password(agent),
                      "--credentials",
                      (char *)creds,
                      "--timeout-ms",
                      "700",
                      "--retries",
                      "3"};
    size_t n = 13;
    for (size_t i = 0; own[i] && n < 31; i++)
        argv[n++] = (char *)own[i];
    argv[n] = NULL;
    return agent_spawn(p, argv);
}

static int count(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = text; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

/*  Reads the state back through the broker itself: projects, their status, their tasks. */
static void check_state(const broker_proc_t *b)
{
    collab_client_t *c = it_client(b, "viewer1", true);
    collab_reply_t r;
    uint64_t tasks = 0, completed = 0, closed = 0;
    if (!c || !CHECK(it_call(c, &r, "list_projects", NULL) == 0))
        goto out;
    uint32_t n = it_array_len(&r.map, "projects");
    CHECK_EQ_U64(it_u64(&r, "total"), 3);
    for (uint32_t i = 0; i < n; i++) {
        collab_map_t p;
        uint64_t count = 0;
        CHECK(it_array_map_at(&r.map, "projects", i, &p) == 0);
        collab_map_uint(&p, "task_count", &count);
        tasks += count;
        closed += it_str_is(&p, "status", "closed");
    }
    collab_reply_free(&r);
    CHECK_EQ_U64(tasks, 12);
    CHECK_EQ_U64(closed, 3);
    for (uint64_t pid = 1; pid <= 3; pid++) {
        char arg[24];
        if (!CHECK(it_call(c, &r, "get_project", "project_id", it_u(arg, pid), NULL) == 0))
            continue;
        for (uint32_t i = 0; i < it_array_len(&r.map, "tasks"); i++) {
            collab_map_t t;
            completed += it_array_map_at(&r.map, "tasks", i, &t) == 0 &&
                         it_str_is(&t, "status", "completed");
        }
        collab_reply_free(&r);
    }
    CHECK_EQ_U64(completed, 12);
out:
    collab_client_destroy(&c);
}

static void test_lost_writes(void)
{
    it_begin("writes lost by a broker: read, then only what is missing");
    broker_proc_t b = {0};
    agent_proc_t workers[3] = {0}, coord = {0};
    static const drop_rule_t rules[] = {
        {"create_project", NULL, false},
        {"assign_task", NULL, false},
        {"close_project", NULL, false},
        {"update_task_status", "completed", true},
    };
    CHECK(broker_init(&b, broker_exe, creds) == 0);
    CHECK(broker_start(&b, NULL) == 0);
    drop_proxy_t *px = drop_proxy_new(b.endpoint, 2, rules, 4);
    CHECK(px != NULL);
    char eps[160];
    snprintf(eps, sizeof eps, "%s,%s", px ? drop_proxy_endpoint(px, 0) : "",
             px ? drop_proxy_endpoint(px, 1) : "");
    const char *wargs[] = {"--work-ms", "50", "--heartbeat-ms", "200", NULL};
    for (int i = 0; i < 3; i++) {
        char agent[16];
        snprintf(agent, sizeof agent, "worker%d", i + 1);
        CHECK(start_agent(&workers[i], worker_exe, agent, eps, b.creds, wargs) == 0);
        CHECK(agent_wait_output(&workers[i], "waiting for tasks", 30000));
    }
    const char *cargs[] = {"--scenario", scenario, "--silence-ms", "3000", "--deadline-ms",
                           "30000",      NULL};
    CHECK(start_agent(&coord, coord_exe, "coordinator1", eps, b.creds, cargs) == 0);
    CHECK_EQ_INT(agent_wait_exit(&coord, 60000), 0);
    CHECK(strstr(coord.buf, "12 of 12 tasks completed") != NULL);
    CHECK(strstr(coord.buf, "create_project had been done: not sent again") != NULL);
    CHECK(strstr(coord.buf, "assign_task had been done: not sent again") != NULL);
    CHECK(strstr(coord.buf, "close_project had been done: not sent again") != NULL);
    CHECK_EQ_INT(px ? drop_proxy_fired(px) : 0, 4);
    check_state(&b);
    for (int i = 0; i < 3; i++)
        agent_kill(&workers[i], SIGTERM);
    /* the worker whose update was lost read the task and sent it again, rather than
       finding it later among its tasks still in progress and doing the work twice */
    int reread = 0, worked = 0;
    for (int i = 0; i < 3; i++) {
        reread += count(workers[i].buf, "-> completed: reading the task");
        worked += count(workers[i].buf, ": working on task");
    }
    CHECK_EQ_INT(reread, 1);
    CHECK_EQ_INT(worked, 12);
    if (tu_failures) {
        fprintf(stderr, "coordinator output:\n%s\n", coord.buf);
        for (int i = 0; i < 3; i++)
            fprintf(stderr, "worker%d output:\n%s\n", i + 1, workers[i].buf);
    }
    drop_proxy_destroy(&px);
    broker_cleanup(&b);
}

int main(int argc, char **argv)
{
    if (argc < 6)
        return 2;
    const char **args[] = {&broker_exe, &creds, &worker_exe, &coord_exe, &scenario};
    for (int i = 0; i < 5; i++)
        *args[i] = argv[i + 1];
    signal(SIGPIPE, SIG_IGN);
    test_lost_writes();
    zsys_shutdown();
    return it_exit("test_failover_swarm");
}
