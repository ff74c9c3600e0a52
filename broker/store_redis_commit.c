/*  store_redis_commit.c: the Redis backend's commits and log reads (see store_redis_int.h).
    One batch is one EVALSHA of the commit script, which also reads the log back up to the
    batch's last entry, so that its own entries and any other broker's before them are
    queued for take_applied before `committed` moves. A refused change set is fetched as Redis holds
    it now (the fetch script) and queued as a verdict after every entry up to that moment.
    The writer thread commits batches in order; the tail thread reads other brokers'
    entries while the writer is idle, and keeps the node's name alive. */
#include "store_redis_int.h"

#include "collab_clock.h"
#include "collab_error.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

static bool is_str(const redisReply *r)
{
    return r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS);
}

/* ---------------------------------------------------------------------------------------
   Reading the log */

/*  Copies one XRANGE entry [id, [field, value...]] into an item; false when it is not one. */
static bool entry_item(const redisReply *e, rs_item_t *it)
{
    memset(it, 0, sizeof *it);
    if (!e || e->type != REDIS_REPLY_ARRAY || e->elements != 2 || !is_str(e->element[0]) ||
        !rs_sid_parse(e->element[0]->str, e->element[0]->len, &it->id))
        return false;
    const redisReply *f = e->element[1];
    if (!f || f->type != REDIS_REPLY_ARRAY || f->elements % 2)
        return false;
    for (size_t i = 0; i + 1 < f->elements; i += 2)
        if (is_str(f->element[i]) && f->element[i]->len == 1 && f->element[i]->str[0] == 'd' &&
            is_str(f->element[i + 1])) {
            const redisReply *d = f->element[i + 1];
            if (!(it->data = malloc(d->len ? d->len : 1)))
                return false;
            memcpy(it->data, d->str, d->len);
            it->len = d->len;
            return true;
        }
    return false; /* every entry the script writes has its d */
}

/*  Queues the entries of an XRANGE reply after self->last (under mu). Returns how many
    the reply held (>= 0) or a negative code. */
static int queue_entries(rs_t *self, const redisReply *r)
{
    if (r->type != REDIS_REPLY_ARRAY)
        return COLLAB_E_IO;
    for (size_t i = 0; i < r->elements; i++) {
        rs_item_t it;
        if (!entry_item(r->element[i], &it)) {
            rs_item_free(&it);
            return COLLAB_E_IO;
        }
        if (rs_sid_cmp(&it.id, &self->last) <= 0) { /* queued already: by the other thread */
            rs_item_free(&it);
            continue;
        }
        rs_sid_t id = it.id;
        int rc = rs_queue_push(self, &it, RS_APPLIED_HARD); /* moves it */
        if (rc) {
            rs_item_free(&it);
            return rc;
        }
        self->last = id;
    }
    return (int)r->elements;
}

/*  One read of the log after `from`: MULTI, XRANGE from from (is it still there?), XRANGE
    after it, EXEC; atomic, so a trim between the two cannot hide a gap. */
static int range_once(rs_t *self, collab_redis_t *c, const rs_sid_t *from, const rs_sid_t *to,
                      redisReply **out)
{
    char log[COLLAB_REDIS_PREFIX_MAX + 8], start[RS_SID_MAX + 1];
    redisReply *r = NULL;
    *out = NULL;
    rs_key(self, "log", log, sizeof log);
    snprintf(start, sizeof start, "(%s", from->text);
    int rc = collab_redis_appendf(c, "MULTI");
    if (rc == 0)
        rc = collab_redis_appendf(c, "XRANGE %s %s %s", log, from->text, from->text);
    if (rc == 0)
        rc = collab_redis_appendf(c, "XRANGE %s %s %s COUNT %d", log, start, to ? to->text : "+",
                                  RS_RANGE_COUNT);
    if (rc == 0)
        rc = collab_redis_appendf(c, "EXEC");
    for (int i = 0; rc == 0 && i < 3; i++) {
        rc = collab_redis_read(c, &r);
        collab_redis_reply_free(&r);
    }
    if (rc == 0)
        rc = collab_redis_read(c, &r);
    if (rc == 0 &&
        (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
         r->element[0]->type != REDIS_REPLY_ARRAY || r->element[1]->type != REDIS_REPLY_ARRAY))
        rc = COLLAB_E_IO;
    if (rc == 0 && r->element[0]->elements == 0 && (from->ms || from->seq)) {
        rs_down(self, true,
                "the log %s was trimmed past entry %s, the last this broker applied: its "
                "tables are reloaded from Redis",
                log, from->text);
        rc = COLLAB_E_UNAVAILABLE;
    }
    if (rc)
        collab_redis_reply_free(&r);
    *out = r;
    return rc;
}

