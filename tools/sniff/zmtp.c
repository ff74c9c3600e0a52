/*  zmtp.c: the ZMTP 3.x stream parser (see zmtp.h): greeting, frames, multipart messages
    and resynchronisation. The handshake commands are read in zmtp_cmd.c. */
#include "zmtp.h"
#include "zmtp_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUF_MAX (ZMTP_MAX_FRAME + 16) /* one whole frame and its header always fit */

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

void zmtp_init(zmtp_stream_t *z, bool from_start)
{
    memset(z, 0, sizeof *z);
    z->state = from_start ? ZS_GREETING : ZS_RESYNC;
}

void zmtp_free(zmtp_stream_t *z)
{
    free(z->buf);
    free(z->msg);
    z->buf = z->msg = NULL;
    z->len = z->cap = z->pos = z->msg_len = z->msg_cap = z->nframes = 0;
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
    collab_span_t frames[ZMTP_MAX_FRAMES];
    for (size_t i = 0; i < z->nframes; i++) { /* msg is NULL when every frame is empty */
        frames[i].ptr = z->msg ? (const char *)z->msg + z->frame_off[i] : "";
        frames[i].len = z->frame_len[i];
    }
    if (sink->message)
        sink->message(sink->arg, frames, z->nframes, false);
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
        return;
    }
    if (z->nframes == ZMTP_MAX_FRAMES || size > ZMTP_MAX_MESSAGE - z->msg_len ||
        reserve(&z->msg, &z->msg_cap, z->msg_len + size, ZMTP_MAX_MESSAGE) != 0) {
        zmtp_note(sink, "message of more than %d frames or %d bytes dropped", ZMTP_MAX_FRAMES,
                  ZMTP_MAX_MESSAGE);
        reset_msg(z);
        z->msg_drop = more;
        return;
    }
    if (size)
        memcpy(z->msg + z->msg_len, body, size);
    z->frame_off[z->nframes] = z->msg_len;
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
    if (size > ZMTP_MAX_FRAME) {
        zmtp_note(sink, "frame of %llu bytes skipped (over %d)", (unsigned long long)size,
                  ZMTP_MAX_FRAME);
        z->pos += hdr;
        z->skip = size;
        z->state = ZS_SKIP;
        if (!(flags & ZMTP_COMMAND)) {
            reset_msg(z);
            z->msg_drop = flags & ZMTP_MORE;
        }
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

static int skip_bytes(zmtp_stream_t *z)
{
    size_t k = z->len - z->pos;
    if (k > z->skip)
        k = (size_t)z->skip;
    z->pos += k;
    z->skip -= k;
    if (z->skip == 0)
        z->state = ZS_FRAMES;
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
static int candidate(const uint8_t *b, size_t avail)
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
    if (size < 2 || size > ZMTP_MAX_FRAME)
        return CAND_NO;
    return candidate_body(b + hdr, avail - hdr, (size_t)size, b[0] & ZMTP_COMMAND);
}

static int resync(zmtp_stream_t *z, const zmtp_sink_t *sink)
{
    while (z->pos < z->len) {
        int r = candidate(z->buf + z->pos, z->len - z->pos);
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
            progress = skip_bytes(z);
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
                z->state = ZS_FRAMES;
            continue;
        }
        compact(z);
        size_t take = n < BUF_MAX - z->len ? n : BUF_MAX - z->len;
        if (take == 0 || reserve(&z->buf, &z->cap, z->len + take, BUF_MAX) != 0) {
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
    const uint8_t *b = z->buf + z->pos;
    size_t avail = z->len - z->pos;
    if (z->state != ZS_FRAMES || avail < 2 || avail < (b[0] & ZMTP_LONG ? 9u : 2u))
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
    if (z->state == ZS_FRAMES && (left || z->nframes))
        zmtp_note(sink, "stream ended inside a message (%zu bytes unparsed)", left);
    else if (z->state == ZS_RESYNC && z->resyncs == 0 && z->skipped + left > 0)
        zmtp_note(sink, "no ZMTP frame found in %llu bytes",
                  (unsigned long long)(z->skipped + left));
}
