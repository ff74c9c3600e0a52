/*  test_envelope_limits.c: the envelope decoder against hand-built frames: every field limit
    at its edge, identifier alphabets, unknown/duplicate/missing keys, fields of another kind,
    wrong MessagePack types, trailing bytes, versions and the frame size limit. */
#include "testmsg.h"
#include "testutil.h"

#include <stdlib.h>

static uint8_t frame[COLLAB_MAX_FRAME + 64];
static uint8_t task[256];
static const uint8_t SIG[COLLAB_SIGNATURE_LEN] = {1, 2, 3};

/*  A signed request with nonce, as fields, in canonical order. */
static void base_request(tm_fields_t *fs)
{
    collab_envelope_t req;
    tm_request(&req, "update_task_status", task, tm_payload_task(task, sizeof task));
    req.nonce = (collab_span_t){(const char *)TM_NONCE, COLLAB_NONCE_LEN};
    req.signature = (collab_span_t){(const char *)SIG, COLLAB_SIGNATURE_LEN};
    tm_fields_from_env(&req, fs);
}

static void base_reply(tm_fields_t *fs)
{
    collab_envelope_t rep = {.kind = COLLAB_KIND_REPLY, .version = 1, .request_id = 3};
    rep.error = tm_span("not found");
    rep.error_code = (uint32_t)-COLLAB_E_NOT_FOUND;
    tm_fields_from_env(&rep, fs);
}

static void base_event(tm_fields_t *fs)
{
    collab_envelope_t ev = {.kind = COLLAB_KIND_EVENT, .version = 1, .seq = 1};
    ev.event = tm_span("task_assigned");
    ev.timestamp = TM_TIMESTAMP;
    tm_fields_from_env(&ev, fs);
}

typedef void (*base_fn)(tm_fields_t *fs);

/*  Decodes an exact-size heap copy, so ASan sees any read past the end. */
static int decode_bytes(const uint8_t *b, size_t len)
{
    collab_envelope_t env;
    uint8_t *copy = malloc(len ? len : 1);
    memcpy(copy, b, len);
    int rc = collab_envelope_decode(copy, len, &env);
    free(copy);
    return rc;
}

static int decode_fs(const tm_fields_t *fs)
{
    size_t len = tm_fields_pack(fs, frame, sizeof frame);
    CHECK(len > 0);
    return decode_bytes(frame, len);
}

/*  The base message of a kind with one field replaced (or added when absent). */
static int with_field(base_fn base, tm_field_t f)
{
    tm_fields_t fs;
    base(&fs);
    tm_field_t *slot = tm_fields_find(&fs, f.key);
    if (slot)
        *slot = f;
    else
        tm_fields_add(&fs, f);
    return decode_fs(&fs);
}

static tm_field_t str_field(const char *key, const char *s, size_t len)
{
    return (tm_field_t){.key = key, .kind = TM_STR, .ptr = s, .len = len};
}

static tm_field_t bin_field(const char *key, const void *b, size_t len)
{
    return (tm_field_t){.key = key, .kind = TM_BIN, .ptr = b, .len = len};
}

static tm_field_t uint_field(const char *key, uint64_t u)
{
    return (tm_field_t){.key = key, .kind = TM_UINT, .u = u};
}

static tm_field_t raw_field(const char *key, const char *raw, size_t len)
{
    return (tm_field_t){.key = key, .kind = TM_RAW, .ptr = raw, .len = len};
}

/*  An identifier field: min..max bytes of `good` pass, max + 1 does not, and each byte of
    `bad` is refused wherever it appears: limit, or utf8 when the byte alone breaks UTF-8
    (PROTOCOL.md 2.4: a str's UTF-8 is checked before its limits). */
