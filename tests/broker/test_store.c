/*  test_store.c: the SQLite state file. Every record type round-trips with every field, group
    commit, reset, event retention, cascading project deletion, meta values, refusal of files
    that are not ours (left byte-identical), and durability across kill -9 of the writer.
    Writer mode: the same round trip through the writer thread, batch numbers (pending,
    committed, the descriptor), reads that commit first, refused values (while recording,
    and by SQLite at commit: final), agents' event_seq recovered from the event log, and
    the migration of the old events table into the log. */
#include "store.h"
#include "store_schema.h"
#include "testutil.h"

#include "collab_limits.h"

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

/*  The records of the round-trip tests: one of each kind, every field set. */
typedef struct {
    collab_agent_t a;
    collab_session_t s;
    collab_project_t p[3];
    collab_task_t t;
    char name1[16], name2[8], name3[8], desc[24], title[24];
} samples_t;

static void samples_init(samples_t *x)
{
    memset(x, 0, sizeof *x);
    snprintf(x->name1, sizeof x->name1, "caf\xc3\xa9 \xf0\x9f\x9a\x80");
    snprintf(x->name2, sizeof x->name2, "second");
    snprintf(x->name3, sizeof x->name3, "third");
    snprintf(x->desc, sizeof x->desc, "line one\nline two");
    snprintf(x->title, sizeof x->title, "Review the store");
    sample_agent(&x->a);
    sample_session(&x->s);
    sample_project(&x->p[0], 3, x->name3, x->desc);
    sample_project(&x->p[1], 1, x->name1, x->desc);
    sample_project(&x->p[2], 2, x->name2, NULL); /* NULL description is stored as "" */
    sample_task(&x->t, 7, 1, x->title);
}

static void samples_write(collab_store_t *st, const samples_t *x)
{
    CHECK_OK(collab_store_put_agent(st, &x->a));
    CHECK(collab_store_in_batch(st)); /* a write opens the batch */
    CHECK_OK(collab_store_put_session(st, &x->s));
    for (int i = 0; i < 3; i++)
        CHECK_OK(collab_store_put_project(st, &x->p[i]));
    CHECK_OK(collab_store_put_task(st, &x->t));
}

/*  What samples_write wrote, loaded back field by field. */
static void samples_check(const loaded_t *l, const samples_t *x)
{
    CHECK_EQ_INT(l->n_agents, 1);
    if (l->n_agents == 1) {
        const collab_agent_t *g = &l->agents[0];
        CHECK_STR(g->id, x->a.id);
        CHECK_EQ_INT(g->role, x->a.role);
        CHECK_STR(g->pw_hash, x->a.pw_hash);
        CHECK(g->registered);
        CHECK_EQ_INT(g->cap_count, 3);
        for (int i = 0; i < 3; i++)
            CHECK_STR(g->caps[i], x->a.caps[i]);
        CHECK_EQ_U64(g->last_seen, x->a.last_seen);
        CHECK_EQ_U64(g->event_seq, UINT64_MAX);
        CHECK_EQ_U64(g->failures, UINT32_MAX);
        CHECK_EQ_U64(g->locked_until, x->a.locked_until);
    }
    CHECK_EQ_INT(l->n_sessions, 1);
    if (l->n_sessions == 1) {
        const collab_session_t *g = &l->sessions[0];
        CHECK_STR(g->token, x->s.token);
        CHECK_EQ_U64(g->handle, 42);
        CHECK_STR(g->agent_id, x->s.agent_id);
        CHECK_EQ_INT(g->role, COLLAB_ROLE_OBSERVER);
        CHECK_EQ_U64(g->created, x->s.created);
        CHECK_EQ_U64(g->last_activity, x->s.last_activity);
        CHECK_STR(g->peer, x->s.peer);
        CHECK_MEM(g->rid, g->rid_len, x->s.rid, x->s.rid_len);
        CHECK(g->subscribed && !g->subscribed_all);
    }
    CHECK_EQ_INT(l->n_projects, 3);
    if (l->n_projects == 3) {
        /* ordered by id whatever the insertion order */
        CHECK_EQ_U64(l->projects[0].id, 1);
        CHECK_EQ_U64(l->projects[1].id, 2);
        CHECK_EQ_U64(l->projects[2].id, 3);
        CHECK_STR(l->projects[0].name, x->name1);
        CHECK_STR(l->projects[0].description, x->desc);
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
        const collab_task_t *g = &l->tasks[0];
        CHECK_EQ_U64(g->id, 7);
        CHECK_EQ_U64(g->project_id, 1);
        CHECK_STR(g->type, "code_review");
        CHECK_STR(g->title, x->title);
        CHECK_STR(g->description, "");
        CHECK_STR(g->result, x->t.result);
        CHECK_EQ_INT(g->status, COLLAB_TASK_IN_PROGRESS);
        CHECK_STR(g->assigned_to, "worker-7");
        CHECK_STR(g->assigned_by, "coord-1");
        CHECK_EQ_U64(g->created, x->t.created);
        CHECK_EQ_U64(g->updated, x->t.updated);
    }
}

