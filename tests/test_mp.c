/*  test_mp.c: the bounded MessagePack reader, every format of the spec, its edge encodings,
    truncation at every byte, the reserved byte 0xc1 and the limits of collab_mp_skip. */
#include "collab_mp.h"
#include "testutil.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>

/*  Reads exactly one value from a heap copy of the bytes (so ASan sees any overread)
    and checks that it consumed all of them. */
static int read_one(const void *bytes, size_t len, collab_mp_value_t *v)
{
    static uint8_t *copy; /* kept until the next call: v may point into it */
    free(copy);
    copy = malloc(len ? len : 1);
    memcpy(copy, bytes, len);
    collab_mp_reader_t r;
    collab_mp_reader_init(&r, copy, len);
    int rc = collab_mp_read(&r, v);
    if (rc == 0 && !collab_mp_at_end(&r))
        rc = 99;
    return rc;
}

#define READ(lit, v) read_one(lit, sizeof(lit) - 1, v)

/*  Every proper prefix of a value's encoding is refused. */
static void check_truncations(const void *bytes, size_t len)
{
    for (size_t cut = 0; cut < len; cut++) {
        collab_mp_value_t v;
        uint8_t *copy = malloc(cut ? cut : 1);
        memcpy(copy, bytes, cut);
        collab_mp_reader_t r;
        collab_mp_reader_init(&r, copy, cut);
        int rc = collab_mp_skip(&r, 4, 100);
        if (!CHECK(rc == COLLAB_E_MALFORMED))
            fprintf(stderr, "  truncated at %zu of %zu: rc %d\n", cut, len, rc);
        collab_mp_reader_init(&r, copy, cut);
        (void)collab_mp_read(&r, &v); /* headers may be complete; it must just not overread */
        free(copy);
    }
}

#define TRUNC(lit) check_truncations(lit, sizeof(lit) - 1)

static void test_nil_bool(void)
{
    collab_mp_value_t v;
    CHECK_OK(READ("\xc0", &v));
    CHECK_EQ_INT(v.type, COLLAB_MP_NIL);
    CHECK_OK(READ("\xc2", &v));
    CHECK(v.type == COLLAB_MP_BOOL && !v.b);
    CHECK_OK(READ("\xc3", &v));
    CHECK(v.type == COLLAB_MP_BOOL && v.b);
}

static void test_uint(void)
{
    collab_mp_value_t v;
    CHECK_OK(READ("\x00", &v));
    CHECK(v.type == COLLAB_MP_UINT && v.u == 0);
    CHECK_OK(READ("\x7f", &v));
    CHECK(v.type == COLLAB_MP_UINT && v.u == 127);
    CHECK_OK(READ("\xcc\xff", &v));
    CHECK(v.type == COLLAB_MP_UINT && v.u == 255);
    CHECK_OK(READ("\xcc\x00", &v)); /* non-canonical but valid */
    CHECK(v.type == COLLAB_MP_UINT && v.u == 0);
    CHECK_OK(READ("\xcd\xff\xfe", &v));
    CHECK_EQ_U64(v.u, 0xfffe);
    CHECK_OK(READ("\xce\xff\xff\xff\xfd", &v));
    CHECK_EQ_U64(v.u, 0xfffffffdu);
    CHECK_OK(READ("\xcf\xff\xff\xff\xff\xff\xff\xff\xff", &v));
    CHECK(v.type == COLLAB_MP_UINT && v.u == UINT64_MAX);
    CHECK_OK(READ("\xcf\x01\x02\x03\x04\x05\x06\x07\x08", &v));
    CHECK_EQ_U64(v.u, 0x0102030405060708ull);
    TRUNC("\xcc\xff");
    TRUNC("\xcd\xff\xfe");
    TRUNC("\xce\xff\xff\xff\xfd");
    TRUNC("\xcf\x01\x02\x03\x04\x05\x06\x07\x08");
}

