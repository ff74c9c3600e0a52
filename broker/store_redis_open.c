/*  store_redis_open.c: the Redis backend (see store_redis.h): open (connect, the durability check,
    the scripts, the node's name) and close, the open batch that record() fills, the batch
    calls of the backend's vtable, and the writer's hand-over. Commits and log reads are in
    store_redis_commit.c, what is handed to the tables in store_redis_apply.c, the start-up
    and event reads in store_redis_read.c, the bytes in store_redis_codec.c. */
#include "store_redis_int.h"
#include "redis_access.h"

#include "collab_error.h"

#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

void rs_fail(rs_t *self, const char *fmt, ...)
{
    pthread_mutex_lock(&self->mu);
    if (!self->failed || !self->why[0]) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(self->why, sizeof self->why, fmt, ap);
        va_end(ap);
    }
    self->failed = true;
    pthread_cond_broadcast(&self->done);
    pthread_cond_broadcast(&self->room);
    rs_wake_fd(self);
    pthread_mutex_unlock(&self->mu);
}

void rs_wake_fd(rs_t *self)
{
    uint64_t one = 1;
    if (self->efd >= 0) {
        ssize_t n = write(self->efd, &one, sizeof one); /* EAGAIN: readable already */
        (void)n;
    }
}

void rs_key(const rs_t *self, const char *rel, char *out, size_t cap)
{
    snprintf(out, cap, "%s%s", self->prefix, rel);
}

int rs_script_load(collab_redis_t *c, const char *src, size_t len, char sha[41])
{
    const char *argv[3] = {"SCRIPT", "LOAD", src};
    size_t argvlen[3] = {6, 4, len};
    redisReply *r = NULL;
    int rc = collab_redis_call(c, &r, 3, argv, argvlen);
    if (rc == 0 && (r->type != REDIS_REPLY_STRING || r->len != 40))
        rc = COLLAB_E_IO;
    if (rc == 0) {
        memcpy(sha, r->str, 40);
        sha[40] = '\0';
    }
    collab_redis_reply_free(&r);
    return rc;
}

/* ---------------------------------------------------------------------------------------
   The open batch */

static void set_free(rs_set_t *s)
{
    msgpack_sbuffer_destroy(&s->buf);
    free(s->keys);
    free(s->live);
}

void rs_batch_free(rs_batch_t *b)
{
    for (size_t i = 0; i < b->n; i++)
        set_free(&b->sets[i]);
    free(b->sets);
    memset(b, 0, sizeof *b);
}

/*  The change set of cs in the open batch (changes of one request stay together, and the
    activity write-backs, cs 0, are one set of their own); the node-local values are one
    more set, never refused. NULL when out of memory. */
static rs_set_t *set_of(rs_batch_t *b, uint64_t cs, bool meta)
{
    for (size_t i = b->n; i-- > 0;)
        if (b->sets[i].meta == meta && (meta || b->sets[i].cs == cs))
            return &b->sets[i];
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 16;
        rs_set_t *grown = realloc(b->sets, cap * sizeof *grown);
        if (!grown)
            return NULL;
        b->sets = grown;
        b->cap = cap;
    }
    rs_set_t *s = &b->sets[b->n++];
    memset(s, 0, sizeof *s);
    s->cs = cs;
    s->meta = meta;
    msgpack_sbuffer_init(&s->buf);
    return s;
}

static int set_key(rs_set_t *s, const char *key)
{
    for (size_t i = 0; i < s->nkeys; i++)
        if (strcmp(s->keys[i], key) == 0)
            return 0;
    if (s->nkeys == s->capkeys) {
        size_t cap = s->capkeys ? s->capkeys * 2 : 4;
        void *grown = realloc(s->keys, cap * sizeof *s->keys);
        if (!grown)
            return COLLAB_E_NOMEM;
        s->keys = grown;
        s->capkeys = cap;
    }
    snprintf(s->keys[s->nkeys++], RS_KEY_MAX, "%s", key);
    return 0;
}

