/*  store_writer.c: the store's writer thread (see store_writer.h). The loop and the thread
    share a queue of batches under one mutex; the thread takes every batch waiting, commits
    them together (one fsync for all), and hands their buffers back for reuse. */
#include "store_writer.h"

#include "collab_error.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

/*  A spare batch keeps at most this much memory for reuse. */
#define WRITER_KEEP_BYTES (1u << 20)

struct collab_writer {
    collab_writer_commit_fn *commit;
    void *arg;
    pthread_t tid;
    bool started;
    pthread_mutex_t mu;
    pthread_cond_t wake;  /* the thread: work or stop */
    pthread_cond_t done;  /* the loop: a commit finished or the writer failed */
    collab_ops_t **queue; /* submitted, not yet taken: a ring of max_queued */
    size_t max_queued, head, queued;
    collab_ops_t **spare; /* empty batches for reuse; max_queued + 1 of them at most */
    size_t nspare;
    uint64_t submitted; /* written by the loop only */
    uint64_t committed; /* under mu */
    size_t in_hand;     /* batches the thread is committing */
    bool failed, stop;
    int efd;
};

static void signal_fd(collab_writer_t *self)
{
    uint64_t one = 1;
    ssize_t n = write(self->efd, &one, sizeof one); /* EAGAIN: the counter is full, readable */
    (void)n;
}

static void *writer_main(void *arg)
{
    collab_writer_t *self = arg;
    collab_ops_t *taken[64];
    pthread_mutex_lock(&self->mu);
    for (;;) {
        while (self->queued == 0 && !self->stop)
            pthread_cond_wait(&self->wake, &self->mu);
        if (self->queued == 0)
            break; /* stopping, nothing left */
        size_t n = 0;
        while (self->queued && n < sizeof taken / sizeof *taken) {
            taken[n++] = self->queue[self->head];
            self->head = (self->head + 1) % self->max_queued;
            self->queued--;
        }
        self->in_hand = n;
        bool failed = self->failed;
        pthread_mutex_unlock(&self->mu);
        int rc = failed ? COLLAB_E_IO : self->commit(self->arg, taken, n);
        pthread_mutex_lock(&self->mu);
        if (rc != 0)
            self->failed = true;
        else
            self->committed += n;
        self->in_hand = 0;
        for (size_t i = 0; i < n; i++) {
            collab_ops_reset(taken[i]);
            if (taken[i]->cap > WRITER_KEEP_BYTES)
                collab_ops_free(taken[i]); /* one huge batch does not pin its memory */
            if (self->nspare <= self->max_queued) {
                self->spare[self->nspare++] = taken[i];
            } else {
                collab_ops_free(taken[i]);
                free(taken[i]);
            }
        }
        pthread_cond_broadcast(&self->done);
        signal_fd(self);
    }
    pthread_mutex_unlock(&self->mu);
    return NULL;
}

collab_writer_t *collab_writer_new(collab_writer_commit_fn *commit, void *arg, size_t max_queued)
{
    if (max_queued == 0)
        max_queued = 1;
    collab_writer_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->commit = commit;
    self->arg = arg;
    self->max_queued = max_queued;
    self->efd = -1;
    pthread_mutex_init(&self->mu, NULL);
    pthread_cond_init(&self->wake, NULL);
    pthread_cond_init(&self->done, NULL);
    self->queue = calloc(max_queued, sizeof *self->queue);
    self->spare = calloc(max_queued + 1, sizeof *self->spare);
    self->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (!self->queue || !self->spare || self->efd < 0 ||
        pthread_create(&self->tid, NULL, writer_main, self) != 0) {
        collab_writer_destroy(&self);
        return NULL;
    }
    self->started = true;
    return self;
}

void collab_writer_destroy(collab_writer_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    collab_writer_t *self = *self_p;
    if (self->started) {
        pthread_mutex_lock(&self->mu);
        self->stop = true;
        pthread_cond_signal(&self->wake);
        pthread_mutex_unlock(&self->mu);
        pthread_join(self->tid, NULL); /* it commits what was queued first */
    }
    for (size_t i = 0; i < self->nspare; i++) {
        collab_ops_free(self->spare[i]);
        free(self->spare[i]);
    }
    free(self->spare);
    free(self->queue);
    if (self->efd >= 0)
        close(self->efd);
    pthread_cond_destroy(&self->done);
    pthread_cond_destroy(&self->wake);
    pthread_mutex_destroy(&self->mu);
    free(self);
    *self_p = NULL;
}

int collab_writer_submit(collab_writer_t *self, collab_ops_t **ops)
{
    pthread_mutex_lock(&self->mu);
    while (self->queued == self->max_queued && !self->failed) /* back-pressure */
        pthread_cond_wait(&self->done, &self->mu);
    collab_ops_t *fresh = NULL;
    if (!self->failed) {
        fresh = self->nspare ? self->spare[--self->nspare] : calloc(1, sizeof *fresh);
    }
    if (!fresh) {
        pthread_mutex_unlock(&self->mu);
        return COLLAB_E_IO;
    }
    self->queue[(self->head + self->queued) % self->max_queued] = *ops;
    self->queued++;
    self->submitted++;
    *ops = fresh;
    pthread_cond_signal(&self->wake);
    pthread_mutex_unlock(&self->mu);
    return 0;
}

bool collab_writer_idle(collab_writer_t *self)
{
    pthread_mutex_lock(&self->mu);
    bool idle = self->queued == 0 && self->in_hand == 0;
    pthread_mutex_unlock(&self->mu);
    return idle;
}

uint64_t collab_writer_submitted(const collab_writer_t *self)
{
    return self->submitted;
}

int collab_writer_committed(collab_writer_t *self, uint64_t *committed)
{
    uint64_t count;
    ssize_t n = read(self->efd, &count, sizeof count); /* EAGAIN: already clear */
    (void)n;
    pthread_mutex_lock(&self->mu);
    *committed = self->committed;
    bool failed = self->failed;
    pthread_mutex_unlock(&self->mu);
    return failed ? COLLAB_E_IO : 0;
}

int collab_writer_sync(collab_writer_t *self)
{
    pthread_mutex_lock(&self->mu);
    while (self->committed < self->submitted && !self->failed)
        pthread_cond_wait(&self->done, &self->mu);
    bool failed = self->failed;
    pthread_mutex_unlock(&self->mu);
    return failed ? COLLAB_E_IO : 0;
}

int collab_writer_fd(const collab_writer_t *self)
{
    return self->efd;
}
