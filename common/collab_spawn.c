/*  collab_spawn.c: the fork/exec helper (see collab_spawn.h). */
#include "collab_spawn.h"

#include "collab_clock.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static const collab_spawn_opts_t no_opts;

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

static void close_pair(int p[2])
{
    close_fd(&p[0]);
    close_fd(&p[1]);
}

/*  The pipes the options ask for: p[0] stdin, p[1] stdout, p[2] stderr ({-1, -1} if none). */
static int make_pipes(const collab_spawn_opts_t *o, int p[3][2])
{
    collab_spawn_io_t io[3] = {o->in, o->out, o->err};
    for (int i = 0; i < 3; i++)
        p[i][0] = p[i][1] = -1;
    for (int i = 0; i < 3; i++)
        if (io[i] == COLLAB_SPAWN_PIPE && pipe(p[i]) != 0) {
            for (int j = 0; j < i; j++)
                close_pair(p[j]);
            return -1;
        }
    return 0;
}

/*  In the child: the descriptor that fd (0, 1, 2) gets, or -1 to leave it. */
static int child_source(const collab_spawn_opts_t *o, int fd, int p[3][2])
{
    collab_spawn_io_t io = fd == 0 ? o->in : fd == 1 ? o->out : o->err;
    const char *path = fd == 1 ? o->out_path : o->err_path;
    switch (io) {
    case COLLAB_SPAWN_PIPE:
        return fd == 0 ? p[0][0] : p[fd][1];
    case COLLAB_SPAWN_NULL:
        return open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
    case COLLAB_SPAWN_FD:
        return fd == 0 ? o->in_fd : fd == 1 ? o->out_fd : o->err_fd;
    case COLLAB_SPAWN_FILE:
        return path ? open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600) : -1;
    case COLLAB_SPAWN_STDOUT:
        return fd == 2 ? STDOUT_FILENO : -1;
    default:
        return -1;
    }
}

/*  In the child, before anything else: dies with its parent when asked (and at once when
    the parent is already gone), then enters its directory. */
static void child_setup(const collab_spawn_opts_t *o, pid_t parent)
{
    if (o->death_signal && (prctl(PR_SET_PDEATHSIG, o->death_signal) != 0 || getppid() != parent))
        _exit(127);
    if (o->dir && chdir(o->dir) != 0)
        _exit(127);
}

static void child_exec(const collab_spawn_opts_t *o, const char *const *argv, int p[3][2])
{
    for (int fd = 0; fd < 3 && !o->pty_rows; fd++) {
        collab_spawn_io_t io = fd == 0 ? o->in : fd == 1 ? o->out : o->err;
        int src = child_source(o, fd, p);
        if (src >= 0 && src != fd && dup2(src, fd) < 0)
            _exit(127);
        if ((io == COLLAB_SPAWN_NULL || io == COLLAB_SPAWN_FILE) && src > 2)
            close(src); /* opened here: the program needs only its copy */
    }
    if (o->close_fds)
        for (int fd = 3; fd < 256; fd++)
            close(fd);
    else
        for (int i = 0; i < 3; i++)
            close_pair(p[i]);
    for (size_t i = 0; o->unset_env && o->unset_env[i]; i++)
        unsetenv(o->unset_env[i]);
    if (o->default_sigpipe)
        signal(SIGPIPE, SIG_DFL);
    collab_exec(argv);
    _exit(127);
}

static void proc_reset(collab_proc_t *proc)
{
    memset(proc, 0, sizeof *proc);
    proc->in = proc->out = proc->err = -1;
}

/*  In the parent: keeps its ends of the pipes, close-on-exec, and closes the child's. */
static void keep_ends(collab_proc_t *proc, int p[3][2])
{
    proc->in = p[0][1], proc->out = p[1][0], proc->err = p[2][0];
    close_fd(&p[0][0]);
    close_fd(&p[1][1]);
    close_fd(&p[2][1]);
    int fds[3] = {proc->in, proc->out, proc->err};
    for (int i = 0; i < 3; i++)
        if (fds[i] >= 0)
            fcntl(fds[i], F_SETFD, FD_CLOEXEC);
}

