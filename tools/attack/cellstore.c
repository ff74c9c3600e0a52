/*  cellstore.c: a cluster cell's redis-server (see cellstore.h). */
#include "cellstore.h"
#include "collab_redis_acl.h"
#include "collab_clock.h"
#include "collab_port.h"

#include <arpa/inet.h>
#include <errno.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define START_DEADLINE_MS 10000
#define PORT_ATTEMPTS     5
/*  A broker's ACL rules on the default key prefix. */
#define BROKER_RULES "resetchannels resetkeys ~tc:* " COLLAB_REDIS_BROKER_ACL

/*  An owner-only file with one line. */
static int write_private(const char *path, const char *line)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    int rc = fchmod(fileno(f), 0600);
    fprintf(f, "%s\n", line);
    return fclose(f) == 0 && rc == 0 ? 0 : -1;
}

static int write_conf(const cellstore_t *s, bool locked, const char *const *nodes, int n,
                      const char *conf)
{
    FILE *f = fopen(conf, "w");
    if (!f)
        return -1;
    int rc = fchmod(fileno(f), 0600);
    fprintf(f,
            "# a cluster cell of collab-attack matrix\n"
            "daemonize no\ndir %s\nlogfile redis.log\nsave \"\"\nappendonly yes\n"
            "appendfsync always\nmaxmemory 64mb\nmaxmemory-policy noeviction\n"
            "bind 127.0.0.1\nport %d\n",
            s->dir, s->port);
    if (locked) {
        fprintf(f, "user default off\n");
        for (int i = 0; i < n && rc == 0; i++) {
            unsigned char raw[16];
            char hex[33], line[128], path[700];
            randombytes_buf(raw, sizeof raw);
            sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
            fprintf(f, "user %s on >%s %s\n", nodes[i], hex, BROKER_RULES);
            snprintf(line, sizeof line, "%s %s", nodes[i], hex);
            snprintf(path, sizeof path, "%s/../%s.redispw", s->dir, nodes[i]);
            rc = write_private(path, line);
            sodium_memzero(hex, sizeof hex);
            sodium_memzero(line, sizeof line);
        }
    }
    return fclose(f) == 0 && rc == 0 ? 0 : -1;
}

/*  Whether the server answers PING (NOAUTH counts: it serves). */
static bool answers(int port)
{
    struct timeval tv = {0, 200 * 1000};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
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
static bool still_running(cellstore_t *s, int ms)
{
    struct pollfd pf = {s->proc.out, POLLIN, 0};
    if (poll(&pf, 1, ms) <= 0)
        return true;
    char buf[256];
    ssize_t n = read(s->proc.out, buf, sizeof buf);
    return n > 0 || (n < 0 && errno == EINTR);
}

/*  0 when it answers, 1 when it exited (its port taken, most likely), -1 otherwise. */
static int spawn_and_wait(cellstore_t *s, const char *exe, const char *conf)
{
    const char *argv[] = {exe, conf, NULL};
    const collab_spawn_opts_t opts = {.in = COLLAB_SPAWN_NULL,
                                      .out = COLLAB_SPAWN_PIPE,
                                      .err = COLLAB_SPAWN_NULL,
                                      .dir = s->dir,
                                      .death_signal = SIGKILL,
                                      .close_fds = true};
    if (collab_spawn(&s->proc, argv, &opts) != 0)
        return -1;
    int64_t deadline = collab_mono_ms() + START_DEADLINE_MS;
    for (int backoff = 1; collab_mono_ms() < deadline; backoff = backoff < 50 ? backoff * 2 : 50) {
        if (answers(s->port))
            return 0;
        if (!still_running(s, backoff)) { /* it exited by itself */
            collab_spawn_close(&s->proc);
            collab_spawn_wait(&s->proc, 1000);
            return 1;
        }
    }
    cellstore_stop(s);
    return -1;
}

int cellstore_start(cellstore_t *s, const char *dir, bool locked, const char *const *nodes, int n,
                    char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    s->proc.in = s->proc.out = s->proc.err = -1;
    char exe_buf[512];
    const char *exe = collab_port_find_program("redis-server", exe_buf, sizeof exe_buf);
    char conf[700];
    if (!exe) {
        snprintf(err, errlen, "redis-server not found: run scripts/deps (it installs it)");
        return -1;
    }
    if (sodium_init() < 0) {
        snprintf(err, errlen, "libsodium failed to start");
        return -1;
    }
    snprintf(s->dir, sizeof s->dir, "%.580s/redis", dir);
    snprintf(conf, sizeof conf, "%s/redis.conf", s->dir);
    if (mkdir(s->dir, 0700) != 0) {
        snprintf(err, errlen, "cannot create %s: %s", s->dir, strerror(errno));
        return -1;
    }
    int rc = 1;
    for (int attempt = 0; rc == 1 && attempt < PORT_ATTEMPTS; attempt++) {
        s->port = collab_port_free();
        rc = s->port < 0 || write_conf(s, locked, nodes, n, conf) != 0
                 ? -1
                 : spawn_and_wait(s, exe, conf);
    }
    if (rc != 0) {
        snprintf(err, errlen, "redis-server did not start in %s (see redis.log there)", s->dir);
        return -1;
    }
    snprintf(s->url, sizeof s->url, "redis://127.0.0.1:%d", s->port);
    return 0;
}

void cellstore_stop(cellstore_t *s)
{
    if (s->proc.pid <= 0 || s->proc.exited)
        return;
    collab_spawn_kill(&s->proc, SIGTERM);
    collab_spawn_wait(&s->proc, 5000); /* SIGKILL past it */
    collab_spawn_close(&s->proc);
}
