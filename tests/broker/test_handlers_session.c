/*  test_handlers_session.c: the guards and the session life cycle on a socket-free context
    with a fake clock: idle expiry and absolute lifetime (one rule, read by the guard and by
    the sweep), role checks under weak and strong enforcement, how refusals are counted, and
    a list that overflows one reply being paged. */
#include "guards.h"
#include "handlers_fixture.h"
#include "sessions.h"
#include "testutil.h"

static fx_t *fx;

static void setup(void)
{
    fx = fx_new();
    fx->ctx->cfg.idle_timeout_s = 60;
    fx->ctx->cfg.absolute_lifetime_s = 600;
    fx_agent(fx, "admin", COLLAB_ROLE_ADMIN);
    fx_agent(fx, "w1", COLLAB_ROLE_WORKER);
}

/*  The one expiry rule, and the reason the holder is told. */
static void test_expiry_rule(void)
{
    setup();
    collab_config_t *cfg = &fx->ctx->cfg;
    collab_session_t s = {.created = 1000000, .last_activity = 1000000};
    CHECK(collab_session_expiry_reason(cfg, &s, 1000000 + 60000) == NULL);
    CHECK_STR(collab_session_expiry_reason(cfg, &s, 1000000 + 60001), "idle");
    CHECK(collab_session_expiry_reason(cfg, &s, 1000) == NULL); /* clock stepped back */
    s.last_activity = 1000000 + 600000;
    CHECK(collab_session_expiry_reason(cfg, &s, 1000000 + 600001) == NULL); /* weak: no cap */
    cfg->strong[COLLAB_CTL_SESSION_LIFETIME] = true;
    CHECK_STR(collab_session_expiry_reason(cfg, &s, 1000000 + 600001), "lifetime");
    fx_destroy(&fx);
}

static void test_idle_expiry_by_request(void)
{
    setup();
    fx_session(fx, "w1", 1);
    fx->now += 30000;
    CHECK_OK(fx_request(fx, "heartbeat", "w1", "tok1"));
    fx->now += 60000; /* 60 s after the last activity: not yet */
    CHECK_OK(fx_request(fx, "heartbeat", "w1", "tok1"));
    fx->now += 60001;
    CHECK_RC(fx_request(fx, "heartbeat", "w1", "tok1"), COLLAB_E_SESSION_EXPIRED);
    CHECK_EQ_INT(collab_tables_session_count(fx->ctx->tables), 0);
    /* gone, and remembered: still session_expired, not session_invalid */
    CHECK_RC(fx_request(fx, "heartbeat", "w1", "tok1"), COLLAB_E_SESSION_EXPIRED);
    CHECK_RC(fx_request(fx, "heartbeat", "w1", "tok9"), COLLAB_E_SESSION_INVALID);
    CHECK_EQ_INT(fx->ctx->stats.refused_session, 3);
    fx_destroy(&fx);
}

static void test_lifetime_expiry_by_sweep(void)
{
    setup();
    fx->ctx->cfg.strong[COLLAB_CTL_SESSION_LIFETIME] = true;
    collab_session_t *s = fx_session(fx, "w1", 1);
    s->subscribed = true; /* told of its end on its connection */
    fx_session(fx, "admin", 2);
    uint64_t created = fx->now;
    for (int i = 0; i < 10; i++) { /* active every 55 s: never idle */
        fx->now += 55000;
        CHECK_OK(fx_request(fx, "heartbeat", "w1", "tok1"));
    }
    fx->now = created + 590000;
    collab_session_sweep(fx->ctx, fx->now); /* admin's went idle; w1's is 590 s old */
    CHECK_EQ_INT(collab_tables_session_count(fx->ctx->tables), 1);
    fx->now = created + 600001; /* active 50 s ago, but past its lifetime */
    collab_session_sweep(fx->ctx, fx->now);
    fx_settle(fx);
    CHECK_EQ_INT(collab_tables_session_count(fx->ctx->tables), 0);
    collab_envelope_t env;
    collab_map_t data;
    collab_span_t reason = {0};
    CHECK_OK(fx_last_reply(fx, &env, &data)); /* the session_expired event */
    CHECK(collab_span_eq(env.event, "session_expired"));
    CHECK_OK(collab_map_str(&data, "reason", &reason));
    CHECK(collab_span_eq(reason, "lifetime"));
    CHECK_RC(fx_request(fx, "heartbeat", "w1", "tok1"), COLLAB_E_SESSION_EXPIRED);
    fx_destroy(&fx);
}

