/*  collab_hex.c: the hex codec (see collab_hex.h). The digit test is libsodium's branch-free
    one (sodium_hex2bin), so a key's digits do not show in the time taken. */
#include "collab_hex.h"

/*  The value of one digit in the low 4 bits; bit 8 set when c is not a hex digit. */
static unsigned nibble(unsigned char c)
{
    unsigned num = c ^ 48U;                       /* '0'..'9' -> 0..9 */
    unsigned num_ok = ((num - 10U) >> 8) & 0xffU; /* 0xff when num < 10 */
    unsigned alpha = (c & ~32U) - 55U;            /* 'A'..'F', 'a'..'f' -> 10..15 */
    unsigned alpha_ok = (((alpha - 10U) ^ (alpha - 16U)) >> 8) & 0xffU;
    unsigned bad = ((num_ok | alpha_ok) ^ 0xffU) & 0xffU; /* 0xff when neither */
    return ((num_ok & num) | (alpha_ok & alpha) | (bad << 1)) & 0x1ffU;
}

long collab_hex_decode(const char *hex, size_t len, uint8_t *out, size_t cap)
{
    unsigned bad = 0;
    if (len % 2 != 0 || len / 2 > cap)
        return -1;
    for (size_t i = 0; i < len / 2; i++) {
        unsigned hi = nibble((unsigned char)hex[2 * i]), lo = nibble((unsigned char)hex[2 * i + 1]);
        bad |= (hi | lo) & 0x100U;
        out[i] = (uint8_t)((hi & 0xfU) << 4 | (lo & 0xfU));
    }
    return bad ? -1 : (long)(len / 2);
}

long collab_hex_encode(const uint8_t *bin, size_t n, char *out, size_t cap)
{
    static const char digits[] = "0123456789abcdef";
    if (cap == 0 || n > (cap - 1) / 2)
        return -1;
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[bin[i] >> 4];
        out[2 * i + 1] = digits[bin[i] & 0xf];
    }
    out[2 * n] = '\0';
    return (long)(2 * n);
}
