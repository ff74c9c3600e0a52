/*  childproc.c: agent binaries as child processes (see childproc.h). */
#include "childproc.h"
#include "collab_clock.h"
#include "collab_spawn.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *const collab_env[] = {
    "COLLAB_BROKER",        "COLLAB_AGENT_ID",    "COLLAB_PASSWORD",
    "COLLAB_PASSWORD_FILE", "COLLAB_CREDENTIALS", "COLLAB_KEY_FILE",
    "COLLAB_TIMEOUT_MS",    "COLLAB_RETRIES",     NULL};

/*  The fields of c before a start: nothing open, nothing collected yet. */
static int child_init(child_t *c)
{
    memset(c, 0, sizeof *c);
    c->in_fd = c->out_fd = c->err_fd = -1;
    c->status = -1;
    c->out = calloc(1, 1);
    c->err = calloc(1, 1);
    signal(SIGPIPE, SIG_IGN);
    return c->out && c->err ? 0 : -1;
}

static int child_spawn(child_t *c, const char *const *argv, const collab_spawn_opts_t *opts)
{
    collab_proc_t p;
    if (child_init(c) != 0 || collab_spawn(&p, argv, opts) != 0)
        return -1;
    c->pid = p.pid;
    c->in_fd = p.in, c->out_fd = p.out, c->err_fd = p.err;
    return 0;
}

int child_start(child_t *c, const char *const *argv)
{
    const collab_spawn_opts_t opts = {.in = COLLAB_SPAWN_PIPE,
                                      .out = COLLAB_SPAWN_PIPE,
                                      .err = COLLAB_SPAWN_PIPE,
                                      .unset_env = collab_env,
                                      .close_fds = true};
    return child_spawn(c, argv, &opts);
}

int child_start_pty(child_t *c, const char *const *argv, int rows, int cols)
{
    const collab_spawn_opts_t opts = {.unset_env = collab_env,
                                      .close_fds = true,
                                      .pty_rows = (unsigned short)rows,
                                      .pty_cols = (unsigned short)cols};
    return child_spawn(c, argv, &opts);
}

int child_write(child_t *c, const char *text)
{
    size_t len = strlen(text), done = 0;
    while (c->in_fd >= 0 && done < len) {
        ssize_t n = write(c->in_fd, text + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        done += (size_t)n;
    }
    return done == len ? 0 : -1;
}

void child_close_stdin(child_t *c)
{
    if (c->in_fd >= 0)
        close(c->in_fd);
    c->in_fd = -1;
}

/*  Appends what is readable on fd to the buffer; closes fd at end of output. */
static void drain(int *fd, char **buf, size_t *len)
{
    char chunk[4096];
    ssize_t n = read(*fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR)
        return;
    if (n <= 0) {
        close(*fd);
        *fd = -1;
        return;
    }
    char *grown = realloc(*buf, *len + (size_t)n + 1);
    if (!grown)
        return;
    memcpy(grown + *len, chunk, (size_t)n);
    *len += (size_t)n;
    grown[*len] = '\0';
    *buf = grown;
}

/*  Waits up to ms for output on either pipe and reads it. Returns false when both pipes
    are closed or nothing came before the wait ended. */
static bool pump(child_t *c, int ms)
{
    struct pollfd p[2] = {{c->out_fd, POLLIN, 0}, {c->err_fd, POLLIN, 0}};
    if (c->out_fd < 0 && c->err_fd < 0)
        return false;
    int n = poll(p, 2, ms < 0 ? 0 : ms);
    if (n <= 0)
        return n < 0 && errno == EINTR;
    if (p[0].revents)
        drain(&c->out_fd, &c->out, &c->out_len);
    if (p[1].revents)
        drain(&c->err_fd, &c->err, &c->err_len);
    return true;
}

long child_expect(child_t *c, bool err, const char *needle, size_t from, int timeout_ms)
{
    long long deadline = collab_mono_ms() + timeout_ms;
    for (;;) {
        const char *buf = err ? c->err : c->out;
        size_t len = err ? c->err_len : c->out_len;
        const char *hit = from <= len ? strstr(buf + from, needle) : NULL;
        if (hit)
            return (long)(hit - buf) + (long)strlen(needle);
        long long left = deadline - collab_mono_ms();
        if (left <= 0 || (!pump(c, (int)left) && (c->out_fd < 0 && c->err_fd < 0)))
            return -1;
    }
}

int child_wait(child_t *c, int timeout_ms)
{
    long long deadline = collab_mono_ms() + timeout_ms;
    int status = 0;
    if (c->exited || c->pid <= 0)
        return c->status;
    while (c->out_fd >= 0 || c->err_fd >= 0) {
        long long left = deadline - collab_mono_ms();
        if (left <= 0) {
            fprintf(stderr, "child %d did not exit in %d ms: killed\n", (int)c->pid, timeout_ms);
            kill(c->pid, SIGKILL);
            break;
        }
        pump(c, (int)left);
    }
    while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR)
        ;
    c->exited = true;
    c->status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return c->status;
}

int child_run(child_t *c, const char *const *argv, const char *stdin_text, int timeout_ms)
{
    if (child_start(c, argv) != 0)
        return -1;
    if (stdin_text)
        child_write(c, stdin_text);
    child_close_stdin(c);
    return child_wait(c, timeout_ms);
}

void child_signal(child_t *c, int sig)
{
    if (c->pid > 0 && !c->exited)
        kill(c->pid, sig);
}

void child_free(child_t *c)
{
    child_close_stdin(c);
    if (c->pid > 0 && !c->exited) {
        kill(c->pid, SIGKILL);
        child_wait(c, 5000);
    }
    if (c->out_fd >= 0)
        close(c->out_fd);
    if (c->err_fd >= 0)
        close(c->err_fd);
    free(c->out);
    free(c->err);
    memset(c, 0, sizeof *c);
    c->in_fd = c->out_fd = c->err_fd = -1;
}
