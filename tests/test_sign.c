/*  test_sign.c: the signed bytes of both scopes checked byte by byte against hand-built
    buffers, HMAC known answers computed outside this code base, sign/verify with every field
    altered, scope and key mismatches, missing signatures, and collab_key_from_hex. */
#include "testmsg.h"
#include "testutil.h"

#include <sodium.h>

static const char PAYLOAD[] = "\x81\xa4name\xa6"
                              "Apollo"; /* {"name": "Apollo"}, 13 bytes */

/*  create_project from alice in sess-0001, request_id 7, TM_TIMESTAMP. */
static void sample(collab_envelope_t *req, bool nonce)
{
    tm_request(req, "create_project", PAYLOAD, sizeof PAYLOAD - 1);
    if (nonce)
        req->nonce = (collab_span_t){(const char *)TM_NONCE, COLLAB_NONCE_LEN};
}

/*  Appends a literal to a hand-built buffer. */
#define PUT(buf, n, lit)                                                                           \
    do {                                                                                           \
        memcpy((buf) + (n), lit, sizeof(lit) - 1);                                                 \
        (n) += sizeof(lit) - 1;                                                                    \
    } while (0)

#define TS_BE    "\x00\x00\x01\x8b\xcf\xe5\x68\x00" /* 1700000000000 */
#define NONCE_LP "\x00\x00\x00\x10\xa0\xa1\xa2\xa3\xa4\xa5\xa6\xa7\xa8\xa9\xaa\xab\xac\xad\xae\xaf"

static size_t expected_weak(uint8_t *b, bool nonce)
{
    size_t n = 0;
    PUT(b, n, "\x00\x00\x00\x11taskcollab/1 weak");
    PUT(b, n,
        "\x00\x00\x00\x05"
        "alice");
    PUT(b, n, TS_BE);
    if (nonce)
        PUT(b, n, NONCE_LP);
    else
        PUT(b, n, "\x00\x00\x00\x00");
    PUT(b, n,
        "\x00\x00\x00\x0d\x81\xa4name\xa6"
        "Apollo");
    return n;
}

static size_t expected_full(uint8_t *b, bool nonce)
{
    size_t n = 0;
    PUT(b, n, "\x00\x00\x00\x11taskcollab/1 full");
    PUT(b, n, "\x00\x00\x00\x01");
    PUT(b, n,
        "\x00\x00\x00\x0e"
        "create_project");
    PUT(b, n, "\x00\x00\x00\x00\x00\x00\x00\x07");
    PUT(b, n,
        "\x00\x00\x00\x05"
        "alice");
    PUT(b, n, "\x00\x00\x00\x09sess-0001");
    PUT(b, n, TS_BE);
    if (nonce)
        PUT(b, n, NONCE_LP);
    else
        PUT(b, n, "\x00\x00\x00\x00");
    PUT(b, n,
        "\x00\x00\x00\x0d\x81\xa4name\xa6"
        "Apollo");
    return n;
}

static void check_layout(collab_scope_t scope, bool nonce)
{
    collab_envelope_t req;
    uint8_t want[256], got[256];
    sample(&req, nonce);
    size_t wlen =
        scope == COLLAB_SCOPE_WEAK ? expected_weak(want, nonce) : expected_full(want, nonce);
    size_t glen = collab_signed_bytes(&req, scope, got, sizeof got);
    CHECK_MEM(got, glen, want, wlen);
    /* Too small a buffer: the needed length comes back and nothing is written. */
    memset(got, 0xee, sizeof got);
    CHECK_EQ_INT(collab_signed_bytes(&req, scope, got, wlen - 1), wlen);
    CHECK_EQ_INT(collab_signed_bytes(&req, scope, NULL, 0), wlen);
    int touched = 0;
    for (size_t i = 0; i < sizeof got; i++)
        touched += got[i] != 0xee;
    CHECK_EQ_INT(touched, 0);
    CHECK_EQ_INT(collab_signed_bytes(&req, scope, got, wlen), wlen);
    CHECK_MEM(got, wlen, want, wlen);
    /* The signature is HMAC-SHA256 over exactly these bytes (one-shot libsodium call). */
    uint8_t sig[32], mac[32];
    CHECK_OK(collab_sign(&req, scope, TM_KEY, sig));
    crypto_auth_hmacsha256(mac, want, wlen, TM_KEY);
    CHECK_MEM(sig, 32, mac, 32);
}

static void test_layout(void)
{
    check_layout(COLLAB_SCOPE_WEAK, false);
    check_layout(COLLAB_SCOPE_WEAK, true);
    check_layout(COLLAB_SCOPE_FULL, false);
    check_layout(COLLAB_SCOPE_FULL, true);
}

