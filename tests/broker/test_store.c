/*  test_store.c: the SQLite state file. Every record type round-trips with every field, group
    commit, reset, event retention, cascading project deletion, meta values, refusal of files
    that are not ours (left byte-identical), and durability across kill -9 of the writer. */
#include "store.h"
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char tmpdir[256];

/*  A fresh file name inside the test's temporary directory. */
static const char *tmp_path(const char *name)
{
    static char path[4][512];
    static int next;
    char *p = path[next++ % 4];
    snprintf(p, sizeof path[0], "%s/%s", tmpdir, name);
    return p;
}

static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[600];
    while (d && (e = readdir(d)))
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0) {
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            unlink(p);
        }
    if (d)
        closedir(d);
    rmdir(dir);
}

static uint8_t *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    *len = 0;
    if (!f)
        return NULL;
    size_t cap = 0, n;
    uint8_t chunk[4096];
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        uint8_t *grown = realloc(buf, cap + n);
        if (!grown)
            break;
        buf = grown;
        memcpy(buf + cap, chunk, n);
        cap += n;
    }
    fclose(f);
    *len = cap;
    return buf ? buf : malloc(1);
}

static bool file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static collab_store_t *open_ok(const char *path, bool reset)
{
    char err[512] = "";
    collab_store_t *st = collab_store_open(path, reset, err, sizeof err);
    if (!st)
        tu_fail(__FILE__, __LINE__, "open %s: %s", path, err);
    return st;
}

/* ---------------------------------------------------------------------------------------
   A loader that copies everything it is given */

#define MAXREC 2048

typedef struct {
    collab_agent_t agents[8];
    collab_session_t sessions[8];
    collab_project_t projects[16];
    collab_task_t tasks[MAXREC];
    size_t n_agents, n_sessions, n_projects, n_tasks;
    int stop_after; /* stop the load with COLLAB_E_BUSY after this many records; 0 = never */
    int seen;
} loaded_t;

static char *dup_str(const char *s)
{
    return strdup(s ? s : "(null)");
}

static int stop_check(loaded_t *l)
{
    return l->stop_after && ++l->seen >= l->stop_after ? COLLAB_E_BUSY : 0;
}

static int on_agent(void *arg, const collab_agent_t *a)
{
    loaded_t *l = arg;
    if (l->n_agents < 8)
        l->agents[l->n_agents++] = *a;
    return stop_check(l);
}

static int on_session(void *arg, const collab_session_t *s)
{
    loaded_t *l = arg;
    if (l->n_sessions < 8)
        l->sessions[l->n_sessions++] = *s;
    return stop_check(l);
}

static int on_project(void *arg, const collab_project_t *p)
{
    loaded_t *l = arg;
    if (l->n_projects < 16) {
        collab_project_t *c = &l->projects[l->n_projects++];
        *c = *p;
        c->name = dup_str(p->name);
        c->description = dup_str(p->description);
    }
    return stop_check(l);
}

static int on_task(void *arg, const collab_task_t *t)
{
    loaded_t *l = arg;
    if (l->n_tasks < MAXREC) {
        collab_task_t *c = &l->tasks[l->n_tasks++];
        *c = *t;
        c->title = dup_str(t->title);
        c->description = dup_str(t->description);
        c->result = dup_str(t->result);
    }
    return stop_check(l);
}

static const collab_store_loader_t loader = {on_agent, on_session, on_project, on_task};

static void loaded_free(loaded_t *l)
{
    for (size_t i = 0; i < l->n_projects; i++) {
        free(l->projects[i].name);
        free(l->projects[i].description);
    }
    for (size_t i = 0; i < l->n_tasks; i++) {
        free(l->tasks[i].title);
        free(l->tasks[i].description);
        free(l->tasks[i].result);
    }
    free(l);
}

static loaded_t *load_all(collab_store_t *st, int want_rc)
{
    loaded_t *l = calloc(1, sizeof *l);
    CHECK_RC(collab_store_load(st, &loader, l), want_rc);
    return l;
}

/* ---------------------------------------------------------------------------------------
   Sample records with every field set, extreme values included */

