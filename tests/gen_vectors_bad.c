/*  gen_vectors_bad.c: the malformed vectors of protocol/test-vectors.json (see gen_vectors.c):
    each a frame that must decode to exactly its error. */
#include "gen_vectors.h"
#include "testmsg.h"

#include <cjson/cJSON.h>
#include <string.h>

static void add_malformed(const char *name, const char *desc, const void *b, size_t len, int err)
{
    collab_envelope_t env;
    int rc = collab_envelope_decode(b, len, &env);
    if (rc != err)
        gv_die(collab_errname(rc), name);
    cJSON *v = gv_new_vector(name, "malformed", desc, b, len);
    cJSON_AddStringToObject(v, "error", collab_errname(err));
    /* what a reply to it carries: the request_id whenever it can be read (PROTOCOL.md 2.4) */
    cJSON_AddNumberToObject(v, "request_id", (double)env.request_id);
}

static void bad_fields(const char *name, const char *desc, const tm_fields_t *fs, int err)
{
    static uint8_t frame[COLLAB_MAX_FRAME];
    size_t len = tm_fields_pack(fs, frame, sizeof frame);
    if (len == 0)
        gv_die("does not fit", name);
    add_malformed(name, desc, frame, len, err);
}

/*  The login request's fields, to spoil one at a time. */
static void login_fields(tm_fields_t *fs)
{
    static collab_span_t pw;
    collab_envelope_t e;
    if (!pw.len) {
        collab_pack_t *p = gv_payload_begin();
        collab_pack_map(p, 1);
        collab_pack_kv_str(p, "password", "hunter2");
        pw = gv_payload_end(p);
    }
    gv_request(&e, 1, "login", "", T0, pw);
    tm_fields_from_env(&e, fs);
}

/*  The login fields with one field replaced, or added at the end when absent. */
static void bad_field(const char *name, const char *desc, tm_field_t f, int err)
{
    tm_fields_t fs;
    login_fields(&fs);
    tm_field_t *slot = tm_fields_find(&fs, f.key);
    if (slot)
        *slot = f;
    else
        tm_fields_add(&fs, f);
    bad_fields(name, desc, &fs, err);
}

static tm_field_t raw(const char *key, const char *bytes, size_t len)
{
    return (tm_field_t){.key = key, .kind = TM_RAW, .ptr = bytes, .len = len};
}

static tm_field_t bin(const char *key, const void *bytes, size_t len)
{
    return (tm_field_t){.key = key, .kind = TM_BIN, .ptr = bytes, .len = len};
}

#define LIT(s) s, sizeof(s) - 1

static void malformed_envelopes(void)
{
    uint8_t frame[512];
    tm_fields_t fs;
    size_t len = gv_login_len;
    memcpy(frame, gv_login_frame, len);
    add_malformed("truncated", "login_request's frame without its last byte", frame, len - 1,
                  COLLAB_E_MALFORMED);
    frame[len] = 0xc0;
    add_malformed("trailing_byte", "login_request's frame followed by a nil", frame, len + 1,
                  COLLAB_E_MALFORMED);
    login_fields(&fs);
    add_malformed("not_a_map", "an array [1, 2, 3]", LIT("\x93\x01\x02\x03"), COLLAB_E_MALFORMED);
    bad_field("unknown_key", "an extra key \"admin\": true", raw("admin", LIT("\xc3")),
              COLLAB_E_MALFORMED);
    tm_fields_add(&fs, (tm_field_t){.key = "action", .kind = TM_STR, .ptr = "logout", .len = 6});
    bad_fields("duplicate_key", "\"action\" twice", &fs, COLLAB_E_MALFORMED);
    bad_field("version_2", "a version this implementation does not speak",
              (tm_field_t){.key = "version", .kind = TM_UINT, .u = 2}, COLLAB_E_VERSION);
    login_fields(&fs);
    tm_fields_remove(&fs, "timestamp");
    bad_fields("missing_timestamp", "a required field is absent", &fs, COLLAB_E_FIELD_MISSING);
    bad_field("request_id_as_string", "request_id is the str \"1\"",
              (tm_field_t){.key = "request_id", .kind = TM_STR, .ptr = "1", .len = 1},
              COLLAB_E_FIELD_TYPE);
    bad_field("action_uppercase", "action outside [a-z_]",
              (tm_field_t){.key = "action", .kind = TM_STR, .ptr = "Login", .len = 5},
              COLLAB_E_LIMIT);
    bad_field("action_bad_utf8", "action holding the byte 0xc3 alone: utf8 before limit",
              (tm_field_t){.key = "action", .kind = TM_STR, .ptr = "log\xc3n", .len = 5},
              COLLAB_E_UTF8);
    bad_field("type_bad_utf8", "type holding the byte 0xff: utf8 before malformed",
              (tm_field_t){.key = "type", .kind = TM_STR, .ptr = "\xff", .len = 1}, COLLAB_E_UTF8);
    login_fields(&fs);
    tm_fields_find(&fs, "request_id")->u = 4242;
    tm_fields_find(&fs, "timestamp")->kind = TM_INT;
    tm_fields_find(&fs, "timestamp")->i = -1;
    *tm_fields_find(&fs, "action") =
        (tm_field_t){.key = "action", .kind = TM_STR, .ptr = "X", .len = 1};
    bad_fields("two_bad_fields", "a negative timestamp and action \"X\": action comes first", &fs,
               COLLAB_E_LIMIT);
    bad_field("nonce_15_bytes", "a nonce one byte short", bin("nonce", TM_NONCE, 15),
              COLLAB_E_LIMIT);
    bad_field("signature_31_bytes", "a signature one byte short", bin("signature", TM_KEY, 31),
              COLLAB_E_LIMIT);
    bad_field("event_field_in_request", "\"seq\" belongs to events",
              (tm_field_t){.key = "seq", .kind = TM_UINT, .u = 1}, COLLAB_E_MALFORMED);
}

