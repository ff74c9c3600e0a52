/*  pcapgen.h: crafted captures for the sniffer's tests: a tiny pcap writer, TCP
    conversations over Ethernet, Linux cooked (v1, v2), BSD loopback or raw IP links, IPv4 or
    IPv6, whose segments the test writes in any order (or loses), and ZMTP and envelope
    builders for what they carry. */
#ifndef PCAPGEN_H
#define PCAPGEN_H

#include "collab.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Link types as pcap files name them (LINKTYPE_*). */
enum { PG_NULL = 0, PG_ETHERNET = 1, PG_RAW = 101, PG_SLL = 113, PG_SLL2 = 276 };

typedef struct {
    FILE *f;
    int link;
    double ts; /* the next packet's time; each packet adds 1 ms */
} pcapw_t;

/*  Creates path with a pcap global header. Returns 0 or -1. */
int pcapw_open(pcapw_t *w, const char *path, int link);
int pcapw_close(pcapw_t *w);

/*  A TCP conversation: side 0 is the client, side 1 the broker. */
typedef struct {
    pcapw_t *w;
    int family; /* 4 or 6 */
    uint8_t ip[2][16];
    uint16_t port[2];
    uint32_t seq[2]; /* the next sequence number each side sends */
} tconv_t;

/*  Client 127.0.0.<client_host> (or ::<client_host>) port cport, broker .1 port sport;
    the initial sequence numbers are isn and isn + 1000000. */
void tconv_init(tconv_t *c, pcapw_t *w, int family, int client_host, uint16_t cport, uint16_t sport,
                uint32_t isn);

/*  SYN, SYN-ACK, ACK. */
void tconv_handshake(tconv_t *c);

/*  Writes one segment of side carrying data at offset off past the side's next sequence
    number (without advancing it), acknowledging everything the other side has sent. */
void tconv_at(tconv_t *c, int side, uint32_t off, const void *data, size_t len);

/*  Advances side's sequence number by len (bytes that were sent). */
void tconv_advance(tconv_t *c, int side, size_t len);

/*  tconv_at(0) then tconv_advance: the next in-order segment. */
void tconv_send(tconv_t *c, int side, const void *data, size_t len);

/*  Sends data in segments of at most mss bytes. */
void tconv_send_split(tconv_t *c, int side, const void *data, size_t len, size_t mss);

/*  FIN from both sides, then the last ACK. */
void tconv_close(tconv_t *c);

/*  Writes a raw segment with the given flags (for RST, bare ACKs and the like). */
void tconv_segment(tconv_t *c, int side, uint32_t seq, uint8_t flags, const void *data, size_t len);

/* ---- ZMTP and envelopes, written into caller buffers; each returns the length ---- */

/*  The 64-byte greeting: mechanism "NULL", "PLAIN", "CURVE"; minor 0 or 1. */
size_t zg_greeting(uint8_t *out, const char *mech, int minor, bool as_server);

/*  One frame: flags (MORE 1, LONG added when len > 255 or force_long, COMMAND 4). */
size_t zg_frame(uint8_t *out, uint8_t flags, const void *body, size_t len, bool force_long);

/*  A command frame: name and data. */
size_t zg_command(uint8_t *out, const char *name, const void *data, size_t len);

/*  A READY command with Socket-Type and Identity. */
size_t zg_ready(uint8_t *out, const char *socket_type, const char *identity);

/*  A request envelope; pairs are NULL-terminated "key", "s:str" / "u:123" strings. */
size_t zg_request(uint8_t *out, size_t cap, uint64_t rid, const char *action, const char *agent,
                  const char *session, ...);

/*  An ok reply with a data map made of pairs as above. */
size_t zg_reply(uint8_t *out, size_t cap, uint64_t rid, ...);

/*  An event with data pairs. */
size_t zg_event(uint8_t *out, size_t cap, const char *name, uint64_t seq, ...);

/*  Greetings and READY both ways, after the TCP handshake. */
void zg_open_null(tconv_t *c);

/*  Sends one envelope as a single frame from side. */
void zg_send_frame(tconv_t *c, int side, const uint8_t *env, size_t len);

#endif
