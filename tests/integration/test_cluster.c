/*  test_cluster: two real brokers sharing one real redis-server (docs/DISTRIBUTED.md), the
    properties of issue 16 that hold while everything runs:
    - a session opened on broker A is accepted on broker B;
    - an agent connected to B receives the events caused on A, in sequence order, with no
      gap and no repeat;
    - two brokers receive conflicting updates of the same task, 1,000 rounds, both requests
      sent before either reply is read: exactly one wins each round, the other gets
      `conflict`; the brokers count (refused_conflict) the rounds decided at commit, where
      both were in flight at once, at least 900; and at the end both report the same
      state digest (get_stats);
    - broker A killed with -9 during a burst of writes: every write A acknowledged is
      readable through B.
    argv: collab-broker, the test credentials. Needs redis-server (scripts/deps). */
#include "itest.h"
#include "redisproc.h"

#include <stdio.h>
#include <string.h>

#define ROUNDS 1000

static broker_proc_t A, B;
static redisproc_t *R;

static int start_cluster(void)
{
    if (!(R = redisproc_start(NULL)))
        return -1;
    const char *url = redisproc_url(R);
    const char *a_args[] = {"--store", url,
                            "--node",  "a",
                            "--set",   "limits.tasks_per_project=5000",
                            "--set",   "limits.projects_per_agent=5000",
                            NULL};
    const char *b_args[] = {"--store", url,
                            "--node",  "b",
                            "--set",   "limits.tasks_per_project=5000",
                            "--set",   "limits.projects_per_agent=5000",
                            NULL};
    if (broker_start(&A, a_args) != 0 || broker_start(&B, b_args) != 0)
        return -1;
    return 0;
}

/*  get_stats as admin on one broker: the state digest (65 bytes) and refused_conflict. */
static int stats(const broker_proc_t *b, char digest[65], uint64_t *refused)
{
    collab_client_t *admin = it_client(b, "admin", true);
    if (!admin)
        return -1;
    collab_reply_t r;
    int rc = it_call(admin, &r, "get_stats", NULL);
    collab_span_t d = {0};
    if (rc == 0 && collab_map_str(&r.map, "state_digest", &d) == 0 && d.len == 64) {
        snprintf(digest, 65, "%.*s", (int)d.len, d.ptr);
        *refused = it_u64(&r, "refused_conflict");
    } else if (rc == 0) {
        rc = COLLAB_E_MALFORMED;
    }
    collab_reply_free(&r);
    collab_client_destroy(&admin);
    return rc;
}

static void test_session_on_both(void)
{
    it_begin("a session opened on A is accepted on B");
    collab_client_t *on_a = it_client(&A, "coordinator1", true);
    collab_client_t *on_b = it_client(&B, "coordinator1", false);
    if (!CHECK(on_a && on_b))
        goto out;
    collab_client_set_session(on_b, collab_client_session(on_a));
    collab_reply_t r;
    CHECK_OK(it_call(on_b, &r, "get_session_info", NULL));
    CHECK(it_str_is(&r.map, "agent_id", "coordinator1"));
    collab_reply_free(&r);
    /* and a write made through B with it */
    char name[64];
    snprintf(name, sizeof name, "made on B with A's session");
    CHECK(it_create_project(on_b, name) != 0);
out:
    collab_client_destroy(&on_a);
    collab_client_destroy(&on_b);
}

static void test_events_across(void)
{
    it_begin("an agent on B receives the events caused on A, in order, once each");
    collab_client_t *viewer = it_client(&B, "viewer1", true);
    collab_client_t *coord = it_client(&A, "coordinator1", true);
    if (!CHECK(viewer && coord))
        goto out;
    CHECK_OK(collab_client_subscribe(viewer, true));
    uint64_t first = collab_client_last_seq(viewer);
    enum { N = 20 };
    for (int i = 0; i < N; i++) {
        char name[32];
        snprintf(name, sizeof name, "across %d", i);
        CHECK(it_create_project(coord, name) != 0);
    }
    uint64_t want = first + 1;
    for (int i = 0; i < N; i++) {
        uint64_t seq = it_expect_event(viewer, "project_created", 5000, NULL);
        CHECK_EQ_U64(seq, want);
        want++;
    }
out:
    collab_client_destroy(&viewer);
    collab_client_destroy(&coord);
}

