/*  vault.h: the broker's secrets at rest (LAB.md control 5). A key file holds 32 random
    bytes, owner-only; from it the vault derives a token-hashing key and a sealing key, so
    that the state file keeps session tokens only as keyed hashes and other secrets only
    sealed (XSalsa20-Poly1305, a random nonce per value). The key-file loader is shared with
    the audit chain (control 14), whose key file is a different one. */
#ifndef COLLAB_VAULT_H
#define COLLAB_VAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define COLLAB_VAULT_KEY_LEN 32
/*  A token's keyed hash: 64 lowercase hex digits. */
#define COLLAB_VAULT_HASH_HEX 64
/*  The prefix of a sealed value: "sb1:" then base64url (no padding) of nonce || ciphertext. */
#define COLLAB_VAULT_SEALED_PREFIX "sb1:"

typedef struct collab_vault collab_vault_t;

/*  Reads a key file of exactly 32 bytes into key. When the file is absent and create is
    true, makes it first: 32 bytes from the CSPRNG written to a private temporary file
    (O_CREAT|O_EXCL, mode 0600) and published with link(2), so a concurrent reader never
    sees a partial key and a concurrent creator never overwrites one. A file that is not
    regular, has any group or other permission bit, or is not 32 bytes long is refused.
    Returns 0, or COLLAB_E_IO / COLLAB_E_NOT_FOUND with "PATH: reason" in err. */
int collab_vault_key_file(const char *path, bool create, uint8_t key[COLLAB_VAULT_KEY_LEN],
                          char *err, size_t errlen);

/*  A vault over a 32-byte master key (copied; the caller wipes its own). NULL when out of
    memory or libsodium does not initialise. */
collab_vault_t *collab_vault_new(const uint8_t key[COLLAB_VAULT_KEY_LEN]);

/*  Wipes the keys. NULL-safe, idempotent, nulls *self_p. */
void collab_vault_destroy(collab_vault_t **self_p);

/*  The keyed hash of a bearer token as 64 hex digits and a NUL (cap >= 65; a smaller cap
    gets ""). Deterministic: the same token always gives the same hash under one key. */
void collab_vault_token_hash(const collab_vault_t *self, const char *token, size_t len, char *out,
                             size_t cap);

/*  Identifies the key without revealing it: 64 hex digits (cap >= 65), stored in the state
    so that a state file opened with another key file is recognised and refused. */
void collab_vault_key_check(const collab_vault_t *self, char *out, size_t cap);

/*  Bytes collab_vault_seal needs for a value of len bytes under a context of ctx_len bytes
    (prefix, base64 and the NUL included). */
size_t collab_vault_sealed_size(size_t ctx_len, size_t len);

/*  Seals the text plain (bound to context, e.g. the agent id, so a sealed value moved to
    another row does not open) into out as "sb1:..." NUL-terminated. Returns 0,
    COLLAB_E_TOO_LARGE (out too small) or COLLAB_E_NOMEM. */
int collab_vault_seal(const collab_vault_t *self, const char *context, const char *plain, char *out,
                      size_t cap);

/*  Opens a sealed value into out (NUL-terminated). Returns 0, COLLAB_E_MALFORMED (not a
    sealed value), COLLAB_E_AUTH_FAILED (wrong key, wrong context or altered bytes) or
    COLLAB_E_TOO_LARGE. On error out is "". */
int collab_vault_unseal(const collab_vault_t *self, const char *context, const char *sealed,
                        char *out, size_t cap);

/*  True when s looks like a sealed value (its prefix). */
bool collab_vault_is_sealed(const char *s);

#endif
