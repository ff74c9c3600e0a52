/*  sniffer.c: the collab_sniffer object (see sniff.h): capture -> TCP reassembly -> ZMTP ->
    envelopes, with a queue of decoded messages between the packet side and the caller. */
#include "sniff.h"
#include "collab_clock.h"

#include "capture.h"
#include "tcpflow.h"
#include "zmtp.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PENDING 32 /* requests remembered per connection to name their replies */

_Static_assert(COLLAB_SNIFF_LIMIT_FRAMES == ZMTP_LIMIT_FRAMES &&
                   COLLAB_SNIFF_LIMIT_BYTES == ZMTP_LIMIT_BYTES,
               "sniff.h and zmtp.h agree on how far the limits go");

typedef struct qmsg {
    struct qmsg *next;
    collab_sniff_msg_t m;
    collab_span_t spans[]; /* the frames, then their bytes */
} qmsg_t;

typedef struct sconn sconn_t;

/*  One direction of a connection, as a ZMTP sink's argument. */
typedef struct {
    sconn_t *sc;
    int d;
} sdir_t;

struct sconn {
    collab_sniffer_t *s;
    flow_conn_t *c;
    zmtp_stream_t z[2];
    bool started[2];
    double ts[2]; /* capture time of the segment whose bytes each direction parses now */
    sdir_t dirs[2];
    struct {
        uint64_t rid;
        char action[COLLAB_MAX_ACTION + 1];
    } pending[PENDING];
    size_t next_pending;
};

struct collab_sniffer {
    capture_t *cap;
    flow_table_t *flows;
    uint16_t port;
    collab_sniff_note_fn *note_fn;
    void *note_arg;
    qmsg_t *head, *tail, *lent;
    collab_sniff_stats_t stats;
    zmtp_limits_t limits;
    bool ended;
    char err[512];
};

__attribute__((format(printf, 2, 3))) static void notef(collab_sniffer_t *s, const char *fmt, ...)
{
    char text[640];
    va_list ap;
    if (!s->note_fn)
        return;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    s->note_fn(s->note_arg, text);
}

/* ---- Messages ---- */

static collab_sniff_dir_t direction(const collab_sniffer_t *s, const flow_conn_t *c, int d,
                                    const collab_sniff_msg_t *m)
{
    if (s->port && c->port[!d] == s->port && c->port[d] != s->port)
        return COLLAB_SNIFF_TO_BROKER;
    if (s->port && c->port[d] == s->port && c->port[!d] != s->port)
        return COLLAB_SNIFF_FROM_BROKER;
    if (c->client >= 0)
        return d == c->client ? COLLAB_SNIFF_TO_BROKER : COLLAB_SNIFF_FROM_BROKER;
    if (m->decode_rc == 0)
        return m->env.kind == COLLAB_KIND_REQUEST ? COLLAB_SNIFF_TO_BROKER
                                                  : COLLAB_SNIFF_FROM_BROKER;
    return COLLAB_SNIFF_DIR_UNKNOWN;
}

/*  The envelope is the first non-empty frame that decodes (a DEALER sends exactly one;
    a REQ-style client would put an empty delimiter before it). */
static void decode(collab_sniff_msg_t *m)
{
    bool first = true;
    m->decode_rc = COLLAB_E_MALFORMED;
    for (size_t i = 0; !m->encrypted && i < m->nframes; i++) {
        if (m->frames[i].len == 0)
            continue;
        int rc = collab_envelope_decode(m->frames[i].ptr, m->frames[i].len, &m->env);
        if (rc == 0) {
            m->decode_rc = 0;
            m->envelope_frame = i;
            return;
        }
        if (first)
            m->decode_rc = rc;
        first = false;
    }
    memset(&m->env, 0, sizeof m->env);
}

