/*  test_text.c: strict UTF-8 (overlongs, surrogates, > U+10FFFF, truncated sequences),
    code point counting, the refused control characters and their visible escapes. */
#include "collab_text.h"
#include "testutil.h"

#include <limits.h>
#include <stdbool.h>
#include <string.h>

typedef struct {
    const char *s;
    size_t len;
    size_t cps; /* code points when valid */
} sample_t;

#define S(lit, cps)                                                                                \
    {                                                                                              \
        lit, sizeof(lit) - 1, cps                                                                  \
    }

static void test_valid(void)
{
    static const sample_t ok[] = {
        S("", 0),
        S("abc", 3),
        S("\x00", 1),             /* NUL is valid UTF-8; refusing it is the control check's job */
        S("\xc2\x80", 1),         /* U+0080, smallest 2-byte */
        S("\xdf\xbf", 1),         /* U+07FF */
        S("\xe0\xa0\x80", 1),     /* U+0800, smallest 3-byte */
        S("\xed\x9f\xbf", 1),     /* U+D7FF, just below the surrogates */
        S("\xee\x80\x80", 1),     /* U+E000, just above them */
        S("\xef\xbf\xbf", 1),     /* U+FFFF */
        S("\xf0\x90\x80\x80", 1), /* U+10000, smallest 4-byte */
        S("\xf4\x8f\xbf\xbf", 1), /* U+10FFFF, the last code point */
        S("a\xe2\x82\xac\xf0\x90\x8d\x88\xc3\xa9", 4),
        S("caf\xc3\xa9 \xe2\x9c\x93", 6),
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        size_t n = 999;
        CHECK_OK(collab_utf8_check(ok[i].s, ok[i].len, &n));
        CHECK_EQ_INT(n, ok[i].cps);
        CHECK_OK(collab_utf8_check(ok[i].s, ok[i].len, NULL));
    }
}

static void test_invalid(void)
{
    static const sample_t bad[] = {
        S("\xc0\x80", 0),                 /* overlong NUL */
        S("\xc1\xbf", 0),                 /* overlong U+007F */
        S("\xe0\x80\x80", 0),             /* overlong 3-byte */
        S("\xe0\x9f\xbf", 0),             /* overlong U+07FF */
        S("\xf0\x80\x80\x80", 0),         /* overlong 4-byte */
        S("\xf0\x8f\xbf\xbf", 0),         /* overlong U+FFFF */
        S("\xed\xa0\x80", 0),             /* U+D800 high surrogate */
        S("\xed\xbf\xbf", 0),             /* U+DFFF low surrogate */
        S("\xed\xa0\xbd\xed\xb8\x80", 0), /* CESU-8 surrogate pair */
        S("\xf4\x90\x80\x80", 0),         /* U+110000 */
        S("\xf5\x80\x80\x80", 0),         /* lead byte past the range */
        S("\xf7\xbf\xbf\xbf", 0),
        S("\xf8\x88\x80\x80\x80", 0), /* old 5-byte form */
        S("\xfc\x84\x80\x80\x80\x80", 0),
        S("\xfe", 0),
        S("\xff", 0),
        S("\x80", 0), /* lone continuation bytes */
        S("\xbf", 0),
        S("a\x80z", 0),
        S("\xc3", 0), /* truncated sequences */
        S("\xe2\x82", 0),
        S("\xf0\x90\x8d", 0),
        S("ok\xf0\x90", 0),
        S("\xc3\x28", 0), /* bad continuation */
        S("\xe2\x28\xa1", 0),
        S("\xe2\x82\x28", 0),
        S("\xf0\x90\x28\xbc", 0),
        S("\xc3\xc3\xa9", 0),
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        size_t n = 12345;
        int rc = collab_utf8_check(bad[i].s, bad[i].len, &n);
        if (!CHECK(rc == COLLAB_E_UTF8))
            fprintf(stderr, "  sample %zu accepted\n", i);
        CHECK_EQ_INT(n, 12345); /* untouched on failure */
    }
}

