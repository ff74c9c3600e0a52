/*  redisfix.h: a private redis-server for a test. It lives in its own temporary folder (its
    redis.conf, AOF, log and socket), listens on 127.0.0.1 at a free port or on a unix
    socket (unixsocketperm 700), is durable and bounded (appendonly yes, appendfsync always,
    maxmemory with noeviction, no RDB), and, with an ACL, refuses the default user. Its
    password is written only into redis.conf (mode 0600), never on a command line. It is
    started with the config path as its only argument, stopped by pid, and the folder is
    removed at the end. A missing redis-server is a failure that names scripts/deps. */
#ifndef REDISFIX_H
#define REDISFIX_H

#include <stdbool.h>
#include <sys/types.h>

typedef struct {
    bool unix_socket;        /* a unix socket in the folder instead of TCP */
    const char *user;        /* not NULL: `user default off` and this user, on, with... */
    const char *password;    /* ...this password (no blank; only inside redis.conf) */
    const char *acl_rules;   /* its rules; NULL: "~* &* +@all" */
    const char *appendfsync; /* NULL: "always" */
    const char *maxmemory;   /* NULL: "64mb" */
    const char *extra_conf;  /* NULL, or more lines of redis.conf (more ACL users) */
} redisfix_opts_t;

typedef struct redisfix redisfix_t;

/*  Writes the folder and redis.conf, starts redis-server and waits (with a deadline, by
    connecting and sending PING) until it answers. A TCP port taken meanwhile by another
    process is replaced by another free one, a few times. NULL, with the reason and the
    server's log on stderr, when it cannot be started. opts NULL: all defaults. */
redisfix_t *redisfix_start(const redisfix_opts_t *opts);

/*  The address to give collab_redis_addr_parse: "redis://127.0.0.1:PORT" or
    "unix:///tmp/.../redis.sock". Lent. */
const char *redisfix_url(const redisfix_t *self);

/*  The temporary folder, and the server's pid (0 when it is not running). */
const char *redisfix_dir(const redisfix_t *self);
pid_t redisfix_pid(const redisfix_t *self);

/*  SIGKILL, and reaps it. The folder (and the AOF) stays for a restart. Returns 0 or -1. */
int redisfix_kill9(redisfix_t *self);

/*  SIGSTOP and SIGCONT: a server that accepts nothing and answers nothing, then again. */
int redisfix_freeze(redisfix_t *self);
int redisfix_thaw(redisfix_t *self);

/*  Stops it (SIGCONT if frozen, SIGTERM, then SIGKILL past a deadline) and reaps it; the
    folder stays. Returns 0 when it exited by itself. */
int redisfix_halt(redisfix_t *self);

/*  Starts it again, after redisfix_kill9 or redisfix_halt, on the same folder (so the AOF
    is loaded) and the same port or socket, and waits until it answers. Returns 0 or -1. */
int redisfix_restart(redisfix_t *self);

/*  Stops it if it runs, removes the folder, frees. NULL-safe, nulls *self_p. */
void redisfix_stop(redisfix_t **self_p);

#endif