uint64_t rs_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/*  A change into the open batch, with the revision the backend knows for its record (the
    revision map: loaded, applied, restored), not the tables'. */
static int rs_record(void *be, const collab_change_t *c)
{
    rs_t *self = be;
    char key[RS_KEY_MAX];
    if (self->loop_down) { /* the tables hold a change that Redis never will */
        self->discarded |= c->kind != COLLAB_CHANGE_META; /* node-local: no table holds it */
        return 0;
    }
    rs_change_key(c, key, sizeof key);
    rs_set_t *set = set_of(&self->open, c->changeset, c->kind == COLLAB_CHANGE_META);
    rs_rev_t *known = key[0] ? rs_rev(self, key, true) : NULL;
    int rc = set && (!key[0] || known) ? 0 : COLLAB_E_NOMEM;
    if (rc == 0 && key[0])
        rc = set_key(set, key);
    if (rc == 0)
        rc = rs_encode_change(self, set, c, known ? known->rev : 0, rs_wall_ms());
    if (rc == 0 && known) {
        known->dirty = self->submitted + 1; /* the open batch's number */
        if (c->kind == COLLAB_CHANGE_TASK)
            known->project = c->u.task->project_id;
    }
    if (rc) {
        self->open.number = UINT64_MAX; /* failed: the batch must not be committed */
        return rc == COLLAB_E_NOMEM ? rc : COLLAB_E_IO;
    }
    return 0;
}

/*  A session a set requires: kept apart from its record keys (never poisoned). */
static int live_key(rs_set_t *s, const char *key)
{
    for (size_t i = 0; i < s->nlive; i++)
        if (strcmp(s->live[i], key) == 0)
            return 0;
    if (s->nlive == s->caplive) {
        size_t cap = s->caplive ? s->caplive * 2 : 2;
        void *grown = realloc(s->live, cap * sizeof *s->live);
        if (!grown)
            return COLLAB_E_NOMEM;
        s->live = grown;
        s->caplive = cap;
    }
    snprintf(s->live[s->nlive++], RS_KEY_MAX, "%s", key);
    return 0;
}

/*  A condition of the change set, checked by the commit script with the batch (a nonce
    claimed, a session required); it touches no record, so the revision map is left as is. */
static int rs_require(void *be, const collab_require_t *r)
{
    rs_t *self = be;
    char key[RS_KEY_MAX];
    if (self->loop_down) /* an outage: the request is refused, or (a heartbeat, get_stats) */
        return 0;        /* answered from these tables alone; nothing of it is committed */
    rs_set_t *set = set_of(&self->open, r->changeset, false);
    int rc = set ? 0 : COLLAB_E_NOMEM;
    if (rc == 0 && r->kind == COLLAB_REQUIRE_SESSION) {
        snprintf(key, sizeof key, "s:%s", r->key);
        rc = live_key(set, key);
    }
    if (rc == 0)
        rc = rs_encode_require(set, r);
    if (rc) {
        self->open.number = UINT64_MAX; /* failed: the batch must not be committed */
        return rc == COLLAB_E_NOMEM ? rc : COLLAB_E_IO;
    }
    return 0;
}

static int rs_begin(void *be)
{
    (void)be;
    return 0;
}

static bool rs_in_batch(const void *be)
{
    return ((const rs_t *)be)->open.n > 0;
}

static void rs_rollback(void *be)
{
    rs_t *self = be;
    for (size_t i = 0; i < self->open.n; i++)
        self->discarded |= !self->open.sets[i].meta; /* a recovery reloads the tables */
    rs_batch_free(&self->open);
}

