/*  test_broker_ratelimit.c: LAB.md control 10 against live brokers. With rate_limit=strong
    (agent 5/s burst 5, peer 10/s burst 10, the login and anonymous budgets left to the
    peer values): a flood of 200 pipelined requests by one agent over several connections
    from 127.0.0.2 is mostly refused with rate_limited and a retry-after, while an agent at
    127.0.0.1 keeps being served; a login flood is refused before any hashing (the pool's
    job counter); bad logins under an agent's name leave its session served; malformed and
    unauthenticated traffic spends its address's anonymous budget, not its logins;
    refusals are audited in bulk, not one line each. Under stage2 every request of the
    same flood is served. Nothing sleeps: a wait the broker asks for is a poll timeout. */
#include "itest.h"
#include "collab_clock.h"

static broker_proc_t RL, WEAK, SLOW;        /* SLOW: an address regains a token every 10 s */
static collab_client_t *ADMIN_RL, *ADMIN_W; /* from 127.0.0.9: the counters */

enum { FLOOD = 200, CONNS = 4 };

/*  "tcp://SRC:0;127.0.0.1:PORT": a raw DEALER from the loopback address src. */
static zsock_t *raw_from(const broker_proc_t *b, const char *src)
{
    char ep[128];
    snprintf(ep, sizeof ep, "tcp://%s:0;127.0.0.1:%d", src, b->port);
    return it_raw_new(ep);
}

/*  A login over a raw socket; returns its code and, when ok, the session id. */
static int raw_login(zsock_t *s, uint64_t id, const char *agent, const char *password, char *sid,
                     size_t cap)
{
    static it_msg_t m;
    uint8_t pay[128];
    it_req_t q = {.request_id = id, .action = "login", .agent_id = agent};
    q.payload = pay;
    q.payload_len = it_pack(pay, sizeof pay, "password", password, NULL);
    int rc = it_raw_call(s, &q, &m);
    collab_span_t v = {"", 0};
    if (rc == 0 && sid && collab_map_str(&m.data, "session_id", &v) == 0 && v.len < cap)
        snprintf(sid, cap, "%.*s", (int)v.len, v.ptr);
    return rc;
}

/*  A logged-in client of agent connecting from the loopback address src. */
static collab_client_t *client_from(const broker_proc_t *b, const char *agent, const char *src)
{
    char ep[128], err[256];
    snprintf(ep, sizeof ep, "tcp://%s:0;127.0.0.1:%d", src, b->port);
    collab_client_opts_t o = {
        .endpoint = ep, .agent_id = agent, .password = it_password(agent), .timeout_ms = 5000};
    o.has_key = collab_client_load_key(b->creds, agent, o.key, err, sizeof err) == 0;
    collab_client_t *c = collab_client_new(&o);
    if (c && !CHECK(collab_client_login(c) == 0))
        collab_client_destroy(&c);
    return c;
}

/*  An admin counter. The admin's requests draw on its own agent budget only (5, and the
    tests ask at most 4 times), so it is never refused. */
static uint64_t stat_of(collab_client_t *admin, const char *key)
{
    collab_reply_t r;
    int rc = it_call(admin, &r, "get_stats", NULL);
    if (!CHECK(rc == 0))
        return UINT64_MAX;
    uint64_t v = it_u64(&r, key);
    collab_reply_free(&r);
    return v;
}

typedef struct {
    int ok, limited, other, missing;
    uint32_t min_retry, max_retry;
    int64_t elapsed_ms;
} tally_t;

/*  Sends FLOOD pipelined heartbeats of agent on session sid round-robin over socks (the
    first chunk right away, the rest in chunks of 50, with legit called between chunks),
    then collects every reply. */
