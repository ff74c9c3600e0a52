/*  test_handlers_conflict.c: a store that refuses a request's change at commit (a cluster's
    conflict), on the fake backend: the refused request answers conflict, built after the
    verdict, its events never leave, the tables roll back; the others of its batch go on.
    On SQLite (which never refuses) the same requests all succeed. */
#include "fake_store.h"
#include "handlers_fixture.h"
#include "testutil.h"

static fx_t *fx;
static fake_store_t *fake; /* NULL: the fixture's SQLite store */

/*  The fixture, on the fake backend (in writer mode, as the loop runs it) or on SQLite;
    agents coord, w1 (subscribed) and obs (subscribed to everything). */
static void setup(bool use_fake)
{
    fx = fx_new();
    fake = NULL;
    if (use_fake)
        fx_use_store(fx, fake_store_new(&fake));
    fx_agent(fx, "coord", COLLAB_ROLE_COORDINATOR);
    fx_agent(fx, "w1", COLLAB_ROLE_WORKER);
    fx_agent(fx, "obs", COLLAB_ROLE_OBSERVER);
    fx_listener(fx, "w1", 1, false);
    fx_listener(fx, "obs", 2, true);
}

static int create_project(uint64_t request_id, const char *name)
{
    size_t n = fx_payload_str(fx, "name", name, NULL, NULL);
    fx->request_id = request_id;
    return fx_call(fx, collab_h_create_project, "coord", fx->payload, n);
}

static int assign(uint64_t request_id, uint64_t project)
{
    fx->request_id = request_id;
    return fx_assign(fx, "coord", project, "w1");
}

static int set_status(uint64_t request_id, uint64_t task, const char *status)
{
    fx->request_id = request_id;
    return fx_set_status(fx, "w1", task, status);
}

/*  The next request's change set: refused by the fake at commit. */
static void refuse_next(void)
{
    fake_store_refuse(fake, fx->ctx->next_changeset + 1);
}

/*  Project 1 committed; then, in one batch, create_project (request 101, a change set
    of its own) and assign_task on project 1 (request 102). */
static void two_in_one_batch(bool refuse_create, bool refuse_assign)
{
    CHECK_OK(create_project(100, "first"));
    CHECK_OK(fx_reply_rc(fx, 100));
    fx->n_frames = 0;
    fx->hold = true;
    if (refuse_create)
        refuse_next();
    CHECK_OK(create_project(101, "second")); /* valid here: the handler says ok */
    if (refuse_assign)
        refuse_next();
    CHECK_OK(assign(102, 1));
    CHECK_EQ_INT(fx->n_frames, 0); /* nothing leaves before the verdict */
    CHECK(collab_outbox_held(fx->ctx->outbox) > 0);
    fx->hold = false;
    fx_settle(fx);
    CHECK_EQ_INT(collab_outbox_held(fx->ctx->outbox), 0);
}

/*  The create_project is refused: it answers conflict, project 2 is gone from the tables,
    its project_created never left; the assign_task of the same batch stands, with its
    event, and the replies keep their order. */
static void test_refused_create_project(void)
{
    setup(true);
    two_in_one_batch(true, false);
    CHECK_RC(fx_reply_rc(fx, 101), COLLAB_E_CONFLICT);
    CHECK_OK(fx_reply_rc(fx, 102));
    CHECK(fx_reply_at(fx, 101) >= 0 &&
          fx_reply_at(fx, 101) < fx_reply_at(fx, 102)); /* in place, in order */
    CHECK_EQ_INT(fx_events(fx, "project_created", NULL), 0);
    CHECK_EQ_INT(fx_events(fx, "task_assigned", "w1"), 1);
    CHECK(collab_tables_project(fx->ctx->tables, 2) == NULL);
    CHECK_EQ_INT(collab_tables_project_count(fx->ctx->tables), 1);
    CHECK(collab_tables_task(fx->ctx->tables, 1) != NULL);
    CHECK_EQ_INT(fx->ctx->stats.refused_conflict, 1);
    /* the loser's name is free again: the next request creates it (with a new id) */
    fx->n_frames = 0;
    CHECK_OK(create_project(103, "second"));
    CHECK_OK(fx_reply_rc(fx, 103));
    CHECK_EQ_INT(fx_events(fx, "project_created", "obs"), 1);
    CHECK_EQ_INT(collab_tables_project_count(fx->ctx->tables), 2);
    fx_destroy(&fx);
}

/*  The assign_task is refused: its task leaves the tables and the project counts none;
    the create_project stands. */
static void test_refused_assign_task(void)
{
    setup(true);
    two_in_one_batch(false, true);
    CHECK_OK(fx_reply_rc(fx, 101));
    CHECK_RC(fx_reply_rc(fx, 102), COLLAB_E_CONFLICT);
    CHECK_EQ_INT(fx_events(fx, "project_created", "obs"), 1);
    CHECK_EQ_INT(fx_events(fx, "task_assigned", NULL), 0);
    CHECK(collab_tables_project(fx->ctx->tables, 2) != NULL);
    CHECK(collab_tables_task(fx->ctx->tables, 1) == NULL);
    collab_project_t *p = collab_tables_project(fx->ctx->tables, 1);
    CHECK(p && p->task_count == 0);
    size_t count = 9;
    collab_tables_project_tasks(fx->ctx->tables, 1, &count);
    CHECK_EQ_INT(count, 0);
    fx_destroy(&fx);
}

/*  A refused status change puts the task's previous status back; the same change, asked
    again, then succeeds (the tables are consistent with the store). */