/*  Direct mode: the loop commits on its own connection, now. */
static int submit_direct(rs_t *self)
{
    int rc = rs_conn(self);
    self->open.number = ++self->submitted;
    for (size_t i = 0; i < self->open.n; i++)
        self->open.sets[i].batch = self->open.number;
    if (rc == 0)
        rc = rs_commit_batch(self, self->conn, &self->open);
    rs_batch_free(&self->open);
    if (rc) {
        rs_fail(self, "batch %" PRIu64 " could not be committed: %s", self->submitted,
                collab_redis_why(self->conn)[0] ? collab_redis_why(self->conn)
                                                : collab_strerror(rc));
        return COLLAB_E_IO;
    }
    pthread_mutex_lock(&self->mu);
    self->committed = self->reported = self->submitted;
    pthread_mutex_unlock(&self->mu);
    return 0;
}

/*  Under mu: appends the open batch to the last queued one when that one waits behind the
    batch in flight, so that one script call, one fsync and one read of the log serve both
    (each set keeps its batch's number: poisoning and verdicts are per loop batch). The
    merged batch takes the open one's number; committing it commits both. False when it
    cannot (nothing waits, the waiting one is full, or out of memory): queued as it is. */
static bool merge_queued(rs_t *self)
{
    if (self->queued == 0 || (self->queued == 1 && self->busy))
        return false;
    rs_batch_t *to = &self->queue[(self->qhead + self->queued - 1) % RS_MAX_QUEUED];
    size_t n = to->n + self->open.n;
    if (n > RS_MERGE_MAX)
        return false;
    if (n > to->cap) {
        rs_set_t *grown = realloc(to->sets, n * sizeof *grown);
        if (!grown)
            return false;
        to->sets = grown;
        to->cap = n;
    }
    memcpy(to->sets + to->n, self->open.sets, self->open.n * sizeof *to->sets);
    to->n = n;
    to->number = self->open.number;
    free(self->open.sets); /* its sets moved */
    memset(&self->open, 0, sizeof self->open);
    return true;
}

static int rs_submit(void *be)
{
    rs_t *self = be;
    if (self->open.n == 0)
        return 0;
    if (self->open.number == UINT64_MAX)
        return COLLAB_E_IO; /* a change could not be recorded: the tables are ahead */
    if (!self->async)
        return submit_direct(self);
    pthread_mutex_lock(&self->mu);
    while (self->queued == RS_MAX_QUEUED && !self->failed && !self->down) /* back-pressure */
        pthread_cond_wait(&self->done, &self->mu);
    if (self->failed || self->down) {
        int rc = self->failed ? COLLAB_E_IO : COLLAB_E_UNAVAILABLE;
        self->reload |= self->down; /* dropped: the tables hold its changes */
        pthread_mutex_unlock(&self->mu);
        rs_batch_free(&self->open);
        return rc;
    }
    self->open.number = ++self->submitted;
    for (size_t i = 0; i < self->open.n; i++)
        self->open.sets[i].batch = self->open.number;
    if (!merge_queued(self)) {
        self->queue[(self->qhead + self->queued++) % RS_MAX_QUEUED] = self->open;
        memset(&self->open, 0, sizeof self->open);
    }
    pthread_cond_signal(&self->wake);
    pthread_mutex_unlock(&self->mu);
    return 0;
}

/*  Waits until every submitted batch is committed. */
static int sync_all(rs_t *self)
{
    pthread_mutex_lock(&self->mu);
    while (self->committed < self->submitted && !self->failed && !self->down)
        pthread_cond_wait(&self->done, &self->mu);
    int rc = self->failed ? COLLAB_E_IO : self->down ? COLLAB_E_UNAVAILABLE : 0;
    pthread_mutex_unlock(&self->mu);
    return rc;
}

int rs_commit_all(rs_t *self)
{
    int rc = rs_submit(self);
    if (rc == 0 && self->async)
        rc = sync_all(self);
    return rc;
}

static int rs_commit(void *be)
{
    return rs_commit_all(be);
}

static bool rs_idle(void *be)
{
    rs_t *self = be;
    pthread_mutex_lock(&self->mu);
    bool idle = self->async && self->queued == 0 && !self->busy;
    pthread_mutex_unlock(&self->mu);
    return idle;
}

