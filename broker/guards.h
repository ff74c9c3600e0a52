/*  guards.h: every per-request check, in the order of PROTOCOL.md 4.6 (guards.c): the
    session (lookup, expiry, agent, peer binding), rate admission, the signature, the
    timestamp window, replay, and the role's authorization. Each consults a control through
    the context, never a profile; refusals are counted and audited here. */
#ifndef COLLAB_GUARDS_H
#define COLLAB_GUARDS_H

#include "ctx.h"
#include "req.h"

/*  What a refusal is counted as in get_stats. */
typedef enum {
    COLLAB_REFUSAL_OTHER,     /* counted elsewhere (replays, rate_limited) or not at all */
    COLLAB_REFUSAL_FORBIDDEN, /* refused_forbidden */
    COLLAB_REFUSAL_SIGNATURE, /* refused_signature */
    COLLAB_REFUSAL_SESSION,   /* refused_session */
} collab_refusal_class_t;

/*  The counter a refusal code goes to, by an explicit list of codes. */
collab_refusal_class_t collab_refusal_class(int rc);

/*  Everything between a decoded request (not a login) and its handler: sets req->session,
    req->agent and req->role, marks the session used. Returns 0, or the refusal (counted
    and, unless it was already, audited), with {retry_after_ms} in req->out when it is
    rate_limited. */
int collab_guard_request(collab_ctx_t *ctx, req_t *req);

/*  A login's rate admission, before the password costs any hashing. Returns 0 or
    rate_limited (with {retry_after_ms} in req->out). */
int collab_guard_login(collab_ctx_t *ctx, req_t *req);

/*  Charges traffic that never authenticated (malformed, no valid session) to its address's
    anonymous budget without refusing it. Returns true when that budget is spent: the
    refusal is then audited here, at most once a second, not by the caller. */
bool collab_guard_charge(collab_ctx_t *ctx, const req_t *req);

#endif
