/*  victim_main.c: collab-victim, the scripted victim of the lab's attacks: a real agent
    doing ordinary work through the same client library as every agent. It prints only
    non-secret progress lines ("ready", "project_id=N", ...), never its session id, its
    password or its key: an attack learns those only the way its row of LAB.md allows.
    Scripts: busy, relogin, create-project, close-project, demote, assign, reader, revoke.
    Its password comes from --password-file, or from --passwords FILE (lines "agent
    password": it takes its own line); with --exec PROG ARGS it runs another agent program
    (the observer) instead, handing it that password over a pipe. */
#include "agent_cli.h"
#include "collab_clock.h"
#include "collab_spawn.h"

#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
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
    while (!stopping && collab_mono_ms() < until) {
        int rc = request(a->c, NULL, "list_projects", NULL);
        if (rc == 0)
            (*served)++;
        else
            (*refused)++;
        long long next = collab_mono_ms() + a->interval_ms;
        collab_event_msg_t ev;
        while (!stopping && collab_mono_ms() < next && collab_mono_ms() < until)
            if (collab_client_next_event(a->c, &ev, (int)(next - collab_mono_ms())) == 0)
                collab_event_free(&ev);
    }
    return 0;
}

static int run(victim_args_t *a)
{
    uint64_t pid = 0, tid = 0, served = 0, refused = 0;
    long long until = collab_mono_ms() + a->duration_ms;
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
    } else if (strcmp(a->script, "revoke") == 0 && a->target) {
        uint8_t buf[256];
        collab_pack_t p;
        collab_reply_t r;
        uint64_t n = 0;
        collab_pack_init(&p, buf, sizeof buf);
        collab_pack_map(&p, 1);
        collab_pack_kv_str(&p, "agent_id", a->target);
        if ((rc = request(a->c, &r, "revoke_session", &p)) == 0) {
            collab_map_uint(&r.map, "revoked", &n);
            collab_reply_free(&r);
            printf("revoked=%llu\n", (unsigned long long)n);
        }
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

/*  The password of `agent` from a file of "agent password" lines ('#' starts a comment).
    Returns 0, or -1 with the reason on stderr (the password itself is never printed). */
static int lookup_password(const char *file, const char *agent, char *out, size_t cap)
{
    FILE *f = fopen(file, "r");
    char line[512];
    int rc = -1;
    if (!f) {
        fprintf(stderr, "collab-victim: cannot read the passwords file %s\n", file);
        return -1;
    }
    while (rc != 0 && fgets(line, sizeof line, f)) {
        char *id = strtok(line, " \t\r\n"), *pw = id ? strtok(NULL, " \t\r\n") : NULL;
        if (id && pw && id[0] != '#' && strcmp(id, agent) == 0 && strlen(pw) < cap) {
            memcpy(out, pw, strlen(pw) + 1);
            rc = 0;
        }
    }
    sodium_memzero(line, sizeof line);
    fclose(f);
    if (rc != 0)
        fprintf(stderr, "collab-victim: no password for %s in %s\n", agent, file);
    return rc;
}

/*  --exec: runs prog (argv) as the agent, its password handed over a pipe that the program
    reads as --password-file /dev/fd/N. Returns only on failure. */
static int exec_agent(char **prog, const char *password)
{
    int fds[2], n = 0;
    char fdpath[32], *argv[64];
    if (!prog[0] || pipe(fds) != 0)
        return AGENT_EXIT_USAGE;
    size_t len = strlen(password);
    if (write(fds[1], password, len) != (ssize_t)len || write(fds[1], "\n", 1) != 1)
        return AGENT_EXIT_FAILED;
    close(fds[1]);
    snprintf(fdpath, sizeof fdpath, "/dev/fd/%d", fds[0]);
    for (; prog[n] && n < 60; n++)
        argv[n] = prog[n];
    argv[n++] = "--password-file";
    argv[n++] = fdpath;
    argv[n] = NULL;
    collab_exec((const char *const *)argv);
    fprintf(stderr, "collab-victim: cannot run %s\n", argv[0]);
    return AGENT_EXIT_FAILED;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: collab-victim --agent ID (--password-file F | --passwords F) --script NAME\n"
            "                     [--target ID --role R] [--worker ID] [--name TEXT]\n"
            "                     [--duration-ms N] [--interval-ms N] [common agent options]\n"
            "       collab-victim --agent ID --passwords F [options] --exec PROG [ARGS...]\n"
            "The scripted victim that collab-attack starts: it does ordinary work as ID and\n"
            "prints only progress lines (ready, project_id=N, task_id=N, done), never a secret.\n"
            "scripts: busy, reader (reads until --duration-ms), relogin, create-project,\n"
            "close-project, assign (--worker), demote (--target, --role), revoke (--target:\n"
            "every session of that agent).\n"
            "--passwords F: a file of \"agent password\" lines; the victim takes its own.\n"
            "--exec PROG ARGS: runs PROG as ID instead, handing it the password over a pipe\n"
            "(--password-file /dev/fd/N).\n"
            "%s"
            "exit: 0 ok, 2 usage, 3 broker unreachable, 4 login refused, 5 request refused\n",
            agent_cli_help());
}