static void test_roundtrip(void)
{
    const char *path = tmp_path("roundtrip.db");
    collab_store_t *st = open_ok(path, false);
    if (!st)
        return;
    samples_t x;
    samples_init(&x);
    collab_agent_t a = x.a;
    collab_session_t s = x.s;

    CHECK(!collab_store_in_batch(st));
    samples_write(st, &x);
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
    samples_check(l, &x);
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

/* ---------------------------------------------------------------------------------------
   Writer mode: writes are recorded and a writer thread commits them */

#define WAIT_MS 20000 /* the longest a commit may take here (a sanitizer build included) */

/*  Waits until batch `want` is committed, by polling the store's descriptor under a
    deadline. Returns collab_store_committed's code; *got receives its number. */
static int wait_committed(collab_store_t *st, uint64_t want, uint64_t *got)
{
    double deadline = now_ms() + WAIT_MS;
    int rc = collab_store_committed(st, got);
    while (rc == 0 && *got < want) {
        struct pollfd p = {.fd = collab_store_fd(st), .events = POLLIN};
        int left = (int)(deadline - now_ms());
        if (left <= 0 || poll(&p, 1, left) <= 0)
            break;
        rc = collab_store_committed(st, got);
    }
    return rc;
}

/*  The first column of the first row of a query, through another connection; -1 on
    error. Reads what is committed in the file, whatever the store has in hand. */
static long long raw_int(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    long long v = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &q, NULL) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
        v = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(db);
    return v;
}

/*  Every field of the events a callback is given, any agent, any name. */
typedef struct {
    size_t n;
    struct {
        char agent[COLLAB_MAX_AGENT_ID + 1];
        char name[COLLAB_MAX_EVENT_NAME + 1];
        char data[32];
        uint64_t seq, ts;
    } ev[32];
} evlog_t;

static int on_any_event(void *arg, const collab_event_t *ev)
{
    evlog_t *e = arg;
    if (e->n < 32) {
        snprintf(e->ev[e->n].agent, sizeof e->ev[0].agent, "%s", ev->agent_id);
        snprintf(e->ev[e->n].name, sizeof e->ev[0].name, "%s", ev->name);
        snprintf(e->ev[e->n].data, sizeof e->ev[0].data, "%.*s", (int)ev->data_len,
                 ev->data_len ? (const char *)ev->data : "");
        e->ev[e->n].seq = ev->seq;
        e->ev[e->n].ts = ev->timestamp;
    }
    e->n++;
    return 0;
}

/*  Agent `id`'s event `seq`, as the tests below write it. */
static int put_test_event(collab_store_t *st, const char *id, uint64_t seq, uint32_t retain)
{
    char data[16];
    snprintf(data, sizeof data, "d%llu", (unsigned long long)seq);
    collab_event_t ev = {.seq = seq,
                         .timestamp = 1000 + seq,
                         .data = (const uint8_t *)data,
                         .data_len = strlen(data)};
    snprintf(ev.agent_id, sizeof ev.agent_id, "%s", id);
    snprintf(ev.name, sizeof ev.name, "task_assigned");
    return collab_store_put_event(st, &ev, retain);
}

/*  events_since(since) for `id` gives exactly seqs from..to, as put_test_event wrote them
    (or as the migration test wrote them, with data "d<seq>" and ts 1000 + seq). */
static void check_events(collab_store_t *st, const char *id, uint64_t since, uint64_t from,
                         uint64_t to, uint64_t want_oldest)
{
    evlog_t e = {0};
    uint64_t oldest = 99;
    CHECK_OK(collab_store_events_since(st, id, since, on_any_event, &e, &oldest));
    CHECK_EQ_U64(oldest, want_oldest);
    CHECK_EQ_U64(e.n, to >= from ? to - from + 1 : 0);
    for (size_t i = 0; i < e.n && i < 32 && from + i <= to; i++) {
        char data[16];
        snprintf(data, sizeof data, "d%llu", (unsigned long long)(from + i));
        CHECK_EQ_U64(e.ev[i].seq, from + i);
        CHECK_EQ_U64(e.ev[i].ts, 1000 + from + i);
        CHECK_STR(e.ev[i].agent, id);
        CHECK_STR(e.ev[i].name, "task_assigned");
        CHECK_STR(e.ev[i].data, data);
    }
}

