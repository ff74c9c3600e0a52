/*  store.h: the broker's durable state, a facade over a backend (store_backend.h; the one
    collab_store_open gives is SQLite, one file in WAL mode). The broker mutates its
    in-memory tables first, records each change here in the open batch, and sends the
    replies of a batch only once it is committed: many requests, one commit (group commit),
    made asynchronously while the loop handles the next batch. A backend may refuse a
    request's changes at commit (conflict, collab_store_take_refused). Loading at start-up
    hands every row back through callbacks. */
#ifndef COLLAB_STORE_H
#define COLLAB_STORE_H

#include "store_types.h"
#include "vault.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*  Opens or creates the state file and its schema (journal_mode=WAL, synchronous=NORMAL
    is not used: FULL, so a commit survives kill -9 of the broker). With reset, every table
    is emptied first. On failure returns NULL and writes "PATH: what is wrong" into err;
    it never overwrites a file it could not read (a non-SQLite or foreign-schema file is an
    error, not a reset). */
collab_store_t *collab_store_open(const char *path, bool reset, char *err, size_t errlen);

/*  Closes the database (committing nothing). NULL-safe, nulls *self_p. */
void collab_store_destroy(collab_store_t **self_p);

/*  Batches. A store starts in direct mode: each write runs at once inside the open
    transaction, and commit makes it durable before it returns. After
    collab_store_start_writer, writes are recorded and a writer thread commits them, batch
    after batch, while the caller goes on (several waiting batches share one commit):
    submit hands over the open batch, the store's descriptor becomes readable when batches
    are on disk, and committed says up to which. Batches are numbered from 1; a message
    that reflects the state as it is now may leave once batch collab_store_pending() is
    committed. In writer mode a failed commit is final: nothing more is written.
    collab_store_events_since never commits nor waits (it sees the open and the pending
    batches too); the start-up reads (load, get_meta) in writer mode first commit every
    write made so far and wait for it: the loop never calls them. */

/*  Opens the batch transaction if none is open. Idempotent. Returns 0 or COLLAB_E_IO. */
int collab_store_begin(collab_store_t *self);

/*  True while the open batch has writes. */
bool collab_store_in_batch(const collab_store_t *self);

/*  Commits the open batch and (writer mode) waits for every batch before it. No-op when
    nothing is open. Returns 0 or COLLAB_E_IO. */
int collab_store_commit(collab_store_t *self);

/*  Abandons the open batch (no-op when none): nothing of it reaches the file. */
void collab_store_rollback(collab_store_t *self);

/*  From now on writes go to a writer thread. Commits the open batch first. Returns 0,
    COLLAB_E_IO or COLLAB_E_NOMEM (still in direct mode). */
int collab_store_start_writer(collab_store_t *self);

/*  Hands the open batch to the writer (direct mode: commits it). Waits only when the
    writer is several batches behind. Returns 0 or COLLAB_E_IO. */
int collab_store_submit(collab_store_t *self);

/*  Writer mode: true when the writer has nothing to commit (a batch handed over now
    starts at once). False in direct mode. */
bool collab_store_writer_idle(collab_store_t *self);

/*  The batch that what is true now waits for: the open one when it has writes, else the
    newest submitted that is not known to be committed; 0 when everything is on disk. */
uint64_t collab_store_pending(const collab_store_t *self);

/*  The newest batch on disk, into *committed. Returns 0, or COLLAB_E_IO once the writer
    has failed. Clears the descriptor. */
int collab_store_committed(collab_store_t *self, uint64_t *committed);

/*  Readable when collab_store_committed has news; -1 in direct mode. */
int collab_store_fd(const collab_store_t *self);

/*  Writes: each opens the batch transaction if needed. Return 0 or COLLAB_E_IO. A session
    marked stale (ended on another broker, kept by the weak revocation control) is not
    written: that would bring it back for every broker. */
