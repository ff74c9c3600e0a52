/*  creds.h: the credentials file (JSON: agents, roles, password hashes, HMAC keys) and
    password hashing. bcrypt ($2b$, libcrypt's crypt_r) and Argon2id (libsodium's
    crypto_pwhash_str) are both accepted; passwords are never stored otherwise. */
#ifndef COLLAB_CREDS_H
#define COLLAB_CREDS_H

#include "model.h"

#include <stddef.h>

typedef struct collab_creds collab_creds_t;

/*  Loads {"agents":[{"agent_id","role","password_hash","hmac_key"}...]}. On error returns
    NULL and writes "PATH: agents[3].hmac_key: must be 64 hex digits" (or similar) into err. */
collab_creds_t *collab_creds_load(const char *path, char *err, size_t errlen);
/*  The same for the file's text already in memory (len bytes; need not be NUL-terminated;
    name stands for PATH in the errors): what collab_creds_load does after reading. Pure. */
collab_creds_t *collab_creds_parse(const char *name, const char *text, size_t len, char *err,
                                   size_t errlen);
void collab_creds_destroy(collab_creds_t **self_p);

size_t collab_creds_count(const collab_creds_t *self);
/*  The i-th agent as loaded (registration, counters zeroed). Lent. */
const collab_agent_t *collab_creds_at(const collab_creds_t *self, size_t i);

/*  Verifies a password against a stored hash in constant time where the scheme allows.
    Returns 0, COLLAB_E_AUTH_FAILED, or COLLAB_E_INTERNAL for an unsupported hash string.
    Slow by design: call it off the event loop. */
int collab_password_verify(const char *hash, const char *password, size_t len);

/*  Creates a hash: scheme "bcrypt" (cost 4..31) or "argon2id" (cost 1 = interactive limits,
    0 = the minimum, for tests). Returns 0 or a negative code. */
int collab_password_hash(const char *password, size_t len, const char *scheme, int cost, char *out,
                         size_t cap);

/*  A fixed bcrypt cost-12 hash of no real password, verified against for unknown agents
    so that they cost the same work as known ones (strong login control). */
const char *collab_password_dummy_hash(void);

/*  Writes into out (cap bytes, at least COLLAB_HASH_MAX) a hash with the scheme, cost and
    salt of `like` but a digest no password matches, so that verifying against it costs the
    same work as verifying against `like`. When `like` is not a hash this module verifies
    (or is NULL), writes the fixed bcrypt cost-12 dummy instead. */
void collab_password_dummy_like(const char *like, char *out, size_t cap);

#endif
