/*  statelock.c: the state file's lock file (see statelock.h). flock, not fcntl: SQLite holds
    fcntl locks on the state itself, and fcntl locks are per process, so two brokers in one
    process would not exclude each other. */
#include "statelock.h"

#include "collab_limits.h"
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

struct collab_statelock {
    int fd;
    char path[COLLAB_PATH_MAX + 8];
};

/*  The holder's pid as it wrote it ("unknown" while it has not yet). */
static void holder(int fd, char *out, size_t cap)
{
    char buf[24];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    buf[n > 0 ? n : 0] = '\0';
    buf[strspn(buf, "0123456789")] = '\0';
    snprintf(out, cap, "%s", buf[0] ? buf : "unknown");
}

/*  Locks the file now at path. Returns 1 when locked, 0 when the file was replaced while
    locking (try again), -1 when another process holds it or on error (err set). */
static int lock_once(collab_statelock_t *self, const char *state, char *err, size_t errlen)
{
    struct stat held, now;
    self->fd = open(self->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (self->fd < 0) {
        snprintf(err, errlen, "%s: cannot create the lock file: %s", self->path, strerror(errno));
        return -1;
    }
    if (flock(self->fd, LOCK_EX | LOCK_NB) != 0) {
        char pid[24];
        holder(self->fd, pid, sizeof pid);
        snprintf(err, errlen, "%s is in use by another broker (pid %s; lock file %s)", state, pid,
                 self->path);
        return -1;
    }
    /* a holder that was stopping may have removed the file we opened: lock the new one */
    if (fstat(self->fd, &held) != 0 || stat(self->path, &now) != 0 || held.st_ino != now.st_ino ||
        held.st_dev != now.st_dev) {
        close(self->fd);
        self->fd = -1;
        return 0;
    }
    char pid[24];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(self->fd, 0) != 0 || pwrite(self->fd, pid, (size_t)n, 0) != n) {
        snprintf(err, errlen, "%s: cannot write the lock file: %s", self->path, strerror(errno));
        return -1;
    }
    return 1;
}

collab_statelock_t *collab_statelock_acquire(const char *state_path, char *err, size_t errlen)
{
    collab_statelock_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    self->fd = -1;
    err[0] = '\0';
    snprintf(self->path, sizeof self->path, "%s.lock", state_path);
    for (int tries = 0; tries < 3; tries++) {
        int rc = lock_once(self, state_path, err, errlen);
        if (rc == 1)
            return self;
        if (rc < 0)
            break;
    }
    if (self->fd >= 0)
        close(self->fd); /* not ours: the file stays */
    if (self->fd < 0 && err[0] == '\0')
        snprintf(err, errlen, "%s: the lock file keeps being replaced", self->path);
    free(self);
    return NULL;
}

void collab_statelock_release(collab_statelock_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    collab_statelock_t *self = *self_p;
    unlink(self->path); /* while still locked: the next broker locks a fresh file */
    close(self->fd);
    free(self);
    *self_p = NULL;
}
