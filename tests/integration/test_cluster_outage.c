/*  test_cluster_outage: two real brokers on one real redis-server (docs/DISTRIBUTED.md 5),
    the failures of the shared store, each ending with the brokers (the same processes)
    answering again and reporting equal state digests:
    - the log trimmed past broker B (B frozen by SIGSTOP while A writes more than the log
      bound): B reloads its tables from Redis, and its own session survives; then again
      with writes waiting on B as it wakes, so that its writer finds the trim: logins and
      writes on B go on after the reload;
    - redis-server frozen by SIGSTOP: reads are refused `unavailable` within
      store.timeout_ms (plus a tolerance) of the freeze, and a write and a read after that
      at once; heartbeats are answered meanwhile; after SIGCONT the brokers answer again;
    - every broker's connection to Redis cut (CLIENT KILL, as a network cut ends them): the
      brokers reconnect by themselves and answer again, the writes before it kept;
    - redis-server killed with -9 during a write burst through both brokers, then restarted
      on its folder (AOF, fsync always): every reply is `ok` or `unavailable` (or none, for
      the batch in flight), every write acknowledged is readable through both brokers, and
      requests during the outage get `unavailable` while heartbeats are answered.
    argv: collab-broker, the test credentials, and "strong" to run it all with the controls
    that check the shared state at commit strong (replay, replay_scope, revocation). Needs
    redis-server (scripts/deps). */
#include "itest.h"
#include "redis_conn.h"
#include "redisproc.h"

#include <hiredis/hiredis.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>

#define TIMEOUT_MS 300 /* store.timeout_ms here: small, to keep the test fast */
/*  The tolerance on "unavailable within store.timeout_ms of the freeze". The tail's call
    that meets the freeze started at most its XREAD block (timeout/4, here 75 ms) before it,
    and fails TIMEOUT_MS after it started; then the loop wakes on the store's descriptor at
    once. What is left is scheduling on a 2-CPU machine shared with other test runs, under
    the sanitizers too: 250 ms covers it with room (measured: see the printed latency). */
#define TOLERANCE_MS 250
/*  The log's bound here, in entries (one per batch): above what a burst adds, so that a
    broker that follows is never trimmed past, and small enough that the trimmed case
    stays quick. */
#define LOG_BOUND "300"

static broker_proc_t A, B;
static redisproc_t *R;
static bool strong;          /* argv[3] "strong": replay, replay_scope, revocation strong */
static int once_wait = 3000; /* once()'s wait for its reply */
static collab_client_t *admin_a, *admin_b; /* logged in before any outage */

/*  strong: the controls that check the shared state at commit (replay with replay_scope,
    revocation) strong too, so that the outage meets their checks. */
static int start_cluster(bool strong)
{
    if (!(R = redisproc_start(NULL)))
        return -1;
    const char *url = redisproc_url(R);
    const char *replay = strong ? "replay=strong" : "replay=weak";
    const char *scope = strong ? "replay_scope=strong" : "replay_scope=weak";
    const char *revocation = strong ? "revocation=strong" : "revocation=weak";
    const char *a_args[] = {"--store", url,
                            "--node",  "a",
                            "--set",   "store.timeout_ms=300",
                            "--set",   "store.log_bound=" LOG_BOUND,
                            "--set",   "limits.projects_per_agent=5000",
                            "--set",   replay,
                            "--set",   scope,
                            "--set",   revocation,
                            NULL};
    const char *b_args[] = {"--store", url,
                            "--node",  "b",
                            "--set",   "store.timeout_ms=300",
                            "--set",   "store.log_bound=" LOG_BOUND,
                            "--set",   "limits.projects_per_agent=5000",
                            "--set",   replay,
                            "--set",   scope,
                            "--set",   revocation,
                            NULL};
    if (broker_start(&A, a_args) != 0 || broker_start(&B, b_args) != 0)
        return -1;
    admin_a = it_client(&A, "admin", true);
    admin_b = it_client(&B, "admin", true);
    return admin_a && admin_b ? 0 : -1;
}

