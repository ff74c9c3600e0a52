/*  store_sqlite_tail.c: the events of batches not known durable (see store_sqlite.h), kept
    in row id order (row ids and batch numbers only grow), so that the loop answers
    events_since without waiting for the writer. */
#include "store_sqlite.h"

#include "collab_error.h"

#include <stdlib.h>
#include <string.h>

static void entry_free(sq_tail_ev_t *e)
{
    free((void *)e->ev.data);
    e->ev.data = NULL;
}

/*  Room for one more at the end: moves the live entries to the front, else grows. */
static int make_room(collab_sqlite_t *self)
{
    if (self->tail_len < self->tail_cap)
        return 0;
    if (self->tail_head > 0) {
        size_t live = self->tail_len - self->tail_head;
        memmove(self->tail, self->tail + self->tail_head, live * sizeof *self->tail);
        self->tail_head = 0;
        self->tail_len = live;
        if (live < self->tail_cap)
            return 0;
    }
    size_t cap = self->tail_cap ? self->tail_cap * 2 : 64;
    sq_tail_ev_t *grown = realloc(self->tail, cap * sizeof *grown);
    if (!grown)
        return COLLAB_E_NOMEM;
    self->tail = grown;
    self->tail_cap = cap;
    return 0;
}

int sq_tail_add(collab_sqlite_t *self, uint64_t rowid, uint64_t batch, const collab_event_t *ev)
{
    collab_event_t copy = *ev; /* ev may be an entry of the tail, which make_room moves */
    uint8_t *data = malloc(copy.data_len ? copy.data_len : 1);
    if (!data)
        return COLLAB_E_NOMEM;
    if (copy.data_len)
        memcpy(data, copy.data, copy.data_len);
    if (make_room(self) != 0) {
        free(data);
        return COLLAB_E_NOMEM;
    }
    sq_tail_ev_t *e = &self->tail[self->tail_len++];
    e->rowid = rowid;
    e->batch = batch;
    e->ev = copy;
    e->ev.data = data;
    return 0;
}

const collab_event_t *sq_tail_find(const collab_sqlite_t *self, uint64_t rowid)
{
    size_t lo = self->tail_head, hi = self->tail_len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (self->tail[mid].rowid < rowid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < self->tail_len && self->tail[lo].rowid == rowid ? &self->tail[lo].ev : NULL;
}

void sq_tail_prune(collab_sqlite_t *self, uint64_t committed)
{
    while (self->tail_head < self->tail_len && self->tail[self->tail_head].batch <= committed)
        entry_free(&self->tail[self->tail_head++]);
    if (self->tail_head == self->tail_len)
        self->tail_head = self->tail_len = 0;
}

void sq_tail_free(collab_sqlite_t *self)
{
    sq_tail_prune(self, UINT64_MAX);
    free(self->tail);
    self->tail = NULL;
    self->tail_cap = 0;
}
