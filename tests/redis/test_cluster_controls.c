/*  test_cluster_controls.c: the cluster's controls 15 (replay_scope) and 16 (revocation) on
    a real redis-server, two brokers' stores on one prefix.
    The store: a nonce claimed through one broker's commit refuses, whole and as a replay,
    the change set that claims it again through the other broker, or later in the same
    batch; the claim lives in nonce:{hex} under the prefix with a TTL; a session required
    after another broker deleted it refuses the change set as a session gone; a store of
    one broker (SQLite) checks nothing.
    The handlers, with the fixture's fake clock, on two contexts (brokers a and b): after a
    revocation through a, b trusts the session from its cache under the weak setting until
    revocation.cache_s after it last saw it valid, and then refuses it; under the strong
    setting b refuses it at once, while its tables still hold it (a's log not applied). A
    read signed with a nonce (strong signature_scope) that a did is refused by b under
    replay_scope strong, and done again by b without it. */
#include "handlers_fixture.h"
#include "store_redis_test.h"

#include "apply.h"
#include "collab_sign.h"
#include "dispatch.h"
#include "collab_hex.h"
#include "reply.h"
#include "sessions.h"

static const uint8_t nonce[COLLAB_NONCE_LEN] = "0123456789abcdef";

/*  Takes what the store hands over; returns the answer of the first refusal (0: none). */
static int take_refusal(collab_store_t *st, seen_t *s, uint64_t *cs)
{
    uint64_t committed;
    *cs = 0;
    if (collab_store_committed(st, &committed) != 0 ||
        collab_store_take_applied(st, &seen_applier, s) != 0)
        return -1;
    s->refusing = true;
    int got = collab_store_take_refused(st, cs, &seen_loader, seen_gone, s);
    s->refusing = false;
    return got;
}

/*  One change set cs on st: a claim of nonce and a new project id, committed. */
static void claim(collab_store_t *st, uint64_t cs, uint64_t project, const uint8_t *n)
{
    char name[] = "p";
    collab_project_t p;
    mk_project(&p, project, name);
    collab_store_set_changeset(st, cs);
    CHECK_EQ_INT(collab_store_claim_nonce(st, n, COLLAB_NONCE_LEN, 60000), 0);
    CHECK_EQ_INT(collab_store_put_project(st, &p), 0);
}

static void test_nonce_across_brokers(void)
{
    new_prefix();
    collab_store_t *a = open_ok("a"), *b = open_ok("b");
    seen_t sa = {0}, sb = {0};
    uint64_t cs;
    claim(a, 5, 1, nonce);
    CHECK_EQ_INT(collab_store_commit(a), 0);
    CHECK_EQ_INT(take_refusal(a, &sa, &cs), 0);

    claim(b, 6, 2, nonce); /* the same nonce, with a write of its own */
    CHECK_EQ_INT(collab_store_commit(b), 0);
    CHECK_EQ_INT(take_refusal(b, &sb, &cs), COLLAB_STORE_REFUSED_REPLAY);
    CHECK_EQ_U64(cs, 6);
    CHECK(find_line(&sb, 0, "absent p:2") >= 0); /* its write undone: nothing of it stored */
    redisReply *r = raw("EXISTS %s", "p:2");
    CHECK(r && r->type == REDIS_REPLY_INTEGER && r->integer == 0);
    freeReplyObject(r);

    char key[64] = "nonce:";
    collab_hex_encode(nonce, sizeof nonce, key + 6, sizeof key - 6);
    r = raw("PTTL %s", key); /* one key, living the time asked */
    CHECK(r && r->type == REDIS_REPLY_INTEGER && r->integer > 0 && r->integer <= 60000);
    freeReplyObject(r);

    uint8_t other[COLLAB_NONCE_LEN];
    memcpy(other, nonce, sizeof other);
    other[0] ^= 1;
    claim(b, 7, 3, other); /* a fresh nonce wins through b; claimed twice in one batch: once */
    claim(b, 8, 4, other);
    CHECK_EQ_INT(collab_store_commit(b), 0);
    CHECK_EQ_INT(take_refusal(b, &sb, &cs), COLLAB_STORE_REFUSED_REPLAY);
    CHECK_EQ_U64(cs, 8);
    r = raw("EXISTS %s", "p:3");
    CHECK(r && r->type == REDIS_REPLY_INTEGER && r->integer == 1);
    freeReplyObject(r);
    collab_store_destroy(&a);

    collab_store_t *a2 = open_ok("a"); /* broker a restarted: the claim is in Redis, kept */
    claim(a2, 9, 5, nonce);
    CHECK_EQ_INT(collab_store_commit(a2), 0);
    CHECK_EQ_INT(take_refusal(a2, &sa, &cs), COLLAB_STORE_REFUSED_REPLAY);
    collab_store_destroy(&a2);
    collab_store_destroy(&b);
}

