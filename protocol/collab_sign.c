/*  collab_sign.c: signed-bytes construction and HMAC-SHA256 through libsodium.
    The signed bytes are a sequence of length-prefixed fields, so no two different
    requests share them; see PROTOCOL.md for the exact layout. */
#include "collab_sign.h"
#include "collab_hex.h"
#include "collab_error.h"

#include <sodium.h>
#include <string.h>

#define TAG_WEAK "taskcollab/1 weak"
#define TAG_FULL "taskcollab/1 full"

/*  A sink is either a buffer being filled or an HMAC state being updated. The fields are
    many and small, so the HMAC sink gathers them in buf and hands SHA-256 whole blocks'
    worth at a time, not a call per length prefix. */
#define SINK_BUF 256

typedef struct {
    crypto_auth_hmacsha256_state *st;
    uint8_t *out;
    size_t cap;
    size_t len;
    size_t used; /* bytes waiting in buf (HMAC sink) */
    uint8_t buf[SINK_BUF];
} sink_t;

static void drain(sink_t *s)
{
    if (s->used)
        crypto_auth_hmacsha256_update(s->st, s->buf, s->used);
    s->used = 0;
}

static void put(sink_t *s, const void *b, size_t n)
{
    if (n == 0)
        return; /* an absent field is {NULL, 0}, and memcpy from NULL is undefined even for 0 */
    if (s->st) {
        if (n > SINK_BUF - s->used) {
            drain(s);
            if (n > SINK_BUF) { /* a large payload goes straight through */
                crypto_auth_hmacsha256_update(s->st, (const unsigned char *)b, n);
                s->len += n;
                return;
            }
        }
        memcpy(s->buf + s->used, b, n);
        s->used += n;
    } else if (s->out && n <= s->cap - s->len) {
        memcpy(s->out + s->len, b, n);
    }
    s->len += n;
}

static void put_be(sink_t *s, uint64_t v, int bytes)
{
    uint8_t b[8];
    for (int i = 0; i < bytes; i++)
        b[i] = (uint8_t)(v >> (8 * (bytes - 1 - i)));
    put(s, b, (size_t)bytes);
}

static void put_lp(sink_t *s, const void *b, size_t n)
{
    put_be(s, n, 4);
    put(s, b, n);
}

static void put_span(sink_t *s, collab_span_t sp)
{
    put_lp(s, sp.ptr, sp.len);
}

/*  The payload as it travels: collab_envelope_encode sends an empty span as the empty map,
    so the signature must cover that map, or it would not verify after the trip. */
static collab_span_t wire_payload(const collab_envelope_t *req)
{
    return req->payload.len ? req->payload : COLLAB_EMPTY_MAP;
}

static void emit(sink_t *s, const collab_envelope_t *req, collab_scope_t scope)
{
    if (scope == COLLAB_SCOPE_WEAK) {
        put_lp(s, TAG_WEAK, strlen(TAG_WEAK));
        put_span(s, req->agent_id);
        put_be(s, req->timestamp, 8);
        put_span(s, req->nonce);
        put_span(s, wire_payload(req));
        return;
    }
    put_lp(s, TAG_FULL, strlen(TAG_FULL));
    put_be(s, req->version, 4);
    put_span(s, req->action);
    put_be(s, req->request_id, 8);
    put_span(s, req->agent_id);
    put_span(s, req->session_id);
    put_be(s, req->timestamp, 8);
    put_span(s, req->nonce);
    put_span(s, wire_payload(req));
}

size_t collab_signed_bytes(const collab_envelope_t *req, collab_scope_t scope, uint8_t *out,
                           size_t cap)
{
    sink_t s;
    s.st = NULL;
    s.out = NULL;
    s.cap = s.len = s.used = 0;
    emit(&s, req, scope); /* counts */
    if (s.len > cap)
        return s.len;
    s.out = out;
    s.cap = cap;
    s.len = 0;
    emit(&s, req, scope);
    return s.len;
}

void collab_sign_key_init(collab_sign_key_t *k, const uint8_t key[COLLAB_KEY_LEN])
{
    crypto_auth_hmacsha256_init(&k->keyed, key, COLLAB_KEY_LEN);
}

void collab_sign_key_wipe(collab_sign_key_t *k)
{
    sodium_memzero(k, sizeof *k);
}

int collab_sign_keyed(const collab_envelope_t *req, collab_scope_t scope,
                      const collab_sign_key_t *k, uint8_t sig[COLLAB_SIGNATURE_LEN])
{
    sink_t s;
    crypto_auth_hmacsha256_state st = k->keyed; /* the key's pads, already absorbed */
    s.st = &st;
    s.out = NULL;
    s.cap = s.len = s.used = 0;
    emit(&s, req, scope);
    drain(&s);
    crypto_auth_hmacsha256_final(&st, sig);
    sodium_memzero(&st, sizeof st);
    sodium_memzero(s.buf, sizeof s.buf);
    return 0;
}

int collab_verify_keyed(const collab_envelope_t *req, collab_scope_t scope,
                        const collab_sign_key_t *k)
{
    uint8_t want[COLLAB_SIGNATURE_LEN];
    if (req->signature.len == 0)
        return COLLAB_E_SIGNATURE_MISSING;
    if (req->signature.len != COLLAB_SIGNATURE_LEN)
        return COLLAB_E_BAD_SIGNATURE;
    collab_sign_keyed(req, scope, k, want);
    int bad = crypto_verify_32(want, (const unsigned char *)req->signature.ptr);
    sodium_memzero(want, sizeof want);
    return bad ? COLLAB_E_BAD_SIGNATURE : 0;
}

int collab_sign(const collab_envelope_t *req, collab_scope_t scope,
                const uint8_t key[COLLAB_KEY_LEN], uint8_t sig[COLLAB_SIGNATURE_LEN])
{
    collab_sign_key_t k;
    collab_sign_key_init(&k, key);
    int rc = collab_sign_keyed(req, scope, &k, sig);
    collab_sign_key_wipe(&k);
    return rc;
}

int collab_verify(const collab_envelope_t *req, collab_scope_t scope,
                  const uint8_t key[COLLAB_KEY_LEN])
{
    collab_sign_key_t k;
    collab_sign_key_init(&k, key);
    int rc = collab_verify_keyed(req, scope, &k);
    collab_sign_key_wipe(&k);
    return rc;
}

int collab_key_from_hex(const char *hex, size_t len, uint8_t key[COLLAB_KEY_LEN])
{
    if (len != 2 * COLLAB_KEY_LEN ||
        collab_hex_decode(hex, len, key, COLLAB_KEY_LEN) != COLLAB_KEY_LEN)
        return COLLAB_E_MALFORMED;
    return 0;
}