static void test_conflicts(void)
{
    it_begin("conflicting updates on two brokers: one wins each round, digests agree");
    collab_client_t *coord = it_client(&A, "coordinator1", true);
    collab_client_t *wa = it_client(&A, "worker1", true);
    collab_client_t *wb = it_client(&B, "worker1", false);
    if (!CHECK(coord && wa && wb))
        goto out;
    collab_client_set_session(wb, collab_client_session(wa)); /* one session, two brokers */
    uint64_t project = it_create_project(coord, "contested");
    static uint64_t task[ROUNDS];
    for (int i = 0; i < ROUNDS; i++)
        if (!(task[i] = it_assign_task(coord, project, "worker1", "contested task")))
            goto out;
    char d0[65];
    uint64_t refused_a0 = 0, refused_b0 = 0;
    CHECK_OK(stats(&A, d0, &refused_a0));
    CHECK_OK(stats(&B, d0, &refused_b0));

    int wins_a = 0, wins_b = 0, both = 0, neither = 0;
    for (int i = 0; i < ROUNDS; i++) {
        uint8_t buf[128];
        char id[24];
        size_t len =
            it_pack(buf, sizeof buf, "task_id", it_u(id, task[i]), "status", "s:in_progress", NULL);
        /* the barrier: both requests are on the wire before either reply is read */
        uint64_t ida = collab_client_send(wa, "update_task_status", buf, len);
        uint64_t idb = collab_client_send(wb, "update_task_status", buf, len);
        collab_reply_t ra, rb;
        uint64_t got_a = 0, got_b = 0;
        int rca = collab_client_next_reply(wa, &got_a, &ra, 5000);
        int rcb = collab_client_next_reply(wb, &got_b, &rb, 5000);
        if (!CHECK(rca == 0 && rcb == 0 && got_a == ida && got_b == idb)) {
            collab_reply_free(&ra);
            collab_reply_free(&rb);
            goto out;
        }
        bool ok_a = ra.ok, ok_b = rb.ok;
        wins_a += ok_a && !ok_b;
        wins_b += ok_b && !ok_a;
        both += ok_a && ok_b;
        neither += !ok_a && !ok_b;
        if (!ok_a)
            CHECK_EQ_INT(ra.code, COLLAB_E_CONFLICT);
        if (!ok_b)
            CHECK_EQ_INT(rb.code, COLLAB_E_CONFLICT);
        collab_reply_free(&ra);
        collab_reply_free(&rb);
    }
    CHECK_EQ_INT(both, 0);
    CHECK_EQ_INT(neither, 0);
    CHECK_EQ_INT(wins_a + wins_b, ROUNDS);
    fprintf(stderr, "  %d rounds: A won %d, B won %d\n", ROUNDS, wins_a, wins_b);

    /* both in flight at once: the loser's change was refused at commit, not by its tables */
    char da[65] = "", db[65] = "";
    uint64_t refused_a = 0, refused_b = 0;
    uint64_t deadline = it_now_ms() + 5000;
    do { /* B applies A's last entries within a round trip: wait for it, bounded */
        CHECK_OK(stats(&A, da, &refused_a));
        CHECK_OK(stats(&B, db, &refused_b));
    } while (strcmp(da, db) != 0 && it_now_ms() < deadline);
    uint64_t in_flight = (refused_a - refused_a0) + (refused_b - refused_b0);
    fprintf(stderr, "  decided at commit (both in flight): %llu\n", (unsigned long long)in_flight);
    CHECK(in_flight >= 900);
    CHECK_STR(da, db);
out:
    collab_client_destroy(&coord);
    collab_client_destroy(&wa);
    collab_client_destroy(&wb);
}

static void test_kill_during_burst(void)
{
    it_begin("kill -9 of a broker during a write burst: every acknowledged write is on B");
    enum { BURST = 900, KILL_AFTER = 20 }; /* below the socket's send high-water mark */
    collab_client_t *on_a = it_client(&A, "coordinator1", true);
    collab_client_t *on_b = it_client(&B, "coordinator1", false);
    if (!CHECK(on_a && on_b))
        goto out;
    collab_client_set_session(on_b, collab_client_session(on_a));
    static uint64_t acked[BURST];
    size_t nacked = 0;
    for (int i = 0; i < BURST; i++) { /* all on the wire: A works through them as it dies */
        uint8_t buf[96];
        char name[48];
        snprintf(name, sizeof name, "s:burst %d", i);
        size_t len = it_pack(buf, sizeof buf, "name", name, NULL);
        if (!CHECK(collab_client_send(on_a, "create_project", buf, len) != 0))
            goto out;
    }
    bool killed = false;
    for (;;) {
        uint64_t id = 0;
        collab_reply_t r;
        if (collab_client_next_reply(on_a, &id, &r, killed ? 500 : 5000) != 0)
            break;             /* A is gone: what it answered is all it acknowledged */
        CHECK(r.ok || killed); /* before the kill, every write is acknowledged */
        if (r.ok)
            acked[nacked++] = it_u64(&r, "project_id");
        collab_reply_free(&r);
        if (!killed && nacked == KILL_AFTER) {
            broker_kill9(&A);
            killed = true;
        }
    }
    CHECK(killed);
    fprintf(stderr, "  %zu of %d writes acknowledged before the kill\n", nacked, BURST);
    CHECK(nacked >= KILL_AFTER && nacked < BURST);
    /* each acknowledged project, read through B (which applies A's last entries within a
       round trip of its tail: bounded by a deadline, read by read) */
    size_t found = 0;
    uint64_t deadline = it_now_ms() + 5000;
    for (size_t i = 0; i < nacked; i++) {
        char id[24];
        int rc;
        while ((rc = it_call(on_b, NULL, "get_project", "project_id", it_u(id, acked[i]), NULL)) ==
                   COLLAB_E_NOT_FOUND &&
               it_now_ms() < deadline)
            ;
        found += rc == 0;
    }
    CHECK_EQ_U64(found, nacked);
out:
    collab_client_destroy(&on_a);
    collab_client_destroy(&on_b);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: test_cluster COLLAB_BROKER CREDENTIALS\n");
        return 2;
    }
    broker_init(&A, argv[1], argv[2]);
    broker_init(&B, argv[1], argv[2]);
    if (!CHECK(start_cluster() == 0)) {
        broker_cleanup(&A);
        broker_cleanup(&B);
        redisproc_stop(&R);
        return it_exit("test_cluster");
    }
    test_session_on_both();
    test_events_across();
    test_conflicts();
    test_kill_during_burst(); /* last: it kills A */
    broker_cleanup(&A);
    broker_cleanup(&B);
    redisproc_stop(&R);
    return it_exit("test_cluster");
}
