/*  collab_action.c: the action table (see collab_action.h and PROTOCOL.md, "Actions"). */
#include "collab_action.h"
#include "collab_error.h"

#include <string.h>

#define MAX_KEYS 5

/*  One row per action: its name, whether the weak scope signs it, and the payload keys it
    takes (PROTOCOL.md section 6); any other key is refused. */
typedef struct {
    const char *name;
    bool state_changing;
    const char *keys[MAX_KEYS];
} action_row_t;

static const action_row_t actions[COLLAB_ACT_COUNT] = {
    [COLLAB_ACT_LOGIN] = {"login", false, {"password"}},
    [COLLAB_ACT_LOGOUT] = {"logout", false, {NULL}},
    [COLLAB_ACT_HEARTBEAT] = {"heartbeat", false, {NULL}},
    [COLLAB_ACT_GET_SESSION_INFO] = {"get_session_info", false, {NULL}},
    [COLLAB_ACT_CREATE_PROJECT] = {"create_project", true, {"name", "description"}},
    [COLLAB_ACT_LIST_PROJECTS] = {"list_projects", false, {"offset"}},
    [COLLAB_ACT_GET_PROJECT] = {"get_project", false, {"project_id", "task_offset"}},
    [COLLAB_ACT_CLOSE_PROJECT] = {"close_project", true, {"project_id"}},
    [COLLAB_ACT_DELETE_PROJECT] = {"delete_project", true, {"project_id"}},
    [COLLAB_ACT_ASSIGN_TASK] = {"assign_task",
                                true,
                                {"project_id", "type", "title", "description", "worker"}},
    [COLLAB_ACT_REASSIGN_TASK] = {"reassign_task", true, {"task_id", "worker"}},
    [COLLAB_ACT_UPDATE_TASK_STATUS] = {"update_task_status", true, {"task_id", "status", "result"}},
    [COLLAB_ACT_REGISTER_WORKER] = {"register_worker", true, {"capabilities"}},
    [COLLAB_ACT_LIST_WORKERS] = {"list_workers", false, {NULL}},
    [COLLAB_ACT_LIST_AGENTS] = {"list_agents", false, {NULL}},
    [COLLAB_ACT_SUBSCRIBE] = {"subscribe", false, {"since", "all"}},
    [COLLAB_ACT_CHANGE_PASSWORD] = {"change_password", true, {"old_password", "new_password"}},
    [COLLAB_ACT_SET_ROLE] = {"set_role", true, {"agent_id", "role"}},
    [COLLAB_ACT_LIST_SESSIONS] = {"list_sessions", false, {"agent_id", "offset"}},
    [COLLAB_ACT_REVOKE_SESSION] = {"revoke_session", true, {"handle", "agent_id"}},
    [COLLAB_ACT_GET_STATS] = {"get_stats", false, {NULL}},
    [COLLAB_ACT_GET_TASK] = {"get_task", false, {"task_id"}},
};

static bool key_known(const action_row_t *row, collab_span_t key)
{
    for (int i = 0; i < MAX_KEYS && row->keys[i]; i++)
        if (collab_span_eq(key, row->keys[i]))
            return true;
    return false;
}

int collab_action_check_keys(int action, const collab_map_t *args)
{
    if (action < 0 || action >= COLLAB_ACT_COUNT)
        return COLLAB_E_UNKNOWN_ACTION;
    for (uint32_t i = 0; i < args->count; i++)
        if (!key_known(&actions[action], args->e[i].key))
            return COLLAB_E_MALFORMED;
    return 0;
}

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
