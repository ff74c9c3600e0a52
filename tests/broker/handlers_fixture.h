/*  handlers_fixture.h: a handler context without sockets for the handler tests: a fake
    clock, in-memory tables, a store (SQLite in a temporary directory, or one the test
    gives) and a security log, and an outbox whose frames the test reads back. */
#ifndef HANDLERS_FIXTURE_H
#define HANDLERS_FIXTURE_H

#include "ctx.h"
#include "handlers.h"
#include "req.h"

#define FX_MAX_FRAMES 64

/*  A frame the outbox handed to the sink, decoded. */
typedef struct {
    char rid[16]; /* the routing id it went to, as text */
    collab_kind_t kind;
    uint64_t request_id; /* a reply's */
    bool ok;
    uint32_t error_code;
    char name[32]; /* an event's, with its number */
    uint64_t seq;
} fx_frame_t;

typedef struct {
    collab_ctx_t *ctx;
    uint64_t now, mono; /* the fake clock: what ctx's clocks read */
    char dir[64];
    size_t sent; /* frames the outbox handed to the sink */
    uint8_t last[COLLAB_MAX_FRAME];
    size_t last_len;
    fx_frame_t frames[FX_MAX_FRAMES]; /* every frame sent, decoded (the test may reset n) */
    size_t n_frames, frames_lost;     /* lost: past FX_MAX_FRAMES, or not decodable */
    req_t req;                        /* the last request handled */
    uint64_t request_id;              /* the next request's request_id (0: 7) */
    bool hold; /* fx_call leaves the batch open and the outbox held (fx_settle ends both) */
    uint8_t payload[4096];
} fx_t;

/*  A context with the default (weak) configuration; then set ctx->cfg.strong[...] and limits
    before adding agents. Aborts the test program if it cannot be built. */
fx_t *fx_new(void);
void fx_destroy(fx_t **fx_p);

/*  Replaces the store with `store` (owned; abort if NULL), in writer mode as the loop runs
    it: batches commit when the store says so. */
void fx_use_store(fx_t *fx, collab_store_t *store);

/*  Adds an agent of a role (no password); returns it. */
collab_agent_t *fx_agent(fx_t *fx, const char *id, collab_role_t role);
/*  Adds a session of the agent, token = handle's text, created and active now. */
collab_session_t *fx_session(fx_t *fx, const char *agent_id, uint64_t handle);

/*  A listener: a session of the agent, subscribed, whose routing id is the agent's id;
    all: it follows every project and task event. On a shared store its record is
    committed and applied too, as a subscribe's (the store decides who follows all). */
collab_session_t *fx_listener(fx_t *fx, const char *agent_id, uint64_t handle, bool all);

/*  Calls a handler as the agent (role: its own), with a payload given as a packed map
    (NULL: empty), in a change set of its own, replies, then (unless fx->hold) commits and
    releases the outbox. Returns the handler's rc. */
int fx_call(fx_t *fx, collab_handler_fn h, const char *agent_id, const void *payload, size_t len);
/*  Runs a whole request (guards, keys, handler, reply) on a session token; unsigned only. */
int fx_request(fx_t *fx, const char *action, const char *agent_id, const char *token);

/*  What the loop does when the store's descriptor is readable (release_committed): asks
    which batch is committed, applies what a shared store committed (collab_apply_committed:
    records into the tables, events to the outbox), then the store's verdict and the
    release (collab_verdict_release: a refused request's reply becomes conflict). */
void fx_release(fx_t *fx);
/*  Commits the store's open batch (and every one submitted before), then fx_release. */
void fx_settle(fx_t *fx);

/*  The last frame sent, decoded: its envelope, and its data map in *data. 0 or an error. */
int fx_last_reply(fx_t *fx, collab_envelope_t *env, collab_map_t *data);

/*  The reply to request_id among fx->frames: 0 when it said ok, its error as a negative
    code, 1 when there is none. */
int fx_reply_rc(const fx_t *fx, uint64_t request_id);
/*  Its index among fx->frames, or -1. */
int fx_reply_at(const fx_t *fx, uint64_t request_id);
/*  How many events named `name` went to routing id rid (NULL: to anyone). */
int fx_events(const fx_t *fx, const char *name, const char *rid);

/*  Packs a map of up to 3 (key, uint) pairs / one (key, str) pair into fx->payload. */
size_t fx_payload_uint(fx_t *fx, const char *k1, uint64_t v1, const char *k2, uint64_t v2);
size_t fx_payload_str(fx_t *fx, const char *k1, const char *v1, const char *k2, const char *v2);

/*  assign_task of a "build" task titled "a task" in project to worker, as agent `as`;
    update_task_status of task to status. Return the handler's code. */
int fx_assign(fx_t *fx, const char *as, uint64_t project, const char *worker);
int fx_set_status(fx_t *fx, const char *as, uint64_t task, const char *status);
/*  reassign_task of task to worker, as agent `as`. Returns the handler's code. */
int fx_reassign(fx_t *fx, const char *as, uint64_t task, const char *worker);

#endif
