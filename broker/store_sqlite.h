/*  store_sqlite.h: internal to the SQLite backend (store_sqlite*.c, store_atrest.c). One
    state file; every statement prepared once at open. Before start_async, writes run at
    once inside the open transaction ("direct"); after it they are recorded (store_ops.h)
    and a writer thread commits batches in order ("writer"), while the loop reads events
    from an in-memory tail (the batches not known durable) and a read-only connection. */
#ifndef COLLAB_STORE_SQLITE_H
#define COLLAB_STORE_SQLITE_H

#include "evindex.h"
#include "store_backend.h"
#include "store_ops.h"
#include "store_writer.h"

#include <pthread.h>
#include <sqlite3.h>

/* Every statement the store runs after open, prepared once (SQLITE_PREPARE_PERSISTENT). */
typedef enum {
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_PUT_AGENT,
    ST_PUT_SESSION,
    ST_DEL_SESSION,
    ST_PUT_PROJECT,
    ST_DEL_PROJECT,
    ST_DEL_PROJECT_TASKS,
    ST_PUT_TASK,
    ST_PUT_EVENT,
    ST_GC_EVENTS,
    ST_MOVE_EVENT,
    ST_PUT_META,
    ST_GET_META,
    ST_LOAD_AGENTS,
    ST_LOAD_SESSIONS,
    ST_LOAD_PROJECTS,
    ST_LOAD_TASKS,
    ST_GET_EVENT,
    ST_LOAD_EVENTS,
    ST_COUNT
} sq_stmt_t;

/*  An event of a batch not known durable, copied (data owned). */
typedef struct {
    uint64_t rowid, batch;
    collab_event_t ev;
} sq_tail_ev_t;

typedef struct collab_sqlite {
    sqlite3 *db;
    sqlite3_stmt *st[ST_COUNT];
    char *path;
    bool failed;                 /* direct: a write of the open transaction failed */
    const collab_vault_t *vault; /* set: secrets are sealed (strong state_at_rest) */
    collab_evindex_t *events;    /* each agent's retained events in the event log */
    uint64_t next_event_id;      /* the log row id of the next event */
    uint64_t gc_below;           /* rows below this id are deleted */
    uint32_t since_gc;           /* events appended since the last collection */
    uint32_t retain;             /* events kept per agent (set_retention; else all) */
    /* batches: numbered from 1; direct mode counts its commits */
    uint64_t submitted, committed; /* committed: as the loop last learnt it */
    collab_writer_t *writer;       /* NULL: direct mode */
    collab_ops_t *open;            /* writer mode: the batch being recorded */
    pthread_mutex_t db_mu;         /* writer mode: the connection, between the two threads */
    /* writer mode, the loop's reads: events of batches not known durable, by row id */
    sq_tail_ev_t *tail;
    size_t tail_head, tail_len, tail_cap; /* live entries: [head, len) */
    sqlite3 *rdb;                         /* read-only, for durable events */
    sqlite3_stmt *rd_event;               /* ST_GET_EVENT on rdb */
} collab_sqlite_t;

/*  The backend's operations, for collab_store_new. */
extern const collab_store_backend_t collab_sqlite_backend;

/*  Opens the file (see collab_store_open). Returns NULL with err filled. */
collab_sqlite_t *collab_sqlite_open(const char *path, bool reset, char *err, size_t errlen);

/*  store_sqlite.c: the batch. */
int sq_step_reset(sqlite3_stmt *st);                 /* steps a rowless statement, readies it */
int sq_run(collab_sqlite_t *self, sqlite3_stmt *st); /* direct: a failure fails the batch */
int sq_begin(void *be);
void sq_fail_batch(collab_sqlite_t *self);
bool sq_batch_failed(const collab_sqlite_t *self);
int sq_read_begin(collab_sqlite_t *self); /* writer: commits all and holds the connection */
void sq_read_end(collab_sqlite_t *self);

/*  store_sqlite_write.c: a change into the open batch. */
int sq_record(void *be, const collab_change_t *c);
void sq_set_retention(void *be, uint32_t retain);

/*  store_sqlite_read.c */
int sq_load(void *be, const collab_store_loader_t *cb, void *arg);
int sq_get_meta(void *be, const char *key, void *buf, size_t cap);
int sq_index_events(collab_sqlite_t *self); /* rebuilds the event index from the log */
int sq_events_since(void *be, const char *agent_id, uint64_t since, collab_store_event_fn *fn,
                    void *arg, uint64_t *oldest);
/*  Reads event row rowid of agent_id's seq through st (ST_GET_EVENT) into fn. */
int sq_read_event(sqlite3_stmt *st, uint64_t rowid, const char *agent_id, uint64_t seq,
                  collab_store_event_fn *fn, void *arg);

/*  store_sqlite_tail.c: the tail, oldest row first. add copies ev (0 or COLLAB_E_NOMEM);
    find returns the event at rowid or NULL; prune forgets batches up to committed. */
int sq_tail_add(collab_sqlite_t *self, uint64_t rowid, uint64_t batch, const collab_event_t *ev);
const collab_event_t *sq_tail_find(const collab_sqlite_t *self, uint64_t rowid);
void sq_tail_prune(collab_sqlite_t *self, uint64_t committed);
void sq_tail_free(collab_sqlite_t *self);

#endif
