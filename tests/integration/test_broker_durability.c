/*  test_broker_durability.c: what the broker acknowledged survives. A clean restart keeps
    every project, task, session, role and worker byte for byte; kill -9 in the middle of
    a pipelined burst of create_project loses none of the acknowledged projects; and an
    agent that reconnects catches up on exactly the events it missed, across restarts. */
#include "itest.h"
#include "collab_clock.h"

static broker_proc_t B, K;

/*  A reply's data bytes, kept for comparison. */
typedef struct {
    int rc;
    uint8_t *data;
    size_t len;
} snap_t;

static snap_t snap(collab_client_t *c, const char *action, const char *key, uint64_t id)
{
    snap_t s = {0};
    collab_reply_t r;
    char v[24];
    s.rc = key ? it_call(c, &r, action, key, it_u(v, id), NULL) : it_call(c, &r, action, NULL);
    if (s.rc == 0) {
        s.data = r.data;
        s.len = r.data_len;
        r.data = NULL;
    }
    return s;
}

static void same(snap_t *before, snap_t after, const char *what)
{
    CHECK_RC(after.rc, before->rc);
    if (before->len != after.len ||
        (before->len && memcmp(before->data, after.data, before->len) != 0)) {
        CHECK(!"the same bytes after the restart");
        fprintf(stderr, "  differs: %s\n", what);
    }
    free(before->data);
    free(after.data);
}

static void set_status(collab_client_t *c, uint64_t tid, const char *status)
{
    char t[24];
    CHECK_OK(it_call(c, NULL, "update_task_status", "task_id", it_u(t, tid), "status", status,
                     "result", "done by the test", NULL));
}

static void test_restart_keeps_everything(void)
{
    it_begin("restart keeps everything");
    collab_client_t *c = it_client(&B, "coordinator1", true);
    collab_client_t *w = it_client(&B, "worker1", true);
    collab_client_t *a = it_client(&B, "admin", true);
    if (!c || !w || !a)
        goto out;
    enum { NP = 5 };
    uint64_t pid[NP], tid[NP][2];
    char p[24];
    for (int i = 0; i < NP; i++) {
        char name[32];
        snprintf(name, sizeof name, "durable %d \xc3\xa9t\xc3\xa9", i);
        pid[i] = it_create_project(c, name);
        tid[i][0] = it_assign_task(c, pid[i], "worker1", "first");
        tid[i][1] = it_assign_task(c, pid[i], "worker2", "second");
    }
    set_status(w, tid[0][0], "in_progress");
    set_status(w, tid[1][0], "in_progress");
    set_status(w, tid[1][0], "completed");
    set_status(c, tid[2][1], "cancelled");
    CHECK_OK(it_call(c, NULL, "close_project", "project_id", it_u(p, pid[3]), NULL));
    CHECK_OK(it_call(c, NULL, "delete_project", "project_id", it_u(p, pid[4]), NULL));
    CHECK_OK(it_call(a, NULL, "set_role", "agent_id", "worker3", "role", "observer", NULL));
    uint8_t caps[] = "\x81\xac"
                     "capabilities\x92\xa7testing\xa5"
                     "build";
    collab_reply_t r;
    CHECK_OK(collab_client_request(w, "register_worker", caps, sizeof caps - 1, &r) == 0 && r.ok
                 ? 0
                 : COLLAB_E_INTERNAL);
    collab_reply_free(&r);

    snap_t proj[NP], task[NP][2], lists[4];
    for (int i = 0; i < NP; i++) {
        proj[i] = snap(c, "get_project", "project_id", pid[i]);
        for (int k = 0; k < 2; k++)
            task[i][k] = snap(c, "get_task", "task_id", tid[i][k]);
    }
    CHECK_RC(proj[4].rc, COLLAB_E_NOT_FOUND);
    char sid[3][COLLAB_MAX_SESSION_ID + 1];
    collab_client_t *all[3] = {c, w, a};
    uint64_t handle[3];
    for (int i = 0; i < 3; i++) {
        snprintf(sid[i], sizeof sid[i], "%s", collab_client_session(all[i]));
        handle[i] = it_handle(all[i]);
    }
    /* worker1 makes no request from here on, so its last_seen must come back unchanged */
    lists[0] = snap(c, "list_projects", NULL, 0);
    lists[1] = snap(c, "list_agents", NULL, 0);
    lists[2] = snap(c, "list_workers", NULL, 0);
    CHECK_OK(it_call(a, &r, "list_sessions", "agent_id", "worker1", NULL));
    lists[3] = (snap_t){0, r.data, r.data_len};

    CHECK_EQ_INT(broker_stop(&B), 0);
    CHECK(broker_restart(&B) == 0); /* if not, every comparison below fails: said once each */
    for (int i = 0; i < NP; i++) {
        same(&proj[i], snap(c, "get_project", "project_id", pid[i]), "get_project");
        for (int k = 0; k < 2; k++)
            same(&task[i][k], snap(c, "get_task", "task_id", tid[i][k]), "get_task");
    }
    same(&lists[0], snap(c, "list_projects", NULL, 0), "list_projects");
    same(&lists[1], snap(c, "list_agents", NULL, 0), "list_agents (roles)");
    same(&lists[2], snap(c, "list_workers", NULL, 0), "list_workers (last_seen)");
    CHECK_OK(it_call(a, &r, "list_sessions", "agent_id", "worker1", NULL));
    same(&lists[3], (snap_t){0, r.data, r.data_len}, "list_sessions (last_activity)");
    for (int i = 0; i < 3; i++) { /* the same sessions, no new login */
        CHECK_EQ_U64(it_handle(all[i]), handle[i]);
        CHECK_STR(collab_client_session(all[i]), sid[i]);
    }
    /* ids keep counting after the last one handed out, the deleted project's included */
    uint64_t next = it_create_project(c, "after the restart");
    CHECK(next > pid[NP - 1]);
out:
    collab_client_destroy(&a);
    collab_client_destroy(&w);
    collab_client_destroy(&c);
}

