/*  collab_action.h: the actions of the protocol and the events the broker pushes, with the
    one property the wire needs: which actions the weak signature scope signs. Which role may
    call what is broker policy (PROTOCOL.md documents it; broker/authz.c enforces it). */
#ifndef COLLAB_ACTION_H
#define COLLAB_ACTION_H

#include "collab_map.h"

#include <stdbool.h>
#include <stddef.h>

typedef enum {
    COLLAB_ACT_LOGIN,
    COLLAB_ACT_LOGOUT,
    COLLAB_ACT_HEARTBEAT,
    COLLAB_ACT_GET_SESSION_INFO,
    COLLAB_ACT_CREATE_PROJECT,
    COLLAB_ACT_LIST_PROJECTS,
    COLLAB_ACT_GET_PROJECT,
    COLLAB_ACT_CLOSE_PROJECT,
    COLLAB_ACT_DELETE_PROJECT,
    COLLAB_ACT_ASSIGN_TASK,
    COLLAB_ACT_REASSIGN_TASK,
    COLLAB_ACT_UPDATE_TASK_STATUS,
    COLLAB_ACT_REGISTER_WORKER,
    COLLAB_ACT_LIST_WORKERS,
    COLLAB_ACT_LIST_AGENTS,
    COLLAB_ACT_SUBSCRIBE,
    COLLAB_ACT_CHANGE_PASSWORD,
    COLLAB_ACT_SET_ROLE,
    COLLAB_ACT_LIST_SESSIONS,
    COLLAB_ACT_REVOKE_SESSION,
    COLLAB_ACT_GET_STATS,
    COLLAB_ACT_GET_TASK,
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
