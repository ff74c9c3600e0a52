/*  test_handlers_conflict.c: a store that refuses a request's change at commit (a cluster's
    conflict), on the fake backend: the refused request answers conflict, built after the
    verdict, its events never leave, the tables roll back; the others of its batch go on.
    On SQLite (which never refuses) the same requests all succeed. */
#include "fake_store.h"
#include "handlers_fixture.h"
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

#define MAX_FRAMES 32

/*  Every frame the outbox let go, decoded: replies by request_id, events by name. */
typedef struct {
    char rid[16];
    collab_kind_t kind;
    uint64_t request_id;
    bool ok;
    uint32_t error_code;
    char name[32]; /* an event's */
} frame_t;

static fx_t *fx;
static fake_store_t *fake; /* NULL: the fixture's SQLite store */
static frame_t frames[MAX_FRAMES];
static size_t n_frames;

static void collect(void *arg, const uint8_t *rid, size_t rid_len, const uint8_t *bytes, size_t len)
{
    (void)arg;
    collab_envelope_t env;
    if (!CHECK(n_frames < MAX_FRAMES && collab_envelope_decode(bytes, len, &env) == 0))
        return;
    frame_t *f = &frames[n_frames++];
    memset(f, 0, sizeof *f);
    snprintf(f->rid, sizeof f->rid, "%.*s", (int)rid_len, (const char *)rid);
    f->kind = env.kind;
    f->request_id = env.request_id;
    f->ok = env.ok;
    f->error_code = env.error_code;
    snprintf(f->name, sizeof f->name, "%.*s", (int)env.event.len, env.event.ptr);
}

/*  A listener's session: subscribed, with a routing id; all: to every project's events. */
static void listener(const char *agent_id, uint64_t handle, bool all)
{
    collab_session_t *s = fx_session(fx, agent_id, handle);
    s->subscribed = true;
    s->rid_len = (uint16_t)snprintf((char *)s->rid, sizeof s->rid, "%s", agent_id);
    if (all)
        collab_tables_set_follow_all(
            fx->ctx->tables, collab_tables_agent(fx->ctx->tables, agent_id, strlen(agent_id)), s,
            true);
}

/*  The fixture, on the fake backend (in writer mode, as the loop runs it) or on SQLite;
    frames collected; agents coord, w1 (subscribed) and obs (subscribed to everything). */
