/*  test_broker_replay.c: LAB.md control 8 against live brokers. Under replay=strong a
    signed create_project sent again byte for byte, from a new connection, is refused with
    replay and creates nothing (under both signature scopes); its signature under a fresh
    nonce does not verify; a signed request without a nonce gets nonce_missing; a message
    captured before a restart gets stale_timestamp after it; the window is +-60 s. Under
    stage2 the same re-send creates a second project (the deliberate weakness). */
#include "itest.h"

#include <sodium.h>

static broker_proc_t STRONG, FULL, WEAK;
static it_msg_t M;
static uint64_t next_id = 5000;

/*  A signed request as a capture would hold it: the bytes, and their parts. */
typedef struct {
    uint8_t bytes[COLLAB_MAX_FRAME];
    size_t len;
    uint8_t nonce[COLLAB_NONCE_LEN];
    uint8_t sig[COLLAB_SIGNATURE_LEN];
    uint8_t payload[256];
    size_t payload_len;
    collab_envelope_t env; /* spans into the fields above */
} signed_t;

/*  Encodes env as the wire carries it, signed under scope with key unless keep_sig (then
    env.signature is sent as it is). Returns the frame's length, or 0. */
static size_t encode(signed_t *m, collab_scope_t scope, const uint8_t *key, bool keep_sig)
{
    if (!keep_sig) {
        collab_sign(&m->env, scope, key, m->sig);
        m->env.signature = (collab_span_t){(const char *)m->sig, sizeof m->sig};
    }
    m->len = 0;
    return collab_envelope_encode(&m->env, m->bytes, sizeof m->bytes, &m->len) == 0 ? m->len : 0;
}

/*  A signed create_project of agent on session sid, with a fresh nonce unless no_nonce. */
static void make_create(signed_t *m, const char *agent, const char *sid, const char *name,
                        collab_scope_t scope, const uint8_t *key, bool no_nonce)
{
    memset(m, 0, sizeof *m);
    m->payload_len = it_pack(m->payload, sizeof m->payload, "name", name, NULL);
    randombytes_buf(m->nonce, sizeof m->nonce);
    m->env = (collab_envelope_t){.kind = COLLAB_KIND_REQUEST,
                                 .version = COLLAB_PROTOCOL_VERSION,
                                 .request_id = ++next_id,
                                 .action = {"create_project", strlen("create_project")},
                                 .agent_id = {agent, strlen(agent)},
                                 .session_id = {sid, strlen(sid)},
                                 .timestamp = it_now_ms(),
                                 .payload = {(const char *)m->payload, m->payload_len}};
    if (!no_nonce)
        m->env.nonce = (collab_span_t){(const char *)m->nonce, sizeof m->nonce};
    CHECK(encode(m, scope, key, false) > 0);
}

/*  Sends the captured bytes on a new connection and returns the reply's code. */
static int send_fresh(const broker_proc_t *b, const signed_t *m)
{
    zsock_t *s = it_raw_new(b->endpoint);
    if (!CHECK(s))
        return COLLAB_E_IO;
    int rc = it_raw_send(s, m->bytes, m->len, false) == 0
                 ? it_raw_reply(s, m->env.request_id, &M, 5000)
                 : COLLAB_E_IO;
    zsock_destroy(&s);
    return rc;
}

static uint64_t stat_of(const broker_proc_t *b, const char *key)
{
    collab_client_t *a = it_client(b, "admin", true);
    collab_reply_t r;
    uint64_t v = UINT64_MAX;
    if (a && CHECK(it_call(a, &r, "get_stats", NULL) == 0)) {
        v = it_u64(&r, key);
        collab_reply_free(&r);
    }
    collab_client_destroy(&a);
    return v;
}

