/*  authz.c: which role may call which action, under the weak and the strong role
    enforcement control (PROTOCOL.md section 6). The weak matrix is the seed's: only
    create_project and assign_task are gated among the collaboration actions; the admin
    actions are admin-only in every profile. */
#include "core.h"

#define A   (1u << COLLAB_ROLE_ADMIN)
#define C   (1u << COLLAB_ROLE_COORDINATOR)
#define W   (1u << COLLAB_ROLE_WORKER)
#define O   (1u << COLLAB_ROLE_OBSERVER)
#define ANY (A | C | W | O)

typedef struct {
    unsigned weak, strong;
} authz_row_t;

static const authz_row_t matrix[COLLAB_ACT_COUNT] = {
    [COLLAB_ACT_LOGIN] = {ANY, ANY},
    [COLLAB_ACT_LOGOUT] = {ANY, ANY},
    [COLLAB_ACT_HEARTBEAT] = {ANY, ANY},
    [COLLAB_ACT_GET_SESSION_INFO] = {ANY, ANY},
    [COLLAB_ACT_CREATE_PROJECT] = {A | C, A | C},
    [COLLAB_ACT_LIST_PROJECTS] = {ANY, ANY},
    [COLLAB_ACT_GET_PROJECT] = {ANY, ANY},
    [COLLAB_ACT_GET_TASK] = {ANY, ANY},
    [COLLAB_ACT_CLOSE_PROJECT] = {ANY, A | C},
    [COLLAB_ACT_DELETE_PROJECT] = {ANY, A | C},
    [COLLAB_ACT_ASSIGN_TASK] = {A | C, A | C},
    [COLLAB_ACT_REASSIGN_TASK] = {ANY, A | C},
    [COLLAB_ACT_UPDATE_TASK_STATUS] = {ANY, A | C | W},
    [COLLAB_ACT_REGISTER_WORKER] = {ANY, W},
    [COLLAB_ACT_LIST_WORKERS] = {ANY, ANY},
    [COLLAB_ACT_LIST_AGENTS] = {ANY, ANY},
    [COLLAB_ACT_SUBSCRIBE] = {ANY, ANY},
    [COLLAB_ACT_CHANGE_PASSWORD] = {ANY, ANY},
    [COLLAB_ACT_SET_ROLE] = {A, A},
    [COLLAB_ACT_LIST_SESSIONS] = {A, A},
    [COLLAB_ACT_REVOKE_SESSION] = {A, A},
    [COLLAB_ACT_GET_STATS] = {A, A},
};

bool collab_authz_strong(const collab_broker_t *self)
{
    return self->cfg.strong[COLLAB_CTL_ROLE_ENFORCEMENT];
}

bool collab_authz_allowed(const collab_broker_t *self, int action, collab_role_t role)
{
    if (action < 0 || action >= COLLAB_ACT_COUNT || (unsigned)role >= COLLAB_ROLE_COUNT)
        return false;
    unsigned mask = collab_authz_strong(self) ? matrix[action].strong : matrix[action].weak;
    return (mask >> role) & 1u;
}
