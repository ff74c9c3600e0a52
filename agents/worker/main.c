/*  main.c: collab-worker. Registers its capabilities, receives assignments as events,
    moves each task to in_progress, does the (simulated) work while heartbeating, and
    reports completed with a result, or failed for a type it cannot do. */
#include "agent_cli.h"
#include "collab_clock.h"
#include "collab_text.h"
#include "results.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_QUEUE 1024
#define RESCAN_MS 3000 /* idle re-reading of the projects for our tasks */

typedef struct {
    agent_cli_t cli;
    collab_client_t *c;
    char caps[256];
    int work_ms, heartbeat_ms;
    long max_tasks;
    long done;
    uint64_t queue[MAX_QUEUE];
    size_t nqueue;
    long long last_heartbeat;
} worker_t;

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

static void enqueue(worker_t *w, uint64_t task_id)
{
    for (size_t i = 0; i < w->nqueue; i++)
        if (w->queue[i] == task_id)
            return;
    if (w->nqueue < MAX_QUEUE)
        w->queue[w->nqueue++] = task_id;
}

/*  An event naming this worker as the task's (new) assignee queues the task. */
static void on_event(worker_t *w, const collab_event_msg_t *ev)
{
    collab_span_t to;
    uint64_t task_id;
    const char *field = strcmp(ev->name, "task_assigned") == 0     ? "assigned_to"
                        : strcmp(ev->name, "task_reassigned") == 0 ? "to"
                                                                   : NULL;
    if (field && collab_map_str(&ev->map, field, &to) == 0 && collab_span_eq(to, w->cli.agent_id) &&
        collab_map_uint(&ev->map, "task_id", &task_id) == 0)
        enqueue(w, task_id);
}

/*  Waits up to ms for events (handling them), heartbeating on schedule. */
static void pump(worker_t *w, int ms)
{
    long long deadline = collab_mono_ms() + ms;
    for (long long left; !stopping && (left = deadline - collab_mono_ms()) > 0;) {
        long long until_hb = w->last_heartbeat + w->heartbeat_ms - collab_mono_ms();
        if (until_hb <= 0) {
            collab_client_heartbeat(w->c);
            w->last_heartbeat = collab_mono_ms();
            continue;
        }
        collab_event_msg_t ev;
        if (collab_client_next_event(w->c, &ev, (int)(left < until_hb ? left : until_hb)) == 0) {
            on_event(w, &ev);
            collab_event_free(&ev);
        }
    }
}

static int call(worker_t *w, collab_reply_t *r, const char *action, collab_pack_t *p)
{
    size_t len;
    if (collab_pack_finish(p, &len) != 0)
        return COLLAB_E_TOO_LARGE;
    int rc = collab_client_request(w->c, action, p->data, len, r);
    if (rc == 0 && !r->ok) {
        rc = r->code;
        collab_reply_free(r);
    }
    return rc;
}

/*  The task as the broker holds it, in *r (to free). Returns 0 or a negative code. */
static int get_task(worker_t *w, uint64_t task_id, collab_reply_t *r)
{
    uint8_t buf[64];
    collab_pack_t p;
    collab_pack_init(&p, buf, sizeof buf);
    collab_pack_map(&p, 1);
    collab_pack_kv_uint(&p, "task_id", task_id);
    return call(w, r, "get_task", &p);
}

#define MAX_SENDS 3 /* of one status update whose replies never came */

/*  After an update's reply never came (the client library then on its next broker, which
    does not send it again): whether the task has the status already (1: it was done), is
    still ours one step before it (0: send it again), or neither (COLLAB_E_CONFLICT: it
    went elsewhere), or a negative code when the read failed. */
