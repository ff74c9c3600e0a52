/*  zmtp.c: the ZMTP 3.x stream parser (see zmtp.h): greeting, frames, multipart messages
    and resynchronisation. The handshake commands are read in zmtp_cmd.c. */
#include "zmtp.h"
#include "zmtp_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*  The parse buffer: one whole frame and its header always fit, and so do the greeting
    and the handshake's commands however low the frame limit is set. */
static size_t buf_max(const zmtp_stream_t *z)
{
    return (z->lim.max_frame < 4096 ? 4096 : z->lim.max_frame) + 16;
}

enum { ZS_GREETING, ZS_FRAMES, ZS_RESYNC, ZS_SKIP, ZS_IGNORE };
enum { CAND_NO, CAND_WAIT, CAND_DATA, CAND_CURVE, CAND_GREETING };

void zmtp_note(const zmtp_sink_t *sink, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    if (!sink->note)
        return;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    sink->note(sink->arg, text);
}

static uint64_t be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

/*  Grows *buf to hold need bytes, up to max. Returns 0 or -1. */
static int reserve(uint8_t **buf, size_t *cap, size_t need, size_t max)
{
    if (need <= *cap)
        return 0;
    if (need > max)
        return -1;
    size_t n = *cap * 2 > need ? *cap * 2 : need;
    n = n < 4096 ? 4096 : n > max ? max : n;
    uint8_t *p = realloc(*buf, n);
    if (!p)
        return -1;
    *buf = p;
    *cap = n;
    return 0;
}

const char *zmtp_mech_name(zmtp_mech_t m)
{
    static const char *const names[] = {"?", "NULL", "PLAIN", "CURVE"};
    return m <= ZMTP_MECH_CURVE ? names[m] : "?";
}

static size_t limit_of(size_t v, size_t def, size_t max)
{
    return v == 0 ? def : v > max ? max : v;
}

zmtp_limits_t zmtp_limits_resolve(const zmtp_limits_t *lim)
{
    zmtp_limits_t l = lim ? *lim : (zmtp_limits_t){0};
    l.max_frames = limit_of(l.max_frames, ZMTP_MAX_FRAMES, ZMTP_LIMIT_FRAMES);
    l.max_frame = limit_of(l.max_frame, ZMTP_MAX_FRAME, ZMTP_LIMIT_BYTES);
    l.max_message = limit_of(l.max_message, ZMTP_MAX_MESSAGE, ZMTP_LIMIT_BYTES);
    return l;
}

void zmtp_init(zmtp_stream_t *z, bool from_start, const zmtp_limits_t *lim)
{
    memset(z, 0, sizeof *z);
    z->lim = zmtp_limits_resolve(lim);
    z->state = from_start ? ZS_GREETING : ZS_RESYNC;
}

void zmtp_free(zmtp_stream_t *z)
{
    free(z->buf);
    free(z->msg);
    free(z->frame_len);
    free(z->spans);
    z->buf = z->msg = NULL;
    z->frame_len = NULL;
    z->spans = NULL;
    z->len = z->cap = z->pos = z->msg_len = z->msg_cap = z->nframes = z->frame_cap = 0;
}

/* ---- Messages ---- */

static void reset_msg(zmtp_stream_t *z)
{
    z->nframes = 0;
    z->msg_len = 0;
    if (z->msg_cap > 4 * COLLAB_MAX_FRAME / 2) { /* give a large message's memory back */
        free(z->msg);
        z->msg = NULL;
        z->msg_cap = 0;
    }
}

void zmtp_emit_encrypted(const zmtp_sink_t *sink, const uint8_t *body, size_t size)
{
    collab_span_t f = {(const char *)body, size};
    if (sink->message)
        sink->message(sink->arg, &f, 1, true);
}

static void emit(zmtp_stream_t *z, const zmtp_sink_t *sink)
{
    size_t off = 0;
    for (size_t i = 0; i < z->nframes; i++) { /* msg is NULL when every frame is empty */
        z->spans[i].ptr = z->msg ? (const char *)z->msg + off : "";
        z->spans[i].len = z->frame_len[i];
        off += z->frame_len[i];
    }
    if (sink->message)
        sink->message(sink->arg, z->spans, z->nframes, false);
    reset_msg(z);
}

