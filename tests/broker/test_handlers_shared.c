/*  test_handlers_shared.c: the broker on a store shared by several brokers (a cluster), on
    the shared fake and without sockets. An event a handler causes leaves only once the store
    has committed and numbered it; the numbers are the store's, also with another broker's
    events between this one's; another broker's records reach the tables and the handlers'
    answers, sessions included; a follower of all subscribed on another broker is numbered
    a broadcast that these tables would miss; a refused change set is a conflict whose events
    take no number. On a store of one broker (the fake, SQLite) events still leave at handling. */
#include "fake_store.h"
#include "handlers_fixture.h"
#include "testutil.h"

static fx_t *fx;
static fake_store_t *fake;

static collab_agent_t *agent(const char *id)
{
    return collab_tables_agent(fx->ctx->tables, id, strlen(id));
}

/*  Agents coord, w1 (a listener) and obs (a listener to everything), on a shared fake
    (shared) or on a store of one broker: the fake, or SQLite when fake_p is NULL. */
static void setup_on(bool shared, fake_store_t **fake_p)
{
    fx = fx_new();
    fake = NULL;
    if (fake_p)
        fx_use_store(fx, shared ? fake_store_new_shared(fake_p) : fake_store_new(fake_p));
    fx_agent(fx, "coord", COLLAB_ROLE_COORDINATOR);
    fx_agent(fx, "w1", COLLAB_ROLE_WORKER);
    fx_agent(fx, "obs", COLLAB_ROLE_OBSERVER);
    fx_listener(fx, "w1", 1, false);
    fx_listener(fx, "obs", 2, true);
}

static void setup(void)
{
    setup_on(true, &fake);
}

static int create_project(uint64_t request_id, const char *name)
{
    size_t n = fx_payload_str(fx, "name", name, NULL, NULL);
    fx->request_id = request_id;
    return fx_call(fx, collab_h_create_project, "coord", fx->payload, n);
}

/*  A read handler's reply on one id (key: project_id or task_id): its rc, and its data. */
static int get(collab_handler_fn h, const char *key, uint64_t id, collab_map_t *data)
{
    size_t n = fx_payload_uint(fx, key, id, NULL, 0);
    int rc = fx_call(fx, h, "obs", fx->payload, n);
    collab_envelope_t env;
    if (fx_last_reply(fx, &env, data) != 0)
        return COLLAB_E_INTERNAL;
    return rc;
}

/*  The numbers of the events that went to rid, in the order they left; their count. */
static size_t seqs_to(const char *rid, uint64_t *seq, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < fx->n_frames; i++)
        if (fx->frames[i].kind == COLLAB_KIND_EVENT && strcmp(fx->frames[i].rid, rid) == 0) {
            if (n < cap)
                seq[n] = fx->frames[i].seq;
            n++;
        }
    return n;
}

/*  The number of the one event named `name` that went to rid (0: none, or more than one). */
static uint64_t seq_of(const char *name, const char *rid)
{
    uint64_t seq = 0;
    int n = 0;
    for (size_t i = 0; i < fx->n_frames; i++)
        if (fx->frames[i].kind == COLLAB_KIND_EVENT && strcmp(fx->frames[i].name, name) == 0 &&
            strcmp(fx->frames[i].rid, rid) == 0) {
            seq = fx->frames[i].seq;
            n++;
        }
    return n == 1 ? seq : 0;
}

/* ---------------------------------------------------------------------------------------
   What another broker commits, injected into the shared fake */

static void remote(collab_change_t ch)
{
    CHECK_OK(fake_store_inject(fake, &ch));
}

static void remote_event(const char *agent_id, const char *name)
{
    collab_event_t ev = {.timestamp = fx->now, .data = (const uint8_t *)"\x80", .data_len = 1};
    snprintf(ev.agent_id, sizeof ev.agent_id, "%s", agent_id);
    snprintf(ev.name, sizeof ev.name, "%s", name);
    remote((collab_change_t){.kind = COLLAB_CHANGE_EVENT, .u.event = {&ev, 100}});
}

