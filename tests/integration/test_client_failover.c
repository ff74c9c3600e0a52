/*  test_client_failover: the client library with several endpoints (collab_client.h,
    "Several endpoints"), against fake brokers: ROUTER sockets on ephemeral ports, each in
    a thread, that log what they are asked and answer, stay silent, say `unavailable`, or
    answer late. A read that times out is answered by the next broker with the same
    session and no new login, after the subscription is renewed since the last event; a
    write that times out is not sent again; `unavailable` moves at once and, from every
    endpoint, is waited out; a late reply from the old broker is never taken; the first
    connection goes on to the next endpoint. */
#include "collab_client.h"
#include "collab.h"
#include "collab_clock.h"
#include "testutil.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <czmq.h>

/*  DIES: the next request that is not a login closes the fake's socket (its TCP
    connections with it, as when a broker is killed) and ends its thread unanswered. */
typedef enum { ANSWER, SILENT, UNAVAILABLE, LATE, DIES } mode_t_;

/*  The hand-over between a LATE broker A and broker B: B tells A the id of the request it
    got; A answers its own old request late, with that id; then B answers. */
typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t b_id;
    bool b_got, a_sent;
} late_t;

typedef struct {
    const char *name; /* "A" or "B": its session is "sess-A" */
    void *router;
    char endpoint[64];
    _Atomic int mode;
    bool strict;             /* session_invalid for any session it did not issue */
    uint64_t retry_after_ms; /* in its `unavailable` */
    late_t *late;            /* A: answers late; B: waits for A's late answer */
    pthread_mutex_t mu;
    char log[1024];     /* "login subscribe(2) list_projects": what it was asked */
    char sessions[256]; /* the distinct sessions of the requests it got */
    pthread_t th;
} fake_t;

static void *FCTX;

static void note(fake_t *f, const char *action, uint64_t since, collab_span_t sid)
{
    pthread_mutex_lock(&f->mu);
    size_t used = strlen(f->log);
    snprintf(f->log + used, sizeof f->log - used, "%s%s", used ? " " : "", action);
    if (strcmp(action, "subscribe") == 0) {
        used = strlen(f->log);
        snprintf(f->log + used, sizeof f->log - used, "(%llu)", (unsigned long long)since);
    }
    char s[64];
    snprintf(s, sizeof s, "%.*s", (int)(sid.len < 60 ? sid.len : 60), sid.ptr);
    if (s[0] && !strstr(f->sessions, s)) {
        used = strlen(f->sessions);
        snprintf(f->sessions + used, sizeof f->sessions - used, "%s%s", used ? " " : "", s);
    }
    pthread_mutex_unlock(&f->mu);
}

static int send_env(void *router, zmq_msg_t *id, const collab_envelope_t *env)
{
    uint8_t buf[512];
    size_t len;
    zmq_msg_t copy;
    if (collab_envelope_encode(env, buf, sizeof buf, &len) != 0)
        return -1;
    zmq_msg_init(&copy);
    zmq_msg_copy(&copy, id);
    if (zmq_msg_send(&copy, router, ZMQ_SNDMORE) < 0)
        return -1;
    return zmq_send(router, buf, len, 0) < 0 ? -1 : 0;
}

/*  A reply: ok with data, or the error code with data. */
static int reply(void *router, zmq_msg_t *id, uint64_t req, uint32_t code, const uint8_t *data,
                 size_t len)
{
    collab_envelope_t r = {.kind = COLLAB_KIND_REPLY,
                           .version = COLLAB_PROTOCOL_VERSION,
                           .request_id = req,
                           .ok = code == 0,
                           .error_code = code,
                           .error = {code ? "refused" : "", code ? 7 : 0},
                           .data = {(const char *)data, len}};
    return send_env(router, id, &r);
}

static size_t pack_str(uint8_t *buf, size_t cap, const char *k1, const char *v1, const char *k2,
                       uint64_t v2)
{
    collab_pack_t p;
    size_t len = 0;
    collab_pack_init(&p, buf, cap);
    collab_pack_map(&p, k2 ? 2 : 1);
    collab_pack_kv_str(&p, k1, v1);
    if (k2)
        collab_pack_kv_uint(&p, k2, v2);
    collab_pack_finish(&p, &len);
    return len;
}

/*  A subscribe since 0 gets events 1 and 2 pushed before its reply. */
static int push_two(void *router, zmq_msg_t *id)
{
    for (uint64_t seq = 1; seq <= 2; seq++) {
        collab_envelope_t ev = {.kind = COLLAB_KIND_EVENT,
                                .version = COLLAB_PROTOCOL_VERSION,
                                .timestamp = 1,
                                .data = COLLAB_EMPTY_MAP,
                                .event = {"project_created", 15},
                                .seq = seq};
        if (send_env(router, id, &ev) != 0)
            return -1;
    }
    return 0;
}