/*  Room for one more frame's length and span. Returns 0 or -1 (out of memory). */
static int grow_frames(zmtp_stream_t *z)
{
    if (z->nframes < z->frame_cap)
        return 0;
    size_t n = z->frame_cap ? 2 * z->frame_cap : 8;
    n = n > z->lim.max_frames ? z->lim.max_frames : n;
    size_t *lens = realloc(z->frame_len, n * sizeof *lens);
    if (lens)
        z->frame_len = lens;
    collab_span_t *spans = lens ? realloc(z->spans, n * sizeof *spans) : NULL;
    if (!spans)
        return -1;
    z->spans = spans;
    z->frame_cap = n;
    return 0;
}

static const char *const drop_unit[] = {"", "frames", "bytes a message", "bytes a frame", ""};

/*  Hands the dropped message on, once, with a note saying which limit it broke. */
static void report_drop(zmtp_stream_t *z, const zmtp_sink_t *sink, bool complete)
{
    zmtp_drop_t *d = &z->drop;
    d->complete = complete;
    z->dropping = z->drop_after_skip = false;
    if (d->why == ZMTP_DROP_MEMORY)
        zmtp_note(sink, "message of %zu frames, %llu bytes dropped: out of memory", d->frames,
                  (unsigned long long)d->bytes);
    else
        zmtp_note(sink, "message of %zu frames, %llu bytes%s dropped: over the limit of %zu %s",
                  d->frames, (unsigned long long)d->bytes, complete ? "" : " (cut short)", d->limit,
                  drop_unit[d->why]);
    if (sink->dropped)
        sink->dropped(sink->arg, d);
}

/*  The current message broke a limit with a frame of size bytes: forget what it held and
    skip the rest, counting it. */
static void start_drop(zmtp_stream_t *z, zmtp_drop_why_t why, uint64_t size)
{
    size_t limit[] = {0, z->lim.max_frames, z->lim.max_message, z->lim.max_frame, 0};
    z->drop = (zmtp_drop_t){.why = why,
                            .limit = limit[why],
                            .frames = z->nframes + 1,
                            .bytes = (uint64_t)z->msg_len + size};
    z->dropping = true;
    reset_msg(z);
}

static void data_frame(zmtp_stream_t *z, const uint8_t *body, size_t size, bool more,
                       const zmtp_sink_t *sink)
{
    if (z->mech == ZMTP_MECH_CURVE) { /* after the handshake only MESSAGEs travel */
        zmtp_emit_encrypted(sink, body, size);
        return;
    }
    if (z->msg_drop) {
        z->msg_drop = more;
        z->drop.frames += z->dropping;
        z->drop.bytes += z->dropping ? size : 0;
        if (z->dropping && !more)
            report_drop(z, sink, true);
        return;
    }
    zmtp_drop_why_t why = z->nframes == z->lim.max_frames          ? ZMTP_DROP_FRAMES
                          : size > z->lim.max_message - z->msg_len ? ZMTP_DROP_MESSAGE
                          : grow_frames(z) != 0 || reserve(&z->msg, &z->msg_cap, z->msg_len + size,
                                                           z->lim.max_message) != 0
                              ? ZMTP_DROP_MEMORY
                              : 0;
    if (why) {
        start_drop(z, why, size);
        z->msg_drop = more;
        if (!more)
            report_drop(z, sink, true);
        return;
    }
    if (size)
        memcpy(z->msg + z->msg_len, body, size);
    z->frame_len[z->nframes++] = size;
    z->msg_len += size;
    if (!more)
        emit(z, sink);
}

/* ---- Greeting ---- */

static void not_zmtp(zmtp_stream_t *z, const uint8_t *b, size_t avail, const zmtp_sink_t *sink)
{
    char hex[3 * 8 + 1] = "";
    for (size_t i = 0, o = 0; i < avail && i < 8; i++)
        o += (size_t)snprintf(hex + o, sizeof hex - o, i ? " %02x" : "%02x", b[i]);
    zmtp_note(sink, "not ZMTP (starts with %s): skipped", hex);
    z->state = ZS_IGNORE;
    z->not_zmtp = true;
}

static zmtp_mech_t parse_mech(const uint8_t *f)
{
    static const char *const names[] = {"NULL", "PLAIN", "CURVE"};
    for (int i = 0; i < 3; i++) {
        size_t n = strlen(names[i]);
        bool rest_zero = true;
        for (size_t k = n; k < 20; k++)
            rest_zero = rest_zero && f[k] == 0;
        if (memcmp(f, names[i], n) == 0 && rest_zero)
            return (zmtp_mech_t)(ZMTP_MECH_NULL + i);
    }
    return ZMTP_MECH_UNKNOWN;
}