static void test_int(void)
{
    collab_mp_value_t v;
    CHECK_OK(READ("\xff", &v));
    CHECK(v.type == COLLAB_MP_INT && v.i == -1);
    CHECK_OK(READ("\xe0", &v));
    CHECK(v.type == COLLAB_MP_INT && v.i == -32);
    CHECK_OK(READ("\xd0\x80", &v));
    CHECK(v.type == COLLAB_MP_INT && v.i == -128);
    CHECK_OK(READ("\xd1\x80\x00", &v));
    CHECK(v.type == COLLAB_MP_INT && v.i == -32768);
    CHECK_OK(READ("\xd2\x80\x00\x00\x00", &v));
    CHECK(v.type == COLLAB_MP_INT && v.i == INT32_MIN);
    CHECK_OK(READ("\xd3\x80\x00\x00\x00\x00\x00\x00\x00", &v));
    CHECK(v.type == COLLAB_MP_INT && v.i == INT64_MIN);
    /* Signed formats holding non-negative values read as UINT, whatever the encoding. */
    CHECK_OK(READ("\xd0\x7f", &v));
    CHECK(v.type == COLLAB_MP_UINT && v.u == 127);
    CHECK_OK(READ("\xd1\x00\x00", &v));
    CHECK(v.type == COLLAB_MP_UINT && v.u == 0);
    CHECK_OK(READ("\xd3\x7f\xff\xff\xff\xff\xff\xff\xff", &v));
    CHECK(v.type == COLLAB_MP_UINT && v.u == INT64_MAX);
    TRUNC("\xd0\x80");
    TRUNC("\xd1\x80\x00");
    TRUNC("\xd2\x80\x00\x00\x00");
    TRUNC("\xd3\x80\x00\x00\x00\x00\x00\x00\x00");
}

static void test_float(void)
{
    collab_mp_value_t v;
    CHECK_OK(READ("\xca\x3f\xc0\x00\x00", &v)); /* 1.5f */
    CHECK(v.type == COLLAB_MP_FLOAT && v.f == 1.5);
    CHECK_OK(READ("\xcb\xc0\x09\x21\xfb\x54\x44\x2d\x18", &v)); /* -pi */
    CHECK(v.type == COLLAB_MP_FLOAT && v.f == -3.141592653589793);
    CHECK_OK(READ("\xcb\x7f\xf0\x00\x00\x00\x00\x00\x00", &v));
    CHECK(v.type == COLLAB_MP_FLOAT && isinf(v.f));
    CHECK_OK(READ("\xca\x7f\xc0\x00\x00", &v));
    CHECK(v.type == COLLAB_MP_FLOAT && isnan(v.f));
    TRUNC("\xca\x3f\xc0\x00\x00");
    TRUNC("\xcb\xc0\x09\x21\xfb\x54\x44\x2d\x18");
}

static void test_str(void)
{
    collab_mp_value_t v;
    CHECK_OK(READ("\xa0", &v));
    CHECK(v.type == COLLAB_MP_STR && v.len == 0);
    CHECK_OK(READ("\xa3"
                  "abc",
                  &v));
    CHECK(v.type == COLLAB_MP_STR && v.len == 3 && memcmp(v.ptr, "abc", 3) == 0);
    uint8_t s31[32] = {0xbf};
    memset(s31 + 1, 'x', 31);
    CHECK_OK(read_one(s31, sizeof s31, &v));
    CHECK(v.type == COLLAB_MP_STR && v.len == 31);
    CHECK_OK(READ("\xd9\x02hi", &v));
    CHECK(v.type == COLLAB_MP_STR && v.len == 2);
    CHECK_OK(READ("\xda\x00\x02hi", &v));
    CHECK(v.type == COLLAB_MP_STR && v.len == 2);
    CHECK_OK(READ("\xdb\x00\x00\x00\x02hi", &v));
    CHECK(v.type == COLLAB_MP_STR && v.len == 2 && memcmp(v.ptr, "hi", 2) == 0);
    /* A reader does not judge str contents: UTF-8 is collab_map's business. */
    CHECK_OK(READ("\xa1\xff", &v));
    TRUNC("\xa3"
          "abc");
    TRUNC("\xd9\x02hi");
    TRUNC("\xda\x00\x02hi");
    TRUNC("\xdb\x00\x00\x00\x02hi");
    /* Lengths far past the end are refused before anything is touched. */
    CHECK_RC(READ("\xdb\xff\xff\xff\xff", &v), COLLAB_E_MALFORMED);
    CHECK_RC(READ("\xda\xff\xff"
                  "abc",
                  &v),
             COLLAB_E_MALFORMED);
}

static void test_bin(void)
{
    collab_mp_value_t v;
    CHECK_OK(READ("\xc4\x00", &v));
    CHECK(v.type == COLLAB_MP_BIN && v.len == 0);
    CHECK_OK(READ("\xc4\x03\x01\x02\x03", &v));
    CHECK(v.type == COLLAB_MP_BIN && v.len == 3 && memcmp(v.ptr, "\x01\x02\x03", 3) == 0);
    CHECK_OK(READ("\xc5\x00\x01\xee", &v));
    CHECK(v.type == COLLAB_MP_BIN && v.len == 1 && (uint8_t)v.ptr[0] == 0xee);
    CHECK_OK(READ("\xc6\x00\x00\x00\x01\xee", &v));
    CHECK(v.type == COLLAB_MP_BIN && v.len == 1);
    TRUNC("\xc4\x03\x01\x02\x03");
    TRUNC("\xc5\x00\x01\xee");
    TRUNC("\xc6\x00\x00\x00\x01\xee");
    CHECK_RC(READ("\xc6\xff\xff\xff\xff", &v), COLLAB_E_MALFORMED);
}