static int status_reached(worker_t *w, uint64_t task_id, const char *status)
{
    collab_reply_t r;
    collab_span_t to, st;
    int rc = get_task(w, task_id, &r);
    if (rc)
        return rc;
    const char *before = strcmp(status, "in_progress") == 0 ? "assigned" : "in_progress";
    bool has = collab_map_str(&r.map, "status", &st) == 0;
    bool mine =
        collab_map_str(&r.map, "assigned_to", &to) == 0 && collab_span_eq(to, w->cli.agent_id);
    rc = has && collab_span_eq(st, status)           ? 1
         : has && mine && collab_span_eq(st, before) ? 0
                                                     : COLLAB_E_CONFLICT;
    collab_reply_free(&r);
    return rc;
}

static int set_status(worker_t *w, uint64_t task_id, const char *status, const char *result)
{
    uint8_t buf[4096];
    collab_pack_t p;
    collab_reply_t r;
    collab_pack_init(&p, buf, sizeof buf);
    collab_pack_map(&p, result ? 3 : 2);
    collab_pack_kv_uint(&p, "task_id", task_id);
    collab_pack_kv_str(&p, "status", status);
    if (result)
        collab_pack_kv_str(&p, "result", result);
    int rc = call(w, &r, "update_task_status", &p);
    if (rc == 0)
        collab_reply_free(&r);
    for (int sends = 1; rc == COLLAB_E_TIMEOUT && !stopping && sends < MAX_SENDS; sends++) {
        printf("%s: no reply to task %llu -> %s: reading the task through %s\n", w->cli.agent_id,
               (unsigned long long)task_id, status, collab_client_endpoint(w->c));
        int got = status_reached(w, task_id, status);
        if (got != 0) {
            rc = got == 1 ? 0 : got;
            break;
        }
        rc = call(w, &r, "update_task_status", &p); /* not done: send it again */
        if (rc == 0)
            collab_reply_free(&r);
    }
    if (rc)
        fprintf(stderr, "collab-worker %s: task %llu -> %s refused: %s\n", w->cli.agent_id,
                (unsigned long long)task_id, status, collab_strerror(rc));
    return rc;
}

/*  Reads the task and checks it is still ours and still waiting. */
static int fetch_task(worker_t *w, uint64_t task_id, char *type, size_t cap)
{
    collab_reply_t r;
    collab_span_t to, status, t;
    int rc = get_task(w, task_id, &r);
    if (rc)
        return rc;
    bool mine = collab_map_str(&r.map, "assigned_to", &to) == 0 &&
                collab_span_eq(to, w->cli.agent_id) &&
                collab_map_str(&r.map, "status", &status) == 0 &&
                (collab_span_eq(status, "assigned") || collab_span_eq(status, "in_progress")) &&
                collab_map_str(&r.map, "type", &t) == 0 && t.len < cap;
    if (mine)
        snprintf(type, cap, "%.*s", (int)t.len, t.ptr);
    bool started = mine && collab_span_eq(status, "in_progress");
    collab_reply_free(&r);
    return mine ? (started ? 1 : 0) : COLLAB_E_CONFLICT;
}

static void work_one(worker_t *w, uint64_t task_id)
{
    char type[64], result[512];
    int state = fetch_task(w, task_id, type, sizeof type);
    if (state == COLLAB_E_TIMEOUT) {
        enqueue(w, task_id); /* the broker is away (restarting): try again later */
        return;
    }
    if (state < 0)
        return; /* reassigned elsewhere, or already finished */
    if (state == 0 && set_status(w, task_id, "in_progress", NULL) != 0)
        return;
    printf("%s: working on task %llu (%s)\n", w->cli.agent_id, (unsigned long long)task_id, type);
    fflush(stdout);
    pump(w, w->work_ms);
    if (stopping)
        return;
    if (worker_result(type, task_id, result, sizeof result) != 0) {
        set_status(w, task_id, "failed", "this worker cannot do tasks of this type");
        return;
    }
    if (set_status(w, task_id, "completed", result) == 0) {
        w->done++;
        printf("%s: completed task %llu: %s\n", w->cli.agent_id, (unsigned long long)task_id,
               result);
        fflush(stdout);
    }
}

