/*  testmsg.h: helpers shared by the tests, the vector generator, the fuzz seeds and the bench:
    hex, fixed keys and sample requests, and a raw field builder that packs envelope maps the
    real encoder would refuse to write (unknown keys, wrong kinds, oversize values). */
#ifndef TESTMSG_H
#define TESTMSG_H

#include "collab.h"

#include <stddef.h>
#include <stdint.h>

/*  Fixed material, so every run and every vector is deterministic. */
extern const uint8_t TM_KEY[COLLAB_KEY_LEN]; /* 0x00, 0x01, ... 0x1f */
extern const uint8_t TM_NONCE[COLLAB_NONCE_LEN];
#define TM_TIMESTAMP 1700000000000ull

/*  Lower-case hex of len bytes into out (2 * len + 1 bytes, NUL-terminated). */
void tm_hex(const void *bytes, size_t len, char *out);

/*  Parses hex into out[0..cap). Returns the byte count, or -1 on odd length, a non-hex
    digit or overflow. */
long tm_unhex(const char *hex, uint8_t *out, size_t cap);

/*  A span over a NUL-terminated string. */
collab_span_t tm_span(const char *s);

/*  Fills *req with a version-1 request from agent "alice" in session "sess-0001",
    request_id 7, TM_TIMESTAMP, no nonce, no signature, over a payload the caller owns. */
void tm_request(collab_envelope_t *req, const char *action, const void *payload, size_t len);

/*  Packs the typical update_task_status payload {task_id, status, result} into out.
    Returns its length (0 if cap is too small). */
size_t tm_payload_task(uint8_t *out, size_t cap);

/*  Packs {"b": bin of n bytes} (a map whose encoding is n + 6 bytes for 256 <= n < 65536). */
size_t tm_payload_bin(uint8_t *out, size_t cap, size_t n);

/*  Raw envelope builder: a list of key/value fields packed in order, whatever they are. */
typedef enum {
    TM_STR,  /* ptr/len */
    TM_BIN,  /* ptr/len */
    TM_UINT, /* u */
    TM_INT,  /* i */
    TM_RAW,  /* ptr/len: already-encoded MessagePack, copied verbatim */
} tm_kind_t;

typedef struct {
    const char *key;
    tm_kind_t kind;
    const void *ptr;
    size_t len;
    uint64_t u;
    int64_t i;
} tm_field_t;

#define TM_MAX_FIELDS 24
typedef struct {
    tm_field_t f[TM_MAX_FIELDS];
    size_t n;
} tm_fields_t;

/*  The fields of *env in canonical order, exactly as collab_envelope_encode writes them. */
void tm_fields_from_env(const collab_envelope_t *env, tm_fields_t *fs);

/*  The first field with this key, or NULL. */
tm_field_t *tm_fields_find(tm_fields_t *fs, const char *key);

/*  Removes every field with this key. */
void tm_fields_remove(tm_fields_t *fs, const char *key);

/*  Appends a field (ignored when full). */
void tm_fields_add(tm_fields_t *fs, tm_field_t f);

/*  Packs the fields as one map into out[0..cap). Returns the length, or 0 on overflow. */
size_t tm_fields_pack(const tm_fields_t *fs, uint8_t *out, size_t cap);

#endif
