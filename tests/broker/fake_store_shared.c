/*  fake_store_shared.c: the fake backend as a store shared by several brokers (see
    fake_store.h): what commits is numbered and kept, in order, for take_applied, and
    another broker's commits are injected. */
#include "fake_store_int.h"

#include "collab_error.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*  The agent's next event number: its own counter, as the shared store keeps one. */
static uint64_t next_seq(fake_store_t *self, const char *agent_id)
{
    size_t i = 0;
    while (i < self->n_seqs && strcmp(self->seqs[i].agent_id, agent_id) != 0)
        i++;
    if (i == self->n_seqs) {
        if (i == FAKE_MAX)
            return 0; /* more agents than a test has: unnumbered, which a test sees */
        snprintf(self->seqs[i].agent_id, sizeof self->seqs[i].agent_id, "%s", agent_id);
        self->seqs[i].last = 0;
        self->n_seqs++;
    }
    return ++self->seqs[i].last;
}

uint64_t fake_store_seq(const fake_store_t *self, const char *agent_id)
{
    for (size_t i = 0; i < self->n_seqs; i++)
        if (strcmp(self->seqs[i].agent_id, agent_id) == 0)
            return self->seqs[i].last;
    return 0;
}

/*  Whether session i is the first that makes its agent a follower of all, and the agent is
    not one the broadcast b skips. */
static bool follower(const fake_store_t *self, size_t i, const fchange_t *b)
{
    const collab_session_t *s = &self->sessions[i];
    if (!s->subscribed_all)
        return false;
    for (size_t k = 0; k < i; k++)
        if (self->sessions[k].subscribed_all &&
            strcmp(self->sessions[k].agent_id, s->agent_id) == 0)
            return false;
    for (size_t k = 0; k < b->nexcept; k++)
        if (strcmp(b->except[k], s->agent_id) == 0)
            return false;
    return true;
}

/*  A broadcast committed: a numbered event for each follower of all, applied and kept for
    take_applied as if recorded one by one. */
static void expand(fake_store_t *self, const fchange_t *b)
{
    for (size_t i = 0; i < self->n_sessions; i++) {
        if (!follower(self, i, b))
            continue;
        fchange_t *e = fake_batch_slot(&self->applied);
        if (!e)
            return;
        e->kind = COLLAB_CHANGE_EVENT;
        e->cs = b->cs;
        e->retain = b->retain;
        e->event = b->event;
        e->event.data = malloc(b->event.data_len + 1);
        if (!e->event.data) {
            self->applied.n--;
            return;
        }
        memcpy((void *)e->event.data, b->event.data, b->event.data_len);
        snprintf(e->event.agent_id, sizeof e->event.agent_id, "%s", self->sessions[i].agent_id);
        e->event.seq = next_seq(self, e->event.agent_id);
        fake_apply(self, e);
    }
}

void fake_commit_change(fake_store_t *self, fchange_t *c)
{
    if (self->shared && c->kind == COLLAB_CHANGE_BROADCAST) {
        expand(self, c);
        return;
    }
    if (self->shared && c->kind == COLLAB_CHANGE_EVENT)
        c->event.seq = next_seq(self, c->event.agent_id); /* recorded unnumbered (seq 0) */
    fake_apply(self, c);
    if (!self->shared || c->kind == COLLAB_CHANGE_META)
        return; /* a meta value is the node's own: nothing another broker applies */
    fchange_t *kept = fake_batch_slot(&self->applied);
    if (!kept)
        return;
    *kept = *c; /* moved: the batch frees an emptied change */
    memset(c, 0, sizeof *c);
}

int fake_store_inject(fake_store_t *self, const collab_change_t *change)
{
    if (!self->shared || change->kind == COLLAB_CHANGE_META)
        return COLLAB_E_INTERNAL;
    if (change->kind == COLLAB_CHANGE_BROADCAST) {
        fbatch_t one = {0};
        int rc = fake_batch_add(&one, change);
        if (rc == 0)
            expand(self, &one.c[0]);
        fake_batch_free(&one);
        return rc ? rc : fake_wake(self);
    }
    int rc = fake_batch_add(&self->applied, change);
    if (rc)
        return rc;
    fchange_t *c = &self->applied.c[self->applied.n - 1];
    if (c->kind == COLLAB_CHANGE_EVENT)
        c->event.seq = next_seq(self, c->event.agent_id);
    fake_apply(self, c);
    return fake_wake(self);
}

/*  One committed change through the applier's callbacks. */
static int hand_over(const fchange_t *c, const collab_store_applier_t *cb, void *arg)
{
    collab_store_key_t key = {COLLAB_STORE_KEY_SESSION, c->key, 0};
    switch (c->kind) {
    case COLLAB_CHANGE_AGENT:
        return cb->records.agent(arg, &c->agent);
    case COLLAB_CHANGE_SESSION:
        return cb->records.session(arg, &c->session);
    case COLLAB_CHANGE_PROJECT:
        return cb->records.project(arg, &c->project);
    case COLLAB_CHANGE_TASK:
        return cb->records.task(arg, &c->task);
    case COLLAB_CHANGE_SESSION_DEL:
        return cb->gone(arg, &key);
    case COLLAB_CHANGE_PROJECT_DEL: /* its tasks with it, as the contract says */
        key = (collab_store_key_t){COLLAB_STORE_KEY_PROJECT, "", c->id};
        return cb->gone(arg, &key);
    case COLLAB_CHANGE_EVENT:
        return cb->event(arg, &c->event);
    case COLLAB_CHANGE_META:
    case COLLAB_CHANGE_BROADCAST: /* expanded into events at commit: never kept */
        break;
    }
    return 0;
}

/*  Hands over what was committed since the last call, and forgets it; a callback that
    fails stops the hand-over after its change (the rest waits for the next call). */
int fake_take_applied(void *be, const collab_store_applier_t *cb, void *arg)
{
    fake_store_t *self = be;
    fbatch_t *a = &self->applied;
    size_t n = 0;
    int rc = 0;
    while (rc == 0 && n < a->n)
        rc = hand_over(&a->c[n++], cb, arg);
    if (n == 0)
        return 0; /* nothing committed since: a->c may be NULL still */
    for (size_t i = 0; i < n; i++)
        fake_change_free(&a->c[i]);
    memmove(a->c, a->c + n, (a->n - n) * sizeof *a->c);
    a->n -= n;
    return rc;
}