/*  The round trip of test_roundtrip, written through the writer thread, known committed
    through the descriptor, then read back by a new store. */
static void test_writer_roundtrip(void)
{
    const char *path = tmp_path("writer-roundtrip.db");
    collab_store_t *st = open_ok(path, false);
    if (!st)
        return;
    CHECK_EQ_INT(collab_store_fd(st), -1); /* direct mode has no descriptor */
    CHECK_OK(collab_store_start_writer(st));
    CHECK(collab_store_fd(st) >= 0);
    samples_t x;
    samples_init(&x);
    CHECK(!collab_store_in_batch(st));
    samples_write(st, &x);
    CHECK_EQ_U64(collab_store_pending(st), 1);
    CHECK_OK(collab_store_submit(st));
    CHECK(!collab_store_in_batch(st));
    for (uint64_t seq = 1; seq <= 3; seq++)
        CHECK_OK(put_test_event(st, "w1", seq, 10));
    CHECK_OK(collab_store_put_meta(st, "next_project_id", "\x04", 1));
    CHECK_EQ_U64(collab_store_pending(st), 2);
    CHECK_OK(collab_store_submit(st));
    uint64_t got = 0;
    CHECK_OK(wait_committed(st, 2, &got));
    CHECK_EQ_U64(got, 2);
    CHECK_EQ_U64(collab_store_pending(st), 0);
    /* on disk while the store is still open: another connection sees it */
    CHECK_EQ_INT(raw_int(path, "SELECT count(*) FROM tasks"), 1);
    CHECK_EQ_INT(raw_int(path, "SELECT count(*) FROM projects"), 3);
    CHECK_EQ_INT(raw_int(path, "SELECT count(*) FROM event_log"), 3);
    collab_store_destroy(&st);

    st = open_ok(path, false);
    if (!st)
        return;
    loaded_t *l = load_all(st, 0);
    samples_check(l, &x);
    loaded_free(l);
    check_events(st, "w1", 0, 1, 3, 1);
    uint8_t buf[8];
    CHECK_EQ_INT(collab_store_get_meta(st, "next_project_id", buf, sizeof buf), 1);
    CHECK_EQ_INT(buf[0], 4);
    collab_store_destroy(&st);
}

static void test_writer_pending(void)
{
    const char *path = tmp_path("writer-pending.db");
    collab_store_t *st = open_ok(path, false);
    if (!st)
        return;
    uint64_t got = 99;
    CHECK_OK(collab_store_start_writer(st));
    CHECK_OK(collab_store_start_writer(st)); /* idempotent */
    CHECK_EQ_U64(collab_store_pending(st), 0);
    CHECK_OK(collab_store_committed(st, &got));
    CHECK_EQ_U64(got, 0);
    CHECK_OK(collab_store_begin(st)); /* nothing to open in writer mode */
    CHECK(!collab_store_in_batch(st));
    CHECK_OK(collab_store_submit(st)); /* an empty batch is not handed over */
    CHECK_EQ_U64(collab_store_pending(st), 0);

    /* the open batch's number while it has writes; the same number once submitted */
    CHECK_OK(collab_store_put_meta(st, "k1", "1", 1));
    CHECK(collab_store_in_batch(st));
    CHECK_EQ_U64(collab_store_pending(st), 1);
    CHECK_OK(collab_store_put_meta(st, "k2", "2", 1));
    CHECK_EQ_U64(collab_store_pending(st), 1);
    CHECK_OK(collab_store_submit(st));
    CHECK(!collab_store_in_batch(st));
    CHECK_EQ_U64(collab_store_pending(st), 1); /* submitted, not known to be committed */
    CHECK_OK(collab_store_put_meta(st, "k3", "3", 1));
    CHECK_EQ_U64(collab_store_pending(st), 2);
    CHECK_OK(collab_store_submit(st));
    CHECK_EQ_U64(collab_store_pending(st), 2);
    CHECK_OK(wait_committed(st, 2, &got));
    CHECK_EQ_U64(got, 2);
    CHECK_EQ_U64(collab_store_pending(st), 0); /* everything on disk */
    CHECK_OK(collab_store_submit(st));         /* empty again: no batch 3 */
    CHECK_EQ_U64(collab_store_pending(st), 0);

    /* commit waits: batch 3 is on disk when it returns, no polling needed */
    CHECK_OK(collab_store_put_meta(st, "k4", "4", 1));
    CHECK_EQ_U64(collab_store_pending(st), 3);
    CHECK_OK(collab_store_commit(st));
    CHECK(!collab_store_in_batch(st));
    CHECK_OK(collab_store_committed(st, &got));
    CHECK_EQ_U64(got, 3);
    CHECK_EQ_U64(collab_store_pending(st), 0);
    CHECK_EQ_INT(raw_int(path, "SELECT count(*) FROM meta WHERE key LIKE 'k_'"), 4);

    /* a rolled-back batch reaches nothing and uses no number */
    CHECK_OK(collab_store_put_meta(st, "dropped", "x", 1));
    CHECK_EQ_U64(collab_store_pending(st), 4);
    collab_store_rollback(st);
    CHECK(!collab_store_in_batch(st));
    CHECK_EQ_U64(collab_store_pending(st), 0);
    uint8_t buf[8];
    CHECK_EQ_INT(collab_store_get_meta(st, "dropped", buf, sizeof buf), 0);
    CHECK_OK(collab_store_put_meta(st, "k5", "5", 1));
    CHECK_EQ_U64(collab_store_pending(st), 4);
    CHECK_OK(collab_store_commit(st));
    CHECK_OK(collab_store_committed(st, &got));
    CHECK_EQ_U64(got, 4);

    /* destroy commits what was submitted, not the open batch */
    CHECK_OK(collab_store_put_meta(st, "submitted", "s", 1));
    CHECK_OK(collab_store_submit(st));
    CHECK_OK(collab_store_put_meta(st, "unsubmitted", "u", 1));
    CHECK(collab_store_in_batch(st));
    collab_store_destroy(&st);
    st = open_ok(path, false);
    if (!st)
        return;
    CHECK_EQ_INT(collab_store_get_meta(st, "submitted", buf, sizeof buf), 1);
    CHECK_EQ_INT(collab_store_get_meta(st, "unsubmitted", buf, sizeof buf), 0);
    CHECK_EQ_INT(collab_store_get_meta(st, "dropped", buf, sizeof buf), 0);
    CHECK_EQ_INT(collab_store_get_meta(st, "k5", buf, sizeof buf), 1);
    collab_store_destroy(&st);
}