/*  One pipelined sender: a raw DEALER on an agent's session. */
typedef struct {
    const char *agent;
    collab_client_t *client;
    zsock_t *raw;
    uint8_t key[COLLAB_KEY_LEN];
} sender_t;

#define BURST      1000 /* requests per sender */
#define KILL_AFTER 300

static void burst_send(sender_t *s)
{
    uint8_t pay[128], f[512];
    for (uint64_t i = 1; i <= BURST; i++) {
        char name[64];
        snprintf(name, sizeof name, "burst %s %llu", s->agent, (unsigned long long)i);
        it_req_t q = {.request_id = i,
                      .action = "create_project",
                      .agent_id = s->agent,
                      .session_id = collab_client_session(s->client),
                      .key = s->key};
        q.payload = pay;
        q.payload_len = it_pack(pay, sizeof pay, "name", name, NULL);
        size_t len = it_encode(&q, f, sizeof f);
        if (!CHECK(len > 0 && it_raw_send(s->raw, f, len, false) == 0))
            return;
    }
}

static void test_kill9_burst(void)
{
    it_begin("kill -9 during a burst");
    static it_msg_t m;
    static struct {
        uint64_t project_id;
        int sender;
        uint64_t n;
    } acked[2 * BURST];
    sender_t s[2] = {{.agent = "coordinator1"}, {.agent = "admin"}};
    int nacked = 0, errors = 0;
    for (int i = 0; i < 2; i++) {
        s[i].client = it_client(&K, s[i].agent, true);
        s[i].raw = it_raw_new(K.endpoint);
        it_key(&K, s[i].agent, s[i].key);
        if (!s[i].client || !s[i].raw)
            goto out;
    }
    burst_send(&s[0]);
    burst_send(&s[1]);
    int64_t deadline = collab_mono_ms() + 20000;
    while (nacked < KILL_AFTER && collab_mono_ms() < deadline) {
        zmq_pollitem_t items[2] = {{zsock_resolve(s[0].raw), 0, ZMQ_POLLIN, 0},
                                   {zsock_resolve(s[1].raw), 0, ZMQ_POLLIN, 0}};
        if (zmq_poll(items, 2, 1000) <= 0)
            continue;
        for (int i = 0; i < 2 && nacked < KILL_AFTER; i++) {
            if (!(items[i].revents & ZMQ_POLLIN) || it_raw_recv(s[i].raw, &m, 0) != 0 ||
                m.env.kind != COLLAB_KIND_REPLY)
                continue;
            uint64_t id = 0;
            if (!m.env.ok || collab_map_uint(&m.data, "project_id", &id) != 0) {
                errors++;
                continue;
            }
            acked[nacked].project_id = id;
            acked[nacked].sender = i;
            acked[nacked++].n = m.env.request_id;
        }
    }
    broker_kill9(&K); /* mid-burst: replies not yet read, requests not yet handled */
    CHECK_EQ_INT(errors, 0);
    CHECK_EQ_INT(nacked, KILL_AFTER);
    if (!CHECK(broker_restart(&K) == 0))
        goto out;
    collab_client_t *c = it_client(&K, "coordinator1", true);
    int present = 0;
    for (int i = 0; c && i < nacked; i++) {
        collab_reply_t r;
        char p[24], name[64];
        snprintf(name, sizeof name, "burst %s %llu", s[acked[i].sender].agent,
                 (unsigned long long)acked[i].n);
        int rc = it_call(c, &r, "get_project", "project_id", it_u(p, acked[i].project_id), NULL);
        if (rc == 0) {
            present += it_str_is(&r.map, "name", name);
            collab_reply_free(&r);
        }
    }
    uint64_t total = c ? it_project_total(c) : 0;
    fprintf(stderr,
            "  %d of %d requests acknowledged before kill -9, %d of them present after "
            "the restart; %llu projects committed in all (%s)\n",
            nacked, 2 * BURST, present, (unsigned long long)total,
            total < 2 * BURST ? "killed mid-burst" : "the burst had finished");
    CHECK_EQ_INT(present, nacked);
    CHECK(total >= (uint64_t)nacked && total <= 2 * BURST);
    collab_client_destroy(&c);
out:
    for (int i = 0; i < 2; i++) {
        zsock_destroy(&s[i].raw);
        collab_client_destroy(&s[i].client);
    }
}

