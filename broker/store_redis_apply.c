/*  store_redis_apply.c: what the Redis backend hands to the broker's tables (see
    store_redis_int.h): the applied queue, in log order, through take_applied; refused change
    sets through take_refused; the revision map that every entry updates and that record()
    reads its expected revisions from; and the poisoned keys of refused change sets. */
#include "store_redis_int.h"

#include "collab_error.h"
#include "collab_mp.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------------------
   The queue (under mu) */

void rs_item_free(rs_item_t *it)
{
    free(it->data);
    for (size_t i = 0; i < it->nrecs; i++)
        free(it->recs[i].blob);
    free(it->recs);
    free(it->keys);
    memset(it, 0, sizeof *it);
}

int rs_queue_push(rs_t *self, rs_item_t *it, size_t hard)
{
    if (self->nitems >= hard) {
        snprintf(self->why, sizeof self->why,
                 "more than %zu log entries wait to be applied: the broker takes none", hard);
        return COLLAB_E_LIMIT;
    }
    if (self->ihead + self->nitems == self->capitems) {
        if (self->ihead) {
            memmove(self->items, self->items + self->ihead, self->nitems * sizeof *self->items);
            self->ihead = 0;
        } else {
            size_t cap = self->capitems ? self->capitems * 2 : 256;
            rs_item_t *grown = realloc(self->items, cap * sizeof *grown);
            if (!grown)
                return COLLAB_E_NOMEM;
            self->items = grown;
            self->capitems = cap;
        }
    }
    self->items[self->ihead + self->nitems++] = *it;
    memset(it, 0, sizeof *it); /* moved */
    return 0;
}

/*  Takes the first item when it is an entry (verdict false) or a verdict of a batch
    reported committed (verdict true). */
static bool pop(rs_t *self, bool verdict, rs_item_t *out)
{
    bool got = false;
    pthread_mutex_lock(&self->mu);
    if (self->nitems) {
        rs_item_t *it = &self->items[self->ihead];
        if (it->verdict == verdict && (!verdict || it->batch <= self->reported)) {
            *out = *it;
            self->ihead++;
            /* the tail waits on room: once the queue is drained (or has room again after
               being full), not once per entry */
            if (self->nitems-- >= RS_APPLIED_MAX || self->nitems == 0)
                pthread_cond_broadcast(&self->room);
            if (self->nitems == 0)
                self->ihead = 0;
            got = true;
        }
    }
    pthread_mutex_unlock(&self->mu);
    return got;
}

/* ---------------------------------------------------------------------------------------
   The revision map (the loop's) */

static void rev_free(void **item)
{
    free(*item);
    *item = NULL;
}

rs_rev_t *rs_rev(rs_t *self, const char *key, bool create)
{
    if (!self->revs) {
        if (!create || !(self->revs = zhashx_new()))
            return NULL;
        zhashx_set_destructor(self->revs, rev_free);
    }
    rs_rev_t *r = zhashx_lookup(self->revs, key);
    if (r || !create)
        return r;
    if (!(r = calloc(1, sizeof *r)) || zhashx_insert(self->revs, key, r) != 0) {
        free(r);
        return NULL;
    }
    return r;
}

void rs_rev_drop(rs_t *self, const char *key)
{
    if (self->revs)
        zhashx_delete(self->revs, key);
}

/*  A project deleted: its tasks' revisions with it. */
static void drop_tasks_of(rs_t *self, uint64_t project)
{
    if (!self->revs)
        return;
    zlistx_t *keys = zhashx_keys(self->revs);
    for (const char *k = keys ? zlistx_first(keys) : NULL; k; k = zlistx_next(keys)) {
        rs_rev_t *r = zhashx_lookup(self->revs, k);
        if (k[0] == 't' && r && r->project == project)
            zhashx_delete(self->revs, k);
    }
    zlistx_destroy(&keys);
}

/* ---------------------------------------------------------------------------------------
   Poison (under mu) */

bool rs_poisoned(rs_t *self, const char *key, uint64_t batch)
{
    bool hit = false;
    size_t j = 0;
    for (size_t i = 0; i < self->npoison; i++) {
        rs_poison_t *p = &self->poison[i];
        if (p->until && p->until < batch)
            continue; /* restored before this batch was built: forgotten */
        if (strcmp(p->key, key) == 0)
            hit = true;
        self->poison[j++] = *p;
    }
    self->npoison = j;
    return hit;
}

