/*  req.h: the request being handled, as the guards and the handlers see it, and what a
    refusal is about. */
#ifndef COLLAB_REQ_H
#define COLLAB_REQ_H

#include "collab.h"
#include "model.h"

#include <stdint.h>

/*  What a refusal is about, for its error text (PROTOCOL.md 9): "FIELD RULE", or
    "FIELD RULE N UNIT" when unit is set. Every pointer is a static string (a key name, an
    action name, a fixed phrase), never bytes from the wire; field NULL: no detail. Set
    only on a failure path, read only by collab_reply when it answers an error. */
typedef struct {
    const char *field;
    const char *rule;
    const char *unit;
    uint32_t n;
} collab_why_t;

/*  The request being handled. */
typedef struct {
    collab_envelope_t env;
    int action;
    collab_map_t args;  /* the payload's fields */
    const uint8_t *rid; /* routing id of the connection */
    size_t rid_len;
    char peer[COLLAB_PEER_MAX];
    char curve_key[COLLAB_CURVE_KEY_TXT]; /* the connection's CURVE public key, or "" */
    collab_session_t *session;            /* NULL for login */
    collab_agent_t *agent;
    collab_role_t role; /* the role this request is judged by */
    uint64_t now;       /* Unix ms when handling started */
    collab_pack_t out;  /* the reply's data map, written by the handler */
    uint32_t retry_after_ms;
    collab_why_t why; /* what the refusal is about, when it is about a field */
} req_t;

/*  A handler's return value when it will reply later, from collab_login_complete. */
#define COLLAB_DEFERRED 1

#endif
