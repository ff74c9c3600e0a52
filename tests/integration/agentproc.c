/*  agentproc.c: child agent processes (see agentproc.h). */
#include "agentproc.h"
#include "collab_clock.h"
#include "collab_spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int agent_spawn(agent_proc_t *p, char *const argv[])
{
    const collab_spawn_opts_t opts = {.out = COLLAB_SPAWN_PIPE, .err = COLLAB_SPAWN_STDOUT};
    collab_proc_t child;
    memset(p, 0, sizeof *p);
    p->status = -1;
    if (collab_spawn(&child, (const char *const *)argv, &opts) != 0)
        return -1;
    p->pid = child.pid;
    p->out = child.out;
    fcntl(p->out, F_SETFL, O_NONBLOCK);
    p->pidfd = (int)syscall(SYS_pidfd_open, p->pid, 0);
    return p->pidfd >= 0 ? 0 : -1;
}

/*  Reads what is available; keeps the last bytes when the buffer is full. */
static void drain(agent_proc_t *p)
{
    for (;;) {
        if (p->len == sizeof p->buf - 1) {
            memmove(p->buf, p->buf + sizeof p->buf / 2, p->len - sizeof p->buf / 2);
            p->len -= sizeof p->buf / 2;
        }
        ssize_t r = read(p->out, p->buf + p->len, sizeof p->buf - 1 - p->len);
        if (r <= 0)
            break;
        p->len += (size_t)r;
    }
    p->buf[p->len] = '\0';
}

static void reap(agent_proc_t *p)
{
    int status;
    if (p->status >= 0 || waitpid(p->pid, &status, WNOHANG) != p->pid)
        return;
    p->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    drain(p);
}

/*  Polls stdout and the pidfd until the deadline; returns false when it passed. */
static bool wait_some(agent_proc_t *p, long long deadline)
{
    struct pollfd fds[2] = {{p->out, POLLIN, 0}, {p->pidfd, POLLIN, 0}};
    long long left = deadline - collab_mono_ms();
    if (left <= 0)
        return false;
    if (poll(fds, 2, (int)left) > 0) {
        drain(p);
        if (fds[1].revents)
            reap(p);
    }
    return true;
}

bool agent_wait_output(agent_proc_t *p, const char *needle, int timeout_ms)
{
    long long deadline = collab_mono_ms() + timeout_ms;
    drain(p);
    while (!strstr(p->buf, needle)) {
        if (p->status >= 0 || !wait_some(p, deadline))
            return strstr(p->buf, needle) != NULL;
    }
    return true;
}

int agent_wait_exit(agent_proc_t *p, int timeout_ms)
{
    long long deadline = collab_mono_ms() + timeout_ms;
    while (p->status < 0) {
        if (!wait_some(p, deadline)) {
            agent_kill(p, SIGKILL);
            return -1;
        }
    }
    close(p->out);
    close(p->pidfd);
    p->out = p->pidfd = -1;
    return p->status;
}

void agent_kill(agent_proc_t *p, int sig)
{
    if (p->status >= 0)
        return;
    kill(p->pid, sig);
    int status;
    while (waitpid(p->pid, &status, 0) < 0 && errno == EINTR)
        ;
    p->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    drain(p);
    close(p->out);
    close(p->pidfd);
    p->out = p->pidfd = -1;
}