static void setup(bool use_fake)
{
    fx = fx_new();
    fake = NULL;
    n_frames = 0;
    if (use_fake) {
        collab_store_destroy(&fx->ctx->store);
        fx->ctx->store = fake_store_new(&fake);
        if (!fx->ctx->store || collab_store_start_writer(fx->ctx->store) != 0)
            abort();
    }
    collab_outbox_destroy(&fx->ctx->outbox);
    if (!(fx->ctx->outbox = collab_outbox_new(collect, NULL)))
        abort();
    fx_agent(fx, "coord", COLLAB_ROLE_COORDINATOR);
    fx_agent(fx, "w1", COLLAB_ROLE_WORKER);
    fx_agent(fx, "obs", COLLAB_ROLE_OBSERVER);
    listener("w1", 1, false);
    listener("obs", 2, true);
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

/*  The index of the reply to request_id among the frames, or -1. */
static int reply_at(uint64_t request_id)
{
    for (size_t i = 0; i < n_frames; i++)
        if (frames[i].kind == COLLAB_KIND_REPLY && frames[i].request_id == request_id)
            return (int)i;
    return -1;
}

static bool reply_ok(uint64_t request_id)
{
    int i = reply_at(request_id);
    return i >= 0 && frames[i].ok;
}

static bool reply_conflict(uint64_t request_id)
{
    int i = reply_at(request_id);
    return i >= 0 && !frames[i].ok && frames[i].error_code == (uint32_t)-COLLAB_E_CONFLICT;
}

/*  How many events named `name` went to the listener rid (NULL: to anyone). */
static int events(const char *name, const char *rid)
{
    int n = 0;
    for (size_t i = 0; i < n_frames; i++)
        n += frames[i].kind == COLLAB_KIND_EVENT && strcmp(frames[i].name, name) == 0 &&
             (!rid || strcmp(frames[i].rid, rid) == 0);
    return n;
}

/*  Project 1 committed; then, in one batch, create_project (request 101, a change set
    of its own) and assign_task on project 1 (request 102). */
static void two_in_one_batch(bool refuse_create, bool refuse_assign)
{
    CHECK_OK(create_project(100, "first"));
    CHECK(reply_ok(100));
    n_frames = 0;
    fx->hold = true;
    if (refuse_create)
        refuse_next();
    CHECK_OK(create_project(101, "second")); /* valid here: the handler says ok */
    if (refuse_assign)
        refuse_next();
    CHECK_OK(assign(102, 1));
    CHECK_EQ_INT(n_frames, 0); /* nothing leaves before the verdict */
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
    CHECK(reply_conflict(101));
    CHECK(reply_ok(102));
    CHECK(reply_at(101) >= 0 && reply_at(101) < reply_at(102)); /* in place, in order */
    CHECK_EQ_INT(events("project_created", NULL), 0);
    CHECK_EQ_INT(events("task_assigned", "w1"), 1);
    CHECK(collab_tables_project(fx->ctx->tables, 2) == NULL);
    CHECK_EQ_INT(collab_tables_project_count(fx->ctx->tables), 1);
    CHECK(collab_tables_task(fx->ctx->tables, 1) != NULL);
    CHECK_EQ_INT(fx->ctx->stats.refused_conflict, 1);
    /* the loser's name is free again: the next request creates it (with a new id) */
    n_frames = 0;
    CHECK_OK(create_project(103, "second"));
    CHECK(reply_ok(103));
    CHECK_EQ_INT(events("project_created", "obs"), 1);
    CHECK_EQ_INT(collab_tables_project_count(fx->ctx->tables), 2);
    fx_destroy(&fx);
}

/*  The assign_task is refused: its task leaves the tables and the project counts none;
    the create_project stands. */
static void test_refused_assign_task(void)
{
    setup(true);
    two_in_one_batch(false, true);
    CHECK(reply_ok(101));
    CHECK(reply_conflict(102));
    CHECK_EQ_INT(events("project_created", "obs"), 1);
    CHECK_EQ_INT(events("task_assigned", NULL), 0);
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
    n_frames = 0;
    uint64_t ok0 = fx->ctx->stats.replies_ok, err0 = fx->ctx->stats.replies_error;
    refuse_next();
    CHECK_OK(set_status(102, 1, "in_progress"));
    CHECK(reply_conflict(102));
    /* counted as what the agent got: a refusal, not an ok */
    CHECK_EQ_INT(fx->ctx->stats.replies_ok, ok0);
    CHECK_EQ_INT(fx->ctx->stats.replies_error, err0 + 1);
    CHECK_EQ_INT(events("task_status_changed", NULL), 0);
    collab_task_t *t = collab_tables_task(fx->ctx->tables, 1);
    CHECK(t && t->status == COLLAB_TASK_ASSIGNED);
    CHECK_RC(set_status(103, 1, "completed"), COLLAB_E_CONFLICT); /* still not started */
    CHECK_OK(set_status(104, 1, "in_progress"));
    CHECK(reply_ok(104));
    CHECK_EQ_INT(events("task_status_changed", "w1"), 1);
    t = collab_tables_task(fx->ctx->tables, 1);
    CHECK(t && t->status == COLLAB_TASK_IN_PROGRESS);
    CHECK_EQ_INT(fx->ctx->stats.refused_conflict, 1);
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
    n_frames = 0;
    refuse_next();
    size_t n = fx_payload_uint(fx, "project_id", 1, NULL, 0);
    fx->request_id = 103;
    CHECK_OK(fx_call(fx, collab_h_delete_project, "coord", fx->payload, n));
    CHECK(reply_conflict(103));
    CHECK_EQ_INT(events("project_deleted", NULL), 0);
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
    CHECK(reply_ok(101));
    CHECK(reply_ok(102));
    CHECK_EQ_INT(events("project_created", "obs"), 1);
    CHECK_EQ_INT(events("task_assigned", "w1"), 1);
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
    TU_RUN(test_sqlite_refuses_nothing);
    return tu_exit("test_handlers_conflict");
}
