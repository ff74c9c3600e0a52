/*  test_envelope.c: envelope round trips (request with and without nonce and signature,
    replies, events), canonical field order, truncation at every byte, encoder errors, and a
    cross-check of every encoded message by msgpack-c's own unpacker, an independent decoder.
    Field limits and malformed shapes are in test_envelope_limits.c. */
#include "testmsg.h"
#include "testutil.h"

#include <msgpack.h>
#include <stdlib.h>

static uint8_t frame[COLLAB_MAX_FRAME + 64];

static const uint8_t SIG[COLLAB_SIGNATURE_LEN] = {
    0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a,
    0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0x5a, 0xa5,
};

static void check_span(collab_span_t got, collab_span_t want, const char *what)
{
    if (!CHECK(got.len == want.len && (want.len == 0 || memcmp(got.ptr, want.ptr, got.len) == 0)))
        fprintf(stderr, "  field %s differs\n", what);
}

/*  Every field a decode yields equals the one that was encoded. */
static void check_same(const collab_envelope_t *got, const collab_envelope_t *want)
{
    CHECK_EQ_INT(got->kind, want->kind);
    CHECK_EQ_INT(got->version, want->version);
    CHECK_EQ_U64(got->request_id, want->request_id);
    check_span(got->action, want->action, "action");
    check_span(got->agent_id, want->agent_id, "agent_id");
    check_span(got->session_id, want->session_id, "session_id");
    CHECK_EQ_U64(got->timestamp, want->timestamp);
    check_span(got->nonce, want->nonce, "nonce");
    check_span(got->signature, want->signature, "signature");
    CHECK_EQ_INT(got->ok, want->ok);
    CHECK_EQ_INT(got->error_code, want->error_code);
    check_span(got->error, want->error, "error");
    check_span(got->event, want->event, "event");
    CHECK_EQ_U64(got->seq, want->seq);
    collab_span_t empty = {0};
    bool req = want->kind == COLLAB_KIND_REQUEST;
    check_span(got->payload, req ? (want->payload.len ? want->payload : COLLAB_EMPTY_MAP) : empty,
               "payload");
    check_span(got->data, req ? empty : (want->data.len ? want->data : COLLAB_EMPTY_MAP), "data");
}

/*  ---- the independent decoder: msgpack-c's unpacker ---- */

static bool obj_is_bytes(const msgpack_object *o, msgpack_object_type t, collab_span_t s)
{
    if (o->type != t)
        return false;
    uint32_t size = t == MSGPACK_OBJECT_STR ? o->via.str.size : o->via.bin.size;
    const char *ptr = t == MSGPACK_OBJECT_STR ? o->via.str.ptr : o->via.bin.ptr;
    return size == s.len && (s.len == 0 || memcmp(ptr, s.ptr, s.len) == 0);
}

/*  A payload or data bin holds exactly one MessagePack map for msgpack-c too. */
static bool bin_holds_map(const msgpack_object *o)
{
    msgpack_unpacked inner;
    size_t off = 0;
    msgpack_unpacked_init(&inner);
    bool ok = o->type == MSGPACK_OBJECT_BIN &&
              msgpack_unpack_next(&inner, o->via.bin.ptr, o->via.bin.size, &off) ==
                  MSGPACK_UNPACK_SUCCESS &&
              off == o->via.bin.size && inner.data.type == MSGPACK_OBJECT_MAP;
    msgpack_unpacked_destroy(&inner);
    return ok;
}

static bool value_matches(const msgpack_object *o, const tm_field_t *f)
{
    switch (f->kind) {
    case TM_STR:
        return obj_is_bytes(o, MSGPACK_OBJECT_STR, (collab_span_t){f->ptr, f->len});
    case TM_UINT:
        return o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 == f->u;
    case TM_BIN:
        if (!obj_is_bytes(o, MSGPACK_OBJECT_BIN, (collab_span_t){f->ptr, f->len}))
            return false;
        return strcmp(f->key, "payload") && strcmp(f->key, "data") ? true : bin_holds_map(o);
    default:
        return false;
    }
}

/*  msgpack-c sees one map whose keys, in canonical order, carry the expected values. */
static void cross_check(const uint8_t *bytes, size_t len, const collab_envelope_t *want)
{
    tm_fields_t fs;
    msgpack_unpacked up;
    size_t off = 0;
    tm_fields_from_env(want, &fs);
    msgpack_unpacked_init(&up);
    int rc = msgpack_unpack_next(&up, (const char *)bytes, len, &off);
    CHECK(rc == MSGPACK_UNPACK_SUCCESS && off == len);
    const msgpack_object *root = &up.data;
    if (CHECK(root->type == MSGPACK_OBJECT_MAP && root->via.map.size == fs.n)) {
        for (uint32_t i = 0; i < root->via.map.size; i++) {
            const msgpack_object_kv *kv = &root->via.map.ptr[i];
            if (!CHECK(obj_is_bytes(&kv->key, MSGPACK_OBJECT_STR, tm_span(fs.f[i].key))))
                continue;
            if (!CHECK(value_matches(&kv->val, &fs.f[i])))
                fprintf(stderr, "  msgpack-c disagrees on field %s\n", fs.f[i].key);
        }
    }
    msgpack_unpacked_destroy(&up);
}

