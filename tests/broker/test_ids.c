/*  test_ids.c: session ids. UUID v4 format, the fixed-seed sequence, the weakness itself
    (one observed weak id gives the generator's state and the next id), and strong tokens. */
#include "ids.h"
#include "testutil.h"

#include <ctype.h>
#include <stdbool.h>

#define MASK62 ((1ULL << 62) - 1)

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/*  Parses a lowercase 8-4-4-4-12 UUID into 16 bytes; false when it is not one. */
static bool uuid_parse(const char *s, uint8_t out[16])
{
    if (strlen(s) != COLLAB_UUID_LEN)
        return false;
    size_t n = 0;
    int hi = -1;
    for (size_t i = 0; i < COLLAB_UUID_LEN; i++) {
        bool dash_here = i == 8 || i == 13 || i == 18 || i == 23;
        if (dash_here != (s[i] == '-'))
            return false;
        if (dash_here)
            continue;
        int v = hexval(s[i]);
        if (v < 0)
            return false;
        if (hi < 0) {
            hi = v;
        } else {
            out[n++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    return n == 16;
}

static uint64_t be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static bool is_v4_uuid(const char *s)
{
    uint8_t b[16];
    return uuid_parse(s, b) && (b[6] >> 4) == 4 && (b[8] >> 6) == 2;
}

static void test_xorshift_and_format(void)
{
    uint64_t st = 1;
    CHECK_EQ_U64(collab_xorshift64(&st), 0x40822041ULL); /* Marsaglia's first output */
    CHECK_EQ_U64(st, 0x40822041ULL);

    char out[COLLAB_UUID_LEN + 1];
    collab_uuid_format(0, 0, out);
    CHECK_STR(out, "00000000-0000-4000-8000-000000000000");
    collab_uuid_format(UINT64_MAX, UINT64_MAX, out);
    CHECK_STR(out, "ffffffff-ffff-4fff-bfff-ffffffffffff");
    collab_uuid_format(0x0123456789abcdefULL, 0xfedcba9876543210ULL, out);
    CHECK_STR(out, "01234567-89ab-4def-bedc-ba9876543210");
    CHECK(is_v4_uuid(out));
}

static void test_fixed_seed_sequence(void)
{
    static const char *const want1[] = {"00000000-4082-4041-9000-41060c011441",
                                        "9b1e842f-6e86-4629-b554-f503555d8025",
                                        "860c1fb0-9059-4265-b6b0-5302e5531801"};
    static const char *const want2[] = {"3f2800d6-569e-41b4-a06f-949a3cebd0b7",
                                        "c69bba40-dddc-4ad6-bdc1-62a6bf8906c3",
                                        "acccfee2-b873-440e-a208-ba58d97fe006"};
    collab_idgen_t *g1 = collab_idgen_new(false, 1);
    collab_idgen_t *g2 = collab_idgen_new(false, 0x0123456789abcdefULL);
    CHECK(g1 && g2);
    char out[64];
    for (int i = 0; g1 && g2 && i < 3; i++) {
        collab_idgen_next(g1, out, sizeof out);
        CHECK_STR(out, want1[i]);
        CHECK(is_v4_uuid(out));
        collab_idgen_next(g2, out, sizeof out);
        CHECK_STR(out, want2[i]);
    }
    collab_idgen_destroy(&g1);
    collab_idgen_destroy(&g2);
    CHECK(g1 == NULL);
    collab_idgen_destroy(&g1); /* idempotent */
    collab_idgen_destroy(NULL);
}

/*  The predict-session attack in miniature: the attacker sees one id and nothing else. The
    version nibble hides 4 bits of a; b = xorshift(a) shows 62 of its bits, enough to pick
    the one candidate. b is the generator's whole state after that id. Returns the number of
    candidates that matched and writes the predicted next id. */
static int predict_next(const char *observed, char next[COLLAB_UUID_LEN + 1])
{
    uint8_t bytes[16];
    if (!uuid_parse(observed, bytes))
        return 0;
    uint64_t a_seen = be64(bytes), b_seen = be64(bytes + 8);
    int matches = 0;
    for (uint64_t v = 0; v < 16; v++) {
        uint64_t state = (a_seen & ~(0xfULL << 12)) | v << 12;
        uint64_t b = collab_xorshift64(&state);
        if ((b & MASK62) != (b_seen & MASK62))
            continue;
        matches++;
        uint64_t a2 = collab_xorshift64(&state);
        uint64_t b2 = collab_xorshift64(&state);
        collab_uuid_format(a2, b2, next);
    }
    return matches;
}

static void test_weak_ids_are_predictable(void)
{
    const uint64_t seeds[] = {0 /* the clock, as the broker runs */, 1, 42, 0xdeadbeefcafeULL};
    for (size_t i = 0; i < sizeof seeds / sizeof seeds[0]; i++) {
        collab_idgen_t *g = collab_idgen_new(false, seeds[i]);
        if (!CHECK(g))
            continue;
        char seen[64], actual[64], predicted[COLLAB_UUID_LEN + 1] = "";
        for (int round = 0; round < 20; round++) {
            collab_idgen_next(g, seen, sizeof seen);
            CHECK(is_v4_uuid(seen));
            CHECK_EQ_INT(predict_next(seen, predicted), 1);
            collab_idgen_next(g, actual, sizeof actual);
            CHECK_STR(predicted, actual);
        }
        collab_idgen_destroy(&g);
    }
}

static void test_clock_seeds_differ(void)
{
    collab_idgen_t *g1 = collab_idgen_new(false, 0);
    collab_idgen_t *g2 = collab_idgen_new(false, 0);
    char a[64] = "", b[64] = "";
    if (CHECK(g1 && g2)) {
        collab_idgen_next(g1, a, sizeof a);
        collab_idgen_next(g2, b, sizeof b);
        CHECK(is_v4_uuid(a) && is_v4_uuid(b));
        /* two clock reads a few instructions apart still give different nanoseconds */
        CHECK(strcmp(a, b) != 0);
    }
    collab_idgen_destroy(&g1);
    collab_idgen_destroy(&g2);
}

static bool is_base64url(const char *s, size_t len)
{
    if (strlen(s) != len)
        return false;
    for (size_t i = 0; i < len; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_')
            return false;
    return true;
}

static void test_strong_tokens(void)
{
    enum { N = 200 };
    static char tokens[N][COLLAB_TOKEN_LEN + 1];
    collab_idgen_t *g = collab_idgen_new(true, 1); /* the seed is ignored */
    if (!CHECK(g))
        return;
    char out[COLLAB_TOKEN_LEN + 8];
    for (int i = 0; i < N; i++) {
        collab_idgen_next(g, out, sizeof out);
        CHECK(is_base64url(out, COLLAB_TOKEN_LEN));
        CHECK(!is_v4_uuid(out));
        memcpy(tokens[i], out, COLLAB_TOKEN_LEN + 1);
    }
    int dups = 0;
    for (int i = 0; i < N; i++)
        for (int j = i + 1; j < N; j++)
            dups += strcmp(tokens[i], tokens[j]) == 0;
    CHECK_EQ_INT(dups, 0);

    /* a second generator with the same seed does not repeat the first */
    collab_idgen_t *g2 = collab_idgen_new(true, 1);
    if (CHECK(g2)) {
        collab_idgen_next(g2, out, sizeof out);
        CHECK(strcmp(out, tokens[0]) != 0);
    }
    collab_idgen_destroy(&g2);

    /* exactly the minimum buffer works; one less is a caller's bug and yields "" */
    char exact[COLLAB_TOKEN_LEN + 1];
    collab_idgen_next(g, exact, sizeof exact);
    CHECK(is_base64url(exact, COLLAB_TOKEN_LEN));
    char small[COLLAB_TOKEN_LEN] = "x";
    collab_idgen_next(g, small, sizeof small);
    CHECK_STR(small, "");
    collab_idgen_destroy(&g);
}

int main(void)
{
    TU_RUN(test_xorshift_and_format);
    TU_RUN(test_fixed_seed_sequence);
    TU_RUN(test_weak_ids_are_predictable);
    TU_RUN(test_clock_seeds_differ);
    TU_RUN(test_strong_tokens);
    return tu_exit("test_ids");
}
