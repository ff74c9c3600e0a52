/*  test_broker_roles.c: who may do what under stage2. The weak role matrix of PROTOCOL.md
    section 6 (only create_project and assign_task gated; the admin actions admin-only),
    the stale-permissions weakness after set_role, list_sessions without bearer tokens,
    revocation by handle and by agent, and the agent and worker lists. */
#include "itest.h"

#include <stdarg.h>

static broker_proc_t B;

typedef struct {
    const char *agent, *role;
    bool manager; /* may create projects and assign tasks */
} who_t;

static const who_t WHO[] = {
    {"admin", "admin", true},
    {"coordinator1", "coordinator", true},
    {"worker1", "worker", false},
    {"viewer1", "observer", false},
};

/*  register_worker with the NULL-terminated capabilities (it_call packs no arrays). */
static int register_worker(collab_client_t *c, ...)
{
    uint8_t buf[1024];
    const char *caps[COLLAB_MAX_CAPABILITIES + 2];
    uint32_t n = 0;
    va_list ap;
    va_start(ap, c);
    for (const char *s; n < COLLAB_MAX_CAPABILITIES + 2 && (s = va_arg(ap, const char *));)
        caps[n++] = s;
    va_end(ap);
    collab_pack_t p;
    size_t len;
    collab_pack_init(&p, buf, sizeof buf);
    collab_pack_map(&p, 1);
    collab_pack_str(&p, "capabilities");
    collab_pack_array(&p, n);
    for (uint32_t i = 0; i < n; i++)
        collab_pack_str(&p, caps[i]);
    if (collab_pack_finish(&p, &len) != 0)
        return COLLAB_E_TOO_LARGE;
    collab_reply_t r;
    int rc = collab_client_request(c, "register_worker", buf, len, &r);
    if (rc == 0) {
        rc = r.ok ? 0 : r.code;
        collab_reply_free(&r);
    }
    return rc;
}

/*  The actions any logged-in agent may call, whatever its role. */
static void check_reads(collab_client_t *c, uint64_t pid, uint64_t tid)
{
    char p[24], t[24];
    CHECK_OK(it_call(c, NULL, "heartbeat", NULL));
    CHECK_OK(it_call(c, NULL, "get_session_info", NULL));
    CHECK_OK(it_call(c, NULL, "list_projects", NULL));
    CHECK_OK(it_call(c, NULL, "get_project", "project_id", it_u(p, pid), NULL));
    CHECK_OK(it_call(c, NULL, "get_task", "task_id", it_u(t, tid), NULL));
    CHECK_OK(it_call(c, NULL, "list_workers", NULL));
    CHECK_OK(it_call(c, NULL, "list_agents", NULL));
    CHECK_OK(it_call(c, NULL, "subscribe", NULL));
    /* change_password is open to all: a wrong old password is auth_failed, not forbidden */
    CHECK_RC(it_call(c, NULL, "change_password", "old_password", "not-it", "new_password",
                     "whatever1", NULL),
             COLLAB_E_AUTH_FAILED);
}

/*  The gated collaboration actions: admin and coordinator only. */
static void check_gated(collab_client_t *c, const who_t *w, uint64_t pid)
{
    char p[24];
    uint64_t before = it_project_total(c);
    int rc = it_call(c, NULL, "create_project", "name", "by role", NULL);
    CHECK_RC(rc, w->manager ? 0 : COLLAB_E_FORBIDDEN);
    CHECK_EQ_U64(it_project_total(c), before + (w->manager ? 1 : 0));
    collab_reply_t r;
    CHECK_OK(it_call(c, &r, "get_project", "project_id", it_u(p, pid), NULL));
    uint64_t tasks = it_u64(&r, "task_total");
    collab_reply_free(&r);
    rc = it_call(c, NULL, "assign_task", "project_id", p, "type", "testing", "title", "gated",
                 "worker", "worker2", NULL);
    CHECK_RC(rc, w->manager ? 0 : COLLAB_E_FORBIDDEN);
    CHECK_OK(it_call(c, &r, "get_project", "project_id", p, NULL));
    CHECK_EQ_U64(it_u64(&r, "task_total"), tasks + (w->manager ? 1 : 0));
    collab_reply_free(&r);
}