static void sample_agent(collab_agent_t *a)
{
    memset(a, 0, sizeof *a);
    snprintf(a->id, sizeof a->id, "worker-1.a_b");
    a->role = COLLAB_ROLE_WORKER;
    snprintf(a->pw_hash, sizeof a->pw_hash,
             "$2b$04$abcdefghijklmnopqrstuuQ0xUqZ3F5v2m1W1aH2yH9bL3Jc5o9mK");
    a->registered = true;
    a->cap_count = 3;
    snprintf(a->caps[0], sizeof a->caps[0], "code_review");
    snprintf(a->caps[1], sizeof a->caps[1], "testing");
    snprintf(a->caps[2], sizeof a->caps[2], "abcdefghijklmnopqrstuvwxyz_abcde"); /* 32 */
    a->last_seen = 1700000000123ULL;
    a->event_seq = UINT64_MAX; /* stored as a signed 64-bit integer, read back bit-exact */
    a->failures = UINT32_MAX;
    a->locked_until = 1700000900000ULL;
}

static void sample_session(collab_session_t *s)
{
    memset(s, 0, sizeof *s);
    snprintf(s->token, sizeof s->token, "3f2800d6-569e-41b4-a06f-949a3cebd0b7");
    s->handle = 42;
    snprintf(s->agent_id, sizeof s->agent_id, "worker-1.a_b");
    s->role = COLLAB_ROLE_OBSERVER;
    s->created = 1700000000000ULL;
    s->last_activity = 1700000000999ULL;
    snprintf(s->peer, sizeof s->peer, "2001:db8::1");
    const uint8_t rid[] = {0x00, 0x6b, 0x8b, 0x45, 0x67, 0x00, 0xff};
    memcpy(s->rid, rid, sizeof rid);
    s->rid_len = sizeof rid;
    s->subscribed = true;
    s->subscribed_all = false;
}

static void sample_project(collab_project_t *p, uint64_t id, char *name, char *desc)
{
    memset(p, 0, sizeof *p);
    p->id = id;
    p->name = name;
    p->description = desc;
    snprintf(p->owner, sizeof p->owner, "coord-%llu", (unsigned long long)id);
    p->closed = id % 2 == 0;
    p->created = 1700000000000ULL + id;
    p->task_count = (uint32_t)id * 3;
}

static void sample_task(collab_task_t *t, uint64_t id, uint64_t project_id, char *title)
{
    memset(t, 0, sizeof *t);
    t->id = id;
    t->project_id = project_id;
    snprintf(t->type, sizeof t->type, "code_review");
    t->title = title;
    t->description = NULL; /* stored as "" */
    t->result = (char *)"r\xc3\xa9sultat \xe2\x9c\x93";
    t->status = COLLAB_TASK_IN_PROGRESS;
    snprintf(t->assigned_to, sizeof t->assigned_to, "worker-%llu", (unsigned long long)id);
    snprintf(t->assigned_by, sizeof t->assigned_by, "coord-1");
    t->created = 1700000000000ULL + id;
    t->updated = 1700000001000ULL + id;
}

/* ---------------------------------------------------------------------------------------
   Tests */

