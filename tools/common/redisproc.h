/*  redisproc.h: a private redis-server, for a test or a cell of collab-attack matrix. It lives
    in its own folder, temporary unless given (its
    redis.conf, AOF, log and socket), listens on 127.0.0.1 at a free port or on a unix
    socket (unixsocketperm 700), is durable and bounded (appendonly yes, appendfsync always,
    maxmemory with noeviction, no RDB), and, with an ACL, refuses the default user. Its
    password is written only into redis.conf (mode 0600), never on a command line. It is
    started with the config path as its only argument, stopped by pid, and the folder is
    removed at the end. A missing redis-server is a failure that names scripts/deps. */
#ifndef REDISPROC_H
#define REDISPROC_H

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
    const char *dir;         /* NULL: a fresh temporary folder, removed by redisproc_stop;
                                else this one (created 0700 if missing), kept */
} redisproc_opts_t;

typedef struct redisproc redisproc_t;

/*  Writes the folder and redis.conf, starts redis-server and waits (with a deadline, by
    connecting and sending PING) until it answers. A TCP port taken meanwhile by another
    process is replaced by another free one, a few times. NULL, with the reason and the
    server's log on stderr, when it cannot be started. opts NULL: all defaults. */
redisproc_t *redisproc_start(const redisproc_opts_t *opts);

/*  The address to give collab_redis_addr_parse: "redis://127.0.0.1:PORT" or
    "unix:///tmp/.../redis.sock". Lent. */
const char *redisproc_url(const redisproc_t *self);

/*  The temporary folder, and the server's pid (0 when it is not running). */
const char *redisproc_dir(const redisproc_t *self);
pid_t redisproc_pid(const redisproc_t *self);

/*  SIGKILL, and reaps it. The folder (and the AOF) stays for a restart. Returns 0 or -1. */
int redisproc_kill9(redisproc_t *self);

/*  SIGSTOP and SIGCONT: a server that accepts nothing and answers nothing, then again. */
int redisproc_freeze(redisproc_t *self);
int redisproc_thaw(redisproc_t *self);

/*  Stops it (SIGCONT if frozen, SIGTERM, then SIGKILL past a deadline) and reaps it; the
    folder stays. Returns 0 when it exited by itself. */
int redisproc_halt(redisproc_t *self);

/*  Starts it again, after redisproc_kill9 or redisproc_halt, on the same folder (so the AOF
    is loaded) and the same port or socket, and waits until it answers. Returns 0 or -1. */
int redisproc_restart(redisproc_t *self);

/*  Stops it if it runs, removes the folder, frees. NULL-safe, nulls *self_p. */
void redisproc_stop(redisproc_t **self_p);

#endif
