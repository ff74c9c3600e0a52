/*  redisfix.c: a private redis-server for a test (see redisfix.h). Readiness is a PING that
    is answered; between tries the fixture waits on the server's stdout pipe, which wakes it
    at once when the server exits (end of file), or after a short growing backoff. */
#include "redisfix.h"
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

struct redisfix {
    char dir[64];
    char conf[128];
    char log[128];
    char sock[128];
    char url[160];
    int port; /* 0 with a unix socket */
    bool unix_socket, frozen;
    collab_proc_t proc;
};

/*  The last bytes of the server's log, for a failure's message. */
static void log_tail(const redisfix_t *self, char *out, size_t cap)
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

static int write_conf(redisfix_t *self, const redisfix_opts_t *o)
{
    FILE *f = NULL;
    int fd = open(self->conf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0 || !(f = fdopen(fd, "w"))) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    fprintf(f,
            "# a private redis-server of a test (tests/redis/redisfix.c)\n"
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
static bool answers(const redisfix_t *self)
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
static bool still_running(redisfix_t *self, int ms)
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
static int spawn_and_wait(redisfix_t *self)
{
    char exe_buf[512];
    const char *exe = collab_port_find_program("redis-server", exe_buf, sizeof exe_buf);
    if (!exe) {
        fprintf(stderr, "redisfix: redis-server not found: run scripts/deps (it installs "
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
        fprintf(stderr, "redisfix: cannot start %s: %s\n", exe, strerror(errno));
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
            fprintf(stderr, "redisfix: redis-server exited (status %d); its log:\n%s\n",
                    collab_spawn_code(&self->proc), tail);
            return -1;
        }
    }
    fprintf(stderr, "redisfix: redis-server did not answer within %d ms\n", START_DEADLINE_MS);
    collab_spawn_kill(&self->proc, SIGKILL);
    collab_spawn_wait(&self->proc, STOP_DEADLINE_MS);
    return -1;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static redisfix_t *made(redisfix_t *self, const redisfix_opts_t *o)
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
            fprintf(stderr, "redisfix: %d ports in a row were taken\n", PORT_ATTEMPTS);
        redisfix_stop(&self);
    }
    return self;
}

redisfix_t *redisfix_start(const redisfix_opts_t *opts)
{
    const redisfix_opts_t none = {0};
    const redisfix_opts_t *o = opts ? opts : &none;
    if (o->user && (!o->password || !o->password[0] || strpbrk(o->password, " \t\r\n#"))) {
        fprintf(stderr, "redisfix: an ACL user needs a password without blanks or '#'\n");
        return NULL;
    }
    redisfix_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->proc.in = self->proc.out = self->proc.err = -1;
    snprintf(self->dir, sizeof self->dir, "/tmp/collab-redis-XXXXXX");
    if (!mkdtemp(self->dir)) {
        fprintf(stderr, "redisfix: mkdtemp: %s\n", strerror(errno));
        free(self);
        return NULL;
    }
    self->unix_socket = o->unix_socket;
    snprintf(self->conf, sizeof self->conf, "%s/redis.conf", self->dir);
    snprintf(self->log, sizeof self->log, "%s/redis.log", self->dir);
    snprintf(self->sock, sizeof self->sock, "%s/redis.sock", self->dir);
    if (self->unix_socket)
        snprintf(self->url, sizeof self->url, "unix://%s", self->sock);
    return made(self, o);
}

const char *redisfix_url(const redisfix_t *self)
{
    return self->url;
}

const char *redisfix_dir(const redisfix_t *self)
{
    return self->dir;
}

pid_t redisfix_pid(const redisfix_t *self)
{
    return self->proc.pid > 0 && !self->proc.exited ? self->proc.pid : 0;
}

int redisfix_kill9(redisfix_t *self)
{
    if (!redisfix_pid(self))
        return -1;
    collab_spawn_kill(&self->proc, SIGKILL);
    self->frozen = false;
    collab_spawn_wait(&self->proc, STOP_DEADLINE_MS);
    return self->proc.exited ? 0 : -1;
}

/*  SIGSTOP (frozen) or SIGCONT (not). */
static int set_frozen(redisfix_t *self, bool frozen)
{
    if (!redisfix_pid(self))
        return -1;
    collab_spawn_kill(&self->proc, frozen ? SIGSTOP : SIGCONT);
    self->frozen = frozen;
    return 0;
}

int redisfix_freeze(redisfix_t *self)
{
    return set_frozen(self, true);
}

int redisfix_thaw(redisfix_t *self)
{
    return set_frozen(self, false);
}

int redisfix_halt(redisfix_t *self)
{
    if (!redisfix_pid(self))
        return -1;
    if (self->frozen)
        redisfix_thaw(self);
    collab_spawn_kill(&self->proc, SIGTERM);
    return collab_spawn_wait(&self->proc, STOP_DEADLINE_MS);
}

int redisfix_restart(redisfix_t *self)
{
    if (redisfix_pid(self))
        return -1;
    return spawn_and_wait(self) == 0 ? 0 : -1;
}

void redisfix_stop(redisfix_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    redisfix_t *self = *self_p;
    if (redisfix_pid(self))
        redisfix_halt(self);
    collab_spawn_close(&self->proc);
    nftw(self->dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
    free(self);
    *self_p = NULL;
}
