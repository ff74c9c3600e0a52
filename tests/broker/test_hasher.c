/*  test_hasher.c: the password-hashing pool. Verify and create jobs, many jobs over several
    threads each returned exactly once, the level-triggered descriptor, the queue bound,
    destruction with work outstanding, the workers' lowered priority and signal mask, the
    preemption points and the CPU budget. */
#include "creds.h"
#include "collab_clock.h"
#include "hasher.h"
#include "testutil.h"

#include <dirent.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define WAIT_MS 20000 /* generous: a sanitized build on a loaded machine */

static char hash4[COLLAB_HASH_MAX]; /* bcrypt cost 4 of "correct horse" */

static double now_ms(void)
{
    return (double)collab_mono_ns() / 1e6;
}

/*  0 or 1: is the descriptor readable within timeout_ms. */
static int readable(int fd, int timeout_ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    return poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLIN);
}

/*  The event loop's way: poll the descriptor, then take. NULL after the deadline. */
static collab_hash_job_t *wait_job(collab_hasher_t *h, int timeout_ms)
{
    double deadline = now_ms() + timeout_ms;
    for (;;) {
        collab_hash_job_t *job = collab_hasher_take(h);
        if (job)
            return job;
        int left = (int)(deadline - now_ms());
        if (left <= 0)
            return NULL;
        readable(collab_hasher_fd(h), left);
    }
}

static collab_hash_job_t *new_job(collab_hash_op_t op, const char *hash, const char *pw, void *ctx)
{
    collab_hash_job_t *job = calloc(1, sizeof *job);
    if (!job)
        abort();
    job->op = op;
    snprintf(job->hash, sizeof job->hash, "%s", hash ? hash : "");
    job->password_len = strlen(pw);
    memcpy(job->password, pw, job->password_len);
    snprintf(job->scheme, sizeof job->scheme, "bcrypt");
    job->cost = 4;
    job->result = 1; /* not a value the pool ever writes */
    job->ctx = ctx;
    return job;
}

/*  A pool with preemption points every 500 us and no budget. */
static collab_hasher_t *pool(unsigned threads, unsigned queue_max, int nice_delta)
{
    collab_hasher_opts_t o = {threads, queue_max, nice_delta, 0, 500};
    return collab_hasher_new(&o);
}

/*  Runs n verifications of `hash` one after another through h; returns the wall time in
    ms, or -1 when one failed. */
static double run_verifies(collab_hasher_t *h, const char *hash, int n)
{
    double t0 = now_ms();
    for (int i = 0; i < n; i++) {
        collab_hash_job_t *j = new_job(COLLAB_HASH_VERIFY, hash, "correct horse", NULL);
        if (!CHECK(collab_hasher_submit(h, &j) == 0))
            return -1;
        j = wait_job(h, WAIT_MS);
        int rc = j ? j->result : -1;
        free(j);
        if (!CHECK(rc == 0))
            return -1;
    }
    return now_ms() - t0;
}

static bool all_zero(const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return false;
    return true;
}

static void test_verify(void)
{
    collab_hasher_t *h = pool(2, 8, 0);
    if (!CHECK(h))
        return;
    int right = 1, wrong = 2;
    collab_hash_job_t *j1 = new_job(COLLAB_HASH_VERIFY, hash4, "correct horse", &right);
    collab_hash_job_t *j2 = new_job(COLLAB_HASH_VERIFY, hash4, "correct horsf", &wrong);
    CHECK_OK(collab_hasher_submit(h, &j1));
    CHECK(j1 == NULL); /* ownership taken */
    CHECK_OK(collab_hasher_submit(h, &j2));
    for (int i = 0; i < 2; i++) {
        collab_hash_job_t *j = wait_job(h, WAIT_MS);
        if (!CHECK(j))
            break;
        CHECK(j->ctx == &right || j->ctx == &wrong);
        CHECK_RC(j->result, j->ctx == &right ? 0 : COLLAB_E_AUTH_FAILED);
        CHECK(all_zero(j->password, sizeof j->password)); /* wiped */
        CHECK_EQ_INT(j->password_len, 0);
        free(j);
    }
    /* an unsupported hash string and an oversized length are errors, not crashes */
    j1 = new_job(COLLAB_HASH_VERIFY, "plaintext", "x", NULL);
    j2 = new_job(COLLAB_HASH_VERIFY, hash4, "x", &wrong);
    j2->password_len = COLLAB_PASSWORD_MAX + 1;
    CHECK_OK(collab_hasher_submit(h, &j1));
    CHECK_OK(collab_hasher_submit(h, &j2));
    for (int i = 0; i < 2; i++) {
        collab_hash_job_t *j = wait_job(h, WAIT_MS);
        if (!CHECK(j))
            break;
        CHECK_RC(j->result, j->ctx ? COLLAB_E_TOO_LARGE : COLLAB_E_INTERNAL);
        free(j);
    }
    collab_hasher_destroy(&h);
    CHECK(h == NULL);
    collab_hasher_destroy(&h);
    collab_hasher_destroy(NULL);
}