static void check_ident(base_fn base, const char *key, size_t min, size_t max, char good,
                        const char *bad, size_t nbad)
{
    char s[256];
    memset(s, good, sizeof s);
    for (size_t n = 0; n <= max + 1; n++) {
        int want = n >= min && n <= max ? 0 : COLLAB_E_LIMIT;
        int rc = with_field(base, str_field(key, s, n));
        if (!CHECK(rc == want))
            fprintf(stderr, "  %s of %zu bytes: %s\n", key, n, collab_errname(rc));
    }
    for (size_t i = 0; i < nbad; i++) {
        s[1] = bad[i];
        int rc = with_field(base, str_field(key, s, 3));
        int want = (uint8_t)bad[i] >= 0x80 ? COLLAB_E_UTF8 : COLLAB_E_LIMIT;
        if (!CHECK(rc == want))
            fprintf(stderr, "  %s with byte 0x%02x: %s\n", key, (uint8_t)bad[i],
                    collab_errname(rc));
        s[1] = good;
    }
}

#define BAD(lit) lit, sizeof(lit) - 1

static void test_identifiers(void)
{
    check_ident(base_request, "action", 1, 32, 'a', BAD("AZ09-. /\x00\x7f\xc3\xa9:"));
    check_ident(base_request, "action", 1, 32, '_', BAD("`{@["));
    check_ident(base_request, "agent_id", 1, 64, 'Z', BAD(" /:@+,\x00\x7f\x80\xff\t~"));
    check_ident(base_request, "agent_id", 1, 64, '.', BAD("!#"));
    check_ident(base_request, "session_id", 0, 128, '~', BAD(" \x00\x7f\x80\xc3\n\t"));
    check_ident(base_request, "session_id", 0, 128, '!', BAD("\x20\x1f"));
    check_ident(base_event, "event", 1, 32, 'z', BAD("A-.0 "));
    /* valid UTF-8 outside the alphabet is limit; invalid UTF-8 is utf8 whatever its length,
       and in type and status too */
    CHECK_RC(with_field(base_request, str_field("action", "caf\xc3\xa9", 5)), COLLAB_E_LIMIT);
    CHECK_RC(with_field(base_request, str_field("action", "\xc3", 1)), COLLAB_E_UTF8);
    char longbad[40];
    memset(longbad, 'a', sizeof longbad);
    longbad[39] = '\xff';
    CHECK_RC(with_field(base_request, str_field("action", longbad, 40)), COLLAB_E_UTF8);
    CHECK_RC(with_field(base_request, str_field("type", "\xff", 1)), COLLAB_E_UTF8);
    CHECK_RC(with_field(base_reply, str_field("status", "\xc0\xaf", 2)), COLLAB_E_UTF8);
}

static void test_fixed_bins(void)
{
    uint8_t b[40] = {0};
    for (size_t n = 0; n <= 33; n++) {
        CHECK_RC(with_field(base_request, bin_field("nonce", b, n)),
                 n == COLLAB_NONCE_LEN ? 0 : COLLAB_E_LIMIT);
        CHECK_RC(with_field(base_request, bin_field("signature", b, n)),
                 n == COLLAB_SIGNATURE_LEN ? 0 : COLLAB_E_LIMIT);
    }
    CHECK_RC(with_field(base_request, str_field("nonce", "0123456789abcdef", 16)),
             COLLAB_E_FIELD_TYPE);
    CHECK_RC(with_field(base_request, raw_field("signature", "\xc0", 1)), COLLAB_E_FIELD_TYPE);
}

static void test_payload_size(void)
{
    static uint8_t big[COLLAB_MAX_PAYLOAD + 16];
    size_t n = tm_payload_bin(big, sizeof big, COLLAB_MAX_PAYLOAD - 6);
    CHECK_EQ_INT(n, 61440);
    CHECK_OK(with_field(base_request, bin_field("payload", big, n)));
    CHECK_OK(with_field(base_reply, bin_field("data", big, n)));
    CHECK_OK(with_field(base_event, bin_field("data", big, n)));
    n = tm_payload_bin(big, sizeof big, COLLAB_MAX_PAYLOAD - 5);
    CHECK_EQ_INT(n, 61441);
    CHECK_RC(with_field(base_request, bin_field("payload", big, n)), COLLAB_E_TOO_LARGE);
    CHECK_RC(with_field(base_reply, bin_field("data", big, n)), COLLAB_E_TOO_LARGE);
    CHECK_RC(with_field(base_event, bin_field("data", big, n)), COLLAB_E_TOO_LARGE);
}

