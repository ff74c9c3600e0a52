/*  test_ratesync.c: the strong rate_limit control's budgets shared through a real
    redis-server (broker/ratesync.c), two brokers' gates driven by hand: a budget spent on A
    is refused on B once both have synced, and B's refusal carries the wait for one token;
    spends on both converge to one bucket; an overdraft made on both before a sync becomes a
    debt both see; every key is under the prefix with a TTL; a least-privilege ACL user
    (COLLAB_REDIS_BROKER_ACL) runs it; with Redis gone the buckets go on alone. Time: the
    buckets' clock is given by the test; the shared clock is a wall time it gives too. */
#include "collab_clock.h"
#include "ratesync.h"
#include "redis_access.h"
#include "redis_conn.h"
#include "redisproc.h"
#include "testutil.h"

#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <unistd.h>

#define BURST 5
#define PER_S 0.1 /* a token every 10 s: the test's time regains nothing */
#define WALL0 1700000000000ull

typedef struct {
    collab_rate_gate_t *gate;
    collab_ratesync_t *sync;
} node_t;

static redisproc_t *R;

static uint64_t real_ms(void) /* the deadlines' clock */
{
    return (uint64_t)collab_mono_ms();
}
static uint64_t now_ms = 1000; /* the buckets' clock, moved by the test */

static int node_open(node_t *n, const char *name, const char *passfile)
{
    collab_rate_budgets_t b = {PER_S, BURST, PER_S, BURST, PER_S, BURST};
    char err[256] = "";
    n->gate = collab_rate_gate_new(&b, 1024);
    collab_ratesync_opts_t o = {.address = redisproc_url(R),
                                .passfile = passfile,
                                .prefix = "tc:",
                                .node = name,
                                .command_timeout_ms = 500,
                                .sync_ms = 10,
                                .agent_per_s = PER_S,
                                .login_per_s = PER_S,
                                .anon_per_s = PER_S};
    n->sync = n->gate ? collab_ratesync_new(&o, n->gate, err, sizeof err) : NULL;
    if (!n->sync)
        fprintf(stderr, "  ratesync: %s\n", err);
    return n->sync ? 0 : -1;
}

static void node_close(node_t *n)
{
    collab_ratesync_destroy(&n->sync);
    collab_rate_gate_destroy(&n->gate);
}

/*  One whole sync of n (a snapshot sent, its result applied), within 5 s: its code (0: no
    result in time). Every sync here ends before the next begins. */
static int sync_once(node_t *n)
{
    uint64_t deadline = real_ms() + 5000;
    int r = 0;
    now_ms += 10; /* the period is over: this tick hands a snapshot over */
    if (!CHECK(collab_ratesync_tick(n->sync, now_ms, WALL0 + now_ms) == 0))
        return 0;
    while (real_ms() < deadline) {
        struct timeval tv = {0, 100000};
        fd_set fds;
        FD_ZERO(&fds);
        FD_SET(collab_ratesync_fd(n->sync), &fds);
        select(collab_ratesync_fd(n->sync) + 1, &fds, NULL, NULL, &tv); /* its result */
        if ((r = collab_ratesync_tick(n->sync, now_ms, WALL0 + now_ms)) != 0)
            return r;
    }
    return 0;
}

static int admit(node_t *n, const char *agent, collab_rate_verdict_t *v)
{
    return collab_ratelimit_admit(n->gate, COLLAB_RATE_SESSION, "127.0.0.1", agent, now_ms, v);
}

static double tokens(node_t *n, const char *agent)
{
    return collab_ratelimit_tokens(collab_rate_gate_table(n->gate, "agent"), agent, strlen(agent),
                                   now_ms);
}