/*  The deliberate weakness (LAB.md #7, V-019/V-020): under stage2 every role may change
    any task, reassign it, close and delete any project and register as a worker. */
static void check_open_writes(collab_client_t *c, collab_client_t *coord)
{
    char p[24], t[24], t2[24];
    uint64_t pid = it_create_project(coord, "someone else's");
    uint64_t tid = it_assign_task(coord, pid, "worker1", "not yours");
    uint64_t tid2 = it_assign_task(coord, pid, "worker1", "not yours either");
    it_u(p, pid);
    it_u(t, tid);
    it_u(t2, tid2);
    CHECK_OK(it_call(c, NULL, "update_task_status", "task_id", t, "status", "in_progress", NULL));
    CHECK_OK(it_call(c, NULL, "update_task_status", "task_id", t, "status", "failed", NULL));
    CHECK_OK(it_call(c, NULL, "reassign_task", "task_id", t, "worker", "worker2", NULL));
    CHECK_OK(it_call(c, NULL, "update_task_status", "task_id", t2, "status", "cancelled", NULL));
    collab_reply_t r;
    CHECK_OK(it_call(coord, &r, "get_task", "task_id", t, NULL));
    CHECK(it_str_is(&r.map, "assigned_to", "worker2") && it_str_is(&r.map, "status", "assigned"));
    collab_reply_free(&r);
    CHECK_OK(it_call(c, NULL, "close_project", "project_id", p, NULL));
    CHECK_OK(it_call(coord, &r, "get_project", "project_id", p, NULL));
    CHECK(it_str_is(&r.map, "status", "closed"));
    collab_reply_free(&r);
    CHECK_OK(it_call(c, NULL, "delete_project", "project_id", p, NULL));
    CHECK_RC(it_call(coord, NULL, "get_project", "project_id", p, NULL), COLLAB_E_NOT_FOUND);
    CHECK_RC(it_call(coord, NULL, "get_task", "task_id", t, NULL), COLLAB_E_NOT_FOUND);
}

/*  The admin actions: admin-only in every profile. */
static void check_admin_actions(collab_client_t *c, const who_t *w)
{
    bool admin = strcmp(w->role, "admin") == 0;
    int want = admin ? 0 : COLLAB_E_FORBIDDEN;
    collab_reply_t r;
    CHECK_RC(it_call(c, NULL, "list_sessions", NULL), want);
    CHECK_RC(it_call(c, NULL, "get_stats", NULL), want);
    /* worker3 stays a worker: a refused set_role changed nothing, an allowed one is a no-op */
    int rc = it_call(c, &r, "set_role", "agent_id", "worker3", "role", "worker", NULL);
    CHECK_RC(rc, want);
    if (rc == 0) {
        CHECK(it_str_is(&r.map, "previous", "worker"));
        collab_reply_free(&r);
    }
    rc = it_call(c, NULL, "set_role", "agent_id", "worker3", "role", "admin", NULL);
    CHECK_RC(rc, want);
    if (admin)
        CHECK_OK(it_call(c, NULL, "set_role", "agent_id", "worker3", "role", "worker", NULL));
    collab_client_t *w3 = it_client(&B, "worker3", true);
    CHECK(w3 && strcmp(collab_client_role(w3), "worker") == 0);
    char h[24];
    rc = it_call(c, NULL, "revoke_session", "handle", it_u(h, it_handle(w3)), NULL);
    CHECK_RC(rc, want);
    CHECK_RC(it_call(w3, NULL, "heartbeat", NULL), admin ? COLLAB_E_SESSION_INVALID : 0);
    collab_client_destroy(&w3);
}

