/*  hasher.c: password hashing off the event loop (see hasher.h). Workers at a lower priority
    take jobs from a bounded FIFO; finished jobs wait in a second FIFO whose non-emptiness is
    mirrored by an eventfd, so the loop can poll it level-triggered. */
#include "hasher.h"

#include "collab_error.h"
#include "creds.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <unistd.h>

/*  A FIFO of job pointers in a fixed ring. */
typedef struct {
    collab_hash_job_t **slot;
    size_t cap, head, count;
} ring_t;

struct collab_hasher {
    pthread_mutex_t mu;
    pthread_cond_t wake; /* a job was queued, or stop */
    ring_t pending;      /* at most queue_max */
    ring_t finished;     /* room for every job the pool holds */
    size_t running;
    bool stop;
    int efd; /* readable exactly while `finished` is non-empty */
    int nice_delta;
    unsigned threads; /* started */
    pthread_t *tids;
};

static bool ring_init(ring_t *r, size_t cap)
{
    r->slot = calloc(cap, sizeof *r->slot);
    r->cap = cap;
    r->head = r->count = 0;
    return r->slot != NULL;
}

static void ring_push(ring_t *r, collab_hash_job_t *job)
{
    r->slot[(r->head + r->count++) % r->cap] = job;
}

static collab_hash_job_t *ring_pop(ring_t *r)
{
    if (r->count == 0)
        return NULL;
    collab_hash_job_t *job = r->slot[r->head];
    r->head = (r->head + 1) % r->cap;
    r->count--;
    return job;
}

static void free_job(collab_hash_job_t *job)
{
    sodium_memzero(job->password, sizeof job->password);
    free(job);
}

/*  Frees the ring and the jobs still in it. */
static void ring_drain(ring_t *r)
{
    collab_hash_job_t *job;
    while (r->slot && (job = ring_pop(r)))
        free_job(job);
    free(r->slot);
    r->slot = NULL;
}

/*  Lower this thread only: Linux keeps a nice value per thread, and SCHED_BATCH tells the
    scheduler these threads are throughput work. Best effort: failures leave the defaults. */
static void lower_priority(int nice_delta)
{
    struct sched_param param = {.sched_priority = 0};
    pthread_setschedparam(pthread_self(), SCHED_BATCH, &param);
    pid_t tid = gettid();
    errno = 0;
    int nice_now = getpriority(PRIO_PROCESS, (id_t)tid);
    if (errno != 0)
        return;
    int target = nice_now + nice_delta;
    setpriority(PRIO_PROCESS, (id_t)tid, target > 19 ? 19 : target);
}

static void run_job(collab_hash_job_t *job)
{
    job->hash[sizeof job->hash - 1] = '\0';
    job->scheme[sizeof job->scheme - 1] = '\0';
    if (job->password_len > COLLAB_PASSWORD_MAX)
        job->result = COLLAB_E_TOO_LARGE;
    else if (job->op == COLLAB_HASH_VERIFY)
        job->result = collab_password_verify(job->hash, job->password, job->password_len);
    else if (job->op == COLLAB_HASH_CREATE)
        job->result = collab_password_hash(job->password, job->password_len, job->scheme, job->cost,
                                           job->new_hash, sizeof job->new_hash);
    else
        job->result = COLLAB_E_INTERNAL;
    sodium_memzero(job->password, sizeof job->password);
    job->password_len = 0;
}

static void *worker(void *arg)
{
    collab_hasher_t *self = arg;
    lower_priority(self->nice_delta);
    pthread_mutex_lock(&self->mu);
    for (;;) {
        while (!self->stop && self->pending.count == 0)
            pthread_cond_wait(&self->wake, &self->mu);
        if (self->stop)
            break;
        collab_hash_job_t *job = ring_pop(&self->pending);
        self->running++;
        pthread_mutex_unlock(&self->mu);
        run_job(job);
        pthread_mutex_lock(&self->mu);
        self->running--;
        ring_push(&self->finished, job);
        uint64_t one = 1;
        /* cannot fail: the counter stays far below its limit of 2^64-2 */
        ssize_t n = write(self->efd, &one, sizeof one);
        (void)n;
    }
    pthread_mutex_unlock(&self->mu);
    return NULL;
}

