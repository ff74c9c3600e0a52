/*  core.h: what the broker's loop and its action handlers share, private to broker/.
    One collab_broker_t (the self of the loop) owns the socket, the tables, the store, the
    hashing pool, the id generator and the security log. One req_t describes the request
    being handled and collects its reply. */
#ifndef COLLAB_CORE_H
#define COLLAB_CORE_H

#include "broker.h"
#include "collab.h"
#include "config.h"
#include "creds.h"
#include "hasher.h"
#include "ids.h"
#include "model.h"
#include "ratelimit.h"
#include "replay.h"
#include "seclog.h"
#include "statelock.h"
#include "store.h"
#include "tables.h"
#include "transport.h"

#include <stdbool.h>
#include <stdint.h>
#include <zmq.h>

#define COLLAB_EXPIRED_MEMORY 4096 /* expired sessions remembered (a power of two) */
#define COLLAB_EXPIRED_NONE   0xffffu

/*  Counters reported by get_stats and the periodic log line. */
typedef struct {
    uint64_t requests, replies_ok, replies_error;
    uint64_t refused_auth, refused_forbidden, refused_signature, refused_session;
    uint64_t malformed, dropped, logins_ok, logins_failed, events_sent;
    uint64_t peer_warnings, commits, disconnects;
    uint64_t rate_limited, replays, hash_jobs; /* controls 10 and 8; jobs given the hasher */
    uint64_t hash_verified; /* password verifications the hasher ran to the end */
} collab_counters_t;

/*  A reply or event waiting for its batch's commit before it may leave. */
typedef struct {
    zmq_msg_t rid;
    zmq_msg_t body;
    uint64_t batch; /* the store's batch number it waits for */
} outmsg_t;

struct collab_broker {
    collab_config_t cfg;
    void *router;  /* raw libzmq handle of the ROUTER (owned through zsock) */
    void *zsock;   /* zsock_t *, kept opaque here */
    void *monitor; /* PAIR receiving the ROUTER's socket events */
    int port;
    collab_transport_t *transport; /* CURVE and ZAP, or nothing (transport control) */
    collab_tables_t *tables;
    collab_store_t *store;
    collab_statelock_t *lock; /* STATE.lock, held while the broker lives */
    collab_hasher_t *hasher;
    collab_replay_t *replay;  /* control 8: seen nonces and signatures */
    collab_rate_gate_t *rate; /* control 10: the budgets (ratelimit.h) */
    collab_idgen_t *ids;
    collab_seclog_t *seclog;
    collab_vault_t *vault; /* control 5 strong: token hashing and sealing key, else NULL */
    /* what an unknown agent's login is verified against: the scheme, cost and salt of the
       credentials file's first entry, a digest nothing matches (strong login control) */
    char dummy_hash[COLLAB_HASH_MAX];
    collab_counters_t stats;
    /* the last COLLAB_EXPIRED_MEMORY sessions that ended by expiry, as short keyed hashes
       of their keys in a ring, so that a request on one still gets session_expired after
       the sweep removed it (PROTOCOL.md 5) */
    uint64_t expired[COLLAB_EXPIRED_MEMORY];
    uint32_t expired_next, expired_count;
    /* an index over the ring, so that a bogus session id costs one lookup, not a scan:
       chains of ring positions by tag (COLLAB_EXPIRED_NONE ends one) */
    uint16_t expired_head[COLLAB_EXPIRED_MEMORY], expired_link[COLLAB_EXPIRED_MEMORY];
    uint8_t expired_key[16];
    uint64_t started_ms;
    uint64_t next_project_id, next_task_id, next_handle;
    /* messages held until their batch commits, in batch order: [pending_head, npending) */
    outmsg_t *pending;
    size_t pending_head, npending, pending_cap;
    /* scratch buffers for encoding: data maps and whole frames */
    uint8_t data_buf[COLLAB_MAX_PAYLOAD];  /* the reply's data map */
    uint8_t event_buf[COLLAB_MAX_PAYLOAD]; /* an event's data map */
    uint8_t frame_buf[COLLAB_MAX_FRAME];   /* one encoded envelope, copied when sent */
    uint8_t list_buf[COLLAB_MAX_PAYLOAD];  /* the items of a paged list */
    uint64_t last_sweep_ms, last_flush_ms, last_stats_ms;
    /* loop.c's trim when quiet: the last second's start and its request count, and the
       counters at the last trim */
    uint64_t trim_tick_ms, trim_tick_requests, trim_requests, trim_disconnects;
    volatile sig_atomic_t stop;             /* collab_broker_stop */
    volatile sig_atomic_t *stop_flag;       /* a signal handler's, lent (or NULL) */
};

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