static void test_roundtrip(void)
{
    const char *path = tmp_path("roundtrip.db");
    collab_store_t *st = open_ok(path, false);
    if (!st)
        return;
    collab_agent_t a;
    collab_session_t s;
    collab_project_t p[3];
    collab_task_t t;
    sample_agent(&a);
    sample_session(&s);
    char name3[] = "third", name1[] = "caf\xc3\xa9 \xf0\x9f\x9a\x80", name2[] = "second";
    char desc[] = "line one\nline two";
    sample_project(&p[0], 3, name3, desc);
    sample_project(&p[1], 1, name1, desc);
    sample_project(&p[2], 2, name2, NULL); /* NULL description is stored as "" */
    char title[] = "Review the store";
    sample_task(&t, 7, 1, title);

    CHECK(!collab_store_in_batch(st));
    CHECK_OK(collab_store_put_agent(st, &a));
    CHECK(collab_store_in_batch(st)); /* a write opens the batch */
    CHECK_OK(collab_store_put_session(st, &s));
    for (int i = 0; i < 3; i++)
        CHECK_OK(collab_store_put_project(st, &p[i]));
    CHECK_OK(collab_store_put_task(st, &t));
    CHECK_OK(collab_store_commit(st));
    CHECK(!collab_store_in_batch(st));
    CHECK_OK(collab_store_commit(st)); /* no-op */
    collab_store_destroy(&st);
    CHECK(st == NULL);
    collab_store_destroy(&st);

    st = open_ok(path, false);
    if (!st)
        return;
    loaded_t *l = load_all(st, 0);
    CHECK_EQ_INT(l->n_agents, 1);
    if (l->n_agents == 1) {
        collab_agent_t *g = &l->agents[0];
        CHECK_STR(g->id, a.id);
        CHECK_EQ_INT(g->role, a.role);
        CHECK_STR(g->pw_hash, a.pw_hash);
        CHECK(g->registered);
        CHECK_EQ_INT(g->cap_count, 3);
        for (int i = 0; i < 3; i++)
            CHECK_STR(g->caps[i], a.caps[i]);
        CHECK_EQ_U64(g->last_seen, a.last_seen);
        CHECK_EQ_U64(g->event_seq, UINT64_MAX);
        CHECK_EQ_U64(g->failures, UINT32_MAX);
        CHECK_EQ_U64(g->locked_until, a.locked_until);
    }
    CHECK_EQ_INT(l->n_sessions, 1);
    if (l->n_sessions == 1) {
        collab_session_t *g = &l->sessions[0];
        CHECK_STR(g->token, s.token);
        CHECK_EQ_U64(g->handle, 42);
        CHECK_STR(g->agent_id, s.agent_id);
        CHECK_EQ_INT(g->role, COLLAB_ROLE_OBSERVER);
        CHECK_EQ_U64(g->created, s.created);
        CHECK_EQ_U64(g->last_activity, s.last_activity);
        CHECK_STR(g->peer, s.peer);
        CHECK_MEM(g->rid, g->rid_len, s.rid, s.rid_len);
        CHECK(g->subscribed && !g->subscribed_all);
    }
    CHECK_EQ_INT(l->n_projects, 3);
    if (l->n_projects == 3) {
        /* ordered by id whatever the insertion order */
        CHECK_EQ_U64(l->projects[0].id, 1);
        CHECK_EQ_U64(l->projects[1].id, 2);
        CHECK_EQ_U64(l->projects[2].id, 3);
        CHECK_STR(l->projects[0].name, name1);
        CHECK_STR(l->projects[0].description, desc);
        CHECK_STR(l->projects[1].description, "");
        CHECK_STR(l->projects[2].name, "third");
        for (int i = 0; i < 3; i++) {
            uint64_t id = l->projects[i].id;
            char owner[32];
            snprintf(owner, sizeof owner, "coord-%llu", (unsigned long long)id);
            CHECK_STR(l->projects[i].owner, owner);
            CHECK_EQ_INT(l->projects[i].closed, id % 2 == 0);
            CHECK_EQ_U64(l->projects[i].created, 1700000000000ULL + id);
            CHECK_EQ_U64(l->projects[i].task_count, id * 3);
        }
    }
    CHECK_EQ_INT(l->n_tasks, 1);
    if (l->n_tasks == 1) {
        collab_task_t *g = &l->tasks[0];
        CHECK_EQ_U64(g->id, 7);
        CHECK_EQ_U64(g->project_id, 1);
        CHECK_STR(g->type, "code_review");
        CHECK_STR(g->title, title);
        CHECK_STR(g->description, "");
        CHECK_STR(g->result, t.result);
        CHECK_EQ_INT(g->status, COLLAB_TASK_IN_PROGRESS);
        CHECK_STR(g->assigned_to, "worker-7");
        CHECK_STR(g->assigned_by, "coord-1");
        CHECK_EQ_U64(g->created, t.created);
        CHECK_EQ_U64(g->updated, t.updated);
    }
    loaded_free(l);

    /* puts are upserts; a callback's code stops the load and is returned */
    a.role = COLLAB_ROLE_ADMIN;
    a.cap_count = 0;
    s.rid_len = 0;
    CHECK_OK(collab_store_put_agent(st, &a));
    CHECK_OK(collab_store_put_session(st, &s));
    CHECK_OK(collab_store_commit(st));
    l = load_all(st, 0);
    CHECK_EQ_INT(l->n_agents, 1);
    CHECK_EQ_INT(l->agents[0].role, COLLAB_ROLE_ADMIN);
    CHECK_EQ_INT(l->agents[0].cap_count, 0);
    CHECK_EQ_INT(l->n_sessions, 1);
    CHECK_EQ_INT(l->sessions[0].rid_len, 0);
    loaded_free(l);
    l = calloc(1, sizeof *l);
    l->stop_after = 3;
    CHECK_RC(collab_store_load(st, &loader, l), COLLAB_E_BUSY);
    CHECK_EQ_INT(l->n_projects, 1); /* agent, session, first project: stopped */
    CHECK_EQ_INT(l->n_tasks, 0);
    loaded_free(l);

    /* a NULL callback skips its table */
    collab_store_loader_t only_tasks = {.task = on_task};
    l = calloc(1, sizeof *l);
    CHECK_OK(collab_store_load(st, &only_tasks, l));
    CHECK_EQ_INT(l->n_agents + l->n_projects, 0);
    CHECK_EQ_INT(l->n_tasks, 1);
    loaded_free(l);

    CHECK_OK(collab_store_delete_session(st, s.token));
    CHECK_OK(collab_store_commit(st));
    l = load_all(st, 0);
    CHECK_EQ_INT(l->n_sessions, 0);
    loaded_free(l);
    collab_store_destroy(&st);
}

