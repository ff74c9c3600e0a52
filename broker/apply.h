/*  apply.h: records from the store put into the tables: a refused change set's records put
    back (verdict.c), and in a cluster what the shared store committed (every broker's
    changes and the events they numbered). */
#ifndef COLLAB_APPLY_H
#define COLLAB_APPLY_H

#include "ctx.h"

/*  The record callbacks (arg: the collab_ctx_t): each replaces the tables' record of its key,
    or brings it back. Agents are only updated: they come from the credentials file. A
    session keeps its routing id; one the tables do not hold gets none from the record (it
    may name another broker's connection) until its next request here. */
extern const collab_store_loader_t collab_apply_records;

/*  A key the store holds no record of: removed from the tables (agents are kept). */
int collab_apply_gone(void *arg, const collab_store_key_t *key);

/*  A shared store (a cluster): takes what it committed that the tables do not hold yet
    (collab_store_take_applied) into the tables, and pushes its events to this broker's
    subscribers. Returns 0 (also at once for a store of one broker), COLLAB_E_IO or
    COLLAB_E_NOMEM. */
int collab_apply_committed(collab_ctx_t *ctx);

#endif
