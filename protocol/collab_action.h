/*  collab_action.h: the actions of the protocol and the events the broker pushes, with the
    one property the wire needs: which actions the weak signature scope signs. All of it comes
    from actions.def, one row per action; which role may call what is in the same rows, as
    data the broker enforces (broker/authz.c), since PROTOCOL.md documents it beside them. */
#ifndef COLLAB_ACTION_H
#define COLLAB_ACTION_H

#include "collab_map.h"

#include <stdbool.h>
#include <stddef.h>

/*  One constant per row of actions.def, in its order. */
typedef enum {
#define ACTION(ID, name, weak_signs, keys, weak_roles, strong_roles) COLLAB_ACT_##ID,
#include "actions.def"
#undef ACTION
    COLLAB_ACT_COUNT
} collab_action_t;

typedef enum {
    COLLAB_SCOPE_WEAK = 0, /* agent_id, timestamp, nonce, payload of state-changing actions */
    COLLAB_SCOPE_FULL = 1, /* every envelope field of every request but login */
} collab_scope_t;

/*  Returns the action for a name, or COLLAB_E_UNKNOWN_ACTION. */
int collab_action_lookup(const char *name, size_t len);

/*  Returns the wire name of an action ("create_project"), or NULL when out of range. */
const char *collab_action_name(int action);

/*  True for the state-changing actions that the weak scope signs (LAB.md's list). */
bool collab_action_state_changing(int action);

/*  True when a request for this action must carry a signature under the given scope.
    Login never does: it carries the password instead. */
bool collab_action_needs_signature(int action, collab_scope_t scope);

const char *collab_scope_name(collab_scope_t scope);

/*  Checks that every top-level key of a request's payload is one the action takes
    (PROTOCOL.md section 6). Returns 0, COLLAB_E_MALFORMED for any other key, or
    COLLAB_E_UNKNOWN_ACTION for an action out of range. Values are not checked here. */
int collab_action_check_keys(int action, const collab_map_t *args);

#endif
