/*  store_redis_read.c: the Redis backend's reads, on the loop's connection (see
    store_redis_int.h): loading every record with its revision, an agent's retained events,
    the node's meta values, and id blocks. */
#include "store_redis_int.h"

#include "collab_error.h"
#include "collab_mp.h"

#include <hiredis/hiredis.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/*  Records read per pipeline. */
#define RS_LOAD_CHUNK 256

int rs_conn(rs_t *self)
{
    if (collab_redis_connected(self->conn))
        return 0;
    return collab_redis_connect(self->conn);
}

/*  A start-up read in writer mode: everything recorded so far is committed first. */
static int read_begin(rs_t *self)
{
    if (self->async) {
        int rc = rs_commit_all(self);
        if (rc)
            return rc;
    }
    return rs_conn(self);
}

/*  What Redis or its bytes said, as the store's one I/O code; a callback's code as it is. */
int rs_io_code(int rc)
{
    switch (rc) {
    case COLLAB_E_TIMEOUT:
    case COLLAB_E_BAD_REQUEST:
    case COLLAB_E_TOO_LARGE:
    case COLLAB_E_MALFORMED:
    case COLLAB_E_AUTH_FAILED:
    case COLLAB_E_FORBIDDEN:
    case COLLAB_E_QUOTA:
    case COLLAB_E_BUSY:
        return COLLAB_E_IO;
    }
    return rc;
}

int rs_log_end(rs_t *self, rs_sid_t *out)
{
    char log[COLLAB_REDIS_PREFIX_MAX + 8];
    redisReply *r = NULL;
    rs_key(self, "log", log, sizeof log);
    memset(out, 0, sizeof *out);
    snprintf(out->text, sizeof out->text, "0-0");
    int rc = collab_redis_callf(self->conn, &r, "XREVRANGE %s + - COUNT 1", log);
    if (rc == 0 && r->type != REDIS_REPLY_ARRAY)
        rc = COLLAB_E_IO;
    if (rc == 0 && r->elements) {
        const redisReply *e = r->element[0];
        if (e->type != REDIS_REPLY_ARRAY || e->elements < 1 ||
            e->element[0]->type != REDIS_REPLY_STRING ||
            !rs_sid_parse(e->element[0]->str, e->element[0]->len, out))
            rc = COLLAB_E_IO;
    }
    collab_redis_reply_free(&r);
    return rc;
}

/* ---------------------------------------------------------------------------------------
   Load */

typedef struct {
    char kind;
    char **ids;
    size_t n;
} idlist_t;

static int cmp_num(const void *a, const void *b)
{
    uint64_t x = strtoull(*(char *const *)a, NULL, 10), y = strtoull(*(char *const *)b, NULL, 10);
    return x < y ? -1 : x > y;
}

/*  The members of an index (SMEMBERS or ZRANGEBYSCORE), as strings; numbers sorted. */
static int read_index(rs_t *self, char kind, const char *cmd, const char *index, const char *min,
                      idlist_t *out)
{
    char key[COLLAB_REDIS_PREFIX_MAX + 8];
    redisReply *r = NULL;
    rs_key(self, index, key, sizeof key);
    memset(out, 0, sizeof *out);
    out->kind = kind;
    int rc = min ? collab_redis_callf(self->conn, &r, "%s %s %s +inf", cmd, key, min)
                 : collab_redis_callf(self->conn, &r, "%s %s", cmd, key);
    if (rc == 0 && r->type != REDIS_REPLY_ARRAY)
        rc = COLLAB_E_IO;
    if (rc == 0 && !(out->ids = calloc(r->elements + 1, sizeof *out->ids)))
        rc = COLLAB_E_NOMEM;
    for (size_t i = 0; rc == 0 && i < r->elements; i++) {
        const redisReply *e = r->element[i];
        if (e->type != REDIS_REPLY_STRING || e->len == 0 || e->len > COLLAB_MAX_SESSION_ID ||
            memchr(e->str, '\0', e->len))
            rc = COLLAB_E_IO;
        else if (!(out->ids[out->n] = strndup(e->str, e->len)))
            rc = COLLAB_E_NOMEM;
        else
            out->n++;
    }
    collab_redis_reply_free(&r);
    if (rc == 0 && (kind == 'p' || kind == 't'))
        qsort(out->ids, out->n, sizeof *out->ids, cmp_num);
    return rc;
}