/*  Tasks assigned while this worker was away: found by reading the projects. */
static void pick_up_project(worker_t *w, uint64_t project_id)
{
    uint64_t off = 0;
    for (bool more = true; more;) {
        uint8_t buf[64];
        collab_pack_t p;
        collab_reply_t r;
        collab_pack_init(&p, buf, sizeof buf);
        collab_pack_map(&p, 2);
        collab_pack_kv_uint(&p, "project_id", project_id);
        collab_pack_kv_uint(&p, "task_offset", off);
        if (call(w, &r, "get_project", &p) != 0)
            return;
        collab_mp_reader_t rd;
        uint32_t n = 0;
        if (collab_map_array(&r.map, "tasks", &rd, &n) == 0) {
            collab_map_t t;
            for (uint32_t i = 0; i < n && collab_map_array_next(&rd, &t) == 0; i++) {
                collab_span_t to, st;
                uint64_t id;
                if (collab_map_str(&t, "assigned_to", &to) == 0 &&
                    collab_span_eq(to, w->cli.agent_id) && collab_map_str(&t, "status", &st) == 0 &&
                    (collab_span_eq(st, "assigned") || collab_span_eq(st, "in_progress")) &&
                    collab_map_uint(&t, "task_id", &id) == 0)
                    enqueue(w, id);
            }
        }
        more = collab_map_uint(&r.map, "next_task_offset", &off) == 0;
        collab_reply_free(&r);
    }
}

static void pick_up(worker_t *w)
{
    uint64_t off = 0;
    for (bool more = true; more;) {
        uint8_t buf[32];
        collab_pack_t p;
        collab_reply_t r;
        collab_pack_init(&p, buf, sizeof buf);
        collab_pack_map(&p, 1);
        collab_pack_kv_uint(&p, "offset", off);
        if (call(w, &r, "list_projects", &p) != 0)
            return;
        collab_mp_reader_t rd;
        uint32_t n = 0;
        uint64_t ids[COLLAB_MAX_LIST_ENTRIES];
        size_t nids = 0;
        if (collab_map_array(&r.map, "projects", &rd, &n) == 0) {
            collab_map_t pm;
            for (uint32_t i = 0;
                 i < n && nids < COLLAB_MAX_LIST_ENTRIES && collab_map_array_next(&rd, &pm) == 0;
                 i++) {
                if (collab_map_uint(&pm, "project_id", &ids[nids]) == 0)
                    nids++;
            }
        }
        more = collab_map_uint(&r.map, "next_offset", &off) == 0;
        collab_reply_free(&r);
        for (size_t i = 0; i < nids; i++)
            pick_up_project(w, ids[i]);
    }
}

static int register_caps(worker_t *w)
{
    uint8_t buf[1024];
    collab_pack_t p;
    collab_reply_t r;
    char caps[256], *save = NULL;
    const char *list[COLLAB_MAX_CAPABILITIES];
    uint32_t n = 0;
    snprintf(caps, sizeof caps, "%s", w->caps);
    for (char *t = strtok_r(caps, ",", &save); t && n < COLLAB_MAX_CAPABILITIES;
         t = strtok_r(NULL, ",", &save))
        list[n++] = t;
    collab_pack_init(&p, buf, sizeof buf);
    collab_pack_map(&p, 1);
    collab_pack_str(&p, "capabilities");
    collab_pack_array(&p, n);
    for (uint32_t i = 0; i < n; i++)
        collab_pack_str(&p, list[i]);
    int rc = call(w, &r, "register_worker", &p);
    if (rc == 0)
        collab_reply_free(&r);
    else
        fprintf(stderr, "collab-worker: register_worker refused: %s\n", collab_strerror(rc));
    return rc;
}

static void usage(void)
{
    printf("usage: collab-worker [common options] [--capabilities a,b,...] [--work-ms N]\n"
           "                     [--heartbeat-ms N] [--max-tasks N]\n"
           "  --capabilities LIST  COLLAB_CAPABILITIES  default "
           "data_analysis,code_review,testing,documentation\n"
           "  --work-ms N          COLLAB_WORK_MS       simulated work per task, default 500\n"
           "  --heartbeat-ms N     COLLAB_HEARTBEAT_MS  default 1000\n"
           "  --max-tasks N        exit 0 after completing N tasks (default: run until stopped)\n"
           "%s",
           agent_cli_help());
}