/*  get_stats on one broker (allowed during an outage: it reads only its counters). */
static int stats(collab_client_t *admin, collab_reply_t *r)
{
    int rc = it_call(admin, r, "get_stats", NULL);
    if (rc)
        collab_reply_free(r);
    return rc;
}

static uint64_t stat_of(collab_client_t *admin, const char *key)
{
    collab_reply_t r;
    if (stats(admin, &r) != 0)
        return UINT64_MAX;
    uint64_t v = it_u64(&r, key);
    collab_reply_free(&r);
    return v;
}

static bool digest(collab_client_t *admin, char out[65])
{
    collab_reply_t r;
    collab_span_t d = {0};
    bool ok =
        stats(admin, &r) == 0 && collab_map_str(&r.map, "state_digest", &d) == 0 && d.len == 64;
    if (ok)
        snprintf(out, 65, "%.*s", (int)d.len, d.ptr);
    if (ok)
        collab_reply_free(&r);
    return ok;
}

/*  Both brokers answer (store_available) and agree (equal digests), within ms. */
static bool converged(int ms)
{
    char da[65] = "", db[65] = "x";
    uint64_t deadline = it_now_ms() + (uint64_t)ms;
    do {
        if (stat_of(admin_a, "store_available") == 1 && stat_of(admin_b, "store_available") == 1 &&
            digest(admin_a, da) && digest(admin_b, db) && strcmp(da, db) == 0)
            return true;
    } while (it_now_ms() < deadline);
    fprintf(stderr, "  digests: A %s, B %s\n", da, db);
    return false;
}

/*  One request, its one reply (no failover, no retry): the reply's code (0: ok), or
    COLLAB_E_TIMEOUT; *ms receives the round trip. data_retry: the reply's
    retry_after_ms (0 when none). */
static int once(collab_client_t *c, const char *action, const uint8_t *payload, size_t len,
                uint64_t *ms, uint64_t *retry)
{
    collab_reply_t r;
    uint64_t got = 0, t0 = it_now_ms();
    uint64_t id = collab_client_send(c, action, payload, len);
    int rc = collab_client_next_reply(c, &got, &r, once_wait);
    if (ms)
        *ms = it_now_ms() - t0;
    if (rc != 0 || got != id)
        return COLLAB_E_TIMEOUT;
    rc = r.ok ? 0 : r.code;
    if (retry) {
        *retry = 0;
        collab_map_uint(&r.map, "retry_after_ms", retry);
    }
    collab_reply_free(&r);
    return rc;
}

static int create(collab_client_t *c, const char *name, uint64_t *ms, uint64_t *retry)
{
    uint8_t buf[96];
    char v[64];
    snprintf(v, sizeof v, "s:%s", name);
    size_t len = it_pack(buf, sizeof buf, "name", v, NULL);
    return once(c, "create_project", buf, len, ms, retry);
}

/*  coordinator1 on b, beside first (on the other broker): the same session, which is
    cluster-wide; under the strong controls a login of its own, since a client learns
    from its login reply to sign with a nonce. */
static collab_client_t *second(const broker_proc_t *b, collab_client_t *first)
{
    collab_client_t *c = it_client(b, "coordinator1", strong);
    if (c && first && !strong)
        collab_client_set_session(c, collab_client_session(first));
    return c;
}

static bool running(const broker_proc_t *b)
{
    return b->pid > 0 && kill(b->pid, 0) == 0;
}

/* --------------------------------------------------------------------------------------- */

/*  busy: B has writes and a login waiting when it wakes, so that its writer, committing
    them, may be the first to find its place trimmed (else its tail finds it): either way
    B reloads, and answers logins and writes afterwards. A write waiting is answered ok
    (then readable on A), unavailable, or not at all (the batch whose outcome is unknown). */
