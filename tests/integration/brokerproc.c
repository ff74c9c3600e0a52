/*  brokerproc.c: the broker as a child process (see brokerproc.h). */
#include "brokerproc.h"
#include "collab_clock.h"
#include "collab_spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define START_DEADLINE_MS 10000

int broker_init(broker_proc_t *b, const char *exe, const char *creds)
{
    memset(b, 0, sizeof *b);
    b->exe = exe;
    b->creds = creds;
    snprintf(b->dir, sizeof b->dir, "/tmp/collab-test-XXXXXX");
    if (!mkdtemp(b->dir))
        return -1;
    snprintf(b->state, sizeof b->state, "%s/state.db", b->dir);
    snprintf(b->seclog, sizeof b->seclog, "%s/security.log", b->dir);
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

/*  Reads the child's stdout until the "listening" line or the deadline. */
static int read_port(broker_proc_t *b, int fd)
{
    char buf[256];
    size_t n = 0;
    long long deadline = collab_mono_ms() + START_DEADLINE_MS;
    while (n < sizeof buf - 1) {
        struct pollfd p = {fd, POLLIN, 0};
        long long left = deadline - collab_mono_ms();
        if (left <= 0 || poll(&p, 1, (int)left) <= 0)
            return -1;
        ssize_t r = read(fd, buf + n, sizeof buf - 1 - n);
        if (r <= 0)
            return -1;
        n += (size_t)r;
        buf[n] = '\0';
        char *nl = strchr(buf, '\n'), *colon;
        if (nl && (colon = strrchr(buf, ':')) != NULL && colon < nl) {
            b->port = atoi(colon + 1);
            snprintf(b->endpoint, sizeof b->endpoint, "tcp://127.0.0.1:%d", b->port);
            return b->port > 0 ? 0 : -1;
        }
    }
    return -1;
}

/*  Starts the broker bound to b->port. */
static int spawn_on_port(broker_proc_t *b)
{
    char bind[64];
    const char *argv[64];
    int argc = 0;
    snprintf(bind, sizeof bind, "tcp://127.0.0.1:%d", b->port);
    argv[argc++] = b->exe;
    argv[argc++] = "--bind";
    argv[argc++] = bind;
    argv[argc++] = "--state";
    argv[argc++] = b->state;
    argv[argc++] = "--credentials";
    argv[argc++] = b->creds;
    argv[argc++] = "--security-log";
    argv[argc++] = b->seclog;
    argv[argc++] = "--log-level";
    argv[argc++] = "warning";
    for (int i = 0; b->extra[i] && argc < 62; i++)
        argv[argc++] = b->extra[i];
    argv[argc] = NULL;
    /* a test that crashes must not leave its broker running */
    const collab_spawn_opts_t opts = {.out = COLLAB_SPAWN_PIPE, .death_signal = SIGKILL};
    collab_proc_t child;
    if (collab_spawn(&child, argv, &opts) != 0)
        return -1;
    b->pid = child.pid;
    int rc = read_port(b, child.out);
    collab_spawn_close(&child);
    if (rc != 0)
        broker_kill9(b);
    return rc;
}

/*  The first start picks a free port at random in 20000..32767, below both the kernel's
    ephemeral range (where the clients' own ports come from) and the range that "*" scans
    upwards from 49152. With "*", brokers of tests running in parallel crowd onto the same
    few ports, and a broker restarting on its port can find it taken by another test's
    broker that started meanwhile. A port already taken makes the broker exit at once:
    another is tried. Restarts keep the port, so that clients reconnect by themselves. */
static int spawn(broker_proc_t *b)
{
    static uint32_t seed;
    if (b->port)
        return spawn_on_port(b);
    if (!seed)
        seed = (((uint32_t)getpid() * 2654435761u) ^ (uint32_t)collab_mono_ms()) | 1u;
    for (int attempt = 0; attempt < 8; attempt++) {
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        b->port = 20000 + (int)(seed % 12768u);
        if (spawn_on_port(b) == 0)
            return 0;
    }
    b->port = 0;
    return -1;
}

int broker_start(broker_proc_t *b, const char *const *extra)
{
    for (int i = 0; extra && extra[i] && i < 31; i++)
        b->extra[i] = strdup(extra[i]);
    b->port = 0;
    return spawn(b);
}

int broker_restart(broker_proc_t *b)
{
    return spawn(b);
}

int broker_restart_with(broker_proc_t *b, const char *const *extra)
{
    for (int i = 0; b->extra[i]; i++)
        free(b->extra[i]);
    memset(b->extra, 0, sizeof b->extra);
    for (int i = 0; extra && extra[i] && i < 31; i++)
        b->extra[i] = strdup(extra[i]);
    return spawn(b);
}

int broker_stop(broker_proc_t *b)
{
    int status = 0;
    if (b->pid <= 0)
        return -1;
    kill(b->pid, SIGTERM);
    while (waitpid(b->pid, &status, 0) < 0 && errno == EINTR)
        ;
    b->pid = 0;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void broker_kill9(broker_proc_t *b)
{
    if (b->pid <= 0)
        return;
    kill(b->pid, SIGKILL);
    while (waitpid(b->pid, NULL, 0) < 0 && errno == EINTR)
        ;
    b->pid = 0;
}

int broker_run_once(const broker_proc_t *b, const char *const *args, char *err, size_t errlen)
{
    const char *argv[64];
    int argc = 0;
    argv[argc++] = b->exe;
    for (int i = 0; args[i] && argc < 63; i++)
        argv[argc++] = args[i];
    argv[argc] = NULL;
    const collab_spawn_opts_t opts = {.out = COLLAB_SPAWN_NULL, .err = COLLAB_SPAWN_PIPE};
    collab_proc_t child;
    if (collab_spawn(&child, argv, &opts) != 0)
        return -1;
    size_t n = 0;
    ssize_t r;
    while (n + 1 < errlen && (r = read(child.err, err + n, errlen - 1 - n)) > 0)
        n += (size_t)r;
    err[n] = '\0';
    collab_spawn_close(&child);
    collab_spawn_wait(&child, -1);
    return WIFEXITED(child.wstatus) ? WEXITSTATUS(child.wstatus) : -1;
}

/*  Appends what fd has ready to buf (kept NUL-terminated); returns false at end of file. */
static bool drain_fd(int fd, char *buf, size_t cap, size_t *n)
{
    char scratch[4096];
    char *dst = buf && *n + 1 < cap ? buf + *n : scratch;
    size_t room = buf && *n + 1 < cap ? cap - 1 - *n : sizeof scratch;
    ssize_t r = read(fd, dst, room);
    if (r <= 0)
        return false;
    if (dst != scratch) {
        *n += (size_t)r;
        buf[*n] = '\0';
    }
    return true;
}

int broker_run_capture(const broker_proc_t *b, const char *const *args, char *out, size_t outlen,
                       char *err, size_t errlen, int timeout_ms)
{
    const char *argv[64];
    int argc = 0;
    argv[argc++] = b->exe;
    for (int i = 0; args[i] && argc < 63; i++)
        argv[argc++] = args[i];
    argv[argc] = NULL;
    if (out && outlen)
        out[0] = '\0';
    if (err && errlen)
        err[0] = '\0';
    const collab_spawn_opts_t opts = {
        .out = COLLAB_SPAWN_PIPE, .err = COLLAB_SPAWN_PIPE, .death_signal = SIGKILL};
    collab_proc_t child;
    if (collab_spawn(&child, argv, &opts) != 0)
        return -1;
    size_t no = 0, ne = 0;
    bool open_o = true, open_e = true, killed = false;
    int64_t deadline = collab_mono_ms() + timeout_ms;
    while (open_o || open_e) {
        struct pollfd p[2] = {{open_o ? child.out : -1, POLLIN, 0},
                              {open_e ? child.err : -1, POLLIN, 0}};
        int64_t left = deadline - collab_mono_ms();
        if (left <= 0 || poll(p, 2, (int)left) <= 0) {
            collab_spawn_kill(&child, SIGKILL);
            killed = true;
            break;
        }
        if (p[0].revents && !drain_fd(child.out, out, outlen, &no))
            open_o = false;
        if (p[1].revents && !drain_fd(child.err, err, errlen, &ne))
            open_e = false;
    }
    collab_spawn_close(&child);
    collab_spawn_wait(&child, -1);
    return !killed && WIFEXITED(child.wstatus) ? WEXITSTATUS(child.wstatus) : -1;
}

int broker_seclog_count(const broker_proc_t *b, const char *needle)
{
    FILE *f = fopen(b->seclog, "r");
    char line[4096];
    int n = 0;
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f))
        n += strstr(line, needle) != NULL;
    fclose(f);
    return n;
}

