/*  sniff.h: collab_sniff, the lab's wire sniffer as a library: libpcap capture (live or
    from a pcap file), TCP reassembly, ZMTP 3.0/3.1 parsing and envelope decoding, one
    message at a time. collab-sniff is its command line; collab-attack captures in-process.

    Typical use:

        char err[256];
        collab_sniffer_t *s = collab_sniffer_open_live("lo", 5555, err, sizeof err);
        if (!s) { fprintf(stderr, "%s\n", err); return 1; }
        // the capture is active here: start the traffic now
        const collab_sniff_msg_t *m;
        int rc;
        while ((rc = collab_sniffer_next(s, &m, 1000)) == 0 || rc == COLLAB_E_TIMEOUT)
            if (rc == 0 && m->decode_rc == 0 && m->env.kind == COLLAB_KIND_REQUEST)
                ...;  // m->env.session_id, m->frames[0], ...
        collab_sniffer_destroy(&s);

    What the sniffer sees it reports through messages; what it cannot decode (a gap from
    a lost segment, traffic that is not ZMTP, handshake commands, limits reached) it reports
    as notes, one line of text each, through the callback set by collab_sniffer_on_note.

    Memory stays bounded whatever crosses the wire: at most 512 connections are followed
    (the one idle longest is dropped, with a note); each direction holds at most 256 KiB of
    out-of-order segments (16 MiB over all connections; beyond that the hole becomes a
    gap), one frame of up to 128 KiB and one message of up to 16 frames and 256 KiB
    (collab_sniffer_set_limits raises these three, memory growing with them). A message
    over them is skipped but not lost from view: it is returned with `dropped` set and
    what was seen of it (no frames), and counted. A connection joined mid-stream, or one
    that lost bytes, is resynchronised on the first frame whose body decodes as an
    envelope. */
#ifndef COLLAB_SNIFF_H
#define COLLAB_SNIFF_H

#include "collab.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct collab_sniffer collab_sniffer_t;

/*  Which way a message went, relative to the broker (the side whose port is the capture's
    port; with port 0, the side that answered the SYN, or else the envelope's kind). */
typedef enum {
    COLLAB_SNIFF_DIR_UNKNOWN = 0,
    COLLAB_SNIFF_TO_BROKER = 1,
    COLLAB_SNIFF_FROM_BROKER = 2,
} collab_sniff_dir_t;

/*  Longest "ip:port" text: "[ipv6]:port". */
#define COLLAB_SNIFF_ADDR_LEN 56

/*  One reassembled ZeroMQ message (all frames of a multipart message) as it crossed the
    wire. Everything it points to belongs to the sniffer and stays valid until the next
    collab_sniffer_next or collab_sniffer_destroy. */
typedef struct {
    uint64_t index;                       /* 1, 2, ... in the order the sniffer returns them */
    double ts;                            /* capture time of the segment that carried its
                                             last byte, Unix seconds */
    uint32_t conn;                        /* connection id: 1, 2, ... in order of appearance */
    char src[COLLAB_SNIFF_ADDR_LEN];      /* sender "127.0.0.1:40112" or "[::1]:40112" */
    char dst[COLLAB_SNIFF_ADDR_LEN];      /* receiver */
    collab_sniff_dir_t dir;               /* relative to the broker */
    const char *mechanism;                /* the connection's ZMTP mechanism: "NULL", "CURVE"... */
    bool encrypted;                       /* a CURVE MESSAGE: frames hold ciphertext, no env */
    size_t nframes;                       /* at least 1; 0 when dropped */
    const collab_span_t *frames;          /* the frame bodies, as sent */
    size_t envelope_frame;                /* which frame env was decoded from */
    int decode_rc;                        /* 0: env is valid; else collab_envelope_decode's error */
    collab_envelope_t env;                /* views into frames[envelope_frame] */
    char reply_to[COLLAB_MAX_ACTION + 1]; /* a reply: the action of the request it answers,
                                             seen earlier on the same connection, or "" */
    bool dropped; /* over a limit: skipped, not kept (decode_rc is COLLAB_E_TOO_LARGE) */
    struct {
        const char *limit; /* the one it broke: "frames", "message_bytes", "frame_bytes"
                              or "memory" (out of memory) */
        size_t max;        /* that limit's value */
        size_t frames;     /* its frames, as far as they were seen */
        uint64_t bytes;    /* their bytes */
        bool complete;     /* its last frame was seen (not cut by a gap or the end) */
    } drop;
} collab_sniff_msg_t;

/*  Counters since the sniffer was opened. */
typedef struct {
    uint64_t packets;       /* TCP segments seen (after the port filter) */
    uint64_t messages;      /* messages returned */
    uint64_t undecoded;     /* messages whose envelope did not decode (not encrypted ones) */
    uint64_t dropped;       /* messages over the limits (counted in messages, not above) */
    uint64_t encrypted;     /* CURVE messages */
    uint64_t gaps;          /* lost stretches of a TCP stream */
    uint64_t gap_bytes;     /* their total length */
    uint64_t resyncs;       /* times a stream was resynchronised on a frame boundary */
    uint64_t not_zmtp;      /* stream directions skipped because they are not ZMTP */
    uint64_t conns;         /* connections seen */
    uint64_t dropped_conns; /* connections dropped because the table was full */
    uint64_t overflows;     /* out-of-order buffers that hit their cap */
    uint64_t kernel_drops;  /* packets the kernel dropped before the capture read them */
    bool truncated;         /* the pcap file ended in the middle of a record */
} collab_sniff_stats_t;