static void test_trimmed(bool busy)
{
    it_begin(busy
                 ? "the log trimmed past broker B, with B's writes waiting: B reloads, logins "
                   "and writes go on"
                 : "the log trimmed past broker B: B reloads, its session survives, digests agree");
    enum { WRITES = 600 }; /* past the bound (300, trimmed by nodes of 100) */
    enum { WAITING = 16 };
    collab_client_t *on_a = it_client(&A, "coordinator1", true);
    collab_client_t *on_b = it_client(&B, "coordinator2", true);
    collab_client_t *late = it_client(&B, "worker1", false);
    uint64_t sent[WAITING];
    if (!CHECK(on_a && on_b && late))
        goto out;
    uint64_t reloads0 = stat_of(admin_b, "store_reloads");
    if (!CHECK(kill(B.pid, SIGSTOP) == 0))
        goto out;
    size_t made = 0;
    for (int i = 0; i < WRITES; i++) { /* one at a time: a log entry each (one per batch) */
        char name[48];
        snprintf(name, sizeof name, "while B sleeps %d", i);
        made += it_create_project(on_a, name) != 0;
    }
    for (int j = 0; busy && j < WAITING; j++) { /* read by B once it wakes */
        uint8_t buf[96];
        char name[48];
        snprintf(name, sizeof name, "s:waiting on B %d", j);
        size_t len = it_pack(buf, sizeof buf, "name", name, NULL);
        sent[j] = collab_client_send(on_b, "create_project", buf, len);
    }
    CHECK(kill(B.pid, SIGCONT) == 0);
    CHECK_EQ_U64(made, WRITES);
    size_t ok = 0, refused = 0, unanswered = 0;
    for (int j = 0; busy && j < WAITING; j++) {
        uint64_t id = 0;
        collab_reply_t r;
        if (collab_client_next_reply(on_b, &id, &r, 2000) != 0) {
            unanswered = (size_t)WAITING - (size_t)j;
            break;
        }
        CHECK(id >= sent[0] && id <= sent[WAITING - 1]);
        if (r.ok) {
            ok++;
            char name[48], pid[24]; /* what B acknowledged, A reads */
            snprintf(name, sizeof name, "waiting on B %llu", (unsigned long long)(id - sent[0]));
            collab_reply_t g;
            int rc = it_call(on_a, &g, "get_project", "project_id",
                             it_u(pid, it_u64(&r, "project_id")), NULL);
            CHECK_OK(rc);
            CHECK(rc != 0 || it_str_is(&g.map, "name", name));
            collab_reply_free(&g);
        } else {
            refused++;
            CHECK_EQ_INT(r.code, COLLAB_E_UNAVAILABLE);
        }
        collab_reply_free(&r);
    }
    if (busy)
        fprintf(stderr, "  B's waiting writes: %zu ok, %zu unavailable, %zu unanswered\n", ok,
                refused, unanswered);
    CHECK(converged(10000));
    if (busy) { /* a login on B after the reload, and a write with it */
        uint64_t deadline = it_now_ms() + 5000;
        int rc;
        while ((rc = collab_client_login(late)) != 0 && it_now_ms() < deadline)
            ;
        CHECK_OK(rc);
        CHECK_OK(it_call(late, NULL, "get_session_info", NULL));
        collab_client_t *again = it_client(&B, "coordinator2", true);
        CHECK(again && it_create_project(again, "a login after the reload") != 0);
        collab_client_destroy(&again);
    }
    uint64_t reloads = stat_of(admin_b, "store_reloads");
    fprintf(stderr, "  B reloaded %llu time(s)\n", (unsigned long long)(reloads - reloads0));
    CHECK(reloads != UINT64_MAX && reloads > reloads0);
    /* B's own session, kept through the reload, and the state A wrote, read on B */
    CHECK_OK(it_call(on_b, NULL, "get_session_info", NULL));
    CHECK_OK(it_call(on_b, NULL, "heartbeat", NULL));
    CHECK(it_create_project(on_b, "after the reload") != 0);
out:
    collab_client_destroy(&on_a);
    collab_client_destroy(&on_b);
    collab_client_destroy(&late);
}