/*  A LATE broker's first request other than login: held until B has its own, then
    answered with B's request id, as a confused or malicious old broker might. */
static void answer_late(fake_t *f, zmq_msg_t *id)
{
    uint8_t data[64];
    late_t *l = f->late;
    pthread_mutex_lock(&l->mu);
    while (!l->b_got)
        pthread_cond_wait(&l->cv, &l->mu);
    reply(f->router, id, l->b_id, 0, data, pack_str(data, sizeof data, "from", f->name, NULL, 0));
    l->a_sent = true;
    pthread_cond_broadcast(&l->cv);
    pthread_mutex_unlock(&l->mu);
    atomic_store(&f->mode, SILENT);
}

/*  B, when A answers late: tells A its request id and waits until A has answered. */
static void wait_for_late(fake_t *f, uint64_t req)
{
    late_t *l = f->late;
    pthread_mutex_lock(&l->mu);
    l->b_id = req;
    l->b_got = true;
    pthread_cond_broadcast(&l->cv);
    while (!l->a_sent)
        pthread_cond_wait(&l->cv, &l->mu);
    pthread_mutex_unlock(&l->mu);
}

static int answer(fake_t *f, zmq_msg_t *id, const collab_envelope_t *in, const char *action,
                  uint64_t since)
{
    uint8_t data[128];
    char sess[16];
    snprintf(sess, sizeof sess, "sess-%s", f->name);
    if (strcmp(action, "login") == 0)
        return reply(f->router, id, in->request_id, 0, data,
                     pack_str(data, sizeof data, "session_id", sess, "event_seq", 0));
    if (f->strict && !collab_span_eq(in->session_id, sess))
        return reply(f->router, id, in->request_id, 22, NULL, 0); /* session_invalid */
    if (strcmp(action, "subscribe") == 0 && since == 0 && push_two(f->router, id) != 0)
        return -1;
    if (f->late && strcmp(action, "get_project") == 0)
        wait_for_late(f, in->request_id);
    return reply(f->router, id, in->request_id, 0, data,
                 pack_str(data, sizeof data, "from", f->name, NULL, 0));
}

static int handle(fake_t *f, zmq_msg_t *id, const collab_envelope_t *in, const collab_map_t *body)
{
    char action[32];
    uint64_t since = 0;
    snprintf(action, sizeof action, "%.*s", (int)in->action.len, in->action.ptr);
    collab_map_uint(body, "since", &since);
    note(f, action, since, in->session_id);
    switch (atomic_load(&f->mode)) {
    case SILENT:
        return 0;
    case DIES:
        if (strcmp(action, "login") == 0)
            return answer(f, id, in, action, since);
        zmq_close(f->router);
        f->router = NULL;
        return 1;
    case UNAVAILABLE: {
        uint8_t data[64];
        collab_pack_t p;
        size_t len = 0;
        collab_pack_init(&p, data, sizeof data);
        collab_pack_map(&p, 1);
        collab_pack_kv_uint(&p, "retry_after_ms", f->retry_after_ms);
        collab_pack_finish(&p, &len);
        return reply(f->router, id, in->request_id, 65, data, len);
    }
    case LATE:
        if (strcmp(action, "login") != 0) {
            answer_late(f, id);
            return 0;
        }
        return answer(f, id, in, action, since);
    default:
        return answer(f, id, in, action, since);
    }
}

/*  The fake's loop, until its context is shut down (ETERM). */
static void *run(void *arg)
{
    fake_t *f = arg;
    for (;;) {
        zmq_msg_t id, req;
        collab_envelope_t in;
        collab_map_t body;
        zmq_msg_init(&id);
        zmq_msg_init(&req);
        int ok = zmq_msg_recv(&id, f->router, 0) >= 0 && zmq_msg_recv(&req, f->router, 0) >= 0;
        if (ok &&
            collab_envelope_decode_map(zmq_msg_data(&req), zmq_msg_size(&req), &in, &body) == 0 &&
            handle(f, &id, &in, &body) == 1)
            ok = 0; /* it died */
        zmq_msg_close(&id);
        zmq_msg_close(&req);
        if (!ok)
            return NULL;
    }
}