/*  Remembers a request's action, or names the request a reply answers. */
static void correlate(sconn_t *sc, collab_sniff_msg_t *m)
{
    if (m->decode_rc != 0)
        return;
    if (m->env.kind == COLLAB_KIND_REQUEST) {
        size_t i = sc->next_pending++ % PENDING;
        sc->pending[i].rid = m->env.request_id;
        snprintf(sc->pending[i].action, sizeof sc->pending[i].action, "%.*s",
                 (int)m->env.action.len, m->env.action.ptr);
        return;
    }
    for (size_t i = 0; m->env.kind == COLLAB_KIND_REPLY && i < PENDING; i++)
        if (sc->pending[i].action[0] && sc->pending[i].rid == m->env.request_id) {
            memcpy(m->reply_to, sc->pending[i].action, sizeof m->reply_to);
            sc->pending[i].action[0] = '\0';
            return;
        }
}

static void enqueue(collab_sniffer_t *s, qmsg_t *q)
{
    if (s->tail)
        s->tail->next = q;
    else
        s->head = q;
    s->tail = q;
}

/*  A queued message with room for n frames of total bytes, its connection fields set. */
static qmsg_t *new_msg(const sdir_t *sd, size_t n, size_t total)
{
    const sconn_t *sc = sd->sc;
    qmsg_t *q = calloc(1, sizeof *q + n * sizeof(collab_span_t) + total);
    if (!q)
        return NULL;
    collab_sniff_msg_t *m = &q->m;
    m->ts = sc->ts[sd->d];
    m->conn = sc->c->id;
    flow_endpoint(sc->c, sd->d, m->src, sizeof m->src);
    flow_endpoint(sc->c, !sd->d, m->dst, sizeof m->dst);
    zmtp_mech_t mech = sc->z[sd->d].mech ? sc->z[sd->d].mech : sc->z[!sd->d].mech;
    m->mechanism = zmtp_mech_name(mech);
    m->nframes = n;
    m->frames = q->spans;
    return q;
}

static void on_message(void *arg, const collab_span_t *frames, size_t n, bool encrypted)
{
    sdir_t *sd = arg;
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += frames[i].len;
    qmsg_t *q = new_msg(sd, n, total);
    if (!q)
        return;
    char *bytes = (char *)(q->spans + n);
    for (size_t i = 0; i < n; i++) {
        if (frames[i].len)
            memcpy(bytes, frames[i].ptr, frames[i].len);
        q->spans[i] = (collab_span_t){bytes, frames[i].len};
        bytes += frames[i].len;
    }
    collab_sniff_msg_t *m = &q->m;
    m->encrypted = encrypted;
    decode(m);
    m->dir = direction(sd->sc->s, sd->sc->c, sd->d, m);
    correlate(sd->sc, m);
    enqueue(sd->sc->s, q);
}

/*  A message over the limits: returned like any other, without frames, so that it is
    counted and shows in the output and the capture file. */
static void on_dropped(void *arg, const zmtp_drop_t *d)
{
    static const char *const limits[] = {"", "frames", "message_bytes", "frame_bytes", "memory"};
    sdir_t *sd = arg;
    qmsg_t *q = new_msg(sd, 0, 0);
    if (!q)
        return;
    collab_sniff_msg_t *m = &q->m;
    m->encrypted = d->encrypted;
    m->decode_rc = COLLAB_E_TOO_LARGE;
    m->dropped = true;
    m->drop.limit = limits[d->why];
    m->drop.max = d->limit;
    m->drop.frames = d->frames;
    m->drop.bytes = d->bytes;
    m->drop.complete = d->complete;
    m->dir = direction(sd->sc->s, sd->sc->c, sd->d, m);
    enqueue(sd->sc->s, q);
}

/* ---- Stream callbacks ---- */

static void on_zmtp_note(void *arg, const char *text)
{
    sdir_t *sd = arg;
    char a[COLLAB_SNIFF_ADDR_LEN], b[COLLAB_SNIFF_ADDR_LEN];
    flow_endpoint(sd->sc->c, sd->d, a, sizeof a);
    flow_endpoint(sd->sc->c, !sd->d, b, sizeof b);
    notef(sd->sc->s, "conn %u (%s -> %s): %s", sd->sc->c->id, a, b, text);
}

static zmtp_sink_t sink_of(sconn_t *sc, int d)
{
    return (zmtp_sink_t){
        .message = on_message, .dropped = on_dropped, .note = on_zmtp_note, .arg = &sc->dirs[d]};
}