static void test_frozen(void)
{
    it_begin("redis-server frozen: unavailable within store.timeout_ms, heartbeats answered");
    collab_client_t *on_a = it_client(&A, "coordinator1", true);
    collab_client_t *on_b = second(&B, on_a);
    if (!CHECK(on_a && on_b))
        goto out;
    CHECK(it_create_project(on_a, "before the freeze") != 0);
    if (!CHECK(redisproc_freeze(R) == 0))
        goto out;
    /* reads, one after the other on each broker, until each refuses: local reads are
       answered until the broker sees the freeze, then refused. Under strong revocation a
       read is checked at commit, so the one under way at the freeze is in flight and gets
       no reply: its wait (IN_FLIGHT_WAIT) is then part of what the client sees. */
    enum { IN_FLIGHT_WAIT = 1000 };
    uint64_t t0 = it_now_ms(), seen[2] = {0, 0}, retry = 0;
    collab_client_t *cs[2] = {on_a, on_b};
    once_wait = IN_FLIGHT_WAIT;
    for (int k = 0; k < 2; k++) {
        int rc;
        while (((rc = once(cs[k], "list_projects", NULL, 0, NULL, &retry)) == 0 ||
                (strong && rc == COLLAB_E_TIMEOUT)) &&
               it_now_ms() < t0 + 5000)
            ;
        seen[k] = it_now_ms() - t0;
        CHECK_EQ_INT(rc, COLLAB_E_UNAVAILABLE);
        CHECK(retry >= 50 && retry <= 2000);
    }
    once_wait = 3000;
    fprintf(stderr, "  unavailable after the freeze: A %llu ms, B %llu ms (timeout %d + %d%s)\n",
            (unsigned long long)seen[0], (unsigned long long)seen[1], TIMEOUT_MS, TOLERANCE_MS,
            strong ? " + a read in flight" : "");
    uint64_t bound = TIMEOUT_MS + TOLERANCE_MS + (strong ? IN_FLIGHT_WAIT : 0);
    CHECK(seen[0] <= bound);
    CHECK(seen[1] <= bound);
    /* now a new write and a new read are refused at once; heartbeats are answered */
    uint64_t wms = 0, rms = 0, hms = 0;
    CHECK_EQ_INT(create(on_a, "during the freeze", &wms, &retry), COLLAB_E_UNAVAILABLE);
    CHECK_EQ_INT(once(on_b, "list_projects", NULL, 0, &rms, NULL), COLLAB_E_UNAVAILABLE);
    CHECK_EQ_INT(once(on_a, "heartbeat", NULL, 0, &hms, NULL), 0);
    CHECK_EQ_INT(once(on_b, "heartbeat", NULL, 0, NULL, NULL), 0);
    fprintf(stderr, "  then: write refused in %llu ms, read in %llu ms, heartbeat ok in %llu ms\n",
            (unsigned long long)wms, (unsigned long long)rms, (unsigned long long)hms);
    CHECK(wms <= TIMEOUT_MS && rms <= TIMEOUT_MS);
    CHECK(stat_of(admin_a, "store_available") == 0);
    CHECK_OK(redisproc_thaw(R));
    CHECK(converged(10000));
    CHECK(it_create_project(on_b, "after the thaw") != 0);
    CHECK_OK(it_call(on_a, NULL, "list_projects", NULL));
    CHECK(stat_of(admin_a, "store_reconnects") >= 1 && stat_of(admin_b, "store_reconnects") >= 1);
out:
    collab_client_destroy(&on_a);
    collab_client_destroy(&on_b);
}

/*  CLIENT KILL of every connection but this one: each broker's three, as a cut would. */
static int cut_connections(void)
{
    collab_redis_opts_t o = {.command_timeout_ms = 2000};
    char err[256];
    redisReply *r = NULL;
    if (collab_redis_addr_parse(redisproc_url(R), &o.addr, err, sizeof err) != 0)
        return -1;
    collab_redis_t *c = collab_redis_new(&o);
    int rc = c ? collab_redis_connect(c) : -1;
    if (rc == 0)
        rc = collab_redis_callf(c, &r, "CLIENT KILL TYPE normal SKIPME yes");
    if (rc == 0 && (r->type != REDIS_REPLY_INTEGER || r->integer < 6))
        rc = -1; /* three per broker at least */
    collab_redis_reply_free(&r);
    collab_redis_destroy(&c);
    return rc;
}

