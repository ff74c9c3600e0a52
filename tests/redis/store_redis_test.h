/*  store_redis_test.h: what the Redis store's tests share (test_store_redis*.c): a private
    redis-server, a fresh key prefix per test, stores opened on it, sample records, and an
    applier that writes down what take_applied and take_refused hand over, in order. */
#ifndef STORE_REDIS_TEST_H
#define STORE_REDIS_TEST_H

#include "collab_clock.h"
#include "redis_conn.h"
#include "redisproc.h"
#include "store_redis.h"
#include "testutil.h"

#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static redisproc_t *fx;
static char prefix[64];

/*  A fresh prefix: each test sees only its own keys. */
static inline void new_prefix(void)
{
    static int n;
    snprintf(prefix, sizeof prefix, "t%d-%d:", (int)getpid(), ++n);
}

static inline collab_store_t *open_node(const char *node, char *err, size_t errlen)
{
    collab_store_redis_opts_t o = {
        .address = redisproc_url(fx), .node = node, .prefix = prefix, .command_timeout_ms = 2000};
    return collab_store_open_redis(&o, err, errlen);
}

static inline collab_store_t *open_ok(const char *node)
{
    char err[512] = "";
    collab_store_t *st = open_node(node, err, sizeof err);
    if (!st)
        tu_fail(__FILE__, __LINE__, "open %s: %s", node, err);
    return st;
}

/* ---------------------------------------------------------------------------------------
   A raw look at Redis, beside the store */

/*  One command, fmt with one %s: the prefix and key. The reply (freeReplyObject), or NULL. */
static inline redisReply *raw(const char *fmt, const char *key)
{
    collab_redis_opts_t o = {.command_timeout_ms = 2000};
    char err[256], full[256];
    redisReply *r = NULL;
    snprintf(full, sizeof full, "%s%s", prefix, key);
    if (collab_redis_addr_parse(redisproc_url(fx), &o.addr, err, sizeof err) != 0)
        return NULL;
    collab_redis_t *c = collab_redis_new(&o);
    if (c && collab_redis_connect(c) == 0)
        collab_redis_callf(c, &r, fmt, full);
    collab_redis_destroy(&c);
    return r;
}

/* ---------------------------------------------------------------------------------------
   Records */

static inline void mk_agent(collab_agent_t *a, const char *id)
{
    memset(a, 0, sizeof *a);
    snprintf(a->id, sizeof a->id, "%s", id);
    a->role = COLLAB_ROLE_WORKER;
    snprintf(a->pw_hash, sizeof a->pw_hash, "$2b$04$abcdefghijklmnopqrstuuQ0xUqZ3F5v2m1W1aH2yH9b");
    a->registered = true;
    a->cap_count = 2;
    snprintf(a->caps[0], sizeof a->caps[0], "code_review");
    snprintf(a->caps[1], sizeof a->caps[1], "testing");
    a->last_seen = 1700000000123ULL;
    a->failures = 3;
    a->locked_until = 1700000009999ULL;
}

static inline void mk_session(collab_session_t *s, const char *token, const char *agent)
{
    memset(s, 0, sizeof *s);
    snprintf(s->token, sizeof s->token, "%s", token);
    s->handle = 77;
    snprintf(s->agent_id, sizeof s->agent_id, "%s", agent);
    s->role = COLLAB_ROLE_WORKER;
    s->created = s->last_activity = (uint64_t)time(NULL) * 1000u;
    snprintf(s->peer, sizeof s->peer, "127.0.0.1");
    memcpy(s->rid, "\x00\x01\xff", 3);
    s->rid_len = 3;
    s->subscribed = true;
}

static inline void mk_project(collab_project_t *p, uint64_t id, char *name)
{
    memset(p, 0, sizeof *p);
    p->id = id;
    p->name = name;
    p->description = (char *)(uintptr_t) "a project";
    snprintf(p->owner, sizeof p->owner, "coord");
    p->created = 1700000000000ULL;
}

static inline void mk_task(collab_task_t *t, uint64_t id, uint64_t project, collab_task_status_t st,
                           char *title)
{
    memset(t, 0, sizeof *t);
    t->id = id;
    t->project_id = project;
    snprintf(t->type, sizeof t->type, "code_review");
    t->title = title;
    t->description = (char *)(uintptr_t) "";
    t->result = (char *)(uintptr_t) "";
    t->status = st;
    snprintf(t->assigned_to, sizeof t->assigned_to, "w1");
    snprintf(t->assigned_by, sizeof t->assigned_by, "coord");
    t->created = t->updated = 1700000000000ULL;
}

static inline void mk_event(collab_event_t *ev, const char *agent, const char *name)
{
    memset(ev, 0, sizeof *ev);
    snprintf(ev->agent_id, sizeof ev->agent_id, "%s", agent);
    snprintf(ev->name, sizeof ev->name, "%s", name);
    ev->timestamp = 1700000000001ULL;
    ev->data = (const uint8_t *)"\x81\xa1k\xa1v\x00\xff";
    ev->data_len = 7;
}