static tally_t flood(zsock_t **socks, int n, const char *agent, const char *sid,
                     collab_client_t *legit, int *legit_ok)
{
    static it_msg_t m;
    uint8_t f[1024];
    tally_t t = {.min_retry = UINT32_MAX};
    int64_t t0 = collab_mono_ms();
    for (int i = 0; i < FLOOD; i++) {
        it_req_t q = {.request_id = 1 + (uint64_t)i,
                      .action = "heartbeat",
                      .agent_id = agent,
                      .session_id = sid};
        size_t len = it_encode(&q, f, sizeof f);
        CHECK(len > 0 && it_raw_send(socks[i % n], f, len, false) == 0);
        if (legit && i % 50 == 49 && i < FLOOD - 1)
            *legit_ok += it_call(legit, NULL, "heartbeat", NULL) == 0;
    }
    int64_t deadline = collab_mono_ms() + 30000;
    for (int k = 0; k < n; k++) {
        int want = FLOOD / n + (k < FLOOD % n), got = 0;
        while (got < want && collab_mono_ms() < deadline) {
            if (it_raw_recv(socks[k], &m, 1000) != 0)
                continue;
            if (m.env.kind != COLLAB_KIND_REPLY)
                continue;
            got++;
            if (m.env.ok) {
                t.ok++;
            } else if (m.env.error_code == (uint32_t)-COLLAB_E_RATE_LIMITED) {
                uint64_t retry = 0;
                collab_map_uint(&m.data, "retry_after_ms", &retry);
                t.limited++;
                t.min_retry = retry < t.min_retry ? (uint32_t)retry : t.min_retry;
                t.max_retry = retry > t.max_retry ? (uint32_t)retry : t.max_retry;
            } else {
                t.other++;
            }
        }
    }
    t.missing = FLOOD - t.ok - t.limited - t.other;
    t.elapsed_ms = collab_mono_ms() - t0;
    fprintf(stderr, "  %s flood: %d ok, %d rate_limited (retry %u..%u ms), %d other, %lld ms\n",
            agent, t.ok, t.limited, t.limited ? t.min_retry : 0, t.max_retry, t.other,
            (long long)t.elapsed_ms);
    return t;
}

static void test_flood(void)
{
    it_begin("request flood from 127.0.0.2, rate_limit=strong");
    zsock_t *socks[CONNS] = {0};
    char sid[COLLAB_MAX_SESSION_ID + 1] = "";
    collab_client_t *legit = it_client(&RL, "coordinator1", true); /* from 127.0.0.1 */
    collab_client_t *admin = ADMIN_RL;
    for (int i = 0; i < CONNS; i++)
        socks[i] = raw_from(&RL, "127.0.0.2");
    if (!legit || !admin || !socks[CONNS - 1] ||
        !CHECK(raw_login(socks[0], 9, "worker1", it_password("worker1"), sid, sizeof sid) == 0))
        goto out;
    uint64_t limited0 = stat_of(admin, "rate_limited");
    int lines0 = broker_seclog_count(&RL, "\"rate_limited\"");
    int legit_ok = 0;
    tally_t t = flood(socks, CONNS, "worker1", sid, legit, &legit_ok);
    CHECK_EQ_INT(legit_ok, 3); /* served all along */
    CHECK_OK(it_call(legit, NULL, "heartbeat", NULL));
    CHECK_EQ_INT(t.missing, 0);
    CHECK_EQ_INT(t.other, 0);
    /* worker1 had its 5 tokens (its login spent its name's login budget, not them) and
       regains 5 a second; no address budget applies to a session's requests */
    int most = 5 + (int)(5 * t.elapsed_ms / 1000) + 1;
    CHECK(t.ok >= 1 && t.ok <= most);
    CHECK(t.limited >= FLOOD - most);
    CHECK(t.limited > 0 && t.min_retry > 0 && t.max_retry <= 200);
    CHECK_EQ_U64(stat_of(admin, "rate_limited") - limited0, (uint64_t)t.limited);
    /* in bulk: about one line a second per bucket, not one per refusal */
    int lines = broker_seclog_count(&RL, "\"rate_limited\"") - lines0;
    fprintf(stderr, "  %d security-log lines for %d refusals\n", lines, t.limited);
    CHECK(lines >= 1 && lines <= 2 * (int)(t.elapsed_ms / 1000 + 2));
    /* the retry-after means it: waiting that long is enough */
    static it_msg_t m;
    it_req_t q = {
        .request_id = 777, .action = "heartbeat", .agent_id = "worker1", .session_id = sid};
    int rc = it_raw_call(socks[1], &q, &m);
    uint64_t retry = 0;
    if (rc == COLLAB_E_RATE_LIMITED &&
        CHECK(collab_map_uint(&m.data, "retry_after_ms", &retry) == 0)) {
        int64_t until = collab_mono_ms() + (int64_t)retry; /* waited out on poll timeouts */
        for (int64_t now = collab_mono_ms(); now < until; now = collab_mono_ms())
            zmq_poll(NULL, 0, (long)(until - now));
        q.request_id = 778;
        rc = it_raw_call(socks[2], &q, &m);
    }
    CHECK_OK(rc);
out:
    for (int i = 0; i < CONNS; i++)
        zsock_destroy(&socks[i]);
    collab_client_destroy(&legit);
}