/*  The client library reads the controls from the login reply and signs with nonces. */
static void test_client_adapts(void)
{
    it_begin("client under replay=strong");
    collab_client_t *c = it_client(&STRONG, "coordinator1", true);
    if (!c)
        return;
    const collab_controls_t *k = collab_client_controls(c);
    CHECK(k->replay_protection);
    CHECK_EQ_INT(k->window_s, 60);
    uint64_t before = it_project_total(c);
    for (int i = 0; i < 5; i++)
        CHECK(it_create_project(c, "honest retry-free project") > 0);
    CHECK_EQ_U64(it_project_total(c), before + 5);
    collab_client_destroy(&c);
}

/*  The `replay` attack of the lab: a captured signed create_project re-sent from a new
    connection. */
static void check_resend(broker_proc_t *b, collab_scope_t scope, bool strong)
{
    uint8_t key[COLLAB_KEY_LEN];
    it_key(b, "coordinator1", key);
    collab_client_t *c = it_client(b, "coordinator1", true);
    static signed_t m;
    if (!c)
        return;
    uint64_t total = it_project_total(c);
    int replays = broker_seclog_count(b, "\"replay\"");
    make_create(&m, "coordinator1", collab_client_session(c), "captured", scope, key, false);
    CHECK_OK(send_fresh(b, &m)); /* the victim's own request */
    CHECK_EQ_U64(it_project_total(c), total + 1);
    int rc = send_fresh(b, &m); /* the attacker's copy */
    if (strong) {
        CHECK_RC(rc, COLLAB_E_REPLAY);
        CHECK_EQ_U64(it_project_total(c), total + 1);
        CHECK_EQ_INT(broker_seclog_count(b, "\"replay\""), replays + 1);
        CHECK_RC(send_fresh(b, &m), COLLAB_E_REPLAY); /* and again */
    } else {
        CHECK_OK(rc);
        CHECK_EQ_U64(it_project_total(c), total + 2); /* a duplicate project */
        CHECK_EQ_INT(broker_seclog_count(b, "\"replay\""), 0);
    }
    collab_client_destroy(&c);
}

static void test_resend(void)
{
    it_begin("re-sent create_project, replay=strong");
    check_resend(&STRONG, COLLAB_SCOPE_WEAK, true);
    uint64_t replays = stat_of(&STRONG, "replays");
    CHECK(replays >= 2 && replays != UINT64_MAX);
    it_begin("re-sent create_project, replay=strong, signature_scope=strong");
    check_resend(&FULL, COLLAB_SCOPE_FULL, true);
    it_begin("re-sent create_project, stage2");
    check_resend(&WEAK, COLLAB_SCOPE_WEAK, false);
    CHECK_EQ_U64(stat_of(&WEAK, "replays"), 0);
}

/*  Under the full scope every request is signed, so even a heartbeat is single-use. */
static void test_full_scope_heartbeat(void)
{
    it_begin("re-sent heartbeat, full scope");
    uint8_t key[COLLAB_KEY_LEN];
    it_key(&FULL, "worker1", key);
    collab_client_t *c = it_client(&FULL, "worker1", true);
    static signed_t m;
    if (!c)
        return;
    const char *sid = collab_client_session(c);
    memset(&m, 0, sizeof m);
    randombytes_buf(m.nonce, sizeof m.nonce);
    m.env = (collab_envelope_t){.kind = COLLAB_KIND_REQUEST,
                                .version = COLLAB_PROTOCOL_VERSION,
                                .request_id = ++next_id,
                                .action = {"heartbeat", 9},
                                .agent_id = {"worker1", 7},
                                .session_id = {sid, strlen(sid)},
                                .timestamp = it_now_ms(),
                                .nonce = {(const char *)m.nonce, sizeof m.nonce}};
    CHECK(encode(&m, COLLAB_SCOPE_FULL, key, false) > 0);
    CHECK_OK(send_fresh(&FULL, &m));
    CHECK_RC(send_fresh(&FULL, &m), COLLAB_E_REPLAY);
    CHECK_OK(it_call(c, NULL, "heartbeat", NULL)); /* the client's own, fresh nonces */
    CHECK_OK(it_call(c, NULL, "heartbeat", NULL));
    collab_client_destroy(&c);
}