/* ---------------------------------------------------------------------------------------
   What is handed over, written down in order as short lines ("t:5 status 2 title x",
   "gone p:3", "ev w1 3 task_updated", "restore t:5 status 1", "absent t:9") */

#define LOG_MAX 256

typedef struct {
    char line[LOG_MAX][96];
    size_t n;
    bool refusing; /* the lines come from take_refused */
} seen_t;

__attribute__((format(printf, 2, 3))) static inline int note(seen_t *s, const char *fmt, ...)
{
    if (s->n == LOG_MAX)
        return 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->line[s->n++], sizeof s->line[0], fmt, ap);
    va_end(ap);
    return 0;
}

static inline int seen_agent(void *arg, const collab_agent_t *a)
{
    seen_t *s = arg;
    return note(s, "%sa:%s seq %" PRIu64 " failures %u", s->refusing ? "restore " : "", a->id,
                a->event_seq, a->failures);
}

static inline int seen_session(void *arg, const collab_session_t *x)
{
    seen_t *s = arg;
    return note(s, "%ss:%s handle %" PRIu64, s->refusing ? "restore " : "", x->token, x->handle);
}

static inline int seen_project(void *arg, const collab_project_t *p)
{
    seen_t *s = arg;
    return note(s, "%sp:%" PRIu64 " %s", s->refusing ? "restore " : "", p->id, p->name);
}

static inline int seen_task(void *arg, const collab_task_t *t)
{
    seen_t *s = arg;
    return note(s, "%st:%" PRIu64 " status %d title %s", s->refusing ? "restore " : "", t->id,
                (int)t->status, t->title);
}

static inline int seen_gone(void *arg, const collab_store_key_t *k)
{
    seen_t *s = arg;
    const char *what = s->refusing ? "absent" : "gone";
    if (k->kind == COLLAB_STORE_KEY_PROJECT)
        return note(s, "%s p:%" PRIu64, what, k->num);
    if (k->kind == COLLAB_STORE_KEY_TASK)
        return note(s, "%s t:%" PRIu64, what, k->num);
    return note(s, "%s %c:%s", what, k->kind == COLLAB_STORE_KEY_AGENT ? 'a' : 's', k->id);
}

static inline int seen_event(void *arg, const collab_event_t *ev)
{
    seen_t *s = arg;
    return note(s, "ev %s %" PRIu64 " %s", ev->agent_id, ev->seq, ev->name);
}

static const collab_store_applier_t seen_applier = {
    {seen_agent, seen_session, seen_project, seen_task}, seen_gone, seen_event};
static const collab_store_loader_t seen_loader = {seen_agent, seen_session, seen_project,
                                                  seen_task};

/*  The index of the first line equal to want at or after from, or -1. */
static inline int find_line(const seen_t *s, size_t from, const char *want)
{
    for (size_t i = from; i < s->n; i++)
        if (strcmp(s->line[i], want) == 0)
            return (int)i;
    return -1;
}

static inline void dump(const char *who, const seen_t *s)
{
    fprintf(stderr, "  %s saw %zu:\n", who, s->n);
    for (size_t i = 0; i < s->n; i++)
        fprintf(stderr, "    %s\n", s->line[i]);
}

/*  Takes what the store hands over: applied entries, then refused change sets (their ids in
    refused[], up to 8). */
static inline int take_all(collab_store_t *st, seen_t *s, uint64_t *refused, size_t *nrefused)
{
    uint64_t committed, cs;
    int rc = collab_store_committed(st, &committed);
    if (rc == 0)
        rc = collab_store_take_applied(st, &seen_applier, s);
    s->refusing = true;
    int got;
    while (rc == 0 && (got = collab_store_take_refused(st, &cs, &seen_loader, seen_gone, s)) == 1)
        if (refused && *nrefused < 8)
            refused[(*nrefused)++] = cs;
    s->refusing = false;
    return rc;
}

/*  Polls the store's descriptor and takes what it hands over until want(s) holds or 5 s
    have passed (a deadline, not a sleep: each wait ends as soon as the store has news). */
static inline bool take_until(collab_store_t *st, seen_t *s, uint64_t *refused, size_t *nrefused,
                              bool (*want)(const seen_t *, const void *), const void *warg)
{
    int64_t end = collab_mono_ms() + 5000;
    for (;;) {
        if (take_all(st, s, refused, nrefused) != 0)
            return false;
        if (want(s, warg))
            return true;
        int64_t left = end - collab_mono_ms();
        if (left <= 0)
            return false;
        struct pollfd p = {.fd = collab_store_fd(st), .events = POLLIN};
        poll(&p, 1, (int)left);
    }
}

static inline bool has_line(const seen_t *s, const void *want)
{
    return find_line(s, 0, want) >= 0;
}

#endif
