/*  coordinator.c: assignment, monitoring and reassignment (see coordinator.h). */
#include "coordinator.h"
#include "collab_clock.h"
#include "reconcile.h"
#include "collab_text.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_REASSIGN 5
#define REFRESH_MS   1000

static uint64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int coord_call(coord_t *co, collab_reply_t *r, const char *action, collab_pack_t *p)
{
    size_t len = 0;
    if (p && collab_pack_finish(p, &len) != 0)
        return COLLAB_E_TOO_LARGE;
    int rc = collab_client_request(co->c, action, p ? p->data : NULL, len, r);
    if (rc == 0 && !r->ok) {
        rc = r->code;
        collab_reply_free(r);
    }
    return rc;
}

static void read_worker(coord_worker_t *w, const collab_map_t *m)
{
    collab_span_t id;
    collab_mp_reader_t rd;
    uint32_t n = 0;
    memset(w, 0, sizeof *w);
    if (collab_map_str(m, "agent_id", &id) == 0 && id.len <= COLLAB_MAX_AGENT_ID)
        snprintf(w->id, sizeof w->id, "%.*s", (int)id.len, id.ptr);
    collab_map_uint(m, "last_seen", &w->last_seen);
    collab_map_bool(m, "online", &w->online);
    if (collab_map_array(m, "capabilities", &rd, &n) != 0)
        return;
    for (uint32_t i = 0; i < n && w->ncaps < COLLAB_MAX_CAPABILITIES; i++) {
        collab_mp_value_t v;
        if (collab_mp_read(&rd, &v) == 0 && v.type == COLLAB_MP_STR && v.len <= COLLAB_IDENT_MAX)
            snprintf(w->caps[w->ncaps++], COLLAB_IDENT_MAX + 1, "%.*s", (int)v.len, v.ptr);
    }
}

static int refresh_workers(coord_t *co)
{
    collab_reply_t r;
    int rc = coord_call(co, &r, "list_workers", NULL);
    if (rc)
        return rc;
    collab_mp_reader_t rd;
    uint32_t n = 0;
    co->nworkers = 0;
    if (collab_map_array(&r.map, "workers", &rd, &n) == 0) {
        collab_map_t m;
        for (uint32_t i = 0;
             i < n && co->nworkers < COORD_MAX_WORKERS && collab_map_array_next(&rd, &m) == 0; i++)
            read_worker(&co->workers[co->nworkers++], &m);
    }
    collab_reply_free(&r);
    return 0;
}

static bool alive(const coord_t *co, const coord_worker_t *w, uint64_t now)
{
    return w->online && w->last_seen + (uint64_t)co->silence_ms >= now;
}

static bool has_cap(const coord_worker_t *w, const char *type)
{
    for (int i = 0; i < w->ncaps; i++)
        if (strcmp(w->caps[i], type) == 0)
            return true;
    return false;
}

static bool in_flight(const scenario_task_t *t)
{
    return strcmp(t->status, "assigned") == 0 || strcmp(t->status, "in_progress") == 0;
}

static int load_of(const coord_t *co, const char *worker)
{
    int n = 0;
    for (size_t i = 0; i < co->sc->ntasks; i++)
        n += in_flight(&co->sc->tasks[i]) && strcmp(co->sc->tasks[i].worker, worker) == 0;
    return n;
}

/*  The live worker with the capability and the least load, not `avoid`; NULL if none. */
static const coord_worker_t *pick_worker(coord_t *co, const char *type, const char *avoid)
{
    const coord_worker_t *best = NULL;
    int best_load = 0;
    uint64_t now = wall_ms();
    for (size_t k = 0; k < co->nworkers; k++) {
        const coord_worker_t *w = &co->workers[(co->rr + k) % co->nworkers];
        if (!alive(co, w, now) || !has_cap(w, type) || (avoid && strcmp(w->id, avoid) == 0))
            continue;
        int load = load_of(co, w->id);
        if (!best || load < best_load)
            best = w, best_load = load;
    }
    co->rr++;
    return best;
}

