/*  capture.c: libpcap down to TCP segments (see capture.h). The decoders trust nothing in
    a packet: every length is checked against what was captured before it is used. */
#include "capture.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SNAPLEN                                                                                    \
    65600 /* the largest IP packet and any link header: TPACKET_V2 slots are this big              \
           */
#define BUFFER_SIZE (32 * 1024 * 1024) /* about 500 slots: bursts are not dropped */

struct capture {
    pcap_t *pcap;
    int dlt;
    bool live;
    bool truncated;
    char err[PCAP_ERRBUF_SIZE + 128];
};

static uint16_t be16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* ---- Pure decoding ---- */

static int decode_tcp(const uint8_t *p, size_t have, size_t total, tcp_seg_t *seg)
{
    if (have < 20 || total < 20)
        return -1;
    size_t hlen = (size_t)(p[12] >> 4) * 4;
    if (hlen < 20 || hlen > have || hlen > total)
        return -1;
    seg->sport = be16(p);
    seg->dport = be16(p + 2);
    seg->seq = be32(p + 4);
    seg->ack = be32(p + 8);
    seg->flags = p[13];
    seg->payload = p + hlen;
    seg->len = have - hlen < total - hlen ? have - hlen : total - hlen;
    seg->missing = total - hlen - seg->len;
    return 0;
}

static int decode_ipv4(const uint8_t *p, size_t have, tcp_seg_t *seg)
{
    if (have < 20 || p[0] >> 4 != 4)
        return -1;
    size_t ihl = (size_t)(p[0] & 0x0f) * 4;
    size_t total = be16(p + 2);
    if (total == 0) /* segmentation offload: the length was never filled in */
        total = have;
    if (ihl < 20 || ihl > have || total < ihl || p[9] != 6)
        return -1;
    if ((be16(p + 6) & 0x3fff) != 0) /* a fragment: not reassembled */
        return -1;
    seg->family = 4;
    memset(seg->src, 0, sizeof seg->src);
    memset(seg->dst, 0, sizeof seg->dst);
    memcpy(seg->src, p + 12, 4);
    memcpy(seg->dst, p + 16, 4);
    size_t avail = have < total ? have : total;
    return decode_tcp(p + ihl, avail - ihl, total - ihl, seg);
}

static int decode_ipv6(const uint8_t *p, size_t have, tcp_seg_t *seg)
{
    if (have < 40 || p[0] >> 4 != 6)
        return -1;
    size_t total = be16(p + 4), off = 40;
    uint8_t next = p[6];
    seg->family = 6;
    memcpy(seg->src, p + 8, 16);
    memcpy(seg->dst, p + 24, 16);
    for (int hops = 0; next != 6; hops++) { /* walk the extension headers */
        if (hops == 8 || (next != 0 && next != 43 && next != 60 && next != 51))
            return -1; /* fragments (44) and other protocols are not followed */
        if (off + 2 > have)
            return -1;
        size_t ext = next == 51 ? ((size_t)p[off + 1] + 2) * 4 : ((size_t)p[off + 1] + 1) * 8;
        next = p[off];
        off += ext;
    }
    if (off > have || off - 40 > total)
        return -1;
    size_t avail = have - off, tcp_total = total - (off - 40);
    return decode_tcp(p + off, avail < tcp_total ? avail : tcp_total, tcp_total, seg);
}

static int decode_ip(const uint8_t *p, size_t have, tcp_seg_t *seg)
{
    if (have < 1)
        return -1;
    return p[0] >> 4 == 4 ? decode_ipv4(p, have, seg) : decode_ipv6(p, have, seg);
}

static int decode_ethertype(uint16_t type, const uint8_t *p, size_t have, tcp_seg_t *seg)
{
    if (type == 0x0800)
        return decode_ipv4(p, have, seg);
    if (type == 0x86dd)
        return decode_ipv6(p, have, seg);
    return -1;
}