static void fake_start(fake_t *f, const char *name, int mode)
{
    memset(f, 0, sizeof *f);
    f->name = name;
    atomic_store(&f->mode, mode);
    pthread_mutex_init(&f->mu, NULL);
    f->router = zmq_socket(FCTX, ZMQ_ROUTER);
    int zero = 0;
    size_t len = sizeof f->endpoint;
    zmq_setsockopt(f->router, ZMQ_LINGER, &zero, sizeof zero);
    CHECK(f->router && zmq_bind(f->router, "tcp://127.0.0.1:*") == 0 &&
          zmq_getsockopt(f->router, ZMQ_LAST_ENDPOINT, f->endpoint, &len) == 0);
    CHECK(pthread_create(&f->th, NULL, run, f) == 0);
}

/*  Starts the fakes' context; fakes_stop ends every fake (ETERM) and joins it. */
static void fakes_begin(const char *name)
{
    tu_current = name;
    FCTX = zmq_ctx_new();
}

static void fakes_stop(fake_t *fakes, size_t n)
{
    zmq_ctx_shutdown(FCTX);
    for (size_t i = 0; i < n; i++) {
        if (!pthread_equal(fakes[i].th, pthread_self())) /* not joined already */
            pthread_join(fakes[i].th, NULL);
        if (fakes[i].router)
            zmq_close(fakes[i].router);
        pthread_mutex_destroy(&fakes[i].mu);
    }
    zmq_ctx_term(FCTX);
}

static collab_client_t *client_for(const char *endpoints, int timeout_ms, int retries)
{
    collab_client_opts_t o = {.endpoint = endpoints,
                              .agent_id = "viewer1",
                              .password = "pw",
                              .timeout_ms = timeout_ms,
                              .retries = retries,
                              .auto_relogin = true};
    collab_client_t *c = collab_client_new(&o);
    CHECK(c != NULL);
    return c;
}

static void two(char *out, size_t cap, const fake_t *a, const fake_t *b)
{
    snprintf(out, cap, "%s,%s", a->endpoint, b->endpoint);
}

/*  A new test case with fakes A and B in their modes; eps (when not NULL) gets "A,B". */
static void fakes_two(const char *name, fake_t *f, int a, int b, char *eps, size_t cap)
{
    fakes_begin(name);
    fake_start(&f[0], "A", a);
    fake_start(&f[1], "B", b);
    if (eps)
        two(eps, cap, &f[0], &f[1]);
}

/*  Logged in and subscribed on A, events 1 and 2 handled; then A dies (silent). */
static collab_client_t *subscribed_on_a(fake_t *f)
{
    char eps[160];
    two(eps, sizeof eps, &f[0], &f[1]);
    collab_client_t *c = client_for(eps, 300, 2);
    collab_event_msg_t ev;
    CHECK_OK(collab_client_login(c));
    CHECK_OK(collab_client_subscribe(c, false));
    for (int i = 0; i < 2 && CHECK(collab_client_next_event(c, &ev, 2000) == 0); i++)
        collab_event_free(&ev);
    CHECK_EQ_U64(collab_client_last_seq(c), 2);
    atomic_store(&f[0].mode, SILENT);
    return c;
}

static void test_read_moves(void)
{
    fake_t f[2];
    collab_reply_t r;
    collab_span_t from;
    fakes_two("a read moves, same session, resubscribed since the last event", f, ANSWER, ANSWER,
              NULL, 0);
    collab_client_t *c = subscribed_on_a(f);
    CHECK_OK(collab_client_request(c, "list_projects", NULL, 0, &r));
    CHECK(r.ok && collab_map_str(&r.map, "from", &from) == 0 && collab_span_eq(from, "B"));
    collab_reply_free(&r);
    CHECK_STR(collab_client_endpoint(c), f[1].endpoint);
    CHECK_STR(collab_client_session(c), "sess-A");
    collab_client_destroy(&c);
    fakes_stop(f, 2);
    CHECK_STR(f[0].log, "login subscribe(0) list_projects");
    CHECK_STR(f[1].log, "subscribe(2) list_projects"); /* no login */
    CHECK_STR(f[1].sessions, "sess-A");
}

/*  A write that times out is not sent again, to B or to A; one endpoint retries it on
    that endpoint as it always did. */
