/*  privbroker.c: a private collab-broker in a temporary directory (see privbroker.h). */
#include "privbroker.h"
#include "collab_clock.h"
#include "collab_spawn.h"

#include "probe.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define START_DEADLINE_MS 10000
#define STOP_DEADLINE_MS  5000

static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    char path[PATH_MAX];
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

/*  The child: in the temporary directory (relative paths of the configuration land there),
    stdout to the pipe, stderr to a file of its own. */
/*  Reads the "listening tcp://HOST:PORT" line within the deadline. */
static int read_listening(int fd, char *endpoint, size_t cap)
{
    char buf[512];
    size_t len = 0;
    int64_t deadline = collab_mono_ms() + START_DEADLINE_MS;
    for (int64_t left; (left = deadline - collab_mono_ms()) > 0 && len < sizeof buf - 1;) {
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, (int)left) <= 0)
            continue;
        ssize_t n = read(fd, buf + len, sizeof buf - 1 - len);
        if (n <= 0)
            return -1; /* the broker exited */
        len += (size_t)n;
        buf[len] = '\0';
        char *nl = strchr(buf, '\n');
        if (nl && strncmp(buf, "listening ", 10) == 0) {
            snprintf(endpoint, cap, "%.*s", (int)(nl - buf - 10), buf + 10);
            return 0;
        }
    }
    return -1;
}

/*  Starts the broker in its folder, its stderr in broker.err there; returns the read end
    of its stdout, or -1. */
static int spawn(privbroker_t *b, const char *const *argv)
{
    const collab_spawn_opts_t opts = {.out = COLLAB_SPAWN_PIPE,
                                      .err = COLLAB_SPAWN_FILE,
                                      .err_path = "broker.err",
                                      .dir = b->dir,
                                      .death_signal = SIGTERM};
    collab_proc_t child;
    if (collab_spawn(&child, argv, &opts) != 0)
        return -1;
    b->pid = child.pid;
    return child.out;
}

/*  The first line the broker wrote on stderr (why it did not start). */
static void first_error(const privbroker_t *b, char *out, size_t cap)
{
    char path[200];
    out[0] = '\0';
    snprintf(path, sizeof path, "%s/broker.err", b->dir);
    FILE *f = fopen(path, "r");
    if (f && fgets(out, (int)cap, f))
        out[strcspn(out, "\n")] = '\0';
    if (f)
        fclose(f);
}

int privbroker_start(privbroker_t *b, const char *exe, const char *credentials,
                     const char *const *sets, char *err, size_t errlen)
{
    char creds[PATH_MAX], state[200], seclog[200], why[256];
    memset(b, 0, sizeof *b);
    snprintf(b->dir, sizeof b->dir, "/tmp/collab-probe-XXXXXX");
    if (access(exe, X_OK) != 0 || !realpath(credentials, creds) || !mkdtemp(b->dir)) {
        snprintf(err, errlen, "cannot start %s with credentials %s: %s", exe, credentials,
                 strerror(errno));
        b->dir[0] = '\0';
        return -1;
    }
    snprintf(state, sizeof state, "%s/state.db", b->dir);
    snprintf(seclog, sizeof seclog, "%s/security.log", b->dir);
    const char *argv[40] = {exe,
                            "--bind",
                            "tcp://127.0.0.1:*",
                            "--state",
                            state,
                            "--credentials",
                            creds,
                            "--security-log",
                            seclog};
    int n = 9;
    for (int i = 0; sets && sets[i] && n < 36; i++) {
        argv[n++] = "--set";
        argv[n++] = sets[i];
    }
    argv[n] = NULL;
    int out = spawn(b, argv);
    int rc = out < 0 ? -1 : read_listening(out, b->endpoint, sizeof b->endpoint);
    if (out >= 0)
        close(out);
    if (rc != 0) {
        first_error(b, why, sizeof why);
        snprintf(err, errlen, "%s did not start listening: %s", exe,
                 why[0] ? why : "it exited without a word, or stayed silent");
        privbroker_stop(b);
    }
    return rc;
}

void privbroker_stop(privbroker_t *b)
{
    if (b->pid > 0) {
        kill(b->pid, SIGTERM);
        int64_t deadline = collab_mono_ms() + STOP_DEADLINE_MS;
        int status;
        while (waitpid(b->pid, &status, WNOHANG) == 0) {
            if (collab_mono_ms() >= deadline) {
                kill(b->pid, SIGKILL);
                waitpid(b->pid, &status, 0);
                break;
            }
            poll(NULL, 0, 20); /* a child's exit wakes no descriptor here: look again soon */
        }
        b->pid = 0;
    }
    if (b->dir[0])
        remove_dir(b->dir);
    b->dir[0] = '\0';
}