/*  Every handler has this shape: it validates, changes state (recording each change in
    the store), writes its data map into req->out, and returns 0 or a negative code; on
    error it must have changed nothing. */
/*  A handler's return value when it will reply later, from collab_login_complete. */
#define COLLAB_DEFERRED 1

typedef int (*collab_handler_fn)(collab_broker_t *self, req_t *req);

/*  One handler per row of protocol/actions.def (see handlers_*.c). */
#define ACTION(ID, name, weak_signs, keys, weak_roles, strong_roles)                             \
    int collab_h_##name(collab_broker_t *self, req_t *req);
#include "actions.def"
#undef ACTION

/*  authz.c: may this role call this action under the configured role enforcement?
    Object-level rules (task assignee, project owner) are checked by the handlers through
    collab_authz_strong(). */
bool collab_authz_allowed(const collab_broker_t *self, int action, collab_role_t role);
bool collab_authz_strong(const collab_broker_t *self);

/*  loop.c: replies and outgoing messages. */
uint64_t collab_now_ms(void);
/*  Sends (or holds until commit) a reply to the request with rc and the data in req->out. */
void collab_reply(collab_broker_t *self, const req_t *req, int rc);
/*  Sends (or holds) one frame to a routing id. */
void collab_send_to(collab_broker_t *self, const uint8_t *rid, size_t rid_len, const uint8_t *bytes,
                    size_t len);

/*  events.c: appends an event to an agent's stream (persisted with the batch) and pushes it
    to that agent's subscribed sessions once the batch commits. data is a packed map. */
int collab_event_to(collab_broker_t *self, collab_agent_t *agent, const char *name,
                    const uint8_t *data, size_t len);
/*  The same, and also straight to one connection (a session that is ending). */
int collab_event_to_also(collab_broker_t *self, collab_agent_t *agent, const char *name,
                         const uint8_t *data, size_t len, const uint8_t *rid, size_t rid_len);
/*  The same event to each listed agent (NULL entries and duplicates skipped) and, for
    project and task events, to every agent that follows all. */
int collab_event_fanout(collab_broker_t *self, collab_agent_t **to, size_t n, bool broadcast,
                        const char *name, const uint8_t *data, size_t len);
/*  Replays retained events with seq > since to one session. */
int collab_event_replay(collab_broker_t *self, collab_session_t *s, uint64_t since,
                        uint32_t *replayed, uint64_t *oldest);

/*  sessions.c: session life cycle. */
/*  The key a session is known by in the session table and the state file: the bearer token
    itself, or under the strong state_at_rest control its keyed hash (hex). Written into out
    (COLLAB_MAX_SESSION_ID + 1 bytes; "" for a token too long to be one); returns out. */
const char *collab_session_key(const collab_broker_t *self, const char *token, size_t len,
                               char *out);
/*  Ends a session for a reason ("logout", "revoked", "idle", "lifetime", "evicted"),
    recording it and telling the holder by event unless the reason is logout. */
int collab_session_end(collab_broker_t *self, collab_session_t **s_p, const char *reason,
                       const char *by);
/*  True when the session known by this key (collab_session_key) ended by its idle timeout
    or lifetime among the last COLLAB_EXPIRED_MEMORY that did, since the broker started. */
bool collab_session_was_expired(const collab_broker_t *self, const char *key);
/*  Expires idle sessions; called from the loop's timer. */
void collab_session_sweep(collab_broker_t *self, uint64_t now);
/*  Writes back last-activity times and worker last-seen times that changed. */
void collab_session_flush_activity(collab_broker_t *self);
/*  Completes a password job handed back by the hashing pool. */
void collab_login_complete(collab_broker_t *self, collab_hash_job_t *job);