/*  Known answers computed with Python's hmac module over the hand-built buffers above. */
static void test_known_answers(void)
{
    static const uint8_t weak[32] = "\xcd\x4b\xd2\x17\xf7\xe4\xec\x9c\x66\xda\xef\xf9\x3a\x6f\xaa"
                                    "\x9e\x98\x33\xbb\x81\xf4\xd3\x2d\x31\x1f\x6d\x80\x29\x08\x56"
                                    "\x66\xe9";
    static const uint8_t full[32] = "\x50\xd9\x8a\x60\xe7\xf5\x2f\x71\x56\xce\x51\x62\xeb\x09\x24"
                                    "\x77\xef\x7b\x38\xe6\xae\x6b\x70\x9c\x7a\x25\x91\xdb\x57\xf7"
                                    "\x7e\xa7";
    collab_envelope_t req;
    uint8_t sig[32];
    sample(&req, false);
    CHECK_OK(collab_sign(&req, COLLAB_SCOPE_WEAK, TM_KEY, sig));
    CHECK_MEM(sig, 32, weak, 32);
    sample(&req, true);
    CHECK_OK(collab_sign(&req, COLLAB_SCOPE_FULL, TM_KEY, sig));
    CHECK_MEM(sig, 32, full, 32);
}

static void test_sign_verify(void)
{
    static const collab_scope_t scopes[] = {COLLAB_SCOPE_WEAK, COLLAB_SCOPE_FULL};
    for (int s = 0; s < 2; s++) {
        collab_envelope_t req;
        uint8_t sig[33] = {0}, key[32];
        sample(&req, s == 1);
        CHECK_RC(collab_verify(&req, scopes[s], TM_KEY), COLLAB_E_SIGNATURE_MISSING);
        CHECK_OK(collab_sign(&req, scopes[s], TM_KEY, sig));
        req.signature = (collab_span_t){(const char *)sig, 32};
        CHECK_OK(collab_verify(&req, scopes[s], TM_KEY));
        CHECK_RC(collab_verify(&req, scopes[1 - s], TM_KEY), COLLAB_E_BAD_SIGNATURE);
        memcpy(key, TM_KEY, 32);
        key[31] ^= 0x80;
        CHECK_RC(collab_verify(&req, scopes[s], key), COLLAB_E_BAD_SIGNATURE);
        for (int i = 0; i < 32; i++) {
            sig[i] ^= 1;
            CHECK_RC(collab_verify(&req, scopes[s], TM_KEY), COLLAB_E_BAD_SIGNATURE);
            sig[i] ^= 1;
        }
        req.signature.len = 31;
        CHECK_RC(collab_verify(&req, scopes[s], TM_KEY), COLLAB_E_BAD_SIGNATURE);
        req.signature.len = 33;
        CHECK_RC(collab_verify(&req, scopes[s], TM_KEY), COLLAB_E_BAD_SIGNATURE);
        req.signature.len = 0;
        CHECK_RC(collab_verify(&req, scopes[s], TM_KEY), COLLAB_E_SIGNATURE_MISSING);
    }
}

/*  A prepared key signs as the raw key does, for payloads around the sink's 256-byte
    buffer and far beyond it (those bypass it), in both scopes; and an HMAC of the
    signed bytes computed in one call agrees, so the gathering changes nothing. */
static void test_prepared_key(void)
{
    static const collab_scope_t scopes[] = {COLLAB_SCOPE_WEAK, COLLAB_SCOPE_FULL};
    static const size_t sizes[] = {0, 200, 255, 256, 300, 1000, 20000};
    static uint8_t payload[20016], bytes[20200];
    collab_sign_key_t k;
    collab_sign_key_init(&k, TM_KEY);
    for (size_t z = 0; z < sizeof sizes / sizeof *sizes; z++) {
        size_t plen = tm_payload_bin(payload, sizeof payload, sizes[z]);
        CHECK(plen > sizes[z]);
        for (int s = 0; s < 2; s++) {
            collab_envelope_t req;
            uint8_t raw[32], prepared[32], direct[32];
            tm_request(&req, "create_project", payload, plen);
            req.nonce = (collab_span_t){(const char *)TM_NONCE, COLLAB_NONCE_LEN};
            CHECK_OK(collab_sign(&req, scopes[s], TM_KEY, raw));
            CHECK_OK(collab_sign_keyed(&req, scopes[s], &k, prepared));
            CHECK_MEM(prepared, 32, raw, 32);
            size_t n = collab_signed_bytes(&req, scopes[s], bytes, sizeof bytes);
            CHECK(n <= sizeof bytes);
            crypto_auth_hmacsha256(direct, bytes, n, TM_KEY);
            CHECK_MEM(raw, 32, direct, 32);
            req.signature = (collab_span_t){(const char *)prepared, 32};
            CHECK_OK(collab_verify_keyed(&req, scopes[s], &k));
            prepared[0] ^= 1;
            CHECK_RC(collab_verify_keyed(&req, scopes[s], &k), COLLAB_E_BAD_SIGNATURE);
        }
    }
    collab_sign_key_t other;
    uint8_t key[32];
    memcpy(key, TM_KEY, 32);
    key[0] ^= 1;
    collab_sign_key_init(&other, key);
    collab_envelope_t req;
    uint8_t sig[32];
    sample(&req, true);
    CHECK_OK(collab_sign_keyed(&req, COLLAB_SCOPE_FULL, &k, sig));
    req.signature = (collab_span_t){(const char *)sig, 32};
    CHECK_RC(collab_verify_keyed(&req, COLLAB_SCOPE_FULL, &other), COLLAB_E_BAD_SIGNATURE);
    collab_sign_key_wipe(&k);
    static const collab_sign_key_t zero;
    CHECK_MEM(&k, sizeof k, &zero, sizeof zero);
}

