/*  websess.h: collab-web's web sessions (docs/WEB.md 5, control 18): what a browser holds,
    each with the bus client the gateway logged in for it. Under weak web_session the id a
    browser holds is the bus session id itself; under strong it is 256 random bits of the
    gateway's own (hex), never shown to anyone else. Each session also has its CSRF
    synchronizer token (control 19) and its token bucket. The table is the sessions' one
    owner; the loop's thread alone touches it. */
#ifndef WEBSESS_H
#define WEBSESS_H

#include "collab_client.h"
#include "webrate.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WEB_TOKEN_HEX 64 /* 256 bits in hex: a strong web session id, a CSRF token */

struct web_call; /* gateway.c's pending bus calls */
struct sse;      /* sse.c's streams */

typedef struct websess {
    struct websess *next;
    char id[COLLAB_MAX_SESSION_ID + 1]; /* what the browser presents */
    char csrf[WEB_TOKEN_HEX + 1];
    collab_client_t *client; /* owned */
    char agent_id[COLLAB_MAX_AGENT_ID + 1];
    char role[16];
    web_bucket_t bucket;
    int64_t last_used_ms;
    struct web_call *calls; /* pending, each to end once (gateway.c) */
    struct sse *streams;    /* open event streams (sse.c) */
    unsigned stream_count;
    bool subscribed;    /* a `subscribe` was sent on its bus client */
    uint64_t logout_id; /* at shutdown: its logout's request id until the reply */
    bool dead;          /* ended: the loop reaps it at the end of its turn */
} websess_t;

typedef struct websess_table {
    websess_t *head;
    size_t count;
} websess_table_t;

/*  A new session holding *client_p (taken: *client_p is then NULL), logged in as agent_id
    with role. strong: a random id; weak: the bus session id. Returns NULL (the client
    left with the caller) when the table is full or memory runs out. */
websess_t *websess_add(websess_table_t *t, collab_client_t **client_p, const char *agent_id,
                       const char *role, bool strong, int64_t now_ms);

/*  The live session whose id is id (compared in constant time), or NULL. */
websess_t *websess_find(websess_table_t *t, const char *id);

/*  The live session of agent_id opened last (a bearer token acts with it), or NULL. */
websess_t *websess_latest(websess_table_t *t, const char *agent_id);

/*  Whether token is s's CSRF token (constant time). */
bool websess_csrf_ok(const websess_t *s, const char *token);

/*  Unlinks s and destroys it with its bus client (the caller ended its calls and streams
    first). */
void websess_remove(websess_table_t *t, websess_t *s);

#endif
