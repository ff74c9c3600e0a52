/*  store_redis_int.h: internal to the Redis backend (store_redis*.c). Three connections:
    the loop's (open, load, events_since, get_meta, reserve_ids, and commits before the
    writer starts), the writer thread's (one EVALSHA per batch, then the log up to it) and
    the tail thread's (XREAD of other brokers' entries while the writer is idle). What the
    two threads read from the log goes, in log order, into one bounded queue that the loop
    empties through take_applied; a refused change set is a verdict in that queue, after
    every entry that its restored records reflect. */
#ifndef COLLAB_STORE_REDIS_INT_H
#define COLLAB_STORE_REDIS_INT_H

#include "redis_conn.h"
#include "store_backend.h"
#include "store_redis.h"

#include <czmq.h>
#include <msgpack.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/*  The embedded scripts (generated at build time from store_redis_*.lua). */
extern const char collab_redis_commit_lua[];
extern const size_t collab_redis_commit_lua_len;
extern const char collab_redis_fetch_lua[];
extern const size_t collab_redis_fetch_lua_len;

/*  Bounds. */
#define RS_MAX_QUEUED   4      /* batches submitted and not committed, before submit waits */
#define RS_MERGE_MAX    512    /* change sets a queued batch takes in from later submits */
#define RS_APPLIED_MAX  65536  /* log entries waiting for take_applied: the tail stops here */
#define RS_APPLIED_HARD 262144 /* ...and the writer fails past this (the loop takes nothing) */
#define RS_RANGE_COUNT  512    /* log entries per XRANGE / XREAD */
#define RS_POISON_MAX   65536  /* keys of refused change sets still poisoning later batches */
#define RS_KEY_MAX      (2 + COLLAB_MAX_SESSION_ID + 1) /* "s:" token, NUL */
#define RS_SID_MAX      48                              /* a stream id "ms-seq" */
#define RS_WHY_MAX      384

/*  A stream id, parsed, and its text. */
typedef struct {
    uint64_t ms, seq;
    char text[RS_SID_MAX];
} rs_sid_t;

/*  One change set of a batch: its changes, MessagePack-encoded one after the other, and
    the record keys they touch (relative: "a:ID", "s:KEY", "p:N", "t:N"). The sessions it
    requires (control 16) are kept apart: they are read at a refusal, never poisoned. */
typedef struct {
    uint64_t cs;
    uint64_t batch; /* the number of the loop's batch it was submitted in */
    bool meta;      /* the node-local values: never refused */
    msgpack_sbuffer buf;
    uint32_t count;
    char (*keys)[RS_KEY_MAX];
    size_t nkeys, capkeys;
    char (*live)[RS_KEY_MAX];
    size_t nlive, caplive;
} rs_set_t;

/*  A batch as the writer commits it: one or more of the loop's batches, merged while they
    waited behind the batch in flight; number is the last of them. */
typedef struct {
    rs_set_t *sets;
    size_t n, cap;
    uint64_t number;
} rs_batch_t;

/*  A record as Redis held it when a refusal was decided (take_refused). */
typedef struct {
    char key[RS_KEY_MAX];
    char *blob; /* NULL: absent */
    size_t len;
    uint64_t rev;
    uint64_t seq; /* an agent: its event counter */
} rs_fetched_t;

/*  An item of the applied queue: a log entry (its d field), or a verdict. */
typedef struct {
    bool verdict;
    rs_sid_t id;
    char *data; /* entry: the cmsgpack array of applied changes */
    size_t len;
    uint64_t cs, batch; /* verdict */
    int why;            /* verdict: a collab_store_refusal_t */
    rs_fetched_t *recs;
    size_t nrecs;
    char (*keys)[RS_KEY_MAX]; /* verdict: the keys it touched, for the poison's end */
    size_t nkeys;
} rs_item_t;

/*  A key that poisons later batches: until the loop has restored it (until 0), and then
    for the batches submitted before that (number <= until). */
typedef struct {
    char key[RS_KEY_MAX];
    uint64_t until;
} rs_poison_t;

/*  The loop's knowledge of a record: its revision in Redis, the newest batch of this broker
    that changed it, its project (a task), its event counter (an agent). */
typedef struct {
    uint64_t rev, dirty, project, seq;
} rs_rev_t;

