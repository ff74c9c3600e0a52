/*  test_store_fake.c: the store facade on a second backend, the in-memory fake: the round
    trip, events seen before their batch is committed, and a commit that refuses one
    change-set (conflict) while the others stand; as a shared store, what it hands over to
    apply. Also: SQLite refuses nothing. */
#include "fake_store.h"
#include "store_test.h"

/*  What collab_store_take_refused hands back. */
typedef struct {
    collab_agent_t agents[4];
    collab_store_key_kind_t absent_kind[4];
    uint64_t absent_num[4];
    char absent_id[4][COLLAB_MAX_SESSION_ID + 1];
    size_t n_agents, n_absent, n_other;
} restored_t;

static int restore_agent(void *arg, const collab_agent_t *a)
{
    restored_t *r = arg;
    if (r->n_agents < 4)
        r->agents[r->n_agents] = *a;
    r->n_agents++;
    return 0;
}

static int restore_other(void *arg, const void *rec)
{
    (void)rec;
    ((restored_t *)arg)->n_other++;
    return 0;
}

static int restore_session(void *arg, const collab_session_t *s)
{
    return restore_other(arg, s);
}

static int restore_project(void *arg, const collab_project_t *p)
{
    return restore_other(arg, p);
}

static int restore_task(void *arg, const collab_task_t *t)
{
    return restore_other(arg, t);
}

static int restore_absent(void *arg, const collab_store_key_t *key)
{
    restored_t *r = arg;
    if (r->n_absent < 4) {
        r->absent_kind[r->n_absent] = key->kind;
        r->absent_num[r->n_absent] = key->num;
        snprintf(r->absent_id[r->n_absent], sizeof r->absent_id[0], "%s", key->id ? key->id : "");
    }
    r->n_absent++;
    return 0;
}

static const collab_store_loader_t restorer = {restore_agent, restore_session, restore_project,
                                               restore_task};

static void agent_at(collab_agent_t *a, const char *id, uint64_t last_seen, uint64_t seq)
{
    memset(a, 0, sizeof *a);
    snprintf(a->id, sizeof a->id, "%s", id);
    a->role = COLLAB_ROLE_WORKER;
    a->last_seen = last_seen;
    a->event_seq = seq;
}

/*  The round trip of test_roundtrip on the fake: the facade needs nothing of SQLite. */
static void test_fake_roundtrip(void)
{
    fake_store_t *fake = NULL;
    collab_store_t *st = fake_store_new(&fake);
    if (!CHECK(st))
        return;
    samples_t x;
    samples_init(&x);
    samples_write(st, &x);
    CHECK_OK(collab_store_put_meta(st, "ids", "abc", 3));
    CHECK_OK(collab_store_commit(st));
    CHECK(!collab_store_in_batch(st));
    loaded_t *l = load_all(st, 0);
    samples_check(l, &x);
    loaded_free(l);
    uint8_t buf[8];
    CHECK_EQ_INT(collab_store_get_meta(st, "ids", buf, sizeof buf), 3);
    CHECK_OK(collab_store_delete_project(st, 1)); /* with its task */
    CHECK_OK(collab_store_delete_session(st, x.s.token));
    CHECK_OK(collab_store_commit(st));
    l = load_all(st, 0);
    CHECK_EQ_INT(l->n_projects, 2);
    CHECK_EQ_INT(l->n_tasks, 0);
    CHECK_EQ_INT(l->n_sessions, 0);
    loaded_free(l);
    collab_store_destroy(&st);
    CHECK(st == NULL);
}

/*  A batch of three change-sets; the fake refuses the second at commit: exactly cs 2 is
    reported, with the records as they stood before it (the agent's old value, the project
    it created absent), its event dropped; cs 1 and 3 are durable. */