/*  The nonce is inside the signed bytes: a captured signature under a fresh nonce does
    not verify, under either profile. Without a nonce the strong broker refuses. */
static void check_forged_nonce(broker_proc_t *b, bool strong)
{
    uint8_t key[COLLAB_KEY_LEN];
    it_key(b, "coordinator1", key);
    collab_client_t *c = it_client(b, "coordinator1", true);
    static signed_t m;
    if (!c)
        return;
    uint64_t total = it_project_total(c);
    make_create(&m, "coordinator1", collab_client_session(c), "nonce swap", COLLAB_SCOPE_WEAK, key,
                false);
    CHECK_OK(send_fresh(b, &m));
    randombytes_buf(m.nonce, sizeof m.nonce); /* env.nonce points at it */
    m.env.request_id = ++next_id;
    CHECK(encode(&m, COLLAB_SCOPE_WEAK, key, true) > 0);
    CHECK_RC(send_fresh(b, &m), COLLAB_E_BAD_SIGNATURE);
    m.env.nonce = (collab_span_t){NULL, 0}; /* and no nonce at all */
    m.env.request_id = ++next_id;
    CHECK(encode(&m, COLLAB_SCOPE_WEAK, key, true) > 0);
    CHECK_RC(send_fresh(b, &m), COLLAB_E_BAD_SIGNATURE);
    CHECK_EQ_U64(it_project_total(c), total + 1);
    /* properly signed without a nonce */
    make_create(&m, "coordinator1", collab_client_session(c), "no nonce", COLLAB_SCOPE_WEAK, key,
                true);
    CHECK_RC(send_fresh(b, &m), strong ? COLLAB_E_NONCE_MISSING : 0);
    CHECK_EQ_U64(it_project_total(c), total + (strong ? 1 : 2));
    /* an unsigned action needs no nonce (weak scope) */
    it_req_t q = {.request_id = ++next_id,
                  .action = "heartbeat",
                  .agent_id = "coordinator1",
                  .session_id = collab_client_session(c)};
    zsock_t *raw = it_raw_new(b->endpoint);
    CHECK_OK(it_raw_call(raw, &q, &M));
    zsock_destroy(&raw);
    collab_client_destroy(&c);
}

static void test_forged_nonce(void)
{
    it_begin("signature under another nonce, nonce missing, replay=strong");
    check_forged_nonce(&STRONG, true);
    it_begin("signature under another nonce, nonce missing, stage2");
    check_forged_nonce(&WEAK, false);
}

/*  +-60 s under the strong control, +-30 min under stage2. */
static void test_window(void)
{
    it_begin("timestamp window");
    uint8_t key[COLLAB_KEY_LEN];
    it_key(&STRONG, "coordinator1", key);
    collab_client_t *s = it_client(&STRONG, "coordinator1", true);
    collab_client_t *w = it_client(&WEAK, "coordinator1", true);
    static signed_t m;
    if (!s || !w)
        goto out;
    static const int64_t skew_s[] = {-61, 61, -1500, 1500, -1900};
    for (size_t i = 0; i < sizeof skew_s / sizeof skew_s[0]; i++) {
        bool in_weak = skew_s[i] > -1800 && skew_s[i] < 1800;
        for (int k = 0; k < 2; k++) {
            broker_proc_t *b = k ? &WEAK : &STRONG;
            make_create(&m, "coordinator1", collab_client_session(k ? w : s), "skewed",
                        COLLAB_SCOPE_WEAK, key, false);
            m.env.timestamp = (uint64_t)((int64_t)it_now_ms() + skew_s[i] * 1000);
            CHECK(encode(&m, COLLAB_SCOPE_WEAK, key, false) > 0);
            CHECK_RC(send_fresh(b, &m), k && in_weak ? 0 : COLLAB_E_STALE_TIMESTAMP);
        }
    }
out:
    collab_client_destroy(&w);
    collab_client_destroy(&s);
}