static void remote_task(uint64_t id, uint64_t project, collab_task_status_t status,
                        const char *result)
{
    collab_task_t t = {.id = id,
                       .project_id = project,
                       .title = "a task",
                       .description = "",
                       .result = (char *)result,
                       .status = status,
                       .created = fx->now,
                       .updated = fx->now};
    snprintf(t.type, sizeof t.type, "build");
    snprintf(t.assigned_to, sizeof t.assigned_to, "w1");
    snprintf(t.assigned_by, sizeof t.assigned_by, "coord");
    remote((collab_change_t){.kind = COLLAB_CHANGE_TASK, .u.task = &t});
}

static void remote_project(uint64_t id, const char *name)
{
    collab_project_t p = {.id = id, .name = (char *)name, .description = "", .created = fx->now};
    snprintf(p.owner, sizeof p.owner, "coord");
    remote((collab_change_t){.kind = COLLAB_CHANGE_PROJECT, .u.project = &p});
}

/*  A session of agent_id opened on another broker, subscribed there (with all, or not) on
    that broker's connection. */
static void remote_session(const char *agent_id, const char *token, uint64_t handle, bool all)
{
    collab_session_t s = {.handle = handle, .subscribed = true, .subscribed_all = all};
    s.role = agent(agent_id)->role;
    snprintf(s.token, sizeof s.token, "%s", token);
    snprintf(s.agent_id, sizeof s.agent_id, "%s", agent_id);
    s.created = s.last_activity = fx->now;
    snprintf(s.peer, sizeof s.peer, "10.0.0.2");
    s.rid_len = (uint16_t)snprintf((char *)s.rid, sizeof s.rid, "b-conn");
    remote((collab_change_t){.kind = COLLAB_CHANGE_SESSION, .u.session = &s});
}

/* ---------------------------------------------------------------------------------------
   The tests */

/*  A handler's event is recorded unnumbered and waits for the store: nothing of it is in
    the outbox before the commit; after it (and the apply) it leaves with the store's number,
    which the agent's event_seq follows. Each agent has its own numbers. */
static void test_event_waits_for_the_store(void)
{
    setup();
    fx->hold = true;
    CHECK_OK(create_project(100, "p"));
    CHECK_EQ_INT(fx->n_frames, 0);
    CHECK_EQ_INT(collab_outbox_held(fx->ctx->outbox), 1); /* the reply alone */
    CHECK_EQ_U64(agent("obs")->event_seq, 0);
    CHECK_EQ_U64(fake_store_seq(fake, "obs"), 0); /* no number before the commit */
    fx->hold = false;
    fx_settle(fx);
    CHECK_OK(fx_reply_rc(fx, 100));
    CHECK_EQ_U64(fake_store_seq(fake, "obs"), 1);
    CHECK_EQ_U64(seq_of("project_created", "obs"), 1);
    CHECK_EQ_U64(agent("obs")->event_seq, 1);
    CHECK_EQ_INT(collab_outbox_held(fx->ctx->outbox), 0);

    fx->request_id = 101;
    CHECK_OK(fx_assign(fx, "coord", 1, "w1"));
    CHECK_OK(fx_reply_rc(fx, 101));
    CHECK_EQ_U64(seq_of("task_assigned", "w1"), 1);
    CHECK_EQ_U64(seq_of("task_assigned", "obs"), 2);
    CHECK_EQ_U64(agent("w1")->event_seq, 1);
    CHECK_EQ_U64(agent("obs")->event_seq, 2);
    CHECK_EQ_INT(fx->frames_lost, 0);
    fx_destroy(&fx);
}

/*  Two batches in flight: the store commits the first only. Its change and its events are
    applied (numbered); the second's reply waits for its own batch and its event has no
    number yet. When the second commits, every event has left once, in number order. */
