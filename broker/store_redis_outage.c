/*  store_redis_outage.c: the Redis backend's outages (see store_redis.h). Any thread that
    finds Redis unreachable marks the store down; the writer then drops the batches queued
    behind the one it was committing (never sent), and reconnects with a bounded back-off
    (the durability check, the scripts, the node's name taken again); the loop, once the
    writer is ready, reconnects its own connection and brings its tables up to date, from
    the log when it can, else by reloading every record. */
#include "store_redis_int.h"

#include "collab_error.h"
#include "redis_access.h"

#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RS_BACKOFF_MIN_MS 50
#define RS_BACKOFF_MAX_MS 1000

bool rs_unreachable(int rc)
{
    switch (rc) {
    case COLLAB_E_TIMEOUT:
    case COLLAB_E_IO:
    case COLLAB_E_TOO_LARGE:
    case COLLAB_E_BUSY:        /* LOADING (a restart reading its AOF), BUSY (a script) */
    case COLLAB_E_QUOTA:       /* OOM under noeviction: nothing was written */
    case COLLAB_E_INTERNAL:    /* MISCONF: it cannot persist */
    case COLLAB_E_BAD_REQUEST: /* an error reply: NOSCRIPT that a load did not cure... */
    case COLLAB_E_AUTH_FAILED: /* ...or a server restarted with another password */
    case COLLAB_E_FORBIDDEN:
    case COLLAB_E_UNAVAILABLE:
        return true;
    }
    return false;
}

static void down_locked(rs_t *self, bool reload, const char *why)
{
    if (!self->down) {
        self->down = true;
        snprintf(self->down_why, sizeof self->down_why, "%s", why);
        if (!self->backoff_ms)
            self->backoff_ms = RS_BACKOFF_MIN_MS;
    }
    self->ready = false; /* a recovery under way failed: reconnect again */
    if (reload)
        self->reload = true;
    pthread_cond_broadcast(&self->wake);
    pthread_cond_broadcast(&self->done);
    pthread_cond_broadcast(&self->room);
    rs_wake_fd(self);
}

void rs_down(rs_t *self, bool reload, const char *fmt, ...)
{
    char why[RS_WHY_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&self->mu);
    down_locked(self, reload, why);
    pthread_mutex_unlock(&self->mu);
}

bool rs_is_down(rs_t *self)
{
    pthread_mutex_lock(&self->mu);
    bool down = self->down;
    pthread_mutex_unlock(&self->mu);
    return down;
}

int rs_loop_failed(rs_t *self, int rc, const char *what)
{
    if (!rs_unreachable(rc) || !self->async) /* before the threads: the caller fails */
        return rc;
    const char *why = collab_redis_why(self->conn);
    rs_down(self, false, "%s: %s", what, why[0] ? why : collab_strerror(rc));
    return COLLAB_E_UNAVAILABLE;
}

void rs_lost_batch(rs_t *self, const rs_batch_t *b)
{
    self->nlost = 0;
    if (b->n > self->caplost) {
        uint64_t *grown = realloc(self->lost, b->n * sizeof *grown);
        if (!grown)
            return; /* its replies are then answered unavailable: see rs_outage */
        self->lost = grown;
        self->caplost = b->n;
    }
    for (size_t i = 0; i < b->n; i++)
        if (!b->sets[i].meta && b->sets[i].cs)
            self->lost[self->nlost++] = b->sets[i].cs;
}

/* ---------------------------------------------------------------------------------------
   The writer's reconnection */