int rs_read_log(rs_t *self, collab_redis_t *c, const rs_sid_t *to)
{
    for (;;) {
        pthread_mutex_lock(&self->mu);
        rs_sid_t from = self->last;
        pthread_mutex_unlock(&self->mu);
        if (to && rs_sid_cmp(&from, to) >= 0)
            return 0;
        redisReply *r;
        int rc = range_once(self, c, &from, to, &r);
        if (rc)
            return rc;
        pthread_mutex_lock(&self->mu);
        rc = queue_entries(self, r->element[1]);
        pthread_mutex_unlock(&self->mu);
        collab_redis_reply_free(&r);
        if (rc < 0)
            return rc;
        if (rc < RS_RANGE_COUNT)
            return 0;
    }
}

/* ---------------------------------------------------------------------------------------
   One batch */

/*  EVALSHA of a script, loading it again once when Redis lost it (a restart, SCRIPT FLUSH). */
static int evalsha(collab_redis_t *c, char sha[41], const char *src, size_t srclen, int argc,
                   const char **argv, size_t *argvlen, redisReply **out)
{
    for (int attempt = 0;; attempt++) {
        argv[0] = "EVALSHA";
        argvlen[0] = 7;
        argv[1] = sha;
        argvlen[1] = 40;
        argv[2] = "0";
        argvlen[2] = 1;
        int rc = collab_redis_call(c, out, argc, argv, argvlen);
        if (rc == COLLAB_E_BAD_REQUEST && attempt == 0 &&
            strstr(collab_redis_why(c), "NOSCRIPT") != NULL) {
            rc = rs_script_load(c, src, srclen, sha);
            if (rc)
                return rc;
            continue;
        }
        return rc;
    }
}

/*  Whether any key of the set is poisoned for the loop's batch n (the set's: a merged batch
    holds several); if so the set's keys poison too, now, so that a later set of the same
    batch built on it is refused as it would be in a batch of its own. 1 refused, 0 not, or
    a negative code. */
static int refuse_locally(rs_t *self, rs_set_t *set, uint64_t n)
{
    bool hit = false;
    for (size_t k = 0; !hit && k < set->nkeys; k++)
        hit = rs_poisoned(self, set->keys[k], n);
    for (size_t k = 0; hit && k < set->nkeys; k++) {
        int rc = rs_poison_add(self, set->keys[k]);
        if (rc)
            return rc;
    }
    return hit;
}

/*  The batch as the script's ARGV[3]: {cs, {change...}} for each set sent. */
static int pack_batch(rs_batch_t *b, const bool *sent, msgpack_sbuffer *out)
{
    msgpack_packer pk;
    size_t n = 0;
    int rc = 0;
    msgpack_packer_init(&pk, out, msgpack_sbuffer_write);
    for (size_t i = 0; i < b->n; i++)
        n += sent[i];
    rc |= msgpack_pack_array(&pk, n);
    for (size_t i = 0; i < b->n; i++) {
        if (!sent[i])
            continue;
        rc |= msgpack_pack_array(&pk, 2);
        rc |= msgpack_pack_uint64(&pk, b->sets[i].cs);
        rc |= msgpack_pack_array(&pk, b->sets[i].count);
        if (b->sets[i].buf.size)
            rc |= msgpack_sbuffer_write(out, b->sets[i].buf.data, b->sets[i].buf.size);
    }
    return rc ? COLLAB_E_NOMEM : 0;
}

