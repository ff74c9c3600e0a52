/*  fake_store_int.h: internal to the fake backend (fake_store.c, fake_store_batch.c,
    fake_store_shared.c): its tables, a deep-copied change, and applying one. */
#ifndef FAKE_STORE_INT_H
#define FAKE_STORE_INT_H

#include "fake_store.h"
#include "store_backend.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FAKE_MAX 64

/*  A change, deep-copied. */
typedef struct {
    collab_change_kind_t kind;
    uint64_t cs;
    collab_agent_t agent;
    collab_session_t session;
    collab_project_t project;
    collab_task_t task;
    collab_event_t event; /* an event's, or a broadcast's */
    uint32_t retain;
    char (*except)[COLLAB_MAX_AGENT_ID + 1]; /* a broadcast's agents to skip (heap) */
    size_t nexcept;
    char key[COLLAB_MAX_SESSION_ID + 1]; /* a session token or a meta key */
    uint64_t id;
    uint8_t val[256];
    size_t len;
} fchange_t;

typedef struct {
    fchange_t *c;
    size_t n, cap;
} fbatch_t;

typedef struct {
    char key[COLLAB_MAX_SESSION_ID + 1];
    uint8_t val[256];
    size_t len;
} fmeta_t;

/*  A refused change-set and the keys its changes touched. */
typedef struct {
    uint64_t cs;
    collab_store_key_kind_t kind[16];
    char id[16][COLLAB_MAX_SESSION_ID + 1];
    uint64_t num[16];
    size_t n;
} fverdict_t;

/*  A shared store's event counter of one agent: the last number it gave. */
typedef struct {
    char agent_id[COLLAB_MAX_AGENT_ID + 1];
    uint64_t last;
} fseq_t;

struct fake_store {
    collab_agent_t agents[FAKE_MAX];
    collab_session_t sessions[FAKE_MAX];
    collab_project_t projects[FAKE_MAX];
    collab_task_t tasks[FAKE_MAX];
    collab_event_t events[FAKE_MAX * 4];
    fmeta_t meta[FAKE_MAX];
    size_t n_agents, n_sessions, n_projects, n_tasks, n_events, n_meta;
    fbatch_t open, queue[16];
    size_t queued;
    uint64_t submitted, committed;
    bool async;
    int efd;
    uint64_t refuse[8];
    size_t n_refuse;
    fverdict_t verdicts[8];
    size_t n_verdicts;
    /* a shared store (fake_store_new_shared) */
    bool shared;
    fbatch_t applied; /* committed, in the store's order, until take_applied hands it over */
    fseq_t seqs[FAKE_MAX];
    size_t n_seqs;
    /* an outage (fake_store_outage.c) */
    bool down, ready, loop_down;
    uint64_t lost[FAKE_MAX]; /* the change sets of the batch in flight when it began */
    size_t nlost;
};

/*  fake_store.c: copies a change into a batch (the open one: fake_record); applies one to
    the tables; frees. A slot is a new zeroed change at the end of b (NULL: no memory). */
fchange_t *fake_batch_slot(fbatch_t *b);
int fake_batch_add(fbatch_t *b, const collab_change_t *ch);
int fake_record(void *be, const collab_change_t *ch);
void fake_apply(fake_store_t *self, const fchange_t *c);
void fake_change_free(fchange_t *c);
void fake_batch_free(fbatch_t *b);
void fake_tables_free(fake_store_t *self);

/*  fake_store_batch.c: makes the store's descriptor readable (the loop then asks). */
int fake_wake(fake_store_t *self);

/*  fake_store_shared.c: a change of a batch that commits: applied to the tables; when the
    store is shared, an event is numbered first and the change is moved (c is left empty)
    to what take_applied hands over, and a broadcast becomes one numbered event for each
    agent that follows all in the tables' sessions now (the cluster's), but those it skips. */
void fake_commit_change(fake_store_t *self, fchange_t *c);
int fake_take_applied(void *be, const collab_store_applier_t *cb, void *arg);

/*  fake_store_batch.c: every record to cb, as a load. */
int fake_load(void *be, const collab_store_loader_t *cb, void *arg);

/*  fake_store_outage.c: a shared store's outage calls (store_backend.h). */
bool fake_available(const void *be);
int fake_outage(void *be, collab_store_outage_t *out);
int fake_recover(void *be, const collab_store_loader_t *cb, void *arg, bool *reloaded);

#endif
