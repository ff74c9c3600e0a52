/*  writer_test.h: what the writer thread's test programs share (test_store_writer*.c): a
    fake commit callback that records which batches it was given, can be told to fail, and
    can be held inside a commit until the test lets it go; batches of one id each. */
#ifndef WRITER_TEST_H
#define WRITER_TEST_H

#include "store_writer.h"
#include "testutil.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#define DEADLINE_S 20 /* what must happen has this long (a slow sanitizer build included) */
#define MAX_CALLS  64
#define MAX_IDS    256

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool hold;   /* commits wait inside the callback while set */
    int fail_at; /* the commit call (1-based) that fails; 0: none */
    int entered, returned;
    /* each call: how many batches and their ids (each batch is one record: stmt 1, id) */
    size_t calls;
    size_t nbatches[MAX_CALLS];
    int64_t ids[MAX_CALLS][MAX_IDS];
    int64_t applied[MAX_IDS]; /* ids of batches in successful commits, in order */
    size_t napplied;
    int malformed; /* batches that did not hold exactly one well-formed record */
} fake_t;

static inline void fake_init(fake_t *f)
{
    memset(f, 0, sizeof *f);
    pthread_mutex_init(&f->mu, NULL);
    pthread_cond_init(&f->cv, NULL);
}

static inline void fake_fini(fake_t *f)
{
    pthread_cond_destroy(&f->cv);
    pthread_mutex_destroy(&f->mu);
}

/*  The id recorded in a batch, or -1 when the batch is not what submit_id made. */
static inline int64_t batch_id(const collab_ops_t *o)
{
    size_t pos = 0;
    unsigned stmt, n;
    collab_opv_t v[COLLAB_OPS_MAX_VALUES];
    if (o->count != 1 || o->failed || !collab_ops_next(o, &pos, &stmt, v, &n) || stmt != 1 ||
        n != 1 || v[0].kind != COLLAB_OPV_INT || pos != o->len)
        return -1;
    return v[0].i;
}

static inline int fake_commit(void *arg, collab_ops_t *const *batches, size_t n)
{
    fake_t *f = arg;
    pthread_mutex_lock(&f->mu);
    f->entered++;
    pthread_cond_broadcast(&f->cv);
    while (f->hold)
        pthread_cond_wait(&f->cv, &f->mu);
    int rc = f->fail_at == f->entered ? COLLAB_E_IO : 0;
    size_t c = f->calls++;
    for (size_t i = 0; i < n; i++) {
        int64_t id = batch_id(batches[i]);
        f->malformed += id < 0;
        if (c < MAX_CALLS && i < MAX_IDS)
            f->ids[c][i] = id;
        if (rc == 0 && f->napplied < MAX_IDS)
            f->applied[f->napplied++] = id;
    }
    if (c < MAX_CALLS)
        f->nbatches[c] = n;
    f->returned++;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
    return rc;
}

/*  A fake that fails its fail_at-th commit (0: never) and a writer over it; when the
    writer cannot start, the fake is finished too and NULL returned. */
static inline collab_writer_t *start(fake_t *f, int fail_at, size_t max_queued)
{
    fake_init(f);
    f->fail_at = fail_at;
    collab_writer_t *w = collab_writer_new(fake_commit, f, max_queued);
    if (!w)
        fake_fini(f);
    return w;
}

static inline struct timespec deadline(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += DEADLINE_S;
    return ts;
}

/*  Waits (bounded) until *counter reaches want; false on the deadline. */
static inline bool wait_count(fake_t *f, const int *counter, int want)
{
    struct timespec until = deadline();
    pthread_mutex_lock(&f->mu);
    int rc = 0;
    while (*counter < want && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&f->cv, &f->mu, &until);
    bool ok = *counter >= want;
    pthread_mutex_unlock(&f->mu);
    return ok;
}

static inline void set_hold(fake_t *f, bool hold)
{
    pthread_mutex_lock(&f->mu);
    f->hold = hold;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
}

