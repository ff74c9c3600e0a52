/*  hasher.c: password hashing off the event loop (see hasher.h). Workers at a lower priority
    take jobs from a bounded FIFO; finished jobs wait in a second FIFO whose non-emptiness is
    mirrored by an eventfd, so the loop can poll it level-triggered. While a worker hashes,
    its own timer (on the monotonic clock, delivered to that thread only) interrupts it every
    slice: the interruption is the preemption point, and its handler keeps the worker's CPU
    budget, sleeping when the worker is over it. */
#include "hasher.h"

#include "collab_clock.h"
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
#include <time.h>
#include <unistd.h>

/*  The preemption points' signal, delivered to one worker by its own timer. */
#define SIG_POINT (SIGRTMIN + 4)

/*  A worker's CPU budget, a token bucket of CPU nanoseconds. Only its worker touches it:
    from the signal handler while a job runs (the only time the worker lets SIG_POINT in),
    from the worker's own code otherwise, so the two never interleave. */
typedef struct {
    int64_t rate_ppm;    /* CPU time earned per wall time, in millionths; 0: no budget */
    int64_t burst_ns;    /* the bucket's size */
    int64_t tokens_ns;   /* may go negative: the worker then sleeps it off */
    int64_t wall_ns;     /* CLOCK_MONOTONIC at the last point */
    int64_t cpu_ns;      /* the thread's CPU clock at the last point */
    uint64_t job_cpu_ns; /* the running job's CPU time so far */
    uint64_t throttled_ns;
    uint64_t points;
} budget_t;

static _Thread_local budget_t *tl_budget; /* the worker's own, for the handler */

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
    collab_hasher_opts_t opts;
    unsigned threads;       /* started */
    unsigned ready, failed; /* workers that set themselves up, or could not */
    pthread_cond_t started; /* ready or failed moved */
    pthread_t *tids;
    collab_hasher_stats_t stats; /* under mu */
};

/*  The calling thread's CPU time. Async-signal-safe. */
static int64_t thread_cpu_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/*  Accounts the CPU time spent since the last point; returns how long the worker must
    sleep to be back in budget (ns, 0 when in budget). Async-signal-safe. */
static int64_t budget_account(budget_t *b)
{
    int64_t wall = collab_mono_ns(), cpu = thread_cpu_ns();
    int64_t spent = cpu - b->cpu_ns, elapsed = wall - b->wall_ns;
    b->cpu_ns = cpu;
    b->wall_ns = wall;
    b->job_cpu_ns += (uint64_t)(spent > 0 ? spent : 0);
    if (b->rate_ppm == 0)
        return 0;
    /* earned since the last point; an idle hour would overflow, and earns the burst */
    if (elapsed > 10 * (int64_t)1000000000)
        b->tokens_ns = b->burst_ns;
    else
        b->tokens_ns += elapsed * b->rate_ppm / 1000000;
    if (b->tokens_ns > b->burst_ns)
        b->tokens_ns = b->burst_ns;
    b->tokens_ns -= spent;
    return b->tokens_ns >= 0 ? 0 : -b->tokens_ns * 1000000 / b->rate_ppm;
}

/*  Sleeps `wait` ns; the sleep itself earns the debt back at the next account.
    Async-signal-safe. */
static void budget_sleep(budget_t *b, int64_t wait)
{
    if (wait <= 0)
        return;
    collab_mono_sleep_ns(wait);
    b->throttled_ns += (uint64_t)wait;
}

static void on_point(int sig)
{
    (void)sig;
    int saved = errno;
    if (tl_budget) {
        tl_budget->points++;
        budget_sleep(tl_budget, budget_account(tl_budget));
    }
    errno = saved;
}

static pthread_once_t handler_once = PTHREAD_ONCE_INIT;
static int handler_rc = -1;

static void install_handler(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_point;
    sa.sa_flags = SA_RESTART;
    sigfillset(&sa.sa_mask);
    handler_rc = sigaction(SIG_POINT, &sa, NULL);
}

/*  Starts (slice_us > 0) or stops (0) the worker's timer, letting SIG_POINT in only while
    it runs; a signal still pending when it stops waits for the next start. */
static void arm(timer_t timer, unsigned slice_us)
{
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, SIG_POINT);
    long ns = (long)(slice_us % 1000000) * 1000;
    struct itimerspec it = {{slice_us / 1000000, ns}, {slice_us / 1000000, ns}};
    if (slice_us)
        pthread_sigmask(SIG_UNBLOCK, &one, NULL);
    timer_settime(timer, 0, &it, NULL);
    if (!slice_us)
        pthread_sigmask(SIG_BLOCK, &one, NULL);
}

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

/*  Moves the job's figures into the pool's counters. Called with mu held, the timer
    stopped (SIG_POINT blocked). */
