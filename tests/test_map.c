/*  test_map.c: payload maps, every limit at its edge (entries, list length, depth, str and
    key sizes), UTF-8 everywhere, duplicate keys, and the getters with their error codes. */
#include "collab_map.h"
#include "collab_pack.h"
#include "testutil.h"

#include <stdlib.h>

static uint8_t buf[COLLAB_MAX_PAYLOAD + 1024];
static collab_pack_t pk;

static void begin(void)
{
    collab_pack_init(&pk, buf, sizeof buf);
}

static size_t end(void)
{
    size_t len = 0;
    CHECK_OK(collab_pack_finish(&pk, &len));
    return len;
}

/*  Parses a heap copy of exactly len bytes, so ASan catches any overread. */
static int parse(const void *b, size_t len)
{
    collab_map_t m;
    uint8_t *copy = malloc(len ? len : 1);
    memcpy(copy, b, len);
    int rc = collab_map_parse(copy, len, &m);
    free(copy);
    return rc;
}

static int parse_lit(const char *lit, size_t len)
{
    return parse(lit, len);
}

#define PARSE(lit) parse_lit(lit, sizeof(lit) - 1)

static size_t map_of(uint32_t entries)
{
    char key[16];
    begin();
    collab_pack_map(&pk, entries);
    for (uint32_t i = 0; i < entries; i++) {
        snprintf(key, sizeof key, "k%u", i);
        collab_pack_kv_uint(&pk, key, i);
    }
    return end();
}

static void test_entries(void)
{
    CHECK_OK(PARSE("\x80"));
    CHECK_OK(parse(buf, map_of(64)));
    CHECK_RC(parse(buf, map_of(65)), COLLAB_E_LIMIT);
    /* Nested maps have the same limit. */
    begin();
    collab_pack_map(&pk, 1);
    collab_pack_str(&pk, "inner");
    collab_pack_map(&pk, 64);
    for (int i = 0; i < 64; i++)
        collab_pack_kv_bool(&pk, (char[]){'a' + i / 26, 'a' + i % 26, 0}, true);
    CHECK_OK(parse(buf, end()));
    buf[9] = 0x41; /* map16 count (offset 8-9) 64 -> 65: refused before reading on */
    CHECK_RC(parse(buf, end()), COLLAB_E_LIMIT);
}

static size_t list_of(uint32_t n)
{
    begin();
    collab_pack_map(&pk, 1);
    collab_pack_str(&pk, "l");
    collab_pack_array(&pk, n);
    for (uint32_t i = 0; i < n; i++)
        collab_pack_uint(&pk, i % 100);
    return end();
}

static void test_list(void)
{
    CHECK_OK(parse(buf, list_of(0)));
    CHECK_OK(parse(buf, list_of(1000)));
    CHECK_RC(parse(buf, list_of(1001)), COLLAB_E_LIMIT);
}

/*  A payload nested `depth` containers deep, the payload map itself counting as 1; the
    levels below it are maps {"n": ...} or arrays [...], the innermost one empty. */
static size_t nested(int depth, bool arrays)
{
    begin();
    collab_pack_map(&pk, depth > 1 ? 1 : 0);
    if (depth > 1)
        collab_pack_str(&pk, "n");
    for (int d = 2; d <= depth; d++) {
        uint32_t n = d < depth ? 1 : 0;
        if (arrays) {
            collab_pack_array(&pk, n);
        } else {
            collab_pack_map(&pk, n);
            if (n)
                collab_pack_str(&pk, "n");
        }
    }
    return end();
}

static void test_depth(void)
{
    CHECK_OK(parse(buf, nested(1, false)));
    CHECK_OK(parse(buf, nested(8, false)));
    CHECK_RC(parse(buf, nested(9, false)), COLLAB_E_LIMIT);
    CHECK_OK(parse(buf, nested(8, true)));
    CHECK_RC(parse(buf, nested(9, true)), COLLAB_E_LIMIT);
    /* Arrays of arrays: {"a": [[[[[[[ ]]]]]]]} is 8 deep. */
    static const char eight[] = "\x81\xa1"
                                "a\x91\x91\x91\x91\x91\x91\x90";
    static const char nine[] = "\x81\xa1"
                               "a\x91\x91\x91\x91\x91\x91\x91\x90";
    CHECK_OK(PARSE(eight));
    CHECK_RC(PARSE(nine), COLLAB_E_LIMIT);
    /* A deep bomb is refused at the limit, not by running out of stack. */
    static uint8_t bomb[COLLAB_MAX_PAYLOAD];
    memcpy(bomb,
           "\x81\xa1"
           "a",
           3);
    memset(bomb + 3, 0x91, sizeof bomb - 3);
    CHECK_RC(parse(bomb, sizeof bomb), COLLAB_E_LIMIT);
}