static void malformed_payloads(void)
{
    static char big[COLLAB_MAX_STR_BYTES + 16];
    bad_field("payload_not_a_map", "the payload bin holds an array",
              bin("payload", LIT("\x92\x01\x02")), COLLAB_E_MALFORMED);
    bad_field("payload_bad_utf8", "{\"password\": \"\\xc3(\"}: a broken 2-byte sequence",
              bin("payload", LIT("\x81\xa8password\xa2\xc3\x28")), COLLAB_E_UTF8);
    bad_field("payload_surrogate_key", "a map key holding U+D800 (CESU-style surrogate)",
              bin("payload", LIT("\x81\xa3\xed\xa0\x80\x01")), COLLAB_E_UTF8);
    bad_field("payload_depth_9", "{\"a\": [[[[[[[[]]]]]]]]}: nine levels of nesting",
              bin("payload", LIT("\x81\xa1"
                                 "a\x91\x91\x91\x91\x91\x91\x91\x90")),
              COLLAB_E_LIMIT);
    bad_field("payload_ext", "an extension type (fixext 1) inside the payload",
              bin("payload", LIT("\x81\xa1x\xd4\x01\x00")), COLLAB_E_MALFORMED);
    bad_field("payload_int_key", "a map key that is an integer",
              bin("payload", LIT("\x81\x01\x02")), COLLAB_E_MALFORMED);
    memset(big, 'x', sizeof big);
    collab_pack_t *p = gv_payload_begin();
    collab_pack_map(p, 1);
    collab_pack_str(p, "password");
    collab_pack_strn(p, big, COLLAB_MAX_STR_BYTES + 1);
    collab_span_t payload = gv_payload_end(p);
    bad_field("payload_str_8193", "a str one byte over the 8192-byte limit",
              bin("payload", payload.ptr, payload.len), COLLAB_E_TOO_LARGE);
}

static void malformed_replies(void)
{
    static char text[COLLAB_MAX_ERROR_TEXT + 1];
    collab_envelope_t e = {.kind = COLLAB_KIND_REPLY, .version = 1, .request_id = 8};
    tm_fields_t fs;
    memset(text, 'e', sizeof text);
    e.error = (collab_span_t){text, sizeof text};
    e.error_code = 1;
    tm_fields_from_env(&e, &fs);
    bad_fields("reply_error_text_513", "an error text one byte over 512", &fs, COLLAB_E_LIMIT);
    e.error = tm_span("bad \xc0\xaf");
    tm_fields_from_env(&e, &fs);
    bad_fields("reply_error_text_overlong", "an overlong encoding of '/' in the error text", &fs,
               COLLAB_E_UTF8);
    e.error = tm_span("");
    tm_fields_from_env(&e, &fs);
    tm_fields_find(&fs, "status")->ptr = "maybe";
    tm_fields_find(&fs, "status")->len = 5;
    bad_fields("reply_status_unknown", "status is neither ok nor error", &fs, COLLAB_E_MALFORMED);
    e = (collab_envelope_t){.kind = COLLAB_KIND_EVENT, .version = 1, .seq = 1};
    e.event = tm_span("task_assigned");
    tm_fields_from_env(&e, &fs);
    tm_fields_add(&fs, bin("nonce", TM_NONCE, 16));
    bad_fields("event_with_nonce", "events carry no nonce", &fs, COLLAB_E_MALFORMED);
}

void gv_malformed(void)
{
    malformed_envelopes();
    malformed_payloads();
    malformed_replies();
}
