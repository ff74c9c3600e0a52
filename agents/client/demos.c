/*  demos.c: the attack demonstrations of the interactive menu (see demos.h). Each runs
    collab-attack --json (found beside this build, or through COLLAB_ATTACK) with the
    client's broker, CURVE settings, credentials and --victim-passwords, narrates its steps
    (the attack's own, on its stderr), reads the verdict and the control that decided it
    from the attack's JSON, and puts the lab back afterwards (lab.h). */
#include "demos.h"
#include "collab_spawn.h"
#include "lab.h"

#include <cJSON.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define OUT_MAX 16384 /* the attack's stdout: one JSON verdict line */

typedef struct {
    const char *narration;
    const char *attack;
    const char *attacker;                   /* the attacker's own demo agent, or NULL (wire only) */
    const char *control;                    /* the control of LAB.md this demonstration is about */
    const char *extra[4];                   /* further collab-attack arguments */
    const char *agents[LAB_MAX_AGENTS + 1]; /* the agents it involves, for the clean-up */
} demo_t;

typedef struct {
    char verdict[16]; /* SUCCEEDED, BLOCKED or ERROR */
    char evidence[1024];
    char decided_by[64]; /* "" when the attack did not name it */
} verdict_info_t;

static void attack_exe(char *out, size_t cap)
{
    const char *env = getenv("COLLAB_ATTACK");
    char self[PATH_MAX];
    ssize_t n = env ? -1 : readlink("/proc/self/exe", self, sizeof self - 1);
    if (env) {
        snprintf(out, cap, "%s", env);
        return;
    }
    self[n > 0 ? n : 0] = '\0';
    snprintf(out, cap, "%s/../../tools/attack/collab-attack", dirname(self));
}

/*  The CURVE certificates' folder: --curve-dir, or the one of --curve-cert. */
static void curve_dir(const session_t *s, char *out, size_t cap)
{
    char copy[512];
    out[0] = '\0';
    if (s->curve_dir && s->curve_dir[0]) {
        snprintf(out, cap, "%s", s->curve_dir);
    } else if (s->cli->curve_cert[0]) {
        snprintf(copy, sizeof copy, "%s", s->cli->curve_cert);
        snprintf(out, cap, "%s", dirname(copy));
    }
}

/*  The verdict of collab-attack --json: its last JSON line, or the exit code alone.
    decided_by names the control that blocked it; an older collab-attack without the field
    is read from its evidence ("nothing readable" is the transport's). */
static void parse_verdict(const char *out, int code, verdict_info_t *v)
{
    const char *line = out, *p;
    for (p = out; (p = strstr(p, "\n{")) != NULL; p++)
        line = p + 1;
    cJSON *j = cJSON_Parse(line);
    const cJSON *verdict = cJSON_GetObjectItemCaseSensitive(j, "verdict");
    const cJSON *evidence = cJSON_GetObjectItemCaseSensitive(j, "evidence");
    const cJSON *by = cJSON_GetObjectItemCaseSensitive(j, "decided_by");
    snprintf(v->verdict, sizeof v->verdict, "%s",
             cJSON_IsString(verdict) ? verdict->valuestring
             : code == 0             ? "SUCCEEDED"
             : code == 10            ? "BLOCKED"
                                     : "ERROR");
    snprintf(v->evidence, sizeof v->evidence, "%s",
             cJSON_IsString(evidence) ? evidence->valuestring : "(no verdict line)");
    snprintf(v->decided_by, sizeof v->decided_by, "%s",
             cJSON_IsString(by)                               ? by->valuestring
             : !by && strstr(v->evidence, "nothing readable") ? "transport"
                                                              : "");
    cJSON_Delete(j);
}

/*  The attacker's password in a private temporary file (collab-attack reads it, nothing
    else); path receives its name. Returns 0 or -1 after saying why. */