static size_t str_of(size_t n, const char *key)
{
    static char text[COLLAB_MAX_STR_BYTES + 2];
    memset(text, 'x', sizeof text);
    begin();
    collab_pack_map(&pk, 1);
    collab_pack_str(&pk, key);
    collab_pack_strn(&pk, text, n);
    return end();
}

static void test_sizes(void)
{
    CHECK_OK(parse(buf, str_of(8192, "s")));
    CHECK_RC(parse(buf, str_of(8193, "s")), COLLAB_E_TOO_LARGE);
    char key[70];
    memset(key, 'k', sizeof key);
    key[64] = '\0';
    CHECK_OK(parse(buf, str_of(1, key)));
    key[64] = 'k', key[65] = '\0';
    CHECK_RC(parse(buf, str_of(1, key)), COLLAB_E_LIMIT);
    /* Keys of nested maps too. */
    begin();
    collab_pack_map(&pk, 1);
    collab_pack_str(&pk, "m");
    collab_pack_map(&pk, 1);
    collab_pack_kv_uint(&pk, key, 1);
    CHECK_RC(parse(buf, end()), COLLAB_E_LIMIT);
    /* The whole payload: 61440 bytes pass, 61441 do not (whatever they hold). */
    begin();
    collab_pack_map(&pk, 1);
    collab_pack_str(&pk, "b");
    static const uint8_t zeros[COLLAB_MAX_PAYLOAD];
    collab_pack_bin(&pk, zeros, COLLAB_MAX_PAYLOAD - 6);
    size_t len = end();
    CHECK_EQ_INT(len, COLLAB_MAX_PAYLOAD);
    CHECK_OK(parse(buf, len));
    buf[5]++; /* one more body byte announced and supplied */
    CHECK_RC(parse(buf, len + 1), COLLAB_E_TOO_LARGE);
}

static void test_utf8(void)
{
    CHECK_OK(PARSE("\x81\xa1k\xa2\xc3\xa9"));
    CHECK_RC(PARSE("\x81\xa1k\xa2\xc3\x28"), COLLAB_E_UTF8);             /* value */
    CHECK_RC(PARSE("\x81\xa2\xc0\x80\x01"), COLLAB_E_UTF8);              /* key, overlong */
    CHECK_RC(PARSE("\x81\xa1k\x92\x01\xa3\xed\xa0\x80"), COLLAB_E_UTF8); /* in a list */
    CHECK_RC(PARSE("\x81\xa1m\x81\xa1\xff\x01"), COLLAB_E_UTF8);         /* nested key */
    CHECK_RC(PARSE("\x81\xa1k\xa4\xf4\x90\x80\x80"), COLLAB_E_UTF8);     /* > U+10FFFF */
    CHECK_OK(PARSE("\x81\xa1k\xc4\x02\xff\xfe"));                        /* bin is not text */
}

static void test_shape(void)
{
    CHECK_RC(PARSE(""), COLLAB_E_MALFORMED);
    collab_map_t m;
    CHECK_RC(collab_map_parse(NULL, 0, &m), COLLAB_E_MALFORMED); /* an absent span */
    CHECK_RC(PARSE("\x90"), COLLAB_E_MALFORMED);                 /* not a map */
    CHECK_RC(PARSE("\xa1x"), COLLAB_E_MALFORMED);
    CHECK_RC(PARSE("\x80\xc0"), COLLAB_E_MALFORMED);              /* trailing byte */
    CHECK_RC(PARSE("\x80\x80"), COLLAB_E_MALFORMED);              /* two maps */
    CHECK_RC(PARSE("\x81\x01\x02"), COLLAB_E_MALFORMED);          /* int key */
    CHECK_RC(PARSE("\x81\xc4\x01k\x02"), COLLAB_E_MALFORMED);     /* bin key */
    CHECK_RC(PARSE("\x81\xa1m\x81\xc0\x01"), COLLAB_E_MALFORMED); /* nil key, nested */
    CHECK_RC(PARSE("\x81\xa1k\xd4\x01\x00"), COLLAB_E_MALFORMED); /* ext */
    CHECK_RC(PARSE("\x81\xa1k\x91\xd6\xff\x00\x00\x00\x00"), COLLAB_E_MALFORMED);
    CHECK_RC(PARSE("\x82\xa1k\x01\xa1k\x02"), COLLAB_E_MALFORMED); /* duplicate key */
    /* Nested maps are checked for duplicates too: no key twice in any map. */
    CHECK_RC(PARSE("\x81\xa1m\x82\xa1k\x01\xa1k\x02"), COLLAB_E_MALFORMED);
    CHECK_OK(PARSE("\x81\xa1m\x82\xa1k\x01\xa1j\x02"));
    CHECK_RC(PARSE("\x81\xa1k\xc1"), COLLAB_E_MALFORMED);
    CHECK_OK(PARSE("\x84\xa1n\xc0\xa1"
                   "f\xcb\x3f\xf0\x00\x00\x00\x00\x00\x00\xa1i\xd0\x80\xa1"
                   "a\x90"));
    static uint8_t huge[COLLAB_MAX_PAYLOAD + 1];
    CHECK_RC(parse(huge, sizeof huge), COLLAB_E_TOO_LARGE);
    CHECK_RC(collab_map_validate("\x81\xa1k\x01", 4), 0);
    CHECK_RC(collab_map_validate("\x81\xa1k", 3), COLLAB_E_MALFORMED);
}

