/*  test_broker_basic.c: a live broker on an ephemeral port: login right and wrong, the
    collaboration round trip, logout, and a restart that keeps projects, tasks and
    sessions. */
#include "collab_clock.h"
#include "itest.h"

#include <czmq.h>

static broker_proc_t B;

static void test_login(void)
{
    tu_current = "login";
    collab_client_t *c = it_client(&B, "coordinator1", true);
    CHECK(c && strlen(collab_client_session(c)) == 36); /* UUID4 under stage2 */
    CHECK(c && strcmp(collab_client_role(c), "coordinator") == 0);
    CHECK(c && collab_client_controls(c)->scope == COLLAB_SCOPE_WEAK);
    collab_client_destroy(&c);

    collab_client_opts_t o = {.endpoint = B.endpoint,
                              .agent_id = "coordinator1",
                              .password = "wrong",
                              .timeout_ms = 5000};
    c = collab_client_new(&o);
    CHECK_RC(collab_client_login(c), COLLAB_E_AUTH_FAILED);
    collab_client_destroy(&c);
    o.agent_id = "nobody";
    c = collab_client_new(&o);
    CHECK_RC(collab_client_login(c), COLLAB_E_AUTH_FAILED);
    collab_client_destroy(&c);
    CHECK(broker_seclog_count(&B, "\"login_failed\"") >= 2);
}

static uint64_t P, T;

static void test_round_trip(void)
{
    tu_current = "round trip";
    collab_client_t *c = it_client(&B, "coordinator1", true);
    collab_client_t *w = it_client(&B, "worker1", true);
    collab_reply_t r;
    char buf[64];
    CHECK_OK(collab_client_subscribe(w, false));
    CHECK_OK(it_call(c, &r, "create_project", "name", "Alpha", "description", "first", NULL));
    P = it_u64(&r, "project_id");
    collab_reply_free(&r);
    snprintf(buf, sizeof buf, "u:%llu", (unsigned long long)P);
    CHECK_OK(it_call(c, &r, "assign_task", "project_id", buf, "type", "testing", "title",
                     "write tests", "worker", "worker1", NULL));
    T = it_u64(&r, "task_id");
    collab_reply_free(&r);
    collab_event_msg_t ev;
    CHECK_OK(collab_client_next_event(w, &ev, 5000));
    CHECK_STR(ev.name, "task_assigned");
    collab_event_free(&ev);
    snprintf(buf, sizeof buf, "u:%llu", (unsigned long long)T);
    CHECK_OK(it_call(w, NULL, "update_task_status", "task_id", buf, "status", "in_progress", NULL));
    /* in_progress -> assigned is a transition the table forbids (only reassign_task goes
       back to assigned): conflict, PROTOCOL.md section 6, not bad_request */
    CHECK_RC(it_call(w, NULL, "update_task_status", "task_id", buf, "status", "assigned", NULL),
             COLLAB_E_CONFLICT);
    CHECK_OK(it_call(w, NULL, "update_task_status", "task_id", buf, "status", "completed", "result",
                     "42 tests", NULL));
    CHECK_RC(it_call(w, NULL, "update_task_status", "task_id", buf, "status", "in_progress", NULL),
             COLLAB_E_CONFLICT);
    CHECK_OK(it_call(c, &r, "get_task", "task_id", buf, NULL));
    collab_span_t s;
    CHECK(collab_map_str(&r.map, "status", &s) == 0 && collab_span_eq(s, "completed"));
    CHECK(collab_map_str(&r.map, "result", &s) == 0 && collab_span_eq(s, "42 tests"));
    collab_reply_free(&r);
    collab_client_destroy(&w);
    collab_client_destroy(&c);
}

static void test_restart(void)
{
    tu_current = "restart";
    collab_client_t *c = it_client(&B, "coordinator1", true);
    char sid[COLLAB_MAX_SESSION_ID + 1], buf[64];
    snprintf(sid, sizeof sid, "%s", collab_client_session(c));
    CHECK_EQ_INT(broker_stop(&B), 0);
    CHECK_OK(broker_restart(&B));
    collab_reply_t r;
    CHECK_OK(it_call(c, NULL, "heartbeat", NULL)); /* the session survived */
    CHECK_STR(collab_client_session(c), sid);
    snprintf(buf, sizeof buf, "u:%llu", (unsigned long long)P);
    CHECK_OK(it_call(c, &r, "get_project", "project_id", buf, NULL));
    CHECK_EQ_U64(it_u64(&r, "task_total"), 1);
    collab_reply_free(&r);
    CHECK_OK(it_call(c, NULL, "logout", NULL));
    CHECK_RC(it_call(c, NULL, "heartbeat", NULL), COLLAB_E_SESSION_INVALID);
    collab_client_destroy(&c);
}

/*  collab_client_take, for a caller that polls the socket in its own loop (collab-web):
    nothing there is 0 at once; a reply is taken with its request id, and the event the
    request caused is queued for collab_client_next_event. */
static void test_take(void)
{
    tu_current = "take";
    collab_client_t *c = it_client(&B, "coordinator1", true);
    collab_reply_t r;
    uint64_t id = 0;
    if (!c)
        return;
    CHECK_OK(collab_client_subscribe(c, true));
    int64_t t0 = collab_mono_ms();
    CHECK_EQ_INT(collab_client_take(c, &id, &r), 0);
    CHECK(collab_mono_ms() - t0 < 100);
    uint8_t buf[64];
    size_t len;
    collab_pack_t p;
    collab_pack_init(&p, buf, sizeof buf);
    collab_pack_map(&p, 1);
    collab_pack_kv_str(&p, "name", "Taken");
    CHECK_OK(collab_pack_finish(&p, &len));
    uint64_t sent = collab_client_send(c, "create_project", buf, len);
    CHECK(sent != 0);
    zmq_pollitem_t item = {collab_client_socket(c), 0, ZMQ_POLLIN, 0};
    int got = 0;
    for (int64_t end = collab_mono_ms() + 5000; got == 0 && collab_mono_ms() < end;)
        if (zmq_poll(&item, 1, 100) > 0)
            got = collab_client_take(c, &id, &r);
    CHECK_EQ_INT(got, 1);
    if (got == 1) {
        CHECK(id == sent && r.ok);
        collab_reply_free(&r);
    }
    collab_event_msg_t ev;
    CHECK_OK(collab_client_next_event(c, &ev, 5000));
    CHECK_STR(ev.name, "project_created");
    collab_event_free(&ev);
    collab_client_destroy(&c);
}

int main(int argc, char **argv)
{
    if (argc < 3 || broker_init(&B, argv[1], argv[2]) != 0)
        return 2;
    if (CHECK(broker_start(&B, NULL) == 0)) {
        test_login();
        test_round_trip();
        test_restart();
        test_take();
    }
    broker_cleanup(&B); /* also when the start failed: the temporary directory goes */
    zsys_shutdown();
    return it_exit("test_broker_basic");
}