/*  Every proper prefix is refused, read from an exact-size heap copy. */
static void check_truncations(const uint8_t *bytes, size_t len)
{
    int accepted = 0;
    for (size_t cut = 0; cut < len; cut++) {
        collab_envelope_t env;
        uint8_t *copy = malloc(cut ? cut : 1);
        memcpy(copy, bytes, cut);
        if (collab_envelope_decode(copy, cut, &env) == 0)
            accepted++;
        free(copy);
    }
    CHECK_EQ_INT(accepted, 0);
}

/*  Encode, compare with the canonical hand-built map, decode, compare, cross-check. */
static void round_trip(const collab_envelope_t *env)
{
    size_t len = 0;
    collab_envelope_t got;
    tm_fields_t fs;
    uint8_t canon[COLLAB_MAX_FRAME];
    CHECK_OK(collab_envelope_encode(env, frame, sizeof frame, &len));
    tm_fields_from_env(env, &fs);
    size_t clen = tm_fields_pack(&fs, canon, sizeof canon);
    CHECK_MEM(frame, len, canon, clen);
    CHECK_OK(collab_envelope_decode(frame, len, &got));
    check_same(&got, env);
    /* Decoded spans borrow from the frame. */
    if (got.payload.len)
        CHECK(got.payload.ptr > (const char *)frame &&
              got.payload.ptr + got.payload.len <= (const char *)frame + len);
    cross_check(frame, len, env);
    check_truncations(frame, len);
    /* Re-encoding what was decoded gives the same bytes. */
    size_t len2 = 0;
    static uint8_t again[COLLAB_MAX_FRAME];
    CHECK_OK(collab_envelope_encode(&got, again, sizeof again, &len2));
    CHECK_MEM(again, len2, frame, len);
}

static void test_request(void)
{
    uint8_t payload[256];
    collab_envelope_t req;
    size_t plen = tm_payload_task(payload, sizeof payload);
    CHECK(plen > 100);
    tm_request(&req, "update_task_status", payload, plen);
    round_trip(&req);
    req.nonce = (collab_span_t){(const char *)TM_NONCE, sizeof TM_NONCE};
    round_trip(&req);
    req.signature = (collab_span_t){(const char *)SIG, sizeof SIG};
    round_trip(&req);
    req.nonce = (collab_span_t){0};
    round_trip(&req);
}

static void test_request_extremes(void)
{
    collab_envelope_t req;
    tm_request(&req, "login", "\x81\xa8password\xa5s3cr3", 16);
    req.session_id = tm_span(""); /* login has no session yet */
    round_trip(&req);
    req.request_id = UINT64_MAX;
    req.timestamp = INT64_MAX;
    req.action = tm_span("abcdefghijklmnopqrstuvwxyz______"); /* 32 */
    req.agent_id = tm_span("Agent-0.9_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ01");
    CHECK_EQ_INT(req.agent_id.len, 64);
    char sess[COLLAB_MAX_SESSION_ID + 1];
    for (int i = 0; i < COLLAB_MAX_SESSION_ID; i++)
        sess[i] = (char)(0x21 + i % 94); /* every printable character */
    sess[COLLAB_MAX_SESSION_ID] = '\0';
    req.session_id = tm_span(sess);
    round_trip(&req);
    /* An empty payload span is sent as the empty map. */
    tm_request(&req, "heartbeat", NULL, 0);
    round_trip(&req);
    /* The largest payload. */
    static uint8_t big[COLLAB_MAX_PAYLOAD];
    size_t blen = tm_payload_bin(big, sizeof big, COLLAB_MAX_PAYLOAD - 6);
    CHECK_EQ_INT(blen, COLLAB_MAX_PAYLOAD);
    tm_request(&req, "create_project", big, blen);
    req.nonce = (collab_span_t){(const char *)TM_NONCE, sizeof TM_NONCE};
    req.signature = (collab_span_t){(const char *)SIG, sizeof SIG};
    size_t len = 0;
    CHECK_OK(collab_envelope_encode(&req, frame, sizeof frame, &len));
    collab_envelope_t got;
    CHECK_OK(collab_envelope_decode(frame, len, &got));
    check_same(&got, &req);
    cross_check(frame, len, &req);
}