/*  Copies the fetch script's records into a verdict. */
static int fetched(const redisReply *recs, rs_item_t *v)
{
    if (recs->type != REDIS_REPLY_ARRAY || !(v->recs = calloc(recs->elements + 1, sizeof *v->recs)))
        return COLLAB_E_IO;
    for (size_t i = 0; i < recs->elements; i++) {
        const redisReply *e = recs->element[i];
        rs_fetched_t *f = &v->recs[v->nrecs];
        if (e->type != REDIS_REPLY_ARRAY || e->elements != 4 || !is_str(e->element[0]) ||
            e->element[0]->len >= sizeof f->key || e->element[2]->type != REDIS_REPLY_INTEGER ||
            e->element[3]->type != REDIS_REPLY_INTEGER || e->element[2]->integer < 0 ||
            e->element[3]->integer < 0)
            return COLLAB_E_IO;
        memcpy(f->key, e->element[0]->str, e->element[0]->len);
        f->key[e->element[0]->len] = '\0';
        f->rev = (uint64_t)e->element[2]->integer;
        f->seq = (uint64_t)e->element[3]->integer;
        if (is_str(e->element[1])) {
            if (!(f->blob = malloc(e->element[1]->len + 1)))
                return COLLAB_E_NOMEM;
            memcpy(f->blob, e->element[1]->str, e->element[1]->len);
            f->len = e->element[1]->len;
        }
        v->nrecs++;
    }
    return 0;
}

/*  A refused set: its records as Redis holds them now, queued as a verdict (why) after
    every log entry up to that moment; a set refused for a session that is gone reads that
    session too, so that the tables lose it. Its record keys poison the batches built on it. */
static int refuse(rs_t *self, collab_redis_t *c, rs_set_t *set, int why)
{
    size_t nlive = why == COLLAB_STORE_REFUSED_SESSION ? set->nlive : 0;
    size_t argc = 4 + set->nkeys + nlive;
    const char **argv = calloc(argc, sizeof *argv);
    size_t *argvlen = calloc(argc, sizeof *argvlen);
    redisReply *r = NULL;
    rs_item_t v = {.verdict = true, .cs = set->cs, .batch = set->batch, .why = why};
    int rc = argv && argvlen ? 0 : COLLAB_E_NOMEM;
    pthread_mutex_lock(&self->mu);
    for (size_t k = 0; rc == 0 && k < set->nkeys; k++)
        rc = rs_poison_add(self, set->keys[k]);
    pthread_mutex_unlock(&self->mu);
    if (rc == 0) {
        argv[3] = self->prefix;
        argvlen[3] = strlen(self->prefix);
        for (size_t k = 0; k < set->nkeys + nlive; k++) {
            const char *key = k < set->nkeys ? set->keys[k] : set->live[k - set->nkeys];
            argv[4 + k] = key;
            argvlen[4 + k] = strlen(key);
        }
        rc = evalsha(c, self->fetch_sha, collab_redis_fetch_lua, collab_redis_fetch_lua_len,
                     (int)argc, argv, argvlen, &r);
    }
    rs_sid_t upto = {0};
    if (rc == 0 &&
        (r->type != REDIS_REPLY_ARRAY || r->elements != 2 || !is_str(r->element[0]) ||
         (r->element[0]->len && !rs_sid_parse(r->element[0]->str, r->element[0]->len, &upto))))
        rc = COLLAB_E_IO;
    if (rc == 0)
        rc = fetched(r->element[1], &v);
    if (rc == 0 && (v.keys = calloc(set->nkeys + 1, sizeof *v.keys))) {
        if (set->nkeys) /* a set of conditions alone touches no record */
            memcpy(v.keys, set->keys, set->nkeys * sizeof *v.keys);
        v.nkeys = set->nkeys;
    } else if (rc == 0) {
        rc = COLLAB_E_NOMEM;
    }
    if (rc == 0 && (upto.ms || upto.seq))
        rc = rs_read_log(self, c, &upto);
    if (rc == 0) {
        pthread_mutex_lock(&self->mu);
        v.id = self->last;
        rc = rs_queue_push(self, &v, RS_APPLIED_HARD);
        pthread_mutex_unlock(&self->mu);
    }
    if (rc)
        rs_item_free(&v);
    collab_redis_reply_free(&r);
    free(argv);
    free(argvlen);
    return rc;
}

/*  The script's answer: {last id or "", {cs, won, id}...}, one result per set sent; won is
    1, or why the set was refused: 0 a conflict, 2 a nonce claimed before, 3 a session gone.
    no[i] receives 0 (won), or the refusal as a collab_store_refusal_t. */
