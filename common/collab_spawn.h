/*  collab_spawn.h: the one fork/exec helper of the project. Starts a program (or a function,
    for a worker process that does not exec) with each of its standard descriptors inherited,
    on a new pipe, on /dev/null, on a descriptor or file given, or on a new pseudo-terminal;
    optionally killed when its parent dies; then waits for it with a deadline, or kills it.
    Every fork in agents, tools and tests goes through here. */
#ifndef COLLAB_SPAWN_H
#define COLLAB_SPAWN_H

#include <stdbool.h>
#include <sys/types.h>

/*  Where one of the child's standard descriptors goes. */
typedef enum {
    COLLAB_SPAWN_INHERIT = 0, /* the parent's own (the default) */
    COLLAB_SPAWN_PIPE,        /* a new pipe; the parent's end is proc->in, ->out or ->err */
    COLLAB_SPAWN_NULL,        /* /dev/null */
    COLLAB_SPAWN_FD,          /* opts->*_fd, duplicated (the parent keeps and closes its own) */
    COLLAB_SPAWN_FILE,        /* opts->*_path, created or truncated, mode 0600 (out and err) */
    COLLAB_SPAWN_STDOUT,      /* err only: the same descriptor as the child's stdout */
} collab_spawn_io_t;

typedef struct {
    collab_spawn_io_t in, out, err;
    int in_fd, out_fd, err_fd;         /* for COLLAB_SPAWN_FD */
    const char *out_path, *err_path;   /* for COLLAB_SPAWN_FILE (after dir is entered) */
    const char *dir;                   /* the child's working directory (NULL: the parent's) */
    const char *const *unset_env;      /* NULL-terminated names removed from its environment */
    int death_signal;                  /* not 0: sent to the child when the parent dies */
    bool close_fds;                    /* close the child's descriptors 3..255 before exec */
    bool default_sigpipe;              /* SIGPIPE back to its default action in the child */
    unsigned short pty_rows, pty_cols; /* not 0: stdin, stdout and stderr on a new terminal */
} collab_spawn_opts_t;

/*  A started child. The parent's descriptors are close-on-exec, -1 when there is none. */
typedef struct {
    pid_t pid;   /* 0 before a start and after a failed one */
    int in;      /* writes to the child's stdin (PIPE; a pty's dup) */
    int out;     /* reads its stdout (PIPE; a pty's master) */
    int err;     /* reads its stderr (PIPE) */
    int wstatus; /* waitpid's status once exited */
    bool exited;
} collab_proc_t;

/*  Starts argv[0] (a path, not searched) with argv (NULL-terminated) under opts (NULL: all
    inherited). When exec fails the child exits with 127. Returns 0, or -1 (errno set) with
    nothing started and nothing left open. */
int collab_spawn(collab_proc_t *proc, const char *const *argv, const collab_spawn_opts_t *opts);

/*  Forks a worker that runs fn(arg, fd) and exits with its return value. Its standard
    descriptors are the parent's, untouched: with opts->out == COLLAB_SPAWN_PIPE, fd is the
    write end of that pipe (proc->out reads it), else -1. Only out, dir and death_signal of
    opts are used. Returns 0 or -1. */
int collab_spawn_fn(collab_proc_t *proc, int (*fn)(void *arg, int fd), void *arg,
                    const collab_spawn_opts_t *opts);

/*  Waits for the child to exit, at most timeout_ms (< 0: no limit); past the deadline it is
    killed with SIGKILL and reaped. Returns 0 when it exited by itself (proc->wstatus holds
    its status), -1 when it was killed at the deadline or cannot be waited for. Idempotent. */
int collab_spawn_wait(collab_proc_t *proc, int timeout_ms);

/*  Its exit code once waited for: the code, 128 + the signal when a signal ended it, -1 when
    it has not exited. */
int collab_spawn_code(const collab_proc_t *proc);

/*  Sends sig to the child while it runs (not once it has been waited for). */
void collab_spawn_kill(const collab_proc_t *proc, int sig);

/*  Closes the parent's descriptors still open (in, out, err); the child is left as is. */
void collab_spawn_close(collab_proc_t *proc);

/*  Replaces this process with argv[0] (a path), argv as given: what a program that hands
    over to another (collab-victim to the agent it plays) calls instead of forking. Returns
    -1, with errno, only when that could not be done. */
int collab_exec(const char *const *argv);

#endif