/*  handlers_util.c: shared validation of payload fields. Each returns 0, or the refusal
    (field_missing, field_type, limit, utf8, bad_text) with req->why naming the field and,
    for a limit, the limit. An optional field that is absent returns 0 and leaves *out
    untouched (collab_arg_text: "" instead). */
/*  A text field of min_cp..max_cp code points, checked by the text-fields control. */
int collab_arg_text(const collab_broker_t *self, req_t *req, const char *key, size_t min_cp,
                    size_t max_cp, bool required, collab_span_t *out);
/*  An identifier: 1..COLLAB_IDENT_MAX bytes of [a-z_]. */
int collab_arg_ident(req_t *req, const char *key, collab_span_t *out);
/*  A required unsigned integer (an object's id). */
int collab_arg_id(req_t *req, const char *key, uint64_t *out);
/*  Any str (its value is checked by the caller), an unsigned integer, a boolean. */
int collab_arg_str(req_t *req, const char *key, bool required, collab_span_t *out);
int collab_arg_uint(req_t *req, const char *key, bool required, uint64_t *out);
int collab_arg_bool(req_t *req, const char *key, bool required, bool *out);
/*  A secret: a str of 1..max bytes (never echoed, nor its length). */
int collab_arg_secret(req_t *req, const char *key, size_t max, collab_span_t *out);
/*  Records what refusal rc is about (static strings only; unit NULL: no number) and returns
    rc; does nothing and returns 0 when rc is 0. */
int collab_why(req_t *req, int rc, const char *field, const char *rule, uint32_t n,
               const char *unit);
/*  Persists the id counters (projects, tasks, session handles) with the batch. */
int collab_save_ids(collab_broker_t *self);
/*  Packs a task as PROTOCOL.md's task object. */
void collab_pack_task(collab_pack_t *p, const collab_task_t *t);

/*  Paged lists: items are packed one by one into self->list_buf until the next one would
    not fit in the reply; then the array is written into req->out. */
typedef struct {
    collab_pack_t items;
    uint32_t count;
    size_t mark;
} collab_pager_t;
/*  reserve: bytes the rest of the reply's map may take besides the list. */
void collab_pager_init(collab_broker_t *self, collab_pager_t *pg, size_t reserve);
/*  Call before packing an item into pg->items; then collab_pager_end_item. */
void collab_pager_begin_item(collab_pager_t *pg);
/*  Returns false (and drops the item) when it did not fit: the list is full. */
bool collab_pager_end_item(collab_pager_t *pg);
/*  Writes "key": [items] into out. */
void collab_pager_emit(collab_pager_t *pg, collab_pack_t *out, const char *key);

/*  replay.c, under the strong replay control: admits a signed request whose signature
    verified (PROTOCOL.md 4.4), or refuses it with stale_timestamp (before the broker
    started), nonce_missing, replay (audited "replay") or busy (the cache is full). */
int collab_replay_check(collab_broker_t *self, req_t *req);

/*  ratelimit.c, under the strong rate-limit control: admits a request of class cls
    (COLLAB_RATE_SESSION with its agent's id, COLLAB_RATE_LOGIN with the claimed id or
    NULL) through collab_ratelimit_admit, or refuses it with rate_limited,
    {retry_after_ms} in req->out, audited at most once a second per bucket. Returns 0
    under the weak setting. */
int collab_rate_admit(collab_broker_t *self, req_t *req, collab_rate_class_t cls,
                      const char *agent_id);
/*  Charges traffic that never authenticated (malformed, no valid session) to its address's
    anonymous budget without refusing it: its own answer is unchanged. Returns true when
    that budget is spent: the refusal is then audited here, at most once a second, not by
    the caller. */
bool collab_rate_charge(collab_broker_t *self, const req_t *req);

/*  Logs a security event with the request's agent and peer. */
void collab_audit(collab_broker_t *self, const req_t *req, const char *event, const char *k1,
                  const char *v1);

#endif