/*  Starts a live capture on iface ("lo", "eth0", "any") of TCP traffic on port (0: every
    TCP port), in immediate mode. When it returns, capture is active: traffic sent from now
    on is seen. NULL on failure, with the reason in err (no permission: run as root or
    with CAP_NET_RAW; no such interface; unsupported link type). */
collab_sniffer_t *collab_sniffer_open_live(const char *iface, uint16_t port, char *err,
                                           size_t errlen);

/*  Reads a pcap file (as tcpdump -w writes it; Ethernet, Linux cooked v1/v2, BSD
    loopback or raw IP links), keeping TCP traffic on port (0: every port). NULL on
    failure, with the reason in err. */
collab_sniffer_t *collab_sniffer_open_file(const char *path, uint16_t port, char *err,
                                           size_t errlen);

/*  The same from an open stream holding a pcap file (fmemopen: one in memory); the sniffer
    owns the stream from then on, and closes it even when this fails. name stands for it
    in err. */
collab_sniffer_t *collab_sniffer_open_stream(FILE *fp, const char *name, uint16_t port, char *err,
                                             size_t errlen);

/*  How large a message the sniffer keeps; 0 in a field keeps its default. */
typedef struct {
    size_t max_frames;        /* frames in one message (default 16) */
    size_t max_frame_bytes;   /* bytes in one frame (default 128 KiB) */
    size_t max_message_bytes; /* bytes in one message (default 256 KiB) */
} collab_sniff_limits_t;

#define COLLAB_SNIFF_LIMIT_FRAMES 1024               /* the most max_frames may be */
#define COLLAB_SNIFF_LIMIT_BYTES  (16 * 1024 * 1024) /* the most either byte limit may be */

/*  Sets the limits for the streams that start afterwards: call it before the first
    collab_sniffer_next. Returns 0, or COLLAB_E_LIMIT (nothing changed) when a value is
    above the COLLAB_SNIFF_LIMIT_ ones. */
int collab_sniffer_set_limits(collab_sniffer_t *self, const collab_sniff_limits_t *lim);

/*  The limits in force, defaults filled in. */
void collab_sniffer_limits(const collab_sniffer_t *self, collab_sniff_limits_t *lim);

/*  Stops the capture and frees everything, messages included; NULL-safe, nulls *self_p. */
void collab_sniffer_destroy(collab_sniffer_t **self_p);

/*  Notes (gaps, resynchronisation, handshakes, skipped traffic, limits) go to fn, one
    NUL-terminated line of text each, without a newline; fn must not call back into the
    sniffer. Without a callback, notes are only counted. */
typedef void(collab_sniff_note_fn)(void *arg, const char *text);
void collab_sniffer_on_note(collab_sniffer_t *self, collab_sniff_note_fn *fn, void *arg);

/*  A descriptor that becomes readable when packets arrive (live capture), for poll()
    alongside other inputs; -1 for a file. */
int collab_sniffer_fd(const collab_sniffer_t *self);

/*  Returns the next message in *msg (lent until the next call). Waits up to timeout_ms
    (-1: forever) for traffic in a live capture; a file is read without waiting.
    Returns 0 with a message, COLLAB_E_TIMEOUT when nothing came in time (or a signal
    interrupted the wait), 1 at the end of a file (every connection is then flushed: what
    lost segments left incomplete is reported as gaps), or COLLAB_E_IO when the capture
    fails (collab_sniffer_error says why). */
int collab_sniffer_next(collab_sniffer_t *self, const collab_sniff_msg_t **msg, int timeout_ms);

/*  The counters so far. */
void collab_sniffer_stats(const collab_sniffer_t *self, collab_sniff_stats_t *stats);

/*  The last capture error, "" when none. */
const char *collab_sniffer_error(const collab_sniffer_t *self);

/* ---- Presenting messages (used by collab-sniff and collab-replay) ---- */

/*  One readable line for a message, without a newline, NUL-terminated in out[0..cap):
    time, endpoints, direction, then the request's action, agent and session, the reply's
    status or error, or the event's name, and the main fields of the payload or data.
    Text is escaped (collab_text_escape); passwords are shown as they travelled. Returns the
    length written. */
size_t collab_sniff_format(const collab_sniff_msg_t *msg, char *out, size_t cap);

/*  The message as one JSON object (one line, no newline), for capture files:
    {"index","ts","conn","src","dst","dir","action","agent_id","session_id","frames"...}.
    Returns a heap string for the caller to free, or NULL when out of memory. */
char *collab_sniff_json(const collab_sniff_msg_t *msg);

/*  Up to max_fields "key=value" pairs of a MessagePack map, space-separated: strings
    quoted and escaped, bins as short hex, arrays and maps as their sizes. Bytes that are
    not a valid map give "<not a map>". Returns the length written into out[0..cap). */
size_t collab_sniff_format_map(const void *bytes, size_t len, int max_fields, char *out,
                               size_t cap);

#endif
