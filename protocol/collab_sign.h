/*  collab_sign.h: the bytes HMAC-SHA256 signs under each signature scope, and signing and
    verification with libsodium (constant-time comparison). PROTOCOL.md, "Signatures". */
#ifndef COLLAB_SIGN_H
#define COLLAB_SIGN_H

#include "collab_action.h"
#include "collab_envelope.h"
#include "collab_limits.h"

#include <stddef.h>
#include <stdint.h>

/*  Writes the signed bytes of a request under a scope into out[0..cap) and returns their
    length; if cap is too small nothing is written and the needed length is returned.
    Useful for test vectors and for other implementations to compare against. */
size_t collab_signed_bytes(const collab_envelope_t *req, collab_scope_t scope, uint8_t *out,
                           size_t cap);

/*  Computes the signature of a request under a scope into sig. Returns 0. */
int collab_sign(const collab_envelope_t *req, collab_scope_t scope,
                const uint8_t key[COLLAB_KEY_LEN], uint8_t sig[COLLAB_SIGNATURE_LEN]);

/*  Verifies req->signature. Returns 0, COLLAB_E_SIGNATURE_MISSING when there is none, or
    COLLAB_E_BAD_SIGNATURE. */
int collab_verify(const collab_envelope_t *req, collab_scope_t scope,
                  const uint8_t key[COLLAB_KEY_LEN]);

/*  Parses 64 hex digits into a key. Returns 0 or COLLAB_E_MALFORMED. */
int collab_key_from_hex(const char *hex, size_t len, uint8_t key[COLLAB_KEY_LEN]);

#endif
