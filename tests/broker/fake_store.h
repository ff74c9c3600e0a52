/*  fake_store.h: an in-memory store backend for tests, standing in for a remote one: the
    facade runs on it unchanged, submitted batches wait until the test settles them (the
    "remote" commit), and it can refuse a change-set at commit (conflict). */
#ifndef FAKE_STORE_H
#define FAKE_STORE_H

#include "store.h"

typedef struct fake_store fake_store_t;

/*  A store on a new fake backend; *fake receives the backend (the store owns it). NULL
    when out of memory. */
collab_store_t *fake_store_new(fake_store_t **fake);

/*  From now on a commit refuses every change of change-set cs (up to 8 such ids). */
void fake_store_refuse(fake_store_t *self, uint64_t cs);

/*  Commits every submitted batch, in order, as one remote commit would; the store's
    descriptor becomes readable. Returns how many batches were committed. */
int fake_store_settle(fake_store_t *self);

#endif