int rs_retake_node(rs_t *self, collab_redis_t *c)
{
    static const char script[] =
        "local v = redis.call('GET', KEYS[1]) if v == false or v == ARGV[1] then "
        "redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end return 0";
    char key[COLLAB_REDIS_PREFIX_MAX + COLLAB_REDIS_NODE_MAX + 8], ttl[16];
    snprintf(key, sizeof key, "%snode:%s", self->prefix, self->node);
    snprintf(ttl, sizeof ttl, "%" PRIu32, self->node_ttl_ms);
    redisReply *r = NULL;
    int rc = collab_redis_callf(c, &r, "EVAL %s 1 %s %s %s", script, key, self->node_token, ttl);
    if (rc == 0 && (r->type != REDIS_REPLY_INTEGER || r->integer != 1))
        rc = COLLAB_E_CONFLICT;
    collab_redis_reply_free(&r);
    return rc;
}

/*  One attempt: connect, check that the server (maybe another one, restarted) is still
    durable and bounded, and closed to others when store_access is strong, load the scripts
    (a restart forgot them) and take the name. */
static int reconnect(rs_t *self, char *why, size_t cap)
{
    collab_redis_t *c = self->wconn;
    collab_redis_durability_t dur = {0};
    int rc = collab_redis_connect(c);
    if (rc == 0 && (rc = collab_redis_check_durable(c, &dur)) != 0 && dur.text[0] &&
        (rc == COLLAB_E_BAD_REQUEST || rc == COLLAB_E_FORBIDDEN)) { /* not a timeout: refused */
        snprintf(why, cap, "refused as a store: %.300s", dur.text);
        return rc;
    }
    if (rc == 0 && self->check_access && /* store_access strong: checked again, as at start */
        (rc = collab_redis_check_access(c, &self->ropts.addr, self->auth.user, self->prefix, why,
                                        cap)) != 0)
        return rc;
    if (rc == 0)
        rc = rs_script_load(c, collab_redis_commit_lua, collab_redis_commit_lua_len,
                            self->commit_sha);
    if (rc == 0)
        rc = rs_script_load(c, collab_redis_fetch_lua, collab_redis_fetch_lua_len, self->fetch_sha);
    if (rc == 0 && (rc = rs_retake_node(self, c)) == COLLAB_E_CONFLICT)
        snprintf(why, cap, "the node name %s was taken by another broker during the outage",
                 self->node);
    else if (rc)
        snprintf(why, cap, "%s",
                 collab_redis_why(c)[0] ? collab_redis_why(c) : collab_strerror(rc));
    return rc;
}

void rs_writer_outage(rs_t *self)
{
    while (self->queued) { /* behind the batch that failed: never sent */
        rs_batch_free(&self->queue[self->qhead]);
        self->qhead = (self->qhead + 1) % RS_MAX_QUEUED;
        self->queued--;
        self->reload = true; /* the tables hold their changes */
    }
    pthread_cond_broadcast(&self->done);
    pthread_cond_broadcast(&self->room);
    rs_wake_fd(self); /* settled: the loop answers what waited */
    if (self->stop)
        return;
    uint32_t wait = self->backoff_ms ? self->backoff_ms : RS_BACKOFF_MIN_MS;
    char why[RS_WHY_MAX] = "";
    pthread_mutex_unlock(&self->mu);
    int rc = reconnect(self, why, sizeof why);
    pthread_mutex_lock(&self->mu);
    if (rc == COLLAB_E_CONFLICT) { /* fatal: another broker answers under this name now */
        snprintf(self->why, sizeof self->why, "%s", why);
        self->failed = true;
        rs_wake_fd(self);
        return;
    }
    if (rc == 0 && self->down) {
        self->ready = true;
        self->backoff_ms = RS_BACKOFF_MIN_MS;
        rs_wake_fd(self);
        return;
    }
    self->attempts++;
    snprintf(self->attempt_why, sizeof self->attempt_why, "%s", why);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += (long)wait * 1000000L;
    ts.tv_sec += ts.tv_nsec / 1000000000L;
    ts.tv_nsec %= 1000000000L;
    if (!self->stop)
        pthread_cond_timedwait(&self->wake, &self->mu, &ts);
    self->backoff_ms = wait * 2 > RS_BACKOFF_MAX_MS ? RS_BACKOFF_MAX_MS : wait * 2;
}