/*  Every 1- and 2-byte string, against an independent classification. */
static void test_exhaustive_short(void)
{
    int mismatches = 0;
    for (int a = 0; a < 256; a++) {
        uint8_t one[1] = {(uint8_t)a};
        bool ok1 = a < 0x80;
        if ((collab_utf8_check((const char *)one, 1, NULL) == 0) != ok1)
            mismatches++;
        for (int b = 0; b < 256; b++) {
            uint8_t two[2] = {(uint8_t)a, (uint8_t)b};
            bool ok2 = (a < 0x80 && b < 0x80) || (a >= 0xc2 && a <= 0xdf && (b & 0xc0) == 0x80);
            if ((collab_utf8_check((const char *)two, 2, NULL) == 0) != ok2)
                mismatches++;
        }
    }
    CHECK_EQ_INT(mismatches, 0);
}

/*  The ASCII fast path reads eight bytes at a time: a multibyte character, a bad byte or a
    truncated sequence at every offset around and across those words, with ASCII before and
    after, keeps its verdict, and the count is the sum of the parts. */
static void test_ascii_runs(void)
{
    static const sample_t mid[] = {
        S("\xc3\xa9", 1),
        S("\xe2\x82\xac", 1),
        S("\xf0\x90\x8d\x88", 1),
        S("\xc3\xa9\xc3\xa9", 2),
        S("\x7f", 1),
        S("\x80", 0),
        S("\xc3", 0),
        S("\xed\xa0\x80", 0),
        S("\xff", 0),
    };
    char buf[64];
    int mismatches = 0;
    for (size_t i = 0; i < sizeof mid / sizeof mid[0]; i++)
        for (size_t pre = 0; pre <= 17; pre++)
            for (size_t post = 0; post <= 17; post++) {
                memset(buf, 'a', sizeof buf);
                memcpy(buf + pre, mid[i].s, mid[i].len);
                size_t len = pre + mid[i].len + post, n = 0;
                bool valid = mid[i].cps > 0;
                /* a lone lead byte is invalid whether the string ends there or ASCII follows */
                int rc = collab_utf8_check(buf, len, &n);
                if ((rc == 0) != valid || (valid && n != pre + mid[i].cps + post))
                    mismatches++;
            }
    CHECK_EQ_INT(mismatches, 0);
    /* long pure-ASCII strings of every length up to 40 */
    for (size_t len = 0; len <= 40; len++) {
        size_t n = 999;
        memset(buf, 'z', len);
        CHECK_OK(collab_utf8_check(buf, len, &n));
        CHECK_EQ_INT(n, len);
    }
}

static bool controls(const char *s, size_t len, bool allow_newline)
{
    return collab_text_has_controls(s, len, allow_newline);
}

#define HAS(lit, nl) controls(lit, sizeof(lit) - 1, nl)

static void test_controls(void)
{
    CHECK(!HAS("plain text, with punctuation!", false));
    CHECK(!HAS("caf\xc3\xa9 \xe2\x9c\x93", false));
    CHECK(HAS("\x00", false)); /* C0 */
    CHECK(HAS("a\x01", false));
    CHECK(HAS("\x1b[31mred", false)); /* ESC: terminal injection */
    CHECK(HAS("\x1f", false));
    CHECK(!HAS(" ", false));
    CHECK(!HAS("~", false));
    CHECK(HAS("\x7f", false));     /* DEL */
    CHECK(HAS("\xc2\x80", false)); /* C1 start */
    CHECK(HAS("\xc2\x9b"
              "31m",
              false));                  /* U+009B CSI: the 8-bit escape */
    CHECK(HAS("\xc2\x9f", false));      /* C1 end */
    CHECK(!HAS("\xc2\xa0", false));     /* NBSP is not a control */
    CHECK(HAS("\xe2\x80\xaa", false));  /* U+202A LRE */
    CHECK(HAS("\xe2\x80\xae", false));  /* U+202E RLO */
    CHECK(HAS("\xe2\x81\xa6", false));  /* U+2066 LRI */
    CHECK(HAS("\xe2\x81\xa9", false));  /* U+2069 PDI */
    CHECK(!HAS("\xe2\x80\xa9", false)); /* U+2029 just below */
    CHECK(!HAS("\xe2\x80\xaf", false)); /* U+202F just above */
    CHECK(!HAS("\xe2\x81\xa5", false)); /* U+2065 */
    CHECK(!HAS("\xe2\x81\xaa", false)); /* U+206A */
    CHECK(HAS("\n", false));
    CHECK(HAS("\t", false));
    CHECK(!HAS("line one\nline\ttwo", true));
    CHECK(HAS("\r\n", true));   /* CR stays refused */
    CHECK(HAS("ok\xff", true)); /* not text at all */
    CHECK(HAS("\xed\xa0\x80", true));
}

