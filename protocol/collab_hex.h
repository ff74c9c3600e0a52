/*  collab_hex.h: the one hex codec of the project (keys, MACs, test vectors, captures).
    Pure and bounded: reads exactly the bytes given, writes at most cap, never allocates.
    Decoding runs in time independent of the digits' values (keys pass through it). */
#ifndef COLLAB_HEX_H
#define COLLAB_HEX_H

#include <stddef.h>
#include <stdint.h>

/*  Decodes len hex digits (upper or lower case) at hex into out. Returns the bytes written
    (len / 2), or -1 when len is odd, len / 2 > cap, or a character is not a hex digit (out
    may then hold part of the bytes). hex need not be NUL-terminated. */
long collab_hex_decode(const char *hex, size_t len, uint8_t *out, size_t cap);

/*  Encodes n bytes as 2n lowercase hex digits and a NUL into out. Returns 2n, or -1 when
    cap < 2n + 1 (out is then left as it was). */
long collab_hex_encode(const uint8_t *bin, size_t n, char *out, size_t cap);

#endif