static void test_write_not_resent(void)
{
    fake_t f[2];
    collab_reply_t r;
    char eps[160];
    fakes_two("a write that times out is not sent again", f, SILENT, ANSWER, eps, sizeof eps);
    collab_client_t *c = client_for(eps, 300, 3);
    collab_client_set_session(c, "sess-A");
    CHECK_RC(collab_client_request(c, "create_project", NULL, 0, &r), COLLAB_E_TIMEOUT);
    CHECK_STR(collab_client_endpoint(c), f[1].endpoint);            /* moved for what comes next */
    CHECK_OK(collab_client_request(c, "get_project", NULL, 0, &r)); /* the caller reads */
    collab_reply_free(&r);
    collab_client_destroy(&c);
    c = client_for(f[0].endpoint, 100, 2); /* one endpoint: as before, 3 attempts */
    collab_client_set_session(c, "sess-A");
    CHECK_RC(collab_client_request(c, "assign_task", NULL, 0, &r), COLLAB_E_TIMEOUT);
    collab_client_destroy(&c);
    fakes_stop(f, 2);
    CHECK_STR(f[0].log, "create_project assign_task assign_task assign_task");
    CHECK_STR(f[1].log, "get_project");
}

/*  `unavailable` moves at once (a write too: nothing was changed); from every endpoint
    in turn, the client waits retry_after_ms before asking again. */
static void test_unavailable(void)
{
    fake_t f[2];
    collab_reply_t r;
    char eps[160];
    fakes_two("unavailable: moves, and waits when every broker says it", f, UNAVAILABLE, ANSWER,
              eps, sizeof eps);
    f[0].retry_after_ms = f[1].retry_after_ms = 400;
    collab_client_t *c = client_for(eps, 3000, 2);
    collab_client_set_session(c, "sess-A");
    int64_t t0 = collab_mono_ms();
    CHECK_OK(collab_client_request(c, "create_project", NULL, 0, &r));
    CHECK(r.ok && collab_mono_ms() - t0 < 400); /* B answered at once, no wait */
    collab_reply_free(&r);
    atomic_store(&f[1].mode, UNAVAILABLE);
    atomic_store(&f[0].mode, UNAVAILABLE);
    t0 = collab_mono_ms(); /* on B now: B, A (both said it: wait 400 ms), B */
    CHECK_OK(collab_client_request(c, "update_task_status", NULL, 0, &r));
    int64_t waited = collab_mono_ms() - t0;
    CHECK(!r.ok && r.code == COLLAB_E_UNAVAILABLE);
    CHECK(waited >= 400 && waited < 2500);
    collab_reply_free(&r);
    collab_client_destroy(&c);
    fakes_stop(f, 2);
    CHECK_STR(f[0].log, "create_project update_task_status");
    CHECK_STR(f[1].log, "create_project update_task_status update_task_status");
}

/*  A answers its old request after the client moved, with the id of the request that B
    holds: the client takes B's reply, never A's. */
static void test_late_reply(void)
{
    fake_t f[2];
    late_t late = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    collab_reply_t r;
    collab_span_t from;
    char eps[160];
    fakes_two("a late reply from the old broker is not taken", f, LATE, ANSWER, eps, sizeof eps);
    f[0].late = f[1].late = &late;
    collab_client_t *c = client_for(eps, 300, 2);
    CHECK_OK(collab_client_login(c));
    CHECK_OK(collab_client_request(c, "get_project", NULL, 0, &r));
    CHECK(r.ok && collab_map_str(&r.map, "from", &from) == 0 && collab_span_eq(from, "B"));
    collab_reply_free(&r);
    /* and nothing of A's is left to be taken later */
    CHECK_OK(collab_client_request(c, "list_projects", NULL, 0, &r));
    CHECK(r.ok && collab_map_str(&r.map, "from", &from) == 0 && collab_span_eq(from, "B"));
    collab_reply_free(&r);
    collab_client_destroy(&c);
    fakes_stop(f, 2);
    CHECK(late.a_sent);
    CHECK_STR(f[0].log, "login get_project");
    CHECK_STR(f[1].log, "get_project list_projects");
}

/*  B does not know A's session: the client logs in there (auto_relogin), subscribes
    again and sends the read once more. */
static void test_session_invalid_after_move(void)
{
    fake_t f[2];
    collab_reply_t r;
    fakes_two("session_invalid after a move: re-login", f, ANSWER, ANSWER, NULL, 0);
    f[1].strict = true;
    collab_client_t *c = subscribed_on_a(f);
    CHECK_OK(collab_client_request(c, "list_projects", NULL, 0, &r));
    CHECK(r.ok);
    collab_reply_free(&r);
    CHECK_STR(collab_client_session(c), "sess-B");
    collab_client_destroy(&c);
    fakes_stop(f, 2);
    CHECK_STR(f[1].log, "subscribe(2) list_projects login subscribe(2) list_projects");
}

/*  The first connection: nothing listens at the first endpoint (port 1), so after its
    connect_timeout_ms the login goes to the second. */