/*  The victim's own options (after agent_cli took the common ones); 0, or -1 with the
    reason on stderr. */
static int parse_args(int argc, char **argv, victim_args_t *a, const char **passwords)
{
    for (int i = 1; i < argc; i += 2) {
        const char *k = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        long n = 0;
        if (!v) {
            fprintf(stderr, "collab-victim: %s needs a value (or is unknown)\n", k);
            return -1;
        } else if (strcmp(k, "--script") == 0)
            a->script = v;
        else if (strcmp(k, "--passwords") == 0)
            *passwords = v;
        else if (strcmp(k, "--target") == 0)
            a->target = v;
        else if (strcmp(k, "--role") == 0)
            a->role = v;
        else if (strcmp(k, "--worker") == 0)
            a->worker = v;
        else if (strcmp(k, "--name") == 0)
            a->name = v;
        else if ((strcmp(k, "--duration-ms") == 0 || strcmp(k, "--interval-ms") == 0) &&
                 collab_parse_long(v, 1, 86400000, &n) == 0)
            *(k[2] == 'd' ? &a->duration_ms : &a->interval_ms) = n;
        else {
            fprintf(stderr, "collab-victim: bad option %s %s\n", k, v);
            return -1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    agent_cli_t cli;
    char **exec_argv = NULL;
    const char *passwords = NULL;
    for (int i = 1; i < argc && !exec_argv; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return AGENT_EXIT_OK;
        }
        if (strcmp(argv[i], "--exec") == 0) { /* the rest is the program's command line */
            exec_argv = argv + i + 1;
            argv[i] = NULL;
            argc = i;
        }
    }
    victim_args_t a = {
        .script = "", .name = "victim project", .duration_ms = 3000, .interval_ms = 100};
    argc = agent_cli_parse(&cli, "collab-victim", argc, argv);
    if (argc < 0 || parse_args(argc, argv, &a, &passwords) != 0)
        return AGENT_EXIT_USAGE;
    if (passwords && (cli.password_file[0] ||
                      lookup_password(passwords, cli.agent_id, cli.password, sizeof cli.password)))
        return AGENT_EXIT_USAGE;
    if (exec_argv) {
        int rc = exec_agent(exec_argv, cli.password);
        sodium_memzero(cli.password, sizeof cli.password);
        return rc;
    }
    agent_cli_on_signal(on_signal);
    int code;
    a.c = agent_cli_connect(&cli, "collab-victim", &code);
    if (!a.c)
        return code;
    code = run(&a);
    if (strcmp(a.script, "relogin") != 0 || code == 0)
        collab_client_logout(a.c);
    collab_client_destroy(&a.c);
    return code;
}
