/*  test_handlers_task.c: the project and task handlers on a socket-free context: task
    status transitions, the quotas (projects per agent, tasks per project), the object-level
    role rules under weak and strong role enforcement, and the hand-counted event maps. */
#include "handlers_fixture.h"
#include "testutil.h"

#include <string.h>

static fx_t *fx;

static void setup(bool strong_roles)
{
    fx = fx_new();
    fx->ctx->cfg.strong[COLLAB_CTL_ROLE_ENFORCEMENT] = strong_roles;
    fx_agent(fx, "coord", COLLAB_ROLE_COORDINATOR);
    fx_agent(fx, "w1", COLLAB_ROLE_WORKER);
    fx_agent(fx, "w2", COLLAB_ROLE_WORKER);
}

static int create_project(const char *as, const char *name)
{
    size_t n = fx_payload_str(fx, "name", name, NULL, NULL);
    return fx_call(fx, collab_h_create_project, as, fx->payload, n);
}

static int assign(const char *as, uint64_t project, const char *worker)
{
    return fx_assign(fx, as, project, worker);
}

static int set_status(const char *as, uint64_t task, const char *status)
{
    return fx_set_status(fx, as, task, status);
}

static const char *task_status(uint64_t id)
{
    return collab_task_status_name(collab_tables_task(fx->ctx->tables, id)->status);
}

static void test_transitions(void)
{
    setup(false);
    CHECK_OK(create_project("coord", "p"));
    CHECK_OK(assign("coord", 1, "w1"));
    CHECK_STR(task_status(1), "assigned");
    CHECK_RC(set_status("w1", 1, "completed"), COLLAB_E_CONFLICT); /* not started */
    CHECK_RC(set_status("w1", 1, "assigned"), COLLAB_E_CONFLICT);
    CHECK_RC(set_status("w1", 1, "done"), COLLAB_E_BAD_REQUEST);
    CHECK_STR(task_status(1), "assigned"); /* a refusal changed nothing */
    CHECK_OK(set_status("w1", 1, "in_progress"));
    CHECK_OK(set_status("w1", 1, "completed"));
    CHECK_STR(task_status(1), "completed");
    CHECK_RC(set_status("w1", 1, "in_progress"), COLLAB_E_CONFLICT);
    CHECK_RC(set_status("w1", 1, "cancelled"), COLLAB_E_CONFLICT);
    CHECK_OK(assign("coord", 1, "w1"));
    CHECK_OK(set_status("coord", 2, "cancelled"));
    CHECK_RC(set_status("w1", 99, "in_progress"), COLLAB_E_NOT_FOUND);
    /* every call was answered once, through the outbox, in order: the last is the 404 */
    collab_envelope_t env;
    collab_map_t data;
    CHECK_OK(fx_last_reply(fx, &env, &data));
    CHECK(!env.ok);
    CHECK_EQ_INT(env.error_code, (uint32_t)-COLLAB_E_NOT_FOUND);
    CHECK_EQ_INT(fx->sent, 12);
    CHECK_EQ_INT(collab_outbox_held(fx->ctx->outbox), 0);
    fx_destroy(&fx);
}

static void test_quotas(void)
{
    setup(false);
    fx->ctx->cfg.max_projects_per_agent = 2;
    fx->ctx->cfg.max_tasks_per_project = 2;
    CHECK_OK(create_project("coord", "a"));
    CHECK_OK(create_project("coord", "b"));
    CHECK_RC(create_project("coord", "c"), COLLAB_E_QUOTA);
    CHECK_EQ_INT(collab_tables_project_count(fx->ctx->tables), 2);
    CHECK_OK(assign("coord", 1, "w1"));
    CHECK_OK(assign("coord", 1, "w2"));
    CHECK_RC(assign("coord", 1, "w1"), COLLAB_E_QUOTA);
    CHECK_OK(assign("coord", 2, "w1")); /* per project, not per agent */
    fx_destroy(&fx);
}

/*  Weak role enforcement: any worker may move any task; strong: only its assignee works it
    and only managers cancel it. */