/*  Logins are limited before they reach the hashing pool: of 200 pipelined logins from
    127.0.0.3 (over five agents, so that the address's login budget is the binding one),
    only about its burst (rate_limit.login_burst, left to the peer's 10) are hashed. */
static void test_login_flood(void)
{
    it_begin("login flood from 127.0.0.3, rate_limit=strong");
    static const char *const agents[] = {"worker4", "worker5", "worker6", "worker7", "worker8"};
    static it_msg_t m;
    collab_client_t *admin = ADMIN_RL;
    zsock_t *s = raw_from(&RL, "127.0.0.3");
    if (!admin || !s)
        goto out;
    uint64_t jobs0 = stat_of(admin, "hash_jobs");
    int64_t t0 = collab_mono_ms();
    uint8_t f[1024], pay[128];
    for (int i = 0; i < FLOOD; i++) {
        it_req_t q = {.request_id = 1 + (uint64_t)i, .action = "login", .agent_id = agents[i % 5]};
        q.payload = pay;
        q.payload_len = it_pack(pay, sizeof pay, "password", "not the password", NULL);
        size_t len = it_encode(&q, f, sizeof f);
        CHECK(len > 0 && it_raw_send(s, f, len, false) == 0);
    }
    int failed = 0, limited = 0, other = 0;
    while (failed + limited + other < FLOOD && it_raw_recv(s, &m, 10000) == 0) {
        if (m.env.kind != COLLAB_KIND_REPLY)
            continue;
        int rc = m.env.ok ? 0 : -(int)m.env.error_code;
        failed += rc == COLLAB_E_AUTH_FAILED;
        limited += rc == COLLAB_E_RATE_LIMITED;
        other += rc != COLLAB_E_AUTH_FAILED && rc != COLLAB_E_RATE_LIMITED;
    }
    int64_t elapsed = collab_mono_ms() - t0;
    uint64_t jobs = stat_of(admin, "hash_jobs") - jobs0;
    fprintf(stderr,
            "  login flood: %d hashed and failed, %d rate_limited, %llu hash jobs, %lld ms\n",
            failed, limited, (unsigned long long)jobs, (long long)elapsed);
    CHECK_EQ_INT(failed + limited, FLOOD);
    CHECK_EQ_INT(other, 0);
    CHECK_EQ_U64(jobs, (uint64_t)failed); /* every refused login cost no hashing */
    CHECK(jobs >= 1 && jobs <= 10 + (uint64_t)(10 * elapsed / 1000) + 1);
    /* another address is not affected */
    collab_client_t *c = it_client(&RL, "worker2", true);
    CHECK(c != NULL);
    collab_client_destroy(&c);
out:
    zsock_destroy(&s);
}

/*  Bad logins under a logged-in agent's name spend that name's login budget (5), not the
    agent's own: from another address they are refused with rate_limited after 5, while
    the agent's session keeps its 5 tokens. (Before issue 13 both were one budget, and
    the agent's heartbeats were refused.) */
