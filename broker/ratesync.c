/*  ratesync.c: the shared rate budgets (see ratesync.h). One thread, one Redis connection,
    one script call per sync period. The loop and the thread meet under one mutex: the loop
    fills the job (the spends) and takes the result (the shared views); the thread writes a
    byte to a pipe when a result is ready, which wakes the loop's poll. */
#include "ratesync.h"

#include "collab.h"
#include "redis_conn.h"
#include "redis_passfile.h"

#include <errno.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*  ARGV: prefix, now (Unix ms), since (rate:seq), node, keep_ms, pull max, then per key
    spent from: member, tokens spent, ms per token. Per key, GCRA: the theoretical arrival
    time (TAT) is moved to now if behind, then on by spent x ms per token; the key lives
    until the TAT (then it is full, as an absent key). Never capped at now + burst time: an
    overdraft made on several brokers at once is a debt that every broker then repays. Each
    key sent is stamped in rate:recent with the sync's number (rate:seq); the reply is that
    number and, for every key stamped after `since` (the newest first, at most pull), how
    far its TAT is past now. rate:node:NODE counts this node's syncs (for operators and
    tests). Every key is under the prefix and has a TTL or a bound. */
static const char SCRIPT[] =
    "local p, now, since = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])\n"
    "local node, keep, pull = ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6])\n"
    "local recent, seqk = p .. 'rate:recent', p .. 'rate:seq'\n"
    "local seq = redis.call('INCR', seqk)\n"
    "redis.call('PEXPIRE', seqk, keep)\n"
    "if since >= seq then since = 0 end\n"
    "for i = 7, #ARGV, 3 do\n"
    "  local m, spent, t = ARGV[i], tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2])\n"
    "  local k = p .. 'rate:' .. m\n"
    "  local tat = tonumber(redis.call('GET', k) or '0') or 0\n"
    "  if tat < now then tat = now end\n"
    "  tat = tat + spent * t\n"
    "  local ttl = math.ceil(tat - now)\n"
    "  if ttl < 1 then ttl = 1 end\n"
    "  redis.call('SET', k, string.format('%.3f', tat), 'PX', ttl)\n"
    "  redis.call('ZADD', recent, seq, m)\n"
    "end\n"
    "if redis.call('EXISTS', recent) == 1 then\n"
    "  redis.call('ZREMRANGEBYRANK', recent, 0, -65537)\n"
    "  redis.call('PEXPIRE', recent, keep)\n"
    "end\n"
    "local out = {}\n"
    "local ms = redis.call('ZREVRANGEBYSCORE', recent, '+inf', '(' .. since, 'LIMIT', 0, pull)\n"
    "for _, m in ipairs(ms) do\n"
    "  local tat = tonumber(redis.call('GET', p .. 'rate:' .. m) or '0') or 0\n"
    "  out[#out + 1] = m\n"
    "  out[#out + 1] = string.format('%.3f', tat > now and tat - now or 0)\n"
    "end\n"
    "local nk = p .. 'rate:node:' .. node\n"
    "redis.call('INCR', nk)\n"
    "redis.call('PEXPIRE', nk, keep)\n"
    "return {seq, out}\n";

/*  The budgets, by the prefix of their members in Redis. */
enum { TABLES = 4 };
static const char *const TABLE_NAME[TABLES] = {"agent", "login_agent", "login_peer", "anon_peer"};
static const char *const TABLE_CODE[TABLES] = {"a:", "la:", "lp:", "p:"};

#define MEMBER_MAX (3 + COLLAB_RATE_KEY_MAX + 1)
#define HEAD_ARGS  9 /* EVAL script 0 and the six above */

typedef struct {
    char m[MEMBER_MAX];
    size_t len;
    uint32_t spent;  /* sent */
    double ahead_ms; /* brought back */
    char num[2][32]; /* spent, ms per token: the script's arguments */
} entry_t;