static void test_session_required(void)
{
    new_prefix();
    collab_store_t *a = open_ok("a"), *b = open_ok("b");
    seen_t sa = {0}, sb = {0};
    uint64_t cs;
    collab_session_t s;
    mk_session(&s, "tok-live", "w1");
    CHECK_EQ_INT(collab_store_put_session(a, &s), 0);
    CHECK_EQ_INT(collab_store_commit(a), 0);
    collab_store_set_changeset(b, 3); /* alive: b's request passes */
    CHECK_EQ_INT(collab_store_require_session(b, "tok-live"), 0);
    CHECK_EQ_INT(collab_store_commit(b), 0);
    CHECK_EQ_INT(take_refusal(b, &sb, &cs), 0);

    CHECK_EQ_INT(collab_store_delete_session(a, "tok-live"), 0); /* revoked through a */
    CHECK_EQ_INT(collab_store_commit(a), 0);
    CHECK_EQ_INT(take_refusal(a, &sa, &cs), 0);
    char name[] = "late";
    collab_project_t p;
    mk_project(&p, 9, name);
    collab_store_set_changeset(b, 4);
    CHECK_EQ_INT(collab_store_require_session(b, "tok-live"), 0);
    CHECK_EQ_INT(collab_store_put_project(b, &p), 0);
    CHECK_EQ_INT(collab_store_commit(b), 0);
    CHECK_EQ_INT(take_refusal(b, &sb, &cs), COLLAB_STORE_REFUSED_SESSION);
    CHECK_EQ_U64(cs, 4);
    CHECK(find_line(&sb, 0, "absent s:tok-live") >= 0); /* b's tables lose it */
    CHECK(find_line(&sb, 0, "absent p:9") >= 0);
    collab_store_destroy(&a);
    collab_store_destroy(&b);
}

static void test_single_broker_checks_nothing(void)
{
    fx_t *f = fx_new();
    collab_store_t *st = f->ctx->store;
    collab_store_set_changeset(st, 1);
    CHECK_EQ_INT(collab_store_claim_nonce(st, nonce, sizeof nonce, 1000), 0);
    CHECK_EQ_INT(collab_store_require_session(st, "no-such-session"), 0);
    CHECK(!collab_store_in_batch(st)); /* nothing recorded, nothing to commit */
    fx_destroy(&f);
}

/* ---------------------------------------------------------------------------------------
   Two brokers' handlers */

static fx_t *fa, *fb;

/*  Contexts a and b on one prefix; agents admin and w1 in both; strong revocation or not. */
static void two_brokers(bool strong)
{
    new_prefix();
    fa = fx_new();
    fb = fx_new();
    fx_use_store(fa, open_ok("a"));
    fx_use_store(fb, open_ok("b"));
    fx_t *both[2] = {fa, fb};
    for (int i = 0; i < 2; i++) {
        /* the fake clocks start at the real time: Redis expires a session's key by its own */
        both[i]->now = (uint64_t)time(NULL) * 1000u;
        both[i]->ctx->cfg.strong[COLLAB_CTL_REVOCATION] = strong;
        both[i]->ctx->cfg.revocation_cache_s = 30;
        fx_agent(both[i], "admin", COLLAB_ROLE_ADMIN);
        fx_agent(both[i], "w1", COLLAB_ROLE_WORKER);
    }
}