/*  Times `commits` commits of `per` task upserts each; returns the total in ms. */
static double timed_upserts(collab_store_t *st, int commits, int per)
{
    char title[] = "timed";
    collab_task_t t;
    double t0 = now_ms();
    for (int c = 0; c < commits; c++) {
        CHECK_OK(collab_store_begin(st));
        for (int i = 0; i < per; i++) {
            sample_task(&t, 100000 + (uint64_t)i, 1, title);
            CHECK_OK(collab_store_put_task(st, &t));
        }
        CHECK_OK(collab_store_commit(st));
    }
    return now_ms() - t0;
}

static void test_group_commit(void)
{
    enum { N = 1500 };
    const char *path = tmp_path("group.db");
    collab_store_t *st = open_ok(path, false);
    if (!st)
        return;
    char title[N][24];
    collab_task_t t;
    CHECK_OK(collab_store_begin(st));
    CHECK_OK(collab_store_begin(st)); /* idempotent */
    for (int i = 0; i < N; i++) {
        snprintf(title[i], sizeof title[i], "task %d", i + 1);
        sample_task(&t, (uint64_t)i + 1, (uint64_t)i % 5 + 1, title[i]);
        t.status = (collab_task_status_t)(i % COLLAB_TASK_STATUS_COUNT);
        CHECK_OK(collab_store_put_task(st, &t));
    }
    CHECK_OK(collab_store_commit(st));
    collab_store_destroy(&st);

    st = open_ok(path, false);
    if (!st)
        return;
    loaded_t *l = load_all(st, 0);
    CHECK_EQ_INT(l->n_tasks, N);
    if (l->n_tasks == N)
        for (int i = 0; i < N; i++) {
            CHECK_EQ_U64(l->tasks[i].id, i + 1);
            CHECK_STR(l->tasks[i].title, title[i]);
            CHECK_EQ_INT(l->tasks[i].status, i % COLLAB_TASK_STATUS_COUNT);
        }
    loaded_free(l);

    /* the point of grouping: one fsync'd commit for many writes */
    double batched = timed_upserts(st, 1, 64);
    double single = timed_upserts(st, 64, 1);
    fprintf(stderr,
            "test_store: 1 commit of 64 upserts: %.2f ms; 64 commits of 1 upsert: %.2f ms "
            "(%.3f ms per commit)\n",
            batched, single, single / 64);
    collab_store_destroy(&st);
}

static void test_failed_write_fails_batch(void)
{
    collab_store_t *st = open_ok(tmp_path("failed.db"), false);
    if (!st)
        return;
    uint8_t small[4] = {1, 2, 3, 4};
    CHECK_OK(collab_store_put_meta(st, "kept", small, sizeof small));
    CHECK_OK(collab_store_commit(st));
    CHECK_OK(collab_store_put_meta(st, "lost", small, sizeof small));
    /* a length SQLite refuses to bind: the write fails before touching the bytes */
    CHECK_RC(collab_store_put_meta(st, "huge", small, (size_t)INT32_MAX + 1), COLLAB_E_IO);
    CHECK_RC(collab_store_commit(st), COLLAB_E_IO); /* the whole batch, not part of it */
    CHECK(!collab_store_in_batch(st));
    uint8_t buf[8];
    CHECK_EQ_INT(collab_store_get_meta(st, "lost", buf, sizeof buf), 0);
    CHECK_EQ_INT(collab_store_get_meta(st, "kept", buf, sizeof buf), 4);
    /* the next batch is unaffected */
    CHECK_OK(collab_store_put_meta(st, "next", small, 2));
    CHECK_OK(collab_store_commit(st));
    CHECK_EQ_INT(collab_store_get_meta(st, "next", buf, sizeof buf), 2);
    collab_store_destroy(&st);
}

typedef struct {
    uint64_t seq[32];
    uint64_t ts[32];
    char data[32][16];
    size_t n;
    size_t stop_at; /* return COLLAB_E_BUSY at this event (1-based); 0 = never */
} events_t;