/*  A worker that missed events catches up from `since`: exactly the tasks expected, in
    order, with consecutive sequence numbers, and nothing more. */
static uint64_t catch_up(broker_proc_t *b, uint64_t since, const uint64_t *tasks, int n)
{
    collab_client_t *w = it_client(b, "worker6", true);
    if (!w)
        return since;
    collab_client_set_last_seq(w, since);
    collab_reply_t r;
    char s[24];
    CHECK_OK(it_call(w, &r, "subscribe", "since", it_u(s, since), NULL));
    CHECK_EQ_U64(it_u64(&r, "replayed"), (uint64_t)n);
    CHECK_EQ_U64(it_u64(&r, "last_seq"), since + (uint64_t)n);
    collab_reply_free(&r);
    for (int i = 0; i < n; i++) {
        collab_event_msg_t ev;
        uint64_t seq = it_expect_event(w, "task_assigned", 5000, &ev);
        if (!seq)
            break;
        CHECK_EQ_U64(seq, since + 1 + (uint64_t)i);
        uint64_t tid = 0;
        collab_map_uint(&ev.map, "task_id", &tid);
        CHECK_EQ_U64(tid, tasks[i]);
        collab_event_free(&ev);
    }
    collab_event_msg_t ev;
    CHECK_RC(collab_client_next_event(w, &ev, 300), COLLAB_E_TIMEOUT); /* nothing more */
    uint64_t last = collab_client_last_seq(w);
    collab_client_destroy(&w); /* no logout: the agent just goes away */
    return last;
}

static void test_event_catch_up(void)
{
    it_begin("event catch-up");
    collab_client_t *c = it_client(&B, "coordinator1", true);
    collab_client_t *w = it_client(&B, "worker6", true);
    if (!c || !w)
        goto out;
    CHECK_OK(collab_client_subscribe(w, false));
    uint64_t pid = it_create_project(c, "events");
    uint64_t t[7];
    t[0] = it_assign_task(c, pid, "worker6", "seen");
    uint64_t k = it_expect_event(w, "task_assigned", 5000, NULL);
    collab_client_destroy(&w);
    t[1] = it_assign_task(c, pid, "worker6", "missed 1");
    t[2] = it_assign_task(c, pid, "worker6", "missed 2");
    k = catch_up(&B, k, &t[1], 2);

    it_begin("event catch-up across a restart");
    t[3] = it_assign_task(c, pid, "worker6", "missed 3");
    t[4] = it_assign_task(c, pid, "worker6", "missed 4");
    CHECK_EQ_INT(broker_stop(&B), 0);
    if (!CHECK(broker_restart(&B) == 0))
        goto out;
    k = catch_up(&B, k, &t[3], 2);

    it_begin("event catch-up across kill -9");
    t[5] = it_assign_task(c, pid, "worker6", "missed 5");
    t[6] = it_assign_task(c, pid, "worker6", "missed 6");
    broker_kill9(&B);
    if (!CHECK(broker_restart(&B) == 0))
        goto out;
    catch_up(&B, k, &t[5], 2);
out:
    collab_client_destroy(&w);
    collab_client_destroy(&c);
}

int main(int argc, char **argv)
{
    if (argc < 3 || broker_init(&B, argv[1], argv[2]) != 0 || broker_init(&K, argv[1], argv[2]))
        return 2;
    const char *const burst[] = {"--set", "limits.projects_per_agent=100000", "--set",
                                 "loop.batch_max=32", NULL};
    if (CHECK(broker_start(&B, NULL) == 0) && CHECK(broker_start(&K, burst) == 0)) {
        test_restart_keeps_everything();
        test_kill9_burst();
        test_event_catch_up();
    }
    it_stop(&B);
    broker_cleanup(&B);
    it_stop(&K);
    broker_cleanup(&K);
    zsys_shutdown();
    return it_exit("test_broker_durability");
}
