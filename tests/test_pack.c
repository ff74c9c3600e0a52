/*  test_pack.c: the bounded packer: canonical (smallest) encodings as msgpack-c writes them,
    overflow remembered once and reported at the end, never a byte past the buffer. */
#include "collab_pack.h"
#include "testutil.h"

static uint8_t out[70000];
static collab_pack_t p;

static void begin(size_t cap)
{
    memset(out, 0xee, sizeof out);
    collab_pack_init(&p, out, cap);
}

#define CHECK_PACKED(lit)                                                                          \
    do {                                                                                           \
        size_t len_ = 0;                                                                           \
        CHECK_OK(collab_pack_finish(&p, &len_));                                                   \
        CHECK_MEM(out, len_, lit, sizeof(lit) - 1);                                                \
    } while (0)

static void test_canonical_uint(void)
{
    static const struct {
        uint64_t v;
        const char *enc;
        size_t len;
    } cases[] = {
        {0, "\x00", 1},
        {127, "\x7f", 1},
        {128, "\xcc\x80", 2},
        {255, "\xcc\xff", 2},
        {256, "\xcd\x01\x00", 3},
        {65535, "\xcd\xff\xff", 3},
        {65536, "\xce\x00\x01\x00\x00", 5},
        {UINT32_MAX, "\xce\xff\xff\xff\xff", 5},
        {(uint64_t)UINT32_MAX + 1, "\xcf\x00\x00\x00\x01\x00\x00\x00\x00", 9},
        {UINT64_MAX, "\xcf\xff\xff\xff\xff\xff\xff\xff\xff", 9},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len = 0;
        begin(sizeof out);
        collab_pack_uint(&p, cases[i].v);
        CHECK_OK(collab_pack_finish(&p, &len));
        CHECK_MEM(out, len, cases[i].enc, cases[i].len);
    }
}

static void test_canonical_int(void)
{
    begin(sizeof out);
    collab_pack_int(&p, -1);
    collab_pack_int(&p, -32);
    collab_pack_int(&p, -33);
    collab_pack_int(&p, -129);
    collab_pack_int(&p, INT64_MIN);
    collab_pack_int(&p, 5);
    CHECK_PACKED("\xff\xe0\xd0\xdf\xd1\xff\x7f\xd3\x80\x00\x00\x00\x00\x00\x00\x00\x05");
}

static void test_str_bin(void)
{
    static char body[70000];
    size_t len = 0;
    begin(sizeof out);
    collab_pack_str(&p, "");
    collab_pack_str(&p, "abc");
    collab_pack_bin(&p, "", 0);
    collab_pack_bool(&p, true);
    collab_pack_bool(&p, false);
    collab_pack_nil(&p);
    CHECK_PACKED("\xa0\xa3"
                 "abc\xc4\x00\xc3\xc2\xc0");
    static const struct {
        size_t n;
        bool is_str;
        const char *hdr;
        size_t hlen;
    } cases[] = {
        {31, true, "\xbf", 1},
        {32, true, "\xd9\x20", 2},
        {255, true, "\xd9\xff", 2},
        {256, true, "\xda\x01\x00", 3},
        {65536, true, "\xdb\x00\x01\x00\x00", 5},
        {255, false, "\xc4\xff", 2},
        {256, false, "\xc5\x01\x00", 3},
        {65536, false, "\xc6\x00\x01\x00\x00", 5},
    };
    memset(body, 'x', sizeof body);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        begin(sizeof out);
        if (cases[i].is_str)
            collab_pack_strn(&p, body, cases[i].n);
        else
            collab_pack_bin(&p, body, cases[i].n);
        CHECK_OK(collab_pack_finish(&p, &len));
        CHECK_EQ_INT(len, cases[i].hlen + cases[i].n);
        CHECK_MEM(out, cases[i].hlen, cases[i].hdr, cases[i].hlen);
    }
}

static void test_containers(void)
{
    begin(sizeof out);
    collab_pack_map(&p, 2);
    collab_pack_kv_str(&p, "a", "b");
    collab_pack_kv_bool(&p, "t", false);
    collab_pack_array(&p, 15);
    collab_pack_array(&p, 16);
    collab_pack_map(&p, 16);
    collab_pack_map(&p, 65536);
    collab_pack_array(&p, 65536);
    /* headers whose entries never come: the bytes are right, and finish says they are short */
    size_t len = 0;
    CHECK_RC(collab_pack_finish(&p, &len), COLLAB_E_INTERNAL);
    collab_pack_unchecked(&p);
    CHECK_PACKED("\x82\xa1"
                 "a\xa1"
                 "b\xa1t\xc2\x9f\xdc\x00\x10\xde\x00\x10\xdf\x00\x01\x00\x00\xdd\x00\x01\x00\x00");
    begin(sizeof out);
    collab_pack_kv_uint(&p, "u", 1);
    collab_pack_kv_int(&p, "i", -1);
    collab_pack_kv_strn(&p, "s", "xyz", 2);
    CHECK_PACKED("\xa1u\x01\xa1i\xff\xa1s\xa2xy");
}

