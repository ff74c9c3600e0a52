/*  model.c: names of roles and task statuses (see model.h). */
#include "model.h"

#include <string.h>

static const char *const role_names[COLLAB_ROLE_COUNT] = {"admin", "coordinator", "worker",
                                                          "observer"};
static const char *const status_names[COLLAB_TASK_STATUS_COUNT] = {
    "assigned", "in_progress", "completed", "failed", "cancelled"};

static int lookup(const char *const *names, int count, const char *name, size_t len)
{
    for (int i = 0; i < count; i++)
        if (strlen(names[i]) == len && memcmp(names[i], name, len) == 0)
            return i;
    return -1;
}

const char *collab_role_name(collab_role_t role)
{
    return (unsigned)role < COLLAB_ROLE_COUNT ? role_names[role] : NULL;
}

int collab_role_lookup(const char *name, size_t len)
{
    return lookup(role_names, COLLAB_ROLE_COUNT, name, len);
}

const char *collab_task_status_name(collab_task_status_t st)
{
    return (unsigned)st < COLLAB_TASK_STATUS_COUNT ? status_names[st] : NULL;
}

int collab_task_status_lookup(const char *name, size_t len)
{
    return lookup(status_names, COLLAB_TASK_STATUS_COUNT, name, len);
}
