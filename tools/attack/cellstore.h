/*  cellstore.h: the fresh redis-server of one cluster cell of collab-attack matrix: a private
    server (tools/common/redisproc.h) in its own folder inside the cell's, loopback at a free
    port, durable and bounded as a broker requires. With locked: `user default off` and one
    least-privilege ACL user per broker (its commands and the tc: prefix only), each password
    in an owner-only file. */
#ifndef CELLSTORE_H
#define CELLSTORE_H

#include "redisproc.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    char dir[600];
    char url[64]; /* redis://127.0.0.1:PORT */
    redisproc_t *server;
} cellstore_t;

/*  Starts a server in DIR/redis (DIR must exist), with the users of nodes (n names) and
    their password files DIR/NODE.redispw (`NODE PASSWORD`) when locked. Waits (deadline)
    until it answers. Returns 0, or -1 with the reason in err (nothing left running). */
int cellstore_start(cellstore_t *s, const char *dir, bool locked, const char *const *nodes, int n,
                    char *err, size_t errlen);

/*  Stops it (SIGTERM, SIGKILL past a deadline) and reaps it; the folder stays. NULL-safe
    inside: a store never started is left alone. */
void cellstore_stop(cellstore_t *s);

#endif