static int password_file(const session_t *s, const char *agent, char *path, size_t cap)
{
    char pw[COLLAB_PASSWORD_MAX + 2], err[600];
    snprintf(path, cap, "/tmp/collab-demo-pw.XXXXXX");
    if (lab_password(s->victim_passwords, agent, pw, sizeof pw, err, sizeof err) != 0) {
        fprintf(s->out, "Cannot run it: %s (see --victim-passwords).\n", err);
        return -1;
    }
    int fd = mkstemp(path); /* 0600 */
    bool ok = fd >= 0 && dprintf(fd, "%s\n", pw) > 0;
    sodium_memzero(pw, sizeof pw);
    if (fd >= 0)
        close(fd);
    if (!ok) {
        if (fd >= 0)
            unlink(path);
        fprintf(s->out, "Cannot run it: no temporary file for %s's password.\n", agent);
        return -1;
    }
    return 0;
}

/*  Runs collab-attack argv: its stderr (the narrated steps) to the session's output, its
    stdout (the JSON verdict) into out. Returns its exit code, or -1. */
static int run(session_t *s, const char *const *argv, char *out, size_t cap)
{
    size_t len = 0;
    fflush(s->out);
    if (access(argv[0], X_OK) != 0) {
        fprintf(s->out, "cannot run %s (build the lab's tools first)\n", argv[0]);
        return 1;
    }
    const collab_spawn_opts_t opts = {.out = COLLAB_SPAWN_PIPE,
                                      .err = COLLAB_SPAWN_FD,
                                      .err_fd = fileno(s->out),
                                      .death_signal = SIGTERM};
    collab_proc_t child;
    if (collab_spawn(&child, argv, &opts) != 0)
        return -1;
    for (ssize_t n; (n = read(child.out, out + len, cap - 1 - len)) != 0;)
        if (n > 0 && (len += (size_t)n) == cap - 1)
            len = 0; /* only the end matters: the verdict is the last line */
    out[len] = '\0';
    collab_spawn_close(&child);
    if (collab_spawn_wait(&child, -1) != 0)
        return -1;
    return WIFEXITED(child.wstatus) ? WEXITSTATUS(child.wstatus) : -1;
}

static void conclude(session_t *s, const demo_t *d, const verdict_info_t *v)
{
    fprintf(s->out, "%s: %s\n", v->verdict, v->evidence);
    if (strcmp(v->verdict, "SUCCEEDED") == 0)
        fprintf(s->out,
                "\n=> The attack SUCCEEDED: this is the Stage 2 weakness. The control "
                "that closes it: %s=strong.\n",
                d->control);
    else if (strcmp(v->verdict, "BLOCKED") == 0 && strcmp(v->decided_by, d->control) == 0)
        fprintf(s->out, "\n=> The attack was BLOCKED by the %s control (%s=strong).\n",
                v->decided_by, v->decided_by);
    else if (strcmp(v->verdict, "BLOCKED") == 0 && v->decided_by[0])
        fprintf(s->out,
                "\n=> The attack was BLOCKED by the %s control (%s=strong), before the %s "
                "control was even tested: the attack's evidence says so.\n",
                v->decided_by, v->decided_by, d->control);
    else if (strcmp(v->verdict, "BLOCKED") == 0)
        fprintf(s->out, "\n=> The attack was BLOCKED; its evidence does not name the control.\n");
    else
        fprintf(s->out, "\n=> The demonstration could not run: %s\n", v->evidence);
}