static void test_replies_wait_for_their_batch(void)
{
    setup();
    CHECK_OK(create_project(100, "p"));
    fx->request_id = 101;
    CHECK_OK(fx_assign(fx, "coord", 1, "w1"));
    fx->n_frames = 0;
    fx->hold = true;
    fx->request_id = 102;
    CHECK_OK(fx_set_status(fx, "w1", 1, "in_progress"));
    CHECK_OK(collab_store_submit(fx->ctx->store)); /* batch A, at the store */
    CHECK_OK(create_project(103, "q"));            /* batch B, open */
    CHECK_EQ_INT(fake_store_settle(fake), 1);      /* A commits; B is not even submitted */
    fx_release(fx);
    CHECK_OK(fx_reply_rc(fx, 102));
    CHECK_EQ_INT(fx_reply_rc(fx, 103), 1); /* B's reply waits for B */
    CHECK_EQ_U64(agent("w1")->event_seq, 2);
    CHECK_EQ_U64(agent("obs")->event_seq, 3);
    CHECK_EQ_U64(fake_store_seq(fake, "obs"), 3); /* B's project_created: no number yet */
    fx->hold = false;
    fx_settle(fx);
    CHECK_OK(fx_reply_rc(fx, 103));
    CHECK_EQ_U64(seq_of("task_status_changed", "w1"), 2);
    CHECK_EQ_U64(seq_of("task_status_changed", "obs"), 3);
    CHECK_EQ_U64(seq_of("project_created", "obs"), 4);
    uint64_t seq[8] = {0};
    CHECK_EQ_INT(seqs_to("obs", seq, 8), 2);
    CHECK(seq[0] == 3 && seq[1] == 4);
    CHECK_EQ_INT(seqs_to("w1", seq, 8), 1);
    CHECK_EQ_INT(collab_outbox_held(fx->ctx->outbox), 0);
    fx_destroy(&fx);
}

/*  The numbers are the store's: another broker's events for the same agent come between
    this broker's (one of them while this broker's batch is in flight). The subscriber
    receives every event, in the store's order, numbered 1..7 without a gap or a repeat, and
    a heartbeat answers the store's last number. */
static void test_store_numbers_with_remote_events(void)
{
    static const char *want[] = {"project_created",     "task_assigned", "project_created",
                                 "task_status_changed", "task_assigned", "project_closed",
                                 "project_deleted"};
    setup();
    remote_event("obs", "project_created"); /* 1 */
    fx_release(fx);
    CHECK_EQ_U64(agent("obs")->event_seq, 1);
    fx->hold = true;
    CHECK_OK(create_project(100, "p"));   /* recorded unnumbered */
    remote_event("obs", "task_assigned"); /* 2: committed elsewhere before this batch */
    fx->hold = false;
    fx_settle(fx);                              /* 3: this broker's project_created */
    remote_event("obs", "task_status_changed"); /* 4 */
    fx->request_id = 101;
    CHECK_OK(fx_assign(fx, "coord", 1, "w1")); /* 5 */
    remote_event("obs", "project_closed");     /* 6 */
    remote_event("obs", "project_deleted");    /* 7 */
    fx_release(fx);
    uint64_t seq[16] = {0};
    size_t n = seqs_to("obs", seq, 16);
    CHECK_EQ_INT(n, 7);
    for (size_t i = 0, k = 0; i < fx->n_frames && k < 7; i++)
        if (fx->frames[i].kind == COLLAB_KIND_EVENT && strcmp(fx->frames[i].rid, "obs") == 0) {
            CHECK_EQ_U64(fx->frames[i].seq, k + 1);
            CHECK_STR(fx->frames[i].name, want[k]);
            k++;
        }
    CHECK_EQ_U64(agent("obs")->event_seq, 7);
    CHECK_EQ_U64(seq_of("task_assigned", "w1"), 1); /* w1's own numbers */
    collab_map_t data;
    uint64_t last = 0;
    CHECK_OK(fx_call(fx, collab_h_heartbeat, "obs", NULL, 0));
    collab_envelope_t env;
    CHECK_OK(fx_last_reply(fx, &env, &data));
    CHECK_OK(collab_map_uint(&data, "event_seq", &last));
    CHECK_EQ_U64(last, 7);
    fx_destroy(&fx);
}

/*  Another broker's records: a task completed there, a project created there with a task,
    then deleted there with it. The tables hold each once the loop applies it (not before),
    and the handlers answer from them. */