static int on_event(void *arg, const collab_event_t *ev)
{
    events_t *e = arg;
    if (e->n < 32) {
        e->seq[e->n] = ev->seq;
        e->ts[e->n] = ev->timestamp;
        snprintf(e->data[e->n], sizeof e->data[0], "%.*s", (int)ev->data_len,
                 ev->data_len ? (const char *)ev->data : "");
        if (strcmp(ev->name, "task_assigned") != 0 || strcmp(ev->agent_id, "w1") != 0)
            snprintf(e->data[e->n], sizeof e->data[0], "BAD");
        e->n++;
    }
    return e->stop_at && e->n >= e->stop_at ? COLLAB_E_BUSY : 0;
}

static void test_reset(void)
{
    const char *path = tmp_path("reset.db");
    collab_store_t *st = open_ok(path, false);
    if (!st)
        return;
    collab_agent_t a;
    collab_session_t s;
    collab_project_t p;
    collab_task_t t;
    char name[] = "p", title[] = "t";
    sample_agent(&a);
    sample_session(&s);
    sample_project(&p, 1, name, name);
    sample_task(&t, 1, 1, title);
    collab_event_t ev = {.agent_id = "worker-1", .seq = 1, .name = "task_assigned"};
    CHECK_OK(collab_store_put_agent(st, &a));
    CHECK_OK(collab_store_put_session(st, &s));
    CHECK_OK(collab_store_put_project(st, &p));
    CHECK_OK(collab_store_put_task(st, &t));
    CHECK_OK(collab_store_put_event(st, &ev, 10));
    CHECK_OK(collab_store_put_meta(st, "next_project_id", "\x02", 1));
    CHECK_OK(collab_store_commit(st));
    collab_store_destroy(&st);

    st = open_ok(path, true);
    if (!st)
        return;
    loaded_t *l = load_all(st, 0);
    CHECK_EQ_INT(l->n_agents + l->n_sessions + l->n_projects + l->n_tasks, 0);
    loaded_free(l);
    uint64_t oldest = 99;
    events_t e = {0};
    CHECK_OK(collab_store_events_since(st, "worker-1", 0, on_event, &e, &oldest));
    CHECK_EQ_INT(e.n, 0);
    CHECK_EQ_U64(oldest, 0);
    char buf[16];
    CHECK_EQ_INT(collab_store_get_meta(st, "next_project_id", buf, sizeof buf), 0);
    /* the schema survives: writes work and the file still opens as ours */
    CHECK_OK(collab_store_put_project(st, &p));
    CHECK_OK(collab_store_commit(st));
    collab_store_destroy(&st);
    st = open_ok(path, false);
    l = st ? load_all(st, 0) : NULL;
    CHECK(l && l->n_projects == 1);
    if (l)
        loaded_free(l);
    collab_store_destroy(&st);
}

static void test_events(void)
{
    collab_store_t *st = open_ok(tmp_path("events.db"), false);
    if (!st)
        return;
    char data[16];
    for (uint64_t seq = 1; seq <= 10; seq++) {
        snprintf(data, sizeof data, "d%llu", (unsigned long long)seq);
        collab_event_t ev = {.agent_id = "w1",
                             .seq = seq,
                             .name = "task_assigned",
                             .timestamp = 1000 + seq,
                             .data = (const uint8_t *)data,
                             .data_len = strlen(data)};
        CHECK_OK(collab_store_put_event(st, &ev, 4));
        collab_event_t other = {.agent_id = "w2", .seq = seq, .name = "x", .timestamp = seq};
        CHECK_OK(collab_store_put_event(st, &other, 100)); /* no data at all */
    }
    CHECK_OK(collab_store_commit(st));

    events_t e = {0};
    uint64_t oldest = 0;
    CHECK_OK(collab_store_events_since(st, "w1", 0, on_event, &e, &oldest));
    CHECK_EQ_U64(oldest, 7); /* the newest 4 are kept */
    CHECK_EQ_INT(e.n, 4);
    if (e.n == 4)
        for (size_t i = 0; i < 4; i++) {
            char want[16];
            snprintf(want, sizeof want, "d%zu", i + 7);
            CHECK_EQ_U64(e.seq[i], i + 7);
            CHECK_EQ_U64(e.ts[i], 1007 + i);
            CHECK_STR(e.data[i], want);
        }
    memset(&e, 0, sizeof e);
    CHECK_OK(collab_store_events_since(st, "w1", 8, on_event, &e, &oldest));
    CHECK_EQ_INT(e.n, 2);
    CHECK_EQ_U64(e.seq[0], 9);
    CHECK_EQ_U64(oldest, 7);
    memset(&e, 0, sizeof e);
    e.stop_at = 2;
    CHECK_RC(collab_store_events_since(st, "w1", 0, on_event, &e, &oldest), COLLAB_E_BUSY);
    CHECK_EQ_INT(e.n, 2);

    /* the other agent's retention is its own */
    memset(&e, 0, sizeof e);
    CHECK_OK(collab_store_events_since(st, "w2", 0, on_event, &e, &oldest));
    CHECK_EQ_INT(e.n, 10);
    CHECK_EQ_U64(oldest, 1);
    CHECK_STR(e.data[0], "BAD"); /* name "x", so the callback flagged it; data was empty */
    memset(&e, 0, sizeof e);
    CHECK_OK(collab_store_events_since(st, "nobody", 0, on_event, &e, &oldest));
    CHECK_EQ_INT(e.n, 0);
    CHECK_EQ_U64(oldest, 0);
    collab_store_destroy(&st);
}