static inline int get_int(fake_t *f, const int *v)
{
    pthread_mutex_lock(&f->mu);
    int x = *v;
    pthread_mutex_unlock(&f->mu);
    return x;
}

/*  Records batch `id` into *ops and submits it; the writer's reply code. */
static inline int submit_id(collab_writer_t *w, collab_ops_t **ops, int64_t id)
{
    collab_ops_begin(*ops, 1);
    collab_ops_int(*ops, id);
    if (!collab_ops_end(*ops))
        return COLLAB_E_NOMEM;
    return collab_writer_submit(w, ops);
}

static inline collab_ops_t *ops_new(void)
{
    return calloc(1, sizeof(collab_ops_t));
}

static inline void ops_delete(collab_ops_t **ops)
{
    if (*ops) {
        collab_ops_free(*ops);
        free(*ops);
        *ops = NULL;
    }
}

/*  poll() on the writer's descriptor: 1 readable, 0 not within timeout_ms. */
static inline int fd_ready(const collab_writer_t *w, int timeout_ms)
{
    struct pollfd p = {.fd = collab_writer_fd(w), .events = POLLIN};
    int n = poll(&p, 1, timeout_ms);
    return n == 1 && (p.revents & POLLIN) ? 1 : n;
}

/*  The fake's successful commits applied exactly ids 1..n, in order. */
static inline void check_applied(fake_t *f, size_t n)
{
    pthread_mutex_lock(&f->mu);
    CHECK_EQ_U64(f->napplied, n);
    size_t wrong = 0;
    for (size_t i = 0; i < f->napplied && i < n; i++)
        wrong += f->applied[i] != (int64_t)i + 1;
    CHECK_EQ_U64(wrong, 0);
    CHECK_EQ_INT(f->malformed, 0);
    pthread_mutex_unlock(&f->mu);
}

/*  A thread that calls into the writer while the fake holds a commit. */
typedef struct {
    collab_writer_t *w;
    fake_t *f;
    collab_ops_t *ops;
    int64_t id;
    bool started;       /* about to call submit / sync / destroy */
    int rc;             /* what it returned */
    int returned_seen;  /* the fake's finished commits when it returned */
    pthread_mutex_t mu; /* guards started */
    pthread_cond_t cv;
} helper_t;

static inline void helper_started(helper_t *h)
{
    pthread_mutex_lock(&h->mu);
    h->started = true;
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
}

static inline bool helper_wait_started(helper_t *h)
{
    struct timespec until = deadline();
    int rc = 0;
    pthread_mutex_lock(&h->mu);
    while (!h->started && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&h->cv, &h->mu, &until);
    bool ok = h->started;
    pthread_mutex_unlock(&h->mu);
    return ok;
}

static inline void *helper_submit(void *arg)
{
    helper_t *h = arg;
    helper_started(h);
    h->rc = submit_id(h->w, &h->ops, h->id);
    h->returned_seen = get_int(h->f, &h->f->returned);
    return NULL;
}

static inline void *helper_sync(void *arg)
{
    helper_t *h = arg;
    helper_started(h);
    h->rc = collab_writer_sync(h->w);
    h->returned_seen = get_int(h->f, &h->f->returned);
    return NULL;
}

static inline void *helper_destroy(void *arg)
{
    helper_t *h = arg;
    helper_started(h);
    collab_writer_destroy(&h->w);
    h->returned_seen = get_int(h->f, &h->f->returned);
    return NULL;
}

/*  Runs fn on a thread that is started (about to call in) when this returns. */
static inline bool helper_run(helper_t *h, pthread_t *tid, void *(*fn)(void *))
{
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cv, NULL);
    if (!CHECK(pthread_create(tid, NULL, fn, h) == 0))
        return false;
    return CHECK(helper_wait_started(h));
}

static inline void helper_join(helper_t *h, pthread_t tid)
{
    pthread_join(tid, NULL);
    pthread_cond_destroy(&h->cv);
    pthread_mutex_destroy(&h->mu);
}

#endif