/*  Reads in writer mode commit what was recorded first, submitted or not. */
static void test_writer_reads_commit_first(void)
{
    const char *path = tmp_path("writer-reads.db");
    collab_store_t *st = open_ok(path, false);
    if (!st)
        return;
    CHECK_OK(collab_store_start_writer(st));
    for (uint64_t seq = 1; seq <= 5; seq++)
        CHECK_OK(put_test_event(st, "w1", seq, 3));
    CHECK(collab_store_in_batch(st));
    CHECK_EQ_U64(collab_store_pending(st), 1);
    CHECK_EQ_INT(raw_int(path, "SELECT count(*) FROM event_log"), 0); /* nothing on disk */
    check_events(st, "w1", 0, 3, 5, 3);                               /* the newest 3 */
    CHECK(!collab_store_in_batch(st));
    uint64_t got = 0;
    CHECK_OK(collab_store_committed(st, &got)); /* already on disk: no wait */
    CHECK_EQ_U64(got, 1);
    /* the retained events are on disk (the evicted ones wait for the log's collection) */
    CHECK_EQ_INT(raw_int(path, "SELECT count(*) FROM event_log WHERE seq >= 3"), 3);

    /* recorded, not submitted, then read from the middle of the run */
    CHECK_OK(put_test_event(st, "w1", 6, 3));
    CHECK_OK(put_test_event(st, "w1", 7, 3));
    check_events(st, "w1", 5, 6, 7, 5);
    check_events(st, "w1", 7, 8, 7, 5); /* nothing newer: no callback */
    check_events(st, "nobody", 0, 1, 0, 0);

    /* meta and load too */
    CHECK_OK(collab_store_put_meta(st, "m", "abc", 3));
    uint8_t buf[8];
    CHECK_EQ_INT(collab_store_get_meta(st, "m", buf, sizeof buf), 3);
    CHECK(!collab_store_in_batch(st));
    collab_task_t t;
    char title[] = "written, then loaded";
    sample_task(&t, 9, 1, title);
    CHECK_OK(collab_store_put_task(st, &t));
    loaded_t *l = load_all(st, 0);
    CHECK_EQ_INT(l->n_tasks, 1);
    if (l->n_tasks == 1)
        CHECK_STR(l->tasks[0].title, title);
    loaded_free(l);
    CHECK(!collab_store_in_batch(st));
    collab_store_destroy(&st);

    st = open_ok(path, false);
    if (!st)
        return;
    collab_store_set_retention(st, 3); /* as the broker does at open */
    check_events(st, "w1", 0, 5, 7, 5);
    collab_store_destroy(&st);
}