static int run_demo(session_t *s, const demo_t *d)
{
    char exe[PATH_MAX], curve[512], pwfile[64] = "", err[600], out[OUT_MAX];
    const char *argv[40];
    size_t n = 0, nagents = 0;
    fputs(d->narration, s->out);
    curve_dir(s, curve, sizeof curve);
    attack_exe(exe, sizeof exe);
    if (d->attacker && password_file(s, d->attacker, pwfile, sizeof pwfile) != 0)
        return 0;
    while (d->agents[nagents])
        nagents++;
    lab_t *lab = lab_begin(s, curve, d->agents, nagents, err, sizeof err);
    if (!lab)
        fprintf(s->out, "(The lab cannot be put back afterwards: %s.)\n", err);
    argv[n++] = exe;
    argv[n++] = d->attack;
    if (d->attacker) {
        argv[n++] = "--agent";
        argv[n++] = d->attacker;
        argv[n++] = "--password-file";
        argv[n++] = pwfile;
    }
    for (size_t i = 0; i < 4 && d->extra[i]; i++)
        argv[n++] = d->extra[i];
    const char *common[] = {"--broker", s->cli->endpoint, "--victim-passwords", s->victim_passwords,
                            "--json"};
    for (size_t i = 0; i < sizeof common / sizeof common[0]; i++)
        argv[n++] = common[i];
    if (s->cli->credentials[0]) {
        const char *keys[] = {"--victim-credentials", s->cli->credentials, "--credentials",
                              s->cli->credentials};
        for (size_t i = 0; i < 4; i++)
            argv[n++] = keys[i];
    }
    if (curve[0]) {
        argv[n++] = "--curve-dir";
        argv[n++] = curve;
    }
    argv[n] = NULL;
    int code = run(s, argv, out, sizeof out);
    if (pwfile[0])
        unlink(pwfile);
    verdict_info_t v;
    parse_verdict(out, code, &v);
    conclude(s, d, &v);
    if (lab)
        fputs("Putting the lab back:\n", s->out);
    lab_restore(&lab, s->out);
    return 0;
}

int demo_stale_permissions(session_t *s)
{
    static const demo_t d = {
        "\n[ATTACK] Stale permissions (V-011)\n"
        "Step 1: coordinator2 logs in; its role is cached in its session.\n"
        "Step 2: the admin demotes coordinator2 to observer (set_role).\n"
        "Step 3: coordinator2's OPEN session creates a project anyway: under Stage 2 the\n"
        "        broker judges a request by the role cached at login, not the current one.\n"
        "(Afterwards coordinator2 gets its role back and its sessions and project go.)\n\n",
        "stale-permissions",
        "coordinator2",
        "permissions",
        {NULL},
        {"coordinator2", NULL}};
    return run_demo(s, &d);
}

int demo_replay(session_t *s)
{
    static const demo_t d = {
        "\n[ATTACK] Replay (V-022) - STILL WORKS in Stage 2\n"
        "Step 1: capture the bus (needs root or CAP_NET_RAW for libpcap).\n"
        "Step 2: the victim coordinator creates a project with a properly signed request.\n"
        "Step 3: the captured bytes are sent again from a new connection. The HMAC is valid\n"
        "        (nothing in it changed) and there is no nonce, so the broker obeys again.\n\n",
        "replay",
        NULL,
        "replay",
        {NULL},
        {"coordinator1", NULL}};
    return run_demo(s, &d);
}

int demo_hijack(session_t *s)
{
    static const demo_t d = {
        "\n[ATTACK] Session hijacking (V-004 / V-024)\n"
        "Step 1: capture the bus and read the victim's session id off the wire.\n"
        "Step 2: use it from another address (127.0.0.2) for an authenticated read.\n"
        "        Stage 2 notices the new address, logs a warning... and serves the request.\n\n",
        "hijack",
        NULL,
        "peer_binding",
        {"--source", "127.0.0.2", NULL},
        {"coordinator1", NULL}};
    return run_demo(s, &d);
}

int demo_weak_role(session_t *s)
{
    static const demo_t d = {
        "\n[ATTACK] Weak role enforcement (V-019 / V-020)\n"
        "Step 1: the victim coordinator creates a project and assigns a task.\n"
        "Step 2: viewer2, a read-only observer, cancels that task and deletes the project:\n"
        "        Stage 2 gates only create_project and assign_task by role.\n\n",
        "weak-role",
        "viewer2",
        "role_enforcement",
        {NULL},
        {"viewer2", "coordinator1", NULL}};
    return run_demo(s, &d);
}
