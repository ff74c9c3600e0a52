/*  store_redis.h: the store backend of a cluster (docs/DISTRIBUTED.md, 2 C): several brokers
    share one state in Redis. Each batch is decided atomically by a Lua script
    (store_redis_commit.lua): a change set whose records moved on since this broker read them
    is refused whole (collab_store_take_refused), the others are written with their revision
    and logged in one stream, which every broker applies in order
    (collab_store_take_applied). Events are numbered in Redis. Reads are the broker's own
    tables; this backend is shared (collab_store_is_shared).

    Failures: a Redis that cannot be reached, or a call past the command timeout, fails the
    batch, and collab_store_committed returns COLLAB_E_IO from then on, which the broker treats
    as fatal, as with SQLite. Answering `unavailable` and reconnecting instead is the next
    step of issue 16; so is reloading the whole state when the log was trimmed past the
    last entry this broker applied (today: COLLAB_E_IO, said by collab_store_redis_why). */
#ifndef COLLAB_STORE_REDIS_H
#define COLLAB_STORE_REDIS_H

#include "store.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*  A node name: 1..32 of [A-Za-z0-9_-]. */
#define COLLAB_REDIS_NODE_MAX 32
/*  A key prefix, at most. */
#define COLLAB_REDIS_PREFIX_MAX 64

typedef struct {
    const char *address;       /* redis://HOST:PORT[/DB] or unix:///path[?db=N] (redis_addr.h) */
    const char *passfile;      /* NULL, or an owner-only password file (redis_passfile.h) */
    const char *node;          /* this broker's name in the cluster: required */
    const char *prefix;        /* NULL: "tc:"; every key starts with it */
    int command_timeout_ms;    /* 0: 500; each Redis reply */
    uint32_t log_bound;        /* 0: 100000; the log stream's MAXLEN (approximate) */
    uint32_t session_idle_ms;  /* 0: 3600000; a session's key lives its idle timeout... */
    uint32_t session_slack_ms; /* 0: 60000; ...plus this (the broker's sweep ends it first) */
    uint32_t node_ttl_ms;      /* 0: 10000; the node key's lifetime, refreshed by the broker */
    bool check_access; /* store_access strong: refuse a store open to others (redis_access.h) */
} collab_store_redis_opts_t;

/*  Connects, checks that the server is durable and bounded (collab_redis_check_durable),
    with check_access that only its brokers get in (collab_redis_check_access), then
    loads the scripts and registers the node (`SET P node:NAME R NX PX ttl`): a second
    broker with the same name is refused while the first runs. Returns the store, or NULL
    with a sentence in err (the address, what is wrong; never a password). */
collab_store_t *collab_store_open_redis(const collab_store_redis_opts_t *o, char *err,
                                        size_t errlen);

/*  Why the store failed (a sentence for the broker's log), "" while it has not; NULL when
    store is not a Redis store. Lent until the next call into the store. */
const char *collab_store_redis_why(collab_store_t *store);

#endif