static void test_spent_on_a_refused_on_b(void)
{
    node_t a = {0}, b = {0};
    if (!CHECK(node_open(&a, "a", NULL) == 0 && node_open(&b, "b", NULL) == 0))
        goto out;
    CHECK_EQ_INT(sync_once(&b), 1); /* B knows nothing of the agent yet */
    for (int i = 0; i < BURST; i++)
        CHECK_OK(admit(&a, "w1", NULL));
    CHECK_EQ_INT(sync_once(&a), 1);
    CHECK_EQ_INT(sync_once(&b), 1);
    collab_rate_verdict_t v = {0};
    CHECK_RC(admit(&b, "w1", &v), COLLAB_E_RATE_LIMITED);
    CHECK(v.retry_after_ms >= 9000 && v.retry_after_ms <= 10000); /* one token: 10 s */
    CHECK(tokens(&b, "w1") < 0.01);
    /* another agent is untouched on both */
    CHECK_OK(admit(&b, "w2", NULL));
out:
    node_close(&a);
    node_close(&b);
}

static void test_both_converge(void)
{
    node_t a = {0}, b = {0};
    if (!CHECK(node_open(&a, "a", NULL) == 0 && node_open(&b, "b", NULL) == 0))
        goto out;
    for (int i = 0; i < 2; i++) {
        CHECK_OK(admit(&a, "w3", NULL));
        CHECK_OK(admit(&b, "w3", NULL));
    }
    CHECK_EQ_INT(sync_once(&a), 1);
    CHECK_EQ_INT(sync_once(&b), 1);
    CHECK_EQ_INT(sync_once(&a), 1);
    double ta = tokens(&a, "w3"), tb = tokens(&b, "w3");
    CHECK(ta > 0.99 && ta < 1.01); /* 5 - 4: one budget, both see it */
    CHECK(tb > 0.99 && tb < 1.01);
    CHECK_OK(admit(&a, "w3", NULL));
    /* spent on A since its last sync: B lets one more through before it hears of it,
       then the debt is seen by both */
    CHECK_OK(admit(&b, "w3", NULL));
    CHECK_EQ_INT(sync_once(&a), 1);
    CHECK_EQ_INT(sync_once(&b), 1);
    CHECK_EQ_INT(sync_once(&a), 1);
    ta = tokens(&a, "w3");
    tb = tokens(&b, "w3");
    CHECK(ta > -1.01 && ta < -0.99);
    CHECK(tb > -1.01 && tb < -0.99);
    CHECK_RC(admit(&a, "w3", NULL), COLLAB_E_RATE_LIMITED);
    CHECK_RC(admit(&b, "w3", NULL), COLLAB_E_RATE_LIMITED);
out:
    node_close(&a);
    node_close(&b);
}

static void test_overdraft_is_a_debt(void)
{
    node_t a = {0}, b = {0};
    if (!CHECK(node_open(&a, "a", NULL) == 0 && node_open(&b, "b", NULL) == 0))
        goto out;
    for (int i = 0; i < BURST; i++) { /* both before any sync: the bound, one burst more */
        CHECK_OK(admit(&a, "w4", NULL));
        CHECK_OK(admit(&b, "w4", NULL));
    }
    CHECK_EQ_INT(sync_once(&a), 1);
    CHECK_EQ_INT(sync_once(&b), 1);
    CHECK_EQ_INT(sync_once(&a), 1);
    CHECK(tokens(&a, "w4") < -4.99 && tokens(&a, "w4") > -5.01);
    CHECK(tokens(&b, "w4") < -4.99 && tokens(&b, "w4") > -5.01);
    collab_rate_verdict_t v = {0};
    CHECK_RC(admit(&a, "w4", &v), COLLAB_E_RATE_LIMITED);
    CHECK(v.retry_after_ms >= 59000 && v.retry_after_ms <= 60001); /* 6 tokens at 0.1/s */
out:
    node_close(&a);
    node_close(&b);
}