/*  Waits until every task type of the scenario has a live worker. */
static int wait_for_workers(coord_t *co)
{
    long long deadline = collab_mono_ms() + co->workers_wait_ms;
    for (;;) {
        int rc = refresh_workers(co);
        if (rc)
            return rc;
        size_t missing = 0;
        for (size_t i = 0; i < co->sc->ntasks; i++) {
            const coord_worker_t *w = pick_worker(co, co->sc->tasks[i].type, NULL);
            missing += w == NULL;
        }
        if (missing == 0)
            return 0;
        if (*co->stopping)
            return COLLAB_E_TIMEOUT;
        if (collab_mono_ms() >= deadline) {
            fprintf(stderr, "collab-coordinator: no live worker for %zu task(s) after %ld ms\n",
                    missing, co->workers_wait_ms);
            return COLLAB_E_TIMEOUT;
        }
        collab_event_msg_t ev; /* waits a little, keeping any event for later */
        if (collab_client_next_event(co->c, &ev, 200) == 0)
            collab_event_free(&ev);
    }
}

/*  The project's name in this round: the scenario's from round 2 on carries the round
    ("Payments (round 2)"), unless that would pass the name limit (names need not be
    unique, so the plain name is then used). */
static void round_name(const coord_t *co, const char *base, char *out, size_t cap)
{
    snprintf(out, cap, "%s", base);
    if (co->round < 2)
        return;
    char tmp[COLLAB_MAX_STR_BYTES + 1];
    int n = snprintf(tmp, sizeof tmp, "%s (round %ld)", base, co->round);
    if (n > 0 && (size_t)n < sizeof tmp &&
        collab_text_check(tmp, (size_t)n, 1, COLLAB_NAME_MAX_CP, false) == 0)
        snprintf(out, cap, "%s", tmp);
}

static int create_projects(coord_t *co)
{
    for (size_t i = 0; i < co->sc->nprojects; i++) {
        scenario_project_t *p = &co->sc->projects[i];
        uint8_t buf[COLLAB_MAX_PAYLOAD];
        char name[COLLAB_MAX_STR_BYTES + 1];
        collab_pack_t pk;
        collab_reply_t r;
        round_name(co, p->name, name, sizeof name);
        collab_pack_init(&pk, buf, sizeof buf);
        collab_pack_map(&pk, 2);
        collab_pack_kv_str(&pk, "name", name);
        collab_pack_kv_str(&pk, "description", p->description);
        coord_new_project_t np = {p, name};
        int rc = coord_write(co, &r, "create_project", &pk, coord_project_created, &np);
        if (rc < 0) {
            fprintf(stderr, "collab-coordinator: create_project '%s' refused: %s\n", p->name,
                    collab_strerror(rc));
            return rc;
        }
        if (rc == 0) {
            collab_map_uint(&r.map, "project_id", &p->project_id);
            collab_reply_free(&r);
        }
        printf("created project %llu: %s\n", (unsigned long long)p->project_id, name);
    }
    return 0;
}

static int assign(coord_t *co, scenario_task_t *t)
{
    const coord_worker_t *w = pick_worker(co, t->type, NULL);
    if (!w)
        return COLLAB_E_NOT_FOUND;
    uint8_t buf[COLLAB_MAX_PAYLOAD];
    collab_pack_t pk;
    collab_reply_t r;
    collab_pack_init(&pk, buf, sizeof buf);
    collab_pack_map(&pk, 5);
    collab_pack_kv_uint(&pk, "project_id", co->sc->projects[t->project].project_id);
    collab_pack_kv_str(&pk, "type", t->type);
    collab_pack_kv_str(&pk, "title", t->title);
    collab_pack_kv_str(&pk, "description", t->description);
    collab_pack_kv_str(&pk, "worker", w->id);
    int rc = coord_write(co, &r, "assign_task", &pk, coord_task_assigned, t);
    if (rc < 0)
        return rc;
    if (rc == 0) {
        collab_map_uint(&r.map, "task_id", &t->task_id);
        collab_reply_free(&r);
        snprintf(t->worker, sizeof t->worker, "%s", w->id);
        snprintf(t->status, sizeof t->status, "assigned");
    }
    printf("assigned task %llu (%s) to %s\n", (unsigned long long)t->task_id, t->type, t->worker);
    return 0;
}

