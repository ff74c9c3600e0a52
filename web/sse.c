/*  sse.c: event streams (sse.h). */
#include "sse.h"
#include "json.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sse {
    struct sse *next; /* in its session's list */
    websess_t *sess;  /* NULL once detached */
    gateway_t *gw;
    struct MHD_Connection *conn;
    bool suspended, closing;
    uint64_t last_seq; /* the newest event handed to this stream */
    char *buf;
    size_t len, off;
};

/*  Appends n bytes, or closes the stream when its queue would go beyond SSE_QUEUE_MAX. */
static void push(struct sse *st, const char *p, size_t n)
{
    if (st->closing)
        return;
    if (st->off > 0) { /* what was sent is dropped first */
        memmove(st->buf, st->buf + st->off, st->len - st->off);
        st->len -= st->off;
        st->off = 0;
    }
    if (n > SSE_QUEUE_MAX - st->len) {
        st->closing = true; /* a reader that does not read: it reconnects and catches up */
        st->len = st->off = 0;
    } else {
        char *grown = realloc(st->buf, st->len + n);
        if (!grown) {
            st->closing = true;
            st->len = st->off = 0;
        } else {
            st->buf = grown;
            memcpy(st->buf + st->len, p, n);
            st->len += n;
        }
    }
    if (st->suspended) {
        st->suspended = false;
        MHD_resume_connection(st->conn);
    }
}

static ssize_t reader(void *cls, uint64_t pos, char *out, size_t max)
{
    (void)pos;
    struct sse *st = cls;
    if (st->off < st->len) {
        size_t n = st->len - st->off < max ? st->len - st->off : max;
        memcpy(out, st->buf + st->off, n);
        st->off += n;
        return (ssize_t)n;
    }
    if (st->closing)
        return MHD_CONTENT_READER_END_OF_STREAM;
    st->suspended = true; /* nothing to send: wait for an event, not in a busy loop */
    MHD_suspend_connection(st->conn);
    return 0;
}

static void unlink_stream(struct sse *st)
{
    websess_t *s = st->sess;
    if (!s)
        return;
    for (struct sse **pp = &s->streams; *pp; pp = &(*pp)->next)
        if (*pp == st) {
            *pp = st->next;
            break;
        }
    s->stream_count--;
    st->sess = NULL;
}

static void release(void *cls)
{
    struct sse *st = cls;
    unlink_stream(st);
    gw_cancel(st->gw, st);
    (*gw_stream_count(st->gw))--;
    free(st->buf);
    free(st);
}

static void close_stream(struct sse *st)
{
    st->closing = true;
    if (st->suspended) {
        st->suspended = false;
        MHD_resume_connection(st->conn);
    }
}

#define SEQ_PENDING UINT64_MAX /* a stream "from now" waits for its subscribe's reply */

/*  The reply to this stream's `subscribe`: a refusal closes the stream; a stream from now
    starts after the agent's latest event, which the reply gives. */
static void subscribed(void *arg, const collab_reply_t *reply, int rc)
{
    struct sse *st = arg;
    uint64_t last = 0;
    if (rc != 0 || !reply->ok) {
        if (st->sess)
            st->sess->subscribed = false;
        close_stream(st);
        return;
    }
    collab_map_uint(&reply->map, "last_seq", &last);
    if (st->last_seq == SEQ_PENDING)
        st->last_seq = last;
    if (st->sess && collab_client_last_seq(st->sess->client) < last && st->last_seq >= last)
        collab_client_set_last_seq(st->sess->client, last);
}

/*  Asks the broker for every event after since (since_given false: from now on only), all
    of them (the board's whole feed). */
static int subscribe(struct sse *st, bool since_given, uint64_t since)
{
    uint8_t buf[64];
    collab_pack_t p;
    size_t len;
    collab_pack_init(&p, buf, sizeof buf);
    collab_pack_map(&p, since_given ? 2 : 1);
    if (since_given)
        collab_pack_kv_uint(&p, "since", since);
    collab_pack_kv_bool(&p, "all", true);
    if (collab_pack_finish(&p, &len) != 0)
        return COLLAB_E_INTERNAL;
    int rc = gw_call(st->gw, st->sess, "subscribe", buf, len, subscribed, st);
    if (rc == 0)
        st->sess->subscribed = true;
    return rc;
}