static void idlist_free(idlist_t *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->ids[i]);
    free(l->ids);
    memset(l, 0, sizeof *l);
}

/*  One record of an HMGET v rev reply (and an agent's GET q) into the map and the loader.
    A key that is gone meanwhile (a session expired, a project deleted) is skipped. */
static int load_one(rs_t *self, char kind, const char *id, const redisReply *h, const redisReply *q,
                    const collab_store_loader_t *cb, void *arg)
{
    char key[RS_KEY_MAX];
    if (h->type != REDIS_REPLY_ARRAY || h->elements != 2)
        return COLLAB_E_IO;
    if (h->element[0]->type == REDIS_REPLY_NIL)
        return 0;
    const redisReply *v = h->element[0], *rev = h->element[1];
    if (v->type != REDIS_REPLY_STRING || rev->type != REDIS_REPLY_STRING)
        return COLLAB_E_IO;
    rs_rec_t rec;
    int rc = rs_decode_record(self, kind, v->str, v->len, &rec);
    if (rc)
        return rc == COLLAB_E_NOMEM ? rc : COLLAB_E_IO;
    snprintf(key, sizeof key, "%c:%s", kind, id);
    rs_rev_t *known = rs_rev(self, key, true);
    if (!known) {
        rs_rec_free(&rec);
        return COLLAB_E_NOMEM;
    }
    known->rev = strtoull(rev->str, NULL, 10);
    known->dirty = 0;
    if (kind == 't')
        known->project = rec.t.project_id;
    if (kind == 'a' && q && q->type == REDIS_REPLY_STRING) {
        uint64_t seq = strtoull(q->str, NULL, 10); /* the log of events has the latest */
        if (seq > rec.a.event_seq)
            rec.a.event_seq = seq;
    }
    rc = rs_rec_give(cb, kind, &rec, arg);
    rs_rec_free(&rec);
    return rc;
}

/*  Every record of a list, pipelined by chunks. */
static int load_list(rs_t *self, const idlist_t *l, const collab_store_loader_t *cb, void *arg)
{
    char key[COLLAB_REDIS_PREFIX_MAX + RS_KEY_MAX + 4];
    int rc = 0;
    for (size_t base = 0; rc == 0 && base < l->n; base += RS_LOAD_CHUNK) {
        size_t end = base + RS_LOAD_CHUNK < l->n ? base + RS_LOAD_CHUNK : l->n;
        for (size_t i = base; rc == 0 && i < end; i++) {
            snprintf(key, sizeof key, "%s%c:%s", self->prefix, l->kind, l->ids[i]);
            rc = collab_redis_appendf(self->conn, "HMGET %s v rev", key);
            if (rc == 0 && l->kind == 'a') {
                snprintf(key, sizeof key, "%sq:%s", self->prefix, l->ids[i]);
                rc = collab_redis_appendf(self->conn, "GET %s", key);
            }
        }
        for (size_t i = base; rc == 0 && i < end; i++) {
            redisReply *h = NULL, *q = NULL;
            rc = collab_redis_read(self->conn, &h);
            if (rc == 0 && l->kind == 'a')
                rc = collab_redis_read(self->conn, &q);
            if (rc == 0)
                rc = load_one(self, l->kind, l->ids[i], h, q, cb, arg);
            collab_redis_reply_free(&h);
            collab_redis_reply_free(&q);
        }
    }
    if (rc && collab_redis_pending(self->conn))
        collab_redis_connect(self->conn); /* replies left unread: a fresh connection */
    return rc;
}