/* ---------------------------------------------------------------------------------------
   The loop's side */

bool rs_available(const void *be)
{
    return !((const rs_t *)be)->loop_down;
}

int rs_outage(void *be, collab_store_outage_t *out)
{
    rs_t *self = be;
    pthread_mutex_lock(&self->mu);
    self->loop_down |= self->down;
    out->down = self->down;
    out->settled = self->down && !self->busy && self->queued == 0;
    out->ready = self->down && self->ready;
    out->lost = self->lost;
    out->nlost = self->nlost;
    out->retry_after_ms = self->backoff_ms ? self->backoff_ms : RS_BACKOFF_MIN_MS;
    out->why = self->down ? self->down_why : "";
    out->attempts = self->attempts;
    out->attempt_why = self->attempt_why;
    pthread_mutex_unlock(&self->mu);
    return out->down ? COLLAB_E_UNAVAILABLE : 0;
}

/*  Whether the log still holds the entry `last` (the newest this broker applied). */
static int log_holds(rs_t *self, const rs_sid_t *last, bool *holds)
{
    char log[COLLAB_REDIS_PREFIX_MAX + 8];
    redisReply *r = NULL;
    *holds = last->ms == 0 && last->seq == 0; /* an empty log: nothing to miss */
    if (*holds)
        return 0;
    rs_key(self, "log", log, sizeof log);
    int rc = collab_redis_callf(self->conn, &r, "XRANGE %s %s %s", log, last->text, last->text);
    if (rc == 0 && r->type != REDIS_REPLY_ARRAY)
        rc = COLLAB_E_IO;
    if (rc == 0)
        *holds = r->elements == 1;
    collab_redis_reply_free(&r);
    return rc;
}

/*  What the tables hold from before is forgotten: the applied queue, the poison, the
    revisions (the reload gives them again). */
static void forget(rs_t *self)
{
    pthread_mutex_lock(&self->mu);
    for (size_t i = 0; i < self->nitems; i++)
        rs_item_free(&self->items[self->ihead + i]);
    self->ihead = self->nitems = 0;
    self->npoison = 0;
    pthread_mutex_unlock(&self->mu);
    if (self->revs)
        zhashx_purge(self->revs);
}

int rs_recover(void *be, const collab_store_loader_t *cb, void *arg, bool *reloaded)
{
    rs_t *self = be;
    pthread_mutex_lock(&self->mu);
    bool go = self->down && self->ready && !self->busy && self->queued == 0 && !self->failed;
    bool reload = self->reload || self->discarded || self->open.n;
    rs_sid_t last = self->last;
    pthread_mutex_unlock(&self->mu);
    if (!go)
        return COLLAB_E_UNAVAILABLE;
    rs_batch_free(&self->open); /* the loop answered its requests unavailable */
    int rc = collab_redis_connect(self->conn);
    bool holds = true;
    if (rc == 0 && !reload && (rc = log_holds(self, &last, &holds)) == 0 && !holds)
        reload = true; /* trimmed past this broker while it was cut off */
    if (rc == 0 && reload) {
        forget(self);
        rc = rs_load_records(self, cb, arg);
    }
    if (rc) {
        const char *why = collab_redis_why(self->conn);
        rs_down(self, reload, "the recovery failed: %s", why[0] ? why : collab_strerror(rc));
        return rs_unreachable(rc) ? COLLAB_E_UNAVAILABLE : rc;
    }
    pthread_mutex_lock(&self->mu);
    self->down = self->ready = self->reload = false;
    self->loop_down = self->discarded = false;
    self->down_why[0] = self->attempt_why[0] = '\0';
    self->attempts = 0;
    self->epoch++;
    self->nlost = 0;
    self->committed = self->reported = self->submitted; /* lost: answered or dropped */
    pthread_cond_broadcast(&self->room);
    pthread_mutex_unlock(&self->mu);
    *reloaded = reload;
    return 0;
}