int rs_poison_add(rs_t *self, const char *key)
{
    for (size_t i = 0; i < self->npoison; i++)
        if (strcmp(self->poison[i].key, key) == 0) {
            self->poison[i].until = 0;
            return 0;
        }
    if (self->npoison == self->cappoison) {
        size_t cap = self->cappoison ? self->cappoison * 2 : 64;
        rs_poison_t *grown =
            cap > RS_POISON_MAX ? NULL : realloc(self->poison, cap * sizeof *grown);
        if (!grown) {
            snprintf(self->why, sizeof self->why, "more than %d keys of refused change sets wait",
                     RS_POISON_MAX);
            return COLLAB_E_LIMIT;
        }
        self->poison = grown;
        self->cappoison = cap;
    }
    rs_poison_t *p = &self->poison[self->npoison++];
    snprintf(p->key, sizeof p->key, "%s", key);
    p->until = 0;
    return 0;
}

/*  The loop restored these keys: they poison only the batches submitted before now (and
    the open one, recorded on what was refused). */
static void poison_until(rs_t *self, const rs_item_t *v)
{
    uint64_t until = self->submitted + (self->open.n ? 1 : 0);
    pthread_mutex_lock(&self->mu);
    for (size_t k = 0; k < v->nkeys; k++)
        for (size_t i = 0; i < self->npoison; i++)
            if (strcmp(self->poison[i].key, v->keys[k]) == 0 && self->poison[i].until == 0)
                self->poison[i].until = until ? until : 1;
    pthread_mutex_unlock(&self->mu);
}

/* ---------------------------------------------------------------------------------------
   take_applied */

typedef struct {
    collab_mp_reader_t r;
    bool bad;
} rd_t;

static bool rd(rd_t *d, collab_mp_type_t type, collab_mp_value_t *v)
{
    if (d->bad || collab_mp_read(&d->r, v) != 0 || v->type != type)
        d->bad = true;
    return !d->bad;
}

/*  A str field copied into out (cap bytes with its NUL). */
static bool rd_str(rd_t *d, char *out, size_t cap)
{
    collab_mp_value_t v;
    if (!rd(d, COLLAB_MP_STR, &v) || v.len >= cap) {
        d->bad = true;
        return false;
    }
    memcpy(out, v.ptr, v.len);
    out[v.len] = '\0';
    return true;
}

static bool parse_num(const char *s, uint64_t *out)
{
    char *end;
    if (!*s || *s < '0' || *s > '9')
        return false;
    *out = strtoull(s, &end, 10);
    return *end == '\0';
}

/*  A record written: [kind, id, rev, blob]. */
static int apply_record(rs_t *self, rd_t *d, char kind, const collab_store_applier_t *cb, void *arg)
{
    char key[RS_KEY_MAX];
    collab_mp_value_t rev, blob;
    key[0] = kind;
    key[1] = ':';
    if (!rd_str(d, key + 2, sizeof key - 2) || !rd(d, COLLAB_MP_UINT, &rev) ||
        !rd(d, COLLAB_MP_STR, &blob))
        return COLLAB_E_IO;
    rs_rev_t *known = rs_rev(self, key, false);
    if (known && known->rev > rev.u)
        return 0; /* older than what the tables hold (loaded or restored since) */
    rs_rec_t rec;
    int rc = rs_decode_record(self, kind, blob.ptr, blob.len, &rec);
    if (rc)
        return COLLAB_E_IO;
    if (!known && !(known = rs_rev(self, key, true))) {
        rs_rec_free(&rec);
        return COLLAB_E_NOMEM;
    }
    known->rev = rev.u;
    if (kind == 't')
        known->project = rec.t.project_id;
    /* changed again here in a batch not yet committed: the tables are newer than this */
    if (known->dirty <= self->reported)
        rc = rs_rec_give(&cb->records, kind, &rec, arg);
    rs_rec_free(&rec);
    return rc;
}

/*  A record deleted: [kind, id]. */
static int apply_gone(rs_t *self, rd_t *d, char kind, const collab_store_applier_t *cb, void *arg)
{
    char key[RS_KEY_MAX];
    key[0] = kind == 'S' ? 's' : 'p';
    key[1] = ':';
    if (!rd_str(d, key + 2, sizeof key - 2))
        return COLLAB_E_IO;
    collab_store_key_t k = {COLLAB_STORE_KEY_SESSION, key + 2, 0};
    if (kind == 'P') {
        k = (collab_store_key_t){COLLAB_STORE_KEY_PROJECT, "", 0};
        if (!parse_num(key + 2, &k.num))
            return COLLAB_E_IO;
        drop_tasks_of(self, k.num);
    }
    rs_rev_t *known = rs_rev(self, key, false);
    bool dirty = known && known->dirty > self->reported;
    rs_rev_drop(self, key);
    return dirty ? 0 : cb->gone(arg, &k);
}

