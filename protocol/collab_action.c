/*  collab_action.c: the action table (see collab_action.h and PROTOCOL.md, "Actions"). */
#include "collab_action.h"
#include "collab_error.h"

#include <string.h>

typedef struct {
    const char *name;
    bool state_changing;
} action_row_t;

static const action_row_t actions[COLLAB_ACT_COUNT] = {
    [COLLAB_ACT_LOGIN] = {"login", false},
    [COLLAB_ACT_LOGOUT] = {"logout", false},
    [COLLAB_ACT_HEARTBEAT] = {"heartbeat", false},
    [COLLAB_ACT_GET_SESSION_INFO] = {"get_session_info", false},
    [COLLAB_ACT_CREATE_PROJECT] = {"create_project", true},
    [COLLAB_ACT_LIST_PROJECTS] = {"list_projects", false},
    [COLLAB_ACT_GET_PROJECT] = {"get_project", false},
    [COLLAB_ACT_CLOSE_PROJECT] = {"close_project", true},
    [COLLAB_ACT_DELETE_PROJECT] = {"delete_project", true},
    [COLLAB_ACT_ASSIGN_TASK] = {"assign_task", true},
    [COLLAB_ACT_REASSIGN_TASK] = {"reassign_task", true},
    [COLLAB_ACT_UPDATE_TASK_STATUS] = {"update_task_status", true},
    [COLLAB_ACT_REGISTER_WORKER] = {"register_worker", true},
    [COLLAB_ACT_LIST_WORKERS] = {"list_workers", false},
    [COLLAB_ACT_LIST_AGENTS] = {"list_agents", false},
    [COLLAB_ACT_SUBSCRIBE] = {"subscribe", false},
    [COLLAB_ACT_CHANGE_PASSWORD] = {"change_password", true},
    [COLLAB_ACT_SET_ROLE] = {"set_role", true},
    [COLLAB_ACT_LIST_SESSIONS] = {"list_sessions", false},
    [COLLAB_ACT_REVOKE_SESSION] = {"revoke_session", true},
    [COLLAB_ACT_GET_STATS] = {"get_stats", false},
    [COLLAB_ACT_GET_TASK] = {"get_task", false},
};

int collab_action_lookup(const char *name, size_t len)
{
    for (int i = 0; i < COLLAB_ACT_COUNT; i++)
        if (strlen(actions[i].name) == len && memcmp(actions[i].name, name, len) == 0)
            return i;
    return COLLAB_E_UNKNOWN_ACTION;
}

const char *collab_action_name(int action)
{
    return action >= 0 && action < COLLAB_ACT_COUNT ? actions[action].name : NULL;
}

bool collab_action_state_changing(int action)
{
    return action >= 0 && action < COLLAB_ACT_COUNT && actions[action].state_changing;
}

bool collab_action_needs_signature(int action, collab_scope_t scope)
{
    if (action == COLLAB_ACT_LOGIN)
        return false;
    return scope == COLLAB_SCOPE_FULL || collab_action_state_changing(action);
}

const char *collab_scope_name(collab_scope_t scope)
{
    return scope == COLLAB_SCOPE_FULL ? "full" : "weak";
}
