/*  att_authz.c: authorization attacks with one agent's credentials: stale-permissions
    (V-011) and weak-role (V-019/V-020). */
#include "attack.h"

#include <stdio.h>
#include <string.h>

int attack_stale_permissions(const attack_opts_t *o, verdict_t *v)
{
    collab_client_t *c = own_client(o, v);
    if (!c)
        return v->outcome;
    lab_say("logged in as %s (role %s); the admin now demotes it to observer", o->own.agent_id,
            collab_client_role(c));
    victim_t adm;
    const char *args[] = {"--target", o->own.agent_id, "--role", "observer", NULL};
    if (victim_start(&adm, o, "admin", "demote", args) != 0 ||
        victim_wait(&adm, o->timeout_ms * 3) != 0 || !strstr(adm.buf, "role_set")) {
        victim_stop(&adm);
        collab_client_destroy(&c);
        return verdict(v, ATTACK_ERROR, "the admin could not demote %s", o->own.agent_id);
    }
    victim_stop(&adm);
    collab_reply_t r;
    int rc = att_call(c, &r, "create_project", "name", "created after demotion", NULL);
    uint64_t id = 0;
    if (rc == 0) {
        collab_map_uint(&r.map, "project_id", &id);
        collab_reply_free(&r);
    }
    collab_client_destroy(&c);
    if (rc == 0)
        return verdict(v, ATTACK_SUCCEEDED,
                       "after the admin demoted %s to observer, its open "
                       "session still created project %llu",
                       o->own.agent_id, (unsigned long long)id);
    if (rc == COLLAB_E_FORBIDDEN)
        return blocked(v, "permissions", "the demoted session was refused: %s",
                       collab_strerror(rc));
    return verdict(v, ATTACK_ERROR, "create_project after the demotion failed: %s",
                   collab_strerror(rc));
}

int attack_weak_role(const attack_opts_t *o, verdict_t *v)
{
    victim_t co;
    char pid[32] = "", tid[32] = "";
    const char *args[] = {"--worker", "worker1", NULL};
    if (victim_start(&co, o, "coordinator1", "assign", args) != 0 ||
        !victim_expect(&co, "project_id=", pid, sizeof pid, o->timeout_ms * 3) ||
        !victim_expect(&co, "task_id=", tid, sizeof tid, o->timeout_ms * 3)) {
        victim_stop(&co);
        return verdict(v, ATTACK_ERROR, "the victim coordinator did not set up its project");
    }
    victim_wait(&co, o->timeout_ms);
    victim_stop(&co);
    collab_client_t *c = own_client(o, v);
    if (!c)
        return v->outcome;
    lab_say("logged in as %s (role %s); project %s and task %s belong to coordinator1",
            o->own.agent_id, collab_client_role(c), pid, tid);
    char arg[40];
    snprintf(arg, sizeof arg, "u:%s", tid);
    int rc1 = att_call(c, NULL, "update_task_status", "task_id", arg, "status", "cancelled", NULL);
    snprintf(arg, sizeof arg, "u:%s", pid);
    int rc2 = att_call(c, NULL, "delete_project", "project_id", arg, NULL);
    collab_client_destroy(&c);
    if (rc1 == 0 || rc2 == 0)
        return verdict(
            v, ATTACK_SUCCEEDED, "%s%s%s", rc1 == 0 ? "an observer cancelled task " : "",
            rc1 == 0 ? tid : "",
            rc2 == 0 ? (rc1 == 0 ? " and deleted the project" : "an observer deleted the project")
                     : "");
    if (rc1 == COLLAB_E_FORBIDDEN && rc2 == COLLAB_E_FORBIDDEN)
        return blocked(v, "role_enforcement",
                       "both refused: update_task_status (%s), delete_project (%s)",
                       collab_errname(rc1), collab_errname(rc2));
    return verdict(v, ATTACK_ERROR,
                   "refused, but not for the role: update_task_status (%s), delete_project (%s)",
                   collab_errname(rc1), collab_errname(rc2));
}