/*  A number from an option or the environment, within [min, max]; -1 after saying why. */
static int number(const char *what, const char *v, long min, long max, long *out)
{
    if (collab_parse_long(v, min, max, out) == 0)
        return 0;
    fprintf(stderr, "collab-worker: %s: '%s' is not a number in %ld..%ld\n", what, v, min, max);
    return -1;
}

static int parse_own(worker_t *w, int argc, char **argv)
{
    const char *env;
    long work = 500, beat = 1000, max = 0;
    snprintf(w->caps, sizeof w->caps, "%s",
             (env = getenv("COLLAB_CAPABILITIES"))
                 ? env
                 : "data_analysis,code_review,testing,documentation");
    if (((env = getenv("COLLAB_WORK_MS")) && number("COLLAB_WORK_MS", env, 0, 3600000, &work)) ||
        ((env = getenv("COLLAB_HEARTBEAT_MS")) &&
         number("COLLAB_HEARTBEAT_MS", env, 50, 3600000, &beat)))
        return -1;
    for (int i = 1; i < argc; i += 2) { /* every option takes one value */
        const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int rc = 0;
        if (strcmp(k, "--help") == 0 || strcmp(k, "-h") == 0) {
            usage();
            exit(0);
        } else if (strcmp(k, "--capabilities") == 0 && v) {
            snprintf(w->caps, sizeof w->caps, "%s", v);
        } else if (strcmp(k, "--work-ms") == 0 && v) {
            rc = number(k, v, 0, 3600000, &work);
        } else if (strcmp(k, "--heartbeat-ms") == 0 && v) {
            rc = number(k, v, 50, 3600000, &beat);
        } else if (strcmp(k, "--max-tasks") == 0 && v) {
            rc = number(k, v, 0, 1000000000, &max);
        } else {
            fprintf(stderr, "collab-worker: unknown or incomplete option '%s'\n", k);
            return -1;
        }
        if (rc)
            return -1;
    }
    w->work_ms = (int)work;
    w->heartbeat_ms = (int)beat;
    w->max_tasks = max;
    return 0;
}

int main(int argc, char **argv)
{
    static worker_t w;
    int code;
    argc = agent_cli_parse(&w.cli, "collab-worker", argc, argv);
    if (argc < 0 || parse_own(&w, argc, argv) != 0)
        return AGENT_EXIT_USAGE;
    agent_cli_on_signal(on_signal);
    w.c = agent_cli_connect(&w.cli, "collab-worker", &code);
    if (!w.c)
        return code;
    int rc = register_caps(&w);
    if (rc == 0)
        rc = collab_client_subscribe(w.c, false);
    if (rc) {
        collab_client_destroy(&w.c);
        return agent_cli_exit_code(rc);
    }
    printf("%s: registered (%s), waiting for tasks\n", w.cli.agent_id, w.caps);
    fflush(stdout);
    pick_up(&w);
    w.last_heartbeat = collab_mono_ms();
    long long last_scan = collab_mono_ms();
    while (!stopping && (w.max_tasks == 0 || w.done < w.max_tasks)) {
        if (w.nqueue == 0) {
            pump(&w, w.heartbeat_ms);
            /* now and then, look for tasks whose event never reached us (an update or an
               assignment lost while the broker restarted) */
            if (w.nqueue == 0 && collab_mono_ms() - last_scan >= RESCAN_MS) {
                pick_up(&w);
                last_scan = collab_mono_ms();
            }
            continue;
        }
        uint64_t task = w.queue[0];
        memmove(w.queue, w.queue + 1, --w.nqueue * sizeof w.queue[0]);
        work_one(&w, task);
    }
    collab_client_logout(w.c);
    collab_client_destroy(&w.c);
    return AGENT_EXIT_OK;
}