static uint64_t rs_pending(const void *be)
{
    const rs_t *self = be;
    if (self->loop_down) /* nothing more commits: what is made now leaves at once */
        return 0;
    rs_t *m = (rs_t *)(uintptr_t)self; /* the mutex only */
    pthread_mutex_lock(&m->mu);
    uint64_t committed = self->committed;
    pthread_mutex_unlock(&m->mu);
    if (self->open.n)
        return self->submitted + 1;
    return self->submitted > committed ? self->submitted : 0;
}

static int rs_committed(void *be, uint64_t *committed)
{
    rs_t *self = be;
    uint64_t v;
    if (self->efd >= 0) {
        ssize_t n = read(self->efd, &v, sizeof v); /* clears it; EAGAIN: no news */
        (void)n;
    }
    pthread_mutex_lock(&self->mu);
    *committed = self->reported = self->committed;
    int rc = self->failed ? COLLAB_E_IO : self->down ? COLLAB_E_UNAVAILABLE : 0;
    self->loop_down |= self->down;
    pthread_mutex_unlock(&self->mu);
    return rc;
}

static int rs_fd(const void *be)
{
    const rs_t *self = be;
    return self->async ? self->efd : -1;
}

static void rs_set_retention(void *be, uint32_t retain)
{
    ((rs_t *)be)->retain = retain;
}

static void rs_set_vault(void *be, const collab_vault_t *vault)
{
    ((rs_t *)be)->vault = vault;
}

/*  A connection of the store's, connected. NULL with err filled. */
static collab_redis_t *connect_one(rs_t *self, char *err, size_t errlen)
{
    collab_redis_t *c = collab_redis_new(&self->ropts);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (collab_redis_connect(c) != 0) {
        snprintf(err, errlen, "%s", collab_redis_why(c));
        collab_redis_destroy(&c);
    }
    return c;
}

static int rs_start_async(void *be)
{
    rs_t *self = be;
    char err[COLLAB_REDIS_WHY_MAX];
    if (self->async)
        return 0;
    int rc = rs_commit(self);
    if (rc)
        return rc;
    self->submitted = self->committed = self->reported = 0; /* batches from 1, as SQLite's */
    if (self->revs)
        for (rs_rev_t *r = zhashx_first(self->revs); r; r = zhashx_next(self->revs))
            r->dirty = 0;
    if (!(self->wconn = connect_one(self, err, sizeof err)) ||
        !(self->tconn = connect_one(self, err, sizeof err))) {
        rs_fail(self, "%s", err);
        return COLLAB_E_IO;
    }
    self->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (self->efd < 0)
        return COLLAB_E_IO;
    self->async = true;
    return rs_threads_start(self);
}

/*  Gives the node's name back, if it is still this broker's. */
static void release_node(rs_t *self)
{
    static const char script[] = "if redis.call('GET', KEYS[1]) == ARGV[1] then "
                                 "return redis.call('DEL', KEYS[1]) end return 0";
    char key[COLLAB_REDIS_PREFIX_MAX + COLLAB_REDIS_NODE_MAX + 8];
    redisReply *r = NULL;
    snprintf(key, sizeof key, "%snode:%s", self->prefix, self->node);
    if (self->node_token[0] && self->conn && rs_conn(self) == 0)
        collab_redis_callf(self->conn, &r, "EVAL %s 1 %s %s", script, key, self->node_token);
    collab_redis_reply_free(&r);
}