static void test_ext(void)
{
    collab_mp_value_t v;
    static const struct {
        const char *b;
        size_t len;
        uint32_t body;
    } cases[] = {
        {"\xd4\x01\xaa", 3, 1},
        {"\xd5\x01\xaa\xbb", 4, 2},
        {"\xd6\xff\x00\x00\x00\x00", 6, 4}, /* the timestamp extension is just an ext here */
        {"\xd7\x01"
         "12345678",
         10, 8},
        {"\xd8\x01"
         "0123456789abcdef",
         18, 16},
        {"\xc7\x00\x05", 3, 0},
        {"\xc7\x02\x05zz", 5, 2},
        {"\xc8\x00\x02\x05zz", 6, 2},
        {"\xc9\x00\x00\x00\x02\x05zz", 8, 2},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CHECK_OK(read_one(cases[i].b, cases[i].len, &v));
        CHECK(v.type == COLLAB_MP_EXT && v.len == cases[i].body);
        check_truncations(cases[i].b, cases[i].len);
    }
}

static void test_containers(void)
{
    collab_mp_value_t v;
    collab_mp_reader_t r;
    CHECK_OK(READ("\x90", &v));
    CHECK(v.type == COLLAB_MP_ARRAY && v.len == 0);
    CHECK_OK(READ("\x80", &v));
    CHECK(v.type == COLLAB_MP_MAP && v.len == 0);
    /* Headers only: the elements stay in the reader. */
    collab_mp_reader_init(&r, "\x9f", 1);
    CHECK_OK(collab_mp_read(&r, &v));
    CHECK(v.type == COLLAB_MP_ARRAY && v.len == 15 && collab_mp_at_end(&r));
    collab_mp_reader_init(&r, "\x8f", 1);
    CHECK_OK(collab_mp_read(&r, &v));
    CHECK(v.type == COLLAB_MP_MAP && v.len == 15);
    collab_mp_reader_init(&r, "\xdc\x01\x00", 3);
    CHECK_OK(collab_mp_read(&r, &v));
    CHECK(v.type == COLLAB_MP_ARRAY && v.len == 256);
    collab_mp_reader_init(&r, "\xdd\xff\xff\xff\xff", 5);
    CHECK_OK(collab_mp_read(&r, &v));
    CHECK(v.type == COLLAB_MP_ARRAY && v.len == UINT32_MAX);
    collab_mp_reader_init(&r, "\xde\x00\x10", 3);
    CHECK_OK(collab_mp_read(&r, &v));
    CHECK(v.type == COLLAB_MP_MAP && v.len == 16);
    collab_mp_reader_init(&r, "\xdf\x00\x01\x00\x00", 5);
    CHECK_OK(collab_mp_read(&r, &v));
    CHECK(v.type == COLLAB_MP_MAP && v.len == 65536);
    TRUNC("\xdc\x00\x01\x01");
    TRUNC("\xdd\x00\x00\x00\x01\x01");
    TRUNC("\xde\x00\x01\xa1k\x01");
    TRUNC("\xdf\x00\x00\x00\x01\xa1k\x01");
    TRUNC("\x82\xa1"
          "a\x92\x01\xc3\xa1"
          "b\x81\xa1"
          "c\xc0");
}

static void test_reserved_and_empty(void)
{
    collab_mp_value_t v;
    collab_mp_reader_t r;
    CHECK_RC(READ("\xc1", &v), COLLAB_E_MALFORMED);
    CHECK_RC(read_one("", 0, &v), COLLAB_E_MALFORMED);
    collab_mp_reader_init(&r, "\x91\xc1", 2);
    CHECK_RC(collab_mp_skip(&r, 4, 10), COLLAB_E_MALFORMED);
    collab_mp_reader_init(&r, NULL, 0);
    CHECK(collab_mp_at_end(&r));
    CHECK_RC(collab_mp_read(&r, &v), COLLAB_E_MALFORMED);
    /* Every single byte is a complete value (or container header), a truncated one or 0xc1. */
    for (int b = 0; b < 256; b++) {
        uint8_t one = (uint8_t)b;
        int rc = read_one(&one, 1, &v);
        bool complete = b <= 0xa0 || b == 0xc0 || b == 0xc2 || b == 0xc3 || b >= 0xe0;
        if (!CHECK(complete ? rc == 0 : rc == COLLAB_E_MALFORMED))
            fprintf(stderr, "  byte 0x%02x: rc %d\n", b, rc);
    }
}