static void test_frame_size(void)
{
    tm_fields_t fs;
    base_request(&fs);
    size_t len = tm_fields_pack(&fs, frame, sizeof frame);
    CHECK_OK(decode_bytes(frame, len));
    /* Pad with trailing nils: at 65536 bytes the frame is read (and refused for the trailing
       bytes); at 65537 it is refused by size before anything is read. */
    memset(frame + len, 0xc0, sizeof frame - len);
    CHECK_RC(decode_bytes(frame, COLLAB_MAX_FRAME), COLLAB_E_MALFORMED);
    CHECK_RC(decode_bytes(frame, COLLAB_MAX_FRAME + 1), COLLAB_E_TOO_LARGE);
    CHECK_RC(decode_bytes(frame, len + 1), COLLAB_E_MALFORMED);
}

static void test_reply_fields(void)
{
    char text[COLLAB_MAX_ERROR_TEXT + 1];
    memset(text, 'e', sizeof text);
    CHECK_OK(with_field(base_reply, str_field("error", text, 0)));
    CHECK_OK(with_field(base_reply, str_field("error", text, COLLAB_MAX_ERROR_TEXT)));
    CHECK_RC(with_field(base_reply, str_field("error", text, COLLAB_MAX_ERROR_TEXT + 1)),
             COLLAB_E_LIMIT);
    CHECK_RC(with_field(base_reply, str_field("error", "bad \xc3\x28", 6)), COLLAB_E_UTF8);
    CHECK_RC(with_field(base_reply, str_field("error", "\xed\xa0\x80", 3)), COLLAB_E_UTF8);
    CHECK_OK(with_field(base_reply, uint_field("error_code", 65535)));
    CHECK_RC(with_field(base_reply, uint_field("error_code", 65536)), COLLAB_E_LIMIT);
    CHECK_OK(with_field(base_reply, str_field("status", "ok", 2)));
    CHECK_OK(with_field(base_reply, str_field("status", "error", 5)));
    CHECK_RC(with_field(base_reply, str_field("status", "OK", 2)), COLLAB_E_MALFORMED);
    CHECK_RC(with_field(base_reply, str_field("status", "", 0)), COLLAB_E_MALFORMED);
    CHECK_RC(with_field(base_reply, raw_field("status", "\xc3", 1)), COLLAB_E_FIELD_TYPE);
}

static void test_numbers(void)
{
    CHECK_OK(with_field(base_request, uint_field("timestamp", INT64_MAX)));
    CHECK_RC(with_field(base_request, uint_field("timestamp", (uint64_t)INT64_MAX + 1)),
             COLLAB_E_LIMIT);
    CHECK_RC(with_field(base_event, uint_field("timestamp", UINT64_MAX)), COLLAB_E_LIMIT);
    CHECK_OK(with_field(base_request, uint_field("timestamp", 0)));
    CHECK_OK(with_field(base_request, uint_field("request_id", UINT64_MAX)));
    CHECK_OK(with_field(base_event, uint_field("seq", UINT64_MAX)));
    /* Non-canonical encodings of a right value are accepted. */
    CHECK_OK(with_field(base_request, raw_field("version", "\xcf\0\0\0\0\0\0\0\x01", 9)));
    CHECK_OK(with_field(base_request, raw_field("request_id", "\xd0\x05", 2)));
    CHECK_RC(with_field(base_request, raw_field("request_id", "\xd0\xff", 2)), COLLAB_E_FIELD_TYPE);
    CHECK_RC(with_field(base_request, raw_field("timestamp", "\xcb\0\0\0\0\0\0\0\0", 9)),
             COLLAB_E_FIELD_TYPE);
}

static void test_version(void)
{
    CHECK_OK(with_field(base_request, uint_field("version", 1)));
    CHECK_RC(with_field(base_request, uint_field("version", 0)), COLLAB_E_VERSION);
    CHECK_RC(with_field(base_request, uint_field("version", 2)), COLLAB_E_VERSION);
    CHECK_RC(with_field(base_reply, uint_field("version", 2)), COLLAB_E_VERSION);
    CHECK_RC(with_field(base_event, uint_field("version", 2)), COLLAB_E_VERSION);
    CHECK_RC(with_field(base_request, uint_field("version", UINT32_MAX)), COLLAB_E_VERSION);
    CHECK_RC(with_field(base_request, uint_field("version", (uint64_t)UINT32_MAX + 2)),
             COLLAB_E_VERSION);
    CHECK_RC(with_field(base_request, uint_field("version", UINT64_MAX)), COLLAB_E_VERSION);
    CHECK_RC(with_field(base_request, str_field("version", "1", 1)), COLLAB_E_FIELD_TYPE);
    CHECK_RC(with_field(base_request, raw_field("version", "\xff", 1)), COLLAB_E_FIELD_TYPE);
}