static void test_truncation(void)
{
    static const char full[] = "\x83\xa4name\xa6"
                               "Apollo\xa4tags\x92\xa1x\xa2yz\xa3sub\x81\xa1n\xcd\x01\x00";
    CHECK_OK(PARSE(full));
    for (size_t cut = 0; cut < sizeof full - 1; cut++)
        CHECK_RC(parse(full, cut), COLLAB_E_MALFORMED);
}

static size_t getters_payload(void)
{
    begin();
    collab_pack_map(&pk, 9);
    collab_pack_kv_str(&pk, "s", "str");
    collab_pack_kv_uint(&pk, "u", 42);
    collab_pack_kv_int(&pk, "neg", -5);
    collab_pack_kv_uint(&pk, "big", UINT64_MAX);
    collab_pack_kv_bool(&pk, "t", true);
    collab_pack_str(&pk, "b");
    collab_pack_bin(&pk, "\x00\x01", 2);
    collab_pack_str(&pk, "arr");
    collab_pack_array(&pk, 3);
    collab_pack_uint(&pk, 1);
    collab_pack_str(&pk, "two");
    collab_pack_nil(&pk);
    collab_pack_str(&pk, "sub");
    collab_pack_map(&pk, 1);
    collab_pack_kv_uint(&pk, "x", 1);
    collab_pack_str(&pk, "nil");
    collab_pack_nil(&pk);
    return end();
}

static void test_getters(void)
{
    collab_map_t m;
    collab_span_t s;
    uint64_t u = 0;
    int64_t i = 0;
    bool b = false;
    size_t len = getters_payload();
    CHECK_OK(collab_map_parse(buf, len, &m));
    CHECK_EQ_INT(m.count, 9);
    CHECK_OK(collab_map_str(&m, "s", &s));
    CHECK_SPAN(s, "str");
    CHECK_OK(collab_map_uint(&m, "u", &u));
    CHECK_EQ_U64(u, 42);
    CHECK_OK(collab_map_int(&m, "u", &i));
    CHECK_EQ_INT(i, 42);
    CHECK_OK(collab_map_int(&m, "neg", &i));
    CHECK_EQ_INT(i, -5);
    CHECK_RC(collab_map_uint(&m, "neg", &u), COLLAB_E_FIELD_TYPE);
    CHECK_OK(collab_map_uint(&m, "big", &u));
    CHECK_EQ_U64(u, UINT64_MAX);
    CHECK_RC(collab_map_int(&m, "big", &i), COLLAB_E_FIELD_TYPE); /* does not fit int64 */
    CHECK_OK(collab_map_bool(&m, "t", &b));
    CHECK(b);
    CHECK_OK(collab_map_bin(&m, "b", &s));
    CHECK_MEM(s.ptr, s.len, "\x00\x01", 2);
    CHECK_RC(collab_map_str(&m, "b", &s), COLLAB_E_FIELD_TYPE); /* bin is not str */
    CHECK_RC(collab_map_bin(&m, "s", &s), COLLAB_E_FIELD_TYPE);
    CHECK_RC(collab_map_str(&m, "u", &s), COLLAB_E_FIELD_TYPE);
    CHECK_RC(collab_map_bool(&m, "nil", &b), COLLAB_E_FIELD_TYPE);
    CHECK_RC(collab_map_int(&m, "s", &i), COLLAB_E_FIELD_TYPE);
    CHECK_RC(collab_map_str(&m, "missing", &s), COLLAB_E_FIELD_MISSING);
    CHECK_RC(collab_map_uint(&m, "missing", &u), COLLAB_E_FIELD_MISSING);
    CHECK_RC(collab_map_int(&m, "missing", &i), COLLAB_E_FIELD_MISSING);
    CHECK_RC(collab_map_bool(&m, "missing", &b), COLLAB_E_FIELD_MISSING);
    CHECK_RC(collab_map_bin(&m, "missing", &s), COLLAB_E_FIELD_MISSING);
    CHECK(collab_map_find(&m, "missing") == NULL);
    CHECK(collab_map_find(&m, "S") == NULL); /* keys are case-sensitive */
    const collab_map_entry_t *e = collab_map_find(&m, "u");
    CHECK(e && e->raw.len == 1 && e->raw.ptr[0] == 42);
    CHECK(e && e->key.ptr >= (const char *)buf && e->key.ptr < (const char *)buf + len);
}

