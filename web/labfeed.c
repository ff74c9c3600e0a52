/*  labfeed.c: the lab page's event streams (labfeed.h). */
#include "labfeed.h"
#include "sse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct lab_viewer {
    struct lab_viewer *next;
    lab_feed_t *feed; /* NULL once detached (the feed closed it) */
    struct MHD_Connection *conn;
    char sess_id[COLLAB_MAX_SESSION_ID + 1];
    bool suspended, closing;
    char *buf;
    size_t len, off;
} lab_viewer_t;

struct lab_feed {
    lab_viewer_t *viewers;
    unsigned count;
    bool keep, finished;
    char *hist;
    size_t hist_len;
    void (*on_empty)(void *arg);
    void *arg;
};

lab_feed_t *lab_feed_new(bool history, void (*on_empty)(void *arg), void *arg)
{
    lab_feed_t *f = calloc(1, sizeof *f);
    if (f) {
        f->keep = history;
        f->on_empty = on_empty;
        f->arg = arg;
    }
    return f;
}

void lab_feed_reset(lab_feed_t *f)
{
    free(f->hist);
    f->hist = NULL;
    f->hist_len = 0;
    f->finished = false;
}

static void wake(lab_viewer_t *v)
{
    if (v->suspended) {
        v->suspended = false;
        MHD_resume_connection(v->conn);
    }
}

/*  Appends n bytes to v's queue, or closes v when it would go beyond SSE_QUEUE_MAX. */
static void push(lab_viewer_t *v, const char *p, size_t n)
{
    if (v->closing)
        return;
    if (v->off > 0) {
        memmove(v->buf, v->buf + v->off, v->len - v->off);
        v->len -= v->off;
        v->off = 0;
    }
    char *grown = n <= SSE_QUEUE_MAX - v->len ? realloc(v->buf, v->len + n + 1) : NULL;
    if (!grown) { /* a reader that does not read, or no memory: its stream ends */
        v->closing = true;
        v->len = v->off = 0;
    } else {
        v->buf = grown;
        memcpy(v->buf + v->len, p, n);
        v->len += n;
    }
    wake(v);
}

static ssize_t reader(void *cls, uint64_t pos, char *out, size_t max)
{
    (void)pos;
    lab_viewer_t *v = cls;
    if (v->off < v->len) {
        size_t n = v->len - v->off < max ? v->len - v->off : max;
        memcpy(out, v->buf + v->off, n);
        v->off += n;
        return (ssize_t)n;
    }
    if (v->closing)
        return MHD_CONTENT_READER_END_OF_STREAM;
    v->suspended = true;
    MHD_suspend_connection(v->conn);
    return 0;
}

static void detach(lab_viewer_t *v)
{
    lab_feed_t *f = v->feed;
    if (!f)
        return;
    for (lab_viewer_t **pp = &f->viewers; *pp; pp = &(*pp)->next)
        if (*pp == v) {
            *pp = v->next;
            break;
        }
    v->feed = NULL;
    if (--f->count == 0 && f->on_empty)
        f->on_empty(f->arg);
}

static void release(void *cls)
{
    lab_viewer_t *v = cls;
    detach(v);
    free(v->buf);
    free(v);
}

static void end_viewer(lab_viewer_t *v)
{
    v->closing = true;
    wake(v);
}

void lab_feed_open(lab_feed_t *f, webreq_t *req)
{
    if (f->count >= LAB_FEED_VIEWERS_MAX) {
        web_answer_error(req, 429, "too_many_streams", "too many viewers of this stream");
        return;
    }
    lab_viewer_t *v = calloc(1, sizeof *v);
    struct MHD_Response *resp =
        v ? MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, reader, v, release) : NULL;
    if (!resp) {
        free(v);
        web_answer_error(req, 503, "nomem", "out of memory");
        return;
    }
    v->feed = f;
    v->conn = req->conn;
    snprintf(v->sess_id, sizeof v->sess_id, "%s", req->sess ? req->sess->id : "");
    v->next = f->viewers;
    f->viewers = v;
    f->count++;
    static const char hello[] = "retry: 2000\n: stream open\n\n";
    push(v, hello, sizeof hello - 1);
    if (f->hist_len)
        push(v, f->hist, f->hist_len);
    if (f->finished)
        end_viewer(v);
    MHD_add_response_header(resp, "Content-Type", "text/event-stream");
    MHD_add_response_header(resp, "X-Accel-Buffering", "no");
    web_answer_response(req, 200, resp);
}

/*  Keeps n bytes of the feed's history while it fits. */
static void remember(lab_feed_t *f, const char *p, size_t n)
{
    if (!f->keep || n > LAB_FEED_HISTORY_MAX - f->hist_len)
        return;
    char *grown = realloc(f->hist, f->hist_len + n);
    if (grown) {
        f->hist = grown;
        memcpy(f->hist + f->hist_len, p, n);
        f->hist_len += n;
    }
}

void lab_feed_event(lab_feed_t *f, const char *name, cJSON *data)
{
    if (!data)
        data = cJSON_CreateObject();
    char *json = data ? cJSON_PrintUnformatted(data) : NULL;
    cJSON_Delete(data);
    size_t cap = json ? strlen(json) + strlen(name) + 32 : 0;
    char *text = json ? malloc(cap) : NULL;
    if (text) {
        int n = snprintf(text, cap, "event: %s\ndata: %s\n\n", name, json);
        remember(f, text, (size_t)n);
        for (lab_viewer_t *v = f->viewers; v; v = v->next)
            push(v, text, (size_t)n);
    }
    free(text);
    free(json);
}

void lab_feed_finish(lab_feed_t *f)
{
    f->finished = true;
    for (lab_viewer_t *v = f->viewers; v; v = v->next)
        end_viewer(v);
}

unsigned lab_feed_viewers(const lab_feed_t *f)
{
    return f ? f->count : 0;
}

void lab_feed_tick(lab_feed_t *f, gateway_t *gw, bool keepalive)
{
    static const char ping[] = ": keep-alive\n\n";
    for (lab_viewer_t *v = f->viewers, *next; v; v = next) {
        next = v->next;
        const websess_t *s = websess_find(gw_sessions(gw), v->sess_id);
        if (!s || s->dead) {
            end_viewer(v);
            detach(v); /* on_empty may stop the feed's program now */
        } else if (keepalive)
            push(v, ping, sizeof ping - 1);
    }
}

void lab_feed_close_all(lab_feed_t *f)
{
    while (f && f->viewers) {
        lab_viewer_t *v = f->viewers;
        end_viewer(v);
        detach(v);
    }
}

void lab_feed_free(lab_feed_t **f)
{
    if (!f || !*f)
        return;
    lab_feed_close_all(*f);
    free((*f)->hist);
    free(*f);
    *f = NULL;
}