static int parse_greeting(zmtp_stream_t *z, const zmtp_sink_t *sink)
{
    const uint8_t *b = z->buf + z->pos;
    size_t avail = z->len - z->pos;
    if (avail == 0)
        return 0;
    if (b[0] != 0xff || (avail >= 10 && b[9] != 0x7f)) {
        not_zmtp(z, b, avail, sink);
        return 1;
    }
    if (avail >= 11 && b[10] < 3) {
        zmtp_note(sink, "ZMTP %u.x (older than 3.0): not decoded", (unsigned)b[10]);
        z->state = ZS_IGNORE;
        return 1;
    }
    if (avail < ZMTP_GREETING)
        return 0;
    z->major = b[10];
    z->minor = b[11];
    z->mech = parse_mech(b + 12);
    z->as_server = b[32] != 0;
    char mech[21];
    collab_text_escape((const char *)b + 12, strnlen((const char *)b + 12, 20), mech, sizeof mech);
    zmtp_note(sink, "ZMTP %u.%u greeting, mechanism %s%s", (unsigned)z->major, (unsigned)z->minor,
              mech, z->as_server ? ", as-server" : "");
    z->pos += ZMTP_GREETING;
    z->state = ZS_FRAMES;
    return 1;
}

/* ---- Frames ---- */

/*  A frame over max_frame starts (have bytes of its body at body): it will be skipped.
    A data frame, or a CURVE MESSAGE, makes its message a dropped one. */
static void oversized(zmtp_stream_t *z, uint8_t flags, const uint8_t *body, size_t have,
                      uint64_t size)
{
    bool more = flags & ZMTP_MORE;
    if (flags & ZMTP_COMMAND) {
        if (have >= 8 && memcmp(body, "\x07MESSAGE", 8) == 0 && !z->dropping) {
            z->drop = (zmtp_drop_t){ZMTP_DROP_FRAME, z->lim.max_frame, 1, size, true, false};
            z->dropping = z->drop_after_skip = true;
        }
        return;
    }
    if (z->mech == ZMTP_MECH_CURVE)
        return; /* not a MESSAGE: nothing a reader could decode anyway */
    if (z->msg_drop && z->dropping) {
        z->drop.frames++;
        z->drop.bytes += size;
    } else if (!z->msg_drop) {
        start_drop(z, ZMTP_DROP_FRAME, size);
    }
    z->msg_drop = more;
    z->drop_after_skip = z->dropping && !more;
}

static int parse_frame(zmtp_stream_t *z, const zmtp_sink_t *sink)
{
    const uint8_t *b = z->buf + z->pos;
    size_t avail = z->len - z->pos;
    if (avail < 2)
        return 0;
    uint8_t flags = b[0];
    if (flags & ~(ZMTP_MORE | ZMTP_LONG | ZMTP_COMMAND)) {
        zmtp_note(sink, "bad frame flags 0x%02x, resynchronising", flags);
        reset_msg(z);
        z->state = ZS_RESYNC;
        return 1;
    }
    size_t hdr = flags & ZMTP_LONG ? 9 : 2;
    if (avail < hdr)
        return 0;
    uint64_t size = flags & ZMTP_LONG ? be64(b + 1) : b[1];
    if (size > z->lim.max_frame) {
        zmtp_note(sink, "frame of %llu bytes skipped (over %zu)", (unsigned long long)size,
                  z->lim.max_frame);
        oversized(z, flags, b + hdr, avail - hdr, size);
        z->pos += hdr;
        z->skip = size;
        z->state = ZS_SKIP;
        return 1;
    }
    if (avail - hdr < size)
        return 0;
    z->pos += hdr + (size_t)size;
    if (flags & ZMTP_COMMAND)
        zmtp_command(z, b + hdr, (size_t)size, sink);
    else
        data_frame(z, b + hdr, (size_t)size, flags & ZMTP_MORE, sink);
    return 1;
}

/*  The oversized frame is behind: report its message when it was the last frame. */
static void skip_done(zmtp_stream_t *z, const zmtp_sink_t *sink)
{
    z->state = ZS_FRAMES;
    if (z->drop_after_skip)
        report_drop(z, sink, true);
}

