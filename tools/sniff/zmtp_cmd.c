/*  zmtp_cmd.c: ZMTP commands: READY and ERROR (RFC 23), PLAIN's HELLO, WELCOME and
    INITIATE (RFC 24), CURVE's handshake and MESSAGE (RFC 26), PING, PONG, SUBSCRIBE and
    CANCEL (RFC 37). Handshake commands are shown as notes; PLAIN's password is shown as it
    travels, since showing what the wire exposes is the point of the lab. */
#include "zmtp_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define VALUE_SHOWN 64 /* bytes of a property value shown */

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static const char *esc(const uint8_t *p, size_t n, char *out, size_t cap)
{
    collab_text_escape((const char *)p, n, out, cap);
    return out;
}

__attribute__((format(printf, 4, 5))) static void appendf(char *out, size_t cap, size_t *o,
                                                          const char *fmt, ...)
{
    va_list ap;
    if (*o >= cap)
        return;
    va_start(ap, fmt);
    int n = vsnprintf(out + *o, cap - *o, fmt, ap);
    va_end(ap);
    *o = n < 0 ? cap : *o + (size_t)n;
}

/*  Metadata properties (name-len name value-len value ...) as name="value" pairs.
    Returns -1 when they are malformed. */
static int props(const uint8_t *p, size_t n, char *out, size_t cap)
{
    size_t o = 0, i = 0;
    out[0] = '\0';
    while (i < n) {
        size_t nl = p[i++];
        if (nl == 0 || nl > n - i)
            return -1;
        const uint8_t *name = p + i;
        i += nl;
        if (n - i < 4 || be32(p + i) > n - i - 4)
            return -1;
        size_t vl = be32(p + i);
        i += 4;
        char nb[3 * 255 + 1], vb[4 * VALUE_SHOWN + 1];
        appendf(out, cap, &o, "%s%s=\"%s\"%s", o ? " " : "", esc(name, nl, nb, sizeof nb),
                esc(p + i, vl < VALUE_SHOWN ? vl : VALUE_SHOWN, vb, sizeof vb),
                vl > VALUE_SHOWN ? "..." : "");
        i += vl;
    }
    return 0;
}

static void note_props(const char *mech, const char *name, const uint8_t *data, size_t n,
                       const zmtp_sink_t *sink)
{
    char text[400];
    if (props(data, n, text, sizeof text) != 0)
        zmtp_note(sink, "%s %s with malformed properties (%zu bytes)", mech, name, n);
    else
        zmtp_note(sink, "%s %s%s%s", mech, name, text[0] ? " " : "", text);
}

/*  A string preceded by its one-byte length at data[*i]; NULL when it does not fit. */
static const char *short_str(const uint8_t *data, size_t n, size_t *i, char *out, size_t cap)
{
    if (*i >= n || data[*i] > n - *i - 1)
        return NULL;
    size_t len = data[*i];
    esc(data + *i + 1, len, out, cap);
    *i += 1 + len;
    return out;
}

static void plain_hello(const uint8_t *data, size_t n, const zmtp_sink_t *sink)
{
    char user[4 * 255 + 1], pass[4 * 255 + 1];
    size_t i = 0;
    if (!short_str(data, n, &i, user, sizeof user) || !short_str(data, n, &i, pass, sizeof pass))
        zmtp_note(sink, "PLAIN HELLO, malformed (%zu bytes)", n);
    else
        zmtp_note(sink, "PLAIN HELLO username=\"%s\" password=\"%s\"", user, pass);
}

static void error_cmd(const uint8_t *data, size_t n, const zmtp_sink_t *sink)
{
    char reason[4 * 255 + 1];
    size_t i = 0;
    if (!short_str(data, n, &i, reason, sizeof reason))
        zmtp_note(sink, "ERROR, malformed (%zu bytes)", n);
    else
        zmtp_note(sink, "ERROR \"%s\"", reason);
}

static bool is(const char *name, size_t nl, const char *want)
{
    return strlen(want) == nl && memcmp(name, want, nl) == 0;
}

static bool handshake(const char *name, size_t nl)
{
    return is(name, nl, "HELLO") || is(name, nl, "WELCOME") || is(name, nl, "INITIATE") ||
           is(name, nl, "READY");
}

void zmtp_command(zmtp_stream_t *z, const uint8_t *body, size_t size, const zmtp_sink_t *sink)
{
    z->commands++;
    if (size < 1 || (size_t)body[0] + 1 > size) {
        zmtp_note(sink, "malformed command (%zu bytes)", size);
        return;
    }
    size_t nl = body[0], n = size - 1 - nl;
    const char *name = (const char *)body + 1;
    const uint8_t *data = body + 1 + nl;
    char nm[4 * 255 + 1];
    esc(body + 1, nl, nm, sizeof nm);
    if (is(name, nl, "MESSAGE")) {
        zmtp_emit_encrypted(sink, body, size);
    } else if (is(name, nl, "PING") || is(name, nl, "PONG")) {
        z->pings++;
    } else if (z->mech == ZMTP_MECH_CURVE && handshake(name, nl)) {
        zmtp_note(sink, "CURVE %s (%zu bytes, encrypted handshake)", nm, size);
    } else if (is(name, nl, "READY") || is(name, nl, "INITIATE")) {
        note_props(zmtp_mech_name(z->mech), nm, data, n, sink);
    } else if (is(name, nl, "ERROR")) {
        error_cmd(data, n, sink);
    } else if (is(name, nl, "HELLO") && z->mech == ZMTP_MECH_PLAIN) {
        plain_hello(data, n, sink);
    } else if (is(name, nl, "WELCOME") && z->mech == ZMTP_MECH_PLAIN) {
        zmtp_note(sink, "PLAIN WELCOME");
    } else if (is(name, nl, "SUBSCRIBE") || is(name, nl, "CANCEL")) {
        char topic[4 * 64 + 1];
        zmtp_note(sink, "%s \"%s\"%s", nm, esc(data, n < 64 ? n : 64, topic, sizeof topic),
                  n > 64 ? "..." : "");
    } else {
        zmtp_note(sink, "command %s (%zu bytes)", nm, size);
    }
}