static void test_matrix(void)
{
    it_begin("weak role matrix");
    collab_client_t *coord = it_client(&B, "coordinator1", true);
    uint64_t pid = it_create_project(coord, "matrix");
    uint64_t tid = it_assign_task(coord, pid, "worker1", "read me");
    for (size_t i = 0; i < sizeof WHO / sizeof WHO[0]; i++) {
        it_begin(WHO[i].agent);
        collab_client_t *c = it_client(&B, WHO[i].agent, true);
        if (!c)
            continue;
        CHECK_STR(collab_client_role(c), WHO[i].role);
        check_reads(c, pid, tid);
        check_gated(c, &WHO[i], pid);
        check_open_writes(c, coord);
        CHECK_OK(register_worker(c, "testing", "review", NULL));
        check_admin_actions(c, &WHO[i]);
        collab_client_destroy(&c);
    }
    collab_client_destroy(&coord);
}

/*  LAB.md #6 (V-011): a demoted coordinator's open session keeps its cached role. */
static void test_stale_permissions(void)
{
    it_begin("stale permissions");
    collab_client_t *a = it_client(&B, "admin", true);
    collab_client_t *c = it_client(&B, "coordinator2", true);
    if (!a || !c)
        goto out;
    CHECK_OK(collab_client_subscribe(c, false));
    collab_reply_t r;
    CHECK_OK(it_call(a, &r, "set_role", "agent_id", "coordinator2", "role", "observer", NULL));
    CHECK(it_str_is(&r.map, "role", "observer") && it_str_is(&r.map, "previous", "coordinator"));
    collab_reply_free(&r);
    collab_event_msg_t ev;
    if (it_expect_event(c, "role_changed", 5000, &ev)) {
        CHECK(it_str_is(&ev.map, "role", "observer") && it_str_is(&ev.map, "by", "admin"));
        collab_event_free(&ev);
    }
    collab_map_t m;
    CHECK_OK(it_call(a, &r, "list_agents", NULL));
    CHECK(it_find_in_array(&r.map, "agents", "agent_id", "coordinator2", &m) == 0 &&
          it_str_is(&m, "role", "observer"));
    collab_reply_free(&r);
    /* the weakness: the old session still acts as a coordinator */
    uint64_t before = it_project_total(a);
    uint64_t pid = it_create_project(c, "created by a demoted coordinator");
    CHECK(pid != 0);
    CHECK(it_assign_task(c, pid, "worker2", "assigned by a demoted coordinator") != 0);
    CHECK_OK(it_call(c, &r, "get_session_info", NULL));
    CHECK(it_str_is(&r.map, "role", "coordinator"));
    collab_reply_free(&r);
    /* a fresh login is judged by the stored role */
    collab_client_t *fresh = it_client(&B, "coordinator2", true);
    if (fresh) {
        CHECK_STR(collab_client_role(fresh), "observer");
        CHECK_RC(it_call(fresh, NULL, "create_project", "name", "refused", NULL),
                 COLLAB_E_FORBIDDEN);
        collab_client_destroy(&fresh);
    }
    CHECK_EQ_U64(it_project_total(a), before + 1);
    CHECK_OK(it_call(a, NULL, "set_role", "agent_id", "coordinator2", "role", "coordinator", NULL));
    CHECK_RC(it_call(a, NULL, "set_role", "agent_id", "coordinator2", "role", "emperor", NULL),
             COLLAB_E_BAD_REQUEST);
    CHECK_RC(it_call(a, NULL, "set_role", "agent_id", "nobody", "role", "worker", NULL),
             COLLAB_E_NOT_FOUND);
out:
    collab_client_destroy(&c);
    collab_client_destroy(&a);
}

/*  list_sessions shows handles and never a bearer token: the whole reply frame is
    searched for every live session id. */