/*  Workers block every signal, so that signals reach the event loop's thread and interrupt
    its poll, as the broker's shutdown handling expects. */
static int start_workers(collab_hasher_t *self, unsigned threads)
{
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = 0;
    while (rc == 0 && self->threads < threads) {
        if (pthread_create(&self->tids[self->threads], NULL, worker, self) != 0)
            rc = -1;
        else
            self->threads++;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

collab_hasher_t *collab_hasher_new(unsigned threads, unsigned queue_max, int nice_delta)
{
    if (threads == 0 || queue_max == 0 || sodium_init() < 0)
        return NULL;
    collab_hasher_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->efd = -1;
    self->nice_delta = nice_delta;
    if (pthread_mutex_init(&self->mu, NULL) != 0) {
        free(self);
        return NULL;
    }
    if (pthread_cond_init(&self->wake, NULL) != 0) {
        pthread_mutex_destroy(&self->mu);
        free(self);
        return NULL;
    }
    self->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    self->tids = calloc(threads, sizeof *self->tids);
    if (self->efd < 0 || !self->tids || !ring_init(&self->pending, queue_max) ||
        !ring_init(&self->finished, (size_t)queue_max + threads))
        goto fail;
    if (start_workers(self, threads) != 0)
        goto fail;
    return self;
fail:
    collab_hasher_destroy(&self);
    return NULL;
}

/*  Stops and joins the workers (each finishes the job in its hands), then frees every job
    left, started or not. */
void collab_hasher_destroy(collab_hasher_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    collab_hasher_t *self = *self_p;
    pthread_mutex_lock(&self->mu);
    self->stop = true;
    pthread_cond_broadcast(&self->wake);
    pthread_mutex_unlock(&self->mu);
    for (unsigned i = 0; i < self->threads; i++)
        pthread_join(self->tids[i], NULL);
    ring_drain(&self->pending);
    ring_drain(&self->finished);
    if (self->efd >= 0)
        close(self->efd);
    pthread_cond_destroy(&self->wake);
    pthread_mutex_destroy(&self->mu);
    free(self->tids);
    free(self);
    *self_p = NULL;
}

/*  Refuses when queue_max jobs wait, or when the results not yet taken would overflow the
    finished queue (the loop has stopped taking: back-pressure rather than unbounded memory). */
int collab_hasher_submit(collab_hasher_t *self, collab_hash_job_t **job_p)
{
    if (!job_p || !*job_p)
        return COLLAB_E_INTERNAL;
    int rc = COLLAB_E_BUSY;
    pthread_mutex_lock(&self->mu);
    size_t held = self->pending.count + self->running + self->finished.count;
    if (!self->stop && self->pending.count < self->pending.cap && held < self->finished.cap) {
        ring_push(&self->pending, *job_p);
        *job_p = NULL;
        pthread_cond_signal(&self->wake);
        rc = 0;
    }
    pthread_mutex_unlock(&self->mu);
    return rc;
}

/*  Takes the oldest finished job. The eventfd is cleared under the same lock that the workers
    hold to fill it, exactly when the last result goes, so it reads readable iff results wait. */
collab_hash_job_t *collab_hasher_take(collab_hasher_t *self)
{
    pthread_mutex_lock(&self->mu);
    collab_hash_job_t *job = ring_pop(&self->finished);
    if (self->finished.count == 0) {
        uint64_t count;
        ssize_t n = read(self->efd, &count, sizeof count); /* EAGAIN: already clear */
        (void)n;
    }
    pthread_mutex_unlock(&self->mu);
    return job;
}

int collab_hasher_fd(const collab_hasher_t *self)
{
    return self->efd;
}
