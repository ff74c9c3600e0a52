/*  tcpflow.c: TCP reassembly (see tcpflow.h). Sequence numbers are compared in serial
    arithmetic (RFC 1982), so streams that wrap around 2^32 reassemble like any other. */
#include "tcpflow.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct flow_seg {
    flow_seg_t *next;
    uint32_t seq;
    size_t len;
    double ts; /* when the segment was captured */
    uint8_t data[];
};

struct flow_table {
    flow_sink_t sink;
    flow_conn_t **conns;
    size_t count, max;
    uint32_t next_id;
    size_t held; /* out-of-order bytes held over all connections */
    flow_stats_t stats;
};

/*  a - b as a signed distance: positive when a is after b. */
static int32_t seq_diff(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b);
}

static void note(flow_table_t *t, const char *fmt, const flow_conn_t *c, int d, uint64_t n)
{
    char a[64], b[64], text[256];
    if (!t->sink.note)
        return;
    flow_endpoint(c, d, a, sizeof a);
    flow_endpoint(c, !d, b, sizeof b);
    snprintf(text, sizeof text, fmt, (unsigned long long)n, c->id, a, b);
    t->sink.note(t->sink.arg, text);
}

void flow_endpoint(const flow_conn_t *c, int d, char *out, size_t cap)
{
    char ip[INET6_ADDRSTRLEN] = "?";
    inet_ntop(c->family == 4 ? AF_INET : AF_INET6, c->addr[d], ip, sizeof ip);
    snprintf(out, cap, c->family == 4 ? "%s:%u" : "[%s]:%u", ip, (unsigned)c->port[d]);
}

/* ---- One direction ---- */

static void deliver(flow_table_t *t, flow_conn_t *c, int d, uint32_t seq, const uint8_t *p,
                    size_t len, double ts)
{
    flow_dir_t *dir = &c->dir[d];
    int32_t off = seq_diff(dir->next_seq, seq);
    if (off < 0 || (size_t)off >= len) {
        if (len)
            t->stats.retransmitted++;
        return;
    }
    dir->next_seq += (uint32_t)(len - (size_t)off);
    if (t->sink.data)
        t->sink.data(t->sink.arg, c, d, p + off, len - (size_t)off, ts);
}

/*  Delivers held segments that the stream has reached, and a FIN it has reached. */
static void drain(flow_table_t *t, flow_conn_t *c, int d)
{
    flow_dir_t *dir = &c->dir[d];
    while (dir->ooo && seq_diff(dir->ooo->seq, dir->next_seq) <= 0) {
        flow_seg_t *s = dir->ooo;
        dir->ooo = s->next;
        dir->ooo_bytes -= s->len;
        dir->ooo_count--;
        t->held -= s->len;
        deliver(t, c, d, s->seq, s->data, s->len, s->ts);
        free(s);
    }
    if (dir->fin_pending && dir->next_seq == dir->fin_seq) {
        dir->fin = true;
        dir->fin_pending = false;
        dir->next_seq++;
    }
}

/*  Declares the bytes before seq lost and resumes there. */
static void skip_to(flow_table_t *t, flow_conn_t *c, int d, uint32_t seq)
{
    flow_dir_t *dir = &c->dir[d];
    uint32_t n = seq - dir->next_seq;
    if (seq_diff(seq, dir->next_seq) <= 0)
        return;
    t->stats.gaps++;
    t->stats.gap_bytes += n;
    note(t, "gap of %llu bytes on conn %u (%s -> %s), resynchronising", c, d, n);
    dir->next_seq = seq;
    if (t->sink.gap)
        t->sink.gap(t->sink.arg, c, d, n);
    drain(t, c, d);
}

/*  Turns every remaining hole of a direction into a gap. */
static void flush_dir(flow_table_t *t, flow_conn_t *c, int d)
{
    flow_dir_t *dir = &c->dir[d];
    while (dir->ooo)
        skip_to(t, c, d, dir->ooo->seq);
    if (dir->fin_pending)
        skip_to(t, c, d, dir->fin_seq);
}

static bool over_cap(const flow_table_t *t, const flow_dir_t *dir, size_t len)
{
    return dir->ooo_bytes + len > FLOW_MAX_BUFFERED || dir->ooo_count >= FLOW_MAX_SEGMENTS ||
           t->held + len > FLOW_MAX_HELD;
}

/*  Holds a segment that arrived before the bytes ahead of it, in sequence order. When the
    caps do not allow it, the holes before it are declared gaps instead. */