static void test_fake_refuses_changeset(void)
{
    fake_store_t *fake = NULL;
    collab_store_t *st = fake_store_new(&fake);
    if (!CHECK(st))
        return;
    collab_agent_t a;
    agent_at(&a, "w1", 100, 0);
    CHECK_OK(collab_store_put_agent(st, &a));
    CHECK_OK(collab_store_start_writer(st)); /* commits the agent: batch numbers from here */
    fake_store_refuse(fake, 2);

    char t1[] = "one", t3[] = "three", pname[] = "p5";
    collab_task_t task;
    collab_project_t p;
    collab_store_set_changeset(st, 1);
    CHECK_EQ_U64(collab_store_changeset(st), 1);
    sample_task(&task, 1, 1, t1);
    CHECK_OK(collab_store_put_task(st, &task));
    collab_store_set_changeset(st, 2);
    agent_at(&a, "w1", 200, 1);
    CHECK_OK(collab_store_put_agent(st, &a));
    sample_project(&p, 5, pname, NULL);
    CHECK_OK(collab_store_put_project(st, &p));
    CHECK_OK(put_test_event(st, "w1", 1, 10));
    collab_store_set_changeset(st, 3);
    sample_task(&task, 3, 1, t3);
    CHECK_OK(collab_store_put_task(st, &task));
    collab_store_set_changeset(st, 0);

    /* the event of the open batch is seen, and the read committed nothing */
    uint64_t got = 99;
    check_events(st, "w1", 0, 1, 1, 1);
    CHECK(collab_store_in_batch(st));
    CHECK_OK(collab_store_committed(st, &got));
    CHECK_EQ_U64(got, 0);
    CHECK_OK(collab_store_submit(st));
    CHECK_EQ_U64(collab_store_pending(st), 1);
    check_events(st, "w1", 0, 1, 1, 1); /* submitted, not committed: still seen */
    CHECK_OK(collab_store_committed(st, &got));
    CHECK_EQ_U64(got, 0);
    uint64_t cs = 99;
    restored_t r = {0};
    CHECK_EQ_INT(collab_store_take_refused(st, &cs, &restorer, restore_absent, &r), 0);

    /* the remote commit: the descriptor says so */
    CHECK_EQ_INT(fake_store_settle(fake), 1);
    struct pollfd pfd = {.fd = collab_store_fd(st), .events = POLLIN};
    CHECK_EQ_INT(poll(&pfd, 1, 0), 1);
    CHECK_OK(wait_committed(st, 1, &got));
    CHECK_EQ_U64(got, 1);
    CHECK_EQ_U64(collab_store_pending(st), 0);

    CHECK_EQ_INT(collab_store_take_refused(st, &cs, &restorer, restore_absent, &r), 1);
    CHECK_EQ_U64(cs, 2);
    CHECK_EQ_INT(r.n_agents, 1);
    CHECK_STR(r.agents[0].id, "w1");
    CHECK_EQ_U64(r.agents[0].last_seen, 100); /* the value before cs 2 */
    CHECK_EQ_U64(r.agents[0].event_seq, 0);
    CHECK_EQ_INT(r.n_absent, 1);
    CHECK_EQ_INT(r.absent_kind[0], COLLAB_STORE_KEY_PROJECT);
    CHECK_EQ_U64(r.absent_num[0], 5);
    CHECK_EQ_INT(r.n_other, 0);
    CHECK_EQ_INT(collab_store_take_refused(st, &cs, &restorer, restore_absent, &r), 0);
    CHECK_EQ_U64(cs, 0);

    loaded_t *l = load_all(st, 0);
    CHECK_EQ_INT(l->n_tasks, 2);
    if (l->n_tasks == 2) {
        CHECK_EQ_U64(l->tasks[0].id, 1);
        CHECK_STR(l->tasks[0].title, "one");
        CHECK_EQ_U64(l->tasks[1].id, 3);
        CHECK_STR(l->tasks[1].title, "three");
    }
    CHECK_EQ_INT(l->n_projects, 0);
    CHECK_EQ_INT(l->n_agents, 1);
    if (l->n_agents == 1)
        CHECK_EQ_U64(l->agents[0].last_seen, 100);
    loaded_free(l);
    check_events(st, "w1", 0, 1, 0, 0); /* the refused event is gone */
    collab_store_destroy(&st);
}

/*  The SQLite backend never refuses: change-sets are carried and every one is durable. */
static void test_sqlite_refuses_nothing(void)
{
    const char *path = tmp_path("no-refusal.db");
    collab_store_t *st = open_ok(path, false);
    if (!st)
        return;
    CHECK_OK(collab_store_start_writer(st));
    collab_agent_t a;
    agent_at(&a, "w1", 100, 0);
    collab_store_set_changeset(st, 7);
    CHECK_OK(collab_store_put_agent(st, &a));
    collab_store_set_changeset(st, 0);
    CHECK_OK(collab_store_submit(st));
    uint64_t got = 0, cs = 99;
    CHECK_OK(wait_committed(st, 1, &got));
    CHECK_EQ_U64(got, 1);
    restored_t r = {0};
    CHECK_EQ_INT(collab_store_take_refused(st, &cs, &restorer, restore_absent, &r), 0);
    CHECK_EQ_U64(cs, 0);
    CHECK_EQ_INT(r.n_agents + r.n_absent + r.n_other, 0);
    CHECK_EQ_INT(raw_int(path, "SELECT last_seen FROM agents WHERE agent_id = 'w1'"), 100);
    collab_store_destroy(&st);
}

/*  What collab_store_take_applied handed over, one word each, in order: "T1" (task 1),
    "P5", "S:tok" (a session), "A:w1", "-S:tok" / "-P5" (deleted), "w1#3" (event 3 of w1). */
typedef struct {
    char log[256];
} trace_t;