/*  A map or array must get exactly the entries its header declared. */
static void test_count_check(void)
{
    size_t len = 0;
    begin(sizeof out); /* one pair short */
    collab_pack_map(&p, 3);
    collab_pack_kv_uint(&p, "a", 1);
    collab_pack_kv_uint(&p, "b", 2);
    CHECK_RC(collab_pack_finish(&p, &len), COLLAB_E_INTERNAL);
    begin(sizeof out); /* one pair over: the hand-counted size of a task event gone wrong */
    collab_pack_map(&p, 1);
    collab_pack_kv_uint(&p, "a", 1);
    collab_pack_kv_uint(&p, "b", 2);
    CHECK_RC(collab_pack_finish(&p, &len), COLLAB_E_INTERNAL);
    begin(sizeof out); /* a key without its value */
    collab_pack_map(&p, 1);
    collab_pack_str(&p, "a");
    CHECK_RC(collab_pack_finish(&p, &len), COLLAB_E_INTERNAL);
    begin(sizeof out); /* an array one short, nested in a complete-looking map */
    collab_pack_map(&p, 2);
    collab_pack_str(&p, "xs");
    collab_pack_array(&p, 2);
    collab_pack_uint(&p, 1);
    collab_pack_kv_uint(&p, "b", 2);
    CHECK_RC(collab_pack_finish(&p, &len), COLLAB_E_INTERNAL);
    begin(sizeof out); /* nested and exact, empty containers, raw values counted */
    collab_pack_map(&p, 3);
    collab_pack_str(&p, "xs");
    collab_pack_array(&p, 2);
    collab_pack_map(&p, 0);
    collab_pack_array(&p, 0);
    collab_pack_kv_bool(&p, "t", true);
    collab_pack_str(&p, "r");
    collab_pack_array(&p, 2);
    collab_pack_raw(&p, "\x01\x02", 2, 2);
    CHECK_PACKED("\x83\xa2xs\x92\x80\x90\xa1t\xc3\xa1r\x92\x01\x02");
    begin(sizeof out); /* raw bytes counted as fewer values than the array declared */
    collab_pack_array(&p, 2);
    collab_pack_raw(&p, "\x01\x02", 2, 1);
    CHECK_RC(collab_pack_finish(&p, &len), COLLAB_E_INTERNAL);
}

/*  Strings of every length up to 300, which the packer writes itself below 32 bytes and
    through msgpack-c above: the same bytes as msgpack-c's own packer, and into a buffer one
    byte short, an overflow that writes nothing past it. */
static void test_str_as_msgpack_c(void)
{
    static char body[300];
    memset(body, 'q', sizeof body);
    int mismatches = 0;
    for (size_t n = 0; n <= sizeof body; n++) {
        msgpack_sbuffer sb;
        msgpack_packer pk;
        msgpack_sbuffer_init(&sb);
        msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
        msgpack_pack_str(&pk, n);
        msgpack_pack_str_body(&pk, body, n);
        size_t len = 0;
        begin(sizeof out);
        collab_pack_strn(&p, body, n);
        if (collab_pack_finish(&p, &len) != 0 || len != sb.size || memcmp(out, sb.data, len) != 0)
            mismatches++;
        begin(sb.size - 1);
        collab_pack_strn(&p, body, n);
        if (collab_pack_finish(&p, &len) != COLLAB_E_TOO_LARGE || out[sb.size - 1] != 0xee)
            mismatches++;
        msgpack_sbuffer_destroy(&sb);
    }
    CHECK_EQ_INT(mismatches, 0);
}

static void test_overflow(void)
{
    size_t len = 12345;
    for (size_t cap = 0; cap < 9; cap++) {
        begin(cap);
        collab_pack_str(&p, "abcdefgh"); /* 9 bytes */
        collab_pack_nil(&p); /* later small writes must not sneak in after an overflow */
        CHECK_RC(collab_pack_finish(&p, &len), COLLAB_E_TOO_LARGE);
        CHECK_EQ_INT(len, 12345);
        CHECK(out[cap] == 0xee);
    }
    begin(9);
    collab_pack_str(&p, "abcdefgh");
    CHECK_OK(collab_pack_finish(&p, &len));
    CHECK_EQ_INT(len, 9);
    begin(0);
    CHECK_OK(collab_pack_finish(&p, &len));
    CHECK_EQ_INT(len, 0);
}

int main(void)
{
    TU_RUN(test_canonical_uint);
    TU_RUN(test_canonical_int);
    TU_RUN(test_str_bin);
    TU_RUN(test_containers);
    TU_RUN(test_count_check);
    TU_RUN(test_str_as_msgpack_c);
    TU_RUN(test_overflow);
    return tu_exit("test_pack");
}