static void hold(flow_table_t *t, flow_conn_t *c, int d, uint32_t seq, const uint8_t *p, size_t len,
                 double ts)
{
    flow_dir_t *dir = &c->dir[d];
    if (over_cap(t, dir, len)) {
        t->stats.overflows++;
        note(t, "out-of-order buffer full (%llu bytes held) on conn %u (%s -> %s)", c, d,
             dir->ooo_bytes);
        while (dir->ooo && over_cap(t, dir, len))
            skip_to(t, c, d, dir->ooo->seq);
    }
    if (over_cap(t, dir, len) || seq_diff(seq, dir->next_seq) <= 0) {
        skip_to(t, c, d, seq);
        deliver(t, c, d, seq, p, len, ts);
        drain(t, c, d);
        return;
    }
    flow_seg_t **pp = &dir->ooo;
    while (*pp && seq_diff((*pp)->seq, seq) < 0)
        pp = &(*pp)->next;
    if (*pp && (*pp)->seq == seq && (*pp)->len >= len) {
        t->stats.retransmitted++;
        return;
    }
    flow_seg_t *s = malloc(sizeof *s + len);
    if (!s)
        return;
    s->seq = seq;
    s->len = len;
    s->ts = ts;
    memcpy(s->data, p, len);
    s->next = *pp;
    *pp = s;
    dir->ooo_bytes += len;
    dir->ooo_count++;
    t->held += len;
}

static void input_data(flow_table_t *t, flow_conn_t *c, int d, uint32_t seq, const tcp_seg_t *seg)
{
    flow_dir_t *dir = &c->dir[d];
    if (seq_diff(seq, dir->next_seq) > 0) {
        if (seg->len)
            hold(t, c, d, seq, seg->payload, seg->len, seg->ts);
        return;
    }
    deliver(t, c, d, seq, seg->payload, seg->len, seg->ts);
    if (seg->missing && dir->next_seq == seq + (uint32_t)seg->len) /* cut by the snaplen */
        skip_to(t, c, d, seq + (uint32_t)(seg->len + seg->missing));
    drain(t, c, d);
}

/*  The peer acknowledged bytes of direction d that the capture never saw: they are lost. */
static void input_ack(flow_table_t *t, flow_conn_t *c, int d, uint32_t ack)
{
    flow_dir_t *dir = &c->dir[d];
    if (!dir->started || dir->fin)
        return;
    if (dir->fin_pending && seq_diff(ack, dir->fin_seq) > 0)
        ack = dir->fin_seq;
    while (seq_diff(ack, dir->next_seq) > 0) { /* each hole up to ack, not the held data */
        bool held = dir->ooo && seq_diff(dir->ooo->seq, ack) < 0;
        skip_to(t, c, d, held ? dir->ooo->seq : ack);
    }
}

/* ---- The table ---- */

flow_table_t *flow_table_new(const flow_sink_t *sink, size_t max_conns)
{
    flow_table_t *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->sink = *sink;
    t->max = max_conns ? max_conns : FLOW_MAX_CONNS;
    t->conns = calloc(t->max, sizeof *t->conns);
    if (!t->conns) {
        free(t);
        return NULL;
    }
    return t;
}

static void free_conn(flow_table_t *t, size_t i)
{
    flow_conn_t *c = t->conns[i];
    if (t->sink.close)
        t->sink.close(t->sink.arg, c);
    for (int d = 0; d < 2; d++) {
        t->held -= c->dir[d].ooo_bytes;
        while (c->dir[d].ooo) {
            flow_seg_t *s = c->dir[d].ooo;
            c->dir[d].ooo = s->next;
            free(s);
        }
    }
    free(c);
    t->conns[i] = t->conns[--t->count];
}

/*  Flushes both directions and forgets the connection at index i. */
static void close_conn(flow_table_t *t, size_t i)
{
    flush_dir(t, t->conns[i], 0);
    flush_dir(t, t->conns[i], 1);
    free_conn(t, i);
}

void flow_table_destroy(flow_table_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    flow_table_t *t = *self_p;
    while (t->count)
        free_conn(t, t->count - 1);
    free(t->conns);
    free(t);
    *self_p = NULL;
}

void flow_flush_all(flow_table_t *self)
{
    while (self->count)
        close_conn(self, self->count - 1);
}

const flow_stats_t *flow_table_stats(const flow_table_t *self)
{
    return &self->stats;
}