static int decode_ethernet(const uint8_t *p, size_t have, tcp_seg_t *seg)
{
    size_t off = 12;
    for (int tags = 0; tags < 3; tags++) {
        if (off + 2 > have)
            return -1;
        uint16_t type = be16(p + off);
        if (type != 0x8100 && type != 0x88a8)
            return decode_ethertype(type, p + off + 2, have - off - 2, seg);
        off += 4; /* a VLAN tag */
    }
    return -1;
}

/*  BSD loopback: the address family in the capturing host's byte order (DLT_NULL) or in
    network order (DLT_LOOP); the values for IPv6 differ between systems. */
static int decode_null(const uint8_t *p, size_t have, tcp_seg_t *seg, bool network_order)
{
    if (have < 4)
        return -1;
    uint32_t fam = network_order ? be32(p) : (uint32_t)(p[0] | p[1] << 8 | p[2] << 16 | p[3] << 24);
    if (!network_order && fam > 0xffff) /* written on a big-endian host */
        fam = be32(p);
    if (fam == 2)
        return decode_ipv4(p + 4, have - 4, seg);
    if (fam == 10 || fam == 24 || fam == 28 || fam == 30)
        return decode_ipv6(p + 4, have - 4, seg);
    return -1;
}

bool capture_dlt_supported(int dlt)
{
    return dlt == DLT_EN10MB || dlt == DLT_NULL || dlt == DLT_LOOP || dlt == DLT_RAW ||
           dlt == DLT_IPV4 || dlt == DLT_IPV6 || dlt == DLT_LINUX_SLL || dlt == DLT_LINUX_SLL2;
}

int capture_decode(int dlt, const uint8_t *pkt, size_t caplen, tcp_seg_t *seg)
{
    switch (dlt) {
    case DLT_EN10MB:
        return decode_ethernet(pkt, caplen, seg);
    case DLT_NULL:
    case DLT_LOOP:
        return decode_null(pkt, caplen, seg, dlt == DLT_LOOP);
    case DLT_RAW:
    case DLT_IPV4:
    case DLT_IPV6:
        return decode_ip(pkt, caplen, seg);
    case DLT_LINUX_SLL:
        return caplen < 16 ? -1 : decode_ethertype(be16(pkt + 14), pkt + 16, caplen - 16, seg);
    case DLT_LINUX_SLL2:
        return caplen < 20 ? -1 : decode_ethertype(be16(pkt), pkt + 20, caplen - 20, seg);
    default:
        return -1;
    }
}

/* ---- libpcap ---- */

static int set_filter(capture_t *self, uint16_t port)
{
    struct bpf_program prog;
    char expr[32];
    if (port)
        snprintf(expr, sizeof expr, "tcp port %u", (unsigned)port);
    else
        snprintf(expr, sizeof expr, "tcp");
    if (pcap_compile(self->pcap, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) != 0) {
        snprintf(self->err, sizeof self->err, "filter '%s': %s", expr, pcap_geterr(self->pcap));
        return -1;
    }
    int rc = pcap_setfilter(self->pcap, &prog);
    pcap_freecode(&prog);
    if (rc != 0)
        snprintf(self->err, sizeof self->err, "filter '%s': %s", expr, pcap_geterr(self->pcap));
    return rc;
}

/*  Checks the link type and installs the filter; on failure copies the reason to err. */
static capture_t *finish_open(capture_t *self, uint16_t port, char *err, size_t errlen)
{
    self->dlt = pcap_datalink(self->pcap);
    if (!capture_dlt_supported(self->dlt))
        snprintf(self->err, sizeof self->err, "unsupported link type %s (%d)",
                 pcap_datalink_val_to_name(self->dlt) ? pcap_datalink_val_to_name(self->dlt) : "?",
                 self->dlt);
    else if (set_filter(self, port) == 0 &&
             (!self->live || pcap_setnonblock(self->pcap, 1, self->err) == 0))
        return self;
    snprintf(err, errlen, "%s", self->err);
    capture_close(&self);
    return NULL;
}