static void test_container_getters(void)
{
    collab_map_t m, sub;
    uint64_t u = 0;
    CHECK_OK(collab_map_parse(buf, getters_payload(), &m));
    collab_mp_reader_t r;
    collab_mp_value_t v;
    uint32_t n = 0;
    CHECK_OK(collab_map_array(&m, "arr", &r, &n));
    CHECK_EQ_INT(n, 3);
    CHECK(collab_mp_read(&r, &v) == 0 && v.type == COLLAB_MP_UINT && v.u == 1);
    CHECK(collab_mp_read(&r, &v) == 0 && v.type == COLLAB_MP_STR && v.len == 3);
    CHECK(collab_mp_read(&r, &v) == 0 && v.type == COLLAB_MP_NIL);
    CHECK(collab_mp_at_end(&r));
    CHECK_RC(collab_map_array(&m, "sub", &r, &n), COLLAB_E_FIELD_TYPE);
    CHECK_RC(collab_map_array(&m, "missing", &r, &n), COLLAB_E_FIELD_MISSING);

    CHECK_OK(collab_map_submap(&m, "sub", &sub));
    CHECK_EQ_INT(sub.count, 1);
    CHECK(collab_map_uint(&sub, "x", &u) == 0 && u == 1);
    CHECK_RC(collab_map_submap(&m, "arr", &sub), COLLAB_E_FIELD_TYPE);
    CHECK_RC(collab_map_submap(&m, "missing", &sub), COLLAB_E_FIELD_MISSING);
}

static void test_span_eq(void)
{
    CHECK(collab_span_eq((collab_span_t){"abc", 3}, "abc"));
    CHECK(!collab_span_eq((collab_span_t){"abc", 2}, "abc"));
    CHECK(!collab_span_eq((collab_span_t){"abd", 3}, "abc"));
    CHECK(collab_span_eq((collab_span_t){NULL, 0}, ""));
    CHECK(!collab_span_eq((collab_span_t){NULL, 0}, "a"));
}

/*  An array of maps walked element by element; a non-map element stops the walk. */
static void test_array_next(void)
{
    /* {"a": [{"k": 1}, {"k": 2}, 7]} */
    static const char bytes[] = "\x81\xa1"
                                "a"
                                "\x93\x81\xa1"
                                "k"
                                "\x01\x81\xa1"
                                "k"
                                "\x02\x07";
    collab_map_t m, item;
    collab_mp_reader_t r;
    uint32_t n = 0;
    uint64_t k = 0;
    CHECK_OK(collab_map_parse(bytes, sizeof bytes - 1, &m));
    CHECK_OK(collab_map_array(&m, "a", &r, &n));
    CHECK_EQ_INT(n, 3);
    CHECK_OK(collab_map_array_next(&r, &item));
    CHECK(collab_map_uint(&item, "k", &k) == 0 && k == 1);
    CHECK_OK(collab_map_array_next(&r, &item));
    CHECK(collab_map_uint(&item, "k", &k) == 0 && k == 2);
    CHECK_RC(collab_map_array_next(&r, &item), COLLAB_E_MALFORMED); /* 7 is not a map */
    CHECK_RC(collab_map_array_next(&r, &item), COLLAB_E_MALFORMED); /* nothing left */
}

int main(void)
{
    TU_RUN(test_entries);
    TU_RUN(test_list);
    TU_RUN(test_depth);
    TU_RUN(test_sizes);
    TU_RUN(test_utf8);
    TU_RUN(test_shape);
    TU_RUN(test_truncation);
    TU_RUN(test_getters);
    TU_RUN(test_container_getters);
    TU_RUN(test_span_eq);
    TU_RUN(test_array_next);
    return tu_exit("test_map");
}
