/*  store_types.h: the records and callbacks that the store's two sides share, the facade
    (store.h, what the broker calls) and a backend (store_backend.h, what a backend fills). */
#ifndef COLLAB_STORE_TYPES_H
#define COLLAB_STORE_TYPES_H

#include "model.h"

#include <stddef.h>
#include <stdint.h>

typedef struct collab_store collab_store_t;

/*  A record key, for a record the backend does not hold (collab_store_take_refused). */
typedef enum {
    COLLAB_STORE_KEY_AGENT,   /* id: the agent id */
    COLLAB_STORE_KEY_SESSION, /* id: the session token (as stored: hashed when sealed) */
    COLLAB_STORE_KEY_PROJECT, /* num: the project id */
    COLLAB_STORE_KEY_TASK     /* num: the task id */
} collab_store_key_kind_t;

typedef struct {
    collab_store_key_kind_t kind;
    const char *id;
    uint64_t num;
} collab_store_key_t;

/*  Loading and restoring. Each callback gets a record it may copy (strings inside it are
    only valid during the call) and returns 0 to go on or a negative code to stop; the call
    returns that code. */
typedef struct {
    int (*agent)(void *arg, const collab_agent_t *a);
    int (*session)(void *arg, const collab_session_t *s);
    int (*project)(void *arg, const collab_project_t *p);
    int (*task)(void *arg, const collab_task_t *t);
} collab_store_loader_t;

/*  Called for a key the backend holds no record of (collab_store_take_refused). */
typedef int(collab_store_absent_fn)(void *arg, const collab_store_key_t *key);

/*  Called with each event of collab_store_events_since (lent for the call). */
typedef int(collab_store_event_fn)(void *arg, const collab_event_t *ev);

/*  Why a shared store refused a change set at commit (collab_store_take_refused's answer):
    a record changed since it was read (conflict), a nonce that some broker had already
    claimed (control 15), or a session that the shared state no longer holds (control 16). */
typedef enum {
    COLLAB_STORE_REFUSED_CONFLICT = 1,
    COLLAB_STORE_REFUSED_REPLAY = 2,
    COLLAB_STORE_REFUSED_SESSION = 3
} collab_store_refusal_t;

/*  A condition a shared store checks at commit, with the change set it belongs to
    (collab_store_claim_nonce, collab_store_require_session): the set is refused whole
    when it does not hold. */
typedef enum { COLLAB_REQUIRE_NONCE, COLLAB_REQUIRE_SESSION } collab_require_kind_t;

typedef struct {
    collab_require_kind_t kind;
    uint64_t changeset;
    const char *key; /* NONCE: the nonce in hex; SESSION: the session's key (as stored) */
    uint64_t ttl_ms; /* NONCE: how long the claim lasts */
} collab_require_t;

/*  The numbers a cluster gives out (collab_store_reserve_ids). */
typedef enum { COLLAB_ID_PROJECT, COLLAB_ID_TASK, COLLAB_ID_HANDLE } collab_id_kind_t;

/*  What a store shared by several brokers committed, handed to the tables in the store's
    order (collab_store_take_applied): records as committed, records deleted, and events
    with their final numbers, for this broker to push to its own subscribers. */
typedef struct {
    collab_store_loader_t records; /* a record written (agent, session, project, task) */
    collab_store_absent_fn *gone;  /* a record deleted (a project: its tasks with it) */
    collab_store_event_fn *event;  /* an event, numbered by the shared store */
} collab_store_applier_t;

/*  An outage of a shared store (a cluster): Redis cannot be reached (killed, frozen past the
    command timeout, the connection cut) or the log was trimmed past this broker. While down,
    collab_store_committed says COLLAB_E_UNAVAILABLE (with the batches that did commit in
    *committed), a submit drops the open batch (COLLAB_E_UNAVAILABLE), reads that need Redis
    refuse with COLLAB_E_UNAVAILABLE at once, and the store reconnects by itself (bounded
    back-off). */
typedef struct {
    bool down;               /* refusing */
    bool settled;            /* every batch submitted before the outage is committed or lost */
    bool ready;              /* reconnected: collab_store_recover may bring the tables up */
    const uint64_t *lost;    /* the change sets of the batch whose outcome is unknown (lent) */
    size_t nlost;            /* (their replies stay unanswered: the clients read and reconcile) */
    uint32_t retry_after_ms; /* about when the next attempt to reconnect is made */
    const char *why;         /* the first failure, a sentence (lent; "" when up) */
    uint64_t attempts;       /* attempts to reconnect that failed in this outage */
    const char *attempt_why; /* why the last one failed (lent; "" when none) */
} collab_store_outage_t;

#endif