static void test_reader_sequence(void)
{
    static const char seq[] = "\x01\xa2hi\xc4\x01\x00\xc3";
    collab_mp_reader_t r;
    collab_mp_value_t v;
    collab_mp_reader_init(&r, seq, sizeof seq - 1);
    CHECK_OK(collab_mp_read(&r, &v));
    CHECK(v.type == COLLAB_MP_UINT && v.u == 1 && !collab_mp_at_end(&r));
    CHECK_OK(collab_mp_read(&r, &v));
    CHECK(v.type == COLLAB_MP_STR && v.ptr == seq + 2 && v.len == 2);
    CHECK_OK(collab_mp_read(&r, &v));
    CHECK(v.type == COLLAB_MP_BIN && v.len == 1);
    CHECK_OK(collab_mp_read(&r, &v));
    CHECK(v.type == COLLAB_MP_BOOL && collab_mp_at_end(&r));
    CHECK_RC(collab_mp_read(&r, &v), COLLAB_E_MALFORMED);
}

/*  depth containers nested: [[[...]]] */
static size_t nested(uint8_t *out, int depth)
{
    for (int i = 0; i < depth; i++)
        out[i] = i + 1 < depth ? 0x91 : 0x90;
    return (size_t)depth;
}

static int skip(const void *b, size_t len, int max_depth, uint32_t max_entries)
{
    collab_mp_reader_t r;
    collab_mp_reader_init(&r, b, len);
    int rc = collab_mp_skip(&r, max_depth, max_entries);
    return rc == 0 && !collab_mp_at_end(&r) ? 99 : rc;
}

static void test_skip_depth(void)
{
    uint8_t buf[64];
    CHECK_OK(skip("\x05", 1, 0, 0)); /* scalars need no depth */
    CHECK_RC(skip("\x90", 1, 0, 10), COLLAB_E_LIMIT);
    CHECK_OK(skip("\x90", 1, 1, 10));
    for (int d = 1; d <= 10; d++) {
        size_t n = nested(buf, d);
        CHECK_OK(skip(buf, n, d, 10));
        CHECK_RC(skip(buf, n, d - 1, 10), COLLAB_E_LIMIT);
    }
    /* Maps count as containers too, in keys and in values. */
    CHECK_OK(skip("\x81\xa1k\x81\xa1k\x90", 7, 3, 10));
    CHECK_RC(skip("\x81\xa1k\x81\xa1k\x90", 7, 2, 10), COLLAB_E_LIMIT);
    CHECK_RC(skip("\x81\x90\x01", 3, 1, 10), COLLAB_E_LIMIT);
    /* A million nesting levels cost at most max_depth stack frames. */
    static uint8_t deep[1000000];
    memset(deep, 0x91, sizeof deep);
    CHECK_RC(skip(deep, sizeof deep, 8, 10), COLLAB_E_LIMIT);
}

static void test_skip_entries(void)
{
    uint8_t buf[2100];
    buf[0] = 0xdc, buf[1] = 1000 >> 8, buf[2] = 1000 & 0xff;
    memset(buf + 3, 0xc0, 1000);
    CHECK_OK(skip(buf, 1003, 1, 1000));
    CHECK_RC(skip(buf, 1003, 1, 999), COLLAB_E_LIMIT);
    /* A map of n entries holds 2n values but counts as n. */
    buf[0] = 0xde, buf[1] = 0, buf[2] = 64;
    memset(buf + 3, 0x01, 128);
    CHECK_OK(skip(buf, 131, 1, 64));
    CHECK_RC(skip(buf, 131, 1, 63), COLLAB_E_LIMIT);
    /* A huge announced count is refused before any element is read. */
    CHECK_RC(skip("\xdd\xff\xff\xff\xff", 5, 8, 1000), COLLAB_E_LIMIT);
    CHECK_RC(skip("\xdd\x00\x00\x03\xe8", 5, 8, 1000), COLLAB_E_MALFORMED);
    /* skip steps over str/bin/ext bodies. */
    CHECK_OK(skip("\x93\xa2hi\xc4\x01\x00\xd4\x01\x02", 10, 1, 3));
}

int main(void)
{
    TU_RUN(test_nil_bool);
    TU_RUN(test_uint);
    TU_RUN(test_int);
    TU_RUN(test_float);
    TU_RUN(test_str);
    TU_RUN(test_bin);
    TU_RUN(test_ext);
    TU_RUN(test_containers);
    TU_RUN(test_reserved_and_empty);
    TU_RUN(test_reader_sequence);
    TU_RUN(test_skip_depth);
    TU_RUN(test_skip_entries);
    return tu_exit("test_mp");
}