static void test_cut(void)
{
    it_begin("the brokers' connections to Redis cut: they reconnect and answer again");
    collab_client_t *on_a = it_client(&A, "coordinator1", true);
    collab_client_t *on_b = second(&B, on_a);
    if (!CHECK(on_a && on_b))
        goto out;
    uint64_t before = it_create_project(on_a, "before the cut");
    uint64_t outages_a = stat_of(admin_a, "store_outages");
    uint64_t outages_b = stat_of(admin_b, "store_outages");
    CHECK_OK(cut_connections());
    uint64_t deadline = it_now_ms() + 10000; /* each broker sees it (its tail's next call) */
    while ((stat_of(admin_a, "store_outages") == outages_a ||
            stat_of(admin_b, "store_outages") == outages_b) &&
           it_now_ms() < deadline)
        ;
    CHECK(stat_of(admin_a, "store_outages") > outages_a);
    CHECK(stat_of(admin_b, "store_outages") > outages_b);
    CHECK(converged(10000));
    char id[24];
    CHECK_OK(it_call(on_b, NULL, "get_project", "project_id", it_u(id, before), NULL));
    CHECK(it_create_project(on_b, "after the cut") != 0);
    CHECK(converged(10000));
out:
    collab_client_destroy(&on_a);
    collab_client_destroy(&on_b);
}

/*  Replies of a pipelined burst on one client: acknowledged project ids into acked, the
    refusals counted. Reads until silence (wait_ms without a reply) or every reply. */
static void collect(collab_client_t *c, size_t sent, uint64_t *acked, size_t *nacked,
                    size_t *unavailable, size_t *other, size_t *answered, int wait_ms)
{
    while (*answered < sent) {
        uint64_t id = 0;
        collab_reply_t r;
        if (collab_client_next_reply(c, &id, &r, wait_ms) != 0)
            return;
        (*answered)++;
        if (r.ok)
            acked[(*nacked)++] = it_u64(&r, "project_id");
        else if (r.code == COLLAB_E_UNAVAILABLE)
            (*unavailable)++;
        else
            (*other)++;
        collab_reply_free(&r);
    }
}

/*  One create_project of the burst through broker k ("A" or "B"); 0 when sent. */
static int send_burst(collab_client_t *c, char k, int i)
{
    uint8_t buf[96];
    char name[48];
    snprintf(name, sizeof name, "s:burst %c %d", k, i);
    size_t len = it_pack(buf, sizeof buf, "name", name, NULL);
    return collab_client_send(c, "create_project", buf, len) != 0 ? 0 : -1;
}

