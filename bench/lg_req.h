/*  lg_req.h: the benchmark's requests, built and signed before any timing starts. An
    identity says who speaks and how it must sign (the controls its login reply announced);
    a pool holds many encoded frames in one arena, sent in turn, cyclically or once each. */
#ifndef LG_REQ_H
#define LG_REQ_H

#include "collab.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*  Who sends a request and how it is signed. */
typedef struct {
    char agent_id[COLLAB_MAX_AGENT_ID + 1];
    char session[COLLAB_MAX_SESSION_ID + 1]; /* "" before login */
    uint8_t key[COLLAB_KEY_LEN];
    collab_scope_t scope; /* weak: only state-changing actions are signed */
    bool nonce;           /* a fresh 16-byte nonce in each request (replay protection) */
} lg_ident_t;

/*  One encoded frame inside a pool's arena. */
typedef struct {
    size_t off;
    uint32_t len;
    uint64_t request_id;
} lg_frame_t;

typedef struct {
    uint8_t *arena;
    size_t used, cap;
    lg_frame_t *frames;
    size_t n, frames_cap;
    size_t next; /* the next frame to send */
    bool cycle;  /* after the last frame, start again (a re-sent signed frame is a replay) */
} lg_pool_t;

/*  Empties a pool (keeps its memory) or frees it. */
void lg_pool_clear(lg_pool_t *p);
void lg_pool_free(lg_pool_t *p);

/*  Encodes one request from id (signing it if its scope requires) with the packed payload
    map and appends it to the pool. Returns 0 or a negative collab_err_t. */
int lg_pool_add(lg_pool_t *p, const lg_ident_t *id, int action, const uint8_t *payload, size_t plen,
                uint64_t request_id);

/*  The next frame to send, or NULL when a non-cyclic pool is spent. Advances. */
const lg_frame_t *lg_pool_take(lg_pool_t *p);

static inline const uint8_t *lg_frame_bytes(const lg_pool_t *p, const lg_frame_t *f)
{
    return p->arena + f->off;
}

/*  Payload builders: each packs a map into out[0..cap) and returns its length (0 when it
    does not fit). */
size_t lg_payload_login(uint8_t *out, size_t cap, const char *password);
size_t lg_payload_get_project(uint8_t *out, size_t cap, uint64_t project_id);
size_t lg_payload_create_project(uint8_t *out, size_t cap, const char *name, const char *desc);
size_t lg_payload_assign_task(uint8_t *out, size_t cap, uint64_t project_id, const char *title,
                              const char *desc, const char *worker);
size_t lg_payload_update_status(uint8_t *out, size_t cap, uint64_t task_id, const char *status);
size_t lg_payload_reassign(uint8_t *out, size_t cap, uint64_t task_id, const char *worker);

/*  Reads a login reply into id: the session and the controls to sign by. Returns 0, the
    reply's error code (negative) or COLLAB_E_MALFORMED. */
int lg_login_reply(const uint8_t *bytes, size_t len, lg_ident_t *id);

/*  Reads a uint field of an ok reply's data (project_id, task_id). Returns 0 or an error. */
int lg_reply_uint(const uint8_t *bytes, size_t len, const char *key, uint64_t *out);

/*  Loads an agent's HMAC key from a credentials JSON file. Returns 0 or -1. */
int lg_load_key(const char *creds_path, const char *agent_id, uint8_t key[COLLAB_KEY_LEN]);

/*  The agent ids in a credentials file that start with prefix, in file order, up to max;
    ids[i] is a buffer of COLLAB_MAX_AGENT_ID + 1. Returns their number or -1. */
int lg_list_agents(const char *creds_path, const char *prefix, char (*ids)[COLLAB_MAX_AGENT_ID + 1],
                   int max);

/*  Unix time in milliseconds and a monotonic clock in nanoseconds. */
uint64_t lg_now_ms(void);

#endif