/*  Removing each field: the optional ones may go, every other one is missed. */
static void check_missing(base_fn base)
{
    tm_fields_t fs;
    base(&fs);
    size_t n = fs.n;
    for (size_t i = 0; i < n; i++) {
        tm_fields_t cut;
        base(&cut);
        const char *key = cut.f[i].key;
        tm_fields_remove(&cut, key);
        bool optional = !strcmp(key, "nonce") || !strcmp(key, "signature");
        int rc = decode_fs(&cut);
        if (!CHECK(rc == (optional ? 0 : COLLAB_E_FIELD_MISSING)))
            fprintf(stderr, "  without %s: %s\n", key, collab_errname(rc));
    }
}

/*  Each field with a value of another MessagePack type, or twice. */
static void check_types_and_duplicates(base_fn base)
{
    tm_fields_t fs;
    base(&fs);
    for (size_t i = 0; i < fs.n; i++) {
        tm_fields_t mod;
        base(&mod);
        tm_field_t orig = mod.f[i];
        tm_field_t *f = &mod.f[i];
        if (f->kind == TM_UINT)
            *f = str_field(f->key, "1", 1);
        else if (f->kind == TM_STR)
            *f = uint_field(f->key, 1);
        else
            *f = str_field(f->key, "\x80", 1);
        int rc = decode_fs(&mod);
        if (!CHECK(rc == COLLAB_E_FIELD_TYPE))
            fprintf(stderr, "  %s of another type: %s\n", orig.key, collab_errname(rc));
        *f = (tm_field_t){.key = orig.key, .kind = TM_RAW, .ptr = "\x91\x01", .len = 2};
        CHECK_RC(decode_fs(&mod), COLLAB_E_FIELD_TYPE);
        *f = orig;
        tm_fields_add(&mod, orig);
        rc = decode_fs(&mod);
        if (!CHECK(rc == COLLAB_E_MALFORMED))
            fprintf(stderr, "  %s twice: %s\n", orig.key, collab_errname(rc));
    }
}

static void test_structure(void)
{
    base_fn bases[] = {base_request, base_reply, base_event};
    for (size_t i = 0; i < 3; i++) {
        check_missing(bases[i]);
        check_types_and_duplicates(bases[i]);
        CHECK_RC(with_field(bases[i], uint_field("extra", 1)), COLLAB_E_MALFORMED);
        CHECK_RC(with_field(bases[i], uint_field("Type", 1)), COLLAB_E_MALFORMED);
        CHECK_RC(with_field(bases[i], uint_field("", 1)), COLLAB_E_MALFORMED);
    }
    /* Fields of another kind of message. */
    CHECK_RC(with_field(base_request, uint_field("seq", 1)), COLLAB_E_MALFORMED);
    CHECK_RC(with_field(base_request, str_field("status", "ok", 2)), COLLAB_E_MALFORMED);
    CHECK_RC(with_field(base_reply, bin_field("nonce", TM_NONCE, 16)), COLLAB_E_MALFORMED);
    CHECK_RC(with_field(base_reply, uint_field("timestamp", 1)), COLLAB_E_MALFORMED);
    CHECK_RC(with_field(base_event, uint_field("request_id", 1)), COLLAB_E_MALFORMED);
    CHECK_RC(with_field(base_event, bin_field("payload", "\x80", 1)), COLLAB_E_MALFORMED);
    /* The type decides: a reply's fields under type "request" are missing the request's. */
    CHECK_RC(with_field(base_reply, str_field("type", "request", 7)), COLLAB_E_FIELD_MISSING);
    CHECK_RC(with_field(base_reply, str_field("type", "Reply", 5)), COLLAB_E_MALFORMED);
    CHECK_RC(with_field(base_reply, str_field("type", "", 0)), COLLAB_E_MALFORMED);
    /* 17 keys are refused by count before any is read. */
    tm_fields_t fs;
    base_request(&fs);
    while (fs.n < 17)
        tm_fields_add(&fs, uint_field("pad", 0));
    CHECK_RC(decode_fs(&fs), COLLAB_E_LIMIT);
}

