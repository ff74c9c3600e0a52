/*  gen_vectors.h: what the two halves of the vector generator share: the vector list, the
    payload pool, the login request and its frame (gen_vectors.c), the malformed vectors
    (gen_vectors_bad.c). Test-only code. */
#ifndef GEN_VECTORS_H
#define GEN_VECTORS_H

#include "collab.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#define T0 1700000000000ull /* 2023-11-14T22:13:20Z in Unix milliseconds */

/*  login_request's frame (written by the well-formed half), spoilt by malformed vectors. */
extern uint8_t gv_login_frame[256];
extern size_t gv_login_len;

/*  Prints "gen_vectors: NAME: WHAT" and exits 1. */
void gv_die(const char *what, const char *name) __attribute__((noreturn));

/*  Appends a vector of kind with the frame b (len bytes) to the list, and writes its fuzz
    seed with --corpus. Returns the vector (owned by the list) to add fields to. */
cJSON *gv_new_vector(const char *name, const char *kind, const char *desc, const uint8_t *b,
                     size_t len);

/*  A packer into the payload pool, which lives until the program ends; gv_payload_end
    returns what was packed (dies when the pool is exhausted). */
collab_pack_t *gv_payload_begin(void);
collab_span_t gv_payload_end(collab_pack_t *p);

/*  A request envelope from alice with the given fields. */
void gv_request(collab_envelope_t *e, uint64_t id, const char *action, const char *session,
                uint64_t ts, collab_span_t payload);

/*  Adds every malformed vector (gen_vectors_bad.c). */
void gv_malformed(void);

#endif
