/*  demos.c: the attack demonstrations of the interactive menu (see demos.h). The lab's
    agents' password files are read from COLLAB_LAB_PASSWORDS (default: the directory
    scripts/swarm writes, /tmp/taskcollab-swarm) and handed to collab-attack, which hands
    them to its victim processes; collab-attack is found beside this binary's build
    folder, or through COLLAB_ATTACK. */
#include "demos.h"

#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

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

static const char *lab_passwords(void)
{
    const char *env = getenv("COLLAB_LAB_PASSWORDS");
    return env && *env ? env : "/tmp/taskcollab-swarm";
}

/*  Runs collab-attack with the given arguments, its output going to the session's output;
    returns its exit code (0 SUCCEEDED, 10 BLOCKED). */
static int run_attack(session_t *s, const char *const *args)
{
    char exe[PATH_MAX], pw[PATH_MAX + 32];
    const char *argv[40];
    int n = 0;
    attack_exe(exe, sizeof exe);
    argv[n++] = exe;
    for (int i = 0; args[i] && n < 30; i++) {
        if (strncmp(args[i], "@pw:", 4) == 0) { /* @pw:AGENT -> that agent's password file */
            snprintf(pw, sizeof pw, "%s/%s.pw", lab_passwords(), args[i] + 4);
            argv[n++] = pw; /* at most one per demonstration */
        } else {
            argv[n++] = args[i];
        }
    }
    argv[n++] = "--broker";
    argv[n++] = s->cli->endpoint;
    argv[n++] = "--victim-passwords";
    argv[n++] = lab_passwords();
    if (s->cli->credentials[0]) {
        argv[n++] = "--victim-credentials";
        argv[n++] = s->cli->credentials;
        argv[n++] = "--credentials";
        argv[n++] = s->cli->credentials;
    }
    argv[n] = NULL;
    fflush(s->out);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fileno(s->out), STDOUT_FILENO);
        dup2(fileno(s->out), STDERR_FILENO);
        execv(exe, (char *const *)argv);
        fprintf(stderr, "cannot run %s (build the lab's tools first)\n", exe);
        _exit(1);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int conclude(session_t *s, int code, const char *control)
{
    if (code == 0)
        fprintf(s->out,
                "\n=> The attack SUCCEEDED: this is the Stage 2 weakness. The control "
                "that closes it: %s=strong.\n",
                control);
    else if (code == 10)
        fprintf(s->out,
                "\n=> The attack was BLOCKED: the broker runs with %s (or the whole "
                "hardened profile) strong.\n",
                control);
    else
        fprintf(s->out, "\n=> The demonstration could not run (exit %d).\n", code);
    return 0;
}

int demo_stale_permissions(session_t *s)
{
    fputs("\n[ATTACK] Stale permissions (V-011)\n"
          "Step 1: coordinator1 logs in; its role is cached in its session.\n"
          "Step 2: the admin demotes coordinator1 to observer (set_role).\n"
          "Step 3: coordinator1's OPEN session creates a project anyway: under Stage 2 the\n"
          "        broker judges a request by the role cached at login, not the current one.\n\n",
          s->out);
    const char *args[] = {"stale-permissions", "--agent",          "coordinator1",
                          "--password-file",   "@pw:coordinator1", NULL};
    return conclude(s, run_attack(s, args), "permissions");
}

int demo_replay(session_t *s)
{
    fputs("\n[ATTACK] Replay (V-022) - STILL WORKS in Stage 2\n"
          "Step 1: capture the bus (needs root or CAP_NET_RAW for libpcap).\n"
          "Step 2: the victim coordinator creates a project with a properly signed request.\n"
          "Step 3: the captured bytes are sent again from a new connection. The HMAC is valid\n"
          "        (nothing in it changed) and there is no nonce, so the broker obeys again.\n\n",
          s->out);
    const char *args[] = {"replay", NULL};
    return conclude(s, run_attack(s, args), "replay");
}

int demo_hijack(session_t *s)
{
    fputs("\n[ATTACK] Session hijacking (V-004 / V-024)\n"
          "Step 1: capture the bus and read the victim's session id off the wire.\n"
          "Step 2: use it from another address (127.0.0.2) for an authenticated read.\n"
          "        Stage 2 notices the new address, logs a warning... and serves the request.\n\n",
          s->out);
    const char *args[] = {"hijack", "--source", "127.0.0.2", NULL};
    return conclude(s, run_attack(s, args), "peer_binding");
}

int demo_weak_role(session_t *s)
{
    fputs("\n[ATTACK] Weak role enforcement (V-019 / V-020)\n"
          "Step 1: the victim coordinator creates a project and assigns a task.\n"
          "Step 2: viewer1, a read-only observer, cancels that task and deletes the project:\n"
          "        Stage 2 gates only create_project and assign_task by role.\n\n",
          s->out);
    const char *args[] = {"weak-role",       "--agent",     "viewer1",
                          "--password-file", "@pw:viewer1", NULL};
    return conclude(s, run_attack(s, args), "role_enforcement");
}