static void test_first_connection(void)
{
    fake_t f[1];
    char eps[160];
    fakes_begin("the first connection goes on to the next endpoint");
    fake_start(&f[0], "B", ANSWER);
    snprintf(eps, sizeof eps, "tcp://127.0.0.1:1,%s", f[0].endpoint);
    collab_client_opts_t o = {.endpoint = eps,
                              .agent_id = "viewer1",
                              .password = "pw",
                              .timeout_ms = 2000,
                              .connect_timeout_ms = 300};
    collab_client_t *c = collab_client_new(&o);
    CHECK(c != NULL);
    CHECK_OK(collab_client_login(c));
    CHECK_STR(collab_client_endpoint(c), f[0].endpoint);
    collab_client_destroy(&c);
    o.endpoint = "tcp://127.0.0.1:1,tcp://127.0.0.1:1"; /* twice: a bad list */
    CHECK(collab_client_new(&o) == NULL);
    fakes_stop(f, 1);
    CHECK_STR(f[0].log, "login");
}

/*  A broker that dies (its connection closed, as by kill -9) while a request waits: the
    attempt ends with the connection, not at its timeout (20 s here, never reached), a read
    moves and is answered by B; on B a write is not sent again, and the caller's read is
    answered by C. Then C dies while the client only waits for events, which takes the
    loss in passing: its next read moves before it is sent, to D, instead of waiting for
    a reply from the dead link. */
static void test_connection_lost(void)
{
    fake_t f[4];
    collab_reply_t r;
    collab_span_t from;
    collab_event_msg_t ev;
    char eps[320];
    fakes_two("a lost connection ends the wait at once", f, ANSWER, ANSWER, NULL, 0);
    fake_start(&f[2], "C", ANSWER);
    fake_start(&f[3], "D", ANSWER);
    snprintf(eps, sizeof eps, "%s,%s,%s,%s", f[0].endpoint, f[1].endpoint, f[2].endpoint,
             f[3].endpoint);
    collab_client_t *c = client_for(eps, 20000, 2);
    CHECK_OK(collab_client_login(c));
    atomic_store(&f[0].mode, DIES);
    int64_t t0 = collab_mono_ms();
    CHECK_OK(collab_client_request(c, "list_projects", NULL, 0, &r));
    CHECK(r.ok && collab_map_str(&r.map, "from", &from) == 0 && collab_span_eq(from, "B"));
    collab_reply_free(&r);
    CHECK(collab_mono_ms() - t0 < 10000); /* well before the 20 s timeout */
    CHECK_STR(collab_client_endpoint(c), f[1].endpoint);

    atomic_store(&f[1].mode, DIES); /* a write on B, lost with B: not sent again */
    t0 = collab_mono_ms();
    CHECK_RC(collab_client_request(c, "create_project", NULL, 0, &r), COLLAB_E_TIMEOUT);
    CHECK(collab_mono_ms() - t0 < 10000);
    CHECK_OK(collab_client_request(c, "get_project", NULL, 0, &r)); /* the caller reads, on C */
    CHECK(r.ok && collab_map_str(&r.map, "from", &from) == 0 && collab_span_eq(from, "C"));
    collab_reply_free(&r);

    atomic_store(&f[2].mode, DIES);
    CHECK(collab_client_send(c, "heartbeat", NULL, 0) != 0); /* fire and forget: C dies */
    pthread_join(f[2].th, NULL);
    CHECK_RC(collab_client_next_event(c, &ev, 300), COLLAB_E_TIMEOUT); /* none comes */
    t0 = collab_mono_ms();
    CHECK_OK(collab_client_request(c, "list_projects", NULL, 0, &r));
    CHECK(r.ok && collab_map_str(&r.map, "from", &from) == 0 && collab_span_eq(from, "D"));
    collab_reply_free(&r);
    CHECK(collab_mono_ms() - t0 < 10000);
    collab_client_destroy(&c);
    f[2].th = pthread_self(); /* joined above */
    fakes_stop(f, 4);
    CHECK_STR(f[0].log, "login list_projects");
    CHECK_STR(f[1].log, "list_projects create_project");
    CHECK_STR(f[2].log, "get_project heartbeat");
    CHECK_STR(f[3].log, "list_projects");
}

int main(void)
{
    test_read_moves();
    test_write_not_resent();
    test_unavailable();
    test_late_reply();
    test_session_invalid_after_move();
    test_first_connection();
    test_connection_lost();
    zsys_shutdown();
    return tu_exit("test_client_failover");
}