static const char *activate_hint(int rc)
{
    if (rc == PCAP_ERROR_PERM_DENIED)
        return " (capturing needs root or CAP_NET_RAW)";
    if (rc == PCAP_ERROR_NO_SUCH_DEVICE)
        return " (no such interface)";
    return "";
}

capture_t *capture_open_live(const char *iface, uint16_t port, char *err, size_t errlen)
{
    capture_t *self = calloc(1, sizeof *self);
    char pcap_err[PCAP_ERRBUF_SIZE] = "";
    if (!self || !(self->pcap = pcap_create(iface, pcap_err))) {
        snprintf(err, errlen, "%s: %s", iface, self ? pcap_err : "out of memory");
        free(self);
        return NULL;
    }
    self->live = true;
    pcap_set_snaplen(self->pcap, SNAPLEN);
    pcap_set_promisc(self->pcap, 0);
    pcap_set_immediate_mode(self->pcap, 1);
    pcap_set_buffer_size(self->pcap, BUFFER_SIZE);
    int rc = pcap_activate(self->pcap);
    if (rc < 0) {
        snprintf(err, errlen, "%s: %s%s", iface,
                 rc == PCAP_ERROR ? pcap_geterr(self->pcap) : pcap_statustostr(rc),
                 activate_hint(rc));
        capture_close(&self);
        return NULL;
    }
    return finish_open(self, port, err, errlen);
}

capture_t *capture_open_stream(FILE *fp, const char *name, uint16_t port, char *err, size_t errlen)
{
    capture_t *self = calloc(1, sizeof *self);
    char pcap_err[PCAP_ERRBUF_SIZE] = "";
    if (!self) {
        snprintf(err, errlen, "%s: out of memory", name);
        fclose(fp);
        return NULL;
    }
    self->pcap =
        pcap_fopen_offline_with_tstamp_precision(fp, PCAP_TSTAMP_PRECISION_MICRO, pcap_err);
    if (!self->pcap) { /* libpcap leaves the stream open when it fails */
        snprintf(err, errlen, "%s: %s", name, pcap_err);
        fclose(fp);
        free(self);
        return NULL;
    }
    return finish_open(self, port, err, errlen);
}

capture_t *capture_open_file(const char *path, uint16_t port, char *err, size_t errlen)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    return capture_open_stream(fp, path, port, err, errlen);
}

void capture_close(capture_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    if ((*self_p)->pcap)
        pcap_close((*self_p)->pcap);
    free(*self_p);
    *self_p = NULL;
}

int capture_fd(const capture_t *self)
{
    return self->live ? pcap_get_selectable_fd(self->pcap) : -1;
}

int capture_next(capture_t *self, tcp_seg_t *seg)
{
    for (;;) {
        struct pcap_pkthdr *h;
        const u_char *data;
        int rc = pcap_next_ex(self->pcap, &h, &data);
        if (rc == 0)
            return CAP_NONE;
        if (rc == PCAP_ERROR_BREAK)
            return CAP_END;
        if (rc < 0 && !self->live) { /* a file cut short: keep what was read */
            self->truncated = true;
            snprintf(self->err, sizeof self->err, "%s", pcap_geterr(self->pcap));
            return CAP_END;
        }
        if (rc < 0) {
            snprintf(self->err, sizeof self->err, "%s", pcap_geterr(self->pcap));
            return CAP_ERROR;
        }
        if (capture_decode(self->dlt, data, h->caplen, seg) == 0) {
            seg->ts = (double)h->ts.tv_sec + (double)h->ts.tv_usec / 1e6;
            return CAP_SEGMENT;
        }
    }
}

uint64_t capture_drops(const capture_t *self)
{
    struct pcap_stat st;
    if (!self->live || pcap_stats(self->pcap, &st) != 0)
        return 0;
    return (uint64_t)st.ps_drop + st.ps_ifdrop;
}

const char *capture_error(const capture_t *self)
{
    return self->err;
}

bool capture_truncated(const capture_t *self)
{
    return self->truncated;
}
