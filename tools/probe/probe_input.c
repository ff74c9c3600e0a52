/*  probe_input.c: the seed's validation improvements: task state transitions, size limits,
    input types and values, and error messages that name the field. Every project a probe
    makes is deleted before it ends, so it gives the same verdict on every run. */
#include "probe.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    probe_reply_t r;
    const char *what;
    char desc[700];
} step_t;

/*  Sends action with payload and keeps the reply's description, narrated. */
static int step(collab_client_t *c, step_t *s, const char *what, const char *action,
                const void *payload, size_t len)
{
    int rc = probe_call(c, &s->r, action, payload, len);
    s->what = what;
    probe_describe(&s->r, s->desc, sizeof s->desc);
    lab_say("%s: %s", what, s->desc);
    return rc;
}

/*  The reply was this refusal, and its message names every field given (NULL-ended). */
static bool refused_naming(const step_t *s, int code, const char *field, const char *also)
{
    return s->r.code == code && probe_names(s->r.text, field) &&
           (!also || probe_names(s->r.text, also));
}

static const char *named(const step_t *s, const char *field)
{
    return probe_names(s->r.text, field) ? "names it" : "does NOT name it";
}

static const char *u(char *buf, size_t cap, uint64_t v)
{
    snprintf(buf, cap, "u:%llu", (unsigned long long)v);
    return buf;
}

/*  An ERROR verdict when a step was stopped by something else than what the probe shows
    (see probe_blocked): true then. */
static bool blocked(verdict_t *v, const char *agent, const step_t *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i].what && probe_blocked_step(v, agent, s[i].what, s[i].r.code))
            return true;
    return false;
}

static void finish(collab_client_t **c, uint64_t project)
{
    probe_reply_t r;
    if (project)
        probe_delete_project(*c, project);
    probe_call(*c, &r, "logout", NULL, 0);
    probe_reply_free(&r);
    collab_client_destroy(c);
}

static void free_steps(step_t *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        probe_reply_free(&s[i].r);
}

/*  A task in a final state moved again: refused with conflict, whoever may move it. */
static int forbidden_move(collab_client_t *c, uint64_t task, step_t *s, const char **to)
{
    char id[32];
    uint8_t buf[128];
    *to = "assigned";
    size_t len =
        probe_pack(buf, sizeof buf, "task_id", u(id, sizeof id, task), "status", *to, NULL);
    int rc = step(c, s, "update_task_status cancelled -> assigned", "update_task_status", buf, len);
    if (rc != COLLAB_E_FORBIDDEN)
        return rc;
    /* strong role enforcement: only the assignee moves a task forward; a coordinator may
       still try to cancel it again, which the table refuses */
    probe_reply_free(&s->r);
    *to = "cancelled";
    len = probe_pack(buf, sizeof buf, "task_id", id, "status", *to, NULL);
    return step(c, s, "(assigned is the assignee's) cancelled -> cancelled", "update_task_status",
                buf, len);
}

int probe_state_validation(const probe_opts_t *o, verdict_t *v)
{
    char id[32], pid[32];
    uint8_t buf[512];
    step_t s[4] = {0};
    uint64_t project = 0, task = 0;
    const char *to = "";
    collab_client_t *c = probe_login(o, v);
    if (!c)
        return v->outcome;
    int rc = probe_create_project(c, NULL, &project);
    size_t len =
        probe_pack(buf, sizeof buf, "project_id", u(pid, sizeof pid, project), "type", "general",
                   "title", "collab-probe state-validation", "worker", o->worker, NULL);
    if (rc == 0)
        rc = step(c, &s[0], "assign_task to the worker", "assign_task", buf, len);
    if (rc == 0)
        collab_map_uint(&s[0].r.r.map, "task_id", &task);
    if (rc || !task) {
        if (!probe_blocked_step(v, o->cli.agent_id, "create_project or assign_task", rc))
            verdict(v, PROBE_ERROR, "could not make a project and a task for %s: %s", o->worker,
                    !rc         ? "no task_id"
                    : s[0].what ? s[0].desc
                                : collab_strerror(rc));
        free_steps(s, 4);
        finish(&c, project);
        return v->outcome;
    }
    len =
        probe_pack(buf, sizeof buf, "task_id", u(id, sizeof id, task), "status", "cancelled", NULL);
    step(c, &s[1], "update_task_status -> cancelled (allowed)", "update_task_status", buf, len);
    forbidden_move(c, task, &s[2], &to);
    len = probe_pack(buf, sizeof buf, "task_id", id, "status", "finished", NULL);
    step(c, &s[3], "update_task_status -> \"finished\" (no such status)", "update_task_status", buf,
         len);
    if (blocked(v, o->cli.agent_id, s + 1, 3)) {
        free_steps(s, 4);
        finish(&c, project);
        return v->outcome;
    }
    bool holds = (s[1].r.code == 0 || s[1].r.code == COLLAB_E_CONFLICT) &&
                 s[2].r.code == COLLAB_E_CONFLICT &&
                 refused_naming(&s[3], COLLAB_E_BAD_REQUEST, "status", NULL);
    verdict(v, holds ? PROBE_HOLDS : PROBE_FAILS,
            "task %llu to cancelled: %s; then to %s (the table forbids it): %s; unknown status "
            "\"finished\": %s, which %s (status)",
            (unsigned long long)task, s[1].desc, to, s[2].desc, s[3].desc, named(&s[3], "status"));
    free_steps(s, 4);
    finish(&c, project);
    return v->outcome;
}