typedef struct rs {
    /* settings */
    char prefix[COLLAB_REDIS_PREFIX_MAX + 1];
    char node[COLLAB_REDIS_NODE_MAX + 1];
    char node_token[33];
    char commit_sha[41], fetch_sha[41];
    collab_redis_opts_t ropts;
    collab_redis_auth_t auth;
    uint32_t log_bound, idle_ms, slack_ms, node_ttl_ms, retain;
    bool check_access; /* store_access strong */
    const collab_vault_t *vault;
    /* the loop's */
    collab_redis_t *conn;
    rs_batch_t open;
    zhashx_t *revs;    /* relative key -> rs_rev_t */
    uint64_t reported; /* committed, as collab_store_committed last said */
    bool async;
    bool loop_down; /* the loop has seen the outage: writes are dropped, replies leave */
    bool discarded; /* a write was dropped meanwhile: recovery reloads */
    /* shared with the threads, under mu */
    pthread_mutex_t mu;
    pthread_cond_t wake, done, room;
    rs_batch_t queue[RS_MAX_QUEUED];
    size_t qhead, queued;
    bool busy, stop, failed, tail_stop;
    uint64_t gen; /* batches the writer has started: the tail's results are
                     dropped when one started meanwhile */
    uint64_t submitted, committed;
    rs_item_t *items; /* the applied queue, a ring */
    size_t ihead, nitems, capitems;
    rs_sid_t last; /* the newest log entry queued (or loaded) */
    rs_poison_t *poison;
    size_t npoison, cappoison;
    char why[RS_WHY_MAX];
    int efd;
    pthread_t writer, tail;
    bool writer_started, tail_started;
    collab_redis_t *wconn, *tconn;
    /* an outage (store_redis_outage.c), under mu */
    bool down;           /* Redis cannot be reached: nothing is submitted, reads refuse */
    bool ready;          /* the writer has reconnected: the loop may recover */
    bool reload;         /* recovery reloads the whole state: the tables may hold what
                            Redis does not (a batch lost or discarded, the log trimmed) */
    uint64_t epoch;      /* recoveries so far: the tail reconnects when it moves */
    uint32_t backoff_ms; /* the writer's wait before its next attempt to reconnect */
    uint64_t *lost;      /* the change sets of the batch whose outcome is unknown */
    size_t nlost, caplost;
    char down_why[RS_WHY_MAX];
    uint64_t attempts; /* failed attempts to reconnect in this outage, and the last's why */
    char attempt_why[RS_WHY_MAX];
} rs_t;

/*  store_redis_outage.c: an outage and the recovery from it (see store_redis.h). */
/*  Redis cannot be reached (any thread): from now on nothing is submitted, the loop's reads
    refuse with COLLAB_E_UNAVAILABLE, and the writer reconnects. reload: the tables may hold
    what Redis does not. The first reason is kept until the recovery. */