/*  A value SQLite cannot take, in writer mode: refused while recording (the batch fails,
    the next one is fine after a rollback), or refused by SQLite at commit (final). */
static void test_writer_refused_value(void)
{
    const char *path = tmp_path("writer-refused.db");
    collab_store_t *st = open_ok(path, false);
    if (!st)
        return;
    uint8_t small[4] = {1, 2, 3, 4}, buf[8];
    CHECK_OK(collab_store_start_writer(st));
    CHECK_OK(collab_store_put_meta(st, "kept", small, sizeof small));
    CHECK_OK(collab_store_commit(st));
    CHECK_OK(collab_store_put_meta(st, "lost", small, sizeof small));
    /* a length over INT32_MAX with a 4-byte buffer: refused without reading it */
    CHECK_RC(collab_store_put_meta(st, "huge", small, (size_t)INT32_MAX + 1), COLLAB_E_IO);
    CHECK_RC(collab_store_put_meta(st, "after", small, 1), COLLAB_E_IO); /* the batch failed */
    CHECK_RC(collab_store_submit(st), COLLAB_E_IO);
    CHECK_RC(collab_store_commit(st), COLLAB_E_IO);
    CHECK_RC(collab_store_get_meta(st, "kept", buf, sizeof buf), COLLAB_E_IO); /* cannot commit */
    collab_store_rollback(st);
    CHECK(!collab_store_in_batch(st));
    CHECK_EQ_INT(collab_store_get_meta(st, "lost", buf, sizeof buf), 0);
    CHECK_EQ_INT(collab_store_get_meta(st, "kept", buf, sizeof buf), 4);
    CHECK_OK(collab_store_put_meta(st, "next", small, 2)); /* the writer did not fail */
    CHECK_OK(collab_store_commit(st));
    CHECK_EQ_INT(collab_store_get_meta(st, "next", buf, sizeof buf), 2);
    collab_store_destroy(&st);
    st = open_ok(path, false);
    if (!st)
        return;
    CHECK_EQ_INT(collab_store_get_meta(st, "kept", buf, sizeof buf), 4);
    CHECK_EQ_INT(collab_store_get_meta(st, "next", buf, sizeof buf), 2);
    CHECK_EQ_INT(collab_store_get_meta(st, "lost", buf, sizeof buf), 0);
    CHECK_EQ_INT(collab_store_get_meta(st, "huge", buf, sizeof buf), 0);
    collab_store_destroy(&st);

    /* a value only SQLite refuses (over its length limit, lowered here to 64 bytes): the
       batch is recorded and submitted, the commit fails, and the writer is done */
    path = tmp_path("writer-final.db");
    st = open_ok(path, false);
    if (!st)
        return;
    sqlite3_limit(collab_store_db(st), SQLITE_LIMIT_LENGTH, 64);
    CHECK_OK(collab_store_start_writer(st));
    CHECK_OK(collab_store_put_meta(st, "ok", small, sizeof small));
    CHECK_OK(collab_store_commit(st));
    uint8_t big[200];
    memset(big, 0xab, sizeof big);
    CHECK_OK(collab_store_put_meta(st, "beside", small, sizeof small));
    CHECK_OK(collab_store_put_meta(st, "big", big, sizeof big)); /* recorded: 200 bytes is fine */
    CHECK_OK(collab_store_submit(st));
    uint64_t got = 99;
    CHECK_RC(wait_committed(st, 2, &got), COLLAB_E_IO);
    CHECK_EQ_U64(got, 1);
    CHECK_RC(collab_store_committed(st, &got), COLLAB_E_IO); /* and it stays failed */
    CHECK_EQ_U64(got, 1);
    CHECK_OK(collab_store_put_meta(st, "later", small, 1)); /* recorded ... */
    CHECK_RC(collab_store_submit(st), COLLAB_E_IO);         /* ... never handed over */
    CHECK_RC(collab_store_commit(st), COLLAB_E_IO);
    CHECK_RC(collab_store_get_meta(st, "ok", buf, sizeof buf), COLLAB_E_IO);
    collab_store_destroy(&st);
    st = open_ok(path, false);
    if (!st)
        return;
    CHECK_EQ_INT(collab_store_get_meta(st, "ok", buf, sizeof buf), 4);
    CHECK_EQ_INT(collab_store_get_meta(st, "beside", buf, sizeof buf), 0); /* all or nothing */
    CHECK_EQ_INT(collab_store_get_meta(st, "big", buf, sizeof buf), 0);
    CHECK_EQ_INT(collab_store_get_meta(st, "later", buf, sizeof buf), 0);
    collab_store_destroy(&st);
}

