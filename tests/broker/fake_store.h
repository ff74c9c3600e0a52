/*  fake_store.h: an in-memory store backend for tests, standing in for a remote one: the
    facade runs on it unchanged, submitted batches wait until the test settles them (the
    "remote" commit), and it can refuse a change-set at commit (conflict). It can also be
    a store shared by several brokers, with another broker's commits injected. */
#ifndef FAKE_STORE_H
#define FAKE_STORE_H

#include "store.h"
#include "store_backend.h"

typedef struct fake_store fake_store_t;

/*  A store on a new fake backend; *fake receives the backend (the store owns it). NULL
    when out of memory. */
collab_store_t *fake_store_new(fake_store_t **fake);

/*  The same fake as a store shared by several brokers (a cluster's, ops->shared): a batch
    that commits numbers its events, each with its agent's next number (they were recorded
    unnumbered), and keeps each change of a change set it does not refuse (records written,
    sessions and projects deleted, events; not meta values) for collab_store_take_applied,
    which hands them over in the store's order and forgets them. A broadcast
    (collab_store_put_broadcast) commits as one numbered event for each agent that has a
    session in the fake's tables subscribed with all, the cluster's followers, whether this
    broker recorded it or another's was injected. A refused change set
    leaves nothing to apply, and its events take no number. Uncommitted events are not
    read (collab_store_events_since): they have no number yet. */
collab_store_t *fake_store_new_shared(fake_store_t **fake);

/*  Another broker's change, committed now (a shared fake only; change is lent, as to a
    backend's record): in the tables, an event numbered by its agent's counter, handed over
    by the next take_applied after what was committed before it; the descriptor becomes
    readable, as after a settle. Returns 0, COLLAB_E_NOMEM, COLLAB_E_IO, or COLLAB_E_INTERNAL
    for a store that is not shared or a meta value. */
int fake_store_inject(fake_store_t *self, const collab_change_t *change);

/*  The last number the shared fake gave an event of agent_id (0: none yet). */
uint64_t fake_store_seq(const fake_store_t *self, const char *agent_id);

/*  From now on a commit refuses every change of change-set cs (up to 8 such ids). */
void fake_store_refuse(fake_store_t *self, uint64_t cs);

/*  Commits every submitted batch, in order, as one remote commit would; the store's
    descriptor becomes readable. Returns how many batches were committed. */
int fake_store_settle(fake_store_t *self);

/*  An outage of the shared fake (docs/DISTRIBUTED.md 5): from now on it is down. Of the
    batches submitted and not settled, the oldest was in flight: its change sets are
    reported lost (collab_store_outage), and when in_flight_commits its changes are
    committed all the same, as a frozen Redis runs a script on SIGCONT; the others are
    dropped. Submits are refused, and once the loop has seen it, writes are dropped. */
void fake_store_down(fake_store_t *self, bool in_flight_commits);

/*  Reconnected: collab_store_recover may run, and always reloads (every record). */
void fake_store_up(fake_store_t *self);

#endif
