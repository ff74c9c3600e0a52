/*  reconcile.c: reading whether a write whose reply never came was done (see
    reconcile.h). */
#include "reconcile.h"

#include <stdio.h>
#include <string.h>

int coord_write(coord_t *co, collab_reply_t *r, const char *action, collab_pack_t *p,
                coord_done_fn done, void *arg)
{
    for (int sends = 1;; sends++) {
        int rc = coord_call(co, r, action, p);
        if (rc != COLLAB_E_TIMEOUT || !done || *co->stopping)
            return rc;
        printf("no reply to %s: reading the state through %s\n", action,
               collab_client_endpoint(co->c));
        int got = done(co, arg);
        if (got == COORD_DONE)
            printf("%s had been done: not sent again\n", action);
        if (got != 0 || sends == COORD_SENDS)
            return got != 0 ? got : COLLAB_E_TIMEOUT;
        printf("%s had not been done: sending it again\n", action);
    }
}

int coord_read_each(coord_t *co, uint64_t project_id, coord_each_fn fn, void *arg)
{
    bool tasks = project_id != 0;
    uint64_t off = 0;
    for (bool more = true; more;) {
        uint8_t buf[64];
        collab_pack_t pk;
        collab_reply_t r;
        collab_pack_init(&pk, buf, sizeof buf);
        collab_pack_map(&pk, tasks ? 2 : 1);
        if (tasks)
            collab_pack_kv_uint(&pk, "project_id", project_id);
        collab_pack_kv_uint(&pk, tasks ? "task_offset" : "offset", off);
        int rc = coord_call(co, &r, tasks ? "get_project" : "list_projects", &pk), got = 0;
        if (rc)
            return rc;
        collab_mp_reader_t rd;
        uint32_t n = 0;
        if (collab_map_array(&r.map, tasks ? "tasks" : "projects", &rd, &n) == 0)
            for (collab_map_t m; got == 0 && n > 0 && collab_map_array_next(&rd, &m) == 0; n--)
                got = fn(co, &m, arg);
        more = got == 0 &&
               collab_map_uint(&r.map, tasks ? "next_task_offset" : "next_offset", &off) == 0;
        collab_reply_free(&r);
        if (got)
            return got;
    }
    return 0;
}

static bool str_is(const collab_map_t *m, const char *key, const char *want)
{
    collab_span_t s;
    return collab_map_str(m, key, &s) == 0 && collab_span_eq(s, want);
}

static bool project_held(const coord_t *co, uint64_t id)
{
    for (size_t i = 0; i < co->sc->nprojects; i++)
        if (co->sc->projects[i].project_id == id)
            return true;
    return false;
}

static int newest_match(coord_t *co, const collab_map_t *m, void *arg)
{
    coord_new_project_t *np = arg;
    uint64_t id = 0, tasks = 1;
    collab_map_uint(m, "project_id", &id);
    collab_map_uint(m, "task_count", &tasks);
    if (id > np->p->project_id && tasks == 0 && str_is(m, "owner", co->cli.agent_id) &&
        str_is(m, "name", np->name) && str_is(m, "status", "open") && !project_held(co, id))
        np->p->project_id = id; /* the newest: ids grow */
    return 0;
}

int coord_project_created(coord_t *co, void *arg)
{
    coord_new_project_t *np = arg;
    np->p->project_id = 0;
    int rc = coord_read_each(co, 0, newest_match, np);
    return rc < 0 ? rc : np->p->project_id != 0;
}

static bool task_held(const coord_t *co, uint64_t id)
{
    for (size_t i = 0; i < co->sc->ntasks; i++)
        if (co->sc->tasks[i].task_id == id)
            return true;
    return false;
}

static int task_match(coord_t *co, const collab_map_t *m, void *arg)
{
    scenario_task_t *t = arg;
    uint64_t id = 0;
    collab_span_t to, st;
    if (collab_map_uint(m, "task_id", &id) != 0 || !str_is(m, "type", t->type) ||
        !str_is(m, "title", t->title) || task_held(co, id) ||
        collab_map_str(m, "assigned_to", &to) != 0 || to.len > COLLAB_MAX_AGENT_ID ||
        collab_map_str(m, "status", &st) != 0 || st.len > COLLAB_IDENT_MAX)
        return 0;
    t->task_id = id;
    snprintf(t->worker, sizeof t->worker, "%.*s", (int)to.len, to.ptr);
    snprintf(t->status, sizeof t->status, "%.*s", (int)st.len, st.ptr);
    return COORD_DONE;
}

int coord_task_assigned(coord_t *co, void *arg)
{
    scenario_task_t *t = arg;
    return coord_read_each(co, co->sc->projects[t->project].project_id, task_match, t);
}

/*  One object read: get_project or get_task of id, its reply in *r (to free). */
static int read_one(coord_t *co, collab_reply_t *r, const char *action, const char *key,
                    uint64_t id)
{
    uint8_t buf[32];
    collab_pack_t pk;
    collab_pack_init(&pk, buf, sizeof buf);
    collab_pack_map(&pk, 1);
    collab_pack_kv_uint(&pk, key, id);
    return coord_call(co, r, action, &pk);
}

int coord_project_closed(coord_t *co, void *arg)
{
    scenario_project_t *p = arg;
    collab_reply_t r;
    int rc = read_one(co, &r, "get_project", "project_id", p->project_id);
    if (rc)
        return rc;
    rc = str_is(&r.map, "status", "closed");
    collab_reply_free(&r);
    return rc;
}

int coord_project_deleted(coord_t *co, void *arg)
{
    scenario_project_t *p = arg;
    collab_reply_t r;
    int rc = read_one(co, &r, "get_project", "project_id", p->project_id);
    if (rc == 0)
        collab_reply_free(&r);
    return rc == COLLAB_E_NOT_FOUND ? COORD_DONE : rc;
}

int coord_task_reassigned(coord_t *co, void *arg)
{
    coord_reassign_t *ra = arg;
    collab_reply_t r;
    int rc = read_one(co, &r, "get_task", "task_id", ra->t->task_id);
    if (rc)
        return rc;
    rc = str_is(&r.map, "assigned_to", ra->worker) &&
         (str_is(&r.map, "status", "assigned") || str_is(&r.map, "status", "in_progress"));
    collab_reply_free(&r);
    return rc;
}