struct collab_ratesync {
    /* settings */
    collab_redis_opts_t ropts;
    collab_redis_auth_t auth;
    char prefix[65], node[65];
    uint32_t sync_ms;
    double ms_per_token[TABLES];
    /* the loop's */
    collab_rate_gate_t *gate;
    uint64_t since, next_ms;
    uint32_t backoff_ms;
    bool busy; /* a job is with the thread */
    char why[COLLAB_REDIS_WHY_MAX];
    /* shared, under mu */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop, job, done, ok;
    entry_t *out; /* the job's keys */
    size_t nout;
    uint64_t job_wall, job_since;
    entry_t *in; /* the result's keys */
    size_t nin;
    uint64_t seq;
    char twhy[COLLAB_REDIS_WHY_MAX];
    /* the thread's */
    collab_redis_t *conn;
    const char **argv;
    size_t *argvlen;
    int pipe[2];
    pthread_t th;
    bool started;
};

int collab_ratesync_fd(const collab_ratesync_t *self)
{
    return self->pipe[0];
}

const char *collab_ratesync_why(const collab_ratesync_t *self)
{
    return self->why;
}

uint32_t collab_ratesync_period(const collab_ratesync_t *self)
{
    return self->sync_ms;
}

/*  The thread's call: the job's arguments, EVAL, the reply into in[]. Returns 0 or a code,
    with twhy set. */
static int call(collab_ratesync_t *self, size_t nout, uint64_t wall, uint64_t since)
{
    if (!collab_redis_connected(self->conn) && collab_redis_connect(self->conn) != 0) {
        snprintf(self->twhy, sizeof self->twhy, "%s", collab_redis_why(self->conn));
        return COLLAB_E_UNAVAILABLE;
    }
    char head[4][24];
    snprintf(head[0], sizeof head[0], "%llu", (unsigned long long)wall);
    snprintf(head[1], sizeof head[1], "%llu", (unsigned long long)since);
    snprintf(head[2], sizeof head[2], "%u", COLLAB_RATESYNC_KEEP_MS);
    snprintf(head[3], sizeof head[3], "%d", COLLAB_RATESYNC_KEYS_MAX);
    const char *h[HEAD_ARGS] = {"EVAL",  SCRIPT,     "0",     self->prefix, head[0],
                                head[1], self->node, head[2], head[3]};
    size_t argc = 0;
    for (int i = 0; i < HEAD_ARGS; i++) {
        self->argv[argc] = h[i];
        self->argvlen[argc++] = i == 1 ? sizeof SCRIPT - 1 : strlen(h[i]);
    }
    for (size_t i = 0; i < nout; i++) {
        entry_t *e = &self->out[i];
        self->argv[argc] = e->m;
        self->argvlen[argc++] = e->len;
        for (int j = 0; j < 2; j++) {
            self->argv[argc] = e->num[j];
            self->argvlen[argc++] = strlen(e->num[j]);
        }
    }
    collab_redis_reply_t *r = NULL;
    int rc = collab_redis_call(self->conn, &r, (int)argc, self->argv, self->argvlen);
    if (rc != 0 || !r) {
        snprintf(self->twhy, sizeof self->twhy, "%s",
                 collab_redis_why(self->conn)[0] ? collab_redis_why(self->conn)
                                                 : collab_strerror(rc ? rc : COLLAB_E_INTERNAL));
        return rc ? rc : COLLAB_E_INTERNAL;
    }
    rc = COLLAB_E_MALFORMED;
    if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
        r->element[0]->type != REDIS_REPLY_INTEGER || r->element[0]->integer < 0 ||
        r->element[1]->type != REDIS_REPLY_ARRAY || r->element[1]->elements % 2 != 0 ||
        r->element[1]->elements / 2 > COLLAB_RATESYNC_KEYS_MAX)
        goto out;
    const redisReply *v = r->element[1];
    size_t n = 0;
    for (size_t i = 0; i < v->elements; i += 2) {
        const redisReply *m = v->element[i], *a = v->element[i + 1];
        if (m->type != REDIS_REPLY_STRING || a->type != REDIS_REPLY_STRING || m->len == 0 ||
            m->len >= MEMBER_MAX || a->len == 0 || a->len > 30)
            goto out;
        char num[32], *end = NULL;
        memcpy(num, a->str, a->len);
        num[a->len] = '\0';
        errno = 0;
        double ahead = strtod(num, &end);
        if (errno || *end || !(ahead >= 0))
            goto out;
        entry_t *e = &self->in[n++];
        memcpy(e->m, m->str, m->len);
        e->m[m->len] = '\0';
        e->len = m->len;
        e->ahead_ms = ahead;
    }
    self->nin = n;
    self->seq = (uint64_t)r->element[0]->integer;
    rc = 0;