static int read_results(const redisReply *r, size_t nsent, rs_sid_t *last, int *no)
{
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 4 || !is_str(r->element[0]) ||
        r->element[1]->type != REDIS_REPLY_ARRAY || r->element[1]->elements != nsent ||
        r->element[2]->type != REDIS_REPLY_INTEGER || r->element[3]->type != REDIS_REPLY_ARRAY)
        return COLLAB_E_IO;
    memset(last, 0, sizeof *last);
    if (r->element[0]->len && !rs_sid_parse(r->element[0]->str, r->element[0]->len, last))
        return COLLAB_E_IO;
    for (size_t i = 0; i < nsent; i++) {
        const redisReply *e = r->element[1]->element[i];
        if (e->type != REDIS_REPLY_ARRAY || e->elements != 3 ||
            e->element[1]->type != REDIS_REPLY_INTEGER)
            return COLLAB_E_IO;
        long long code = e->element[1]->integer;
        no[i] = code == 1   ? 0
                : code == 2 ? COLLAB_STORE_REFUSED_REPLAY
                : code == 3 ? COLLAB_STORE_REFUSED_SESSION
                            : COLLAB_STORE_REFUSED_CONFLICT;
    }
    return 0;
}

/*  The log as the script read it back after from, up to the batch's last entry: queued as
    rs_read_log would queue it (which reads on when the script's count was not enough), or
    the store down when from was trimmed meanwhile, as range_once says it. */
static int read_back(rs_t *self, const redisReply *r, const rs_sid_t *from)
{
    if (r->element[2]->integer == 0) {
        char log[COLLAB_REDIS_PREFIX_MAX + 8];
        rs_key(self, "log", log, sizeof log);
        rs_down(self, true,
                "the log %s was trimmed past entry %s, the last this broker applied: its "
                "tables are reloaded from Redis",
                log, from->text);
        return COLLAB_E_UNAVAILABLE;
    }
    pthread_mutex_lock(&self->mu);
    int rc = queue_entries(self, r->element[3]);
    pthread_mutex_unlock(&self->mu);
    return rc < 0 ? rc : 0;
}

/*  Sends the sets not refused locally; no[i] for each set of b afterwards: 0 (won), or why
    it was refused (a set refused locally: a conflict). The script reads the log back after
    from, in the same step (read_back). */
static int send_batch(rs_t *self, collab_redis_t *c, rs_batch_t *b, const bool *sent, int *no,
                      rs_sid_t *last, uint64_t epoch, const rs_sid_t *from)
{
    msgpack_sbuffer buf;
    char bound[24], now[24], run[COLLAB_REDIS_NODE_MAX + 24], count[16];
    redisReply *r = NULL;
    size_t nsent = 0;
    msgpack_sbuffer_init(&buf);
    int rc = pack_batch(b, sent, &buf);
    snprintf(bound, sizeof bound, "%" PRIu32, self->log_bound);
    snprintf(now, sizeof now, "%" PRIu64, rs_wall_ms());
    /* the run's owner: this node since its last recovery. A batch lost in an outage that
       Redis runs late belongs to the run before, so that no write after the recovery
       passes over it by the run rule (the commit script's passes()) */
    snprintf(run, sizeof run, "%s#%" PRIu64, self->node, epoch);
    snprintf(count, sizeof count, "%d", RS_RANGE_COUNT);
    const char *start = from->ms || from->seq ? from->text : "0-0";
    const char *argv[11] = {NULL,  NULL, NULL, self->prefix, self->node, buf.data ? buf.data : "",
                            bound, now,  run,  start,        count};
    size_t argvlen[11] = {0,
                          0,
                          0,
                          strlen(self->prefix),
                          strlen(self->node),
                          buf.size,
                          strlen(bound),
                          strlen(now),
                          strlen(run),
                          strlen(start),
                          strlen(count)};
    if (rc == 0)
        rc = evalsha(c, self->commit_sha, collab_redis_commit_lua, collab_redis_commit_lua_len, 11,
                     argv, argvlen, &r);
    int *w = calloc(b->n + 1, sizeof *w);
    for (size_t i = 0; i < b->n; i++)
        nsent += sent[i];
    if (rc == 0)
        rc = w ? read_results(r, nsent, last, w) : COLLAB_E_NOMEM;
    for (size_t i = 0, j = 0; rc == 0 && i < b->n; i++)
        no[i] = sent[i] ? w[j++] : COLLAB_STORE_REFUSED_CONFLICT;
    if (rc == 0 && (last->ms || last->seq))
        rc = read_back(self, r, from);
    free(w);
    collab_redis_reply_free(&r);
    msgpack_sbuffer_destroy(&buf);
    return rc;
}