/*  The log's end is read before the records: an entry after it may be in them already,
    and applying it again (take_applied) changes nothing. */
int rs_load_records(rs_t *self, const collab_store_loader_t *cb, void *arg)
{
    rs_sid_t end;
    char now[24];
    int rc = rs_log_end(self, &end);
    if (rc)
        return rc;
    pthread_mutex_lock(&self->mu);
    if (self->nitems == 0) /* a reload has emptied the queue: from the end, wherever it is */
        self->last = end;
    pthread_mutex_unlock(&self->mu);
    snprintf(now, sizeof now, "%" PRIu64, rs_wall_ms());
    static const struct {
        char kind;
        const char *cmd, *index;
    } lists[] = {{'a', "SMEMBERS", "K:a"},
                 {'s', "ZRANGEBYSCORE", "K:s"},
                 {'p', "SMEMBERS", "K:p"},
                 {'t', "SMEMBERS", "K:t"}};
    for (size_t i = 0; rc == 0 && i < sizeof lists / sizeof *lists; i++) {
        idlist_t l;
        rc = read_index(self, lists[i].kind, lists[i].cmd, lists[i].index,
                        lists[i].kind == 's' ? now : NULL, &l);
        if (rc == 0)
            rc = load_list(self, &l, cb, arg);
        idlist_free(&l);
    }
    return rc;
}

int rs_load(void *be, const collab_store_loader_t *cb, void *arg)
{
    rs_t *self = be;
    int rc = read_begin(self);
    if (rc)
        return COLLAB_E_IO;
    return rs_io_code(rs_load_records(self, cb, arg));
}

/* ---------------------------------------------------------------------------------------
   Events */

/*  One retained event, cmsgpack {seq, name, ts, data}, into ev (lent from the reply). */
static bool decode_event(const char *p, size_t len, collab_event_t *ev)
{
    collab_mp_reader_t r;
    collab_mp_value_t a, seq, name, ts, data;
    collab_mp_reader_init(&r, p, len);
    if (collab_mp_read(&r, &a) || a.type != COLLAB_MP_ARRAY || a.len != 4 ||
        collab_mp_read(&r, &seq) || seq.type != COLLAB_MP_UINT || collab_mp_read(&r, &name) ||
        name.type != COLLAB_MP_STR || name.len > COLLAB_MAX_EVENT_NAME || collab_mp_read(&r, &ts) ||
        ts.type != COLLAB_MP_UINT || collab_mp_read(&r, &data) || data.type != COLLAB_MP_STR ||
        !collab_mp_at_end(&r))
        return false;
    ev->seq = seq.u;
    memcpy(ev->name, name.ptr, name.len);
    ev->name[name.len] = '\0';
    ev->timestamp = ts.u;
    ev->data = (const uint8_t *)data.ptr;
    ev->data_len = data.len;
    return true;
}

int rs_events_since(void *be, const char *agent_id, uint64_t since, collab_store_event_fn *fn,
                    void *arg, uint64_t *oldest)
{
    rs_t *self = be;
    char key[COLLAB_REDIS_PREFIX_MAX + COLLAB_MAX_AGENT_ID + 4];
    redisReply *r = NULL;
    long long from = self->retain == UINT32_MAX || self->retain == 0 ? 0 : -(long long)self->retain;
    if (oldest)
        *oldest = 0;
    snprintf(key, sizeof key, "%se:%s", self->prefix, agent_id);
    if (rs_is_down(self))
        return COLLAB_E_UNAVAILABLE;
    int rc = rs_conn(self);
    if (rc == 0)
        rc = collab_redis_callf(self->conn, &r, "LRANGE %s %lld -1", key, from);
    if (rc == 0 && r->type != REDIS_REPLY_ARRAY)
        rc = COLLAB_E_IO;
    collab_event_t ev;
    memset(&ev, 0, sizeof ev);
    snprintf(ev.agent_id, sizeof ev.agent_id, "%s", agent_id);
    for (size_t i = 0; rc == 0 && i < r->elements; i++) {
        const redisReply *e = r->element[i];
        if (e->type != REDIS_REPLY_STRING || !decode_event(e->str, e->len, &ev)) {
            rc = COLLAB_E_IO;
            break;
        }
        if (i == 0 && oldest)
            *oldest = ev.seq;
        if (ev.seq > since)
            rc = fn(arg, &ev);
    }
    collab_redis_reply_free(&r);
    return rs_io_code(rs_loop_failed(self, rc, "the events could not be read"));
}

