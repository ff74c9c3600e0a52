/*  test_broker_login.c: agent enumeration (PROTOCOL.md 5.1). Under the strong login control
    an unknown agent, a wrong password and a locked-out agent get byte-identical replies and
    each costs one password verification on the hashing pool; under the weak one an unknown
    agent is refused before any hashing, the documented timing leak. */
#include "itest.h"

static broker_proc_t S, W, R; /* login=strong, stage2 (weak), login and rate_limit strong */
static it_msg_t M;

#define SAME_ID 4242 /* every login below carries this id: the replies must match byte for byte */

/*  One raw login; the reply's frame is copied into out (COLLAB_MAX_FRAME bytes). */
static int raw_login(zsock_t *raw, const char *agent, const char *password, uint8_t *out,
                     size_t *out_len)
{
    uint8_t pay[320];
    it_req_t q = {.request_id = SAME_ID, .action = "login", .agent_id = agent, .session_id = ""};
    q.payload = pay;
    q.payload_len = it_pack(pay, sizeof pay, "password", password, NULL);
    int rc = it_raw_call(raw, &q, &M);
    *out_len = 0;
    if (rc != COLLAB_E_TIMEOUT && M.len <= COLLAB_MAX_FRAME) {
        memcpy(out, M.bytes, M.len);
        *out_len = M.len;
    }
    return rc;
}

static uint64_t verified(collab_client_t *admin)
{
    collab_reply_t r;
    int rc = it_call(admin, &r, "get_stats", NULL);
    CHECK_OK(rc);
    if (rc)
        return UINT64_MAX;
    uint64_t v = it_u64(&r, "hash_verified");
    CHECK(collab_map_find(&r.map, "hash_verified") != NULL);
    collab_reply_free(&r);
    return v;
}

static uint8_t unknown[COLLAB_MAX_FRAME], wrong[COLLAB_MAX_FRAME], locked[COLLAB_MAX_FRAME];

static void test_strong_indistinguishable(void)
{
    it_begin("strong login: unknown, wrong password, locked out answer alike, same hashing");
    collab_client_t *admin = it_client(&S, "admin", true);
    zsock_t *raw = it_raw_new(S.endpoint);
    size_t nu = 0, nw = 0, nl = 0, scratch_len;
    uint8_t *scratch = malloc(COLLAB_MAX_FRAME);
    if (!CHECK(admin && raw && scratch))
        goto out;
    uint64_t v0 = verified(admin);
    CHECK_RC(raw_login(raw, "nobody_here", "guess", unknown, &nu), COLLAB_E_AUTH_FAILED);
    CHECK_EQ_U64(verified(admin), v0 + 1); /* the dummy hash was verified on the pool */
    CHECK_RC(raw_login(raw, "worker2", "guess", wrong, &nw), COLLAB_E_AUTH_FAILED);
    CHECK_EQ_U64(verified(admin), v0 + 2);
    /* the lockout threshold (5) of wrong passwords, then the right password, too late */
    for (int i = 0; i < 5; i++)
        CHECK_RC(raw_login(raw, "worker3", "guess", scratch, &scratch_len), COLLAB_E_AUTH_FAILED);
    CHECK(broker_seclog_count(&S, "\"lockout\"") == 1);
    uint64_t v1 = verified(admin);
    CHECK_RC(raw_login(raw, "worker3", it_password("worker3"), locked, &nl), COLLAB_E_AUTH_FAILED);
    CHECK_EQ_U64(verified(admin), v1 + 1); /* the locked-out login was hashed all the same */
    CHECK(broker_seclog_count(&S, "\"login_locked_out\"") == 1); /* the log still tells */
    CHECK(nu > 0 && nu == nw && nu == nl);
    CHECK(nu > 0 && memcmp(unknown, wrong, nu) == 0 && memcmp(unknown, locked, nu) == 0);
    CHECK(broker_seclog_count(&S, "\"unknown_agent\"") == 1);
out:
    free(scratch);
    zsock_destroy(&raw);
    collab_client_destroy(&admin);
}

static void test_weak_unknown_skips_hash(void)
{
    it_begin("weak login: an unknown agent is refused without hashing (documented leak)");
    collab_client_t *admin = it_client(&W, "admin", true);
    zsock_t *raw = it_raw_new(W.endpoint);
    size_t n;
    if (!CHECK(admin && raw))
        goto out;
    uint64_t v0 = verified(admin);
    CHECK_RC(raw_login(raw, "nobody_here", "guess", unknown, &n), COLLAB_E_AUTH_FAILED);
    CHECK_EQ_U64(verified(admin), v0);
    CHECK_RC(raw_login(raw, "worker2", "guess", wrong, &n), COLLAB_E_AUTH_FAILED);
    CHECK_EQ_U64(verified(admin), v0 + 1);
out:
    zsock_destroy(&raw);
    collab_client_destroy(&admin);
}

/*  With the rate limit strong too, an unknown name has its own bucket like a known agent:
    running it dry takes as many logins for either, so rate_limited tells no one apart. */
static void test_rate_limit_alike(void)
{
    it_begin("strong login and rate limit: known and unknown names run dry alike");
    zsock_t *raw = it_raw_new(R.endpoint);
    static uint8_t scratch[COLLAB_MAX_FRAME];
    size_t n;
    static const char *const names[] = {"worker2", "nobody_here"};
    for (int k = 0; raw && k < 2; k++) {
        int refused_at = 0;
        for (int i = 1; i <= 8 && !refused_at; i++)
            if (raw_login(raw, names[k], "guess", scratch, &n) == COLLAB_E_RATE_LIMITED)
                refused_at = i;
        CHECK_EQ_INT(refused_at, 6); /* the burst of 5, then refused */
        if (refused_at != 6)
            fprintf(stderr, "  %s: refused at login %d\n", names[k], refused_at);
    }
    zsock_destroy(&raw);
}

int main(int argc, char **argv)
{
    if (argc < 3 || broker_init(&S, argv[1], argv[2]) != 0 || broker_init(&W, argv[1], argv[2]) ||
        broker_init(&R, argv[1], argv[2]))
        return 2;
    const char *const strong[] = {"--set", "login=strong", NULL};
    const char *const limited[] = {"--set", "login=strong",
                                   "--set", "rate_limit=strong",
                                   "--set", "rate_limit.agent_burst=5",
                                   "--set", "rate_limit.agent_per_s=0.001",
                                   NULL};
    if (CHECK(broker_start(&S, strong) == 0) && CHECK(broker_start(&W, NULL) == 0) &&
        CHECK(broker_start(&R, limited) == 0)) {
        test_strong_indistinguishable();
        test_weak_unknown_skips_hash();
        test_rate_limit_alike();
    }
    it_stop(&S);
    it_stop(&W);
    it_stop(&R);
    broker_cleanup(&S);
    broker_cleanup(&W);
    broker_cleanup(&R);
    return it_exit("test_broker_login");
}