int probe_size_limits(const probe_opts_t *o, verdict_t *v)
{
    char name[COLLAB_NAME_MAX_CP + 2], limit[16];
    uint8_t buf[512];
    step_t s = {0};
    uint64_t project = 0;
    collab_client_t *c = probe_login(o, v);
    if (!c)
        return v->outcome;
    snprintf(limit, sizeof limit, "%d", COLLAB_NAME_MAX_CP);
    memset(name, 'x', COLLAB_NAME_MAX_CP + 1);
    name[COLLAB_NAME_MAX_CP + 1] = '\0';
    size_t len = probe_pack(buf, sizeof buf, "name", name, NULL);
    step(c, &s, "create_project with a name of 201 code points", "create_project", buf, len);
    name[COLLAB_NAME_MAX_CP] = '\0';
    lab_say("create_project with a name of exactly %s code points", limit);
    int edge = probe_create_project(c, name, &project);
    if (blocked(v, o->cli.agent_id, &s, 1) ||
        probe_blocked_step(v, o->cli.agent_id, "create_project (200 code points)", edge)) {
        probe_reply_free(&s.r);
        finish(&c, project);
        return v->outcome;
    }
    bool holds = refused_naming(&s, COLLAB_E_LIMIT, "name", limit) && edge == 0;
    verdict(v, holds ? PROBE_HOLDS : PROBE_FAILS,
            "create_project name of %d code points: %s; the message names the field (name): "
            "%s, the limit (%s): %s; exactly %s: %s",
            COLLAB_NAME_MAX_CP + 1, s.desc, probe_names(s.r.text, "name") ? "yes" : "NO", limit,
            probe_names(s.r.text, limit) ? "yes" : "NO", limit,
            edge == 0 ? "accepted" : collab_strerror(edge));
    probe_reply_free(&s.r);
    finish(&c, project);
    return v->outcome;
}

int probe_input_validation(const probe_opts_t *o, verdict_t *v)
{
    char pid[32];
    uint8_t buf[512];
    step_t s[3] = {0};
    uint64_t project = 0;
    collab_client_t *c = probe_login(o, v);
    if (!c)
        return v->outcome;
    size_t len = probe_pack(buf, sizeof buf, "name", "u:42", NULL);
    step(c, &s[0], "create_project {name: 42} (a number)", "create_project", buf, len);
    len = probe_pack(buf, sizeof buf, "name", "", NULL);
    step(c, &s[1], "create_project {name: \"\"} (empty)", "create_project", buf, len);
    int rc = probe_create_project(c, NULL, &project);
    len = probe_pack(buf, sizeof buf, "project_id", u(pid, sizeof pid, project), "type", "general",
                     "title", "collab-probe input-validation", "worker", o->cli.agent_id, NULL);
    if (rc == 0)
        step(c, &s[2], "assign_task to an agent that is no worker", "assign_task", buf, len);
    else
        snprintf(s[2].desc, sizeof s[2].desc, "not tried (create_project: %s)",
                 collab_strerror(rc));
    if (blocked(v, o->cli.agent_id, s, 3) ||
        probe_blocked_step(v, o->cli.agent_id, "create_project", rc)) {
        free_steps(s, 3);
        finish(&c, project);
        return v->outcome;
    }
    bool holds = refused_naming(&s[0], COLLAB_E_FIELD_TYPE, "name", NULL) &&
                 refused_naming(&s[1], COLLAB_E_LIMIT, "name", NULL) &&
                 refused_naming(&s[2], COLLAB_E_BAD_REQUEST, "worker", NULL);
    verdict(v, holds ? PROBE_HOLDS : PROBE_FAILS,
            "name 42: %s, which %s (name); name \"\": %s, which %s; worker %s (no worker): %s, "
            "which %s (worker)",
            s[0].desc, named(&s[0], "name"), s[1].desc, named(&s[1], "name"), o->cli.agent_id,
            s[2].desc, named(&s[2], "worker"));
    free_steps(s, 3);
    finish(&c, project);
    return v->outcome;
}

int probe_error_messages(const probe_opts_t *o, verdict_t *v)
{
    step_t s[2] = {0};
    collab_client_t *c = probe_login(o, v);
    if (!c)
        return v->outcome;
    step(c, &s[0], "create_project {} (name missing)", "create_project", NULL, 0);
    step(c, &s[1], "get_project {} (project_id missing)", "get_project", NULL, 0);
    if (blocked(v, o->cli.agent_id, s, 2)) {
        free_steps(s, 2);
        finish(&c, 0);
        return v->outcome;
    }
    bool holds = refused_naming(&s[0], COLLAB_E_FIELD_MISSING, "name", NULL) &&
                 refused_naming(&s[1], COLLAB_E_FIELD_MISSING, "project_id", NULL);
    verdict(v, holds ? PROBE_HOLDS : PROBE_FAILS,
            "create_project without name: %s, which %s; get_project without project_id: %s, "
            "which %s",
            s[0].desc, named(&s[0], "name"), s[1].desc, named(&s[1], "project_id"));
    free_steps(s, 2);
    finish(&c, 0);
    return v->outcome;
}
