/*  store_backend.h: what a storage backend implements behind the store facade (store.h).
    The facade turns each write into a change (below) tagged with the request's change-set;
    a backend records it in its open batch, commits batches asynchronously, and says which
    batch is durable. SQLite (store_sqlite*.c) is one backend; another is new files only. */
#ifndef COLLAB_STORE_BACKEND_H
#define COLLAB_STORE_BACKEND_H

#include "store_types.h"
#include "vault.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    COLLAB_CHANGE_AGENT,       /* put u.agent */
    COLLAB_CHANGE_SESSION,     /* put u.session */
    COLLAB_CHANGE_SESSION_DEL, /* delete the session of token u.key */
    COLLAB_CHANGE_PROJECT,     /* put u.project */
    COLLAB_CHANGE_PROJECT_DEL, /* delete project u.id and all its tasks */
    COLLAB_CHANGE_TASK,        /* put u.task */
    COLLAB_CHANGE_EVENT,       /* append u.event.ev, keep the agent's newest u.event.retain */
    COLLAB_CHANGE_META,        /* put u.meta (a node-local value: never refused) */
    COLLAB_CHANGE_BROADCAST    /* a shared store only: u.broadcast to every follower of all */
} collab_change_kind_t;

/*  One change of the open batch. Everything in it is lent for the call: a backend that
    keeps it copies it. */
typedef struct {
    collab_change_kind_t kind;
    uint64_t changeset; /* the request it belongs to (collab_store_set_changeset); 0: none */
    union {
        const collab_agent_t *agent;
        const collab_session_t *session;
        const collab_project_t *project;
        const collab_task_t *task;
        const char *key; /* a session token */
        uint64_t id;     /* a project id */
        struct {
            const collab_event_t *ev;
            uint32_t retain;
        } event;
        struct {
            const char *key;
            const void *val;
            size_t len;
        } meta;
        struct { /* ev's agent_id is unused: the store finds the recipients at commit */
            const collab_event_t *ev;
            uint32_t retain;
            const char *const *except; /* agents given the event by a change of their own */
            size_t nexcept;
        } broadcast;
    } u;
} collab_change_t;

/*  The operations. `be` is the backend's own object. Each entry has the contract of the
    facade function of the same name in store.h; entries marked optional may be NULL. */
typedef struct {
    const char *name;
    void (*close)(void *be); /* frees be; what is submitted is committed first */
    int (*load)(void *be, const collab_store_loader_t *cb, void *arg);
    int (*record)(void *be, const collab_change_t *change); /* 0, COLLAB_E_IO or _NOMEM */
    int (*begin)(void *be);
    bool (*in_batch)(const void *be);
    int (*commit)(void *be); /* submit the open batch and wait for every batch */
    void (*rollback)(void *be);
    int (*start_async)(void *be); /* collab_store_start_writer */
    int (*submit)(void *be);
    bool (*idle)(void *be); /* collab_store_writer_idle */
    uint64_t (*pending)(const void *be);
    int (*committed)(void *be, uint64_t *committed);
    int (*fd)(const void *be);
    /* optional: NULL when the backend never refuses (collab_store_take_refused gives 0) */
    int (*take_refused)(void *be, uint64_t *cs, const collab_store_loader_t *restore,
                        collab_store_absent_fn *absent, void *arg);
    int (*events_since)(void *be, const char *agent_id, uint64_t since, collab_store_event_fn *fn,
                        void *arg, uint64_t *oldest);
    int (*get_meta)(void *be, const char *key, void *buf, size_t cap);
    void (*set_retention)(void *be, uint32_t retain);
    void (*set_vault)(void *be, const collab_vault_t *vault); /* optional */
    /* A store shared by several brokers (a cluster): the events recorded at handling are
       not pushed then; every broker pushes them from take_applied, numbered by the store. */
    bool shared;
    /* optional (NULL: nothing is ever applied from elsewhere, as for a store of one broker) */
    int (*take_applied)(void *be, const collab_store_applier_t *cb, void *arg);
    /* optional (NULL: the broker numbers alone, as for a store of one broker) */
    int (*reserve_ids)(void *be, collab_id_kind_t kind, uint32_t n, uint64_t *first);
    /* optional (NULL: a session the tables lack does not exist) */
    int (*find_session)(void *be, const char *key, const collab_store_loader_t *cb, void *arg);
    /* optional (NULL: never down, as for a store of one broker, whose failure is fatal) */
    bool (*available)(const void *be);
    int (*outage)(void *be, collab_store_outage_t *out);
    int (*recover)(void *be, const collab_store_loader_t *cb, void *arg, bool *reloaded);
    /* optional (NULL: nothing to check beyond the records, as for a store of one broker):
       a condition checked at commit with the open batch (collab_store_claim_nonce) */
    int (*require)(void *be, const collab_require_t *r);
} collab_store_backend_t;

/*  A store facade over backend ops (static, lent) and be (owned: ops->close frees it, also
    when this fails). Returns NULL when out of memory. */
collab_store_t *collab_store_new(const collab_store_backend_t *ops, void *be);

/*  The backend object of a store when its ops are `ops`, else NULL (for a backend's own
    modules, e.g. the SQLite migrations). */
void *collab_store_backend(collab_store_t *self, const collab_store_backend_t *ops);

#endif