static void test_remote_records(void)
{
    setup();
    CHECK_OK(create_project(100, "p"));
    fx->request_id = 101;
    CHECK_OK(fx_assign(fx, "coord", 1, "w1"));
    remote_task(1, 1, COLLAB_TASK_COMPLETED, "done there");
    CHECK_EQ_INT(collab_tables_task(fx->ctx->tables, 1)->status, COLLAB_TASK_ASSIGNED);
    fx_release(fx);
    collab_task_t *t = collab_tables_task(fx->ctx->tables, 1);
    CHECK(t && t->status == COLLAB_TASK_COMPLETED && strcmp(t->result, "done there") == 0);
    collab_map_t data;
    collab_span_t status = {0};
    CHECK_OK(get(collab_h_get_task, "task_id", 1, &data));
    CHECK_OK(collab_map_str(&data, "status", &status));
    CHECK(collab_span_eq(status, "completed"));
    CHECK_RC(fx_set_status(fx, "w1", 1, "in_progress"), COLLAB_E_CONFLICT); /* done already */

    remote_project(7, "made there");
    remote_task(8, 7, COLLAB_TASK_ASSIGNED, "");
    CHECK_RC(get(collab_h_get_project, "project_id", 7, &data), COLLAB_E_NOT_FOUND);
    fx_release(fx);
    collab_span_t name = {0};
    uint64_t total = 0;
    CHECK_OK(get(collab_h_get_project, "project_id", 7, &data));
    CHECK_OK(collab_map_str(&data, "name", &name));
    CHECK(collab_span_eq(name, "made there"));
    CHECK_OK(collab_map_uint(&data, "task_total", &total));
    CHECK_EQ_U64(total, 1);
    /* read again after the other broker's change applied here: that change, not the
       reply packed before it (the cache of get_project replies, readcache.h) */
    CHECK_OK(get(collab_h_get_project, "project_id", 7, &data));
    remote_task(8, 7, COLLAB_TASK_COMPLETED, "finished there");
    fx_release(fx);
    CHECK_OK(get(collab_h_get_project, "project_id", 7, &data));
    collab_mp_reader_t tr;
    collab_map_t task;
    uint32_t ntasks = 0;
    collab_span_t result = {0};
    CHECK_OK(collab_map_array(&data, "tasks", &tr, &ntasks));
    CHECK(ntasks == 1 && collab_map_array_next(&tr, &task) == 0 &&
          collab_map_str(&task, "result", &result) == 0 &&
          collab_span_eq(result, "finished there"));
    CHECK_OK(fx_call(fx, collab_h_list_projects, "obs", NULL, 0));
    collab_envelope_t env;
    CHECK_OK(fx_last_reply(fx, &env, &data));
    CHECK_OK(collab_map_uint(&data, "total", &total));
    CHECK_EQ_U64(total, 2);

    remote((collab_change_t){.kind = COLLAB_CHANGE_PROJECT_DEL, .u.id = 7});
    fx_release(fx);
    CHECK(collab_tables_project(fx->ctx->tables, 7) == NULL);
    CHECK(collab_tables_task(fx->ctx->tables, 8) == NULL);
    CHECK_RC(get(collab_h_get_project, "project_id", 7, &data), COLLAB_E_NOT_FOUND);
    CHECK_RC(get(collab_h_get_task, "task_id", 8, &data), COLLAB_E_NOT_FOUND);
    CHECK(collab_tables_project(fx->ctx->tables, 1) != NULL); /* this broker's stays */
    fx_destroy(&fx);
}

/*  Sessions are cluster-wide: one opened on another broker is accepted here once applied,
    and one revoked there is refused here. Its record names the other broker's connection,
    which means nothing on this broker's socket: no event goes there, only to its connection
    here once it made a request here. */