static void two_brokers_end(void)
{
    fx_destroy(&fa);
    fx_destroy(&fb);
}

static collab_session_t *session_in(fx_t *f, const char *token)
{
    return collab_tables_session(f->ctx->tables, token, strlen(token));
}

/*  Releases what b's store has until cond holds, at most 5 s (each wait ends as soon as the
    store has news). */
static bool b_until(bool (*cond)(void))
{
    int64_t end = collab_mono_ms() + 5000;
    for (;;) {
        fx_release(fb);
        if (cond())
            return true;
        int64_t left = end - collab_mono_ms();
        if (left <= 0)
            return false;
        struct pollfd p = {.fd = collab_store_fd(fb->ctx->store), .events = POLLIN};
        poll(&p, 1, (int)left);
    }
}

static bool b_has_session(void)
{
    return session_in(fb, "tok5") != NULL;
}

static bool b_marked_stale(void)
{
    collab_session_t *s = session_in(fb, "tok5");
    return s && s->stale;
}

/*  w1 logs in on a (session tok5, committed); b applies it. */
static void login_on_a(void)
{
    collab_changeset_begin(fa->ctx);
    collab_session_t *s = fx_session(fa, "w1", 5);
    CHECK_EQ_INT(collab_store_put_session(fa->ctx->store, s), 0);
    collab_changeset_end(fa->ctx);
    fx_settle(fa);
    CHECK(b_until(b_has_session));
}

/*  The admin revokes it through a; the revocation is acknowledged (committed). */
static void revoke_on_a(void)
{
    collab_session_t *s = session_in(fa, "tok5");
    collab_changeset_begin(fa->ctx);
    CHECK_EQ_INT(collab_session_end(fa->ctx, &s, "revoked", "admin"), 0);
    collab_changeset_end(fa->ctx);
    fx_settle(fa);
    CHECK(session_in(fa, "tok5") == NULL);
}

static void test_revocation_weak(void)
{
    two_brokers(false);
    login_on_a();
    fb->now += 10000; /* b saw it valid at login: 10 s later it is revoked through a */
    revoke_on_a();
    CHECK(b_until(b_marked_stale)); /* b has applied a's deletion, and keeps the session */
    CHECK_EQ_INT(fx_request(fb, "get_session_info", "w1", "tok5"), 0);
    fb->now += 19000; /* 29 s after b saw it valid: still trusted */
    CHECK_EQ_INT(fx_request(fb, "list_projects", "w1", "tok5"), 0);
    fb->now += 1000; /* cache_s (30 s) after: refused, and gone */
    CHECK_EQ_INT(fx_request(fb, "get_session_info", "w1", "tok5"), COLLAB_E_SESSION_INVALID);
    CHECK(session_in(fb, "tok5") == NULL);
    two_brokers_end();
}

static void test_revocation_strong(void)
{
    two_brokers(true);
    login_on_a();
    CHECK_EQ_INT(fx_request(fb, "get_session_info", "w1", "tok5"), 0);
    revoke_on_a();
    /* b has not taken a's log entry: its tables still hold the session */
    CHECK(session_in(fb, "tok5") != NULL);
    CHECK_EQ_INT(fx_request(fb, "get_session_info", "w1", "tok5"), COLLAB_E_SESSION_INVALID);
    CHECK(session_in(fb, "tok5") == NULL);
    CHECK_EQ_U64(fb->ctx->stats.refused_session, 1);
    CHECK_EQ_INT(fx_request(fb, "list_projects", "w1", "tok5"), COLLAB_E_SESSION_INVALID);
    two_brokers_end();
}