static void test_refused_status_change(void)
{
    setup(true);
    CHECK_OK(create_project(100, "p"));
    CHECK_OK(assign(101, 1));
    fx->n_frames = 0;
    uint64_t ok0 = fx->ctx->stats.replies_ok, err0 = fx->ctx->stats.replies_error;
    refuse_next();
    CHECK_OK(set_status(102, 1, "in_progress"));
    CHECK_RC(fx_reply_rc(fx, 102), COLLAB_E_CONFLICT);
    /* counted as what the agent got: a refusal, not an ok */
    CHECK_EQ_INT(fx->ctx->stats.replies_ok, ok0);
    CHECK_EQ_INT(fx->ctx->stats.replies_error, err0 + 1);
    CHECK_EQ_INT(fx_events(fx, "task_status_changed", NULL), 0);
    collab_task_t *t = collab_tables_task(fx->ctx->tables, 1);
    CHECK(t && t->status == COLLAB_TASK_ASSIGNED);
    CHECK_RC(set_status(103, 1, "completed"), COLLAB_E_CONFLICT); /* still not started */
    CHECK_OK(set_status(104, 1, "in_progress"));
    CHECK_OK(fx_reply_rc(fx, 104));
    CHECK_EQ_INT(fx_events(fx, "task_status_changed", "w1"), 1);
    t = collab_tables_task(fx->ctx->tables, 1);
    CHECK(t && t->status == COLLAB_TASK_IN_PROGRESS);
    CHECK_EQ_INT(fx->ctx->stats.refused_conflict, 1);
    fx_destroy(&fx);
}

/*  A get_project read in the batch of a change that is then refused packed the change:
    once the tables roll back, the next read gives the task as it stands, not that reply
    (the cache of get_project replies, readcache.h). */
static void test_refused_change_not_kept(void)
{
    setup(true);
    CHECK_OK(create_project(100, "p"));
    CHECK_OK(assign(101, 1));
    fx->hold = true;
    refuse_next();
    CHECK_OK(set_status(102, 1, "in_progress"));
    size_t n = fx_payload_uint(fx, "project_id", 1, NULL, 0);
    fx->request_id = 103;
    CHECK_OK(fx_call(fx, collab_h_get_project, "obs", fx->payload, n));
    fx->hold = false;
    fx_settle(fx);
    CHECK_RC(fx_reply_rc(fx, 102), COLLAB_E_CONFLICT);
    fx->request_id = 104;
    CHECK_OK(fx_call(fx, collab_h_get_project, "obs", fx->payload, n));
    collab_envelope_t env;
    collab_map_t data, task;
    collab_mp_reader_t r;
    uint32_t count = 0;
    collab_span_t status = {0};
    CHECK_OK(fx_last_reply(fx, &env, &data));
    CHECK_OK(collab_map_array(&data, "tasks", &r, &count));
    CHECK(count == 1 && collab_map_array_next(&r, &task) == 0 &&
          collab_map_str(&task, "status", &status) == 0 && collab_span_eq(status, "assigned"));
    fx_destroy(&fx);
}

/*  A refused delete_project brings the project back with its tasks, as the store holds
    them, and no project_deleted event leaves. */
static void test_refused_delete_project(void)
{
    setup(true);
    CHECK_OK(create_project(100, "p"));
    CHECK_OK(assign(101, 1));
    CHECK_OK(assign(102, 1));
    fx->n_frames = 0;
    refuse_next();
    size_t n = fx_payload_uint(fx, "project_id", 1, NULL, 0);
    fx->request_id = 103;
    CHECK_OK(fx_call(fx, collab_h_delete_project, "coord", fx->payload, n));
    CHECK_RC(fx_reply_rc(fx, 103), COLLAB_E_CONFLICT);
    CHECK_EQ_INT(fx_events(fx, "project_deleted", NULL), 0);
    collab_project_t *p = collab_tables_project(fx->ctx->tables, 1);
    CHECK(p && p->task_count == 2);
    CHECK(collab_tables_task(fx->ctx->tables, 1) != NULL);
    CHECK(collab_tables_task(fx->ctx->tables, 2) != NULL);
    size_t count = 0;
    collab_tables_project_tasks(fx->ctx->tables, 1, &count);
    CHECK_EQ_INT(count, 2);
    fx_destroy(&fx);
}

/*  SQLite refuses nothing: the same batch gives two ok replies and both events. */
static void test_sqlite_refuses_nothing(void)
{
    setup(false);
    two_in_one_batch(false, false);
    CHECK_OK(fx_reply_rc(fx, 101));
    CHECK_OK(fx_reply_rc(fx, 102));
    CHECK_EQ_INT(fx_events(fx, "project_created", "obs"), 1);
    CHECK_EQ_INT(fx_events(fx, "task_assigned", "w1"), 1);
    CHECK(collab_tables_project(fx->ctx->tables, 2) != NULL);
    CHECK(collab_tables_task(fx->ctx->tables, 1) != NULL);
    CHECK_EQ_INT(fx->ctx->stats.refused_conflict, 0);
    fx_destroy(&fx);
}

int main(void)
{
    TU_RUN(test_refused_create_project);
    TU_RUN(test_refused_assign_task);
    TU_RUN(test_refused_delete_project);
    TU_RUN(test_refused_status_change);
    TU_RUN(test_refused_change_not_kept);
    TU_RUN(test_sqlite_refuses_nothing);
    return tu_exit("test_handlers_conflict");
}
