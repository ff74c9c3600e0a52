/*  ids.h: session identifiers. Weak (control #1 in stage2): UUID version 4 strings from a
    time-seeded xorshift64 generator, so one observed id reveals the generator's state, as
    LAB.md requires for the predict-session attack. Strong: 32 bytes from libsodium's
    CSPRNG as 43 characters of unpadded base64url. */
#ifndef COLLAB_IDS_H
#define COLLAB_IDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define COLLAB_UUID_LEN  36
#define COLLAB_TOKEN_LEN 43

typedef struct collab_idgen collab_idgen_t;

/*  seed 0 means "seed from the clock" (the deliberate weakness). */
collab_idgen_t *collab_idgen_new(bool strong, uint64_t seed);
void collab_idgen_destroy(collab_idgen_t **self_p);

/*  Writes the next id, NUL-terminated, into out (cap > COLLAB_TOKEN_LEN). */
void collab_idgen_next(collab_idgen_t *self, char *out, size_t cap);

/*  The weak generator in the open, for the lab: one xorshift64 step. The UUID takes two
    consecutive outputs a, b: bytes 0-7 are a (big-endian), bytes 8-15 are b, then the
    version nibble (4) and the variant bits (10) are forced. */
uint64_t collab_xorshift64(uint64_t *state);
void collab_uuid_format(uint64_t a, uint64_t b, char out[COLLAB_UUID_LEN + 1]);

#endif
