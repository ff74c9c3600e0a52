/*  coldfill.c: the cold start scenario's state, written offline through the broker's own
    store module (store.h, the SQLite backend), never by SQL of its own: one coordinator's
    projects and tasks, one session per agent, and every agent's event stream filled to
    the retention, the way a broker that has run for a while leaves its state file. */
#include "collab_clock.h"
#include "collab_error.h"
#include "collab_pack.h"
#include "collab_text.h"
#include "creds.h"
#include "ids.h"
#include "store.h"

#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define FILL_COMMIT_EVERY 20000u /* rows per transaction */
#define FILL_TASK_DESC                                                                             \
    "Written by bench/coldfill for the cold start benchmark: a task of ordinary size, with a "     \
    "description of about the length agents give, as a broker keeps it."

typedef struct {
    const char *state, *creds;
    uint64_t tasks, events;
    uint32_t per_project;
} fill_opts_t;

typedef struct {
    collab_store_t *store;
    const collab_creds_t *creds;
    size_t coord;    /* the index of the projects' owner */
    size_t *workers; /* indexes of the agents tasks go to */
    size_t nworkers;
    uint64_t tasks, projects, retain, rows;
    uint32_t per_project;
    uint64_t now_ms;
} fill_t;

static uint64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/*  Counts a row and commits the transaction every FILL_COMMIT_EVERY rows. */
static int counted(fill_t *f, int rc)
{
    if (rc == 0 && ++f->rows % FILL_COMMIT_EVERY == 0)
        rc = collab_store_commit(f->store);
    return rc;
}

static const collab_agent_t *agent_at(const fill_t *f, size_t i)
{
    return collab_creds_at(f->creds, i);
}

static void task_title(uint64_t id, char *out, size_t cap)
{
    snprintf(out, cap, "coldstart task %llu", (unsigned long long)id);
}

/*  Task id (1-based) of worker w's k-th task, or 0 past the last one. */
static uint64_t task_of(const fill_t *f, size_t w, uint64_t k)
{
    uint64_t i = (uint64_t)w + k * f->nworkers;
    return i < f->tasks ? i + 1 : 0;
}

static int put_sessions(fill_t *f)
{
    collab_idgen_t *ids = collab_idgen_new(false, 0x5eed);
    int rc = ids ? 0 : COLLAB_E_NOMEM;
    for (size_t i = 0; rc == 0 && i < collab_creds_count(f->creds); i++) {
        collab_session_t s = {.handle = i + 1,
                              .role = agent_at(f, i)->role,
                              .created = f->now_ms,
                              .last_activity = f->now_ms,
                              .rid_len = 5,
                              .subscribed = true};
        collab_idgen_next(ids, s.token, sizeof s.token);
        snprintf(s.agent_id, sizeof s.agent_id, "%s", agent_at(f, i)->id);
        snprintf(s.peer, sizeof s.peer, "127.0.0.1");
        memcpy(s.rid, (const uint8_t[]){0, 0x6b, 0x8b, 0x45, (uint8_t)i}, 5);
        rc = counted(f, collab_store_put_session(f->store, &s));
    }
    collab_idgen_destroy(&ids);
    return rc;
}

/*  Agents as a login leaves them: last seen now, their stream's latest seq. */
static int put_agents(fill_t *f)
{
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < collab_creds_count(f->creds); i++) {
        collab_agent_t a = *agent_at(f, i);
        a.last_seen = f->now_ms;
        a.event_seq = f->retain;
        rc = counted(f, collab_store_put_agent(f->store, &a));
    }
    return rc;
}

static int put_projects_and_tasks(fill_t *f)
{
    char name[64], title[64];
    int rc = 0;
    const char *owner = agent_at(f, f->coord)->id;
    for (uint64_t p = 0; rc == 0 && p < f->projects; p++) {
        uint64_t left = f->tasks - p * f->per_project;
        snprintf(name, sizeof name, "coldstart project %llu", (unsigned long long)p + 1);
        collab_project_t pr = {.id = p + 1,
                               .name = name,
                               .description = "A project of the cold start benchmark.",
                               .created = f->now_ms,
                               .task_count =
                                   (uint32_t)(left < f->per_project ? left : f->per_project)};
        snprintf(pr.owner, sizeof pr.owner, "%s", owner);
        rc = counted(f, collab_store_put_project(f->store, &pr));
    }
    for (uint64_t i = 0; rc == 0 && i < f->tasks; i++) {
        task_title(i + 1, title, sizeof title);
        collab_task_t t = {.id = i + 1,
                           .project_id = i / f->per_project + 1,
                           .type = "build",
                           .title = title,
                           .description = FILL_TASK_DESC,
                           .result = "",
                           .status = COLLAB_TASK_ASSIGNED,
                           .created = f->now_ms,
                           .updated = f->now_ms};
        snprintf(t.assigned_to, sizeof t.assigned_to, "%s",
                 agent_at(f, f->workers[i % f->nworkers])->id);
        snprintf(t.assigned_by, sizeof t.assigned_by, "%s", owner);
        rc = counted(f, collab_store_put_task(f->store, &t));
    }
    return rc;
}

