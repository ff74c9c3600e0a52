/*  redisproc.c: a private redis-server for a test (see redisproc.h). Readiness is a PING that
    is answered; between tries the fixture waits on the server's stdout pipe, which wakes it
    at once when the server exits (end of file), or after a short growing backoff. */
#include "redisproc.h"
#include "collab_clock.h"
#include "collab_spawn.h"
#include "collab_port.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define START_DEADLINE_MS 15000
#define STOP_DEADLINE_MS  10000
#define PORT_ATTEMPTS     5
#define LOG_TAIL          2048

struct redisproc {
    char dir[512];
    char conf[560];
    char log[560];
    char sock[560];
    char url[600];
    int port;                       /* 0 with a unix socket */
    bool unix_socket, frozen, kept; /* kept: the caller's folder, not removed */
    collab_proc_t proc;
};

/*  The last bytes of the server's log, for a failure's message. */
static void log_tail(const redisproc_t *self, char *out, size_t cap)
{
    out[0] = '\0';
    int fd = open(self->log, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    off_t end = lseek(fd, 0, SEEK_END);
    off_t from = end > (off_t)cap - 1 ? end - (off_t)cap + 1 : 0;
    ssize_t n = pread(fd, out, cap - 1, from);
    out[n > 0 ? n : 0] = '\0';
    close(fd);
}

static int write_conf(redisproc_t *self, const redisproc_opts_t *o)
{
    FILE *f = NULL;
    int fd = open(self->conf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || !(f = fdopen(fd, "w"))) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    fprintf(f,
            "# a private redis-server of a test (tools/common/redisproc.c)\n"
            "daemonize no\ndir %s\nlogfile %s\nsave \"\"\nappendonly yes\n"
            "appendfsync %s\nmaxmemory %s\nmaxmemory-policy noeviction\n",
            self->dir, self->log, o->appendfsync ? o->appendfsync : "always",
            o->maxmemory ? o->maxmemory : "64mb");
    if (self->unix_socket)
        fprintf(f, "port 0\nunixsocket %s\nunixsocketperm 700\n", self->sock);
    else
        fprintf(f, "bind 127.0.0.1\nport %d\n", self->port);
    if (o->user)
        fprintf(f, "user default off\nuser %s on >%s %s\n", o->user, o->password,
                o->acl_rules ? o->acl_rules : "~* &* +@all");
    if (o->extra_conf)
        fprintf(f, "%s\n", o->extra_conf);
    return fclose(f) == 0 ? 0 : -1;
}

/*  Whether the server answers PING (an error other than LOADING counts: NOAUTH says that
    it serves, and a test with an ACL gives no password here). */
static bool answers(const redisproc_t *self)
{
    struct timeval tv = {0, 200 * 1000};
    redisContext *c = self->unix_socket ? redisConnectUnixWithTimeout(self->sock, tv)
                                        : redisConnectWithTimeout("127.0.0.1", self->port, tv);
    bool ok = false;
    if (c && !c->err && redisSetTimeout(c, tv) == REDIS_OK) {
        redisReply *r = redisCommand(c, "PING");
        ok = r && (r->type != REDIS_REPLY_ERROR || !r->str || strncmp(r->str, "LOADING", 7) != 0);
        if (r)
            freeReplyObject(r);
    }
    if (c)
        redisFree(c);
    return ok;
}

/*  Waits up to ms on the server's stdout: false once it has exited (end of file). */
static bool still_running(redisproc_t *self, int ms)
{
    struct pollfd pf = {self->proc.out, POLLIN, 0};
    if (poll(&pf, 1, ms) <= 0)
        return true;
    char buf[256];
    ssize_t n = read(self->proc.out, buf, sizeof buf);
    return n > 0 || (n < 0 && errno == EINTR);
}

/*  Starts the server on the current port or socket and waits until it answers. Returns 0,
    1 when it exited at once because its port was taken, -1 otherwise. */
static int spawn_and_wait(redisproc_t *self)
{
    char exe_buf[512];
    const char *exe = collab_port_find_program("redis-server", exe_buf, sizeof exe_buf);
    if (!exe) {
        fprintf(stderr, "redisproc: redis-server not found: run scripts/deps (it installs "
                        "redis-server)\n");
        return -1;
    }
    const char *argv[] = {exe, self->conf, NULL};
    const collab_spawn_opts_t opts = {.in = COLLAB_SPAWN_NULL,
                                      .out = COLLAB_SPAWN_PIPE,
                                      .err = COLLAB_SPAWN_FILE,
                                      .err_path = "redis.stderr",
                                      .dir = self->dir,
                                      .death_signal = SIGKILL,
                                      .close_fds = true};
    collab_spawn_close(&self->proc);
    if (collab_spawn(&self->proc, argv, &opts) != 0) {
        fprintf(stderr, "redisproc: cannot start %s: %s\n", exe, strerror(errno));
        return -1;
    }
    int64_t deadline = collab_mono_ms() + START_DEADLINE_MS;
    for (int backoff = 1; collab_mono_ms() < deadline; backoff = backoff < 50 ? backoff * 2 : 50) {
        if (answers(self))
            return 0;
        if (!still_running(self, backoff)) {
            char tail[LOG_TAIL];
            collab_spawn_wait(&self->proc, STOP_DEADLINE_MS);
            log_tail(self, tail, sizeof tail);
            if (strstr(tail, "Address already in use"))
                return 1;
            fprintf(stderr, "redisproc: redis-server exited (status %d); its log:\n%s\n",
                    collab_spawn_code(&self->proc), tail);
            return -1;
        }
    }
    fprintf(stderr, "redisproc: redis-server did not answer within %d ms\n", START_DEADLINE_MS);
    collab_spawn_kill(&self->proc, SIGKILL);
    collab_spawn_wait(&self->proc, STOP_DEADLINE_MS);
    return -1;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static redisproc_t *made(redisproc_t *self, const redisproc_opts_t *o)
{
    int rc = 1;
    for (int attempt = 0; rc == 1 && attempt < PORT_ATTEMPTS; attempt++) {
        if (!self->unix_socket) {
            self->port = collab_port_free();
            snprintf(self->url, sizeof self->url, "redis://127.0.0.1:%d", self->port);
        }
        rc = self->port < 0 || write_conf(self, o) != 0 ? -1 : spawn_and_wait(self);
    }
    if (rc != 0) {
        if (rc == 1)
            fprintf(stderr, "redisproc: %d ports in a row were taken\n", PORT_ATTEMPTS);
        redisproc_stop(&self);
    }
    return self;
}

redisproc_t *redisproc_start(const redisproc_opts_t *opts)
{
    const redisproc_opts_t none = {0};
    const redisproc_opts_t *o = opts ? opts : &none;
    if (o->user && (!o->password || !o->password[0] || strpbrk(o->password, " \t\r\n#"))) {
        fprintf(stderr, "redisproc: an ACL user needs a password without blanks or '#'\n");
        return NULL;
    }
    redisproc_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->proc.in = self->proc.out = self->proc.err = -1;
    if (o->dir) {
        self->kept = true;
        if (snprintf(self->dir, sizeof self->dir, "%s", o->dir) >= (int)sizeof self->dir ||
            (mkdir(self->dir, 0700) != 0 && errno != EEXIST)) {
            fprintf(stderr, "redisproc: cannot use the folder %s\n", o->dir);
            free(self);
            return NULL;
        }
    } else {
        snprintf(self->dir, sizeof self->dir, "/tmp/collab-redis-XXXXXX");
        if (!mkdtemp(self->dir)) {
            fprintf(stderr, "redisproc: mkdtemp: %s\n", strerror(errno));
            free(self);
            return NULL;
        }
    }
    self->unix_socket = o->unix_socket;
    snprintf(self->conf, sizeof self->conf, "%s/redis.conf", self->dir);
    snprintf(self->log, sizeof self->log, "%s/redis.log", self->dir);
    snprintf(self->sock, sizeof self->sock, "%s/redis.sock", self->dir);
    if (self->unix_socket)
        snprintf(self->url, sizeof self->url, "unix://%s", self->sock);
    return made(self, o);
}

const char *redisproc_url(const redisproc_t *self)
{
    return self->url;
}

const char *redisproc_dir(const redisproc_t *self)
{
    return self->dir;
}

pid_t redisproc_pid(const redisproc_t *self)
{
    return self->proc.pid > 0 && !self->proc.exited ? self->proc.pid : 0;
}

int redisproc_kill9(redisproc_t *self)
{
    if (!redisproc_pid(self))
        return -1;
    collab_spawn_kill(&self->proc, SIGKILL);
    self->frozen = false;
    collab_spawn_wait(&self->proc, STOP_DEADLINE_MS);
    return self->proc.exited ? 0 : -1;
}

/*  SIGSTOP (frozen) or SIGCONT (not). */
static int set_frozen(redisproc_t *self, bool frozen)
{
    if (!redisproc_pid(self))
        return -1;
    collab_spawn_kill(&self->proc, frozen ? SIGSTOP : SIGCONT);
    self->frozen = frozen;
    return 0;
}

int redisproc_freeze(redisproc_t *self)
{
    return set_frozen(self, true);
}

int redisproc_thaw(redisproc_t *self)
{
    return set_frozen(self, false);
}

int redisproc_halt(redisproc_t *self)
{
    if (!redisproc_pid(self))
        return -1;
    if (self->frozen)
        redisproc_thaw(self);
    collab_spawn_kill(&self->proc, SIGTERM);
    return collab_spawn_wait(&self->proc, STOP_DEADLINE_MS);
}

int redisproc_restart(redisproc_t *self)
{
    if (redisproc_pid(self))
        return -1;
    return spawn_and_wait(self) == 0 ? 0 : -1;
}

void redisproc_stop(redisproc_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    redisproc_t *self = *self_p;
    if (redisproc_pid(self))
        redisproc_halt(self);
    collab_spawn_close(&self->proc);
    if (!self->kept)
        nftw(self->dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
    free(self);
    *self_p = NULL;
}