static void test_remote_session(void)
{
    setup();
    remote_session("w1", "sess-b", 40, false);
    CHECK(collab_tables_session(fx->ctx->tables, "sess-b", 6) == NULL);
    fx_release(fx);
    collab_session_t *s = collab_tables_session(fx->ctx->tables, "sess-b", 6);
    CHECK(s && s->handle == 40);
    CHECK_OK(create_project(100, "p"));
    fx->request_id = 101;
    CHECK_OK(fx_assign(fx, "coord", 1, "w1"));
    CHECK_EQ_INT(fx_events(fx, "task_assigned", "w1"), 1);
    CHECK_EQ_INT(fx_events(fx, "task_assigned", "b-conn"), 0);

    CHECK_OK(fx_request(fx, "heartbeat", "w1", "sess-b"));
    CHECK_OK(fx_request(fx, "get_session_info", "w1", "sess-b"));
    collab_envelope_t env;
    collab_map_t data;
    uint64_t handle = 0;
    CHECK_OK(fx_last_reply(fx, &env, &data));
    CHECK_OK(collab_map_uint(&data, "handle", &handle));
    CHECK_EQ_U64(handle, 40);
    CHECK_OK(fx_set_status(fx, "w1", 1, "in_progress")); /* now to its connection here */
    CHECK_EQ_INT(fx_events(fx, "task_status_changed", "rid"), 1);

    /* ended on the other broker: gone at once under the strong revocation control (the
       weak one trusts it from its cache for a while: test_cluster_controls) */
    fx->ctx->cfg.strong[COLLAB_CTL_REVOCATION] = true;
    remote((collab_change_t){.kind = COLLAB_CHANGE_SESSION_DEL, .u.key = "sess-b"});
    fx_release(fx);
    CHECK(collab_tables_session(fx->ctx->tables, "sess-b", 6) == NULL);
    CHECK_EQ_INT(fx_request(fx, "heartbeat", "w1", "sess-b"), COLLAB_E_SESSION_INVALID);
    CHECK(collab_tables_session_by_handle(fx->ctx->tables, 1) != NULL); /* w1's own stays */
    fx_destroy(&fx);
}

/*  A session that ends on this broker (revoked by an admin here) is told on its own
    connection, as on a broker of one; with a shared store once the store has numbered the
    event, when the session has left the tables: only what was noted at handling knows
    that connection then. */
static void revoked_holder_is_told(bool shared)
{
    setup_on(shared, &fake);
    fx_agent(fx, "adm", COLLAB_ROLE_ADMIN);
    collab_session_t *s = fx_session(fx, "w1", 3); /* not subscribed: told all the same */
    s->rid_len = (uint16_t)snprintf((char *)s->rid, sizeof s->rid, "w1-other");
    size_t n = fx_payload_uint(fx, "handle", 3, NULL, 0);
    fx->hold = true;
    CHECK_OK(fx_call(fx, collab_h_revoke_session, "adm", fx->payload, n));
    CHECK_EQ_INT(fx_events(fx, "session_revoked", NULL), 0);
    fx->hold = false;
    fx_settle(fx);
    CHECK_EQ_U64(seq_of("session_revoked", "w1-other"), 1); /* the holder */
    CHECK_EQ_U64(seq_of("session_revoked", "w1"), 1);       /* w1's listener */
    n = fx_payload_uint(fx, "handle", 1, NULL, 0);
    CHECK_OK(fx_call(fx, collab_h_revoke_session, "adm", fx->payload, n));
    uint64_t seq[4] = {0}; /* then the listener itself, ended: told on its connection */
    CHECK_EQ_INT(seqs_to("w1", seq, 4), 2);
    CHECK(seq[0] == 1 && seq[1] == 2);
    CHECK_EQ_INT(fx_events(fx, "session_revoked", "w1-other"), 1); /* told once */
    fx_destroy(&fx);
}

static void test_revoked_holder_is_told(void)
{
    revoked_holder_is_told(true);
    revoked_holder_is_told(false); /* the same as a broker of one */
}

/*  A follower of all is the cluster's, not this broker's tables': obs2 subscribed with all
    on another broker, committed there before this broker handles create_project, whose
    tables do not hold that session yet. The project's event is numbered for obs2 all the
    same (the store decides who follows, at commit), and obs2's event_seq here follows it
    once applied; the owner, a follower too, is not numbered twice. Once that session has
    ended there, a broadcast no longer reaches obs2. */