static int reassign(coord_t *co, scenario_task_t *t, const char *why)
{
    const coord_worker_t *w = pick_worker(co, t->type, t->worker);
    if (!w || t->reassignments >= MAX_REASSIGN)
        return COLLAB_E_NOT_FOUND;
    uint8_t buf[128];
    collab_pack_t pk;
    collab_reply_t r;
    collab_pack_init(&pk, buf, sizeof buf);
    collab_pack_map(&pk, 2);
    collab_pack_kv_uint(&pk, "task_id", t->task_id);
    collab_pack_kv_str(&pk, "worker", w->id);
    coord_reassign_t ra = {t, w->id};
    int rc = coord_write(co, &r, "reassign_task", &pk, coord_task_reassigned, &ra);
    if (rc < 0)
        return rc;
    if (rc == 0)
        collab_reply_free(&r);
    printf("reassigned task %llu from %s to %s (%s)\n", (unsigned long long)t->task_id, t->worker,
           w->id, why);
    snprintf(t->worker, sizeof t->worker, "%s", w->id);
    snprintf(t->status, sizeof t->status, "assigned");
    t->reassignments++;
    return 0;
}

static scenario_task_t *task_by_id(coord_t *co, uint64_t id)
{
    for (size_t i = 0; i < co->sc->ntasks; i++)
        if (co->sc->tasks[i].task_id == id)
            return &co->sc->tasks[i];
    return NULL;
}

/*  Applies a task's status (from an event or a poll). */
static void apply_status(coord_t *co, const collab_map_t *m)
{
    uint64_t id;
    collab_span_t st, res, to;
    if (collab_map_uint(m, "task_id", &id) != 0 || collab_map_str(m, "status", &st) != 0 ||
        st.len > COLLAB_IDENT_MAX)
        return;
    scenario_task_t *t = task_by_id(co, id);
    if (!t)
        return;
    if (strncmp(t->status, st.ptr, st.len) != 0 || t->status[st.len] != '\0') {
        snprintf(t->status, sizeof t->status, "%.*s", (int)st.len, st.ptr);
        printf("task %llu is %s\n", (unsigned long long)id, t->status);
    }
    if (collab_map_str(m, "result", &res) == 0 && res.len)
        scenario_set_result(t, res.ptr, res.len);
    if (collab_map_str(m, "assigned_to", &to) == 0 && to.len <= COLLAB_MAX_AGENT_ID)
        snprintf(t->worker, sizeof t->worker, "%.*s", (int)to.len, to.ptr);
}

static int apply_one(coord_t *co, const collab_map_t *m, void *arg)
{
    (void)arg;
    apply_status(co, m);
    return 0;
}

/*  Reads every task of a project, in case an event was lost (a broker restart). */
static void poll_project(coord_t *co, const scenario_project_t *p)
{
    coord_read_each(co, p->project_id, apply_one, NULL);
}

static bool project_done(const coord_t *co, size_t pi, bool *all_completed)
{
    bool done = true;
    *all_completed = true;
    for (size_t i = 0; i < co->sc->ntasks; i++) {
        const scenario_task_t *t = &co->sc->tasks[i];
        if (t->project != pi)
            continue;
        bool completed = strcmp(t->status, "completed") == 0;
        *all_completed &= completed;
        done &=
            completed || strcmp(t->status, "failed") == 0 || strcmp(t->status, "cancelled") == 0;
    }
    return done;
}

