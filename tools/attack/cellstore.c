/*  cellstore.c: a cluster cell's redis-server (see cellstore.h). */
#include "cellstore.h"
#include "collab_redis_acl.h"

#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/*  A broker's ACL rules on the default key prefix. */
#define BROKER_RULES "resetchannels resetkeys ~tc:* " COLLAB_REDIS_BROKER_ACL
#define MAX_NODES    8

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

/*  A fresh password per node, in DIR/NODE.redispw, and the redis.conf lines of the users
    after the first (the first is opts' user) into extra. Returns 0 or -1. */
static int make_users(const char *dir, const char *const *nodes, int n, char pw[][33], char *extra,
                      size_t cap)
{
    size_t used = 0;
    extra[0] = '\0';
    for (int i = 0; i < n; i++) {
        unsigned char raw[16];
        char line[320], path[700];
        randombytes_buf(raw, sizeof raw);
        sodium_bin2hex(pw[i], 33, raw, sizeof raw);
        snprintf(line, sizeof line, "%s %s", nodes[i], pw[i]);
        snprintf(path, sizeof path, "%s/%s.redispw", dir, nodes[i]);
        int rc = write_private(path, line);
        sodium_memzero(line, sizeof line);
        if (rc != 0)
            return -1;
        if (i > 0) {
            int k = snprintf(extra + used, cap - used, "user %s on >%s %s\n", nodes[i], pw[i],
                             BROKER_RULES);
            if (k < 0 || (size_t)k >= cap - used)
                return -1;
            used += (size_t)k;
        }
    }
    return 0;
}

int cellstore_start(cellstore_t *s, const char *dir, bool locked, const char *const *nodes, int n,
                    char *err, size_t errlen)
{
    memset(s, 0, sizeof *s);
    char pw[MAX_NODES][33], extra[MAX_NODES * 256];
    if (n < 1 || n > MAX_NODES || sodium_init() < 0) {
        snprintf(err, errlen, "a cell's store takes 1 to %d brokers (and libsodium)", MAX_NODES);
        return -1;
    }
    snprintf(s->dir, sizeof s->dir, "%.580s/redis", dir);
    redisproc_opts_t o = {.dir = s->dir};
    if (locked) {
        if (make_users(dir, nodes, n, pw, extra, sizeof extra) != 0) {
            snprintf(err, errlen, "cannot write the brokers' password files in %s: %s", dir,
                     strerror(errno));
            return -1;
        }
        o.user = nodes[0];
        o.password = pw[0];
        o.acl_rules = BROKER_RULES;
        o.extra_conf = extra;
    }
    s->server = redisproc_start(&o);
    sodium_memzero(pw, sizeof pw);
    sodium_memzero(extra, sizeof extra);
    if (!s->server) {
        snprintf(err, errlen, "redis-server did not start in %s (see redis.log there)", s->dir);
        return -1;
    }
    snprintf(s->url, sizeof s->url, "%s", redisproc_url(s->server));
    return 0;
}

void cellstore_stop(cellstore_t *s)
{
    redisproc_stop(&s->server); /* the folder stays: the cell's own */
}
