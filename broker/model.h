/*  model.h: the broker's collaboration state as plain records: agents, sessions, projects,
    tasks and events. The broker's tables own them; the store persists them; handlers
    borrow them for the length of one request. */
#ifndef COLLAB_MODEL_H
#define COLLAB_MODEL_H

#include "collab_limits.h"
#include "collab_sign.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    COLLAB_ROLE_ADMIN,
    COLLAB_ROLE_COORDINATOR,
    COLLAB_ROLE_WORKER,
    COLLAB_ROLE_OBSERVER,
    COLLAB_ROLE_COUNT
} collab_role_t;

/*  Returns the role's wire name, or NULL. */
const char *collab_role_name(collab_role_t role);
/*  Returns the role for a name, or -1. */
int collab_role_lookup(const char *name, size_t len);

typedef enum {
    COLLAB_TASK_ASSIGNED,
    COLLAB_TASK_IN_PROGRESS,
    COLLAB_TASK_COMPLETED,
    COLLAB_TASK_FAILED,
    COLLAB_TASK_CANCELLED,
    COLLAB_TASK_STATUS_COUNT
} collab_task_status_t;

const char *collab_task_status_name(collab_task_status_t st);
int collab_task_status_lookup(const char *name, size_t len);

#define COLLAB_PEER_MAX      64  /* "127.0.0.1" or an IPv6 text form */
#define COLLAB_CURVE_KEY_TXT 41  /* a Z85 CURVE public key, 40 characters */
#define COLLAB_RID_MAX       256 /* ZeroMQ routing id */
#define COLLAB_HASH_MAX      128 /* a crypt(3) or crypto_pwhash_str string */

/*  An agent: identity and key from the credentials file, role and password hash possibly
    changed since (persisted in the store). */
typedef struct {
    char id[COLLAB_MAX_AGENT_ID + 1];
    collab_role_t role;
    char pw_hash[COLLAB_HASH_MAX];
    uint8_t key[COLLAB_KEY_LEN];
    collab_sign_key_t sign_key; /* key, prepared for verifying (set by the tables) */
    /* worker registration */
    bool registered;
    uint8_t cap_count;
    char caps[COLLAB_MAX_CAPABILITIES][COLLAB_IDENT_MAX + 1];
    uint64_t last_seen; /* Unix ms of the last request from any session */
    uint64_t event_seq; /* latest event sequence number of this agent */
    /* login defences */
    uint32_t failures;
    uint64_t locked_until;
    /* broker-only bookkeeping, not persisted */
    void *sessions; /* head of this agent's sessions */
    uint32_t session_count;
    uint32_t follow_all; /* sessions subscribed to every project and task event */
    bool dirty;          /* last_seen changed since last written */
} collab_agent_t;

/*  A session. `token` is the bearer secret; `handle` is the public number admins see. */
typedef struct {
    char token[COLLAB_MAX_SESSION_ID + 1];
    uint64_t handle;
    char agent_id[COLLAB_MAX_AGENT_ID + 1];
    collab_role_t role; /* cached at login (weak permissions control) */
    uint64_t created;
    uint64_t last_activity;
    char peer[COLLAB_PEER_MAX];
    char curve_key[COLLAB_CURVE_KEY_TXT]; /* the client's public key at login (CURVE), or "" */
    uint8_t rid[COLLAB_RID_MAX];          /* where to push events: the last request's connection */
    uint16_t rid_len;
    bool subscribed;
    bool subscribed_all;
    /* broker-only bookkeeping, not persisted */
    uint64_t persisted_activity; /* last_activity as last written to the store */
    uint64_t verified_ms;        /* a cluster: when this broker last saw it in the shared state */
    bool stale; /* a cluster, weak revocation: ended on another broker, trusted from the
                   cache until verified_ms + revocation.cache_s (guards.c) */
    void *next_of_agent, *prev_of_agent; /* the agent's sessions, a doubly-linked list */
} collab_session_t;

typedef struct {
    uint64_t id;
    char *name;        /* heap, NUL-terminated */
    char *description; /* heap, NUL-terminated, may be "" */
    char owner[COLLAB_MAX_AGENT_ID + 1];
    bool closed;
    uint64_t created;
    uint32_t task_count;
} collab_project_t;

typedef struct {
    uint64_t id;
    uint64_t project_id;
    char type[COLLAB_IDENT_MAX + 1];
    char *title;
    char *description;
    char *result;
    collab_task_status_t status;
    char assigned_to[COLLAB_MAX_AGENT_ID + 1];
    char assigned_by[COLLAB_MAX_AGENT_ID + 1];
    uint64_t created;
    uint64_t updated;
} collab_task_t;

/*  One event as stored: the recipient's sequence number and the encoded data map. */
typedef struct {
    char agent_id[COLLAB_MAX_AGENT_ID + 1];
    uint64_t seq;
    char name[COLLAB_MAX_EVENT_NAME + 1];
    uint64_t timestamp;
    const uint8_t *data;
    size_t data_len;
} collab_event_t;

#endif