static void test_list_sessions(void)
{
    it_begin("list_sessions");
    static const char *const agents[] = {"admin", "coordinator1", "worker1", "worker2", "viewer1"};
    enum { N = sizeof agents / sizeof agents[0] };
    collab_client_t *c[N] = {0};
    uint64_t handle[N];
    for (int i = 0; i < N; i++) {
        c[i] = it_client(&B, agents[i], true);
        handle[i] = c[i] ? it_handle(c[i]) : 0;
    }
    zsock_t *raw = it_raw_new(B.endpoint);
    static it_msg_t m;
    if (!c[0] || !raw)
        goto out;
    it_req_t q = {.request_id = 7,
                  .action = "list_sessions",
                  .agent_id = "admin",
                  .session_id = collab_client_session(c[0])};
    CHECK_OK(it_raw_call(raw, &q, &m));
    CHECK(it_array_len(&m.data, "sessions") >= N);
    for (int i = 0; i < N; i++) {
        const char *sid = c[i] ? collab_client_session(c[i]) : "";
        CHECK(sid[0] && memmem(m.bytes, m.len, sid, strlen(sid)) == NULL);
        bool listed = false;
        collab_map_t s;
        for (uint32_t k = 0; it_array_map_at(&m.data, "sessions", k, &s) == 0; k++) {
            uint64_t h = 0;
            collab_map_uint(&s, "handle", &h);
            if (h != handle[i])
                continue;
            listed = true;
            CHECK(it_str_is(&s, "agent_id", agents[i]));
            CHECK(it_str_is(&s, "peer_address", "127.0.0.1"));
            CHECK(collab_map_find(&s, "session_id") == NULL &&
                  collab_map_find(&s, "token") == NULL);
        }
        CHECK(listed);
    }
    /* filtered by agent */
    uint8_t pay[64];
    q.request_id = 8;
    q.payload = pay;
    q.payload_len = it_pack(pay, sizeof pay, "agent_id", "worker2", NULL);
    CHECK_OK(it_raw_call(raw, &q, &m));
    collab_map_t s;
    for (uint32_t k = 0; it_array_map_at(&m.data, "sessions", k, &s) == 0; k++)
        CHECK(it_str_is(&s, "agent_id", "worker2"));
    CHECK(it_array_len(&m.data, "sessions") >= 1);
out:
    zsock_destroy(&raw);
    for (int i = 0; i < N; i++)
        collab_client_destroy(&c[i]);
}

/*  The holder of a revoked session is told by an event; its next request is refused. */
static void expect_revoked(collab_client_t *c, uint64_t handle)
{
    collab_event_msg_t ev;
    if (it_expect_event(c, "session_revoked", 5000, &ev)) {
        uint64_t h = 0;
        collab_map_uint(&ev.map, "handle", &h);
        CHECK_EQ_U64(h, handle);
        CHECK(it_str_is(&ev.map, "by", "admin"));
        collab_event_free(&ev);
    }
    CHECK_RC(it_call(c, NULL, "heartbeat", NULL), COLLAB_E_SESSION_INVALID);
}

static void test_revoke(void)
{
    it_begin("revoke_session");
    collab_client_t *a = it_client(&B, "admin", true);
    collab_client_t *w = it_client(&B, "worker2", true);
    collab_client_t *x = it_client(&B, "worker4", true), *y = it_client(&B, "worker4", true);
    if (!a || !w || !x || !y)
        goto out;
    char h[24];
    uint64_t hw = it_handle(w), hx = it_handle(x), hy = it_handle(y);
    collab_reply_t r;
    CHECK_OK(it_call(a, &r, "revoke_session", "handle", it_u(h, hw), NULL));
    CHECK_EQ_U64(it_u64(&r, "revoked"), 1);
    collab_reply_free(&r);
    expect_revoked(w, hw);
    CHECK_RC(it_call(a, NULL, "revoke_session", "handle", h, NULL), COLLAB_E_NOT_FOUND);

    CHECK_OK(it_call(a, &r, "revoke_session", "agent_id", "worker4", NULL));
    CHECK_EQ_U64(it_u64(&r, "revoked"), 2);
    collab_reply_free(&r);
    expect_revoked(x, hx);
    expect_revoked(y, hy);
    CHECK_OK(it_call(a, &r, "list_sessions", "agent_id", "worker4", NULL));
    CHECK_EQ_U64(it_array_len(&r.map, "sessions"), 0);
    collab_reply_free(&r);

    CHECK_RC(it_call(a, NULL, "revoke_session", "handle", h, "agent_id", "worker4", NULL),
             COLLAB_E_BAD_REQUEST);
    CHECK_RC(it_call(a, NULL, "revoke_session", NULL), COLLAB_E_BAD_REQUEST);
    CHECK_RC(it_call(a, NULL, "revoke_session", "agent_id", "nobody", NULL), COLLAB_E_NOT_FOUND);
    CHECK_OK(it_call(a, NULL, "heartbeat", NULL)); /* the admin's own session is untouched */
    CHECK(broker_seclog_count(&B, "\"sessions_revoked\"") >= 2);
out:
    collab_client_destroy(&y);
    collab_client_destroy(&x);
    collab_client_destroy(&w);
    collab_client_destroy(&a);
}

