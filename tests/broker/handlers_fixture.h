/*  handlers_fixture.h: a handler context without sockets for the handler tests: a fake
    clock, in-memory tables, a store and a security log in a temporary directory, and an
    outbox whose frames the test reads back. */
#ifndef HANDLERS_FIXTURE_H
#define HANDLERS_FIXTURE_H

#include "ctx.h"
#include "handlers.h"
#include "req.h"

typedef struct {
    collab_ctx_t *ctx;
    uint64_t now, mono; /* the fake clock: what ctx's clocks read */
    char dir[64];
    size_t sent; /* frames the outbox handed to the sink */
    uint8_t last[COLLAB_MAX_FRAME];
    size_t last_len;
    req_t req;           /* the last request handled */
    uint64_t request_id; /* the next request's request_id (0: 7) */
    bool hold; /* fx_call leaves the batch open and the outbox held (fx_settle ends both) */
    uint8_t payload[4096];
} fx_t;

/*  A context with the default (weak) configuration; then set ctx->cfg.strong[...] and limits
    before adding agents. Aborts the test program if it cannot be built. */
fx_t *fx_new(void);
void fx_destroy(fx_t **fx_p);

/*  Adds an agent of a role (no password); returns it. */
collab_agent_t *fx_agent(fx_t *fx, const char *id, collab_role_t role);
/*  Adds a session of the agent, token = handle's text, created and active now. */
collab_session_t *fx_session(fx_t *fx, const char *agent_id, uint64_t handle);

/*  Calls a handler as the agent (role: its own), with a payload given as a packed map
    (NULL: empty), in a change set of its own, replies, then (unless fx->hold) commits and
    releases the outbox. Returns the handler's rc. */
int fx_call(fx_t *fx, collab_handler_fn h, const char *agent_id, const void *payload, size_t len);
/*  Runs a whole request (guards, keys, handler, reply) on a session token; unsigned only. */
int fx_request(fx_t *fx, const char *action, const char *agent_id, const char *token);

/*  Commits the store's batch and lets the outbox release what it held, after the store's
    verdict (collab_verdict_release: a refused request's reply becomes conflict). */
void fx_settle(fx_t *fx);

/*  The last frame sent, decoded: its envelope, and its data map in *data. 0 or an error. */
int fx_last_reply(fx_t *fx, collab_envelope_t *env, collab_map_t *data);

/*  Packs a map of up to 3 (key, uint) pairs / one (key, str) pair into fx->payload. */
size_t fx_payload_uint(fx_t *fx, const char *k1, uint64_t v1, const char *k2, uint64_t v2);
size_t fx_payload_str(fx_t *fx, const char *k1, const char *v1, const char *k2, const char *v2);

/*  assign_task of a "build" task titled "a task" in project to worker, as agent `as`;
    update_task_status of task to status. Return the handler's code. */
int fx_assign(fx_t *fx, const char *as, uint64_t project, const char *worker);
int fx_set_status(fx_t *fx, const char *as, uint64_t task, const char *status);

#endif