/*  One alteration of a signed request, and whether the weak scope covers that field. */
typedef struct {
    const char *name;
    void (*alter)(collab_envelope_t *req);
    bool in_weak;
} alteration_t;

static void alt_version(collab_envelope_t *r)
{
    r->version = 2;
}
static void alt_action(collab_envelope_t *r)
{
    r->action = tm_span("delete_project");
}
static void alt_request_id(collab_envelope_t *r)
{
    r->request_id = 8;
}
static void alt_agent_id(collab_envelope_t *r)
{
    r->agent_id = tm_span("alicf");
}
static void alt_session_id(collab_envelope_t *r)
{
    r->session_id = tm_span("sess-0002");
}
static void alt_timestamp(collab_envelope_t *r)
{
    r->timestamp++;
}
static void alt_nonce_byte(collab_envelope_t *r)
{
    static const uint8_t other[16] = {0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7,
                                      0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xae};
    r->nonce = (collab_span_t){(const char *)other, 16};
}
static void alt_nonce_gone(collab_envelope_t *r)
{
    r->nonce = (collab_span_t){0};
}
static void alt_payload(collab_envelope_t *r)
{
    r->payload = (collab_span_t){"\x81\xa4name\xa6"
                                 "Apollp",
                                 13};
}
static void alt_payload_len(collab_envelope_t *r)
{
    r->payload.len--;
}

static const alteration_t alterations[] = {
    {"version", alt_version, false},       {"action", alt_action, false},
    {"request_id", alt_request_id, false}, {"session_id", alt_session_id, false},
    {"agent_id", alt_agent_id, true},      {"timestamp", alt_timestamp, true},
    {"nonce byte", alt_nonce_byte, true},  {"nonce removed", alt_nonce_gone, true},
    {"payload", alt_payload, true},        {"payload length", alt_payload_len, true},
};

static void check_alterations(collab_scope_t scope)
{
    for (size_t i = 0; i < sizeof alterations / sizeof alterations[0]; i++) {
        collab_envelope_t req;
        uint8_t sig[32];
        sample(&req, true);
        collab_sign(&req, scope, TM_KEY, sig);
        req.signature = (collab_span_t){(const char *)sig, 32};
        alterations[i].alter(&req);
        bool covered = scope == COLLAB_SCOPE_FULL || alterations[i].in_weak;
        int rc = collab_verify(&req, scope, TM_KEY);
        if (!CHECK(rc == (covered ? COLLAB_E_BAD_SIGNATURE : 0)))
            fprintf(stderr, "  %s altered under %s scope: %s\n", alterations[i].name,
                    collab_scope_name(scope), collab_errname(rc));
    }
}

static void test_alterations(void)
{
    check_alterations(COLLAB_SCOPE_WEAK);
    check_alterations(COLLAB_SCOPE_FULL);
    /* Adding a nonce that was not signed breaks both scopes too. */
    collab_envelope_t req;
    uint8_t sig[32];
    sample(&req, false);
    collab_sign(&req, COLLAB_SCOPE_WEAK, TM_KEY, sig);
    req.signature = (collab_span_t){(const char *)sig, 32};
    req.nonce = (collab_span_t){(const char *)TM_NONCE, COLLAB_NONCE_LEN};
    CHECK_RC(collab_verify(&req, COLLAB_SCOPE_WEAK, TM_KEY), COLLAB_E_BAD_SIGNATURE);
}

/*  Length prefixes keep field boundaries: moving bytes from one field to the next changes
    the signed bytes. */