/*  Event seq of worker w: task_assigned for each of its tasks, then task_reassigned of its
    first task back and forth (what the broker's handlers pack for those events). */
static size_t worker_event(const fill_t *f, size_t w, uint64_t seq, uint8_t *buf, size_t cap,
                           const char **name)
{
    collab_pack_t e;
    char title[64];
    uint64_t id = task_of(f, w, seq - 1);
    bool assigned = id != 0;
    id = assigned ? id : task_of(f, w, 0);
    const char *me = agent_at(f, f->workers[w])->id, *by = agent_at(f, f->coord)->id;
    task_title(id, title, sizeof title);
    collab_pack_init(&e, buf, cap);
    collab_pack_map(&e, assigned ? 7 : 8);
    collab_pack_kv_uint(&e, "task_id", id);
    collab_pack_kv_uint(&e, "project_id", (id - 1) / f->per_project + 1);
    collab_pack_kv_str(&e, "type", "build");
    collab_pack_kv_str(&e, "title", title);
    collab_pack_kv_str(&e, "description", FILL_TASK_DESC);
    if (assigned) {
        collab_pack_kv_str(&e, "assigned_to", me);
        collab_pack_kv_str(&e, "assigned_by", by);
    } else {
        collab_pack_kv_str(&e, "from", agent_at(f, f->workers[(w + 1) % f->nworkers])->id);
        collab_pack_kv_str(&e, "to", me);
        collab_pack_kv_str(&e, "by", by);
    }
    *name = assigned ? "task_assigned" : "task_reassigned";
    size_t len = 0;
    return collab_pack_finish(&e, &len) == 0 ? len : 0;
}

/*  The coordinator's stream: project_created of its projects, in turn. */
static size_t coord_event(const fill_t *f, uint64_t seq, uint8_t *buf, size_t cap,
                          const char **name)
{
    collab_pack_t e;
    char pname[64];
    uint64_t p = (seq - 1) % (f->projects ? f->projects : 1) + 1;
    snprintf(pname, sizeof pname, "coldstart project %llu", (unsigned long long)p);
    collab_pack_init(&e, buf, cap);
    collab_pack_map(&e, 3);
    collab_pack_kv_uint(&e, "project_id", p);
    collab_pack_kv_str(&e, "name", pname);
    collab_pack_kv_str(&e, "owner", agent_at(f, f->coord)->id);
    *name = "project_created";
    size_t len = 0;
    return collab_pack_finish(&e, &len) == 0 ? len : 0;
}

/*  Rounds: in each, every agent gets its next event, so the log interleaves the agents as
    a broker's does and each agent's stream ends exactly full. */
static int put_events(fill_t *f)
{
    uint8_t buf[1024];
    int rc = 0;
    size_t n = collab_creds_count(f->creds);
    for (uint64_t seq = 1; rc == 0 && seq <= f->retain; seq++)
        for (size_t i = 0, w = 0; rc == 0 && i < n; i++) {
            collab_event_t ev = {.seq = seq, .timestamp = f->now_ms, .data = buf};
            const char *name = NULL;
            if (i == f->coord)
                ev.data_len = coord_event(f, seq, buf, sizeof buf, &name);
            else if (w < f->nworkers && f->workers[w] == i)
                ev.data_len = worker_event(f, w++, seq, buf, sizeof buf, &name);
            else
                continue; /* another role: no events here */
            if (ev.data_len == 0)
                return COLLAB_E_INTERNAL;
            snprintf(ev.agent_id, sizeof ev.agent_id, "%s", agent_at(f, i)->id);
            snprintf(ev.name, sizeof ev.name, "%s", name);
            rc = counted(f, collab_store_put_event(f->store, &ev, (uint32_t)f->retain));
        }
    return rc;
}

/*  The id counters the broker keeps in meta "ids" (handlers_util.c, collab_save_ids). */
static int put_ids(fill_t *f)
{
    uint64_t ids[3] = {f->projects + 1, f->tasks + 1, collab_creds_count(f->creds) + 1};
    return collab_store_put_meta(f->store, "ids", ids, sizeof ids);
}