static const collab_agent_t *find_agent(const loaded_t *l, const char *id)
{
    for (size_t i = 0; i < l->n_agents; i++)
        if (strcmp(l->agents[i].id, id) == 0)
            return &l->agents[i];
    return NULL;
}

/*  An agent's event_seq at load is the newest of its row's and its log's. */
static void test_event_seq_recovery(void)
{
    const char *path = tmp_path("event-seq.db");
    collab_store_t *st = open_ok(path, false);
    if (!st)
        return;
    collab_agent_t a, ahead, quiet;
    sample_agent(&a);
    a.event_seq = 0; /* the row as of the agent's last write */
    ahead = a;
    snprintf(ahead.id, sizeof ahead.id, "ahead");
    ahead.event_seq = 100; /* the row is newer than its log */
    quiet = a;
    snprintf(quiet.id, sizeof quiet.id, "quiet");
    quiet.event_seq = 42; /* no events at all */
    CHECK_OK(collab_store_put_agent(st, &a));
    CHECK_OK(collab_store_put_agent(st, &ahead));
    CHECK_OK(collab_store_put_agent(st, &quiet));
    CHECK_OK(collab_store_commit(st));
    for (uint64_t seq = 1; seq <= 5; seq++)
        CHECK_OK(put_test_event(st, a.id, seq, 3));
    CHECK_OK(put_test_event(st, "ahead", 1, 3));
    CHECK_OK(put_test_event(st, "ahead", 2, 3));
    CHECK_OK(collab_store_commit(st));
    collab_store_destroy(&st);

    st = open_ok(path, false);
    if (!st)
        return;
    loaded_t *l = load_all(st, 0);
    CHECK_EQ_INT(l->n_agents, 3);
    const collab_agent_t *g = find_agent(l, a.id);
    if (CHECK(g))
        CHECK_EQ_U64(g->event_seq, 5); /* the latest in the log */
    if (CHECK((g = find_agent(l, "ahead"))))
        CHECK_EQ_U64(g->event_seq, 100);
    if (CHECK((g = find_agent(l, "quiet"))))
        CHECK_EQ_U64(g->event_seq, 42);
    loaded_free(l);
    collab_store_set_retention(st, 3); /* as the broker does at open */
    check_events(st, a.id, 0, 3, 5, 3);

    /* the same through the writer thread */
    CHECK_OK(collab_store_start_writer(st));
    for (uint64_t seq = 6; seq <= 8; seq++)
        CHECK_OK(put_test_event(st, a.id, seq, 3));
    CHECK_OK(collab_store_submit(st));
    collab_store_destroy(&st); /* commits what was submitted */
    st = open_ok(path, false);
    if (!st)
        return;
    l = load_all(st, 0);
    if (CHECK((g = find_agent(l, a.id))))
        CHECK_EQ_U64(g->event_seq, 8);
    loaded_free(l);
    collab_store_set_retention(st, 3);
    check_events(st, a.id, 0, 6, 8, 6);
    collab_store_destroy(&st);
}

/*  A file written before the event log: events(agent_id, seq, ...) keyed by (agent, seq),
    sessions without curve_key. Opening it moves the events into the log, each agent's in
    order, and drops the old table. */
/*  An event log from a file is input: rows that cannot be events (seq 0 or negative, a
    negative id, an agent id too long) are skipped, the rest replays; a row id so large that
    appending would wrap refuses the file with an error. */
static void test_event_log_bad_rows(void)
{
    const char *path = tmp_path("bad-log.db");
    collab_store_t *st = open_ok(path, true);
    if (!st)
        return;
    collab_event_t ev = {.agent_id = "w1", .seq = 1, .name = "x", .timestamp = 1};
    CHECK_OK(collab_store_put_event(st, &ev, 10));
    CHECK_OK(collab_store_commit(st));
    collab_store_destroy(&st);
    CHECK(raw_sql(path,
                  "INSERT INTO event_log(id, agent_id, seq, name, ts, data) VALUES"
                  " (-5, 'w1', 2, 'x', 1, x''), (7, 'w1', 0, 'x', 1, x''),"
                  " (8, 'w2', -1, 'x', 1, x''),"
                  " (9, 'wwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwwww', 1,"
                  " 'x', 1, x''), (10, 'w1', 2, 'x', 2, x'')"));
    st = open_ok(path, false);
    if (!st)
        return;
    events_t e = {0};
    uint64_t oldest = 0;
    CHECK_OK(collab_store_events_since(st, "w1", 0, on_event, &e, &oldest));
    CHECK_EQ_INT(e.n, 2);
    CHECK_EQ_U64(oldest, 1);
    memset(&e, 0, sizeof e);
    CHECK_OK(collab_store_events_since(st, "w2", 0, on_event, &e, &oldest));
    CHECK_EQ_INT(e.n, 0);
    ev.seq = 3; /* appends after row 10 */
    CHECK_OK(collab_store_put_event(st, &ev, 10));
    CHECK_OK(collab_store_commit(st));
    collab_store_destroy(&st);

    CHECK(raw_sql(path, "INSERT INTO event_log(id, agent_id, seq, name, ts, data) VALUES"
                        " (9223372036854775807, 'w1', 4, 'x', 1, x'')"));
    char err[512] = "";
    st = collab_store_open(path, false, err, sizeof err);
    CHECK(st == NULL);
    CHECK(strstr(err, "event log") != NULL);
    collab_store_destroy(&st);
}