int rs_commit_batch(rs_t *self, collab_redis_t *c, rs_batch_t *b)
{
    bool *sent = calloc(b->n + 1, sizeof *sent);
    int *no = calloc(b->n + 1, sizeof *no); /* 0: won, else why refused */
    size_t nsent = 0;
    rs_sid_t last = {0};
    int rc = sent && no ? 0 : COLLAB_E_NOMEM;
    pthread_mutex_lock(&self->mu);
    uint64_t epoch = self->epoch;
    rs_sid_t from = self->last; /* the tail queues nothing while the writer is busy */
    for (size_t i = 0; rc == 0 && i < b->n; i++) {
        int no_local = b->sets[i].meta ? 0 : refuse_locally(self, &b->sets[i], b->sets[i].batch);
        rc = no_local < 0 ? no_local : 0;
        sent[i] = no_local == 0;
        nsent += sent[i];
    }
    pthread_mutex_unlock(&self->mu);
    if (rc == 0 && nsent)
        rc = send_batch(self, c, b, sent, no, &last, epoch, &from);
    if (rc == 0 && (last.ms || last.seq)) /* on, when the script's read back was not all */
        rc = rs_read_log(self, c, &last);
    for (size_t i = 0; rc == 0 && i < b->n; i++)
        if (!b->sets[i].meta && (no[i] || !sent[i]))
            rc = refuse(self, c, &b->sets[i], no[i] ? no[i] : COLLAB_STORE_REFUSED_CONFLICT);
    free(sent);
    free(no);
    return rc;
}

/* ---------------------------------------------------------------------------------------
   The writer thread */

static void *writer_main(void *arg)
{
    rs_t *self = arg;
    pthread_mutex_lock(&self->mu);
    for (;;) {
        while (self->queued == 0 && !self->stop && !(self->down && !self->ready && !self->failed))
            pthread_cond_wait(&self->wake, &self->mu);
        if (self->down && !self->ready && !self->failed) {
            rs_writer_outage(self); /* drops the queue; reconnects, or waits its back-off */
            if (self->stop)
                break;
            continue;
        }
        if (self->queued == 0)
            break;
        rs_batch_t *b = &self->queue[self->qhead]; /* no merge into it while busy */
        uint64_t number = b->number;
        self->busy = true;
        self->gen++;
        bool failed = self->failed;
        pthread_mutex_unlock(&self->mu);
        int rc = failed ? COLLAB_E_IO : rs_commit_batch(self, self->wconn, b);
        char why[RS_WHY_MAX] = "";
        if (rc && !failed)
            snprintf(why, sizeof why, "batch %" PRIu64 " could not be committed: %s", b->number,
                     collab_redis_why(self->wconn)[0] ? collab_redis_why(self->wconn)
                                                      : collab_strerror(rc));
        pthread_mutex_lock(&self->mu);
        if (rc && !failed && rs_unreachable(rc)) { /* sent, maybe run: its outcome is unknown */
            rs_lost_batch(self, b);
            pthread_mutex_unlock(&self->mu);
            rs_down(self, true, "%s", why);
        } else {
            pthread_mutex_unlock(&self->mu);
            if (rc && !failed)
                rs_fail(self, "%s", why);
        }
        rs_batch_free(b);
        pthread_mutex_lock(&self->mu);
        self->qhead = (self->qhead + 1) % RS_MAX_QUEUED;
        self->queued--;
        self->busy = false;
        if (rc == 0)
            self->committed = number; /* a merged batch commits the loop's batches in it */
        pthread_cond_broadcast(&self->done);
        pthread_cond_broadcast(&self->room);
        rs_wake_fd(self);
    }
    pthread_mutex_unlock(&self->mu);
    return NULL;
}

/* ---------------------------------------------------------------------------------------
   The tail thread */

/*  Keeps the node's name: its key lives node_ttl_ms, and is refreshed at a third of it
    (rs_retake_node: still this broker's token, or expired meanwhile, when this process was
    stopped longer than that, and free). A key that holds another token means the name went
    to another broker: fatal. */
static int refresh_node(rs_t *self, collab_redis_t *c)
{
    int rc = rs_retake_node(self, c);
    if (rc == COLLAB_E_CONFLICT) /* fatal, not an outage */
        rs_fail(self, "the node name %s was taken by another broker", self->node);
    return rc;
}

/*  Waits (XREAD BLOCK, shorter than the command timeout) until the log has an entry after
    `from`; what it returns is only a wake-up: range_once reads it. */