static int skip_bytes(zmtp_stream_t *z, const zmtp_sink_t *sink)
{
    size_t k = z->len - z->pos;
    if (k > z->skip)
        k = (size_t)z->skip;
    z->pos += k;
    z->skip -= k;
    if (z->skip == 0)
        skip_done(z, sink);
    return k > 0 || z->skip == 0;
}

/* ---- Resynchronisation ---- */

/*  Whether the first `need` bytes of a frame body of `size` bytes, `have` of them
    received, can be looked at: CAND_NO when the frame is too short, CAND_WAIT when they
    have not arrived, CAND_DATA when they are there. */
static int need(size_t k, size_t have, size_t size)
{
    return k > size ? CAND_NO : k > have ? CAND_WAIT : CAND_DATA;
}

/*  A body that starts like an envelope: a map of 1-16 entries whose first key is one of
    the envelope's keys. */
static int envelope_prefix(const uint8_t *p, size_t have, size_t size)
{
    static const char *const keys[] = {"type",     "version",    "request_id", "action",
                                       "agent_id", "session_id", "timestamp",  "nonce",
                                       "payload",  "signature",  "status",     "error_code",
                                       "error",    "data",       "event",      "seq"};
    size_t i = 1, klen;
    int r = need(3, have, size);
    if (r != CAND_DATA)
        return r;
    if (p[0] == 0xde && p[1] == 0 && p[2] >= 1 && p[2] <= 16)
        i = 3;
    else if (p[0] < 0x81 || p[0] > 0x8f)
        return CAND_NO;
    if ((r = need(i + 2, have, size)) != CAND_DATA)
        return r;
    if (p[i] >= 0xa1 && p[i] <= 0xbf)
        klen = p[i++] & 0x1f;
    else if (p[i] == 0xd9 && (klen = p[i + 1]) > 0)
        i += 2;
    else
        return CAND_NO;
    if ((r = need(i + klen, have, size)) != CAND_DATA)
        return r;
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
        if (strlen(keys[k]) == klen && memcmp(p + i, keys[k], klen) == 0)
            return CAND_DATA;
    return CAND_NO;
}

static int candidate_body(const uint8_t *body, size_t have, size_t size, bool command)
{
    int r = need(8, have, size);
    if (r == CAND_WAIT)
        return r;
    if (r == CAND_DATA && memcmp(body, "\x07MESSAGE", 8) == 0)
        return CAND_CURVE;
    if (command)
        return CAND_NO;
    if ((r = envelope_prefix(body, have, size)) != CAND_DATA)
        return r;
    if (have < size)
        return CAND_WAIT;
    collab_envelope_t env;
    return collab_envelope_decode(body, size, &env) == 0 ? CAND_DATA : CAND_NO;
}

/*  Is there a frame (or a greeting) starting at b? */
static int candidate(const uint8_t *b, size_t avail, size_t max_frame)
{
    if (avail < 2)
        return CAND_WAIT;
    if (b[0] == 0xff) {
        if (avail < 11)
            return CAND_WAIT;
        return b[9] == 0x7f && b[10] >= 3 ? CAND_GREETING : CAND_NO;
    }
    if (b[0] & ~(ZMTP_MORE | ZMTP_LONG | ZMTP_COMMAND))
        return CAND_NO;
    size_t hdr = b[0] & ZMTP_LONG ? 9 : 2;
    if (avail < hdr)
        return CAND_WAIT;
    uint64_t size = b[0] & ZMTP_LONG ? be64(b + 1) : b[1];
    if (size < 2 || size > max_frame)
        return CAND_NO;
    return candidate_body(b + hdr, avail - hdr, (size_t)size, b[0] & ZMTP_COMMAND);
}

static int resync(zmtp_stream_t *z, const zmtp_sink_t *sink)
{
    while (z->pos < z->len) {
        int r = candidate(z->buf + z->pos, z->len - z->pos, z->lim.max_frame);
        if (r == CAND_WAIT)
            return 0;
        if (r == CAND_NO) {
            z->pos++;
            z->skipped++;
            continue;
        }
        zmtp_note(sink, "resynchronised on a frame boundary after skipping %llu bytes",
                  (unsigned long long)z->skipped);
        z->resyncs++;
        z->skipped = 0;
        z->state = r == CAND_GREETING ? ZS_GREETING : ZS_FRAMES;
        if (r == CAND_CURVE)
            z->mech = ZMTP_MECH_CURVE;
        return 1;
    }
    return 0;
}

