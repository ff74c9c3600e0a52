/*  labproc.h: a program the lab page runs (collab-attack, collab-sniff), read line by line
    from the gateway's one loop without blocking: its stdout and stderr are non-blocking
    pipes that the loop adds to its zmq_poll set (lab.h). Started through collab_spawn.h. */
#ifndef WEB_LABPROC_H
#define WEB_LABPROC_H

#include "collab_spawn.h"

#include <stdbool.h>
#include <stddef.h>
#include <zmq.h>

#define LAB_LINE_MAX 4096 /* a longer line is handed on in pieces */

/*  A line of the program's: stream 0 its stdout, 1 its stderr; line without its newline. */
typedef void (*lab_line_fn)(void *arg, int stream, const char *line);

typedef struct {
    collab_proc_t proc;
    bool live; /* started and not yet reaped */
    int fd[2]; /* stdout, stderr; -1 once at their end */
    char buf[2][LAB_LINE_MAX];
    size_t len[2];
    lab_line_fn fn;
    void *arg;
} lab_proc_t;

/*  Starts argv[0] with argv, stdin on /dev/null, stdout and stderr on pipes; it gets SIGTERM
    if the gateway dies. Returns 0, or -1 (errno) with nothing started. */
int lab_proc_start(lab_proc_t *lp, const char *const *argv, lab_line_fn fn, void *arg);

/*  Its open pipes as poll items (at most 2); their count. */
size_t lab_proc_fill(const lab_proc_t *lp, zmq_pollitem_t *items);

/*  Reads what is ready on the pipes among items (bounded per call), handing on whole lines;
    a pipe at its end hands on its last partial line and is closed. */
void lab_proc_handle(lab_proc_t *lp, const zmq_pollitem_t *items, size_t n);

/*  Whether both pipes reached their end (the program is exiting). */
bool lab_proc_eof(const lab_proc_t *lp);

/*  Waits at most wait_ms for it to exit (then SIGKILL), closes the pipes; its exit code
    (128 + signal when a signal ended it), or -1 when it had to be killed. */
int lab_proc_reap(lab_proc_t *lp, int wait_ms);

/*  Sends sig while it runs. */
void lab_proc_signal(const lab_proc_t *lp, int sig);

#endif