out:
    if (rc)
        snprintf(self->twhy, sizeof self->twhy, "the rate sync script's reply is malformed");
    collab_redis_reply_free(&r);
    return rc;
}

static void *run(void *arg)
{
    collab_ratesync_t *self = arg;
    pthread_mutex_lock(&self->mu);
    for (;;) {
        while (!self->stop && !self->job)
            pthread_cond_wait(&self->cv, &self->mu);
        if (self->stop)
            break;
        size_t nout = self->nout;
        uint64_t wall = self->job_wall, since = self->job_since;
        pthread_mutex_unlock(&self->mu); /* the loop does not touch out[] or in[] meanwhile */
        self->twhy[0] = '\0';
        int rc = call(self, nout, wall, since);
        pthread_mutex_lock(&self->mu);
        self->job = false;
        self->done = true;
        self->ok = rc == 0;
        char b = 1;
        if (write(self->pipe[1], &b, 1) < 0 && errno != EAGAIN)
            break; /* cannot happen: the loop would never hear of the result */
    }
    pthread_mutex_unlock(&self->mu);
    return NULL;
}

collab_ratesync_t *collab_ratesync_new(const collab_ratesync_opts_t *o, collab_rate_gate_t *gate,
                                       char *err, size_t errlen)
{
    collab_ratesync_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    self->pipe[0] = self->pipe[1] = -1;
    if (!o->sync_ms || !o->node || !o->prefix || strlen(o->prefix) >= sizeof self->prefix ||
        strlen(o->node) >= sizeof self->node) {
        snprintf(err, errlen, "rate sync: bad settings");
        goto fail;
    }
    snprintf(self->prefix, sizeof self->prefix, "%s", o->prefix);
    snprintf(self->node, sizeof self->node, "%s", o->node);
    self->sync_ms = o->sync_ms;
    self->gate = gate;
    double per_s[TABLES] = {o->agent_per_s, o->agent_per_s, o->login_per_s, o->anon_per_s};
    for (int i = 0; i < TABLES; i++)
        self->ms_per_token[i] = per_s[i] > 0 ? 1000.0 / per_s[i] : 0;
    if (collab_redis_addr_parse(o->address ? o->address : "", &self->ropts.addr, err, errlen))
        goto fail;
    if (o->passfile) {
        if (collab_redis_passfile_load(o->passfile, &self->auth, err, errlen))
            goto fail;
        self->ropts.auth = &self->auth;
    }
    self->ropts.command_timeout_ms = o->command_timeout_ms;
    size_t maxargs = HEAD_ARGS + 3 * (size_t)COLLAB_RATESYNC_KEYS_MAX;
    if (!(self->conn = collab_redis_new(&self->ropts)) ||
        !(self->out = calloc(COLLAB_RATESYNC_KEYS_MAX, sizeof *self->out)) ||
        !(self->in = calloc(COLLAB_RATESYNC_KEYS_MAX, sizeof *self->in)) ||
        !(self->argv = calloc(maxargs, sizeof *self->argv)) ||
        !(self->argvlen = calloc(maxargs, sizeof *self->argvlen))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    if (pipe(self->pipe) != 0 || fcntl(self->pipe[0], F_SETFL, O_NONBLOCK) != 0 ||
        fcntl(self->pipe[1], F_SETFL, O_NONBLOCK) != 0 ||
        fcntl(self->pipe[0], F_SETFD, FD_CLOEXEC) != 0 ||
        fcntl(self->pipe[1], F_SETFD, FD_CLOEXEC) != 0) {
        snprintf(err, errlen, "rate sync: pipe: %s", strerror(errno));
        goto fail;
    }
    pthread_mutex_init(&self->mu, NULL);
    pthread_cond_init(&self->cv, NULL);
    if (pthread_create(&self->th, NULL, run, self) != 0) {
        snprintf(err, errlen, "rate sync: cannot start its thread");
        pthread_mutex_destroy(&self->mu);
        pthread_cond_destroy(&self->cv);
        goto fail;
    }
    self->started = true;
    return self;
fail:
    collab_ratesync_destroy(&self);
    return NULL;
}

void collab_ratesync_destroy(collab_ratesync_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    collab_ratesync_t *self = *self_p;
    if (self->started) {
        pthread_mutex_lock(&self->mu);
        self->stop = true;
        pthread_cond_signal(&self->cv);
        pthread_mutex_unlock(&self->mu);
        pthread_join(self->th, NULL);
        pthread_mutex_destroy(&self->mu);
        pthread_cond_destroy(&self->cv);
    }
    for (int i = 0; i < 2; i++)
        if (self->pipe[i] >= 0)
            close(self->pipe[i]);
    collab_redis_destroy(&self->conn);
    collab_redis_auth_wipe(&self->auth);
    free(self->out);
    free(self->in);
    free(self->argv);
    free(self->argvlen);
    free(self);
    *self_p = NULL;
}

typedef struct {
    collab_ratesync_t *self;
    int table;
} take_t;

static void take_one(void *arg, const char *key, size_t len, uint32_t spent)
{
    take_t *t = arg;
    entry_t *e = &t->self->out[t->self->nout++];
    size_t cl = strlen(TABLE_CODE[t->table]);
    memcpy(e->m, TABLE_CODE[t->table], cl);
    memcpy(e->m + cl, key, len);
    e->len = cl + len;
    e->m[e->len] = '\0';
    e->spent = spent;
    snprintf(e->num[0], sizeof e->num[0], "%u", spent);
    snprintf(e->num[1], sizeof e->num[1], "%.6f", t->self->ms_per_token[t->table]);
}

/*  The result into the buckets (the loop, with the thread idle). */
static void apply(collab_ratesync_t *self, uint64_t now_ms)
{
    for (size_t i = 0; i < self->nin; i++) {
        const entry_t *e = &self->in[i];
        for (int t = 0; t < TABLES; t++) {
            size_t cl = strlen(TABLE_CODE[t]);
            if (e->len > cl && memcmp(e->m, TABLE_CODE[t], cl) == 0) {
                collab_ratelimit_share(collab_rate_gate_table(self->gate, TABLE_NAME[t]), e->m + cl,
                                       e->len - cl, e->ahead_ms, now_ms);
                break;
            }
        }
    }
}

int collab_ratesync_tick(collab_ratesync_t *self, uint64_t now_ms, uint64_t wall_ms)
{
    int ret = 0;
    pthread_mutex_lock(&self->mu);
    if (self->busy && self->done) {
        char b[64];
        while (read(self->pipe[0], b, sizeof b) > 0)
            ;
        self->busy = self->done = false;
        if (self->ok) {
            apply(self, now_ms);
            self->since = self->seq;
            self->backoff_ms = 0;
            self->why[0] = '\0';
            ret = 1;
        } else {
            /* Redis away: the buckets go on alone; retry at a back-off of 50 ms doubling to
               1 s (never sooner than the period) */
            self->backoff_ms = self->backoff_ms ? self->backoff_ms * 2 : 50;
            if (self->backoff_ms > 1000)
                self->backoff_ms = 1000;
            if (self->next_ms < now_ms + self->backoff_ms)
                self->next_ms = now_ms + self->backoff_ms;
            snprintf(self->why, sizeof self->why, "%s", self->twhy);
            ret = -1;
        }
    }
    if (!self->busy && now_ms >= self->next_ms) {
        self->nout = 0;
        for (int t = 0; t < TABLES; t++) {
            take_t tk = {self, t};
            collab_ratelimit_take_spent(collab_rate_gate_table(self->gate, TABLE_NAME[t]),
                                        COLLAB_RATESYNC_KEYS_MAX - self->nout, take_one, &tk);
        }
        self->job_wall = wall_ms;
        self->job_since = self->since;
        self->job = self->busy = true;
        self->next_ms = now_ms + self->sync_ms;
        pthread_cond_signal(&self->cv);
    }
    pthread_mutex_unlock(&self->mu);
    return ret;
}
