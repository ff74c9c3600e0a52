/*  zmtp_int.h: what zmtp.c and zmtp_cmd.c share inside the library. */
#ifndef COLLAB_SNIFF_ZMTP_INT_H
#define COLLAB_SNIFF_ZMTP_INT_H

#include "zmtp.h"

/* Frame flags (RFC 23). */
#define ZMTP_MORE    0x01
#define ZMTP_LONG    0x02
#define ZMTP_COMMAND 0x04

/*  Formats one note and hands it to the sink. */
__attribute__((format(printf, 2, 3))) void zmtp_note(const zmtp_sink_t *sink, const char *fmt, ...);

/*  Hands one CURVE MESSAGE (ciphertext) to the sink. */
void zmtp_emit_encrypted(const zmtp_sink_t *sink, const uint8_t *body, size_t size);

/*  Reads one command frame's body (name and data): handshake commands become notes, a
    CURVE MESSAGE becomes an encrypted message, PING and PONG are only counted. */
void zmtp_command(zmtp_stream_t *z, const uint8_t *body, size_t size, const zmtp_sink_t *sink);

#endif