static void test_kill9(void)
{
    it_begin("redis-server killed during a burst on both brokers: nothing acknowledged lost");
    enum { BURST = 400, CHUNK = 20, KILL_AFTER = 40 };
    collab_client_t *on[2] = {it_client(&A, "coordinator1", true), NULL};
    on[1] = second(&B, on[0]);
    pid_t pa = A.pid, pb = B.pid;
    static uint64_t acked[2][BURST];
    size_t nacked[2] = {0, 0}, unavail[2] = {0, 0}, other[2] = {0, 0}, answered[2] = {0, 0};
    int sent = 0;
    if (!CHECK(on[0] && on[1]))
        goto out;
    /* pipelined a chunk at a time on both brokers, until KILL_AFTER are acknowledged: the
       kill then lands with a chunk in flight, and the rest of the burst follows it (a
       broker that merges what waits into one script call could otherwise acknowledge a
       whole burst sent at once before the kill) */
    for (;;) {
        for (int i = sent; i < sent + CHUNK; i++)
            for (int k = 0; k < 2; k++)
                if (!CHECK(send_burst(on[k], "AB"[k], i) == 0))
                    goto out;
        sent += CHUNK;
        if (nacked[0] + nacked[1] >= KILL_AFTER || sent >= BURST)
            break;
        for (int k = 0; k < 2; k++)
            collect(on[k], (size_t)sent, acked[k], &nacked[k], &unavail[k], &other[k], &answered[k],
                    5000);
    }
    CHECK(sent < BURST); /* the kill meets the burst */
    CHECK_OK(redisproc_kill9(R));
    for (; sent < BURST; sent++)
        for (int k = 0; k < 2; k++)
            if (!CHECK(send_burst(on[k], "AB"[k], sent) == 0))
                goto out;
    for (int k = 0; k < 2; k++) /* until silence: what stays unanswered is the batch in flight */
        collect(on[k], BURST, acked[k], &nacked[k], &unavail[k], &other[k], &answered[k], 1500);
    for (int k = 0; k < 2; k++)
        fprintf(stderr, "  %c: %zu acknowledged, %zu unavailable, %zu unanswered, %zu other\n",
                "AB"[k], nacked[k], unavail[k], BURST - answered[k], other[k]);
    CHECK_EQ_U64(other[0] + other[1], 0);
    /* the kill met the burst: what was left is refused or, in flight, unanswered (how much
       of each depends on how the brokers had batched it) */
    CHECK(nacked[0] + nacked[1] < 2 * BURST);
    CHECK(nacked[0] + nacked[1] >= KILL_AFTER);
    /* during the outage: refused, heartbeats answered, nothing changed */
    uint64_t retry = 0;
    CHECK_EQ_INT(create(on[0], "during the outage", NULL, &retry), COLLAB_E_UNAVAILABLE);
    CHECK(retry >= 50 && retry <= 2000);
    CHECK_EQ_INT(once(on[1], "list_projects", NULL, 0, NULL, NULL), COLLAB_E_UNAVAILABLE);
    CHECK_EQ_INT(once(on[0], "heartbeat", NULL, 0, NULL, NULL), 0);
    CHECK_EQ_INT(once(on[1], "heartbeat", NULL, 0, NULL, NULL), 0);
    CHECK_OK(redisproc_restart(R));
    CHECK(converged(15000));
    CHECK(running(&A) && running(&B) && A.pid == pa && B.pid == pb); /* the same processes */
    /* every acknowledged write, through both brokers */
    size_t found[2] = {0, 0}, total = nacked[0] + nacked[1];
    for (int b = 0; b < 2; b++)
        for (int k = 0; k < 2; k++)
            for (size_t i = 0; i < nacked[k]; i++) {
                char id[24];
                found[b] += it_call(on[b], NULL, "get_project", "project_id", it_u(id, acked[k][i]),
                                    NULL) == 0;
            }
    CHECK_EQ_U64(found[0], total);
    CHECK_EQ_U64(found[1], total);
    CHECK(it_create_project(on[0], "after the restart") != 0);
    CHECK(it_create_project(on[1], "after the restart, on B") != 0);
    CHECK(converged(10000));
    for (int k = 0; k < 2; k++) {
        collab_client_t *adm = k ? admin_b : admin_a;
        fprintf(stderr,
                "  %c: outages %llu, reconnects %llu, reloads %llu, refused %llu, unanswered "
                "%llu\n",
                "AB"[k], (unsigned long long)stat_of(adm, "store_outages"),
                (unsigned long long)stat_of(adm, "store_reconnects"),
                (unsigned long long)stat_of(adm, "store_reloads"),
                (unsigned long long)stat_of(adm, "store_unavailable"),
                (unsigned long long)stat_of(adm, "store_unanswered"));
        CHECK(stat_of(adm, "store_reconnects") >= 3); /* the freeze's, the cut's, this one */
    }
    CHECK(broker_seclog_count(&A, "store_unavailable") >= 1);
    CHECK(broker_seclog_count(&A, "store_available") >= 1);
out:
    collab_client_destroy(&on[0]);
    collab_client_destroy(&on[1]);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: test_cluster_outage COLLAB_BROKER CREDENTIALS [strong]\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    broker_init(&A, argv[1], argv[2]);
    broker_init(&B, argv[1], argv[2]);
    strong = argc > 3 && strcmp(argv[3], "strong") == 0;
    if (CHECK(start_cluster(strong) == 0)) {
        test_trimmed(false);
        test_trimmed(true);
        test_frozen();
        test_cut();
        test_kill9();
        collab_client_destroy(&admin_a);
        collab_client_destroy(&admin_b);
        it_stop(&A);
        it_stop(&B);
    }
    collab_client_destroy(&admin_a);
    collab_client_destroy(&admin_b);
    broker_cleanup(&A);
    broker_cleanup(&B);
    redisproc_stop(&R);
    return it_exit("test_cluster_outage");
}