static void test_boundaries(void)
{
    collab_envelope_t a, b;
    uint8_t ba[256], bb[256];
    sample(&a, false);
    sample(&b, false);
    a.action = tm_span("ab");
    a.session_id = tm_span("c");
    b.action = tm_span("a");
    b.session_id = tm_span("bc");
    size_t la = collab_signed_bytes(&a, COLLAB_SCOPE_FULL, ba, sizeof ba);
    size_t lb = collab_signed_bytes(&b, COLLAB_SCOPE_FULL, bb, sizeof bb);
    CHECK(la == lb && memcmp(ba, bb, la) != 0);
}

/*  Sign, encode, decode, verify: what travels verifies, and a changed payload byte does not. */
static void test_through_the_wire(void)
{
    static const collab_scope_t scopes[] = {COLLAB_SCOPE_WEAK, COLLAB_SCOPE_FULL};
    for (int s = 0; s < 2; s++) {
        collab_envelope_t req, got;
        uint8_t sig[32], frame[512];
        size_t len = 0;
        sample(&req, true);
        collab_sign(&req, scopes[s], TM_KEY, sig);
        req.signature = (collab_span_t){(const char *)sig, 32};
        CHECK_OK(collab_envelope_encode(&req, frame, sizeof frame, &len));
        CHECK_OK(collab_envelope_decode(frame, len, &got));
        CHECK_OK(collab_verify(&got, scopes[s], TM_KEY));
        uint8_t *p = memmem(frame, len, "Apollo", 6);
        if (CHECK(p != NULL))
            p[5] = 'p';
        CHECK_OK(collab_envelope_decode(frame, len, &got));
        CHECK_RC(collab_verify(&got, scopes[s], TM_KEY), COLLAB_E_BAD_SIGNATURE);
    }
}

/*  A request built without a payload is sent with the empty map; its signature must cover
    what is sent, so it verifies after the trip. */
static void test_empty_payload(void)
{
    static const collab_scope_t scopes[] = {COLLAB_SCOPE_WEAK, COLLAB_SCOPE_FULL};
    for (int s = 0; s < 2; s++) {
        collab_envelope_t req, got;
        uint8_t sig[32], frame[512], b1[256], b2[256];
        size_t len = 0;
        tm_request(&req, "heartbeat", NULL, 0);
        collab_sign(&req, scopes[s], TM_KEY, sig);
        req.signature = (collab_span_t){(const char *)sig, 32};
        CHECK_OK(collab_envelope_encode(&req, frame, sizeof frame, &len));
        CHECK_OK(collab_envelope_decode(frame, len, &got));
        CHECK_SPAN(got.payload, "\x80");
        CHECK_OK(collab_verify(&got, scopes[s], TM_KEY));
        size_t l1 = collab_signed_bytes(&req, scopes[s], b1, sizeof b1);
        size_t l2 = collab_signed_bytes(&got, scopes[s], b2, sizeof b2);
        CHECK_MEM(b1, l1, b2, l2);
    }
}

#define KEY_HEX "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

static int key_from(const char *hex, uint8_t *key)
{
    return collab_key_from_hex(hex, strlen(hex), key);
}

static void test_key_from_hex(void)
{
    uint8_t key[32];
    CHECK_OK(key_from(KEY_HEX, key));
    CHECK_MEM(key, 32, TM_KEY, 32);
    memset(key, 0, sizeof key);
    CHECK_OK(key_from("000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F", key));
    CHECK_MEM(key, 32, TM_KEY, 32);
    CHECK_RC(key_from("", key), COLLAB_E_MALFORMED);
    CHECK_RC(key_from(KEY_HEX "0", key), COLLAB_E_MALFORMED);
    CHECK_RC(key_from(KEY_HEX "00", key), COLLAB_E_MALFORMED);
    CHECK_RC(collab_key_from_hex(KEY_HEX, 63, key), COLLAB_E_MALFORMED);
    CHECK_RC(key_from("0x0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", key),
             COLLAB_E_MALFORMED);
    CHECK_RC(key_from("g00102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1", key),
             COLLAB_E_MALFORMED);
    CHECK_RC(key_from("000102030405060708090a0b0c0d0e0f 01112131415161718191a1b1c1d1e1f", key),
             COLLAB_E_MALFORMED);
    CHECK_RC(key_from("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1z", key),
             COLLAB_E_MALFORMED);
}

int main(void)
{
    TU_RUN(test_layout);
    TU_RUN(test_known_answers);
    TU_RUN(test_sign_verify);
    TU_RUN(test_prepared_key);
    TU_RUN(test_alterations);
    TU_RUN(test_boundaries);
    TU_RUN(test_through_the_wire);
    TU_RUN(test_empty_payload);
    TU_RUN(test_key_from_hex);
    return tu_exit("test_sign");
}