static int pick_agents(fill_t *f)
{
    size_t n = collab_creds_count(f->creds);
    f->coord = n;
    for (size_t i = 0; i < n && f->coord == n; i++)
        if (agent_at(f, i)->role == COLLAB_ROLE_COORDINATOR)
            f->coord = i;
    if (f->coord == n || !(f->workers = calloc(n, sizeof *f->workers)))
        return -1;
    for (size_t i = 0; i < n; i++)
        if (agent_at(f, i)->role == COLLAB_ROLE_WORKER)
            f->workers[f->nworkers++] = i;
    return f->nworkers ? 0 : -1;
}

static int fill(const fill_opts_t *o, collab_creds_t *creds)
{
    char err[512];
    fill_t f = {
        .creds = creds, .tasks = o->tasks, .per_project = o->per_project, .now_ms = wall_ms()};
    if (pick_agents(&f) != 0) {
        fprintf(stderr, "coldfill: %s needs a coordinator and at least one worker\n", o->creds);
        free(f.workers);
        return 1;
    }
    size_t n = collab_creds_count(creds);
    f.retain = (o->events + n - 1) / n;
    f.projects = (f.tasks + f.per_project - 1) / f.per_project;
    int64_t t0 = collab_mono_ns();
    f.store = collab_store_open(o->state, true, err, sizeof err);
    if (!f.store) {
        fprintf(stderr, "coldfill: %s\n", err);
        free(f.workers);
        return 1;
    }
    collab_store_set_retention(f.store, (uint32_t)f.retain);
    int rc = put_agents(&f);
    if (rc == 0)
        rc = put_sessions(&f);
    if (rc == 0)
        rc = put_projects_and_tasks(&f);
    if (rc == 0)
        rc = put_events(&f);
    if (rc == 0)
        rc = put_ids(&f);
    if (rc == 0)
        rc = collab_store_commit(f.store);
    collab_store_destroy(&f.store);
    free(f.workers);
    if (rc) {
        fprintf(stderr, "coldfill: %s: %s\n", o->state, collab_strerror(rc));
        return 1;
    }
    printf("result scenario=coldfill phase=fill agents=%zu sessions=%zu projects=%llu tasks=%llu "
           "events=%llu retention=%llu seconds=%.1f\n",
           n, n, (unsigned long long)f.projects, (unsigned long long)f.tasks,
           (unsigned long long)(f.retain * (f.nworkers + 1)), (unsigned long long)f.retain,
           (double)(collab_mono_ns() - t0) / 1e9);
    return 0;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: coldfill --state PATH --creds FILE [--tasks N] [--events N]\n"
                 "                [--per-project N]\n"
                 "Writes a fresh state (PATH is reset) through the broker's store: one session\n"
                 "per agent of FILE, N tasks (default 100000) of the first coordinator in\n"
                 "projects of --per-project (default 1000) assigned to the workers in turn, and\n"
                 "each agent's event stream filled to ceil(events / agents) (default 1000000\n"
                 "events): start the broker with that events.retention.\n");
}

static int parse(int argc, char **argv, fill_opts_t *o)
{
    static const struct option longs[] = {
        {"state", 1, 0, 's'},  {"creds", 1, 0, 'c'},       {"tasks", 1, 0, 't'},
        {"events", 1, 0, 'e'}, {"per-project", 1, 0, 'p'}, {"help", 0, 0, 'h'},
        {0, 0, 0, 0}};
    int c;
    uint64_t per = 0;
    bool bad = false; /* a number that is not one, or out of its range */
    *o = (fill_opts_t){.tasks = 100000, .events = 1000000, .per_project = 1000};
    while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        switch (c) {
        case 's':
            o->state = optarg;
            break;
        case 'c':
            o->creds = optarg;
            break;
        case 't':
            bad |= collab_parse_u64(optarg, 1, 100000000, &o->tasks) != 0;
            break;
        case 'e':
            bad |= collab_parse_u64(optarg, 0, 1000000000, &o->events) != 0;
            break;
        case 'p':
            bad |= collab_parse_u64(optarg, 1, 1000000, &per) != 0;
            o->per_project = (uint32_t)per;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            return -1;
        }
    }
    return !bad && o->state && o->creds && o->per_project && optind == argc ? 0 : -1;
}

int main(int argc, char **argv)
{
    fill_opts_t o;
    char err[512];
    if (parse(argc, argv, &o) != 0) {
        usage(stderr);
        return 2;
    }
    collab_creds_t *creds = collab_creds_load(o.creds, err, sizeof err);
    if (!creds) {
        fprintf(stderr, "coldfill: %s\n", err);
        return 1;
    }
    int rc = fill(&o, creds);
    collab_creds_destroy(&creds);
    return rc;
}