#define RAW(lit) decode_bytes((const uint8_t *)lit, sizeof(lit) - 1)

static void test_raw_shapes(void)
{
    CHECK_RC(RAW(""), COLLAB_E_MALFORMED);
    collab_envelope_t env;
    CHECK_RC(collab_envelope_decode(NULL, 0, &env), COLLAB_E_MALFORMED);
    CHECK_RC(RAW("\x90"), COLLAB_E_MALFORMED);
    CHECK_RC(RAW("\xc0"), COLLAB_E_MALFORMED);
    CHECK_RC(RAW("\xa7request"), COLLAB_E_MALFORMED);
    CHECK_RC(RAW("\x80"), COLLAB_E_FIELD_MISSING);
    CHECK_RC(RAW("\x8a"), COLLAB_E_MALFORMED);
    CHECK_RC(RAW("\x81\x01\x02"), COLLAB_E_MALFORMED);              /* int key */
    CHECK_RC(RAW("\x81\xc4\x04type\xa5reply"), COLLAB_E_MALFORMED); /* bin key */
    CHECK_RC(RAW("\x81\x91\xa4type\xa5reply"), COLLAB_E_MALFORMED); /* array key */
    CHECK_RC(RAW("\x81\xa4type\xa5reply\xc0"), COLLAB_E_MALFORMED); /* trailing byte */
    CHECK_RC(RAW("\x81\xa4type\xa5reply"), COLLAB_E_FIELD_MISSING);
    CHECK_RC(RAW("\x81\xa4type\xc1"), COLLAB_E_MALFORMED);
    CHECK_RC(RAW("\xdf\xff\xff\xff\xff"), COLLAB_E_LIMIT);
}