static void collect(collab_hasher_t *self, budget_t *b)
{
    self->stats.jobs++;
    self->stats.cpu_ns += b->job_cpu_ns;
    self->stats.throttled_ns += b->throttled_ns;
    self->stats.points += b->points;
    b->job_cpu_ns = b->throttled_ns = b->points = 0;
}

static void *worker(void *arg)
{
    collab_hasher_t *self = arg;
    const collab_hasher_opts_t *o = &self->opts;
    budget_t b = {.burst_ns = (int64_t)COLLAB_HASHER_BURST_MS * 1000000};
    if (o->budget_ms) {
        b.rate_ppm = (int64_t)o->budget_ms * 1000 / o->threads;
        if (b.rate_ppm >= 1000000) /* a CPU or more per worker: never binds */
            b.rate_ppm = 0;
        else if (b.rate_ppm == 0)
            b.rate_ppm = 1;
    }
    b.tokens_ns = b.burst_ns;
    b.wall_ns = collab_mono_ns();
    timer_t timer;
    lower_priority(o->nice_delta);
    bool ok = !o->slice_us || collab_mono_thread_timer(&timer, SIG_POINT) == 0;
    tl_budget = &b;
    pthread_mutex_lock(&self->mu);
    ok ? self->ready++ : self->failed++;
    pthread_cond_broadcast(&self->started);
    for (; ok;) {
        while (!self->stop && self->pending.count == 0)
            pthread_cond_wait(&self->wake, &self->mu);
        if (self->stop)
            break;
        collab_hash_job_t *job = ring_pop(&self->pending);
        self->running++;
        pthread_mutex_unlock(&self->mu);
        b.cpu_ns = thread_cpu_ns(); /* the wait was not hashing */
        if (o->slice_us)
            arm(timer, o->slice_us);
        run_job(job);
        if (o->slice_us)
            arm(timer, 0);
        int64_t debt = budget_account(&b); /* the job's tail */
        pthread_mutex_lock(&self->mu);
        collect(self, &b);
        self->running--;
        ring_push(&self->finished, job);
        uint64_t one = 1;
        /* cannot fail: the counter stays far below its limit of 2^64-2 */
        ssize_t n = write(self->efd, &one, sizeof one);
        (void)n;
        if (debt > 0) { /* slept off before the next job, with the result delivered */
            pthread_mutex_unlock(&self->mu);
            budget_sleep(&b, debt);
            pthread_mutex_lock(&self->mu);
            self->stats.throttled_ns += b.throttled_ns;
            b.throttled_ns = 0;
        }
    }
    pthread_mutex_unlock(&self->mu);
    tl_budget = NULL;
    if (ok && o->slice_us)
        timer_delete(timer);
    return NULL;
}

/*  Workers block every signal (their own timer's but while they hash), so that signals
    reach the event loop's thread and interrupt its poll, as the broker's shutdown handling
    expects. Waits
    until every worker has set itself up; fails when one could not (no timer). */
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
    pthread_mutex_lock(&self->mu);
    while (self->ready + self->failed < self->threads)
        pthread_cond_wait(&self->started, &self->mu);
    if (self->failed)
        rc = -1;
    pthread_mutex_unlock(&self->mu);
    return rc;
}

collab_hasher_t *collab_hasher_new(const collab_hasher_opts_t *opts)
{
    if (!opts || opts->threads == 0 || opts->queue_max == 0 || sodium_init() < 0)
        return NULL;
    if (opts->slice_us && (pthread_once(&handler_once, install_handler) != 0 || handler_rc != 0))
        return NULL;
    collab_hasher_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->efd = -1;
    self->opts = *opts;
    if (pthread_mutex_init(&self->mu, NULL) != 0) {
        free(self);
        return NULL;
    }
    if (pthread_cond_init(&self->wake, NULL) != 0) {
        pthread_mutex_destroy(&self->mu);
        free(self);
        return NULL;
    }
    if (pthread_cond_init(&self->started, NULL) != 0) {
        pthread_cond_destroy(&self->wake);
        pthread_mutex_destroy(&self->mu);
        free(self);
        return NULL;
    }
    self->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    self->tids = calloc(opts->threads, sizeof *self->tids);
    if (self->efd < 0 || !self->tids || !ring_init(&self->pending, opts->queue_max) ||
        !ring_init(&self->finished, (size_t)opts->queue_max + opts->threads))
        goto fail;
    if (start_workers(self, opts->threads) != 0)
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
    pthread_cond_destroy(&self->started);
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

void collab_hasher_stats(collab_hasher_t *self, collab_hasher_stats_t *out)
{
    pthread_mutex_lock(&self->mu);
    *out = self->stats;
    pthread_mutex_unlock(&self->mu);
}
