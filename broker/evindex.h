/*  evindex.h: internal to the store. Where each agent's retained events are in the
    append-only event log: per agent, the log row ids of its newest events, oldest first,
    with consecutive sequence numbers. The log itself is one table in insertion order, so a
    batch of events for many agents dirties the log's last pages only; this index (8 bytes
    per retained event) is what the log has no SQL index for. Rebuilt from the log at open. */
#ifndef COLLAB_EVINDEX_H
#define COLLAB_EVINDEX_H

#include <stddef.h>
#include <stdint.h>

typedef struct collab_evindex collab_evindex_t;

/*  Called with the log row id of each event that leaves the index. */
typedef void(collab_evindex_evict_fn)(void *arg, uint64_t rowid);

collab_evindex_t *collab_evindex_new(void);
/*  NULL-safe, nulls *self_p. */
void collab_evindex_destroy(collab_evindex_t **self_p);
/*  Forgets every agent. */
void collab_evindex_clear(collab_evindex_t *self);

/*  Records that agent_id's event seq is at log row rowid. Keeps the newest `retain`
    (at least 1) and evicts the rest; an event that does not follow the agent's latest
    (seq != latest + 1) starts the agent's run over and evicts everything before it.
    Returns 0 or COLLAB_E_NOMEM (nothing recorded, nothing evicted). */
int collab_evindex_push(collab_evindex_t *self, const char *agent_id, uint64_t seq, uint64_t rowid,
                        uint32_t retain, collab_evindex_evict_fn *evict, void *arg);

/*  The agent's retained run: *first receives the oldest retained seq and *count how many
    there are (both 0 when none). */
void collab_evindex_range(const collab_evindex_t *self, const char *agent_id, uint64_t *first,
                          uint64_t *count);

/*  The log row id of the agent's event seq, or 0 when it is not retained. */
uint64_t collab_evindex_rowid(const collab_evindex_t *self, const char *agent_id, uint64_t seq);

/*  Every agent keeps at most its newest `retain` (at least 1); the rest is evicted. */
void collab_evindex_trim(collab_evindex_t *self, uint32_t retain, collab_evindex_evict_fn *evict,
                         void *arg);

/*  Events retained, all agents together. */
uint64_t collab_evindex_live(const collab_evindex_t *self);

/*  The smallest row id retained (0 when none) and, into *agent_id, whose it is: every
    row below it is garbage. Walks every agent. */
uint64_t collab_evindex_oldest(const collab_evindex_t *self, const char **agent_id);

/*  Gives each of the agent's retained events the row id move(arg, old row id) returns. */
void collab_evindex_relocate(collab_evindex_t *self, const char *agent_id,
                             uint64_t (*move)(void *arg, uint64_t rowid), void *arg);

#endif
