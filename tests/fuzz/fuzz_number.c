/*  fuzz_number.c: libFuzzer target for the one numeric command-line parser
    (collab_parse_long, collab_parse_u64 in protocol/collab_text.c), which every agent, tool,
    collab-passwd, the client's prompts and the broker's config values use. The input, up to
    its first NUL, is the argument; each parser is compared with a digit-by-digit reference
    under several ranges, and an accepted value must print back as the same text (modulo a
    '+' and leading zeros). A disagreement aborts, so the fuzzer reports it. */
#include "collab.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void require(bool ok)
{
    if (!ok)
        abort();
}

/*  Reference: optional sign (when signed), one or more digits, nothing else; the magnitude
    accumulated without overflow into *neg and *mag (saturating flag *big). */
static bool reference(const char *s, bool allow_sign, bool *neg, uint64_t *mag, bool *big)
{
    *neg = false;
    *mag = 0;
    *big = false;
    if (allow_sign && (*s == '+' || *s == '-'))
        *neg = *s++ == '-';
    if (*s < '0' || *s > '9')
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        uint64_t d = (uint64_t)(*s - '0');
        if (*mag > (UINT64_MAX - d) / 10)
            *big = true;
        else
            *mag = *mag * 10 + d;
    }
    return true;
}

static const long long_ranges[][2] = {
    {LONG_MIN, LONG_MAX}, {0, LONG_MAX}, {0, 10}, {-5, 5}, {1, 65535}, {0, 3600000}, {1, 11},
};
static const uint64_t u64_ranges[][2] = {
    {0, UINT64_MAX}, {0, 31}, {1, 1000}, {4096, 1099511627776ULL}, {UINT64_MAX, UINT64_MAX},
};

static void check_long(const char *s, long min, long max)
{
    bool neg, big;
    uint64_t mag;
    bool syntax = reference(s, true, &neg, &mag, &big);
    /* the value as a long, when it is one */
    bool fits = syntax && !big && (neg ? mag <= (uint64_t)LONG_MAX + 1 : mag <= (uint64_t)LONG_MAX);
    long want = 0;
    if (fits)
        want = neg ? (mag == (uint64_t)LONG_MAX + 1 ? LONG_MIN : -(long)mag) : (long)mag;
    bool ok = fits && want >= min && want <= max;
    long got = 12345;
    int rc = collab_parse_long(s, min, max, &got);
    require(rc == 0 || rc == COLLAB_E_MALFORMED);
    require((rc == 0) == ok);
    require(ok ? got == want : got == 12345); /* unchanged on failure */
    if (ok) {
        char back[32];
        snprintf(back, sizeof back, "%ld", got);
        long again;
        require(collab_parse_long(back, min, max, &again) == 0 && again == got);
    }
}

static void check_u64(const char *s, uint64_t min, uint64_t max)
{
    bool neg, big;
    uint64_t mag;
    bool ok = reference(s, false, &neg, &mag, &big) && !big && mag >= min && mag <= max;
    uint64_t got = 777;
    int rc = collab_parse_u64(s, min, max, &got);
    require(rc == 0 || rc == COLLAB_E_MALFORMED);
    require((rc == 0) == ok);
    require(ok ? got == mag : got == 777);
    if (ok) {
        char back[32];
        snprintf(back, sizeof back, "%llu", (unsigned long long)got);
        uint64_t again;
        require(collab_parse_u64(back, min, max, &again) == 0 && again == got);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0; /* an argument, not a file */
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    for (size_t i = 0; i < sizeof long_ranges / sizeof long_ranges[0]; i++)
        check_long(s, long_ranges[i][0], long_ranges[i][1]);
    for (size_t i = 0; i < sizeof u64_ranges / sizeof u64_ranges[0]; i++)
        check_u64(s, u64_ranges[i][0], u64_ranges[i][1]);
    require(collab_parse_long(NULL, 0, 1, &(long){0}) == COLLAB_E_MALFORMED);
    require(collab_parse_u64(NULL, 0, 1, &(uint64_t){0}) == COLLAB_E_MALFORMED);
    free(s);
    return 0;
}
