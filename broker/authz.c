/*  authz.c: which role may call which action, under the weak and the strong role
    enforcement control (PROTOCOL.md section 6), from the role columns of actions.def. The
    weak matrix is the seed's: only
    create_project and assign_task are gated among the collaboration actions; the admin
    actions are admin-only in every profile. */
#include "handlers.h"

#define A   (1u << COLLAB_ROLE_ADMIN)
#define C   (1u << COLLAB_ROLE_COORDINATOR)
#define W   (1u << COLLAB_ROLE_WORKER)
#define O   (1u << COLLAB_ROLE_OBSERVER)
#define ANY (A | C | W | O)

typedef struct {
    unsigned weak, strong;
} authz_row_t;

/*  The role columns of protocol/actions.def. */
static const authz_row_t matrix[COLLAB_ACT_COUNT] = {
#define ACTION(ID, name, weak_signs, keys, weak_roles, strong_roles)                               \
    [COLLAB_ACT_##ID] = {weak_roles, strong_roles},
#include "actions.def"
#undef ACTION
};

bool collab_authz_strong(const collab_ctx_t *ctx)
{
    return ctx->cfg.strong[COLLAB_CTL_ROLE_ENFORCEMENT];
}

bool collab_authz_allowed(const collab_ctx_t *ctx, int action, collab_role_t role)
{
    if (action < 0 || action >= COLLAB_ACT_COUNT || (unsigned)role >= COLLAB_ROLE_COUNT)
        return false;
    unsigned mask = collab_authz_strong(ctx) ? matrix[action].strong : matrix[action].weak;
    return (mask >> role) & 1u;
}