static void rs_close(void *be)
{
    rs_t *self = be;
    if (!self)
        return;
    rs_threads_stop(self); /* what was submitted is committed first */
    release_node(self);
    rs_batch_free(&self->open);
    for (size_t i = 0; i < self->queued; i++)
        rs_batch_free(&self->queue[(self->qhead + i) % RS_MAX_QUEUED]);
    for (size_t i = 0; i < self->nitems; i++)
        rs_item_free(&self->items[self->ihead + i]);
    free(self->items);
    free(self->poison);
    free(self->lost);
    zhashx_destroy(&self->revs);
    collab_redis_destroy(&self->conn);
    collab_redis_destroy(&self->wconn);
    collab_redis_destroy(&self->tconn);
    collab_redis_auth_wipe(&self->auth);
    if (self->efd >= 0)
        close(self->efd);
    pthread_cond_destroy(&self->wake);
    pthread_cond_destroy(&self->done);
    pthread_cond_destroy(&self->room);
    pthread_mutex_destroy(&self->mu);
    free(self);
}

static const collab_store_backend_t redis_backend = {
    .name = "redis",
    .close = rs_close,
    .load = rs_load,
    .record = rs_record,
    .begin = rs_begin,
    .in_batch = rs_in_batch,
    .commit = rs_commit,
    .rollback = rs_rollback,
    .start_async = rs_start_async,
    .submit = rs_submit,
    .idle = rs_idle,
    .pending = rs_pending,
    .committed = rs_committed,
    .fd = rs_fd,
    .take_refused = rs_take_refused,
    .events_since = rs_events_since,
    .get_meta = rs_get_meta,
    .set_retention = rs_set_retention,
    .set_vault = rs_set_vault,
    .shared = true,
    .take_applied = rs_take_applied,
    .reserve_ids = rs_reserve_ids,
    .find_session = rs_find_session,
    .available = rs_available,
    .outage = rs_outage,
    .recover = rs_recover,
    .require = rs_require,
};

const char *collab_store_redis_why(collab_store_t *store)
{
    rs_t *self = collab_store_backend(store, &redis_backend);
    return self ? self->why : NULL;
}

/* ---------------------------------------------------------------------------------------
   Open */

static bool valid_node(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > COLLAB_REDIS_NODE_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
            return false;
    return true;
}

static bool valid_prefix(const char *s)
{
    size_t n = strlen(s);
    if (n > COLLAB_REDIS_PREFIX_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] <= ' ' || s[i] >= 0x7f)
            return false;
    return true;
}

/*  Settings, the address and the password. */
static int configure(rs_t *self, const collab_store_redis_opts_t *o, char *err, size_t errlen)
{
    const char *prefix = o->prefix ? o->prefix : "tc:";
    if (!valid_node(o->node)) {
        snprintf(err, errlen, "the node name must be 1 to %d of A-Z a-z 0-9 _ -",
                 COLLAB_REDIS_NODE_MAX);
        return COLLAB_E_BAD_REQUEST;
    }
    if (!valid_prefix(prefix)) {
        snprintf(err, errlen, "the key prefix must be at most %d printable characters, no blank",
                 COLLAB_REDIS_PREFIX_MAX);
        return COLLAB_E_BAD_REQUEST;
    }
    if (o->command_timeout_ms < 0) {
        snprintf(err, errlen, "the command timeout cannot be negative");
        return COLLAB_E_BAD_REQUEST;
    }
    snprintf(self->prefix, sizeof self->prefix, "%s", prefix);
    snprintf(self->node, sizeof self->node, "%s", o->node);
    self->log_bound = o->log_bound ? o->log_bound : 100000;
    self->idle_ms = o->session_idle_ms ? o->session_idle_ms : 3600000;
    self->slack_ms = o->session_slack_ms ? o->session_slack_ms : 60000;
    self->node_ttl_ms = o->node_ttl_ms ? o->node_ttl_ms : 10000;
    self->check_access = o->check_access;
    self->ropts.command_timeout_ms =
        o->command_timeout_ms ? o->command_timeout_ms : COLLAB_REDIS_COMMAND_TIMEOUT_MS;
    if (collab_redis_addr_parse(o->address ? o->address : "", &self->ropts.addr, err, errlen))
        return COLLAB_E_BAD_REQUEST;
    if (o->passfile) {
        int rc = collab_redis_passfile_load(o->passfile, &self->auth, err, errlen);
        if (rc)
            return rc;
        self->ropts.auth = &self->auth;
    }
    return 0;
}