/*  A session opened on another broker that this one has not applied yet: read now. */
int rs_find_session(void *be, const char *key, const collab_store_loader_t *cb, void *arg)
{
    rs_t *self = be;
    char full[COLLAB_REDIS_PREFIX_MAX + RS_KEY_MAX + 4];
    redisReply *r = NULL;
    snprintf(full, sizeof full, "%ss:%s", self->prefix, key);
    if (rs_is_down(self))
        return COLLAB_E_UNAVAILABLE;
    int rc = rs_conn(self);
    if (rc == 0)
        rc = collab_redis_callf(self->conn, &r, "HMGET %s v rev", full);
    bool found = rc == 0 && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
                 r->element[0]->type != REDIS_REPLY_NIL;
    if (rc == 0 && found)
        rc = load_one(self, 's', key, r, NULL, cb, arg);
    collab_redis_reply_free(&r);
    return rc ? rs_io_code(rs_loop_failed(self, rc, "a session could not be read")) : found;
}

/* ---------------------------------------------------------------------------------------
   Meta values and ids */

int rs_get_meta(void *be, const char *key, void *buf, size_t cap)
{
    rs_t *self = be;
    char hash[COLLAB_REDIS_PREFIX_MAX + COLLAB_REDIS_NODE_MAX + 4];
    redisReply *r = NULL;
    snprintf(hash, sizeof hash, "%sm:%s", self->prefix, self->node);
    int rc = read_begin(self);
    if (rc == 0)
        rc = collab_redis_callf(self->conn, &r, "HGET %s %s", hash, key);
    if (rc == 0) {
        if (r->type == REDIS_REPLY_NIL)
            rc = 0;
        else if (r->type != REDIS_REPLY_STRING)
            rc = COLLAB_E_IO;
        else if (r->len > cap || r->len > INT32_MAX)
            rc = COLLAB_E_TOO_LARGE;
        else {
            if (r->len)
                memcpy(buf, r->str, r->len);
            rc = (int)r->len;
        }
    } else {
        rc = COLLAB_E_IO;
    }
    collab_redis_reply_free(&r);
    return rc;
}

int rs_reserve_ids(void *be, collab_id_kind_t kind, uint32_t n, uint64_t *first)
{
    rs_t *self = be;
    static const char *const names[] = {"id:project", "id:task", "id:handle"};
    char key[COLLAB_REDIS_PREFIX_MAX + 16];
    redisReply *r = NULL;
    if ((unsigned)kind >= sizeof names / sizeof *names || n == 0)
        return COLLAB_E_INTERNAL;
    rs_key(self, names[kind], key, sizeof key);
    if (rs_is_down(self))
        return COLLAB_E_UNAVAILABLE;
    int rc = rs_conn(self);
    if (rc == 0)
        rc = collab_redis_callf(self->conn, &r, "INCRBY %s %u", key, (unsigned)n);
    if (rc == 0 && (r->type != REDIS_REPLY_INTEGER || r->integer < (long long)n))
        rc = COLLAB_E_IO;
    if (rc == 0)
        *first = (uint64_t)r->integer - n + 1;
    collab_redis_reply_free(&r);
    rc = rc ? rs_loop_failed(self, rc, "ids could not be reserved") : 0;
    return rc == COLLAB_E_UNAVAILABLE ? rc : rc ? COLLAB_E_IO : 0;
}