/*  Where the new stream starts: after Last-Event-ID (the broker replays from there), or
    from now. Returns 0 or a negative code. */
static int start_at(struct sse *st, const char *last_event_id)
{
    websess_t *s = st->sess;
    uint64_t since, now = collab_client_last_seq(s->client);
    if (last_event_id && web_parse_event_id(last_event_id, &since) == 0) {
        st->last_seq = since;
        if (since < now) /* the client would drop the replay as already seen */
            collab_client_set_last_seq(s->client, since);
        return subscribe(st, true, since);
    }
    if (s->subscribed) { /* the client is up to date: now is its last event */
        st->last_seq = now;
        return 0;
    }
    st->last_seq = SEQ_PENDING;
    return subscribe(st, false, 0);
}

/*  At WEB_STREAMS_PER_SESS streams, the session's oldest is closed for the new one: a
    browser that reloads a page has closed its old stream, but a suspended connection is
    not seen to close until something is written to it (the next keep-alive). */
static void evict_oldest(websess_t *s)
{
    if (s->stream_count < WEB_STREAMS_PER_SESS)
        return;
    struct sse *oldest = s->streams;
    while (oldest && oldest->next)
        oldest = oldest->next;
    if (oldest) {
        close_stream(oldest);
        unlink_stream(oldest);
    }
}

int sse_open(webreq_t *req)
{
    websess_t *s = req->sess;
    const web_settings_t *set = gw_settings(req->gw);
    uint32_t *count = gw_stream_count(req->gw);
    if (*count >= set->max_streams) {
        web_answer_error(req, 429, "too_many_streams", "too many event streams open");
        return 0;
    }
    evict_oldest(s);
    struct sse *st = calloc(1, sizeof *st);
    if (!st) {
        web_answer_error(req, 503, "nomem", "out of memory");
        return 0;
    }
    st->gw = req->gw;
    st->conn = req->conn;
    st->sess = s;
    const char *last = web_header(req, "Last-Event-ID");
    if (!last)
        last = web_query(req, "last_event_id");
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, reader, st, release);
    if (!resp) {
        free(st);
        web_answer_error(req, 503, "nomem", "out of memory");
        return 0;
    }
    st->next = s->streams;
    s->streams = st;
    s->stream_count++;
    (*count)++;
    static const char hello[] = "retry: 2000\n: stream open\n\n";
    push(st, hello, sizeof hello - 1);
    if (start_at(st, last) != 0)
        close_stream(st);
    MHD_add_response_header(resp, "Content-Type", "text/event-stream");
    MHD_add_response_header(resp, "X-Accel-Buffering", "no");
    web_answer_response(req, 200, resp);
    return 0;
}

void sse_deliver(websess_t *s, const collab_event_msg_t *ev)
{
    char *json = NULL;
    for (struct sse *st = s->streams; st; st = st->next) {
        if (ev->seq <= st->last_seq || st->closing)
            continue;
        if (!json) {
            cJSON *data = collab_json_from_map(&ev->map);
            if (data && !cJSON_GetObjectItemCaseSensitive(data, "ts"))
                cJSON_AddNumberToObject(data, "ts", (double)ev->timestamp);
            json = data ? cJSON_PrintUnformatted(data) : NULL;
            cJSON_Delete(data);
            if (!json)
                return;
        }
        size_t cap = strlen(json) + COLLAB_MAX_EVENT_NAME + 64;
        char *line = malloc(cap);
        if (!line) {
            close_stream(st);
            continue;
        }
        int n = snprintf(line, cap, "id: %" PRIu64 "\nevent: %s\ndata: %s\n\n", ev->seq, ev->name,
                         json);
        push(st, line, (size_t)n);
        free(line);
        st->last_seq = ev->seq;
    }
    free(json);
}

void sse_keepalive(websess_t *s)
{
    static const char ping[] = ": keep-alive\n\n";
    for (struct sse *st = s->streams; st; st = st->next)
        push(st, ping, sizeof ping - 1);
}

void sse_close_session(websess_t *s)
{
    while (s->streams) {
        struct sse *st = s->streams;
        close_stream(st);
        unlink_stream(st);
    }
}
