/*  store.h: durable state in one SQLite file (WAL mode). The broker mutates its in-memory
    tables first, records each change here inside the batch's open transaction, and sends
    the replies of a batch only after collab_store_commit returns 0: many requests, one
    commit (group commit). Loading at start-up hands every row back through callbacks. */
#ifndef COLLAB_STORE_H
#define COLLAB_STORE_H

#include "model.h"
#include "vault.h"

#include <stddef.h>
#include <stdint.h>

typedef struct collab_store collab_store_t;

/*  Opens or creates the state file and its schema (journal_mode=WAL, synchronous=NORMAL
    is not used: FULL, so a commit survives kill -9 of the broker). With reset, every table
    is emptied first. On failure returns NULL and writes "PATH: what is wrong" into err;
    it never overwrites a file it could not read (a non-SQLite or foreign-schema file is an
    error, not a reset). */
collab_store_t *collab_store_open(const char *path, bool reset, char *err, size_t errlen);

/*  Closes the database (committing nothing). NULL-safe, nulls *self_p. */
void collab_store_destroy(collab_store_t **self_p);

/*  Opens the batch transaction if none is open. Idempotent. Returns 0 or COLLAB_E_IO. */
int collab_store_begin(collab_store_t *self);

/*  True while a batch transaction is open. */
bool collab_store_in_batch(const collab_store_t *self);

/*  Commits the open transaction (no-op when none). Returns 0 or COLLAB_E_IO. */
int collab_store_commit(collab_store_t *self);

/*  Abandons the open transaction (no-op when none): nothing of it reaches the file. */
void collab_store_rollback(collab_store_t *self);

/*  Writes: each opens the batch transaction if needed. Return 0 or COLLAB_E_IO. */
int collab_store_put_agent(collab_store_t *self, const collab_agent_t *agent);
int collab_store_put_session(collab_store_t *self, const collab_session_t *s);
int collab_store_delete_session(collab_store_t *self, const char *token);
int collab_store_put_project(collab_store_t *self, const collab_project_t *p);
/*  Deletes the project and all its tasks. */
int collab_store_delete_project(collab_store_t *self, uint64_t project_id);
int collab_store_put_task(collab_store_t *self, const collab_task_t *t);
/*  Appends an event and drops that agent's events older than the newest `retain`. */
int collab_store_put_event(collab_store_t *self, const collab_event_t *ev, uint32_t retain);
/*  Small named values (id counters, audit chain head): a blob per key. */
int collab_store_put_meta(collab_store_t *self, const char *key, const void *val, size_t len);

/*  Reads a meta value into buf. Returns its length, 0 if absent, or COLLAB_E_IO /
    COLLAB_E_TOO_LARGE. */
int collab_store_get_meta(collab_store_t *self, const char *key, void *buf, size_t cap);

/*  Strong state_at_rest: from now on password hashes are sealed under vault when written
    and opened when loaded (lent; it must outlive the store). Session tokens are given to
    the store already hashed (collab_session_key), so the store never sees one. */
void collab_store_set_vault(collab_store_t *self, const collab_vault_t *vault);

/*  Migrations (store_atrest.c), inside the batch transaction, so that they commit with
    the settings recorded beside them or not at all:
    every session token becomes its keyed hash and every password hash not yet sealed is
    sealed; *sessions and *secrets receive how many rows changed. */
int collab_store_seal_at_rest(collab_store_t *self, const collab_vault_t *vault, uint32_t *sessions,
                              uint32_t *secrets);
/*  Ends every stored session; *dropped receives their number. */
int collab_store_drop_sessions(collab_store_t *self, uint32_t *dropped);
/*  After a committed migration: rebuilds the file (VACUUM) and empties the WAL, so that no
    page, free block or WAL frame keeps the plaintext of before. Returns 0 or COLLAB_E_IO. */
int collab_store_scrub(collab_store_t *self);

/*  Loading. Each callback gets a record it may copy (strings inside it are only valid during
    the call) and returns 0 to go on or a negative code to stop; the load returns that code. */
typedef struct {
    int (*agent)(void *arg, const collab_agent_t *a);
    int (*session)(void *arg, const collab_session_t *s);
    int (*project)(void *arg, const collab_project_t *p);
    int (*task)(void *arg, const collab_task_t *t);
} collab_store_loader_t;
int collab_store_load(collab_store_t *self, const collab_store_loader_t *cb, void *arg);

/*  Calls fn for each retained event of agent_id with seq > since, oldest first. Returns 0,
    COLLAB_E_IO or the callback's code. *oldest receives the oldest retained seq (0: none). */
int collab_store_events_since(collab_store_t *self, const char *agent_id, uint64_t since,
                              int (*fn)(void *arg, const collab_event_t *ev), void *arg,
                              uint64_t *oldest);

#endif