static void test_payload_content(void)
{
    static const struct {
        const char *map;
        size_t len;
        int rc;
    } cases[] = {
        {"\x80", 1, 0},
        {"", 0, COLLAB_E_MALFORMED},
        {"\x90", 1, COLLAB_E_MALFORMED},     /* not a map */
        {"\x80\xc0", 2, COLLAB_E_MALFORMED}, /* trailing byte */
        {"\x81\xa1k\xa2\xc3\x28", 6, COLLAB_E_UTF8},
        {"\x81\xa1k\xd4\x01\x00", 6, COLLAB_E_MALFORMED},                  /* ext */
        {"\x82\xa1k\x01\xa1k\x02", 7, COLLAB_E_MALFORMED},                 /* duplicate key */
        {"\x81\xa1k\x91\x91\x91\x91\x91\x91\x91\x90", 11, COLLAB_E_LIMIT}, /* depth 9 */
        {"\x81\xa1k\x91\x91\x91\x91\x91\x91\x90", 10, 0},                  /* depth 8 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        CHECK_RC(with_field(base_request, bin_field("payload", cases[i].map, cases[i].len)),
                 cases[i].rc);
        CHECK_RC(with_field(base_reply, bin_field("data", cases[i].map, cases[i].len)),
                 cases[i].rc);
        CHECK_RC(with_field(base_event, bin_field("data", cases[i].map, cases[i].len)),
                 cases[i].rc);
    }
    CHECK_RC(with_field(base_request, raw_field("payload", "\x80", 1)), COLLAB_E_FIELD_TYPE);
    CHECK_RC(with_field(base_reply, str_field("data", "\x80", 1)), COLLAB_E_FIELD_TYPE);
}

/*  Moves the field with this key to the front of the map. */
static void move_first(tm_fields_t *fs, const char *key)
{
    tm_field_t *slot = tm_fields_find(fs, key), f;
    if (!CHECK(slot != NULL))
        return;
    f = *slot;
    memmove(fs->f + 1, fs->f, (size_t)(slot - fs->f) * sizeof f);
    fs->f[0] = f;
}

static int decode_env(const tm_fields_t *fs, collab_envelope_t *env)
{
    size_t len = tm_fields_pack(fs, frame, sizeof frame);
    CHECK(len > 0);
    return collab_envelope_decode(frame, len, env);
}

/*  PROTOCOL.md 2.4: the envelope map's structure first, then the fields in canonical order
    whatever their order on the wire, then missing and foreign fields; the request_id is
    read wherever it stands. */
static void test_precedence(void)
{
    tm_fields_t fs;
    collab_envelope_t env;
    base_request(&fs);
    tm_fields_find(&fs, "request_id")->u = 4242;
    tm_fields_find(&fs, "version")->u = 2;
    move_first(&fs, "version"); /* version before request_id on the wire */
    CHECK_RC(decode_env(&fs, &env), COLLAB_E_VERSION);
    CHECK_EQ_U64(env.request_id, 4242);

    base_request(&fs);
    *tm_fields_find(&fs, "timestamp") = (tm_field_t){.key = "timestamp", .kind = TM_INT, .i = -5};
    move_first(&fs, "timestamp");
    *tm_fields_find(&fs, "action") = str_field("action", "Login", 5);
    CHECK_RC(decode_env(&fs, &env), COLLAB_E_LIMIT); /* action ranks before timestamp */

    base_request(&fs);
    *tm_fields_find(&fs, "action") = str_field("action", "Login", 5);
    tm_fields_add(&fs, uint_field("zz", 1)); /* an unknown key, last on the wire */
    tm_fields_find(&fs, "request_id")->u = 77;
    CHECK_RC(decode_env(&fs, &env), COLLAB_E_MALFORMED);
    CHECK_EQ_U64(env.request_id, 77);

    base_request(&fs);
    *tm_fields_find(&fs, "action") = str_field("action", "Login", 5);
    tm_fields_remove(&fs, "timestamp");
    CHECK_RC(decode_env(&fs, &env), COLLAB_E_LIMIT); /* a bad field before a missing one */

    base_request(&fs);
    tm_fields_find(&fs, "request_id")->u = 5;
    move_first(&fs, "request_id");
    tm_fields_add(&fs, uint_field("request_id", 6)); /* twice: the first one is read */
    CHECK_RC(decode_env(&fs, &env), COLLAB_E_MALFORMED);
    CHECK_EQ_U64(env.request_id, 5);

    /* payload items: a str's UTF-8 before its size; a key's size is limit */
    static uint8_t pay[COLLAB_MAX_STR_BYTES + 64];
    static char big[COLLAB_MAX_STR_BYTES + 8];
    memset(big, 'k', sizeof big);
    collab_pack_t p;
    size_t len = 0;
    for (int c = 0; c < 4; c++) {
        size_t klen = c == 2 ? COLLAB_MAX_KEY_BYTES + 1 : 1;
        size_t vlen = c < 2 ? COLLAB_MAX_STR_BYTES + 1 : 1;
        big[5] = c == 0 ? '\xff' : 'k';
        collab_pack_init(&p, pay, sizeof pay);
        collab_pack_map(&p, 1);
        collab_pack_strn(&p, c == 3 ? "\xc3" : big, klen);
        collab_pack_strn(&p, big, vlen);
        CHECK(collab_pack_finish(&p, &len) == 0);
        static const int want[] = {COLLAB_E_UTF8, COLLAB_E_TOO_LARGE, COLLAB_E_LIMIT,
                                   COLLAB_E_UTF8};
        CHECK_RC(with_field(base_request, bin_field("payload", pay, len)), want[c]);
    }
}

int main(void)
{
    TU_RUN(test_identifiers);
    TU_RUN(test_fixed_bins);
    TU_RUN(test_payload_size);
    TU_RUN(test_frame_size);
    TU_RUN(test_reply_fields);
    TU_RUN(test_numbers);
    TU_RUN(test_version);
    TU_RUN(test_structure);
    TU_RUN(test_raw_shapes);
    TU_RUN(test_payload_content);
    TU_RUN(test_precedence);
    return tu_exit("test_envelope_limits");
}