void rs_down(rs_t *self, bool reload, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
bool rs_is_down(rs_t *self);
bool rs_available(const void *be); /* the loop's view: false from when it saw the outage */
/*  The writer, while down (under mu, released meanwhile): drops the batches queued (never
    sent), then one attempt to reconnect its connection (durability check, scripts, the
    node's name), or the back-off wait after a failed one. */
void rs_writer_outage(rs_t *self);
/*  The node's name taken again and its lifetime renewed: the key still holds this broker's
    token, or expired (an outage, this process stopped) and is free. Another broker's token
    in it means the name was taken meanwhile: COLLAB_E_CONFLICT. */
int rs_retake_node(rs_t *self, collab_redis_t *c);
/*  The batch b failed on the writer's connection: its outcome is unknown (under mu). */
void rs_lost_batch(rs_t *self, const rs_batch_t *b);
/*  Whether a Redis call's code means the server cannot be reached now (timeout, I/O,
    a reply past a limit, LOADING/BUSY, OOM, an error reply of the scripts). */
bool rs_unreachable(int rc);
/*  A loop-side Redis call's failure: down when unreachable; returns the code to give. */
int rs_loop_failed(rs_t *self, int rc, const char *what);
int rs_outage(void *be, collab_store_outage_t *out);
int rs_recover(void *be, const collab_store_loader_t *cb, void *arg, bool *reloaded);

/*  store_redis_open.c */
void rs_fail(rs_t *self, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void rs_wake_fd(rs_t *self);
int rs_script_load(collab_redis_t *c, const char *src, size_t len, char sha[41]);
void rs_batch_free(rs_batch_t *b);
uint64_t rs_wall_ms(void); /* Unix ms: session expiries, the script's clean-up */
void rs_key(const rs_t *self, const char *rel, char *out, size_t cap); /* prefix + rel */

/*  store_redis_codec.c: pure. A change into a set's buffer; a record blob decoded. */
int rs_encode_change(rs_t *self, rs_set_t *set, const collab_change_t *c, uint64_t rev,
                     uint64_t now_ms);
/*  A condition checked at commit into a set's buffer: {"n", hex, ttl_ms} (a nonce claimed)
    or {"L", key} (a session required). */
int rs_encode_require(rs_set_t *set, const collab_require_t *r);
/*  The relative key of a record change ("" for an event or a meta value). */
void rs_change_key(const collab_change_t *c, char *out, size_t cap);

typedef struct {
    collab_agent_t a;
    collab_session_t s;
    collab_project_t p;
    collab_task_t t;
    char *scratch; /* the heap strings of p and t point into it */
} rs_rec_t;
/*  Decodes a blob of kind 'a', 's', 'p' or 't' into rec (rs_rec_free after). Returns 0,
    COLLAB_E_MALFORMED, COLLAB_E_AUTH_FAILED (a sealed hash that does not open) or NOMEM. */
int rs_decode_record(const rs_t *self, char kind, const char *blob, size_t len, rs_rec_t *rec);
void rs_rec_free(rs_rec_t *rec);
/*  Hands a decoded record to the loader callback of its kind. */
int rs_rec_give(const collab_store_loader_t *cb, char kind, const rs_rec_t *rec, void *arg);
/*  Parses "ms-seq" into id; false when it is not one. */
bool rs_sid_parse(const char *s, size_t len, rs_sid_t *id);
int rs_sid_cmp(const rs_sid_t *a, const rs_sid_t *b);

/*  store_redis_commit.c: the writer and tail threads, and one batch's commit (also direct). */
int rs_commit_batch(rs_t *self, collab_redis_t *c, rs_batch_t *b);
int rs_threads_start(rs_t *self);
void rs_threads_stop(rs_t *self);
/*  Reads the log after `from` up to `to` (NULL: its end) into the queue; the caller holds
    the right to append (busy, or the loop before the threads). */
int rs_read_log(rs_t *self, collab_redis_t *c, const rs_sid_t *to);

/*  store_redis_apply.c: the applied queue and the revision map (loop side). */
int rs_queue_push(rs_t *self, rs_item_t *it, size_t hard); /* under mu */
void rs_item_free(rs_item_t *it);
int rs_take_applied(void *be, const collab_store_applier_t *cb, void *arg);
int rs_take_refused(void *be, uint64_t *cs, const collab_store_loader_t *restore,
                    collab_store_absent_fn *absent, void *arg);
rs_rev_t *rs_rev(rs_t *self, const char *key, bool create);
void rs_rev_drop(rs_t *self, const char *key);
bool rs_poisoned(rs_t *self, const char *key, uint64_t batch); /* under mu */
int rs_poison_add(rs_t *self, const char *key);                /* under mu */

/*  store_redis_read.c */
/*  The records and their revisions into the map and the loader (rs_load without its
    commit of what is recorded); self->last becomes the log's end read before them. */
int rs_load_records(rs_t *self, const collab_store_loader_t *cb, void *arg);
int rs_load(void *be, const collab_store_loader_t *cb, void *arg);
int rs_events_since(void *be, const char *agent_id, uint64_t since, collab_store_event_fn *fn,
                    void *arg, uint64_t *oldest);
int rs_get_meta(void *be, const char *key, void *buf, size_t cap);
int rs_reserve_ids(void *be, collab_id_kind_t kind, uint32_t n, uint64_t *first);
int rs_find_session(void *be, const char *key, const collab_store_loader_t *cb, void *arg);
/*  The loop's connection, connected again if it broke. */
int rs_conn(rs_t *self);
/*  A Redis code (timeout, error reply, bad bytes) as COLLAB_E_IO; others as they are. */
int rs_io_code(int rc);
/*  store_redis_open.c: submits the open batch and waits for every batch (a start-up read). */
int rs_commit_all(rs_t *self);
/*  The log's last entry id now ("0-0": an empty log), on the loop's connection. */
int rs_log_end(rs_t *self, rs_sid_t *out);

#endif