static void test_reply(void)
{
    collab_envelope_t rep = {.kind = COLLAB_KIND_REPLY, .version = 1, .request_id = 99, .ok = true};
    static const char data[] = "\x82\xaasession_id\xa9sess-0001\xa4role\xa7manager";
    rep.data = (collab_span_t){data, sizeof data - 1};
    rep.error = tm_span("");
    round_trip(&rep);
    rep.ok = false;
    rep.error_code = (uint32_t)-COLLAB_E_BAD_SIGNATURE;
    rep.error = tm_span("signature does not verify");
    rep.data = (collab_span_t){0};
    round_trip(&rep);
    rep.error_code = 65535;
    char text[COLLAB_MAX_ERROR_TEXT + 1];
    memset(text, 'e', COLLAB_MAX_ERROR_TEXT);
    memcpy(text, "\xe2\x9c\x97 ", 4); /* UTF-8 is fine in error texts */
    text[COLLAB_MAX_ERROR_TEXT] = '\0';
    rep.error = tm_span(text);
    round_trip(&rep);
}

static void test_event(void)
{
    collab_envelope_t ev = {.kind = COLLAB_KIND_EVENT, .version = 1, .seq = 5};
    static const char data[] = "\x82\xa7task_id\x2a\xab"
                               "assigned_to\xa3"
                               "bob";
    ev.event = tm_span("task_assigned");
    ev.timestamp = TM_TIMESTAMP;
    ev.data = (collab_span_t){data, sizeof data - 1};
    round_trip(&ev);
    ev.seq = UINT64_MAX;
    ev.data = (collab_span_t){0};
    round_trip(&ev);
}

/*  Zero-initialized spans ({NULL, 0}) are the natural "empty" of a caller's envelope: they
    encode as empty str/absent fields, and nothing reads or copies through the NULL. */
static void test_null_spans(void)
{
    collab_envelope_t rep = {.kind = COLLAB_KIND_REPLY, .version = 1, .ok = true};
    round_trip(&rep);
    collab_envelope_t req;
    tm_request(&req, "login", NULL, 0);
    req.session_id = (collab_span_t){0};
    round_trip(&req);
    uint8_t sig[COLLAB_SIGNATURE_LEN], sb[256];
    CHECK_OK(collab_sign(&req, COLLAB_SCOPE_FULL, TM_KEY, sig));
    CHECK(collab_signed_bytes(&req, COLLAB_SCOPE_FULL, sb, sizeof sb) > 0);
}

static void test_any_key_order(void)
{
    uint8_t payload[256];
    collab_envelope_t req, got;
    tm_fields_t fs, rev = {.n = 0};
    tm_request(&req, "update_task_status", payload, tm_payload_task(payload, sizeof payload));
    req.nonce = (collab_span_t){(const char *)TM_NONCE, sizeof TM_NONCE};
    req.signature = (collab_span_t){(const char *)SIG, sizeof SIG};
    tm_fields_from_env(&req, &fs);
    for (size_t i = fs.n; i-- > 0;)
        tm_fields_add(&rev, fs.f[i]);
    size_t len = tm_fields_pack(&rev, frame, sizeof frame);
    CHECK_OK(collab_envelope_decode(frame, len, &got));
    check_same(&got, &req);
}

static void test_encode_errors(void)
{
    uint8_t payload[256], out[512];
    collab_envelope_t req;
    size_t len = 0, full = 0;
    tm_request(&req, "update_task_status", payload, tm_payload_task(payload, sizeof payload));
    CHECK_OK(collab_envelope_encode(&req, out, sizeof out, &full));
    for (size_t cap = 0; cap < full; cap++)
        CHECK_RC(collab_envelope_encode(&req, out, cap, &len), COLLAB_E_TOO_LARGE);
    CHECK_OK(collab_envelope_encode(&req, out, full, &len));
    CHECK_EQ_INT(len, full);
    req.kind = 0;
    CHECK_RC(collab_envelope_encode(&req, out, sizeof out, &len), COLLAB_E_MALFORMED);
    req.kind = 4;
    CHECK_RC(collab_envelope_encode(&req, out, sizeof out, &len), COLLAB_E_MALFORMED);

    static uint8_t big[COLLAB_MAX_PAYLOAD + 16];
    tm_request(&req, "create_project", big,
               tm_payload_bin(big, sizeof big, COLLAB_MAX_PAYLOAD - 5));
    CHECK_EQ_INT(req.payload.len, COLLAB_MAX_PAYLOAD + 1);
    CHECK_RC(collab_envelope_encode(&req, frame, sizeof frame, &len), COLLAB_E_TOO_LARGE);
    /* A frame that would pass 65536 bytes is refused even when the buffer is larger. */
    static char longsess[5000];
    memset(longsess, 's', sizeof longsess);
    tm_request(&req, "create_project", big,
               tm_payload_bin(big, sizeof big, COLLAB_MAX_PAYLOAD - 6));
    req.session_id = (collab_span_t){longsess, sizeof longsess};
    CHECK_RC(collab_envelope_encode(&req, frame, sizeof frame, &len), COLLAB_E_TOO_LARGE);

    collab_envelope_t rep = {.kind = COLLAB_KIND_REPLY, .version = 1};
    char text[COLLAB_MAX_ERROR_TEXT + 1];
    memset(text, 'e', sizeof text);
    rep.error = (collab_span_t){text, COLLAB_MAX_ERROR_TEXT};
    CHECK_OK(collab_envelope_encode(&rep, frame, sizeof frame, &len));
    rep.error.len++;
    CHECK_RC(collab_envelope_encode(&rep, frame, sizeof frame, &len), COLLAB_E_TOO_LARGE);
}

