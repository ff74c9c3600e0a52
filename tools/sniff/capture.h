/*  capture.h: libpcap, live or from a file, down to TCP segments: link layers (Ethernet,
    Linux cooked v1/v2, BSD loopback, raw IP), IPv4 and IPv6 headers, the TCP header.
    capture_decode is pure and is what the tests exercise on crafted frames. */
#ifndef COLLAB_SNIFF_CAPTURE_H
#define COLLAB_SNIFF_CAPTURE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10

/*  One TCP segment; payload points into the packet, valid until the next capture_next. */
typedef struct {
    uint8_t family; /* 4 or 6 */
    uint8_t src[16], dst[16];
    uint16_t sport, dport;
    uint32_t seq, ack;
    uint8_t flags;
    const uint8_t *payload;
    size_t len;     /* payload bytes captured */
    size_t missing; /* payload bytes the snapshot length cut off */
    double ts;      /* Unix seconds */
} tcp_seg_t;

typedef struct capture capture_t;

/*  Live capture of "tcp port PORT" (or "tcp" for port 0) on iface, immediate mode,
    non-blocking. NULL with the reason in err. */
capture_t *capture_open_live(const char *iface, uint16_t port, char *err, size_t errlen);

/*  A pcap file, with the same filter. NULL with the reason in err. */
capture_t *capture_open_file(const char *path, uint16_t port, char *err, size_t errlen);

/*  The same from an open stream (fmemopen works: pcap data in memory), which the capture
    owns from then on, even when this fails; name stands for it in err. */
capture_t *capture_open_stream(FILE *fp, const char *name, uint16_t port, char *err, size_t errlen);

void capture_close(capture_t **self_p);

/*  The selectable descriptor of a live capture, -1 for a file. */
int capture_fd(const capture_t *self);

enum { CAP_NONE = 0, CAP_SEGMENT = 1, CAP_END = 2, CAP_ERROR = -1 };

/*  Reads packets until one holds a TCP segment: CAP_SEGMENT (in *seg), CAP_NONE (live:
    nothing available now), CAP_END (end of the file; also when the file is cut short,
    capture_truncated then says so) or CAP_ERROR (capture_error says why). */
int capture_next(capture_t *self, tcp_seg_t *seg);

/*  Packets the kernel dropped because the capture buffer was full (live capture; 0 for
    a file). */
uint64_t capture_drops(const capture_t *self);

/*  Why the last call failed, or why a file ended early. */
const char *capture_error(const capture_t *self);
bool capture_truncated(const capture_t *self);

/*  Decodes one captured frame of link type dlt (a DLT_ value), caplen bytes as captured
    (the IP header's lengths tell what the snapshot length cut off). Returns 0 with *seg
    filled (ts left alone), or -1 when it is not a complete TCP/IP header (other
    protocols, IP fragments, truncated headers). Pure. */
int capture_decode(int dlt, const uint8_t *pkt, size_t caplen, tcp_seg_t *seg);

/*  True when this module can decode link type dlt. */
bool capture_dlt_supported(int dlt);

#endif