/*  The node's name: SET NX with a random token, so that only this broker refreshes it. */
static int register_node(rs_t *self, char *err, size_t errlen)
{
    uint8_t token[16];
    char key[COLLAB_REDIS_PREFIX_MAX + COLLAB_REDIS_NODE_MAX + 8], ttl[16];
    redisReply *r = NULL;
    randombytes_buf(token, sizeof token);
    sodium_bin2hex(self->node_token, sizeof self->node_token, token, sizeof token);
    snprintf(key, sizeof key, "%snode:%s", self->prefix, self->node);
    snprintf(ttl, sizeof ttl, "%" PRIu32, self->node_ttl_ms);
    int rc = collab_redis_callf(self->conn, &r, "SET %s %s NX PX %s", key, self->node_token, ttl);
    if (rc == 0 && r->type == REDIS_REPLY_NIL) {
        snprintf(err, errlen,
                 "node name %s is in use by another broker on this Redis (key %s); give each "
                 "broker its own --node, or wait up to %" PRIu32 " ms after one has stopped",
                 self->node, key, self->node_ttl_ms);
        self->node_token[0] = '\0'; /* not ours: never released */
        rc = COLLAB_E_CONFLICT;
    } else if (rc) {
        snprintf(err, errlen, "%s", collab_redis_why(self->conn));
        self->node_token[0] = '\0';
    }
    collab_redis_reply_free(&r);
    return rc;
}

static int open_conn(rs_t *self, char *err, size_t errlen)
{
    collab_redis_durability_t dur;
    if (!(self->conn = connect_one(self, err, errlen)))
        return COLLAB_E_IO;
    int rc = collab_redis_check_durable(self->conn, &dur);
    if (rc) {
        snprintf(err, errlen, "%s: refused as a store: %s",
                 collab_redis_why(self->conn)[0] ? collab_redis_why(self->conn) : "redis",
                 dur.text[0] ? dur.text : collab_strerror(rc));
        return rc;
    }
    if (self->check_access &&
        (rc = collab_redis_check_access(self->conn, &self->ropts.addr, self->auth.user,
                                        self->prefix, err, errlen)) != 0)
        return rc;
    if ((rc = rs_script_load(self->conn, collab_redis_commit_lua, collab_redis_commit_lua_len,
                             self->commit_sha)) != 0 ||
        (rc = rs_script_load(self->conn, collab_redis_fetch_lua, collab_redis_fetch_lua_len,
                             self->fetch_sha)) != 0) {
        snprintf(err, errlen, "cannot load the store's scripts: %s", collab_redis_why(self->conn));
        return rc;
    }
    if ((rc = register_node(self, err, errlen)) != 0)
        return rc;
    if ((rc = rs_log_end(self, &self->last)) != 0)
        snprintf(err, errlen, "cannot read the log: %s", collab_redis_why(self->conn));
    return rc;
}

collab_store_t *collab_store_open_redis(const collab_store_redis_opts_t *o, char *err,
                                        size_t errlen)
{
    rs_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    self->efd = -1;
    self->retain = UINT32_MAX;
    pthread_mutex_init(&self->mu, NULL);
    pthread_cond_init(&self->wake, NULL);
    pthread_cond_init(&self->done, NULL);
    pthread_cond_init(&self->room, NULL);
    if (sodium_init() < 0) {
        snprintf(err, errlen, "libsodium failed to start");
        rs_close(self);
        return NULL;
    }
    if (configure(self, o, err, errlen) != 0 || open_conn(self, err, errlen) != 0) {
        rs_close(self);
        return NULL;
    }
    collab_store_t *store = collab_store_new(&redis_backend, self);
    if (!store)
        snprintf(err, errlen, "out of memory");
    return store;
}
