/*  victim_main.c: collab-victim, the scripted victim of the lab's attacks: a real agent
    doing ordinary work through the same client library as every agent. It prints only
    non-secret progress lines ("ready", "project_id=N", ...), never its session id, its
    password or its key: an attack learns those only the way its row of LAB.md allows.
    Scripts: busy, relogin, create-project, close-project, demote, assign, reader. */
#include "agent_cli.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

typedef struct {
    collab_client_t *c;
    const char *script, *target, *role, *worker, *name;
    long duration_ms, interval_ms;
} victim_args_t;

static int request(collab_client_t *c, collab_reply_t *r, const char *action, collab_pack_t *p)
{
    size_t len = 0;
    if (p && collab_pack_finish(p, &len) != 0)
        return COLLAB_E_TOO_LARGE;
    collab_reply_t tmp;
    int rc = collab_client_request(c, action, p ? p->data : NULL, len, r ? r : &tmp);
    if (rc)
        return rc;
    collab_reply_t *rr = r ? r : &tmp;
    rc = rr->ok ? 0 : rr->code;
    if (!r || rc)
        collab_reply_free(rr);
    return rc;
}

static void progress(const char *fmt, uint64_t v)
{
    printf(fmt, (unsigned long long)v);
    putchar('\n');
    fflush(stdout);
}

static int create_project(victim_args_t *a, uint64_t *id)
{
    uint8_t buf[512];
    collab_pack_t p;
    collab_reply_t r;
    collab_pack_init(&p, buf, sizeof buf);
    collab_pack_map(&p, 2);
    collab_pack_kv_str(&p, "name", a->name);
    collab_pack_kv_str(&p, "description", "ordinary work of the victim agent");
    int rc = request(a->c, &r, "create_project", &p);
    if (rc == 0) {
        collab_map_uint(&r.map, "project_id", id);
        collab_reply_free(&r);
        progress("project_id=%llu", *id);
    }
    return rc;
}

static int by_id(victim_args_t *a, const char *action, const char *key, uint64_t id)
{
    uint8_t buf[64];
    collab_pack_t p;
    collab_pack_init(&p, buf, sizeof buf);
    collab_pack_map(&p, 1);
    collab_pack_kv_uint(&p, key, id);
    return request(a->c, NULL, action, &p);
}

/*  Keeps the session busy with ordinary reads until the duration ends. */
static int keep_busy(victim_args_t *a, long long until, uint64_t *served, uint64_t *refused)
{
    while (!stopping && mono_ms() < until) {
        int rc = request(a->c, NULL, "list_projects", NULL);
        if (rc == 0)
            (*served)++;
        else
            (*refused)++;
        long long next = mono_ms() + a->interval_ms;
        collab_event_msg_t ev;
        while (!stopping && mono_ms() < next && mono_ms() < until)
            if (collab_client_next_event(a->c, &ev, (int)(next - mono_ms())) == 0)
                collab_event_free(&ev);
    }
    return 0;
}

static int run(victim_args_t *a)
{
    uint64_t pid = 0, tid = 0, served = 0, refused = 0;
    long long until = mono_ms() + a->duration_ms;
    int rc = 0;
    printf("ready\n");
    fflush(stdout);
    if (strcmp(a->script, "busy") == 0 || strcmp(a->script, "reader") == 0) {
        keep_busy(a, until, &served, &refused);
        printf("served=%llu refused=%llu\n", (unsigned long long)served,
               (unsigned long long)refused);
    } else if (strcmp(a->script, "relogin") == 0) {
        if ((rc = request(a->c, NULL, "logout", NULL)) == 0 &&
            (rc = collab_client_login(a->c)) == 0) {
            printf("logged_in again\n");
            fflush(stdout);
            keep_busy(a, until, &served, &refused);
        }
    } else if (strcmp(a->script, "create-project") == 0) {
        if ((rc = create_project(a, &pid)) == 0) /* then stays logged in, working */
            keep_busy(a, until, &served, &refused);
    } else if (strcmp(a->script, "close-project") == 0) {
        if ((rc = create_project(a, &pid)) == 0 &&
            (rc = by_id(a, "close_project", "project_id", pid)) == 0) {
            progress("closed=%llu", pid);
            keep_busy(a, until, &served, &refused);
        }
    } else if (strcmp(a->script, "assign") == 0 && a->worker) {
        uint8_t buf[512];
        collab_pack_t p;
        collab_reply_t r;
        if ((rc = create_project(a, &pid)) == 0) {
            collab_pack_init(&p, buf, sizeof buf);
            collab_pack_map(&p, 4);
            collab_pack_kv_uint(&p, "project_id", pid);
            collab_pack_kv_str(&p, "type", "documentation");
            collab_pack_kv_str(&p, "title", "write the release notes");
            collab_pack_kv_str(&p, "worker", a->worker);
            if ((rc = request(a->c, &r, "assign_task", &p)) == 0) {
                collab_map_uint(&r.map, "task_id", &tid);
                collab_reply_free(&r);
                progress("task_id=%llu", tid);
            }
        }
    } else if (strcmp(a->script, "demote") == 0 && a->target && a->role) {
        uint8_t buf[256];
        collab_pack_t p;
        collab_pack_init(&p, buf, sizeof buf);
        collab_pack_map(&p, 2);
        collab_pack_kv_str(&p, "agent_id", a->target);
        collab_pack_kv_str(&p, "role", a->role);
        if ((rc = request(a->c, NULL, "set_role", &p)) == 0)
            printf("role_set\n");
    } else {
        fprintf(stderr, "collab-victim: unknown script or missing argument\n");
        return AGENT_EXIT_USAGE;
    }
    if (rc)
        fprintf(stderr, "collab-victim: %s: %s\n", a->script, collab_strerror(rc));
    printf("done\n");
    fflush(stdout);
    return rc ? agent_cli_exit_code(rc) : AGENT_EXIT_OK;
}

int main(int argc, char **argv)
{
    agent_cli_t cli;
    victim_args_t a = {
        .script = "", .name = "victim project", .duration_ms = 3000, .interval_ms = 100};
    argc = agent_cli_parse(&cli, "collab-victim", argc, argv);
    if (argc < 0)
        return AGENT_EXIT_USAGE;
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (strcmp(k, "--script") == 0)
            a.script = v;
        else if (strcmp(k, "--target") == 0)
            a.target = v;
        else if (strcmp(k, "--role") == 0)
            a.role = v;
        else if (strcmp(k, "--worker") == 0)
            a.worker = v;
        else if (strcmp(k, "--name") == 0)
            a.name = v;
        else if (strcmp(k, "--duration-ms") == 0)
            a.duration_ms = atol(v);
        else if (strcmp(k, "--interval-ms") == 0)
            a.interval_ms = atol(v);
        else {
            fprintf(stderr, "collab-victim: unknown option %s\n", k);
            return AGENT_EXIT_USAGE;
        }
    }
    if (a.interval_ms < 1)
        a.interval_ms = 1;
    agent_cli_on_signal(on_signal);
    int code;
    a.c = agent_cli_connect(&cli, "collab-victim", &code);
    if (!a.c)
        return code;
    code = run(&a);
    collab_client_set_timeout(a.c, 500, 0);
    if (strcmp(a.script, "relogin") != 0 || code == 0)
        request(a.c, NULL, "logout", NULL);
    collab_client_destroy(&a.c);
    return code;
}