bool broker_seclog_wait(const broker_proc_t *b, const char *needle, int timeout_ms)
{
    /* the log's folder: a line appended, the file created, or rotated */
    char dir[sizeof b->seclog];
    snprintf(dir, sizeof dir, "%s", b->seclog);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    bool watching = fd >= 0 && inotify_add_watch(fd, slash ? dir : ".",
                                                 IN_MODIFY | IN_CREATE | IN_MOVED_TO) >= 0;
    long long deadline = collab_mono_ms() + timeout_ms;
    bool found;
    while (!(found = broker_seclog_count(b, needle) > 0) && watching) {
        char events[4096];
        struct pollfd p = {fd, POLLIN, 0};
        long long left = deadline - collab_mono_ms();
        if (left <= 0 || poll(&p, 1, (int)left) <= 0)
            break;
        while (read(fd, events, sizeof events) > 0)
            ; /* which change it was does not matter: the log is read again */
    }
    if (fd >= 0)
        close(fd);
    return found;
}

int broker_seclog_refusals(const broker_proc_t *b, const char *event, const char *peer)
{
    char full[96], agg[96], who[96], line[4096];
    snprintf(full, sizeof full, "\"event\":\"%s\"", event);
    snprintf(agg, sizeof agg, "\"aggregated_event\":\"%s\"", event);
    snprintf(who, sizeof who, "\"peer\":\"%s\"", peer);
    FILE *f = fopen(b->seclog, "r");
    int n = 0;
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f)) {
        if (!strstr(line, who))
            continue;
        const char *c;
        if (strstr(line, full))
            n++;
        else if (strstr(line, agg) && (c = strstr(line, "\"count\":")))
            n += atoi(c + 8 + (c[8] == '"')); /* a number, or its text */
    }
    fclose(f);
    return n;
}

void broker_cleanup(broker_proc_t *b)
{
    char cmd[300];
    if (b->pid > 0)
        broker_stop(b);
    for (int i = 0; b->extra[i]; i++)
        free(b->extra[i]);
    memset(b->extra, 0, sizeof b->extra);
    if (strncmp(b->dir, "/tmp/collab-test-", 17) == 0) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", b->dir);
        if (system(cmd) != 0)
            fprintf(stderr, "could not remove %s\n", b->dir);
    }
}