static void test_roles_weak_and_strong(void)
{
    setup();
    fx_session(fx, "w1", 1);
    fx_session(fx, "admin", 2);
    CHECK_OK(fx_request(fx, "list_projects", "w1", "tok1"));
    CHECK_RC(fx_request(fx, "get_stats", "w1", "tok1"), COLLAB_E_FORBIDDEN);
    CHECK_OK(fx_request(fx, "get_stats", "admin", "tok2"));
    CHECK_EQ_INT(fx->ctx->stats.refused_forbidden, 1);
    /* the session's role is cached at login under the weak permissions control, the
       agent's current role is read under the strong one */
    collab_tables_agent(fx->ctx->tables, "admin", 5)->role = COLLAB_ROLE_WORKER;
    CHECK_OK(fx_request(fx, "get_stats", "admin", "tok2"));
    fx->ctx->cfg.strong[COLLAB_CTL_PERMISSIONS] = true;
    CHECK_RC(fx_request(fx, "get_stats", "admin", "tok2"), COLLAB_E_FORBIDDEN);
    fx_destroy(&fx);
}

/*  Bug: refusals were classed by arithmetic on the wire codes, so replay and nonce_missing
    counted as session refusals. */
static void test_refusal_classes(void)
{
    CHECK_EQ_INT(collab_refusal_class(COLLAB_E_REPLAY), COLLAB_REFUSAL_OTHER);
    CHECK_EQ_INT(collab_refusal_class(COLLAB_E_NONCE_MISSING), COLLAB_REFUSAL_OTHER);
    CHECK_EQ_INT(collab_refusal_class(COLLAB_E_SESSION_INVALID), COLLAB_REFUSAL_SESSION);
    CHECK_EQ_INT(collab_refusal_class(COLLAB_E_SESSION_EXPIRED), COLLAB_REFUSAL_SESSION);
    CHECK_EQ_INT(collab_refusal_class(COLLAB_E_AGENT_MISMATCH), COLLAB_REFUSAL_SESSION);
    CHECK_EQ_INT(collab_refusal_class(COLLAB_E_BINDING), COLLAB_REFUSAL_SESSION);
    CHECK_EQ_INT(collab_refusal_class(COLLAB_E_STALE_TIMESTAMP), COLLAB_REFUSAL_SIGNATURE);
    CHECK_EQ_INT(collab_refusal_class(COLLAB_E_BAD_SIGNATURE), COLLAB_REFUSAL_SIGNATURE);
    CHECK_EQ_INT(collab_refusal_class(COLLAB_E_FORBIDDEN), COLLAB_REFUSAL_FORBIDDEN);
    CHECK_EQ_INT(collab_refusal_class(COLLAB_E_RATE_LIMITED), COLLAB_REFUSAL_OTHER);
}

/*  A list of more projects than one reply holds: a page, with next_offset, then the rest. */
static void test_paging(void)
{
    setup();
    fx_session(fx, "w1", 1);
    static char name[101];
    memset(name, 'n', sizeof name - 1);
    for (uint64_t id = 1; id <= 2000; id++) {
        collab_project_t p = {.id = id, .name = name, .description = (char *)""};
        snprintf(p.owner, sizeof p.owner, "admin");
        CHECK(collab_tables_add_project(fx->ctx->tables, &p) != NULL);
    }
    uint64_t offset = 0, seen = 0, pages = 0, total = 0;
    for (;;) {
        size_t n = fx_payload_uint(fx, "offset", offset, NULL, 0);
        CHECK_OK(fx_call(fx, collab_h_list_projects, "w1", fx->payload, n));
        collab_envelope_t env;
        collab_map_t data;
        collab_mp_reader_t r;
        uint32_t count = 0;
        CHECK_OK(fx_last_reply(fx, &env, &data));
        CHECK_OK(collab_map_array(&data, "projects", &r, &count));
        CHECK_OK(collab_map_uint(&data, "total", &total));
        CHECK(count > 0);
        seen += count;
        pages++;
        if (collab_map_uint(&data, "next_offset", &offset) != 0)
            break;
        CHECK_EQ_INT(offset, seen);
        if (pages > 2000)
            break;
    }
    CHECK_EQ_INT(total, 2000);
    CHECK_EQ_INT(seen, 2000);
    CHECK(pages > 2); /* 2,000 summaries of 100-byte names: more than one reply holds */
    fx_destroy(&fx);
}

int main(void)
{
    TU_RUN(test_expiry_rule);
    TU_RUN(test_idle_expiry_by_request);
    TU_RUN(test_lifetime_expiry_by_sweep);
    TU_RUN(test_roles_weak_and_strong);
    TU_RUN(test_refusal_classes);
    TU_RUN(test_paging);
    return tu_exit("test_handlers_session");
}