static void test_create_then_verify(void)
{
    collab_hasher_t *h = pool(1, 4, 0);
    if (!CHECK(h))
        return;
    static const struct {
        const char *scheme;
        int cost;
        const char *prefix;
    } cases[] = {{"bcrypt", 4, "$2b$04$"}, {"argon2id", 0, "$argon2id$"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        collab_hash_job_t *j = new_job(COLLAB_HASH_CREATE, NULL, "n3w passw0rd", NULL);
        snprintf(j->scheme, sizeof j->scheme, "%s", cases[i].scheme);
        j->cost = cases[i].cost;
        CHECK_OK(collab_hasher_submit(h, &j));
        j = wait_job(h, WAIT_MS);
        if (!CHECK(j))
            break;
        CHECK_OK(j->result);
        CHECK(strncmp(j->new_hash, cases[i].prefix, strlen(cases[i].prefix)) == 0);
        CHECK(all_zero(j->password, sizeof j->password));
        char created[COLLAB_HASH_MAX];
        memcpy(created, j->new_hash, sizeof created);
        free(j);

        collab_hash_job_t *ok = new_job(COLLAB_HASH_VERIFY, created, "n3w passw0rd", &h);
        collab_hash_job_t *bad = new_job(COLLAB_HASH_VERIFY, created, "n3w passw0rD", NULL);
        CHECK_OK(collab_hasher_submit(h, &ok));
        CHECK_OK(collab_hasher_submit(h, &bad));
        for (int k = 0; k < 2; k++) {
            j = wait_job(h, WAIT_MS);
            if (!CHECK(j))
                break;
            CHECK_RC(j->result, j->ctx ? 0 : COLLAB_E_AUTH_FAILED);
            free(j);
        }
    }
    /* a bad scheme comes back as the hasher's error */
    collab_hash_job_t *j = new_job(COLLAB_HASH_CREATE, NULL, "pw", NULL);
    snprintf(j->scheme, sizeof j->scheme, "md5");
    CHECK_OK(collab_hasher_submit(h, &j));
    j = wait_job(h, WAIT_MS);
    if (CHECK(j))
        CHECK_RC(j->result, COLLAB_E_BAD_REQUEST);
    free(j);
    collab_hasher_destroy(&h);
}

static void test_many_jobs(void)
{
    enum { N = 240 };
    static int returned[N];
    static int index_of[N];
    memset(returned, 0, sizeof returned);
    collab_hasher_t *h = pool(4, 16, 0);
    if (!CHECK(h))
        return;
    int submitted = 0, received = 0, busy = 0;
    double deadline = now_ms() + 4 * WAIT_MS;
    while (received < N && now_ms() < deadline) {
        /* submit until refused, then drain what is ready, as the broker's loop does */
        while (submitted < N) {
            index_of[submitted] = submitted;
            collab_hash_job_t *j =
                new_job(COLLAB_HASH_VERIFY, hash4, submitted % 3 ? "correct horse" : "wrong horse",
                        &index_of[submitted]);
            if (collab_hasher_submit(h, &j) != 0) {
                CHECK(j != NULL); /* refused: still ours */
                free(j);
                busy++;
                break;
            }
            submitted++;
        }
        collab_hash_job_t *j = wait_job(h, WAIT_MS);
        for (; j; j = collab_hasher_take(h)) {
            int i = *(int *)j->ctx;
            returned[i]++;
            CHECK_RC(j->result, i % 3 ? 0 : COLLAB_E_AUTH_FAILED);
            free(j);
            received++;
        }
    }
    CHECK_EQ_INT(received, N);
    int wrong_count = 0;
    for (int i = 0; i < N; i++)
        wrong_count += returned[i] != 1;
    CHECK_EQ_INT(wrong_count, 0);
    CHECK(busy > 0); /* 240 jobs through a queue of 16: the bound was hit */
    CHECK(collab_hasher_take(h) == NULL);
    collab_hasher_destroy(&h);
}

/*  The descriptor is level-triggered: readable exactly while finished jobs wait. Taking one
    result per wake-up must still see every result; an implementation that cleared the
    eventfd on each take would stall here until the deadline. */
static void test_fd_level_triggered(void)
{
    enum { N = 12 };
    collab_hasher_t *h = pool(3, N, 0);
    if (!CHECK(h))
        return;
    int fd = collab_hasher_fd(h);
    CHECK(fd >= 0);
    CHECK_EQ_INT(readable(fd, 0), 0);
    CHECK(collab_hasher_take(h) == NULL);
    for (int i = 0; i < N; i++) {
        /* an unsupported hash fails at once: many results finish together */
        collab_hash_job_t *j = new_job(COLLAB_HASH_VERIFY, "x", "pw", NULL);
        CHECK_OK(collab_hasher_submit(h, &j));
    }
    int got = 0;
    for (; got < N; got++) {
        int r = readable(fd, WAIT_MS);
        CHECK_EQ_INT(r, 1);
        if (!r)
            break;
        collab_hash_job_t *j = collab_hasher_take(h);
        if (!CHECK(j != NULL)) /* readable means a result is there */
            break;
        free(j);
    }
    CHECK_EQ_INT(got, N);
    CHECK_EQ_INT(readable(fd, 0), 0); /* nothing left, nothing signalled */
    CHECK(collab_hasher_take(h) == NULL);
    collab_hasher_destroy(&h);
}

static void test_queue_bound(void)
{
    /* one slow worker, two waiting slots: the third or fourth submission is refused */
    collab_hasher_t *h = pool(1, 2, 0);
    if (!CHECK(h))
        return;
    char slow[COLLAB_HASH_MAX];
    CHECK_OK(collab_password_hash("pw", 2, "bcrypt", 10, slow, sizeof slow));
    int accepted = 0, rc = 0;
    collab_hash_job_t *j = NULL;
    while (accepted < 10) {
        j = new_job(COLLAB_HASH_VERIFY, slow, "pw", NULL);
        if ((rc = collab_hasher_submit(h, &j)) != 0)
            break;
        accepted++;
    }
    CHECK_RC(rc, COLLAB_E_BUSY);
    CHECK(j != NULL); /* the refused job stays the caller's */
    free(j);
    CHECK(accepted >= 2 && accepted <= 3); /* 2 waiting, + 1 if the worker had started */
    for (int i = 0; i < accepted; i++) {
        collab_hash_job_t *done = wait_job(h, WAIT_MS);
        if (CHECK(done))
            CHECK_OK(done->result);
        free(done);
    }
    collab_hasher_destroy(&h);

    /* results not taken count too: with one worker and one slot, a finished result plus a
       submitted job fill the pool, whatever the worker is doing */
    h = pool(1, 1, 0);
    if (!CHECK(h))
        return;
    j = new_job(COLLAB_HASH_VERIFY, "x", "pw", NULL);
    CHECK_OK(collab_hasher_submit(h, &j));
    CHECK_EQ_INT(readable(collab_hasher_fd(h), WAIT_MS), 1);
    j = new_job(COLLAB_HASH_VERIFY, "x", "pw", NULL);
    CHECK_OK(collab_hasher_submit(h, &j));
    j = new_job(COLLAB_HASH_VERIFY, "x", "pw", NULL);
    CHECK_RC(collab_hasher_submit(h, &j), COLLAB_E_BUSY);
    for (int i = 0; i < 2; i++) {
        collab_hash_job_t *done = wait_job(h, WAIT_MS);
        CHECK(done != NULL);
        free(done);
    }
    CHECK_OK(collab_hasher_submit(h, &j)); /* room again once the results are taken */
    j = wait_job(h, WAIT_MS);
    CHECK(j != NULL);
    free(j);
    collab_hasher_destroy(&h);
}

static void test_destroy_with_work(void)
{
    /* jobs waiting, one running, results untaken: destroy frees them all (ASan checks) */
    collab_hasher_t *h = pool(1, 16, 0);
    if (!CHECK(h))
        return;
    char slow[COLLAB_HASH_MAX];
    CHECK_OK(collab_password_hash("pw", 2, "bcrypt", 8, slow, sizeof slow));
    for (int i = 0; i < 16; i++) {
        collab_hash_job_t *j = new_job(COLLAB_HASH_VERIFY, slow, "pw", NULL);
        CHECK_OK(collab_hasher_submit(h, &j));
    }
    double t0 = now_ms();
    collab_hasher_destroy(&h);
    CHECK(h == NULL);
    fprintf(stderr, "test_hasher: destroy with 16 jobs queued took %.1f ms\n", now_ms() - t0);

    h = pool(2, 4, 0);
    if (!CHECK(h))
        return;
    for (int i = 0; i < 4; i++) {
        collab_hash_job_t *j = new_job(COLLAB_HASH_VERIFY, "x", "pw", NULL);
        CHECK_OK(collab_hasher_submit(h, &j));
    }
    CHECK_EQ_INT(readable(collab_hasher_fd(h), WAIT_MS), 1);
    collab_hasher_destroy(&h);

    CHECK(pool(0, 4, 0) == NULL);
    CHECK(pool(1, 0, 0) == NULL);
    CHECK(collab_hasher_new(NULL) == NULL);
}

/*  While a worker hashes, its timer interrupts it every slice; with no slice, never. */
static void test_preemption_points(void)
{
    char hash10[COLLAB_HASH_MAX];
    if (!CHECK(collab_password_hash("correct horse", 13, "bcrypt", 10, hash10, sizeof hash10) == 0))
        return;
    collab_hasher_opts_t o = {.threads = 1, .queue_max = 4, .slice_us = 1000};
    collab_hasher_t *h = collab_hasher_new(&o);
    if (!CHECK(h))
        return;
    double ms = run_verifies(h, hash10, 2);
    collab_hasher_stats_t st;
    collab_hasher_stats(h, &st);
    collab_hasher_destroy(&h);
    CHECK_EQ_INT((int)st.jobs, 2);
    CHECK(st.cpu_ns > 0);
    /* a cost-10 hash takes tens of ms: at least a point per 4 ms of the hashing's CPU time
       (the timer counts wall time, which is at least as long) */
    fprintf(stderr, "test_hasher: 2 hashes, %.1f ms, %.1f ms of CPU, %llu points\n", ms,
            (double)st.cpu_ns / 1e6, (unsigned long long)st.points);
    CHECK(st.points >= st.cpu_ns / 4000000);
    CHECK(st.points >= 5);
    CHECK_EQ_INT((int)st.throttled_ns, 0); /* no budget */

    o.slice_us = 0;
    h = collab_hasher_new(&o);
    if (!CHECK(h))
        return;
    CHECK(run_verifies(h, hash10, 1) > 0);
    collab_hasher_stats(h, &st);
    collab_hasher_destroy(&h);
    CHECK_EQ_INT((int)st.jobs, 1);
    CHECK_EQ_INT((int)st.points, 0);
}

/*  The workers' CPU time stays within the budget: burst + rate x wall time. */
static void test_budget(void)
{
    char hash11[COLLAB_HASH_MAX];
    if (!CHECK(collab_password_hash("correct horse", 13, "bcrypt", 11, hash11, sizeof hash11) == 0))
        return;
    /* 4 hashes of about 100 ms each, at 400 ms per second after the 250 ms burst */
    collab_hasher_opts_t o = {.threads = 1, .queue_max = 4, .budget_ms = 400, .slice_us = 250};
    collab_hasher_t *h = collab_hasher_new(&o);
    if (!CHECK(h))
        return;
    double ms = run_verifies(h, hash11, 4);
    collab_hasher_stats_t st;
    collab_hasher_stats(h, &st);
    collab_hasher_destroy(&h);
    double cpu_ms = (double)st.cpu_ns / 1e6, slept_ms = (double)st.throttled_ns / 1e6;
    fprintf(stderr, "test_hasher: 4 hashes at 400 ms/s: %.1f ms, %.1f ms of CPU, slept %.1f ms\n",
            ms, cpu_ms, slept_ms);
    CHECK_EQ_INT((int)st.jobs, 4);
    /* the budget held: the CPU spent is within the burst plus what the wall time earned,
       give or take one slice's overshoot. At full speed 4 hashes overrun that, so a worker
       that did not sleep fails here; on a busy machine the wall time may earn them all
       (then it rightly slept little or not at all), so no amount of sleep is required. */
    CHECK(cpu_ms <= COLLAB_HASHER_BURST_MS + 0.4 * ms + 5.0);
    CHECK(slept_ms <= ms); /* sleeping is part of the wall time */

    /* the same work with no budget never sleeps */
    o.budget_ms = 0;
    h = collab_hasher_new(&o);
    if (!CHECK(h))
        return;
    CHECK(run_verifies(h, hash11, 2) > 0);
    collab_hasher_stats(h, &st);
    collab_hasher_destroy(&h);
    CHECK_EQ_INT((int)st.throttled_ns, 0);
}

/*  Reads a thread's nice value and scheduling policy from /proc (fields 19 and 41). */
static bool thread_sched(const char *tid, int *nice_out, int *policy_out)
{
    char path[300], buf[1024];
    snprintf(path, sizeof path, "/proc/self/task/%s/stat", tid);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    if (!p)
        return false;
    int field = 2;
    for (char *tok = strtok(p + 1, " "); tok; tok = strtok(NULL, " ")) {
        field++;
        if (field == 19)
            *nice_out = atoi(tok);
        if (field == 41) {
            *policy_out = atoi(tok);
            return true;
        }
    }
    return false;
}

/*  True when the thread blocks SIGINT and SIGTERM (the SigBlk mask of /proc status). */
static bool thread_blocks_signals(const char *tid)
{
    char path[300], line[256];
    unsigned long long mask = 0;
    snprintf(path, sizeof path, "/proc/self/task/%s/status", tid);
    FILE *f = fopen(path, "r");
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "SigBlk: %llx", &mask) == 1)
            break;
    if (f)
        fclose(f);
    return (mask >> (SIGINT - 1) & 1) && (mask >> (SIGTERM - 1) & 1);
}