static void test_delete_project(void)
{
    collab_store_t *st = open_ok(tmp_path("delete.db"), false);
    if (!st)
        return;
    char name[] = "n", title[] = "t";
    collab_project_t p;
    collab_task_t t;
    for (uint64_t id = 1; id <= 2; id++) {
        sample_project(&p, id, name, name);
        CHECK_OK(collab_store_put_project(st, &p));
    }
    for (uint64_t id = 1; id <= 5; id++) {
        sample_task(&t, id, id <= 3 ? 1 : 2, title);
        CHECK_OK(collab_store_put_task(st, &t));
    }
    CHECK_OK(collab_store_commit(st));
    CHECK_OK(collab_store_delete_project(st, 1));
    CHECK_OK(collab_store_delete_project(st, 99)); /* absent: nothing to do */
    CHECK_OK(collab_store_commit(st));
    loaded_t *l = load_all(st, 0);
    CHECK_EQ_INT(l->n_projects, 1);
    CHECK_EQ_U64(l->projects[0].id, 2);
    CHECK_EQ_INT(l->n_tasks, 2);
    if (l->n_tasks == 2) {
        CHECK_EQ_U64(l->tasks[0].id, 4);
        CHECK_EQ_U64(l->tasks[1].id, 5);
    }
    loaded_free(l);
    collab_store_destroy(&st);
}

static void test_meta(void)
{
    collab_store_t *st = open_ok(tmp_path("meta.db"), false);
    if (!st)
        return;
    uint8_t head[32], buf[64];
    for (int i = 0; i < 32; i++)
        head[i] = (uint8_t)(i * 7);
    CHECK_EQ_INT(collab_store_get_meta(st, "audit_head", buf, sizeof buf), 0);
    CHECK_OK(collab_store_put_meta(st, "audit_head", head, sizeof head));
    CHECK_EQ_INT(collab_store_get_meta(st, "audit_head", buf, sizeof buf), 32);
    CHECK_MEM(buf, 32, head, 32);
    CHECK_RC(collab_store_get_meta(st, "audit_head", buf, 31), COLLAB_E_TOO_LARGE);
    CHECK_OK(collab_store_put_meta(st, "audit_head", "ab", 2)); /* replaces */
    CHECK_EQ_INT(collab_store_get_meta(st, "audit_head", buf, sizeof buf), 2);
    CHECK_MEM(buf, 2, "ab", 2);
    CHECK_OK(collab_store_put_meta(st, "empty", NULL, 0));
    CHECK_EQ_INT(collab_store_get_meta(st, "empty", buf, sizeof buf), 0);
    CHECK_OK(collab_store_commit(st));
    /* the schema marker is a meta row too */
    CHECK_EQ_INT(collab_store_get_meta(st, "schema", buf, sizeof buf), 12);
    CHECK_MEM(buf, 12, "taskcollab-1", 12);
    collab_store_destroy(&st);
}

/*  Runs SQL on a file through SQLite directly, as another program would. */
static bool raw_sql(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    bool ok = sqlite3_open(path, &db) == SQLITE_OK &&
              sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK;
    sqlite3_close(db);
    return ok;
}