static void close_finished(coord_t *co)
{
    for (size_t i = 0; i < co->sc->nprojects; i++) {
        scenario_project_t *p = &co->sc->projects[i];
        bool ok;
        if (p->closed || !project_done(co, i, &ok) || !ok)
            continue;
        uint8_t buf[32];
        collab_pack_t pk;
        collab_reply_t r;
        collab_pack_init(&pk, buf, sizeof buf);
        collab_pack_map(&pk, 1);
        collab_pack_kv_uint(&pk, "project_id", p->project_id);
        int rc = coord_write(co, &r, "close_project", &pk, coord_project_closed, p);
        if (rc == 0)
            collab_reply_free(&r);
        if (rc >= 0 || rc == COLLAB_E_CONFLICT) {
            char name[COLLAB_MAX_STR_BYTES + 1];
            round_name(co, p->name, name, sizeof name);
            p->closed = 1;
            printf("closed project %llu: %s\n", (unsigned long long)p->project_id, name);
        }
    }
}

/*  Tasks of silent workers, and failed tasks, go to another worker. */
static void rescue(coord_t *co)
{
    uint64_t now = wall_ms();
    for (size_t i = 0; i < co->sc->ntasks; i++) {
        scenario_task_t *t = &co->sc->tasks[i];
        bool failed = strcmp(t->status, "failed") == 0;
        if (!failed && !in_flight(t))
            continue;
        const coord_worker_t *w = NULL;
        for (size_t k = 0; k < co->nworkers && !w; k++)
            if (strcmp(co->workers[k].id, t->worker) == 0)
                w = &co->workers[k];
        if (failed)
            reassign(co, t, "it failed");
        else if (!w || !alive(co, w, now))
            reassign(co, t, "its worker went silent");
    }
}

static bool all_terminal(const coord_t *co)
{
    for (size_t i = 0; i < co->sc->ntasks; i++) {
        const scenario_task_t *t = &co->sc->tasks[i];
        if (in_flight(t) || strcmp(t->status, "pending") == 0 ||
            (strcmp(t->status, "failed") == 0 && t->reassignments < MAX_REASSIGN))
            return false;
    }
    return true;
}

static void handle_event(coord_t *co, const collab_event_msg_t *ev)
{
    if (strcmp(ev->name, "task_status_changed") == 0)
        apply_status(co, &ev->map);
}

/*  One run of the scenario, from creating its projects to closing them. */
static int run_round(coord_t *co)
{
    int rc = wait_for_workers(co);
    if (rc == 0)
        rc = create_projects(co);
    for (size_t i = 0; rc == 0 && i < co->sc->ntasks; i++)
        rc = assign(co, &co->sc->tasks[i]);
    if (rc)
        return agent_cli_exit_code(rc);
    fflush(stdout);
    long long deadline = collab_mono_ms() + co->deadline_ms, next_refresh = 0;
    while (!*co->stopping && !all_terminal(co) && collab_mono_ms() < deadline) {
        collab_event_msg_t ev;
        if (collab_client_next_event(co->c, &ev, 200) == 0) {
            handle_event(co, &ev);
            collab_event_free(&ev);
        }
        if (collab_mono_ms() >= next_refresh) {
            next_refresh = collab_mono_ms() + REFRESH_MS;
            collab_client_heartbeat(co->c);
            refresh_workers(co);
            for (size_t i = 0; i < co->sc->nprojects; i++)
                poll_project(co, &co->sc->projects[i]);
            rescue(co);
        }
        close_finished(co);
        fflush(stdout);
    }
    close_finished(co);
    for (size_t i = 0; i < co->sc->ntasks; i++)
        if (strcmp(co->sc->tasks[i].status, "completed") != 0)
            return AGENT_EXIT_FAILED;
    return AGENT_EXIT_OK;
}

/*  The pause between rounds: the session stays open (heartbeats), events are drained.
    Returns false when the coordinator is told to stop meanwhile. */