int collab_store_put_agent(collab_store_t *self, const collab_agent_t *agent);
int collab_store_put_session(collab_store_t *self, const collab_session_t *s);
int collab_store_delete_session(collab_store_t *self, const char *token);
int collab_store_put_project(collab_store_t *self, const collab_project_t *p);
/*  Deletes the project and all its tasks. */
int collab_store_delete_project(collab_store_t *self, uint64_t project_id);
int collab_store_put_task(collab_store_t *self, const collab_task_t *t);
/*  Appends an event to the log and drops that agent's events older than the newest
    `retain`. The log also keeps each agent's latest seq: loading sets event_seq from it. */
int collab_store_put_event(collab_store_t *self, const collab_event_t *ev, uint32_t retain);
/*  A cluster (a shared store): the event (ev->agent_id unused) for every agent that follows
    all at commit, that is, that has a session whose record the store holds subscribed with
    all, on any broker, except the nexcept agents listed (they have the event through a
    put_event of their own). The store decides the recipients where it decides the commit,
    so a follower that subscribed on another broker a moment ago is one; it numbers each
    agent's copy as put_event would and hands it over through take_applied. A store that is
    not shared refuses it (COLLAB_E_INTERNAL): its broker finds the followers in its own
    tables. Returns 0, COLLAB_E_IO or COLLAB_E_NOMEM. */
int collab_store_put_broadcast(collab_store_t *self, const collab_event_t *ev,
                               const char *const *except, size_t nexcept, uint32_t retain);
/*  Each agent keeps its newest `retain` events from now on; what a file holds beyond that
    (from a larger retention before) is dropped. */
void collab_store_set_retention(collab_store_t *self, uint32_t retain);

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

/*  Hands back every record: agents, sessions, projects, tasks, in that order; a NULL
    callback skips its table. */
int collab_store_load(collab_store_t *self, const collab_store_loader_t *cb, void *arg);

/*  A number that changes whenever the tables' projects or tasks may have changed: with
    every project or task change recorded here, and after every call that hands records to
    the tables (load, take_applied, take_refused, find_session, recover). Equal numbers
    mean that nothing of a project or its tasks changed in between; a reply packed from
    them may be sent again (readcache.h). Starts at 1. */
uint64_t collab_store_records_version(const collab_store_t *self);

/*  Calls fn for each retained event of agent_id with seq > since, oldest first, those of
    the open and pending batches included; commits nothing and waits for no commit. Returns
    0, COLLAB_E_IO or the callback's code. *oldest receives the oldest retained seq (0:
    none). */
int collab_store_events_since(collab_store_t *self, const char *agent_id, uint64_t since,
                              collab_store_event_fn *fn, void *arg, uint64_t *oldest);

/*  Conflicts. Every write carries the change-set set last (one per request; 0: none, the
    default). At commit a backend may refuse a change-set (in a cluster, a change valid
    here lost to another broker's): then none of its writes is durable, while every other
    change-set of the batch is. Meta values are node-local and never refused; the SQLite
    backend refuses nothing. */
void collab_store_set_changeset(collab_store_t *self, uint64_t cs);

/*  The current change-set (0: none). */
uint64_t collab_store_changeset(const collab_store_t *self);

/*  Takes the verdict on one refused change-set of the batches collab_store_committed has
    reported durable, oldest first. Returns 1 with its id in *cs after calling restore with
    the authoritative record of every key its writes touched (agent, session, project,
    task: the value the backend holds now, or absent(key) when it holds none), so
    that the caller puts its tables back and answers that request; returns 0 when no
    refusal is left; or a callback's negative code (the change-set is then still taken).
    The positive answer says why (collab_store_refusal_t): 1 (CONFLICT) a record changed
    since it was read; 2 (REPLAY) a nonce it claimed had been claimed before; 3 (SESSION)
    the session it required is gone (that key is then handed to absent too). A refused
    change-set's events are dropped: the restored agent carries the event_seq that stands. */
int collab_store_take_refused(collab_store_t *self, uint64_t *cs,
                              const collab_store_loader_t *restore, collab_store_absent_fn *absent,
                              void *arg);

