/*  fuzz_verify.c: libFuzzer target for signing and the encoder: every frame that decodes is
    verified under both scopes with a fixed key, re-encoded (canonical bytes, never longer),
    decoded again to the very same fields, and signed then verified through the wire. */
#include "collab.h"

#include <stdlib.h>

static const uint8_t KEY[COLLAB_KEY_LEN] = "0123456789abcdef0123456789abcdef";

static void require(bool ok)
{
    if (!ok)
        abort();
}

static bool same_span(collab_span_t a, collab_span_t b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

static bool same(const collab_envelope_t *a, const collab_envelope_t *b)
{
    return a->kind == b->kind && a->version == b->version && a->request_id == b->request_id &&
           same_span(a->action, b->action) && same_span(a->agent_id, b->agent_id) &&
           same_span(a->session_id, b->session_id) && a->timestamp == b->timestamp &&
           same_span(a->nonce, b->nonce) && same_span(a->payload, b->payload) &&
           same_span(a->signature, b->signature) && a->ok == b->ok &&
           a->error_code == b->error_code && same_span(a->error, b->error) &&
           same_span(a->data, b->data) && same_span(a->event, b->event) && a->seq == b->seq;
}

static void check_verify(const collab_envelope_t *req)
{
    static uint8_t sb[COLLAB_MAX_FRAME];
    for (int s = COLLAB_SCOPE_WEAK; s <= COLLAB_SCOPE_FULL; s++) {
        int rc = collab_verify(req, (collab_scope_t)s, KEY);
        require(rc == 0 || rc == COLLAB_E_BAD_SIGNATURE || rc == COLLAB_E_SIGNATURE_MISSING);
        require((rc == COLLAB_E_SIGNATURE_MISSING) == (req->signature.len == 0));
        size_t need = collab_signed_bytes(req, (collab_scope_t)s, NULL, 0);
        require(collab_signed_bytes(req, (collab_scope_t)s, sb, sizeof sb) == need);
    }
}

/*  Signing what was decoded and sending it again must verify on the other side. */
static void check_sign_trip(collab_envelope_t req, collab_scope_t scope)
{
    static uint8_t frame[COLLAB_MAX_FRAME];
    uint8_t sig[COLLAB_SIGNATURE_LEN];
    collab_envelope_t got;
    size_t len;
    collab_sign(&req, scope, KEY, sig);
    req.signature = (collab_span_t){(const char *)sig, sizeof sig};
    require(collab_envelope_encode(&req, frame, sizeof frame, &len) == 0);
    require(collab_envelope_decode(frame, len, &got) == 0);
    require(collab_verify(&got, scope, KEY) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t out1[COLLAB_MAX_FRAME], out2[COLLAB_MAX_FRAME];
    collab_envelope_t env, again;
    size_t len1, len2;
    if (collab_envelope_decode(data, size, &env) != 0)
        return 0;
    if (env.kind == COLLAB_KIND_REQUEST)
        check_verify(&env);
    require(collab_envelope_encode(&env, out1, sizeof out1, &len1) == 0);
    require(len1 <= size); /* canonical encodings are the shortest */
    require(collab_envelope_decode(out1, len1, &again) == 0);
    require(same(&env, &again));
    require(collab_envelope_encode(&again, out2, sizeof out2, &len2) == 0);
    require(len1 == len2 && memcmp(out1, out2, len1) == 0);
    if (env.kind == COLLAB_KIND_REQUEST) {
        int before = collab_verify(&env, COLLAB_SCOPE_FULL, KEY);
        require(collab_verify(&again, COLLAB_SCOPE_FULL, KEY) == before);
        check_sign_trip(again, COLLAB_SCOPE_WEAK);
        check_sign_trip(again, COLLAB_SCOPE_FULL);
    }
    return 0;
}