/*  The connection of a segment and the segment's direction in it, or -1. */
static long find(const flow_table_t *t, const tcp_seg_t *seg, int *d)
{
    size_t alen = seg->family == 4 ? 4 : 16;
    for (size_t i = 0; i < t->count; i++) {
        const flow_conn_t *c = t->conns[i];
        if (c->family != seg->family)
            continue;
        for (*d = 0; *d < 2; (*d)++)
            if (c->port[*d] == seg->sport && c->port[!*d] == seg->dport &&
                memcmp(c->addr[*d], seg->src, alen) == 0 &&
                memcmp(c->addr[!*d], seg->dst, alen) == 0)
                return (long)i;
    }
    return -1;
}

/*  Makes room by dropping the connection idle the longest. */
static void evict_one(flow_table_t *t)
{
    size_t oldest = 0;
    for (size_t i = 1; i < t->count; i++)
        if (t->conns[i]->last_ts < t->conns[oldest]->last_ts)
            oldest = i;
    t->stats.dropped_conns++;
    note(t, "connection table full (%llu): dropped conn %u (%s <-> %s)", t->conns[oldest], 0,
         t->max);
    close_conn(t, oldest);
}

static flow_conn_t *create(flow_table_t *t, const tcp_seg_t *seg)
{
    if (t->count == t->max)
        evict_one(t);
    flow_conn_t *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->id = ++t->next_id;
    c->family = seg->family;
    memcpy(c->addr[0], seg->src, 16);
    memcpy(c->addr[1], seg->dst, 16);
    c->port[0] = seg->sport;
    c->port[1] = seg->dport;
    c->client = -1;
    t->conns[t->count++] = c;
    t->stats.conns++;
    if (t->sink.open)
        t->sink.open(t->sink.arg, c);
    return c;
}

/*  A SYN for a connection that already carries data: its 4-tuple is being reused. */
static bool reused(const flow_conn_t *c, int d, const tcp_seg_t *seg)
{
    if (!(seg->flags & TCP_SYN) || (seg->flags & TCP_ACK))
        return false;
    return !c->dir[d].from_syn || c->dir[d].next_seq != seg->seq + 1;
}

static flow_conn_t *lookup(flow_table_t *t, const tcp_seg_t *seg, int *d)
{
    long i = find(t, seg, d);
    if (i >= 0 && reused(t->conns[i], *d, seg)) {
        close_conn(t, (size_t)i);
        i = -1;
    }
    if (i >= 0)
        return t->conns[i];
    if (!(seg->flags & TCP_SYN) && seg->len == 0 && seg->missing == 0) /* stray ACK, FIN */
        return NULL;
    if (seg->flags & TCP_RST)
        return NULL;
    *d = 0;
    return create(t, seg);
}

static void start_dir(flow_conn_t *c, int d, const tcp_seg_t *seg)
{
    flow_dir_t *dir = &c->dir[d];
    if (seg->flags & TCP_SYN) {
        if (!dir->started) {
            dir->started = dir->from_syn = true;
            dir->next_seq = seg->seq + 1;
        }
        c->client = seg->flags & TCP_ACK ? !d : d;
    } else if (!dir->started && (seg->len || seg->missing)) {
        dir->started = true; /* joined mid-stream */
        dir->next_seq = seg->seq;
    }
}

static void input_fin(flow_table_t *t, flow_conn_t *c, int d, uint32_t seq, const tcp_seg_t *seg)
{
    flow_dir_t *dir = &c->dir[d];
    if (!dir->started || dir->fin)
        return;
    dir->fin_pending = true;
    dir->fin_seq = seq + (uint32_t)(seg->len + seg->missing);
    drain(t, c, d);
}

void flow_input(flow_table_t *self, const tcp_seg_t *seg)
{
    int d;
    flow_conn_t *c = lookup(self, seg, &d);
    if (!c)
        return;
    c->last_ts = seg->ts;
    start_dir(c, d, seg);
    uint32_t seq = seg->flags & TCP_SYN ? seg->seq + 1 : seg->seq;
    if (seg->flags & TCP_ACK)
        input_ack(self, c, !d, seg->ack);
    if (c->dir[d].started && (seg->len || seg->missing))
        input_data(self, c, d, seq, seg);
    if (seg->flags & TCP_FIN)
        input_fin(self, c, d, seq, seg);
    long i = find(self, seg, &d);
    if (i >= 0 && ((seg->flags & TCP_RST) || (c->dir[0].fin && c->dir[1].fin)))
        close_conn(self, (size_t)i);
}