/*  Every key the syncs wrote is under the prefix and expires. */
static void test_keys_bounded(void)
{
    collab_redis_opts_t o = {0};
    char err[256];
    CHECK_OK(collab_redis_addr_parse(redisproc_url(R), &o.addr, err, sizeof err));
    collab_redis_t *c = collab_redis_new(&o);
    if (!CHECK(c && collab_redis_connect(c) == 0))
        goto out;
    collab_redis_reply_t *r = NULL;
    CHECK_OK(collab_redis_callf(c, &r, "KEYS *"));
    int n = 0, rate = 0;
    for (size_t i = 0; r && i < r->elements; i++) {
        const char *k = r->element[i]->str;
        n++;
        CHECK(strncmp(k, "tc:", 3) == 0);
        rate += strncmp(k, "tc:rate:", 8) == 0;
        collab_redis_reply_t *t = NULL;
        CHECK_OK(collab_redis_callf(c, &t, "PTTL %s", k));
        if (!CHECK(t && t->type == REDIS_REPLY_INTEGER && t->integer > 0))
            fprintf(stderr, "  %s has no TTL\n", k);
        collab_redis_reply_free(&t);
    }
    CHECK(rate >= 5); /* seq, recent, node:a, node:b and the agents' keys */
    CHECK(n == rate);
    collab_redis_reply_free(&r);
out:
    collab_redis_destroy(&c);
}

static void test_least_privilege_user(void)
{
    redisproc_t *plain = R;
    redisproc_opts_t fo = {.user = "b1",
                           .password = "pw-b1",
                           .acl_rules = "resetchannels resetkeys ~tc:* " COLLAB_REDIS_BROKER_ACL};
    R = redisproc_start(&fo);
    node_t a = {0}, b = {0};
    char pf[512];
    if (!CHECK(R != NULL))
        goto out;
    snprintf(pf, sizeof pf, "%s/b1.redispw", redisproc_dir(R));
    int fd = open(pf, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0 && write(fd, "b1 pw-b1\n", 9) == 9);
    if (fd >= 0)
        close(fd);
    if (!CHECK(node_open(&a, "a", pf) == 0 && node_open(&b, "b", pf) == 0))
        goto out;
    for (int i = 0; i < BURST; i++)
        CHECK_OK(admit(&a, "w5", NULL));
    CHECK_EQ_INT(sync_once(&a), 1);
    CHECK_EQ_INT(sync_once(&b), 1);
    CHECK_RC(admit(&b, "w5", NULL), COLLAB_E_RATE_LIMITED);
out:
    node_close(&a);
    node_close(&b);
    redisproc_stop(&R);
    R = plain;
}

static void test_redis_gone(void)
{
    node_t a = {0};
    if (!CHECK(node_open(&a, "a", NULL) == 0))
        goto out;
    CHECK_EQ_INT(sync_once(&a), 1);
    CHECK_OK(redisproc_halt(R));
    for (int i = 0; i < BURST; i++)
        CHECK_OK(admit(&a, "w6", NULL));
    CHECK_EQ_INT(sync_once(&a), -1);
    CHECK(collab_ratesync_why(a.sync)[0] != '\0');
    /* the buckets go on alone */
    CHECK_RC(admit(&a, "w6", NULL), COLLAB_E_RATE_LIMITED);
    CHECK_OK(admit(&a, "w7", NULL));
    CHECK_OK(redisproc_restart(R));
    now_ms += 2000; /* past the back-off */
    CHECK_EQ_INT(sync_once(&a), 1);
out:
    node_close(&a);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    R = redisproc_start(NULL);
    if (!CHECK(R != NULL))
        return tu_exit("test_ratesync");
    TU_RUN(test_spent_on_a_refused_on_b);
    TU_RUN(test_both_converge);
    TU_RUN(test_overdraft_is_a_debt);
    TU_RUN(test_keys_bounded);
    TU_RUN(test_least_privilege_user);
    TU_RUN(test_redis_gone);
    redisproc_stop(&R);
    return tu_exit("test_ratesync");
}