/*  The file must be refused with the path and the reason, and left exactly as it was. */
static void check_refused(const char *path, const char *reason)
{
    size_t before_len, after_len;
    uint8_t *before = read_all(path, &before_len);
    for (int reset = 0; reset <= 1; reset++) {
        char err[512] = "";
        collab_store_t *st = collab_store_open(path, reset, err, sizeof err);
        CHECK(st == NULL);
        collab_store_destroy(&st);
        CHECK(strncmp(err, path, strlen(path)) == 0);
        if (!CHECK(strstr(err, reason) != NULL))
            fprintf(stderr, "  message was: %s\n", err);
    }
    uint8_t *after = read_all(path, &after_len);
    CHECK(before && after);
    if (before && after)
        CHECK_MEM(after, after_len, before, before_len);
    free(before);
    free(after);
}

static void test_foreign_files(void)
{
    const char *foreign = tmp_path("foreign.db");
    CHECK(raw_sql(foreign, "CREATE TABLE users(name TEXT, password TEXT);"
                           "INSERT INTO users VALUES('alice', 'secret');"));
    check_refused(foreign, ": not a taskcollab state file (no schema marker; it has 'users')");
    CHECK(!file_exists(tmp_path("foreign.db-wal")));

    const char *view = tmp_path("view.db"); /* no table at all, still someone's */
    CHECK(raw_sql(view, "CREATE VIEW answer AS SELECT 42"));
    check_refused(view, ": not a taskcollab state file (no schema marker; it has 'answer')");

    const char *other = tmp_path("other-schema.db");
    CHECK(raw_sql(other, "CREATE TABLE meta(key TEXT PRIMARY KEY, value BLOB);"
                         "INSERT INTO meta VALUES('schema', 'other-app-2\x1b[31m');"));
    check_refused(other, ": not a taskcollab state file (schema 'other-app-2?[31m', expected "
                         "'taskcollab-1')");

    const char *garbage = tmp_path("garbage.db");
    FILE *f = fopen(garbage, "wb");
    if (CHECK(f)) {
        for (int i = 0; i < 300; i++)
            fprintf(f, "this is not a database, line %d\n", i);
        fclose(f);
    }
    check_refused(garbage, ": not a taskcollab state file (file is not a database)");

    /* a missing directory is an error, never a crash */
    char err[512] = "";
    collab_store_t *st = collab_store_open(tmp_path("no/such/dir.db"), false, err, sizeof err);
    CHECK(st == NULL);
    CHECK(strstr(err, "cannot open") != NULL);

    /* an empty file is a new database: the schema goes in */
    const char *empty = tmp_path("empty.db");
    f = fopen(empty, "wb");
    if (CHECK(f))
        fclose(f);
    st = open_ok(empty, false);
    CHECK(st != NULL);
    collab_store_destroy(&st);
    st = open_ok(empty, false);
    CHECK(st != NULL);
    collab_store_destroy(&st);
}

static void test_wal_and_bad_rows(void)
{
    const char *path = tmp_path("rows.db");
    collab_store_t *st = open_ok(path, false);
    if (!st)
        return;
    sqlite3 *db = NULL;
    if (CHECK(sqlite3_open(path, &db) == SQLITE_OK)) {
        sqlite3_stmt *q = NULL;
        CHECK(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, NULL) == SQLITE_OK &&
              sqlite3_step(q) == SQLITE_ROW);
        CHECK_STR((const char *)sqlite3_column_text(q, 0), "wal");
        sqlite3_finalize(q);
    }
    sqlite3_close(db);

    /* rows another program wrote: out-of-range values are errors, not crashes */
    static const char *const bad[] = {
        "INSERT INTO agents(agent_id, role) VALUES('x', 99)",
        "INSERT INTO agents(agent_id, role, caps) VALUES('x', 0, "
        "'a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q')", /* 17 capabilities */
        "INSERT INTO sessions(token, role, rid) VALUES('t', 0, zeroblob(257))",
        "INSERT INTO projects(id, owner) VALUES(1, printf('%.65c', 'o'))",
        "INSERT INTO tasks(id, status) VALUES(1, -1)",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char sql[512];
        snprintf(sql, sizeof sql,
                 "DELETE FROM agents; DELETE FROM sessions; DELETE FROM projects;"
                 " DELETE FROM tasks; %s",
                 bad[i]);
        CHECK(raw_sql(path, sql));
        loaded_t *l = load_all(st, COLLAB_E_IO);
        loaded_free(l);
    }
    /* NULL columns read as empty values */
    CHECK(raw_sql(path, "DELETE FROM tasks; INSERT INTO tasks(id, status) VALUES(5, 0)"));
    loaded_t *l = load_all(st, 0);
    CHECK_EQ_INT(l->n_tasks, 1);
    if (l->n_tasks == 1) {
        CHECK_STR(l->tasks[0].title, "");
        CHECK_STR(l->tasks[0].assigned_to, "");
    }
    loaded_free(l);
    collab_store_destroy(&st);
}

