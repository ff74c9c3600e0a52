/*  labproc.c: a program of the lab page, read from the loop (labproc.h). */
#include "labproc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#define READ_MAX (64 * 1024) /* bytes read from one pipe per turn of the loop */

int lab_proc_start(lab_proc_t *lp, const char *const *argv, lab_line_fn fn, void *arg)
{
    memset(lp, 0, sizeof *lp);
    lp->fd[0] = lp->fd[1] = -1;
    const collab_spawn_opts_t opts = {.in = COLLAB_SPAWN_NULL,
                                      .out = COLLAB_SPAWN_PIPE,
                                      .err = COLLAB_SPAWN_PIPE,
                                      .death_signal = SIGTERM,
                                      .close_fds = true,
                                      .default_sigpipe = true};
    if (collab_spawn(&lp->proc, argv, &opts) != 0)
        return -1;
    lp->fd[0] = lp->proc.out;
    lp->fd[1] = lp->proc.err;
    for (int i = 0; i < 2; i++)
        fcntl(lp->fd[i], F_SETFL, fcntl(lp->fd[i], F_GETFL) | O_NONBLOCK);
    lp->live = true;
    lp->fn = fn;
    lp->arg = arg;
    return 0;
}

size_t lab_proc_fill(const lab_proc_t *lp, zmq_pollitem_t *items)
{
    size_t n = 0;
    for (int i = 0; lp->live && i < 2; i++)
        if (lp->fd[i] >= 0)
            items[n++] = (zmq_pollitem_t){NULL, lp->fd[i], ZMQ_POLLIN, 0};
    return n;
}

/*  Hands on buf's line(s): every complete one, and the rest too when flush (or when full). */
static void lines(lab_proc_t *lp, int i, bool flush)
{
    char *b = lp->buf[i];
    size_t start = 0;
    for (size_t k = 0; k < lp->len[i]; k++)
        if (b[k] == '\n') {
            b[k] = '\0';
            lp->fn(lp->arg, i, b + start);
            start = k + 1;
        }
    memmove(b, b + start, lp->len[i] - start);
    lp->len[i] -= start;
    if (lp->len[i] > 0 && (flush || lp->len[i] == LAB_LINE_MAX - 1)) {
        b[lp->len[i]] = '\0';
        lp->fn(lp->arg, i, b);
        lp->len[i] = 0;
    }
}

/*  Reads pipe i until it would block, READ_MAX bytes, or its end. */
static void drain(lab_proc_t *lp, int i)
{
    for (size_t total = 0; lp->fd[i] >= 0 && total < READ_MAX;) {
        ssize_t r = read(lp->fd[i], lp->buf[i] + lp->len[i], LAB_LINE_MAX - 1 - lp->len[i]);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        if (r <= 0) { /* its end (or an error): the last partial line, then closed */
            lines(lp, i, true);
            close(lp->fd[i]);
            lp->fd[i] = -1;
            return;
        }
        lp->len[i] += (size_t)r;
        total += (size_t)r;
        lines(lp, i, false);
    }
}

void lab_proc_handle(lab_proc_t *lp, const zmq_pollitem_t *items, size_t n)
{
    for (size_t k = 0; k < n; k++)
        for (int i = 0; lp->live && i < 2; i++)
            if (lp->fd[i] >= 0 && items[k].fd == lp->fd[i] &&
                (items[k].revents & (ZMQ_POLLIN | ZMQ_POLLERR)))
                drain(lp, i);
}

bool lab_proc_eof(const lab_proc_t *lp)
{
    return lp->fd[0] < 0 && lp->fd[1] < 0;
}

int lab_proc_reap(lab_proc_t *lp, int wait_ms)
{
    if (!lp->live)
        return -1;
    for (int i = 0; i < 2; i++)
        if (lp->fd[i] >= 0) {
            close(lp->fd[i]);
            lp->fd[i] = -1;
        }
    lp->proc.out = lp->proc.err = -1; /* closed above */
    int rc = collab_spawn_wait(&lp->proc, wait_ms);
    collab_spawn_close(&lp->proc);
    lp->live = false;
    return rc == 0 ? collab_spawn_code(&lp->proc) : -1;
}

void lab_proc_signal(const lab_proc_t *lp, int sig)
{
    if (lp->live)
        collab_spawn_kill(&lp->proc, sig);
}