static void test_bad_logins_spare_the_session(void)
{
    it_begin("bad logins under a logged-in agent's name, rate_limit=strong");
    static it_msg_t m;
    collab_client_t *c = it_client(&RL, "coordinator2", true); /* from 127.0.0.1 */
    zsock_t *s = raw_from(&RL, "127.0.0.6");
    uint8_t f[1024], pay[128];
    if (!c || !s)
        goto out;
    for (int i = 0; i < 20; i++) {
        it_req_t q = {.request_id = 1 + (uint64_t)i, .action = "login", .agent_id = "coordinator2"};
        q.payload = pay;
        q.payload_len = it_pack(pay, sizeof pay, "password", "not the password", NULL);
        size_t len = it_encode(&q, f, sizeof f);
        CHECK(len > 0 && it_raw_send(s, f, len, false) == 0);
    }
    int failed = 0, limited = 0;
    for (int got = 0; got < 20 && it_raw_recv(s, &m, 10000) == 0;) {
        if (m.env.kind != COLLAB_KIND_REPLY)
            continue;
        got++;
        failed += !m.env.ok && -(int)m.env.error_code == COLLAB_E_AUTH_FAILED;
        limited += !m.env.ok && -(int)m.env.error_code == COLLAB_E_RATE_LIMITED;
    }
    fprintf(stderr, "  20 bad logins of coordinator2: %d auth_failed, %d rate_limited\n", failed,
            limited);
    CHECK_EQ_INT(failed + limited, 20);
    CHECK(failed >= 4 && failed <= 6); /* its name's burst (its own login took one) */
    int ok = 0;
    for (int i = 0; i < 5; i++)
        ok += it_call(c, NULL, "heartbeat", NULL) == 0;
    CHECK_EQ_INT(ok, 5);
out:
    zsock_destroy(&s);
    collab_client_destroy(&c);
}

/*  Sends n copies of bytes and then a login of agent (request id 1), pipelined from one
    socket, and collects the n answers (counted in *codes by error) and the login's. */
static int burst_then_login(zsock_t *s, const void *bytes, size_t len, int n, int want_each)
{
    static it_msg_t m;
    uint8_t f[1024], pay[128];
    for (int i = 0; i < n; i++)
        CHECK(it_raw_send(s, bytes, len, false) == 0);
    it_req_t q = {.request_id = 1, .action = "login", .agent_id = "worker3"};
    q.payload = pay;
    q.payload_len = it_pack(pay, sizeof pay, "password", it_password("worker3"), NULL);
    size_t flen = it_encode(&q, f, sizeof f);
    CHECK(flen > 0 && it_raw_send(s, f, flen, false) == 0);
    int each = 0, login = COLLAB_E_TIMEOUT;
    for (int got = 0; got < n + 1 && it_raw_recv(s, &m, 5000) == 0;) {
        if (m.env.kind != COLLAB_KIND_REPLY)
            continue;
        got++;
        int rc = m.env.ok ? 0 : -(int)m.env.error_code;
        if (m.env.request_id == 1) {
            login = rc;
            uint64_t retry = 0;
            CHECK(rc != COLLAB_E_RATE_LIMITED ||
                  (collab_map_uint(&m.data, "retry_after_ms", &retry) == 0 && retry > 0));
        } else {
            each += rc == want_each;
        }
    }
    CHECK_EQ_INT(each, n);
    return login;
}

/*  Traffic that never authenticates spends its address's anonymous budget: after a burst
    of garbage (answered malformed) or of bogus sessions (answered session_invalid, and not
    audited line by line once that budget is spent), each address is audited in bulk. Its
    logins have their own budget: an agent behind that address still logs in. (Before
    issue 13 every budget was one per address, and these logins were rate_limited.) */
static void test_unauthenticated_costs(void)
{
    it_begin("malformed and unauthenticated traffic, rate_limit=strong");
    zsock_t *junk = raw_from(&SLOW, "127.0.0.4"), *bogus = raw_from(&SLOW, "127.0.0.5");
    uint8_t f[1024];
    if (!junk || !bogus)
        goto out;
    CHECK_OK(burst_then_login(junk, "not msgpack", 11, 20, COLLAB_E_MALFORMED));
    int refused0 = broker_seclog_count(&SLOW, "\"request_refused\"");
    it_req_t q = {.request_id = 100,
                  .action = "heartbeat",
                  .agent_id = "worker3",
                  .session_id = "no-such-session"};
    size_t len = it_encode(&q, f, sizeof f);
    CHECK_OK(burst_then_login(bogus, f, len, 30, COLLAB_E_SESSION_INVALID));
    int lines = broker_seclog_count(&SLOW, "\"request_refused\"") - refused0;
    fprintf(stderr, "  30 bogus sessions: %d request_refused lines\n", lines);
    CHECK_EQ_INT(lines, 1); /* the budget's worth: the first in full, the rest counted */
    CHECK_EQ_INT(broker_seclog_count(&SLOW, "unauthenticated_over_budget"), 2); /* one each */
    /* the agent itself is not to blame: from 127.0.0.1 it logs in */
    collab_client_t *c = it_client(&SLOW, "worker3", true);
    CHECK(c != NULL);
    collab_client_destroy(&c);
out:
    zsock_destroy(&junk);
    zsock_destroy(&bogus);
}