/*  A read (list_projects) of w1's session tok5, signed over every field with w1's key (the
    fixture's: zeros), with nonce n, run whole (guards, handler, reply) on broker f. Returns
    the reply's code. */
static int signed_read(fx_t *f, const uint8_t *n)
{
    static uint8_t sig[COLLAB_SIGNATURE_LEN];
    static const uint8_t key[COLLAB_KEY_LEN] = {0};
    req_t *req = &f->req;
    memset(req, 0, sizeof *req);
    req->env = (collab_envelope_t){.kind = COLLAB_KIND_REQUEST,
                                   .version = COLLAB_PROTOCOL_VERSION,
                                   .request_id = 9,
                                   .action = {"list_projects", 13},
                                   .agent_id = {"w1", 2},
                                   .session_id = {"tok5", 4},
                                   .timestamp = f->now,
                                   .nonce = {(const char *)n, COLLAB_NONCE_LEN},
                                   .payload = COLLAB_EMPTY_MAP};
    collab_sign(&req->env, COLLAB_SCOPE_FULL, key, sig);
    req->env.signature = (collab_span_t){(const char *)sig, sizeof sig};
    req->action = COLLAB_ACT_LIST_PROJECTS;
    req->rid = (const uint8_t *)"rid";
    req->rid_len = 3;
    snprintf(req->peer, sizeof req->peer, "127.0.0.1");
    req->now = f->now;
    collab_map_parse(COLLAB_EMPTY_MAP.ptr, COLLAB_EMPTY_MAP.len, &req->args);
    collab_pack_init(&req->out, f->ctx->data_buf, sizeof f->ctx->data_buf);
    collab_changeset_begin(f->ctx);
    collab_dispatch_request(f->ctx, req);
    collab_changeset_end(f->ctx);
    fx_settle(f);
    collab_envelope_t env;
    collab_map_t data;
    if (fx_last_reply(f, &env, &data) != 0)
        return COLLAB_E_INTERNAL;
    return env.ok ? 0 : -(int)env.error_code;
}

/*  Replay strong, signature_scope strong (reads are signed, with a nonce) on both brokers:
    a read seen by a is refused by b under replay_scope strong, and done again without it. */
static void reads_across(bool scope)
{
    two_brokers(false);
    fx_t *both[2] = {fa, fb};
    for (int i = 0; i < 2; i++) {
        collab_config_t *cfg = &both[i]->ctx->cfg;
        cfg->strong[COLLAB_CTL_REPLAY] = cfg->strong[COLLAB_CTL_SIGNATURE_SCOPE] = true;
        cfg->strong[COLLAB_CTL_REPLAY_SCOPE] = scope;
        both[i]->ctx->replay = collab_replay_new(1000, cfg->replay_window_s, both[i]->now - 1000);
    }
    login_on_a();
    CHECK_EQ_INT(signed_read(fa, nonce), 0);
    CHECK_EQ_INT(signed_read(fa, nonce), COLLAB_E_REPLAY); /* a's own cache, as ever */
    CHECK_EQ_INT(signed_read(fb, nonce), scope ? COLLAB_E_REPLAY : 0);
    CHECK_EQ_U64(fb->ctx->stats.replays, scope ? 1 : 0);
    for (int i = 0; i < 2; i++)
        collab_replay_destroy(&both[i]->ctx->replay);
    two_brokers_end();
}

/*  A signed read carries a nonce too: claimed in the cluster like a write's. */
static void test_signed_reads(void)
{
    reads_across(false);
    reads_across(true);
}

int main(void)
{
    if (!(fx = redisproc_start(NULL)))
        return 1;
    TU_RUN(test_nonce_across_brokers);
    TU_RUN(test_session_required);
    TU_RUN(test_single_broker_checks_nothing);
    TU_RUN(test_revocation_weak);
    TU_RUN(test_revocation_strong);
    TU_RUN(test_signed_reads);
    redisproc_stop(&fx);
    return tu_exit("test_cluster_controls");
}