/*  An event, numbered: [e, agent, seq, name, ts, data]. */
static int apply_event(rd_t *d, const collab_store_applier_t *cb, void *arg)
{
    collab_event_t ev;
    collab_mp_value_t seq, ts, data;
    memset(&ev, 0, sizeof ev);
    if (!rd_str(d, ev.agent_id, sizeof ev.agent_id) || !rd(d, COLLAB_MP_UINT, &seq) ||
        !rd_str(d, ev.name, sizeof ev.name) || !rd(d, COLLAB_MP_UINT, &ts) ||
        !rd(d, COLLAB_MP_STR, &data))
        return COLLAB_E_IO;
    ev.seq = seq.u;
    ev.timestamp = ts.u;
    ev.data = (const uint8_t *)data.ptr;
    ev.data_len = data.len;
    return cb->event(arg, &ev);
}

/*  One log entry: the cmsgpack array of what its change set applied. */
static int apply_entry(rs_t *self, const rs_item_t *it, const collab_store_applier_t *cb, void *arg)
{
    rd_t d = {.bad = false};
    collab_mp_value_t n, c, kind;
    collab_mp_reader_init(&d.r, it->data, it->len);
    if (!rd(&d, COLLAB_MP_ARRAY, &n))
        return COLLAB_E_IO;
    int rc = 0;
    for (uint32_t i = 0; rc == 0 && i < n.len; i++) {
        if (!rd(&d, COLLAB_MP_ARRAY, &c) || c.len < 2 || !rd(&d, COLLAB_MP_STR, &kind) ||
            kind.len != 1)
            return COLLAB_E_IO;
        char k = kind.ptr[0];
        uint32_t want = k == 'e' ? 6 : (k == 'S' || k == 'P') ? 2 : 4;
        if (c.len != want)
            return COLLAB_E_IO;
        if (k == 'a' || k == 's' || k == 'p' || k == 't')
            rc = apply_record(self, &d, k, cb, arg);
        else if (k == 'S' || k == 'P')
            rc = apply_gone(self, &d, k, cb, arg);
        else if (k == 'e')
            rc = apply_event(&d, cb, arg);
        else
            return COLLAB_E_IO;
    }
    return rc;
}

int rs_take_applied(void *be, const collab_store_applier_t *cb, void *arg)
{
    rs_t *self = be;
    rs_item_t it;
    while (pop(self, false, &it)) {
        int rc = apply_entry(self, &it, cb, arg);
        if (rc == COLLAB_E_IO)
            rs_fail(self, "log entry %s is not what the commit script writes", it.id.text);
        rs_item_free(&it);
        if (rc)
            return rc;
    }
    return 0;
}

/* ---------------------------------------------------------------------------------------
   take_refused */

/*  One record of a verdict back into the tables (or gone from them). */
static int restore(rs_t *self, const rs_fetched_t *f, const collab_store_loader_t *cb,
                   collab_store_absent_fn *absent, void *arg)
{
    char kind = f->key[0];
    if (!f->blob) {
        collab_store_key_t k = {COLLAB_STORE_KEY_AGENT, f->key + 2, 0};
        if (kind == 's')
            k.kind = COLLAB_STORE_KEY_SESSION;
        else if (kind == 'p' || kind == 't') {
            k = (collab_store_key_t){kind == 'p' ? COLLAB_STORE_KEY_PROJECT : COLLAB_STORE_KEY_TASK,
                                     "", 0};
            if (!parse_num(f->key + 2, &k.num))
                return COLLAB_E_IO;
        }
        rs_rev_drop(self, f->key);
        return absent(arg, &k);
    }
    rs_rec_t rec;
    if (rs_decode_record(self, kind, f->blob, f->len, &rec) != 0)
        return COLLAB_E_IO;
    rs_rev_t *known = rs_rev(self, f->key, true);
    int rc = known ? 0 : COLLAB_E_NOMEM;
    if (known) {
        known->rev = f->rev;
        if (kind == 't')
            known->project = rec.t.project_id;
    }
    if (kind == 'a' && f->seq > rec.a.event_seq)
        rec.a.event_seq = f->seq; /* the number that stands, refused events took none */
    if (rc == 0)
        rc = rs_rec_give(cb, kind, &rec, arg);
    rs_rec_free(&rec);
    return rc;
}

int rs_take_refused(void *be, uint64_t *cs, const collab_store_loader_t *cb,
                    collab_store_absent_fn *absent, void *arg)
{
    rs_t *self = be;
    rs_item_t v;
    if (!pop(self, true, &v))
        return 0;
    *cs = v.cs;
    poison_until(self, &v);
    int rc = 0;
    for (size_t i = 0; i < v.nrecs; i++) {
        int r = restore(self, &v.recs[i], cb, absent, arg);
        if (r && !rc)
            rc = r;
    }
    int why = v.why ? v.why : COLLAB_STORE_REFUSED_CONFLICT;
    rs_item_free(&v);
    pthread_mutex_lock(&self->mu);
    if (self->nitems)
        rs_wake_fd(self); /* entries after the verdict wait for the next take_applied */
    pthread_mutex_unlock(&self->mu);
    return rc ? rc : why;
}