#define TEXT(lit, min, max, strict) collab_text_check(lit, sizeof(lit) - 1, min, max, strict)

static void test_text_check(void)
{
    CHECK_OK(TEXT("abc", 1, 3, true));
    CHECK_RC(TEXT("abcd", 1, 3, true), COLLAB_E_LIMIT);
    CHECK_RC(TEXT("", 1, 3, true), COLLAB_E_LIMIT);
    CHECK_OK(TEXT("", 0, 3, true));
    /* Limits count code points, not bytes: 3 four-byte characters are 3. */
    CHECK_OK(TEXT("\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80", 1, 3, true));
    CHECK_RC(TEXT("\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80"
                  "a",
                  1, 3, true),
             COLLAB_E_LIMIT);
    CHECK_RC(TEXT("evil\xe2\x80\xae", 0, 100, true), COLLAB_E_BAD_TEXT);
    CHECK_OK(TEXT("evil\xe2\x80\xae", 0, 100, false));
    CHECK_OK(TEXT("two\nlines", 0, 100, true));
    CHECK_RC(TEXT("\x1b]0;pwned\x07", 0, 100, true), COLLAB_E_BAD_TEXT);
    CHECK_RC(TEXT("bad\xc0\x80", 0, 100, false), COLLAB_E_UTF8);
    CHECK_RC(TEXT("bad\xc0\x80", 0, 100, true), COLLAB_E_UTF8);
}

static void check_escape(const char *in, size_t len, size_t cap, const char *want)
{
    char out[128];
    memset(out, '#', sizeof out);
    size_t n = collab_text_escape(in, len, out, cap);
    CHECK_EQ_INT(n, strlen(want));
    CHECK_STR(out, want);
}

#define ESC(lit, cap, want) check_escape(lit, sizeof(lit) - 1, cap, want)

static void test_escape(void)
{
    ESC("hello", 64, "hello");
    ESC("caf\xc3\xa9", 64, "caf\xc3\xa9");
    ESC("a\x1b[2Jb", 64, "a\\x1b[2Jb");
    ESC("\x00z", 64, "\\x00z");
    ESC("\x7f", 64, "\\x7f");
    ESC("\xc2\x9b", 64, "\\x9b");
    ESC("\xc2\x80\xc2\x9f", 64, "\\x80\\x9f");
    ESC("user\xe2\x80\xaegpj.exe", 64, "user\\u202egpj.exe");
    ESC("\xe2\x81\xa6x\xe2\x81\xa9", 64, "\\u2066x\\u2069");
    ESC("\n\t", 64, "\\x0a\\x09"); /* escaping shows everything, newlines included */
    ESC("bad\xff\xc3", 64, "bad\\xff\\xc3");
    ESC("\xed\xa0\x80", 64, "\\xed\\xa0\\x80");
    /* Truncation keeps room for the NUL and never splits a character or an escape. */
    ESC("abc", 3, "ab");
    ESC("abc", 4, "abc");
    ESC("a\x1b", 5, "a");
    ESC("a\x1b", 6, "a\\x1b");
    ESC("\xc3\xa9", 2, "");
    ESC("\xc3\xa9", 3, "\xc3\xa9");
    ESC("\xe2\x80\xae", 6, "");
    ESC("\xe2\x80\xae", 7, "\\u202e");
    ESC("abc", 1, "");
    char empty[4] = "###";
    CHECK_EQ_INT(collab_text_escape(NULL, 0, empty, sizeof empty), 0);
    CHECK(empty[0] == '\0');
    CHECK_OK(collab_utf8_check(NULL, 0, NULL));
    CHECK(!collab_text_has_controls(NULL, 0, false));
    char sentinel = '#';
    CHECK_EQ_INT(collab_text_escape("abc", 3, &sentinel, 0), 0);
    CHECK(sentinel == '#');
}