static void test_roles_weak_and_strong(void)
{
    setup(false);
    CHECK_OK(create_project("coord", "p"));
    CHECK_OK(assign("coord", 1, "w1"));
    CHECK_OK(set_status("w2", 1, "in_progress")); /* not its task: allowed when weak */
    CHECK(collab_authz_allowed(fx->ctx, COLLAB_ACT_REASSIGN_TASK, COLLAB_ROLE_WORKER));
    CHECK(collab_authz_allowed(fx->ctx, COLLAB_ACT_REGISTER_WORKER, COLLAB_ROLE_OBSERVER));
    fx_destroy(&fx);

    setup(true);
    CHECK_OK(create_project("coord", "p"));
    CHECK_OK(assign("coord", 1, "w1"));
    CHECK_RC(set_status("w2", 1, "in_progress"), COLLAB_E_FORBIDDEN);
    CHECK_RC(set_status("coord", 1, "in_progress"), COLLAB_E_FORBIDDEN);
    CHECK_RC(set_status("w1", 1, "cancelled"), COLLAB_E_FORBIDDEN);
    CHECK_STR(task_status(1), "assigned");
    CHECK_OK(set_status("w1", 1, "in_progress"));
    CHECK_OK(set_status("coord", 1, "cancelled"));
    CHECK(!collab_authz_allowed(fx->ctx, COLLAB_ACT_REASSIGN_TASK, COLLAB_ROLE_WORKER));
    CHECK(!collab_authz_allowed(fx->ctx, COLLAB_ACT_REGISTER_WORKER, COLLAB_ROLE_OBSERVER));
    CHECK(collab_authz_allowed(fx->ctx, COLLAB_ACT_REGISTER_WORKER, COLLAB_ROLE_WORKER));
    CHECK(!collab_authz_allowed(fx->ctx, COLLAB_ACT_GET_STATS, COLLAB_ROLE_COORDINATOR));
    fx_destroy(&fx);
}

/*  The task events' maps are counted by the encoder: a subscribed worker receives each
    kind (assigned, reassigned, status changed) as a whole frame. */
static void test_task_events(void)
{
    setup(false);
    collab_session_t *s = fx_session(fx, "w1", 1);
    s->subscribed = true;
    memcpy(s->rid, "w1rid", 5);
    s->rid_len = 5;
    CHECK_OK(create_project("coord", "p"));
    size_t before = fx->sent;
    CHECK_OK(assign("coord", 1, "w1"));
    CHECK_EQ_INT(fx->sent, before + 2); /* the event to w1, then the reply */
    CHECK_OK(set_status("w1", 1, "in_progress"));
    CHECK_EQ_INT(fx->sent, before + 4);
    CHECK_OK(fx_reassign(fx, "coord", 1, "w2"));
    CHECK_EQ_INT(fx->sent, before + 6);
    CHECK_EQ_INT(fx->ctx->stats.events_sent, 3);
    CHECK_EQ_INT(fx->ctx->stats.replies_error, 0);
    fx_destroy(&fx);
}

/*  get_stats's state_digest: the same projects and tasks give the same digest in two
    contexts; any field a client can read changes it. */
static void digest_of(fx_t *f, char out[65])
{
    out[0] = '\0';
    CHECK_OK(fx_call(f, collab_h_get_stats, "admin", COLLAB_EMPTY_MAP.ptr, COLLAB_EMPTY_MAP.len));
    fx_settle(f);
    collab_envelope_t env;
    collab_map_t data;
    collab_span_t d = {0};
    int rc = fx_last_reply(f, &env, &data);
    if (rc == 0)
        rc = collab_map_str(&data, "state_digest", &d);
    CHECK_OK(rc);
    CHECK_EQ_U64(d.len, 64);
    if (rc == 0 && d.len == 64)
        snprintf(out, 65, "%.*s", (int)d.len, d.ptr);
}

static void test_state_digest(void)
{
    char a[65], b[65], c[65];
    setup(false);
    fx_agent(fx, "admin", COLLAB_ROLE_ADMIN);
    fx_t *first = fx;
    CHECK_OK(create_project("coord", "p"));
    CHECK_OK(assign("coord", 1, "w1"));
    digest_of(first, a);
    setup(false); /* a second context, the same requests */
    fx_agent(fx, "admin", COLLAB_ROLE_ADMIN);
    CHECK_OK(create_project("coord", "p"));
    CHECK_OK(assign("coord", 1, "w1"));
    digest_of(fx, b);
    CHECK_STR(a, b);
    CHECK_OK(set_status("w1", 1, "in_progress")); /* one task's status */
    digest_of(fx, c);
    CHECK(c[0] != '\0' && strcmp(b, c) != 0);
    fx_destroy(&first);
    fx_destroy(&fx);
}

int main(void)
{
    TU_RUN(test_transitions);
    TU_RUN(test_quotas);
    TU_RUN(test_roles_weak_and_strong);
    TU_RUN(test_task_events);
    TU_RUN(test_state_digest);
    return tu_exit("test_handlers_task");
}
