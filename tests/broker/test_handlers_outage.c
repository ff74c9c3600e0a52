/*  test_handlers_outage.c: the broker through an outage of its shared store (outage.c,
    unavail.c), on the shared fake and without sockets: the requests of the batch in flight
    stay unanswered, those queued behind it and the reads held behind them are answered
    `unavailable` with retry_after_ms, requests meanwhile are refused but heartbeats and
    get_stats; once the store is back, the reload keeps what it committed (the batch in
    flight, when it ran after all), removes what it never did, and requests are served
    again. */
#include "fake_store.h"
#include "handlers_fixture.h"
#include "outage.h"
#include "testutil.h"

static fx_t *fx;
static fake_store_t *fake;
static collab_outage_t outage;

static void setup(void)
{
    fx = fx_new();
    fx_use_store(fx, fake_store_new_shared(&fake));
    fx_agent(fx, "coord", COLLAB_ROLE_COORDINATOR);
    fx_agent(fx, "adm", COLLAB_ROLE_ADMIN);
    fx_agent(fx, "obs", COLLAB_ROLE_OBSERVER);
    fx_listener(fx, "obs", 2, true);
    fx_listener(fx, "adm", 3, false); /* its record stored too */
    outage = (collab_outage_t){0};
}

static int create_project(uint64_t request_id, const char *name)
{
    size_t n = fx_payload_str(fx, "name", name, NULL, NULL);
    fx->request_id = request_id;
    return fx_call(fx, collab_h_create_project, "coord", fx->payload, n);
}

/*  The loop's turn: what committed is released, then the outage's step. */
static void turn(void)
{
    fx_release(fx);
    collab_outage_step(fx->ctx, &outage);
}

static void test_outage(void)
{
    setup();
    CHECK_OK(create_project(11, "committed"));
    CHECK_EQ_INT(fx_reply_rc(fx, 11), 0);
    /* batch 2 in flight, batch 3 queued behind it, a read held behind both */
    fx->hold = true;
    CHECK_OK(create_project(21, "in flight"));
    CHECK_OK(collab_store_submit(fx->ctx->store));
    CHECK_OK(create_project(22, "queued"));
    CHECK_OK(collab_store_submit(fx->ctx->store));
    size_t n = fx_payload_uint(fx, "project_id", 1, NULL, 0);
    fx->request_id = 23;
    CHECK_OK(fx_call(fx, collab_h_get_project, "obs", fx->payload, n));
    fx->hold = false;
    CHECK_EQ_INT(fx_reply_rc(fx, 21), 1); /* all held */
    CHECK_EQ_INT(fx_reply_rc(fx, 23), 1);
    fake_store_down(fake, true); /* the batch in flight ran after all */
    turn();
    CHECK_EQ_INT(fx_reply_rc(fx, 21), 1); /* outcome unknown: no answer */
    CHECK_EQ_INT(fx_reply_rc(fx, 22), COLLAB_E_UNAVAILABLE);
    CHECK_EQ_INT(fx_reply_rc(fx, 23), COLLAB_E_UNAVAILABLE);
    collab_envelope_t env;
    collab_map_t data;
    uint64_t retry = 0;
    CHECK_OK(fx_last_reply(fx, &env, &data)); /* 23's: the last one left */
    CHECK_EQ_U64(env.request_id, 23);
    CHECK_OK(collab_map_uint(&data, "retry_after_ms", &retry));
    CHECK_EQ_U64(retry, 100);
    CHECK_EQ_U64(fx->ctx->stats.store_unanswered, 1);
    CHECK_EQ_U64(fx->ctx->stats.store_unavailable, 2);
    CHECK_EQ_U64(fx->ctx->stats.store_outages, 1);
    CHECK(!collab_store_available(fx->ctx->store));
    /* meanwhile: refused, but heartbeats and get_stats; a write is refused too */
    CHECK_RC(fx_request(fx, "list_projects", "obs", "tok2"), COLLAB_E_UNAVAILABLE);
    CHECK_RC(fx_request(fx, "get_session_info", "obs", "tok2"), COLLAB_E_UNAVAILABLE);
    CHECK_OK(fx_request(fx, "heartbeat", "obs", "tok2"));
    CHECK_OK(fx_request(fx, "get_stats", "adm", "tok3"));
    CHECK_RC(create_project(31, "during"), 0); /* a handler run after all (a login's) */
    CHECK_EQ_INT(fx_reply_rc(fx, 31), COLLAB_E_UNAVAILABLE);  /* ...is not answered done */
    CHECK(collab_tables_project(fx->ctx->tables, 4) != NULL); /* in the tables, not stored */
    /* back: the reload keeps the in-flight batch's project, drops the others */
    fake_store_up(fake);
    turn();
    CHECK(collab_store_available(fx->ctx->store));
    CHECK_EQ_U64(fx->ctx->stats.store_reconnects, 1);
    CHECK_EQ_U64(fx->ctx->stats.store_reloads, 1);
    CHECK(collab_tables_project(fx->ctx->tables, 1) != NULL);
    CHECK(collab_tables_project(fx->ctx->tables, 2) != NULL);         /* ran after all */
    CHECK(collab_tables_project(fx->ctx->tables, 3) == NULL);         /* never sent */
    CHECK(collab_tables_project(fx->ctx->tables, 4) == NULL);         /* dropped */
    CHECK(collab_tables_session(fx->ctx->tables, "tok2", 4) != NULL); /* sessions survive */
    CHECK_OK(fx_request(fx, "list_projects", "obs", "tok2"));
    CHECK_OK(create_project(41, "after"));
    CHECK_EQ_INT(fx_reply_rc(fx, 41), 0);
    CHECK_EQ_U64(fx->ctx->stats.store_outages, 1);
    fx_destroy(&fx);
}

int main(void)
{
    TU_RUN(test_outage);
    return tu_exit("test_handlers_outage");
}
