/*  tcpflow.h: TCP reassembly for many connections at once. Segments go in in capture order;
    each direction's bytes come out in stream order through a sink: retransmitted and
    overlapping bytes once, out-of-order segments held (within a cap) until the hole before
    them fills, and a hole that will not fill (the peer acknowledged bytes the capture never
    saw, the buffer cap, the connection's end) reported as a gap of so many bytes. */
#ifndef COLLAB_SNIFF_TCPFLOW_H
#define COLLAB_SNIFF_TCPFLOW_H

#include "capture.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FLOW_MAX_CONNS    512                /* connections followed at once */
#define FLOW_MAX_BUFFERED (256 * 1024)       /* out-of-order bytes held per direction */
#define FLOW_MAX_SEGMENTS 512                /* out-of-order segments held per direction */
#define FLOW_MAX_HELD     (16 * 1024 * 1024) /* out-of-order bytes held over all of them */

typedef struct flow_seg flow_seg_t;

/*  One direction of a connection: the bytes its sender sends. */
typedef struct {
    bool started;      /* next_seq is known */
    bool from_syn;     /* it started at the SYN, so its first byte is the stream's first */
    bool fin;          /* the FIN was reached in order: no more data */
    bool fin_pending;  /* a FIN was seen at fin_seq, beyond a hole */
    uint32_t next_seq; /* the next byte expected */
    uint32_t fin_seq;
    flow_seg_t *ooo; /* held segments, sorted by sequence number */
    size_t ooo_bytes, ooo_count;
} flow_dir_t;

/*  A connection; direction d is what endpoint d (addr[d], port[d]) sends. */
typedef struct {
    uint32_t id; /* 1, 2, ... in order of appearance */
    uint8_t family;
    uint8_t addr[2][16];
    uint16_t port[2];
    int client; /* the direction that sent the SYN, -1 when no SYN was seen */
    flow_dir_t dir[2];
    double last_ts;
    void *user; /* the sink's, set in open, released in close */
} flow_conn_t;

/*  Callbacks; n counts bytes. gap is called before data resumes after a hole. data's ts is
    the capture time of the segment that carried those bytes (a held segment keeps its own
    time, however much later the hole before it is filled or declared lost). */
typedef struct {
    void (*open)(void *arg, flow_conn_t *c);
    void (*data)(void *arg, flow_conn_t *c, int dir, const uint8_t *p, size_t n, double ts);
    void (*gap)(void *arg, flow_conn_t *c, int dir, uint32_t n);
    void (*close)(void *arg, flow_conn_t *c);
    void (*note)(void *arg, const char *text);
    void *arg;
} flow_sink_t;

typedef struct {
    uint64_t conns, dropped_conns, overflows, gaps, gap_bytes, retransmitted;
} flow_stats_t;

typedef struct flow_table flow_table_t;

/*  A table following at most max_conns connections (0: FLOW_MAX_CONNS). NULL when out of
    memory. The sink is copied. */
flow_table_t *flow_table_new(const flow_sink_t *sink, size_t max_conns);

/*  Frees every connection (the sink's close is called for each, without flushing). */
void flow_table_destroy(flow_table_t **self_p);

/*  Feeds one segment; the sink is called zero or more times. */
void flow_input(flow_table_t *self, const tcp_seg_t *seg);

/*  The end of the capture: every hole becomes a gap, held data is delivered, and every
    connection is closed. */
void flow_flush_all(flow_table_t *self);

const flow_stats_t *flow_table_stats(const flow_table_t *self);

/*  "127.0.0.1:5555" or "[::1]:5555" for endpoint d of c. */
void flow_endpoint(const flow_conn_t *c, int d, char *out, size_t cap);

#endif
