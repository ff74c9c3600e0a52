/*  verdict.h: the store's verdict on a committed batch, applied before its replies leave:
    a change set the store refused (in a cluster, a change valid here lost to another
    broker's, or a cluster's nonce or session check failed) is rolled back in the tables,
    its events never leave, and its reply becomes conflict, replay or session_invalid,
    built only now that the verdict is known. */
#ifndef COLLAB_VERDICT_H
#define COLLAB_VERDICT_H

#include "ctx.h"

/*  For each change set the store refused in the batches up to committed (those
    collab_store_committed reported): puts the tables back to the records the store now
    holds (agents, sessions, projects, tasks; a key it holds none of is removed), drops the
    change set's held events and replaces its held reply with COLLAB_E_CONFLICT (counted in
    stats.refused_conflict), or, as the store says why, COLLAB_E_REPLAY (stats.replays) or
    COLLAB_E_SESSION_INVALID (stats.refused_session), each audited. Then hands the outbox's messages
   up to committed to the sink. Returns 0, or the restore's COLLAB_E_NOMEM (the messages are still
   released). A store that refuses nothing (SQLite) makes this collab_outbox_release. */
int collab_verdict_release(collab_ctx_t *ctx, uint64_t committed);

#endif
