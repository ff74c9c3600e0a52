/*  store_test.h: what the store's test programs share (test_store_*.c): a temporary
    directory, a loader that copies every record, sample records, raw SQL on the file. */
#ifndef STORE_TEST_H
#define STORE_TEST_H

#include "collab_clock.h"
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
static inline const char *tmp_path(const char *name)
{
    static char path[4][512];
    static int next;
    char *p = path[next++ % 4];
    snprintf(p, sizeof path[0], "%s/%s", tmpdir, name);
    return p;
}

static inline void remove_tree(const char *dir)
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

static inline uint8_t *read_all(const char *path, size_t *len)
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

static inline bool file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static inline double now_ms(void)
{
    return (double)collab_mono_us() / 1e3;
}

static inline collab_store_t *open_ok(const char *path, bool reset)
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

static inline char *dup_str(const char *s)
{
    return strdup(s ? s : "(null)");
}

static inline int stop_check(loaded_t *l)
{
    return l->stop_after && ++l->seen >= l->stop_after ? COLLAB_E_BUSY : 0;
}

static inline int on_agent(void *arg, const collab_agent_t *a)
{
    loaded_t *l = arg;
    if (l->n_agents < 8)
        l->agents[l->n_agents++] = *a;
    return stop_check(l);
}

static inline int on_session(void *arg, const collab_session_t *s)
{
    loaded_t *l = arg;
    if (l->n_sessions < 8)
        l->sessions[l->n_sessions++] = *s;
    return stop_check(l);
}

static inline int on_project(void *arg, const collab_project_t *p)
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

static inline int on_task(void *arg, const collab_task_t *t)
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

static inline void loaded_free(loaded_t *l)
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

static inline loaded_t *load_all(collab_store_t *st, int want_rc)
{
    loaded_t *l = calloc(1, sizeof *l);
    CHECK_RC(collab_store_load(st, &loader, l), want_rc);
    return l;
}

/* ---------------------------------------------------------------------------------------
   Sample records with every field set, extreme values included */

static inline void sample_agent(collab_agent_t *a)
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

static inline void sample_session(collab_session_t *s)
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

static inline void sample_project(collab_project_t *p, uint64_t id, char *name, char *desc)
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

static inline void sample_task(collab_task_t *t, uint64_t id, uint64_t project_id, char *title)
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

/*  The records of the round-trip tests: one of each kind, every field set. */
typedef struct {
    collab_agent_t a;
    collab_session_t s;
    collab_project_t p[3];
    collab_task_t t;
    char name1[16], name2[8], name3[8], desc[24], title[24];
} samples_t;

static inline void samples_init(samples_t *x)
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

static inline void samples_write(collab_store_t *st, const samples_t *x)
{
    CHECK_OK(collab_store_put_agent(st, &x->a));
    CHECK(collab_store_in_batch(st)); /* a write opens the batch */
    CHECK_OK(collab_store_put_session(st, &x->s));
    for (int i = 0; i < 3; i++)
        CHECK_OK(collab_store_put_project(st, &x->p[i]));
    CHECK_OK(collab_store_put_task(st, &x->t));
}

/*  What samples_write wrote, loaded back field by field. */
static inline void samples_check(const loaded_t *l, const samples_t *x)
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

typedef struct {
    uint64_t seq[32];
    uint64_t ts[32];
    char data[32][16];
    size_t n;
    size_t stop_at; /* return COLLAB_E_BUSY at this event (1-based); 0 = never */
} events_t;

static inline int on_event(void *arg, const collab_event_t *ev)
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

/*  Runs SQL on a file through SQLite directly, as another program would. */
static inline bool raw_sql(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    bool ok = sqlite3_open(path, &db) == SQLITE_OK &&
              sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK;
    sqlite3_close(db);
    return ok;
}

/*  The file must be refused with the path and the reason, and left exactly as it was. */
static inline void check_refused(const char *path, const char *reason)
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

#define WAIT_MS 20000 /* the longest a commit may take here (a sanitizer build included) */

/*  Waits until batch `want` is committed, by polling the store's descriptor under a
    deadline. Returns collab_store_committed's code; *got receives its number. */
static inline int wait_committed(collab_store_t *st, uint64_t want, uint64_t *got)
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
static inline long long raw_int(const char *path, const char *sql)
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

static inline int on_any_event(void *arg, const collab_event_t *ev)
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
static inline int put_test_event(collab_store_t *st, const char *id, uint64_t seq, uint32_t retain)
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
static inline void check_events(collab_store_t *st, const char *id, uint64_t since, uint64_t from,
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

static inline const collab_agent_t *find_agent(const loaded_t *l, const char *id)
{
    for (size_t i = 0; i < l->n_agents; i++)
        if (strcmp(l->agents[i].id, id) == 0)
            return &l->agents[i];
    return NULL;
}

/*  Makes the temporary directory of program `name`. Returns 0, or 1 with the reason told. */
static inline int store_test_setup(const char *name)
{
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/%s.XXXXXX", base && *base ? base : "/tmp", name);
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    return 0;
}

/*  Removes the directory and gives the program's exit code. */
static inline int store_test_finish(const char *name)
{
    remove_tree(tmpdir);
    return tu_exit(name);
}

#endif