/*  Counts the resynchronisations and skipped streams that the last call on a stream caused. */
static void account(sconn_t *sc, int d, uint64_t resyncs_before, bool not_zmtp_before)
{
    sc->s->stats.resyncs += sc->z[d].resyncs - resyncs_before;
    sc->s->stats.not_zmtp += sc->z[d].not_zmtp && !not_zmtp_before;
}

static void start_stream(sconn_t *sc, int d, bool from_start)
{
    if (!sc->started[d]) {
        zmtp_init(&sc->z[d], from_start, &sc->s->limits);
        sc->started[d] = true;
    }
}

static void on_open(void *arg, flow_conn_t *c)
{
    sconn_t *sc = calloc(1, sizeof *sc);
    c->user = sc;
    if (!sc)
        return;
    sc->s = arg;
    sc->c = c;
    for (int d = 0; d < 2; d++)
        sc->dirs[d] = (sdir_t){sc, d};
}

static void on_data(void *arg, flow_conn_t *c, int d, const uint8_t *p, size_t n, double ts)
{
    sconn_t *sc = c->user;
    (void)arg;
    if (!sc)
        return;
    sc->ts[d] = ts;
    start_stream(sc, d, c->dir[d].from_syn);
    uint64_t r = sc->z[d].resyncs;
    bool nz = sc->z[d].not_zmtp;
    zmtp_sink_t sink = sink_of(sc, d);
    zmtp_feed(&sc->z[d], p, n, &sink);
    account(sc, d, r, nz);
}

static void on_gap(void *arg, flow_conn_t *c, int d, uint32_t n)
{
    sconn_t *sc = c->user;
    (void)arg;
    if (!sc)
        return;
    start_stream(sc, d, false); /* the stream's first bytes were lost */
    zmtp_sink_t sink = sink_of(sc, d);
    zmtp_gap(&sc->z[d], n, &sink);
}

static void on_close(void *arg, flow_conn_t *c)
{
    sconn_t *sc = c->user;
    (void)arg;
    if (!sc)
        return;
    for (int d = 0; d < 2; d++) {
        if (!sc->started[d])
            continue;
        zmtp_sink_t sink = sink_of(sc, d);
        zmtp_end(&sc->z[d], &sink);
        zmtp_free(&sc->z[d]);
    }
    free(sc);
    c->user = NULL;
}

static void on_flow_note(void *arg, const char *text)
{
    notef(arg, "%s", text);
}

/* ---- The object ---- */

static collab_sniffer_t *create(capture_t *cap, uint16_t port, char *err, size_t errlen)
{
    if (!cap)
        return NULL;
    collab_sniffer_t *s = calloc(1, sizeof *s);
    flow_sink_t sink = {.open = on_open,
                        .data = on_data,
                        .gap = on_gap,
                        .close = on_close,
                        .note = on_flow_note,
                        .arg = s};
    if (!s || !(s->flows = flow_table_new(&sink, 0))) {
        snprintf(err, errlen, "out of memory");
        capture_close(&cap);
        free(s);
        return NULL;
    }
    s->cap = cap;
    s->port = port;
    s->limits = zmtp_limits_resolve(NULL);
    return s;
}

int collab_sniffer_set_limits(collab_sniffer_t *self, const collab_sniff_limits_t *lim)
{
    if (lim->max_frames > COLLAB_SNIFF_LIMIT_FRAMES ||
        lim->max_frame_bytes > COLLAB_SNIFF_LIMIT_BYTES ||
        lim->max_message_bytes > COLLAB_SNIFF_LIMIT_BYTES)
        return COLLAB_E_LIMIT;
    zmtp_limits_t z = {lim->max_frames, lim->max_frame_bytes, lim->max_message_bytes};
    self->limits = zmtp_limits_resolve(&z);
    return 0;
}

void collab_sniffer_limits(const collab_sniffer_t *self, collab_sniff_limits_t *lim)
{
    *lim = (collab_sniff_limits_t){self->limits.max_frames, self->limits.max_frame,
                                   self->limits.max_message};
}

collab_sniffer_t *collab_sniffer_open_live(const char *iface, uint16_t port, char *err,
                                           size_t errlen)
{
    return create(capture_open_live(iface, port, err, errlen), port, err, errlen);
}