/*  decode_map keeps the payload's view, parsed once; a bad payload fails the same way. */
static void test_decode_map(void)
{
    uint8_t frame[512];
    size_t len;
    collab_envelope_t req, got;
    collab_map_t body;
    collab_span_t pw;
    tm_request(&req, "login", "\x81\xa8password\xa5s3cr3", 16);
    CHECK_OK(collab_envelope_encode(&req, frame, sizeof frame, &len));
    CHECK_OK(collab_envelope_decode_map(frame, len, &got, &body));
    CHECK_EQ_INT(body.count, 1);
    CHECK(collab_map_str(&body, "password", &pw) == 0 && collab_span_eq(pw, "s3cr3"));
    tm_request(&req, "login", "\x81\xa8password\xa3\xff\xfe\xfd", 14); /* not UTF-8 */
    CHECK_OK(collab_envelope_encode(&req, frame, sizeof frame, &len));
    CHECK_RC(collab_envelope_decode_map(frame, len, &got, &body), COLLAB_E_UTF8);
    CHECK_RC(collab_envelope_decode(frame, len, &got), COLLAB_E_UTF8);
}

/*  decode_why gives decode_map's verdict, and names the field that decided it with its
    rule (static words of PROTOCOL.md 9), or nothing for the message as a whole. */
static void test_decode_why(void)
{
    uint8_t frame[512];
    size_t len;
    collab_envelope_t req, got;
    collab_envelope_why_t why;
    tm_request(&req, "login", "\x81\xa8password\xa5s3cr3", 16);
    CHECK_OK(collab_envelope_encode(&req, frame, sizeof frame, &len));
    CHECK_OK(collab_envelope_decode_why(frame, len, &got, NULL, &why));
    CHECK(why.field == NULL && why.rule == NULL);
    req.agent_id = (collab_span_t){"bad agent", 9}; /* a space: outside the alphabet */
    CHECK_OK(collab_envelope_encode(&req, frame, sizeof frame, &len));
    CHECK_RC(collab_envelope_decode_why(frame, len, &got, NULL, &why), COLLAB_E_LIMIT);
    CHECK_STR(why.field, "agent_id");
    CHECK_STR(why.rule, "must be 1 to 64 bytes of A-Z, a-z, 0-9, _, . and -");
    req.agent_id = (collab_span_t){"worker1", 7};
    req.action = (collab_span_t){"bad\xc3\x28", 5}; /* and action comes first (2.4) */
    CHECK_OK(collab_envelope_encode(&req, frame, sizeof frame, &len));
    CHECK_RC(collab_envelope_decode_why(frame, len, &got, NULL, &why), COLLAB_E_UTF8);
    CHECK_STR(why.field, "action");
    CHECK_STR(why.rule, "is not valid UTF-8");
    /* a reply without its data: the first missing field of the kind, in canonical order */
    static const uint8_t no_data[] = "\x85\xa4type\xa5reply\xa7version\x01\xaarequest_id\x07"
                                     "\xa6status\xa2ok\xaa"
                                     "error_code\x00";
    CHECK_RC(collab_envelope_decode_why(no_data, sizeof no_data - 1, &got, NULL, &why),
             COLLAB_E_FIELD_MISSING);
    CHECK_STR(why.field, "error");
    CHECK_STR(why.rule, "is missing");
    /* an unknown key: about the message as a whole, and the key is not repeated */
    static const uint8_t unknown[] = "\x81\xa3zzz\x01";
    CHECK_RC(collab_envelope_decode_why(unknown, sizeof unknown - 1, &got, NULL, &why),
             COLLAB_E_MALFORMED);
    CHECK(why.field == NULL && why.rule == NULL);
}

int main(void)
{
    TU_RUN(test_request);
    TU_RUN(test_request_extremes);
    TU_RUN(test_reply);
    TU_RUN(test_event);
    TU_RUN(test_null_spans);
    TU_RUN(test_any_key_order);
    TU_RUN(test_encode_errors);
    TU_RUN(test_decode_map);
    TU_RUN(test_decode_why);
    return tu_exit("test_envelope");
}