/*  The migrations work on the connection directly: once the writer thread owns it, they
    refuse instead of racing it, and the stored sessions are left alone. */
static void test_writer_refuses_migrations(void)
{
    const char *path = tmp_path("writer-migrations.db");
    collab_store_t *st = open_ok(path, false);
    if (!st)
        return;
    collab_session_t s;
    sample_session(&s);
    CHECK_OK(collab_store_put_session(st, &s));
    CHECK(collab_store_db(st) != NULL);
    CHECK_OK(collab_store_start_writer(st));
    CHECK(collab_store_db(st) == NULL);
    uint32_t dropped = 99;
    CHECK_RC(collab_store_drop_sessions(st, &dropped), COLLAB_E_INTERNAL);
    CHECK_EQ_INT(dropped, 0);
    CHECK_RC(collab_store_scrub(st), COLLAB_E_INTERNAL);
    collab_store_destroy(&st);
    st = open_ok(path, false);
    loaded_t *l = st ? load_all(st, 0) : NULL;
    CHECK(l && l->n_sessions == 1);
    if (l)
        loaded_free(l);
    collab_store_destroy(&st);
}

static void test_migrate_old_events(void)
{
    const char *path = tmp_path("old-events.db");
    CHECK(raw_sql(path,
                  "CREATE TABLE meta(key TEXT PRIMARY KEY, value BLOB);"
                  "CREATE TABLE agents(agent_id TEXT PRIMARY KEY, role INT, pw_hash TEXT,"
                  " registered INT, caps TEXT, last_seen INT, event_seq INT, failures INT,"
                  " locked_until INT);"
                  "CREATE TABLE sessions(token TEXT PRIMARY KEY, handle INT, agent_id TEXT,"
                  " role INT, created INT, last_activity INT, peer TEXT, rid BLOB, subscribed INT,"
                  " subscribed_all INT);"
                  "CREATE TABLE projects(id INTEGER PRIMARY KEY, name TEXT, description TEXT,"
                  " owner TEXT, closed INT, created INT, task_count INT);"
                  "CREATE TABLE tasks(id INTEGER PRIMARY KEY, project_id INT, type TEXT,"
                  " title TEXT, description TEXT, result TEXT, status INT, assigned_to TEXT,"
                  " assigned_by TEXT, created INT, updated INT);"
                  "CREATE INDEX tasks_project ON tasks(project_id);"
                  "CREATE TABLE events(agent_id TEXT, seq INT, name TEXT, ts INT, data BLOB,"
                  " PRIMARY KEY(agent_id, seq));"
                  "INSERT INTO meta(key, value) VALUES('schema', 'taskcollab-1');"
                  "INSERT INTO agents VALUES('w1', 0, '', 1, '', 5, 2, 0, 0);"
                  "INSERT INTO sessions VALUES('tok', 1, 'w1', 0, 10, 20, 'peer', x'01', 1, 0);"
                  /* interleaved and out of order, as rows of a keyed table may be */
                  "INSERT INTO events VALUES('w2', 11, 'task_assigned', 1011, 'd11');"
                  "INSERT INTO events VALUES('w1', 3, 'task_assigned', 1003, 'd3');"
                  "INSERT INTO events VALUES('w1', 1, 'task_assigned', 1001, 'd1');"
                  "INSERT INTO events VALUES('w2', 10, 'task_assigned', 1010, 'd10');"
                  "INSERT INTO events VALUES('w1', 4, 'task_assigned', 1004, 'd4');"
                  "INSERT INTO events VALUES('w1', 2, 'task_assigned', 1002, 'd2');"
                  "INSERT INTO events VALUES('w2', 12, 'task_assigned', 1012, 'd12');"));

    collab_store_t *st = open_ok(path, false);
    if (!st)
        return;
    check_events(st, "w1", 0, 1, 4, 1);
    check_events(st, "w2", 0, 10, 12, 10);
    check_events(st, "w2", 10, 11, 12, 10);
    loaded_t *l = load_all(st, 0);
    CHECK_EQ_INT(l->n_agents, 1);
    CHECK_EQ_U64(l->agents[0].event_seq, 4); /* the row said 2; the log has 4 */
    CHECK_EQ_INT(l->n_sessions, 1);
    CHECK_STR(l->sessions[0].curve_key, "");
    loaded_free(l);
    collab_store_destroy(&st);
    CHECK_EQ_INT(raw_int(path, "SELECT count(*) FROM sqlite_master WHERE name = 'events'"), 0);
    CHECK_EQ_INT(raw_int(path, "SELECT count(*) FROM event_log"), 7);

    /* opened again: nothing more to move, the events are the same, and the runs go on */
    st = open_ok(path, false);
    if (!st)
        return;
    check_events(st, "w1", 0, 1, 4, 1);
    check_events(st, "w2", 0, 10, 12, 10);
    CHECK_OK(put_test_event(st, "w1", 5, 100));
    CHECK_OK(collab_store_commit(st));
    check_events(st, "w1", 3, 4, 5, 1);
    collab_store_destroy(&st);
    CHECK_EQ_INT(raw_int(path, "SELECT count(*) FROM event_log"), 8);
}

