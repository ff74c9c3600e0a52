/*  test_client_events: the client library hands events over in sequence order, once each,
    whatever order they arrive in. After a broker restart an agent's catch-up (subscribe
    since the last event it saw) replays older events while a newer one may already have
    been pushed live; the queue sorts them. And a gap before the next event (events pushed
    to a connection that was cut) is asked for once before that event is handed over.
    A fake broker (a ROUTER on an ephemeral port, in
    a thread) pushes events out of order, once twice, and with a gap that a catch-up fills. */
#include "collab_client.h"
#include "collab.h"
#include "testutil.h"

#include <pthread.h>
#include <string.h>
#include <zmq.h>

static void *ZCTX;
static char ENDPOINT[64];

static int send_envelope(void *router, zmq_msg_t *id, const collab_envelope_t *env)
{
    uint8_t buf[512];
    size_t len;
    if (collab_envelope_encode(env, buf, sizeof buf, &len) != 0)
        return -1;
    zmq_msg_t copy;
    zmq_msg_init(&copy);
    zmq_msg_copy(&copy, id);
    if (zmq_msg_send(&copy, router, ZMQ_SNDMORE) < 0)
        return -1;
    return zmq_send(router, buf, len, 0) < 0 ? -1 : 0;
}

static int push_events(void *router, zmq_msg_t *id, const uint64_t *seqs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        collab_envelope_t ev = {.kind = COLLAB_KIND_EVENT,
                                .version = COLLAB_PROTOCOL_VERSION,
                                .timestamp = 1,
                                .data = COLLAB_EMPTY_MAP,
                                .event = {"task_created", 12},
                                .seq = seqs[i]};
        if (send_envelope(router, id, &ev) != 0)
            return -1;
    }
    return 0;
}

/*  What the fake broker was asked, in order: the actions and each subscribe's `since`. */
static char ASKED[256];

/*  Answers requests until "logout": heartbeat pushes 7, 5, 6 and 5 again (out of order, one
    twice); subscribe since 2 replays 3 and 4 (the events a restart cut off), as a broker
    sends them before its reply. */
static void *fake_broker(void *router)
{
    int subscribes = 0;
    for (;;) {
        zmq_msg_t id, req;
        zmq_msg_init(&id);
        zmq_msg_init(&req);
        collab_envelope_t in;
        collab_map_t body;
        if (zmq_msg_recv(&id, router, 0) < 0 || zmq_msg_recv(&req, router, 0) < 0 ||
            collab_envelope_decode_map(zmq_msg_data(&req), zmq_msg_size(&req), &in, &body) != 0)
            return NULL;
        char action[32];
        snprintf(action, sizeof action, "%.*s", (int)in.action.len, in.action.ptr);
        uint64_t since = 0;
        if (strcmp(action, "subscribe") == 0)
            collab_map_uint(&body, "since", &since);
        size_t used = strlen(ASKED);
        snprintf(ASKED + used, sizeof ASKED - used, "%s%s", used ? " " : "", action);
        if (since) {
            used = strlen(ASKED);
            snprintf(ASKED + used, sizeof ASKED - used, "(%llu)", (unsigned long long)since);
        }
        static const uint64_t live[] = {7, 5, 6, 5}, missed[] = {3, 4};
        int rc = 0;
        if (strcmp(action, "heartbeat") == 0)
            rc = push_events(router, &id, live, 4);
        else if (strcmp(action, "subscribe") == 0 && since == 2 && ++subscribes == 2)
            rc = push_events(router, &id, missed, 2); /* the first: nothing missed yet */
        collab_envelope_t rep = {.kind = COLLAB_KIND_REPLY,
                                 .version = COLLAB_PROTOCOL_VERSION,
                                 .request_id = in.request_id,
                                 .ok = true,
                                 .error = {"", 0},
                                 .data = COLLAB_EMPTY_MAP};
        if (rc == 0)
            rc = send_envelope(router, &id, &rep);
        zmq_msg_close(&id);
        zmq_msg_close(&req);
        if (rc != 0 || strcmp(action, "logout") == 0)
            return rc ? NULL : router;
    }
}

int main(void)
{
    ZCTX = zmq_ctx_new();
    void *router = zmq_socket(ZCTX, ZMQ_ROUTER);
    CHECK(router && zmq_bind(router, "tcp://127.0.0.1:*") == 0);
    size_t eplen = sizeof ENDPOINT;
    CHECK(zmq_getsockopt(router, ZMQ_LAST_ENDPOINT, ENDPOINT, &eplen) == 0);
    pthread_t th;
    CHECK(pthread_create(&th, NULL, fake_broker, router) == 0);

    collab_client_opts_t o = {.endpoint = ENDPOINT, .agent_id = "viewer1", .timeout_ms = 5000};
    collab_client_t *c = collab_client_new(&o);
    CHECK(c != NULL);
    collab_client_set_last_seq(c, 2);           /* events 1 and 2 were handled before */
    CHECK_OK(collab_client_subscribe(c, true)); /* since 2: nothing missed yet */
    collab_reply_t r;
    CHECK_OK(collab_client_request(c, "heartbeat", NULL, 0, &r));
    CHECK(r.ok);
    collab_reply_free(&r);

    /* 5, 6, 7 are queued in order; the gap before 5 (3 and 4, pushed to a connection that
       was cut) is asked for once, and the events come out 3 to 7, each once */
    uint64_t want = 3;
    collab_event_msg_t ev;
    while (collab_client_next_event(c, &ev, 100) == 0) {
        CHECK_EQ_U64(ev.seq, want);
        want++;
        collab_event_free(&ev);
    }
    CHECK_EQ_U64(want, 8);
    CHECK_EQ_U64(collab_client_last_seq(c), 7);

    CHECK_OK(collab_client_request(c, "logout", NULL, 0, &r));
    collab_reply_free(&r);
    void *ret = NULL;
    pthread_join(th, &ret);
    CHECK(ret == router); /* the fake broker answered everything */
    CHECK_STR(ASKED, "subscribe(2) heartbeat subscribe(2) logout");

    collab_client_destroy(&c);
    zmq_close(router);
    zmq_ctx_term(ZCTX);
    return tu_exit("test_client_events");
}
