/*  collab_sign.h: the bytes HMAC-SHA256 signs under each signature scope, and signing and
    verification with libsodium (constant-time comparison). PROTOCOL.md, "Signatures". */
#ifndef COLLAB_SIGN_H
#define COLLAB_SIGN_H

#include "collab_action.h"
#include "collab_envelope.h"
#include "collab_limits.h"

#include <sodium.h>
#include <stddef.h>
#include <stdint.h>

/*  A signing key made ready: the HMAC state with the key's inner and outer pads already
    absorbed, so that each signature or verification starts from a copy instead of hashing
    the key again. As secret as the key: wipe it when done. */
typedef struct {
    crypto_auth_hmacsha256_state keyed;
} collab_sign_key_t;

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

/*  The same with a prepared key: collab_sign_key_init once, then any number of these. */
void collab_sign_key_init(collab_sign_key_t *k, const uint8_t key[COLLAB_KEY_LEN]);
void collab_sign_key_wipe(collab_sign_key_t *k);
int collab_sign_keyed(const collab_envelope_t *req, collab_scope_t scope,
                      const collab_sign_key_t *k, uint8_t sig[COLLAB_SIGNATURE_LEN]);
int collab_verify_keyed(const collab_envelope_t *req, collab_scope_t scope,
                        const collab_sign_key_t *k);

/*  Parses 64 hex digits into a key. Returns 0 or COLLAB_E_MALFORMED. */
int collab_key_from_hex(const char *hex, size_t len, uint8_t key[COLLAB_KEY_LEN]);

#endif