/* ---- The stream ---- */

static void parse(zmtp_stream_t *z, const zmtp_sink_t *sink)
{
    for (int progress = 1; progress;) {
        switch (z->state) {
        case ZS_GREETING:
            progress = parse_greeting(z, sink);
            break;
        case ZS_FRAMES:
            progress = parse_frame(z, sink);
            break;
        case ZS_RESYNC:
            progress = resync(z, sink);
            break;
        case ZS_SKIP:
            progress = skip_bytes(z, sink);
            break;
        default:
            z->pos = z->len;
            progress = 0;
        }
    }
}

/*  Moves the unparsed bytes to the front, and frees a large buffer once it is empty. */
static void compact(zmtp_stream_t *z)
{
    if (z->pos) {
        memmove(z->buf, z->buf + z->pos, z->len - z->pos);
        z->len -= z->pos;
        z->pos = 0;
    }
    if (z->len == 0 && z->cap > 65536) {
        free(z->buf);
        z->buf = NULL;
        z->cap = 0;
    }
}

void zmtp_feed(zmtp_stream_t *z, const uint8_t *p, size_t n, const zmtp_sink_t *sink)
{
    while (n > 0 && z->state != ZS_IGNORE) {
        if (z->state == ZS_SKIP && z->pos == z->len) { /* skip without copying */
            size_t k = n < z->skip ? n : (size_t)z->skip;
            p += k, n -= k, z->skip -= k;
            if (z->skip == 0)
                skip_done(z, sink);
            continue;
        }
        compact(z);
        size_t max = buf_max(z);
        size_t take = n < max - z->len ? n : max - z->len;
        if (take == 0 || reserve(&z->buf, &z->cap, z->len + take, max) != 0) {
            z->pos = z->len; /* cannot happen with the limits above; never loop on it */
            z->state = ZS_RESYNC;
            continue;
        }
        memcpy(z->buf + z->len, p, take);
        z->len += take, p += take, n -= take;
        parse(z, sink);
    }
    compact(z);
}

/*  After a gap inside a frame body of known length, the next frame starts where the body
    ends: skip the rest without resynchronising. Returns true when that applied. */
static bool gap_in_body(zmtp_stream_t *z, uint32_t n)
{
    size_t avail = z->len - z->pos;
    if (z->state != ZS_FRAMES || avail < 2) /* no buffer yet (NULL) when nothing is held */
        return false;
    const uint8_t *b = z->buf + z->pos;
    if (avail < (b[0] & ZMTP_LONG ? 9u : 2u))
        return false;
    size_t hdr = b[0] & ZMTP_LONG ? 9 : 2;
    uint64_t size = b[0] & ZMTP_LONG ? be64(b + 1) : b[1];
    uint64_t left = hdr + size - avail; /* the frame is incomplete, or it would be parsed */
    if (n >= left)
        return false;
    z->msg_drop = !(b[0] & ZMTP_COMMAND) && (b[0] & ZMTP_MORE);
    z->pos = z->len;
    z->skip = left - n;
    z->state = ZS_SKIP;
    return true;
}

void zmtp_gap(zmtp_stream_t *z, uint32_t n, const zmtp_sink_t *sink)
{
    if (z->state == ZS_IGNORE)
        return;
    if (z->nframes)
        zmtp_note(sink, "a message of %zu frames lost in the gap", z->nframes);
    if (z->dropping)
        report_drop(z, sink, false);
    reset_msg(z);
    z->msg_drop = false;
    if (z->state == ZS_SKIP && n < z->skip) {
        z->skip -= n;
        return;
    }
    if (!gap_in_body(z, n)) {
        z->pos = z->len;
        z->state = ZS_RESYNC;
    }
    compact(z);
}

void zmtp_end(zmtp_stream_t *z, const zmtp_sink_t *sink)
{
    size_t left = z->len - z->pos;
    if (z->dropping)
        report_drop(z, sink, false);
    if (z->state == ZS_FRAMES && (left || z->nframes))
        zmtp_note(sink, "stream ended inside a message (%zu bytes unparsed)", left);
    else if (z->state == ZS_RESYNC && z->resyncs == 0 && z->skipped + left > 0)
        zmtp_note(sink, "no ZMTP frame found in %llu bytes",
                  (unsigned long long)(z->skipped + left));
}