/*  A restart forgets the cache but not the rule: anything timestamped before the broker
    started is stale, though well inside the 60 s window. The session survives the
    restart (it is in the state file), so only the replay defence stands in the way. */
static void test_restart(void)
{
    it_begin("capture before a restart, replay=strong");
    uint8_t key[COLLAB_KEY_LEN];
    it_key(&STRONG, "coordinator1", key);
    collab_client_t *c = it_client(&STRONG, "coordinator1", true);
    static signed_t seen, unseen;
    char sid[COLLAB_MAX_SESSION_ID + 1];
    if (!c)
        return;
    snprintf(sid, sizeof sid, "%s", collab_client_session(c));
    uint64_t total = it_project_total(c);
    make_create(&seen, "coordinator1", sid, "before restart", COLLAB_SCOPE_WEAK, key, false);
    make_create(&unseen, "coordinator1", sid, "never sent", COLLAB_SCOPE_WEAK, key, false);
    CHECK_OK(send_fresh(&STRONG, &seen));
    collab_client_destroy(&c);
    it_stop(&STRONG);
    if (!CHECK(broker_restart(&STRONG) == 0))
        return;
    CHECK(it_now_ms() - seen.env.timestamp < 60000);
    CHECK_RC(send_fresh(&STRONG, &seen), COLLAB_E_STALE_TIMESTAMP);
    CHECK_RC(send_fresh(&STRONG, &unseen), COLLAB_E_STALE_TIMESTAMP);
    /* the session itself is fine: a fresh request on it is served */
    make_create(&seen, "coordinator1", sid, "after restart", COLLAB_SCOPE_WEAK, key, false);
    CHECK_OK(send_fresh(&STRONG, &seen));
    c = it_client(&STRONG, "coordinator1", true);
    if (c) /* the first send and the fresh one, not the copies */
        CHECK_EQ_U64(it_project_total(c), total + 2);
    collab_client_destroy(&c);

    it_begin("capture before a restart, stage2");
    c = it_client(&WEAK, "coordinator1", true);
    if (!c)
        return;
    snprintf(sid, sizeof sid, "%s", collab_client_session(c));
    total = it_project_total(c);
    make_create(&seen, "coordinator1", sid, "before restart", COLLAB_SCOPE_WEAK, key, false);
    CHECK_OK(send_fresh(&WEAK, &seen));
    collab_client_destroy(&c);
    it_stop(&WEAK);
    if (!CHECK(broker_restart(&WEAK) == 0))
        return;
    CHECK_OK(send_fresh(&WEAK, &seen));
    c = it_client(&WEAK, "coordinator1", true);
    if (c)
        CHECK_EQ_U64(it_project_total(c), total + 2);
    collab_client_destroy(&c);
}

static int start(broker_proc_t *b, const char *exe, const char *creds, const char *const *extra)
{
    return broker_init(b, exe, creds) == 0 && CHECK(broker_start(b, extra) == 0) ? 0 : -1;
}

int main(int argc, char **argv)
{
    if (argc < 3 || sodium_init() < 0)
        return 2;
    const char *const strong[] = {"--set", "replay=strong", NULL};
    const char *const full[] = {"--set", "replay=strong", "--set", "signature_scope=strong", NULL};
    if (start(&STRONG, argv[1], argv[2], strong) == 0 &&
        start(&FULL, argv[1], argv[2], full) == 0 && start(&WEAK, argv[1], argv[2], NULL) == 0) {
        test_client_adapts();
        test_resend();
        test_full_scope_heartbeat();
        test_forged_nonce();
        test_window();
        test_restart();
    }
    broker_proc_t *all[] = {&STRONG, &FULL, &WEAK};
    for (size_t i = 0; i < 3; i++) {
        it_stop(all[i]);
        broker_cleanup(all[i]);
    }
    zsys_shutdown();
    return it_exit("test_broker_replay");
}