/*  A cluster. Whether this store is shared by several brokers: then an event is pushed to
    its subscribers when collab_store_take_applied hands it over, not when it is recorded
    (the shared store gives it its number). False for SQLite. */
bool collab_store_is_shared(const collab_store_t *self);

/*  Hands over what the shared store committed that these tables do not hold yet, in the
    store's order: other brokers' changes, and this broker's own (which the tables hold
    already, except where a refusal or a later change of its own differs), and the events
    of both. Called before the replies of committed batches are released, so that a reply
    leaves after its own change is applied. Returns 0 (also for a store that is not
    shared: no call), COLLAB_E_IO, or a callback's code. */
int collab_store_take_applied(collab_store_t *self, const collab_store_applier_t *cb, void *arg);

/*  A cluster: reserves n numbers of a kind (project and task ids, session handles) that no
    other broker gives, [*first, *first + n). A store of one broker reserves nothing: 0 with
    *first = 0 (the broker numbers alone). Returns 0 or COLLAB_E_IO. */
int collab_store_reserve_ids(collab_store_t *self, collab_id_kind_t kind, uint32_t n,
                             uint64_t *first);

/*  A cluster: a session that these tables do not hold (yet) may have been opened on
    another broker a moment ago. Reads it from the shared store now and hands it to
    cb->session. Returns 1 when found, 0 when the store holds no such session (or is not
    shared), COLLAB_E_IO, or the callback's code. */
int collab_store_find_session(collab_store_t *self, const char *key,
                              const collab_store_loader_t *cb, void *arg);

/*  An outage of a shared store: collab_store_outage_t (store_types.h). */

/*  The loop's view of an outage: false from the collab_store_committed or
    collab_store_outage call that first reported it until collab_store_recover succeeds.
    Meanwhile writes are dropped (the recovery reloads the tables) and collab_store_pending
    is 0, so what the loop answers leaves at once: requests are to be refused, never done.
    Always true for a store that is not shared. Loop thread only. */
bool collab_store_available(const collab_store_t *self);

/*  The store's outage, if any, into *out (lent until the next call into the store). Returns
    0 when up (out->down false; a store that is not shared is always up) or
    COLLAB_E_UNAVAILABLE. */
int collab_store_outage(collab_store_t *self, collab_store_outage_t *out);

/*  While down, settled and ready: brings the tables up to date and ends the outage. The
    batches lost in it (the caller has answered or dropped their messages) count as done.
    When nothing was lost or dropped and the log still holds the last entry applied, the
    log from there is applied later through take_applied as usual; otherwise every record
    is handed to cb, as by collab_store_load, and *reloaded is set: the caller then removes
    what cb was not given. Returns 0 (up again), COLLAB_E_UNAVAILABLE (still down: it failed
    and the store reconnects again), or a callback's code. */
int collab_store_recover(collab_store_t *self, const collab_store_loader_t *cb, void *arg,
                         bool *reloaded);

/*  A cluster's checks at commit, in the current change-set, decided atomically with the
    batch's commit (one round trip per batch, on the writer's thread: the loop never waits
    on them; the request's reply waits for the commit, as a write's does). A store of one
    broker checks nothing: 0 at once.
    claim_nonce (control 15 strong): the nonce (nonce_len bytes, at most COLLAB_NONCE_LEN)
    is claimed for ttl_ms on every broker of the shared store; when any broker claimed it
    before, the change-set is refused with COLLAB_STORE_REFUSED_REPLAY.
    require_session (control 16 strong): the session of key (as stored) must still be in
    the shared state, else the change-set is refused with COLLAB_STORE_REFUSED_SESSION.
    Return 0, COLLAB_E_NOMEM, COLLAB_E_IO or (a nonce too long) COLLAB_E_INTERNAL. */
int collab_store_claim_nonce(collab_store_t *self, const uint8_t *nonce, size_t nonce_len,
                             uint64_t ttl_ms);
int collab_store_require_session(collab_store_t *self, const char *key);

#endif