static bool pause_between_rounds(coord_t *co)
{
    long long until = collab_mono_ms() + co->round_pause_ms, next_beat = 0;
    while (!*co->stopping && collab_mono_ms() < until) {
        if (collab_mono_ms() >= next_beat) {
            next_beat = collab_mono_ms() + REFRESH_MS;
            collab_client_heartbeat(co->c);
        }
        long long left = until - collab_mono_ms();
        collab_event_msg_t ev;
        if (left > 0 && collab_client_next_event(co->c, &ev, (int)(left < 200 ? left : 200)) == 0)
            collab_event_free(&ev);
    }
    return !*co->stopping;
}

/*  The last round's projects are deleted before the next round creates its own, so that
    rounds go on forever within the broker's per-agent project quota. */
static void delete_last_round(coord_t *co)
{
    for (size_t i = 0; i < co->sc->nprojects; i++) {
        scenario_project_t *p = &co->sc->projects[i];
        uint8_t buf[32];
        collab_pack_t pk;
        collab_reply_t r;
        if (!p->project_id)
            continue;
        collab_pack_init(&pk, buf, sizeof buf);
        collab_pack_map(&pk, 1);
        collab_pack_kv_uint(&pk, "project_id", p->project_id);
        int rc = coord_write(co, &r, "delete_project", &pk, coord_project_deleted, p);
        if (rc >= 0) {
            if (rc == 0)
                collab_reply_free(&r);
            printf("deleted project %llu of round %ld\n", (unsigned long long)p->project_id,
                   co->round - 1);
        } else if (rc != COLLAB_E_NOT_FOUND) {
            fprintf(stderr, "collab-coordinator: delete_project %llu refused: %s\n",
                    (unsigned long long)p->project_id, collab_strerror(rc));
        }
    }
}

int coord_run(coord_t *co)
{
    int rc = collab_client_subscribe(co->c, false);
    if (rc)
        return agent_cli_exit_code(rc);
    int code = AGENT_EXIT_OK;
    for (co->round = 1; co->rounds == 0 || co->round <= co->rounds; co->round++) {
        if (co->round > 1) {
            if (!pause_between_rounds(co))
                break;
            delete_last_round(co);
            scenario_reset(co->sc);
        }
        code = run_round(co);
        if (*co->stopping && co->round > 1) {
            code = AGENT_EXIT_OK; /* cut short by the stop: earlier rounds all completed */
            break;
        }
        coord_print_summary(co, stdout);
        if (code != AGENT_EXIT_OK || *co->stopping)
            break; /* a round that did not complete ends the run: its logs say why */
    }
    return code;
}

void coord_print_summary(const coord_t *co, FILE *out)
{
    size_t completed = 0;
    if (co->rounds == 1)
        fprintf(out, "\n=== scenario summary ===\n");
    else
        fprintf(out, "\n=== scenario summary (round %ld) ===\n", co->round);
    for (size_t pi = 0; pi < co->sc->nprojects; pi++) {
        const scenario_project_t *p = &co->sc->projects[pi];
        char name[COLLAB_MAX_STR_BYTES + 1];
        round_name(co, p->name, name, sizeof name);
        fprintf(out, "project %llu %s (%s)\n", (unsigned long long)p->project_id, name,
                p->closed ? "closed" : "open");
        for (size_t i = 0; i < co->sc->ntasks; i++) {
            const scenario_task_t *t = &co->sc->tasks[i];
            if (t->project != pi)
                continue;
            completed += strcmp(t->status, "completed") == 0;
            fprintf(out, "  task %-4llu %-14s %-10s %-12s %s\n", (unsigned long long)t->task_id,
                    t->type, t->worker, t->status, t->result ? t->result : "");
        }
    }
    fprintf(out, "%zu of %zu tasks completed\n", completed, co->sc->ntasks);
    fflush(out);
}