static void test_agents_and_workers(void)
{
    it_begin("list_agents, list_workers");
    collab_client_t *o = it_client(&B, "viewer2", true);
    collab_client_t *w = it_client(&B, "worker5", true);
    collab_client_t *c = it_client(&B, "coordinator1", true);
    if (!o || !w || !c)
        goto out;
    collab_reply_t r;
    collab_map_t m;
    CHECK_OK(it_call(o, &r, "list_agents", NULL));
    CHECK_EQ_U64(it_array_len(&r.map, "agents"), 13); /* every agent of test_credentials */
    static const char *const roles[][2] = {{"admin", "admin"},
                                           {"coordinator1", "coordinator"},
                                           {"worker8", "worker"},
                                           {"viewer2", "observer"}};
    for (size_t i = 0; i < 4; i++)
        CHECK(it_find_in_array(&r.map, "agents", "agent_id", roles[i][0], &m) == 0 &&
              it_str_is(&m, "role", roles[i][1]));
    bool online = false;
    CHECK(it_find_in_array(&r.map, "agents", "agent_id", "viewer2", &m) == 0 &&
          collab_map_bool(&m, "online", &online) == 0 && online);
    CHECK(it_find_in_array(&r.map, "agents", "agent_id", "worker8", &m) == 0 &&
          collab_map_bool(&m, "online", &online) == 0 && !online);
    collab_reply_free(&r);

    uint64_t before = it_now_ms();
    CHECK_OK(register_worker(w, "testing", "build", NULL));
    CHECK_RC(register_worker(w, NULL), COLLAB_E_LIMIT);
    CHECK_RC(register_worker(w, "Not-An-Ident", NULL), COLLAB_E_LIMIT);
    uint64_t pid = it_create_project(c, "for worker5");
    it_assign_task(c, pid, "worker5", "one active task");
    CHECK_OK(it_call(o, &r, "list_workers", NULL));
    if (CHECK(it_find_in_array(&r.map, "workers", "agent_id", "worker5", &m) == 0)) {
        uint64_t seen = 0, active = 0;
        CHECK(collab_map_uint(&m, "last_seen", &seen) == 0 && seen >= before &&
              seen <= it_now_ms());
        CHECK(collab_map_bool(&m, "online", &online) == 0 && online);
        CHECK(collab_map_uint(&m, "active_tasks", &active) == 0 && active == 1);
        CHECK_EQ_U64(it_array_len(&m, "capabilities"), 2);
        collab_mp_reader_t rd;
        uint32_t n = 0;
        collab_mp_value_t v;
        if (collab_map_array(&m, "capabilities", &rd, &n) == 0 && n == 2) {
            CHECK(collab_mp_read(&rd, &v) == 0 && v.type == COLLAB_MP_STR && v.len == 7 &&
                  memcmp(v.ptr, "testing", 7) == 0);
            CHECK(collab_mp_read(&rd, &v) == 0 && v.type == COLLAB_MP_STR && v.len == 5 &&
                  memcmp(v.ptr, "build", 5) == 0);
        }
    }
    collab_reply_free(&r);
out:
    collab_client_destroy(&c);
    collab_client_destroy(&w);
    collab_client_destroy(&o);
}

int main(int argc, char **argv)
{
    if (argc < 3 || broker_init(&B, argv[1], argv[2]) != 0)
        return 2;
    if (CHECK(broker_start(&B, NULL) == 0)) {
        test_matrix();
        test_stale_permissions();
        test_list_sessions();
        test_revoke();
        test_agents_and_workers();
    }
    it_stop(&B);
    broker_cleanup(&B);
    zsys_shutdown();
    return it_exit("test_broker_roles");
}