/* ---------------------------------------------------------------------------------------
   Regressions: two bugs these tests found in the writer mode and the retention */

/*  Batches committed in direct mode before collab_store_start_writer (collab_startup does
    one) leave store.c's `committed` at their count while the writer numbers its batches
    from 1 again: after the writer's first submit, collab_store_pending() says 0
    ("everything on disk") though batch 1 is not known to be committed. */
static void test_pending_after_direct_commits(void)
{
    const char *path = tmp_path("pending-direct.db");
    collab_store_t *st = open_ok(path, false);
    if (!st)
        return;
    CHECK_OK(collab_store_put_meta(st, "a", "x", 1));
    CHECK_OK(collab_store_commit(st)); /* direct mode: one commit */
    uint64_t got = 0;
    CHECK_OK(collab_store_committed(st, &got));
    CHECK_OK(collab_store_start_writer(st));
    CHECK_OK(collab_store_put_meta(st, "b", "y", 1));
    uint64_t open_batch = collab_store_pending(st);
    CHECK(open_batch != 0);
    CHECK_OK(collab_store_submit(st));
    CHECK_EQ_U64(collab_store_pending(st), open_batch); /* fails: 0 */
    CHECK_OK(wait_committed(st, open_batch, &got));
    CHECK(got >= open_batch);
    CHECK_EQ_U64(collab_store_pending(st), 0);
    collab_store_destroy(&st);
}

/*  Evicted events stay in the log until its next collection, and a rollback rebuilds the
    index from the log with no retention (index_events pushes with UINT32_MAX; the store
    does not remember collab_store_set_retention): after rolling back an unrelated batch,
    events_since hands out events the retention had dropped. */
static void test_rollback_keeps_retention(void)
{
    for (int writer = 0; writer <= 1; writer++) {
        collab_store_t *st = open_ok(tmp_path(writer ? "rb-ret-w.db" : "rb-ret-d.db"), false);
        if (!st)
            return;
        collab_store_set_retention(st, 3);
        if (writer)
            CHECK_OK(collab_store_start_writer(st));
        for (uint64_t seq = 1; seq <= 10; seq++)
            CHECK_OK(put_test_event(st, "w1", seq, 3));
        CHECK_OK(collab_store_commit(st));
        check_events(st, "w1", 0, 8, 10, 8);
        CHECK_OK(collab_store_put_meta(st, "unrelated", "x", 1));
        collab_store_rollback(st);
        check_events(st, "w1", 0, 8, 10, 8); /* fails: 1..10, oldest 1 */
        collab_store_destroy(&st);
    }
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
    TU_RUN(test_writer_roundtrip);
    TU_RUN(test_writer_pending);
    TU_RUN(test_writer_reads_commit_first);
    TU_RUN(test_writer_refused_value);
    TU_RUN(test_event_seq_recovery);
    TU_RUN(test_migrate_old_events);
    TU_RUN(test_writer_refuses_migrations);
    TU_RUN(test_event_log_bad_rows);
    TU_RUN(test_pending_after_direct_commits);
    TU_RUN(test_rollback_keeps_retention);
    remove_tree(tmpdir);
    return tu_exit("test_store");
}