/* ---------------------------------------------------------------------------------------
   Durability: a writer killed with SIGKILL loses nothing it reported as committed */

enum { DUR_BATCH = 16, DUR_WANT = 800 };

static void durable_writer(const char *path, int fd)
{
    char err[512];
    collab_store_t *st = collab_store_open(path, false, err, sizeof err);
    if (!st)
        _exit(2);
    char title[32];
    collab_task_t t;
    for (uint64_t next = 1;;) {
        uint64_t ids[DUR_BATCH];
        if (collab_store_begin(st) != 0)
            _exit(3);
        for (int i = 0; i < DUR_BATCH; i++, next++) {
            snprintf(title, sizeof title, "durable %llu", (unsigned long long)next);
            sample_task(&t, next, 1, title);
            if (collab_store_put_task(st, &t) != 0)
                _exit(3);
            ids[i] = next;
        }
        if (collab_store_commit(st) != 0)
            _exit(4);
        /* 128 bytes: one atomic pipe write */
        if (write(fd, ids, sizeof ids) != (ssize_t)sizeof ids)
            _exit(5);
    }
}

static void test_durability(void)
{
    const char *path = tmp_path("durable.db");
    collab_store_t *st = open_ok(path, false); /* create it before the child starts */
    collab_store_destroy(&st);
    int fds[2];
    if (!CHECK(pipe(fds) == 0))
        return;
    /* a small pipe keeps the writer at most a few batches ahead of what we have read */
    fcntl(fds[1], F_SETPIPE_SZ, 4096);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        durable_writer(path, fds[1]);
    }
    close(fds[1]);
    if (!CHECK(pid > 0))
        return;
    static uint64_t reported[1 << 16];
    size_t n = 0;
    bool killed = false;
    double deadline = now_ms() + 30000;
    for (;;) {
        struct pollfd pfd = {.fd = fds[0], .events = POLLIN};
        int left = (int)(deadline - now_ms());
        if (left <= 0 || poll(&pfd, 1, left) <= 0)
            break;
        uint64_t ids[DUR_BATCH];
        ssize_t got = read(fds[0], ids, sizeof ids);
        if (got <= 0)
            break; /* EOF: the child is gone and everything it reported is in */
        for (size_t i = 0; i < (size_t)got / 8 && n < sizeof reported / 8; i++)
            reported[n++] = ids[i];
        if (!killed && n >= DUR_WANT) {
            kill(pid, SIGKILL); /* mid-batch, most likely: the open transaction is lost */
            killed = true;
        }
    }
    if (!killed)
        kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    close(fds[0]);
    CHECK(killed);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    CHECK(n >= DUR_WANT);

    st = open_ok(path, false);
    if (!st)
        return;
    loaded_t *l = load_all(st, 0);
    /* every reported id is there; batches are whole; ids are exactly 1..count */
    CHECK(l->n_tasks >= n);
    CHECK_EQ_INT(l->n_tasks % DUR_BATCH, 0);
    size_t missing = 0;
    for (size_t i = 0; i < n; i++)
        missing += reported[i] == 0 || reported[i] > l->n_tasks ||
                   l->tasks[reported[i] - 1].id != reported[i];
    CHECK_EQ_INT(missing, 0);
    for (size_t i = 0; i < l->n_tasks; i++) {
        char want[32];
        snprintf(want, sizeof want, "durable %zu", i + 1);
        CHECK_EQ_U64(l->tasks[i].id, i + 1);
        CHECK_STR(l->tasks[i].title, want);
    }
    fprintf(stderr, "test_store: killed the writer after %zu reported ids; %zu on disk\n", n,
            l->n_tasks);
    loaded_free(l);
    collab_store_destroy(&st);
}

int main(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/test_store.XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    TU_RUN(test_roundtrip);
    TU_RUN(test_group_commit);
    TU_RUN(test_failed_write_fails_batch);
    TU_RUN(test_reset);
    TU_RUN(test_events);
    TU_RUN(test_delete_project);
    TU_RUN(test_meta);
    TU_RUN(test_foreign_files);
    TU_RUN(test_wal_and_bad_rows);
    TU_RUN(test_durability);
    remove_tree(tmpdir);
    return tu_exit("test_store");
}