/*  Counts this process's threads at the given nice value and policy; *blocking receives how
    many of them block the shutdown signals. */
static int count_threads(int nice, int policy, int *blocking)
{
    DIR *d = opendir("/proc/self/task");
    struct dirent *e;
    int count = 0, tn, tp;
    *blocking = 0;
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.' && thread_sched(e->d_name, &tn, &tp) && tn == nice &&
            tp == policy) {
            count++;
            *blocking += thread_blocks_signals(e->d_name);
        }
    if (d)
        closedir(d);
    return count;
}

static void test_lower_priority(void)
{
    int base = getpriority(PRIO_PROCESS, (id_t)gettid());
    int want = base + 5 > 19 ? 19 : base + 5;
    int n = 0, blocking = 0;
    if (access("/proc/self/task", R_OK) != 0) {
        fprintf(stderr, "test_hasher: no /proc, priority not checked\n");
        return;
    }
    collab_hasher_t *h = pool(3, 4, 5);
    if (!CHECK(h))
        return;
    /* each worker lowers itself when it starts: poll /proc until all three have */
    double deadline = now_ms() + WAIT_MS;
    while ((n = count_threads(want, SCHED_BATCH, &blocking)) < 3 && now_ms() < deadline) {
        struct timespec pause = {0, 1000000};
        nanosleep(&pause, NULL);
    }
    CHECK_EQ_INT(n, 3);
    CHECK_EQ_INT(blocking, 3); /* signals are left to the event loop's thread */
    /* per thread only: the caller keeps its priority */
    CHECK_EQ_INT(getpriority(PRIO_PROCESS, (id_t)gettid()), base);
    CHECK_EQ_INT(sched_getscheduler(0), SCHED_OTHER);
    collab_hash_job_t *j = new_job(COLLAB_HASH_VERIFY, hash4, "correct horse", NULL);
    CHECK_OK(collab_hasher_submit(h, &j));
    j = wait_job(h, WAIT_MS);
    if (CHECK(j))
        CHECK_OK(j->result);
    free(j);
    collab_hasher_destroy(&h);
}

int main(void)
{
    if (collab_password_hash("correct horse", 13, "bcrypt", 4, hash4, sizeof hash4) != 0) {
        fprintf(stderr, "test_hasher: cannot create the bcrypt test hash\n");
        return 1;
    }
    TU_RUN(test_verify);
    TU_RUN(test_create_then_verify);
    TU_RUN(test_many_jobs);
    TU_RUN(test_fd_level_triggered);
    TU_RUN(test_queue_bound);
    TU_RUN(test_destroy_with_work);
    TU_RUN(test_lower_priority);
    TU_RUN(test_preemption_points);
    TU_RUN(test_budget);
    return tu_exit("test_hasher");
}
