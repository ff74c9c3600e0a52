/*  collab_action.c: the action table, generated from actions.def (see collab_action.h and
    PROTOCOL.md, "Actions"). */
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

#define KEYS_(...) __VA_ARGS__
static const action_row_t actions[COLLAB_ACT_COUNT] = {
#define ACTION(ID, name, weak_signs, keys, weak_roles, strong_roles)                               \
    [COLLAB_ACT_##ID] = {#name, weak_signs, {KEYS_ keys}},
#include "actions.def"
#undef ACTION
};
#undef KEYS_

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