static void test_follower_of_another_broker(void)
{
    setup();
    fx_agent(fx, "obs2", COLLAB_ROLE_OBSERVER);
    remote_session("obs2", "sess-b", 40, true);
    remote_session("coord", "sess-c", 41, true);
    CHECK(collab_tables_session(fx->ctx->tables, "sess-b", 6) == NULL); /* not applied yet */
    CHECK_EQ_U64(agent("obs2")->follow_all, 0);
    CHECK_OK(create_project(100, "p"));
    CHECK_OK(fx_reply_rc(fx, 100));
    CHECK_EQ_U64(fake_store_seq(fake, "obs2"), 1);
    CHECK_EQ_U64(agent("obs2")->event_seq, 1);
    CHECK_EQ_U64(fake_store_seq(fake, "coord"), 1); /* the owner: once */
    CHECK_EQ_U64(seq_of("project_created", "obs"), 1);

    remote((collab_change_t){.kind = COLLAB_CHANGE_SESSION_DEL, .u.key = "sess-b"});
    fx_release(fx);
    CHECK_OK(create_project(101, "q"));
    CHECK_OK(fx_reply_rc(fx, 101));
    CHECK_EQ_U64(fake_store_seq(fake, "obs2"), 1);
    CHECK_EQ_U64(seq_of("project_created", "obs"), 0); /* two now, to obs */
    CHECK_EQ_U64(agent("obs")->event_seq, 2);
    fx_destroy(&fx);
}

/*  A refused change set: conflict, its event never leaves and takes no number; the next
    event, this broker's or another's, has the next number. Another request of the same
    batch stands with its event. */
static void test_refused_takes_no_number(void)
{
    setup();
    fake_store_refuse(fake, fx->ctx->next_changeset + 1);
    CHECK_OK(create_project(100, "p"));
    CHECK_RC(fx_reply_rc(fx, 100), COLLAB_E_CONFLICT);
    CHECK_EQ_INT(fx_events(fx, "project_created", NULL), 0);
    CHECK_EQ_U64(fake_store_seq(fake, "obs"), 0);
    CHECK(collab_tables_project(fx->ctx->tables, 1) == NULL);
    CHECK_OK(create_project(101, "p"));
    CHECK_OK(fx_reply_rc(fx, 101));
    CHECK_EQ_U64(seq_of("project_created", "obs"), 1);

    fx->n_frames = 0;
    fx->hold = true;
    fake_store_refuse(fake, fx->ctx->next_changeset + 1);
    CHECK_OK(create_project(102, "q"));
    CHECK_OK(create_project(103, "r"));
    fx->hold = false;
    fx_settle(fx);
    remote_event("obs", "task_assigned");
    fx_release(fx);
    CHECK_RC(fx_reply_rc(fx, 102), COLLAB_E_CONFLICT);
    CHECK_OK(fx_reply_rc(fx, 103));
    uint64_t seq[8] = {0};
    CHECK_EQ_INT(seqs_to("obs", seq, 8), 2);
    CHECK(seq[0] == 2 && seq[1] == 3);
    CHECK_EQ_U64(agent("obs")->event_seq, 3);
    CHECK_EQ_INT(fx->ctx->stats.refused_conflict, 2);
    fx_destroy(&fx);
}

/*  A store of one broker (the fake, SQLite) is not shared: the event is numbered and queued
    at handling, ahead of its reply, and leaves with it. */
static void test_one_broker_pushes_at_handling(void)
{
    fake_store_t *one = NULL;
    for (int sqlite = 0; sqlite < 2; sqlite++) {
        setup_on(false, sqlite ? NULL : &one);
        CHECK(!collab_store_is_shared(fx->ctx->store));
        fx->hold = true;
        CHECK_OK(create_project(100, "p"));
        CHECK_EQ_INT(collab_outbox_held(fx->ctx->outbox), 2);
        CHECK_EQ_U64(agent("obs")->event_seq, 1);
        fx->hold = false;
        fx_settle(fx);
        CHECK_EQ_INT(fx->n_frames, 2);
        CHECK(fx->frames[0].kind == COLLAB_KIND_EVENT && fx->frames[0].seq == 1);
        CHECK_EQ_INT(fx_reply_at(fx, 100), 1);
        fx_destroy(&fx);
    }
}

int main(void)
{
    TU_RUN(test_event_waits_for_the_store);
    TU_RUN(test_replies_wait_for_their_batch);
    TU_RUN(test_store_numbers_with_remote_events);
    TU_RUN(test_remote_records);
    TU_RUN(test_remote_session);
    TU_RUN(test_revoked_holder_is_told);
    TU_RUN(test_refused_takes_no_number);
    TU_RUN(test_follower_of_another_broker);
    TU_RUN(test_one_broker_pushes_at_handling);
    return tu_exit("test_handlers_shared");
}