static int traced(trace_t *t, const char *word, const char *id, uint64_t num)
{
    size_t at = strlen(t->log);
    snprintf(t->log + at, sizeof t->log - at, "%s%s%s%.0llu", at ? " " : "", word, id,
             (unsigned long long)num);
    return 0;
}

static int trace_agent(void *arg, const collab_agent_t *a)
{
    return traced(arg, "A:", a->id, 0);
}

static int trace_session(void *arg, const collab_session_t *s)
{
    return traced(arg, "S:", s->token, 0);
}

static int trace_project(void *arg, const collab_project_t *p)
{
    return traced(arg, "P", "", p->id);
}

static int trace_task(void *arg, const collab_task_t *t)
{
    return traced(arg, "T", "", t->id);
}

static int trace_gone(void *arg, const collab_store_key_t *key)
{
    bool session = key->kind == COLLAB_STORE_KEY_SESSION;
    return traced(arg, session ? "-S:" : "-P", session ? key->id : "", key->num);
}

static int trace_event(void *arg, const collab_event_t *ev)
{
    return traced(arg, ev->agent_id, "#", ev->seq);
}

static const collab_store_applier_t tracer = {
    {trace_agent, trace_session, trace_project, trace_task}, trace_gone, trace_event};

/*  The shared fake: nothing is handed over before the commit; then every change set that
    is not refused, in order, with its events numbered per agent after what another broker
    committed first (injected: the descriptor says so); the refused one gives nothing and
    takes no number; what is handed over is forgotten. */
static void test_fake_shared_applies_in_order(void)
{
    fake_store_t *fake = NULL;
    collab_store_t *st = fake_store_new_shared(&fake);
    if (!CHECK(st))
        return;
    CHECK(collab_store_is_shared(st));
    CHECK_OK(collab_store_start_writer(st));
    fake_store_refuse(fake, 2);
    char title[] = "t", pname[] = "p5";
    collab_task_t task;
    collab_project_t p;
    collab_store_set_changeset(st, 1);
    sample_task(&task, 1, 1, title);
    CHECK_OK(collab_store_put_task(st, &task));
    CHECK_OK(put_test_event(st, "w1", 0, 10));
    collab_store_set_changeset(st, 2);
    sample_project(&p, 5, pname, NULL);
    CHECK_OK(collab_store_put_project(st, &p));
    CHECK_OK(put_test_event(st, "w1", 0, 10));
    collab_store_set_changeset(st, 3);
    CHECK_OK(collab_store_delete_session(st, "tok"));
    CHECK_OK(collab_store_delete_project(st, 7));
    CHECK_OK(put_test_event(st, "w1", 0, 10));
    CHECK_OK(put_test_event(st, "obs", 0, 10));
    collab_store_set_changeset(st, 0);
    CHECK_OK(collab_store_submit(st));
    trace_t t = {""};
    CHECK_OK(collab_store_take_applied(st, &tracer, &t));
    CHECK_STR(t.log, "");
    check_events(st, "w1", 0, 1, 0, 0); /* unnumbered yet: not read */

    collab_event_t ev = {.timestamp = 1001, .data = (const uint8_t *)"d1", .data_len = 2};
    snprintf(ev.agent_id, sizeof ev.agent_id, "w1");
    snprintf(ev.name, sizeof ev.name, "task_assigned");
    collab_change_t remote = {.kind = COLLAB_CHANGE_EVENT, .u.event = {&ev, 10}};
    CHECK_OK(fake_store_inject(fake, &remote));
    struct pollfd pfd = {.fd = collab_store_fd(st), .events = POLLIN};
    CHECK_EQ_INT(poll(&pfd, 1, 0), 1);
    CHECK_EQ_INT(fake_store_settle(fake), 1);
    CHECK_EQ_U64(fake_store_seq(fake, "w1"), 3);
    CHECK_OK(collab_store_take_applied(st, &tracer, &t));
    CHECK_STR(t.log, "w1#1 T1 w1#2 -S:tok -P7 w1#3 obs#1");
    t.log[0] = '\0';
    CHECK_OK(collab_store_take_applied(st, &tracer, &t));
    CHECK_STR(t.log, "");
    evlog_t e = {0};
    CHECK_OK(collab_store_events_since(st, "w1", 1, on_any_event, &e, NULL));
    CHECK_EQ_INT(e.n, 2);
    CHECK_EQ_U64(e.ev[0].seq, 2);
    CHECK_EQ_U64(e.ev[1].seq, 3);
    collab_store_destroy(&st);
}

int main(void)
{
    if (store_test_setup("test_store_fake") != 0)
        return 1;
    TU_RUN(test_fake_roundtrip);
    TU_RUN(test_fake_refuses_changeset);
    TU_RUN(test_sqlite_refuses_nothing);
    TU_RUN(test_fake_shared_applies_in_order);
    return store_test_finish("test_store_fake");
}
