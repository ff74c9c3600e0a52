/*  cellstore.h: the fresh redis-server of one cluster cell of collab-attack matrix: its own
    folder (inside the cell's), loopback at a free port (another tried when it was taken
    meanwhile), durable and bounded as a broker requires (appendonly yes, appendfsync always,
    noeviction). With locked: `user default off` and one least-privilege ACL user per broker
    (its commands and the tc: prefix only), each password in an owner-only file. Started
    with its config path as its only argument, stopped by pid. */
#ifndef CELLSTORE_H
#define CELLSTORE_H

#include "collab_spawn.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    char dir[600];
    char url[64]; /* redis://127.0.0.1:PORT */
    int port;
    collab_proc_t proc;
} cellstore_t;

/*  Starts a server in DIR/redis (DIR must exist), with the users of nodes (n names) and
    their password files DIR/NODE.redispw (`NODE PASSWORD`) when locked. Waits (deadline)
    until it answers. Returns 0, or -1 with the reason in err (nothing left running). */
int cellstore_start(cellstore_t *s, const char *dir, bool locked, const char *const *nodes, int n,
                    char *err, size_t errlen);

/*  Stops it (SIGTERM, SIGKILL past a deadline) and reaps it; the folder stays. */
void cellstore_stop(cellstore_t *s);

#endif
