/*  childproc.h: runs an agent binary as a child process for integration tests: its stdin,
    stdout and stderr on pipes, output collected while waiting for a text to appear or for
    the child to exit, each wait bounded by a deadline (no sleeps). */
#ifndef CHILDPROC_H
#define CHILDPROC_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct {
    pid_t pid;
    int in_fd, out_fd, err_fd; /* -1 once closed */
    char *out, *err;           /* everything read so far, NUL-terminated */
    size_t out_len, err_len;
    int status; /* exit code once exited, -1 when killed or unknown */
    bool exited;
} child_t;

/*  Starts argv[0] with argv (NULL-terminated), the COLLAB_* environment variables
    removed so only the given options count. Returns 0 or -1. */
int child_start(child_t *c, const char *const *argv);

/*  Starts argv[0] on a new pseudo-terminal of rows x cols: its stdin, stdout and stderr
    are the terminal; out collects what it draws and child_write types at it. */
int child_start_pty(child_t *c, const char *const *argv, int rows, int cols);

/*  Writes text to the child's stdin. Returns 0 or -1. */
int child_write(child_t *c, const char *text);

/*  Closes the child's stdin (it then reads end of input). */
void child_close_stdin(child_t *c);

/*  Reads until needle appears in stdout (err: stderr) at or after byte `from`, or until
    the deadline or end of output. Returns the offset just past the needle, or -1. */
long child_expect(child_t *c, bool err, const char *needle, size_t from, int timeout_ms);

/*  Reads all output until the child exits (killed with SIGKILL after timeout_ms) and
    returns its exit code, or -1. */
int child_wait(child_t *c, int timeout_ms);

/*  Runs a child to completion with stdin_text (NULL: none) as its input; returns the exit
    code (or -1). The output stays in c until child_free. */
int child_run(child_t *c, const char *const *argv, const char *stdin_text, int timeout_ms);

/*  Sends a signal to a running child. */
void child_signal(child_t *c, int sig);

/*  Kills the child if still running and frees the collected output. */
void child_free(child_t *c);

#endif