collab_sniffer_t *collab_sniffer_open_file(const char *path, uint16_t port, char *err,
                                           size_t errlen)
{
    return create(capture_open_file(path, port, err, errlen), port, err, errlen);
}

collab_sniffer_t *collab_sniffer_open_stream(FILE *fp, const char *name, uint16_t port, char *err,
                                             size_t errlen)
{
    return create(capture_open_stream(fp, name, port, err, errlen), port, err, errlen);
}

static void free_queue(qmsg_t *q)
{
    while (q) {
        qmsg_t *next = q->next;
        free(q);
        q = next;
    }
}

void collab_sniffer_destroy(collab_sniffer_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    collab_sniffer_t *s = *self_p;
    flow_table_destroy(&s->flows);
    capture_close(&s->cap);
    free_queue(s->head);
    free(s->lent);
    free(s);
    *self_p = NULL;
}

void collab_sniffer_on_note(collab_sniffer_t *self, collab_sniff_note_fn *fn, void *arg)
{
    self->note_fn = fn;
    self->note_arg = arg;
}

int collab_sniffer_fd(const collab_sniffer_t *self)
{
    return capture_fd(self->cap);
}

static const collab_sniff_msg_t *pop(collab_sniffer_t *s)
{
    qmsg_t *q = s->head;
    s->head = q->next;
    if (!s->head)
        s->tail = NULL;
    q->next = NULL;
    s->lent = q;
    q->m.index = ++s->stats.messages;
    s->stats.dropped += q->m.dropped;
    s->stats.encrypted += q->m.encrypted && !q->m.dropped;
    s->stats.undecoded += !q->m.encrypted && !q->m.dropped && q->m.decode_rc != 0;
    return &q->m;
}

static void end_of_file(collab_sniffer_t *s)
{
    if (capture_truncated(s->cap)) {
        s->stats.truncated = true;
        notef(s, "the capture file is cut short (%s): read as far as it goes",
              capture_error(s->cap));
    }
    flow_flush_all(s->flows);
    s->ended = true;
}

/*  Waits for the live capture's descriptor until the deadline (-1: none). Returns false
    when the time is up or a signal interrupted the wait. */
static bool wait_packets(collab_sniffer_t *s, int64_t deadline)
{
    int64_t left = deadline < 0 ? -1 : deadline - collab_mono_ms();
    if (deadline >= 0 && left <= 0)
        return false;
    struct pollfd p = {capture_fd(s->cap), POLLIN, 0};
    int rc = poll(&p, 1, left > 1000000 ? 1000000 : (int)left);
    return rc > 0 || (rc < 0 && errno != EINTR);
}

int collab_sniffer_next(collab_sniffer_t *self, const collab_sniff_msg_t **msg, int timeout_ms)
{
    int64_t deadline = timeout_ms < 0 ? -1 : collab_mono_ms() + timeout_ms;
    free(self->lent);
    self->lent = NULL;
    for (;;) {
        if (self->head) {
            *msg = pop(self);
            return 0;
        }
        if (self->ended)
            return 1;
        tcp_seg_t seg;
        int rc = capture_next(self->cap, &seg);
        if (rc == CAP_SEGMENT) {
            self->stats.packets++;
            flow_input(self->flows, &seg);
        } else if (rc == CAP_END) {
            end_of_file(self);
        } else if (rc == CAP_ERROR) {
            snprintf(self->err, sizeof self->err, "%s", capture_error(self->cap));
            return COLLAB_E_IO;
        } else if (!wait_packets(self, deadline)) {
            return COLLAB_E_TIMEOUT;
        }
    }
}

void collab_sniffer_stats(const collab_sniffer_t *self, collab_sniff_stats_t *stats)
{
    const flow_stats_t *f = flow_table_stats(self->flows);
    *stats = self->stats;
    stats->gaps = f->gaps;
    stats->gap_bytes = f->gap_bytes;
    stats->conns = f->conns;
    stats->dropped_conns = f->dropped_conns;
    stats->overflows = f->overflows;
    stats->kernel_drops = capture_drops(self->cap);
}

const char *collab_sniffer_error(const collab_sniffer_t *self)
{
    return self->err;
}
