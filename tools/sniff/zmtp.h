/*  zmtp.h: a ZMTP 3.0/3.1 parser for one direction of a TCP stream (RFC 23 and 37, with
    the NULL, PLAIN and CURVE mechanisms of RFC 24 and 26). Bytes go in as the stream
    delivers them; complete messages (all frames of a multipart message) and notes about
    the greeting, the handshake commands and anything unreadable come out through a sink.
    A stream joined mid-way (or after bytes were lost) is resynchronised on a frame boundary:
    the first frame header whose body decodes as a taskcollab envelope. Pure: no I/O, no
    clock; memory is bounded by the limits below. A message that breaks a limit is not
    lost silently: its size is reported through the sink's dropped callback. */
#ifndef COLLAB_SNIFF_ZMTP_H
#define COLLAB_SNIFF_ZMTP_H

#include "collab.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The default limits, and how far zmtp_limits_t may raise them. */
#define ZMTP_MAX_FRAME    (2 * COLLAB_MAX_FRAME) /* bytes in one frame */
#define ZMTP_MAX_FRAMES   16                     /* frames in one message */
#define ZMTP_MAX_MESSAGE  (4 * COLLAB_MAX_FRAME) /* bytes in one message */
#define ZMTP_LIMIT_FRAMES 1024                   /* the most max_frames may be */
#define ZMTP_LIMIT_BYTES  (16 * 1024 * 1024)     /* the most max_frame, max_message may be */
#define ZMTP_GREETING     64

typedef enum {
    ZMTP_MECH_UNKNOWN = 0,
    ZMTP_MECH_NULL,
    ZMTP_MECH_PLAIN,
    ZMTP_MECH_CURVE,
} zmtp_mech_t;

/*  Limits of one stream; 0 in a field means its default. */
typedef struct {
    size_t max_frames, max_frame, max_message;
} zmtp_limits_t;

typedef enum {
    ZMTP_DROP_FRAMES = 1, /* more than max_frames frames */
    ZMTP_DROP_MESSAGE,    /* more than max_message bytes */
    ZMTP_DROP_FRAME,      /* one frame of more than max_frame bytes */
    ZMTP_DROP_MEMORY,     /* out of memory */
} zmtp_drop_why_t;

/*  A message dropped because it broke a limit: what was seen of it. */
typedef struct {
    zmtp_drop_why_t why;
    size_t limit;   /* the limit it broke */
    size_t frames;  /* its frames, as far as they were seen */
    uint64_t bytes; /* the bytes of their bodies */
    bool encrypted; /* a CURVE MESSAGE */
    bool complete;  /* its last frame was seen (not cut by a gap or the stream's end) */
} zmtp_drop_t;

typedef struct {
    /*  A complete message: n frame bodies (borrowed for the call). encrypted: one CURVE
        MESSAGE, whose frame is ciphertext. */
    void (*message)(void *arg, const collab_span_t *frames, size_t n, bool encrypted);
    /*  A message over a limit, once its last frame (or the gap or end that cut it) is
        reached; may be NULL. */
    void (*dropped)(void *arg, const zmtp_drop_t *drop);
    /*  One line of text about the stream. */
    void (*note)(void *arg, const char *text);
    void *arg;
} zmtp_sink_t;

typedef struct {
    int state;
    zmtp_mech_t mech;
    uint8_t major, minor;
    bool as_server;
    uint8_t *buf; /* bytes received and not yet parsed */
    size_t len, cap, pos;
    uint64_t skip; /* bytes of an oversized frame still to skip */
    zmtp_limits_t lim;
    uint8_t *msg; /* the bodies of the current message's frames, back to back */
    size_t msg_len, msg_cap, nframes;
    size_t *frame_len;    /* nframes lengths, frame_cap allocated (at most lim.max_frames) */
    collab_span_t *spans; /* frame_cap spans, filled when a message is handed on */
    size_t frame_cap;
    bool msg_drop;        /* skip the current message up to its last frame */
    bool dropping;        /* ... and report it as dropped then (drop holds what was seen) */
    bool drop_after_skip; /* the frame being skipped was the dropped message's last */
    zmtp_drop_t drop;
    uint64_t skipped; /* bytes discarded while looking for a frame boundary */
    uint64_t resyncs, pings, commands;
    bool not_zmtp;
} zmtp_stream_t;

/*  from_start: the stream's first byte is known (a SYN was seen), so a greeting comes
    first; otherwise the parser looks for a frame boundary. lim: NULL for the defaults;
    values above the ZMTP_LIMIT_ ones are lowered to them. */
void zmtp_init(zmtp_stream_t *z, bool from_start, const zmtp_limits_t *lim);

/*  The limits with every 0 replaced by its default and each value capped. */
zmtp_limits_t zmtp_limits_resolve(const zmtp_limits_t *lim);

/*  Parses n more bytes of the stream. */
void zmtp_feed(zmtp_stream_t *z, const uint8_t *p, size_t n, const zmtp_sink_t *sink);

/*  n bytes of the stream were lost: a frame they cut short is dropped, and parsing resumes
    at the next frame boundary (directly when the lost bytes fell inside a frame body whose
    length is known, else by resynchronising). */
void zmtp_gap(zmtp_stream_t *z, uint32_t n, const zmtp_sink_t *sink);

/*  The stream ended: notes what was left incomplete. */
void zmtp_end(zmtp_stream_t *z, const zmtp_sink_t *sink);

/*  Frees the buffers (the stream can be initialised again). */
void zmtp_free(zmtp_stream_t *z);

/*  "NULL", "PLAIN", "CURVE" or "?". */
const char *zmtp_mech_name(zmtp_mech_t m);

#endif
