/*  collab_text.c: strict UTF-8 decoding, code point limits and control-character handling. */
#include "collab_text.h"
#include "collab_error.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*  Decodes one code point at s[0..avail). Returns its byte length, or 0 if invalid. */
static size_t utf8_next(const uint8_t *s, size_t avail, uint32_t *cp)
{
    uint8_t c = s[0];
    size_t n;
    uint32_t v, min;
    if (c < 0x80) {
        *cp = c;
        return 1;
    } else if (c >= 0xc2 && c <= 0xdf) {
        n = 2, v = c & 0x1f, min = 0x80;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 3, v = c & 0x0f, min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4, v = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (n > avail)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3f);
    }
    if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
        return 0;
    *cp = v;
    return n;
}

/*  The length of the ASCII run at s[0..len): eight bytes at a time while no byte has its
    high bit set (most text on the bus is ASCII), then byte by byte. */
static size_t ascii_run(const uint8_t *s, size_t len)
{
    size_t i = 0;
    for (; len - i >= 8; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        if (w & UINT64_C(0x8080808080808080))
            break;
    }
    while (i < len && s[i] < 0x80)
        i++;
    return i;
}

int collab_utf8_check(const char *s, size_t len, size_t *cp_count)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t i = 0, count = 0;
    uint32_t cp;
    while (i < len) {
        size_t run = ascii_run(p + i, len - i); /* one code point per byte */
        i += run;
        count += run;
        if (i == len)
            break;
        size_t n = utf8_next(p + i, len - i, &cp);
        if (n == 0)
            return COLLAB_E_UTF8;
        i += n;
        count++;
    }
    if (cp_count)
        *cp_count = count;
    return 0;
}

static bool is_refused(uint32_t cp, bool allow_newline)
{
    if (allow_newline && (cp == '\n' || cp == '\t'))
        return false;
    return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) ||
           (cp >= 0x2066 && cp <= 0x2069);
}

bool collab_text_has_controls(const char *s, size_t len, bool allow_newline)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t i = 0;
    uint32_t cp;
    while (i < len) {
        size_t n = utf8_next(p + i, len - i, &cp);
        if (n == 0)
            return true; /* not text at all: treat as refused */
        if (is_refused(cp, allow_newline))
            return true;
        i += n;
    }
    return false;
}

int collab_text_check(const char *s, size_t len, size_t min_cp, size_t max_cp, bool strict)
{
    size_t count;
    int rc = collab_utf8_check(s, len, &count);
    if (rc)
        return rc;
    if (count < min_cp || count > max_cp)
        return COLLAB_E_LIMIT;
    if (strict && collab_text_has_controls(s, len, true))
        return COLLAB_E_BAD_TEXT;
    return 0;
}

size_t collab_text_escape(const char *s, size_t len, char *out, size_t cap)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t i = 0, o = 0;
    if (cap == 0)
        return 0;
    while (i < len) {
        uint32_t cp;
        char esc[16];
        size_t n = utf8_next(p + i, len - i, &cp);
        const char *piece = s + i;
        size_t plen = n;
        if (n == 0) {
            plen = (size_t)snprintf(esc, sizeof esc, "\\x%02x", p[i]);
            piece = esc;
            n = 1;
        } else if (is_refused(cp, false)) {
            if (cp < 0x100)
                plen = (size_t)snprintf(esc, sizeof esc, "\\x%02x", (unsigned)cp);
            else
                plen = (size_t)snprintf(esc, sizeof esc, "\\u%04x", (unsigned)cp);
            piece = esc;
        }
        if (plen >= cap - o)
            break;
        for (size_t k = 0; k < plen; k++)
            out[o++] = piece[k];
        i += n;
    }
    out[o] = '\0';
    return o;
}

int collab_parse_long(const char *s, long min, long max, long *out)
{
    if (!s || !(*s == '-' || *s == '+' || (*s >= '0' && *s <= '9')))
        return COLLAB_E_MALFORMED; /* strtol would skip leading blanks */
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end != '\0' || v < min || v > max)
        return COLLAB_E_MALFORMED;
    *out = v;
    return 0;
}

int collab_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    if (!s || *s < '0' || *s > '9')
        return COLLAB_E_MALFORMED; /* strtoull would take a sign or leading blanks */
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end != '\0' || v < min || v > max)
        return COLLAB_E_MALFORMED;
    *out = v;
    return 0;
}