/*  The deliberate weakness: stage2 does the work of every flood request. */
static void test_stage2_flood(void)
{
    it_begin("request and login flood, stage2");
    zsock_t *socks[CONNS] = {0};
    char sid[COLLAB_MAX_SESSION_ID + 1] = "";
    collab_client_t *legit = it_client(&WEAK, "coordinator1", true);
    collab_client_t *admin = ADMIN_W;
    for (int i = 0; i < CONNS; i++)
        socks[i] = raw_from(&WEAK, "127.0.0.2");
    if (!legit || !admin || !socks[CONNS - 1] ||
        !CHECK(raw_login(socks[0], 9, "worker1", it_password("worker1"), sid, sizeof sid) == 0))
        goto out;
    int legit_ok = 0;
    tally_t t = flood(socks, CONNS, "worker1", sid, legit, &legit_ok);
    CHECK_EQ_INT(t.ok, FLOOD);
    CHECK_EQ_INT(legit_ok, 3);
    CHECK_EQ_U64(stat_of(admin, "rate_limited"), 0);
    /* and every login is hashed */
    uint64_t jobs0 = stat_of(admin, "hash_jobs");
    int failed = 0;
    for (int i = 0; i < 30; i++)
        failed += raw_login(socks[1], 1000 + (uint64_t)i, "worker4", "wrong", NULL, 0) ==
                  COLLAB_E_AUTH_FAILED;
    CHECK_EQ_INT(failed, 30);
    CHECK_EQ_U64(stat_of(admin, "hash_jobs") - jobs0, 30);
out:
    for (int i = 0; i < CONNS; i++)
        zsock_destroy(&socks[i]);
    collab_client_destroy(&legit);
}

static int start(broker_proc_t *b, const char *exe, const char *creds, const char *const *extra)
{
    return broker_init(b, exe, creds) == 0 && CHECK(broker_start(b, extra) == 0) ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    const char *const rl[] = {
        "--set", "rate_limit=strong",        "--set", "rate_limit.agent_per_s=5",
        "--set", "rate_limit.agent_burst=5", "--set", "rate_limit.peer_per_s=10",
        "--set", "rate_limit.peer_burst=10", NULL};
    const char *const slow[] = {
        "--set", "rate_limit=strong",        "--set", "rate_limit.peer_per_s=0.1",
        "--set", "rate_limit.peer_burst=10", NULL};
    if (start(&RL, argv[1], argv[2], rl) == 0 && start(&WEAK, argv[1], argv[2], NULL) == 0 &&
        start(&SLOW, argv[1], argv[2], slow) == 0 &&
        (ADMIN_RL = client_from(&RL, "admin", "127.0.0.9")) != NULL &&
        (ADMIN_W = client_from(&WEAK, "admin", "127.0.0.9")) != NULL) {
        test_flood();
        test_login_flood();
        test_bad_logins_spare_the_session();
        test_unauthenticated_costs();
        test_stage2_flood();
    }
    collab_client_destroy(&ADMIN_RL);
    collab_client_destroy(&ADMIN_W);
    it_stop(&RL);
    broker_cleanup(&RL);
    it_stop(&WEAK);
    broker_cleanup(&WEAK);
    it_stop(&SLOW);
    /* stopped, the broker has written its pending counts: the anonymous budget's worth of
       bogus sessions from 127.0.0.5 (10), in full lines and counts (the rest in bulk) */
    CHECK_EQ_INT(broker_seclog_refusals(&SLOW, "request_refused", "127.0.0.5"), 10);
    broker_cleanup(&SLOW);
    zsys_shutdown();
    return it_exit("test_broker_ratelimit");
}