/*  Whole numbers within the range only; a refusal leaves the output alone. */
static void test_parse_long(void)
{
    long v = 42;
    CHECK_OK(collab_parse_long("0", 0, 10, &v));
    CHECK_EQ_INT(v, 0);
    CHECK_OK(collab_parse_long("10", 0, 10, &v));
    CHECK_EQ_INT(v, 10);
    CHECK_OK(collab_parse_long("-3", -5, 5, &v));
    CHECK_EQ_INT(v, -3);
    CHECK_OK(collab_parse_long("+7", 0, 10, &v));
    CHECK_EQ_INT(v, 7);
    static const char *const bad[] = {"",
                                      "11",
                                      "-1",
                                      "5x",
                                      "x5",
                                      " ",
                                      "5 ",
                                      " 5",
                                      "-",
                                      "+",
                                      "0x5",
                                      "1e3",
                                      "99999999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        v = 42;
        CHECK_RC(collab_parse_long(bad[i], 0, 10, &v), COLLAB_E_MALFORMED);
        CHECK_EQ_INT(v, 42);
    }
    CHECK_RC(collab_parse_long(NULL, 0, 10, &v), COLLAB_E_MALFORMED);
    CHECK_OK(collab_parse_long("9223372036854775807", 0, LONG_MAX, &v));
    CHECK(v == LONG_MAX);
    CHECK_RC(collab_parse_long("9223372036854775808", 0, LONG_MAX, &v), COLLAB_E_MALFORMED);
}

/*  Unsigned: digits only (no sign, no blank), the whole uint64_t range, within bounds. */
static void test_parse_u64(void)
{
    uint64_t v = 42;
    CHECK_OK(collab_parse_u64("0", 0, 10, &v));
    CHECK(v == 0);
    CHECK_OK(collab_parse_u64("18446744073709551615", 0, UINT64_MAX, &v));
    CHECK(v == UINT64_MAX);
    static const char *const bad[] = {"",
                                      "11",
                                      "+1",
                                      "-0",
                                      " 1",
                                      "1 ",
                                      "0x5",
                                      "1e3",
                                      "18446744073709551616",
                                      "99999999999999999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        v = 42;
        CHECK_RC(collab_parse_u64(bad[i], 0, 10, &v), COLLAB_E_MALFORMED);
        CHECK(v == 42);
    }
    CHECK_RC(collab_parse_u64("18446744073709551616", 0, UINT64_MAX, &v), COLLAB_E_MALFORMED);
    CHECK_RC(collab_parse_u64("3", 4, 31, &v), COLLAB_E_MALFORMED);
    CHECK_RC(collab_parse_u64(NULL, 0, 10, &v), COLLAB_E_MALFORMED);
}

int main(void)
{
    TU_RUN(test_valid);
    TU_RUN(test_invalid);
    TU_RUN(test_exhaustive_short);
    TU_RUN(test_ascii_runs);
    TU_RUN(test_controls);
    TU_RUN(test_text_check);
    TU_RUN(test_escape);
    TU_RUN(test_parse_long);
    TU_RUN(test_parse_u64);
    return tu_exit("test_text");
}
