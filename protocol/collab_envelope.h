/*  collab_envelope.h: the envelope of every message (request, reply, event) and its pure
    codec. Decoding validates every limit of PROTOCOL.md and yields views into the input
    bytes; it never allocates, never logs, never reads the clock. */
#ifndef COLLAB_ENVELOPE_H
#define COLLAB_ENVELOPE_H

#include "collab_map.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    COLLAB_KIND_REQUEST = 1,
    COLLAB_KIND_REPLY = 2,
    COLLAB_KIND_EVENT = 3,
} collab_kind_t;

/*  One decoded or to-be-encoded message. Spans borrow: after decode they point into the
    decoded bytes; before encode they point at the caller's data. A span of length 0 means
    "absent" for the optional fields nonce and signature. */
typedef struct {
    collab_kind_t kind;
    uint32_t version;
    uint64_t request_id;      /* request, reply */
    collab_span_t action;     /* request */
    collab_span_t agent_id;   /* request */
    collab_span_t session_id; /* request; empty for login */
    uint64_t timestamp;       /* request, event: Unix time in milliseconds */
    collab_span_t nonce;      /* request, optional: COLLAB_NONCE_LEN bytes */
    collab_span_t payload;    /* request: a MessagePack map, signed as these exact bytes */
    collab_span_t signature;  /* request, optional: COLLAB_SIGNATURE_LEN bytes */
    bool ok;                  /* reply: status "ok" (true) or "error" */
    uint32_t error_code;      /* reply: 0 or a positive code of collab_error.h */
    collab_span_t error;      /* reply: human-readable message, "" when ok */
    collab_span_t data;       /* reply, event: a MessagePack map */
    collab_span_t event;      /* event: its name */
    uint64_t seq;             /* event: per-agent sequence number */
} collab_envelope_t;

/*  Decodes one frame. Returns 0 and fills *env, or a negative collab_err_t. */
int collab_envelope_decode(const void *bytes, size_t len, collab_envelope_t *env);

/*  The same, also keeping the view of the payload (request) or data (reply, event) map in
 *body, parsed once while it is validated. */
int collab_envelope_decode_map(const void *bytes, size_t len, collab_envelope_t *env,
                               collab_map_t *body);

/*  What a decoding error is about, for an error reply's text (PROTOCOL.md 9): the field
    (its key) and a fixed rule, both static strings; field NULL when the error is about the
    message as a whole (its size, its shape, an unknown or repeated key). */
typedef struct {
    const char *field;
    const char *rule;
} collab_envelope_why_t;

/*  collab_envelope_decode_map, also filling *why (when not NULL). Pure like the others. */
int collab_envelope_decode_why(const void *bytes, size_t len, collab_envelope_t *env,
                               collab_map_t *body, collab_envelope_why_t *why);

/*  Encodes *env into out[0..cap) in the canonical field order of PROTOCOL.md.
    Returns 0 and the length, or COLLAB_E_TOO_LARGE / COLLAB_E_LIMIT. */
int collab_envelope_encode(const collab_envelope_t *env, void *out, size_t cap, size_t *len);

/*  The empty map, for a payload or data that carries nothing. */
extern const collab_span_t COLLAB_EMPTY_MAP;

#endif