static int wait_log(rs_t *self, collab_redis_t *c, const rs_sid_t *from, int block_ms)
{
    char log[COLLAB_REDIS_PREFIX_MAX + 8];
    redisReply *r = NULL;
    rs_key(self, "log", log, sizeof log);
    int rc = collab_redis_callf(c, &r, "XREAD COUNT 1 BLOCK %d STREAMS %s %s", block_ms, log,
                                from->text);
    collab_redis_reply_free(&r);
    return rc;
}

/*  One turn of the tail: read what is after self->last, unless the writer started a batch
    meanwhile (it reads the log itself: what the tail read is dropped, never interleaved). */
static int tail_turn(rs_t *self, collab_redis_t *c, int block_ms)
{
    pthread_mutex_lock(&self->mu);
    uint64_t gen = self->gen;
    rs_sid_t from = self->last;
    pthread_mutex_unlock(&self->mu);
    redisReply *r = NULL;
    int rc = range_once(self, c, &from, NULL, &r);
    if (rc)
        return rc;
    int got = (int)r->element[1]->elements;
    pthread_mutex_lock(&self->mu);
    if (got && gen == self->gen && !self->busy && rs_sid_cmp(&from, &self->last) == 0) {
        rc = queue_entries(self, r->element[1]);
        if (rc > 0)
            rs_wake_fd(self);
    }
    pthread_mutex_unlock(&self->mu);
    collab_redis_reply_free(&r);
    if (rc < 0)
        return rc;
    return got ? 0 : wait_log(self, c, &from, block_ms);
}

static void *tail_main(void *arg)
{
    rs_t *self = arg;
    int block_ms = self->ropts.command_timeout_ms / 4;
    block_ms = block_ms < 10 ? 10 : block_ms > 100 ? 100 : block_ms;
    int64_t refreshed = collab_mono_ms();
    uint64_t epoch = 0;
    pthread_mutex_lock(&self->mu);
    while (!self->tail_stop && !self->failed) {
        if (self->down || self->busy || self->queued || self->nitems >= RS_APPLIED_MAX) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += (long)block_ms * 1000000L;
            ts.tv_sec += ts.tv_nsec / 1000000000L;
            ts.tv_nsec %= 1000000000L;
            pthread_cond_timedwait(&self->room, &self->mu, &ts);
            if (self->down || !(collab_mono_ms() - refreshed > (int64_t)self->node_ttl_ms / 3))
                continue;
        }
        bool fresh = epoch != self->epoch; /* after an outage: a new connection */
        epoch = self->epoch;
        pthread_mutex_unlock(&self->mu);
        int rc = 0;
        if (fresh || !collab_redis_connected(self->tconn))
            rc = collab_redis_connect(self->tconn);
        if (rc == 0 && collab_mono_ms() - refreshed > (int64_t)self->node_ttl_ms / 3) {
            rc = refresh_node(self, self->tconn);
            refreshed = collab_mono_ms();
        }
        if (rc == 0)
            rc = tail_turn(self, self->tconn, block_ms);
        const char *why = collab_redis_why(self->tconn);
        if (rc && rs_unreachable(rc)) /* the trimmed log said so itself (UNAVAILABLE) */
            rs_down(self, false, "the log could not be followed: %s",
                    why[0] ? why : collab_strerror(rc));
        else if (rc)
            rs_fail(self, "the log could not be followed: %s", why[0] ? why : collab_strerror(rc));
        pthread_mutex_lock(&self->mu);
    }
    pthread_mutex_unlock(&self->mu);
    return NULL;
}

int rs_threads_start(rs_t *self)
{
    if (pthread_create(&self->writer, NULL, writer_main, self) != 0)
        return COLLAB_E_NOMEM;
    self->writer_started = true;
    if (pthread_create(&self->tail, NULL, tail_main, self) != 0)
        return COLLAB_E_NOMEM;
    self->tail_started = true;
    return 0;
}

void rs_threads_stop(rs_t *self)
{
    pthread_mutex_lock(&self->mu);
    self->stop = self->tail_stop = true;
    pthread_cond_broadcast(&self->wake);
    pthread_cond_broadcast(&self->room);
    pthread_mutex_unlock(&self->mu);
    if (self->writer_started) /* it commits what is queued first */
        pthread_join(self->writer, NULL);
    if (self->tail_started)
        pthread_join(self->tail, NULL);
    self->writer_started = self->tail_started = false;
}
