/*  fake_store_outage.c: the shared fake's outages (see fake_store.h): down with the batch in
    flight lost (committed or not, as the test says), up again, and the recovery, which
    always reloads every record. */
#include "fake_store_int.h"

#include "collab_error.h"

#include <string.h>

static void note_lost(fake_store_t *self, uint64_t cs)
{
    for (size_t i = 0; i < self->nlost; i++)
        if (self->lost[i] == cs)
            return;
    if (cs && self->nlost < FAKE_MAX)
        self->lost[self->nlost++] = cs;
}

void fake_store_down(fake_store_t *self, bool in_flight_commits)
{
    self->down = true;
    self->ready = false;
    self->nlost = 0;
    for (size_t q = 0; q < self->queued; q++) {
        fbatch_t *b = &self->queue[q];
        for (size_t i = 0; q == 0 && i < b->n; i++) {
            if (b->c[i].kind != COLLAB_CHANGE_META)
                note_lost(self, b->c[i].cs);
            if (in_flight_commits)
                fake_commit_change(self, &b->c[i]);
        }
        fake_batch_free(b);
    }
    self->queued = 0;
    fake_wake(self);
}

void fake_store_up(fake_store_t *self)
{
    self->ready = true;
    fake_wake(self);
}

bool fake_available(const void *be)
{
    return !((const fake_store_t *)be)->loop_down;
}

int fake_outage(void *be, collab_store_outage_t *out)
{
    fake_store_t *self = be;
    self->loop_down |= self->down;
    out->down = self->down;
    out->settled = self->down;
    out->ready = self->down && self->ready;
    out->lost = self->lost;
    out->nlost = self->nlost;
    out->retry_after_ms = 100;
    out->why = self->down ? "the fake is down" : "";
    return self->down ? COLLAB_E_UNAVAILABLE : 0;
}

int fake_recover(void *be, const collab_store_loader_t *cb, void *arg, bool *reloaded)
{
    fake_store_t *self = be;
    if (!self->down || !self->ready)
        return COLLAB_E_UNAVAILABLE;
    fake_batch_free(&self->open);
    fake_batch_free(&self->applied); /* what the reload gives is newer */
    int rc = fake_load(self, cb, arg);
    if (rc)
        return rc;
    self->down = self->ready = self->loop_down = false;
    self->nlost = 0;
    self->committed = self->submitted;
    *reloaded = true;
    return 0;
}
