/*  pcapgen.c: crafted captures (see pcapgen.h). Checksums are left at zero: the sniffer,
    like tcpdump reading a capture taken with checksum offload, does not verify them. */
#include "pcapgen.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define TS_START 1700000000.0

static void put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, (uint16_t)(v >> 16));
    put16(p + 2, (uint16_t)v);
}

static void put32le(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

int pcapw_open(pcapw_t *w, const char *path, int link)
{
    uint8_t h[24] = {0};
    w->f = fopen(path, "wb");
    w->link = link;
    w->ts = TS_START;
    if (!w->f)
        return -1;
    put32le(h, 0xa1b2c3d4);
    h[4] = 2, h[6] = 4; /* version 2.4, little-endian like the magic */
    put32le(h + 16, 262144);
    put32le(h + 20, (uint32_t)link);
    return fwrite(h, sizeof h, 1, w->f) == 1 ? 0 : -1;
}

int pcapw_close(pcapw_t *w)
{
    int rc = w->f && fclose(w->f) == 0 ? 0 : -1;
    w->f = NULL;
    return rc;
}

static void write_record(pcapw_t *w, const uint8_t *pkt, size_t len)
{
    uint8_t h[16];
    uint32_t secs = (uint32_t)w->ts;
    put32le(h, secs);
    put32le(h + 4, (uint32_t)((w->ts - secs) * 1e6 + 0.5));
    put32le(h + 8, (uint32_t)len);
    put32le(h + 12, (uint32_t)len);
    fwrite(h, sizeof h, 1, w->f);
    fwrite(pkt, len, 1, w->f);
    w->ts += 0.001;
}

static size_t link_header(int link, int family, uint8_t *p)
{
    uint16_t type = family == 4 ? 0x0800 : 0x86dd;
    switch (link) {
    case PG_ETHERNET:
        memset(p, 0, 12);
        put16(p + 12, type);
        return 14;
    case PG_SLL:
        memset(p, 0, 16);
        put16(p + 2, 772); /* ARPHRD_LOOPBACK */
        put16(p + 4, 6);
        put16(p + 14, type);
        return 16;
    case PG_SLL2:
        memset(p, 0, 20);
        put16(p, type);
        put32(p + 4, 1); /* ifindex */
        put16(p + 8, 772);
        p[11] = 6;
        return 20;
    case PG_NULL:
        put32le(p, family == 4 ? 2 : 24); /* AF_INET; AF_INET6 as NetBSD numbers it */
        return 4;
    default:
        return 0;
    }
}

static size_t ip_header(const tconv_t *c, int side, size_t tcp_len, uint8_t *p)
{
    if (c->family == 4) {
        memset(p, 0, 20);
        p[0] = 0x45;
        put16(p + 2, (uint16_t)(20 + tcp_len));
        put16(p + 6, 0x4000); /* don't fragment */
        p[8] = 64;
        p[9] = 6;
        memcpy(p + 12, c->ip[side], 4);
        memcpy(p + 16, c->ip[!side], 4);
        return 20;
    }
    memset(p, 0, 40);
    p[0] = 0x60;
    put16(p + 4, (uint16_t)tcp_len);
    p[6] = 6;
    p[7] = 64;
    memcpy(p + 8, c->ip[side], 16);
    memcpy(p + 24, c->ip[!side], 16);
    return 40;
}

void tconv_segment(tconv_t *c, int side, uint32_t seq, uint8_t flags, const void *data, size_t len)
{
    uint8_t *pkt = malloc(128 + len);
    if (!pkt)
        return;
    size_t off = link_header(c->w->link, c->family, pkt);
    off += ip_header(c, side, 20 + len, pkt + off);
    uint8_t *t = pkt + off;
    memset(t, 0, 20);
    put16(t, c->port[side]);
    put16(t + 2, c->port[!side]);
    put32(t + 4, seq);
    put32(t + 8, flags & 0x10 ? c->seq[!side] : 0);
    t[12] = 0x50;
    t[13] = flags;
    put16(t + 14, 65535);
    if (len)
        memcpy(t + 20, data, len);
    write_record(c->w, pkt, off + 20 + len);
    free(pkt);
}

void tconv_init(tconv_t *c, pcapw_t *w, int family, int client_host, uint16_t cport, uint16_t sport,
                uint32_t isn)
{
    memset(c, 0, sizeof *c);
    c->w = w;
    c->family = family;
    if (family == 4) {
        c->ip[0][0] = c->ip[1][0] = 127;
        c->ip[0][3] = (uint8_t)client_host;
        c->ip[1][3] = 1;
    } else {
        c->ip[0][15] = (uint8_t)client_host;
        c->ip[1][15] = 1;
    }
    c->port[0] = cport;
    c->port[1] = sport;
    c->seq[0] = isn;
    c->seq[1] = isn + 1000000;
}

void tconv_handshake(tconv_t *c)
{
    tconv_segment(c, 0, c->seq[0], 0x02, NULL, 0);
    c->seq[0]++;
    tconv_segment(c, 1, c->seq[1], 0x12, NULL, 0);
    c->seq[1]++;
    tconv_segment(c, 0, c->seq[0], 0x10, NULL, 0);
}

void tconv_at(tconv_t *c, int side, uint32_t off, const void *data, size_t len)
{
    tconv_segment(c, side, c->seq[side] + off, 0x18, data, len); /* PSH, ACK */
}

void tconv_advance(tconv_t *c, int side, size_t len)
{
    c->seq[side] += (uint32_t)len;
}

void tconv_send(tconv_t *c, int side, const void *data, size_t len)
{
    tconv_at(c, side, 0, data, len);
    tconv_advance(c, side, len);
}

void tconv_send_split(tconv_t *c, int side, const void *data, size_t len, size_t mss)
{
    const uint8_t *p = data;
    for (size_t off = 0; off < len; off += mss)
        tconv_send(c, side, p + off, len - off < mss ? len - off : mss);
}

void tconv_close(tconv_t *c)
{
    tconv_segment(c, 0, c->seq[0], 0x11, NULL, 0);
    c->seq[0]++;
    tconv_segment(c, 1, c->seq[1], 0x11, NULL, 0);
    c->seq[1]++;
    tconv_segment(c, 0, c->seq[0], 0x10, NULL, 0);
}

/* ---- ZMTP ---- */

size_t zg_greeting(uint8_t *out, const char *mech, int minor, bool as_server)
{
    memset(out, 0, 64);
    out[0] = 0xff;
    out[8] = 1;
    out[9] = 0x7f;
    out[10] = 3;
    out[11] = (uint8_t)minor;
    memcpy(out + 12, mech, strlen(mech));
    out[32] = as_server;
    return 64;
}

size_t zg_frame(uint8_t *out, uint8_t flags, const void *body, size_t len, bool force_long)
{
    size_t hdr = 2;
    if (len > 255 || force_long) {
        out[0] = flags | 0x02;
        for (int i = 0; i < 8; i++)
            out[1 + i] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
        hdr = 9;
    } else {
        out[0] = flags;
        out[1] = (uint8_t)len;
    }
    memcpy(out + hdr, body, len);
    return hdr + len;
}

size_t zg_command(uint8_t *out, const char *name, const void *data, size_t len)
{
    uint8_t body[1024];
    size_t nl = strlen(name);
    body[0] = (uint8_t)nl;
    memcpy(body + 1, name, nl);
    memcpy(body + 1 + nl, data, len);
    return zg_frame(out, 0x04, body, 1 + nl + len, false);
}

static size_t prop(uint8_t *p, const char *name, const char *value)
{
    size_t nl = strlen(name), vl = strlen(value);
    p[0] = (uint8_t)nl;
    memcpy(p + 1, name, nl);
    put32(p + 1 + nl, (uint32_t)vl);
    memcpy(p + 5 + nl, value, vl);
    return 5 + nl + vl;
}

size_t zg_ready(uint8_t *out, const char *socket_type, const char *identity)
{
    uint8_t data[512];
    size_t n = prop(data, "Socket-Type", socket_type);
    n += prop(data + n, "Identity", identity);
    return zg_command(out, "READY", data, n);
}

/*  Packs NULL-terminated "key", "s:text" / "u:123" pairs as a map. */
static size_t vpack(uint8_t *buf, size_t cap, va_list ap)
{
    const char *keys[16], *vals[16];
    uint32_t n = 0;
    for (const char *k; n < 16 && (k = va_arg(ap, const char *)) != NULL; n++) {
        keys[n] = k;
        vals[n] = va_arg(ap, const char *);
    }
    collab_pack_t p;
    collab_pack_init(&p, buf, cap);
    collab_pack_map(&p, n);
    for (uint32_t i = 0; i < n; i++) {
        collab_pack_str(&p, keys[i]);
        if (strncmp(vals[i], "u:", 2) == 0)
            collab_pack_uint(&p, strtoull(vals[i] + 2, NULL, 10));
        else
            collab_pack_str(&p, strncmp(vals[i], "s:", 2) == 0 ? vals[i] + 2 : vals[i]);
    }
    size_t len = 0;
    return collab_pack_finish(&p, &len) == 0 ? len : 0;
}

static size_t encode(const collab_envelope_t *env, uint8_t *out, size_t cap)
{
    size_t len = 0;
    return collab_envelope_encode(env, out, cap, &len) == 0 ? len : 0;
}

size_t zg_request(uint8_t *out, size_t cap, uint64_t rid, const char *action, const char *agent,
                  const char *session, ...)
{
    static uint8_t payload[COLLAB_MAX_PAYLOAD];
    va_list ap;
    va_start(ap, session);
    size_t plen = vpack(payload, sizeof payload, ap);
    va_end(ap);
    collab_envelope_t env = {.kind = COLLAB_KIND_REQUEST,
                             .version = 1,
                             .request_id = rid,
                             .action = {action, strlen(action)},
                             .agent_id = {agent, strlen(agent)},
                             .session_id = {session, strlen(session)},
                             .timestamp = 1700000000000ULL,
                             .payload = {(const char *)payload, plen}};
    return encode(&env, out, cap);
}

size_t zg_reply(uint8_t *out, size_t cap, uint64_t rid, ...)
{
    static uint8_t data[COLLAB_MAX_PAYLOAD];
    va_list ap;
    va_start(ap, rid);
    size_t dlen = vpack(data, sizeof data, ap);
    va_end(ap);
    collab_envelope_t env = {.kind = COLLAB_KIND_REPLY,
                             .version = 1,
                             .request_id = rid,
                             .ok = true,
                             .error = {"", 0},
                             .data = {(const char *)data, dlen}};
    return encode(&env, out, cap);
}

size_t zg_event(uint8_t *out, size_t cap, const char *name, uint64_t seq, ...)
{
    static uint8_t data[COLLAB_MAX_PAYLOAD];
    va_list ap;
    va_start(ap, seq);
    size_t dlen = vpack(data, sizeof data, ap);
    va_end(ap);
    collab_envelope_t env = {.kind = COLLAB_KIND_EVENT,
                             .version = 1,
                             .event = {name, strlen(name)},
                             .seq = seq,
                             .timestamp = 1700000000000ULL,
                             .data = {(const char *)data, dlen}};
    return encode(&env, out, cap);
}

void zg_open_null(tconv_t *c)
{
    uint8_t buf[256];
    tconv_handshake(c);
    tconv_send(c, 0, buf, zg_greeting(buf, "NULL", 1, false));
    tconv_send(c, 1, buf, zg_greeting(buf, "NULL", 1, false));
    tconv_send(c, 0, buf, zg_ready(buf, "DEALER", ""));
    tconv_send(c, 1, buf, zg_ready(buf, "ROUTER", ""));
}

void zg_send_frame(tconv_t *c, int side, const uint8_t *env, size_t len)
{
    static uint8_t buf[2 * COLLAB_MAX_FRAME];
    tconv_send(c, side, buf, zg_frame(buf, 0, env, len, false));
}