static int spawn_pty(collab_proc_t *proc, const char *const *argv, const collab_spawn_opts_t *o)
{
    struct winsize ws = {.ws_row = o->pty_rows, .ws_col = o->pty_cols};
    int master = -1, none[3][2] = {{-1, -1}, {-1, -1}, {-1, -1}};
    pid_t parent = getpid();
    proc->pid = forkpty(&master, NULL, NULL, &ws);
    if (proc->pid == 0) {
        child_setup(o, parent);
        child_exec(o, argv, none);
    }
    if (proc->pid < 0) {
        proc->pid = 0;
        return -1;
    }
    fcntl(master, F_SETFD, FD_CLOEXEC);
    proc->out = master;
    proc->in = fcntl(master, F_DUPFD_CLOEXEC, 0);
    return 0;
}

int collab_spawn(collab_proc_t *proc, const char *const *argv, const collab_spawn_opts_t *opts)
{
    const collab_spawn_opts_t *o = opts ? opts : &no_opts;
    int p[3][2];
    proc_reset(proc);
    if (o->pty_rows)
        return spawn_pty(proc, argv, o);
    if (make_pipes(o, p) != 0)
        return -1;
    pid_t parent = getpid();
    proc->pid = fork();
    if (proc->pid == 0) {
        child_setup(o, parent);
        child_exec(o, argv, p);
    }
    if (proc->pid < 0) {
        int saved = errno;
        for (int i = 0; i < 3; i++)
            close_pair(p[i]);
        proc->pid = 0;
        errno = saved;
        return -1;
    }
    keep_ends(proc, p);
    return 0;
}

int collab_spawn_fn(collab_proc_t *proc, int (*fn)(void *arg, int fd), void *arg,
                    const collab_spawn_opts_t *opts)
{
    const collab_spawn_opts_t *o = opts ? opts : &no_opts;
    int p[2] = {-1, -1};
    proc_reset(proc);
    if (o->out == COLLAB_SPAWN_PIPE && pipe(p) != 0)
        return -1;
    pid_t parent = getpid();
    proc->pid = fork();
    if (proc->pid == 0) {
        child_setup(o, parent);
        close_fd(&p[0]);
        _exit(fn(arg, p[1]));
    }
    close_fd(&p[1]);
    if (proc->pid < 0) {
        close_fd(&p[0]);
        proc->pid = 0;
        return -1;
    }
    proc->out = p[0];
    if (proc->out >= 0)
        fcntl(proc->out, F_SETFD, FD_CLOEXEC);
    return 0;
}

/*  Reaps without blocking (block: until it exits). True once exited. */
static bool reap(collab_proc_t *proc, bool block)
{
    pid_t r;
    while ((r = waitpid(proc->pid, &proc->wstatus, block ? 0 : WNOHANG)) < 0 && errno == EINTR)
        ;
    if (r == proc->pid || (r < 0 && errno == ECHILD))
        proc->exited = true;
    return proc->exited;
}

int collab_spawn_wait(collab_proc_t *proc, int timeout_ms)
{
    if (proc->pid <= 0)
        return -1;
    if (proc->exited)
        return 0;
    if (timeout_ms < 0)
        return reap(proc, true) ? 0 : -1;
    int pidfd = (int)syscall(SYS_pidfd_open, proc->pid, 0);
    int64_t deadline = collab_mono_ms() + timeout_ms;
    while (!reap(proc, false)) {
        int64_t left = deadline - collab_mono_ms();
        if (left <= 0 || pidfd < 0) {
            kill(proc->pid, SIGKILL);
            reap(proc, true);
            close_fd(&pidfd);
            return -1;
        }
        struct pollfd pf = {pidfd, POLLIN, 0};
        poll(&pf, 1, (int)left);
    }
    close_fd(&pidfd);
    return 0;
}

int collab_spawn_code(const collab_proc_t *proc)
{
    if (!proc->exited)
        return -1;
    if (WIFEXITED(proc->wstatus))
        return WEXITSTATUS(proc->wstatus);
    return WIFSIGNALED(proc->wstatus) ? 128 + WTERMSIG(proc->wstatus) : -1;
}

void collab_spawn_kill(const collab_proc_t *proc, int sig)
{
    if (proc->pid > 0 && !proc->exited)
        kill(proc->pid, sig);
}

void collab_spawn_close(collab_proc_t *proc)
{
    close_fd(&proc->in);
    close_fd(&proc->out);
    close_fd(&proc->err);
}

int collab_exec(const char *const *argv)
{
    execv(argv[0], (char *const *)argv);
    return -1;
}
