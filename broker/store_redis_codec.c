/*  store_redis_codec.c: the Redis backend's bytes (see store_redis_int.h). A change becomes
    one array of the commit script's batch (its header lists the kinds); a record becomes a
    blob, a MessagePack array of its fields, which Redis keeps and hands back unread. Redis
    7.0's cmsgpack does not decode `bin`, so every string here is `str`. Pure: no socket,
    no log; a blob from Redis that does not fit its record is COLLAB_E_MALFORMED. */
#include "store_redis_int.h"

#include "collab_error.h"
#include "collab_mp.h"
#include "vault.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*  A sealed password hash, at most (as store_sqlite_write.c). */
#define RS_SEALED_MAX 512

typedef struct {
    msgpack_packer pk;
    int rc; /* the first failure of msgpack-c (out of memory) */
} pk_t;

static void pk_init(pk_t *p, msgpack_sbuffer *buf)
{
    msgpack_packer_init(&p->pk, buf, msgpack_sbuffer_write);
    p->rc = 0;
}

static void pk_note(pk_t *p, int r)
{
    if (r != 0 && p->rc == 0)
        p->rc = COLLAB_E_NOMEM;
}

static void pk_array(pk_t *p, size_t n)
{
    pk_note(p, msgpack_pack_array(&p->pk, n));
}

static void pk_u64(pk_t *p, uint64_t v)
{
    pk_note(p, msgpack_pack_uint64(&p->pk, v));
}

static void pk_strn(pk_t *p, const void *s, size_t len)
{
    pk_note(p, msgpack_pack_str(&p->pk, len));
    pk_note(p, msgpack_pack_str_body(&p->pk, s, len));
}

/*  A fixed field (at most cap bytes) or a heap string (NULL is ""). */
static void pk_str(pk_t *p, const char *s, size_t cap)
{
    pk_strn(p, s ? s : "", s ? strnlen(s, cap) : 0);
}

/* ---------------------------------------------------------------------------------------
   Record blobs */

static int blob_agent(const rs_t *self, pk_t *p, const collab_agent_t *a)
{
    char sealed[RS_SEALED_MAX];
    const char *hash = a->pw_hash;
    if (self->vault && a->pw_hash[0]) {
        if (collab_vault_seal(self->vault, a->id, a->pw_hash, sealed, sizeof sealed) != 0)
            return COLLAB_E_INTERNAL; /* not sealed: not written */
        hash = sealed;
    }
    unsigned caps = a->cap_count < COLLAB_MAX_CAPABILITIES ? a->cap_count : COLLAB_MAX_CAPABILITIES;
    pk_array(p, 9);
    pk_str(p, a->id, sizeof a->id);
    pk_u64(p, (uint64_t)a->role);
    pk_str(p, hash, sizeof sealed);
    pk_u64(p, a->registered);
    pk_array(p, caps);
    for (unsigned i = 0; i < caps; i++)
        pk_str(p, a->caps[i], sizeof a->caps[i]);
    pk_u64(p, a->last_seen);
    pk_u64(p, a->event_seq);
    pk_u64(p, a->failures);
    pk_u64(p, a->locked_until);
    return 0;
}

static void blob_session(pk_t *p, const collab_session_t *s)
{
    pk_array(p, 11);
    pk_str(p, s->token, sizeof s->token);
    pk_u64(p, s->handle);
    pk_str(p, s->agent_id, sizeof s->agent_id);
    pk_u64(p, (uint64_t)s->role);
    pk_u64(p, s->created);
    pk_u64(p, s->last_activity);
    pk_str(p, s->peer, sizeof s->peer);
    pk_strn(p, s->rid, s->rid_len < COLLAB_RID_MAX ? s->rid_len : COLLAB_RID_MAX);
    pk_u64(p, s->subscribed);
    pk_u64(p, s->subscribed_all);
    pk_str(p, s->curve_key, sizeof s->curve_key);
}

static void blob_project(pk_t *p, const collab_project_t *pr)
{
    pk_array(p, 7);
    pk_u64(p, pr->id);
    pk_str(p, pr->name, SIZE_MAX);
    pk_str(p, pr->description, SIZE_MAX);
    pk_str(p, pr->owner, sizeof pr->owner);
    pk_u64(p, pr->closed);
    pk_u64(p, pr->created);
    pk_u64(p, pr->task_count);
}

static void blob_task(pk_t *p, const collab_task_t *t)
{
    pk_array(p, 11);
    pk_u64(p, t->id);
    pk_u64(p, t->project_id);
    pk_str(p, t->type, sizeof t->type);
    pk_str(p, t->title, SIZE_MAX);
    pk_str(p, t->description, SIZE_MAX);
    pk_str(p, t->result, SIZE_MAX);
    pk_u64(p, (uint64_t)t->status);
    pk_str(p, t->assigned_to, sizeof t->assigned_to);
    pk_str(p, t->assigned_by, sizeof t->assigned_by);
    pk_u64(p, t->created);
    pk_u64(p, t->updated);
}

/*  The record's blob as one str of the change. */
static int put_blob(const rs_t *self, pk_t *out, const collab_change_t *c)
{
    msgpack_sbuffer buf;
    pk_t p;
    int rc = 0;
    msgpack_sbuffer_init(&buf);
    pk_init(&p, &buf);
    if (c->kind == COLLAB_CHANGE_AGENT)
        rc = blob_agent(self, &p, c->u.agent);
    else if (c->kind == COLLAB_CHANGE_SESSION)
        blob_session(&p, c->u.session);
    else if (c->kind == COLLAB_CHANGE_PROJECT)
        blob_project(&p, c->u.project);
    else
        blob_task(&p, c->u.task);
    if (rc == 0 && (rc = p.rc) == 0)
        pk_strn(out, buf.data ? buf.data : "", buf.size);
    msgpack_sbuffer_destroy(&buf);
    return rc;
}

void rs_change_key(const collab_change_t *c, char *out, size_t cap)
{
    switch (c->kind) {
    case COLLAB_CHANGE_AGENT:
        snprintf(out, cap, "a:%s", c->u.agent->id);
        return;
    case COLLAB_CHANGE_SESSION:
        snprintf(out, cap, "s:%s", c->u.session->token);
        return;
    case COLLAB_CHANGE_SESSION_DEL:
        snprintf(out, cap, "s:%s", c->u.key);
        return;
    case COLLAB_CHANGE_PROJECT:
        snprintf(out, cap, "p:%" PRIu64, c->u.project->id);
        return;
    case COLLAB_CHANGE_PROJECT_DEL:
        snprintf(out, cap, "p:%" PRIu64, c->u.id);
        return;
    case COLLAB_CHANGE_TASK:
        snprintf(out, cap, "t:%" PRIu64, c->u.task->id);
        return;
    default:
        out[0] = '\0';
    }
}

/*  A decimal id as a str: the script joins it into key names. */
static void pk_id(pk_t *p, uint64_t id)
{
    char s[24];
    pk_strn(p, s, (size_t)snprintf(s, sizeof s, "%" PRIu64, id));
}

/*  A session's key lives until its idle timeout after its last activity, plus the slack;
    the index keeps it until then too. */
static void pk_session_life(const rs_t *self, pk_t *p, const collab_session_t *s, uint64_t now)
{
    uint64_t exp = s->last_activity + self->idle_ms + self->slack_ms;
    pk_u64(p, exp > now ? exp - now : 1);
    pk_u64(p, exp);
}

/*  A broadcast: {"b", name, ts, data, retain, {agent...}}, the agents it skips. */
static void pk_broadcast(pk_t *p, const collab_event_t *ev, uint32_t retain,
                         const char *const *except, size_t nexcept)
{
    pk_array(p, 6);
    pk_strn(p, "b", 1);
    pk_str(p, ev->name, sizeof ev->name);
    pk_u64(p, ev->timestamp);
    pk_strn(p, ev->data ? (const void *)ev->data : "", ev->data_len);
    pk_u64(p, retain ? retain : 1);
    pk_array(p, nexcept);
    for (size_t i = 0; i < nexcept; i++)
        pk_str(p, except[i], COLLAB_MAX_AGENT_ID + 1);
}

int rs_encode_change(rs_t *self, rs_set_t *set, const collab_change_t *c, uint64_t rev,
                     uint64_t now_ms)
{
    pk_t p;
    pk_init(&p, &set->buf);
    int rc = 0;
    switch (c->kind) {
    case COLLAB_CHANGE_AGENT:
        pk_array(&p, 4);
        pk_strn(&p, "a", 1);
        pk_str(&p, c->u.agent->id, sizeof c->u.agent->id);
        pk_u64(&p, rev);
        rc = put_blob(self, &p, c);
        break;
    case COLLAB_CHANGE_SESSION:
        pk_array(&p, 7);
        pk_strn(&p, "s", 1);
        pk_str(&p, c->u.session->token, sizeof c->u.session->token);
        pk_u64(&p, rev);
        rc = put_blob(self, &p, c);
        pk_session_life(self, &p, c->u.session, now_ms);
        /* who it makes a follower of all ("": nobody): the script's follower set */
        pk_str(&p, c->u.session->subscribed_all ? c->u.session->agent_id : "",
               sizeof c->u.session->agent_id);
        break;
    case COLLAB_CHANGE_SESSION_DEL:
        pk_array(&p, 3);
        pk_strn(&p, "S", 1);
        pk_str(&p, c->u.key, COLLAB_MAX_SESSION_ID + 1);
        pk_u64(&p, rev);
        break;
    case COLLAB_CHANGE_PROJECT:
        pk_array(&p, 4);
        pk_strn(&p, "p", 1);
        pk_id(&p, c->u.project->id);
        pk_u64(&p, rev);
        rc = put_blob(self, &p, c);
        break;
    case COLLAB_CHANGE_PROJECT_DEL:
        pk_array(&p, 3);
        pk_strn(&p, "P", 1);
        pk_id(&p, c->u.id);
        pk_u64(&p, rev);
        break;
    case COLLAB_CHANGE_TASK:
        pk_array(&p, 5);
        pk_strn(&p, "t", 1);
        pk_id(&p, c->u.task->id);
        pk_u64(&p, rev);
        rc = put_blob(self, &p, c);
        pk_id(&p, c->u.task->project_id);
        break;
    case COLLAB_CHANGE_EVENT:
        pk_array(&p, 6);
        pk_strn(&p, "e", 1);
        pk_str(&p, c->u.event.ev->agent_id, sizeof c->u.event.ev->agent_id);
        pk_str(&p, c->u.event.ev->name, sizeof c->u.event.ev->name);
        pk_u64(&p, c->u.event.ev->timestamp);
        pk_strn(&p, c->u.event.ev->data ? (const void *)c->u.event.ev->data : "",
                c->u.event.ev->data_len);
        pk_u64(&p, c->u.event.retain ? c->u.event.retain : 1);
        break;
    case COLLAB_CHANGE_BROADCAST:
        pk_broadcast(&p, c->u.broadcast.ev, c->u.broadcast.retain, c->u.broadcast.except,
                     c->u.broadcast.nexcept);
        break;
    case COLLAB_CHANGE_META:
        pk_array(&p, 3);
        pk_strn(&p, "m", 1);
        pk_str(&p, c->u.meta.key, SIZE_MAX);
        pk_strn(&p, c->u.meta.val ? c->u.meta.val : "", c->u.meta.len);
        break;
    }
    if (rc == 0)
        rc = p.rc;
    if (rc == 0)
        set->count++;
    return rc;
}

int rs_encode_require(rs_set_t *set, const collab_require_t *r)
{
    pk_t p;
    pk_init(&p, &set->buf);
    if (r->kind == COLLAB_REQUIRE_NONCE) {
        pk_array(&p, 3);
        pk_strn(&p, "n", 1);
        pk_str(&p, r->key, 2 * COLLAB_NONCE_LEN + 1);
        pk_u64(&p, r->ttl_ms ? r->ttl_ms : 1);
    } else {
        pk_array(&p, 2);
        pk_strn(&p, "L", 1);
        pk_str(&p, r->key, COLLAB_MAX_SESSION_ID + 1);
    }
    if (p.rc == 0)
        set->count++;
    return p.rc;
}

/* ---------------------------------------------------------------------------------------
   Decoding a blob */

typedef struct {
    collab_mp_reader_t r;
    char *heap;  /* where heap strings go */
    size_t used; /* of heap */
    bool bad;
} rd_t;

static uint64_t rd_u64(rd_t *d)
{
    collab_mp_value_t v;
    if (d->bad || collab_mp_read(&d->r, &v) != 0 || v.type != COLLAB_MP_UINT) {
        d->bad = true;
        return 0;
    }
    return v.u;
}

static bool rd_bool(rd_t *d)
{
    uint64_t v = rd_u64(d);
    d->bad |= v > 1;
    return v == 1;
}

static int rd_enum(rd_t *d, int count)
{
    uint64_t v = rd_u64(d);
    d->bad |= v >= (uint64_t)count;
    return d->bad ? 0 : (int)v;
}

/*  A str into a fixed field of cap bytes (with its NUL); *len receives its length. */
static void rd_bytes(rd_t *d, void *dst, size_t cap, size_t *len)
{
    collab_mp_value_t v;
    if (d->bad || collab_mp_read(&d->r, &v) != 0 || v.type != COLLAB_MP_STR || v.len >= cap) {
        d->bad = true;
        ((char *)dst)[0] = '\0';
        return;
    }
    memcpy(dst, v.ptr, v.len);
    ((char *)dst)[v.len] = '\0';
    if (len)
        *len = v.len;
}

static void rd_str(rd_t *d, char *dst, size_t cap)
{
    rd_bytes(d, dst, cap, NULL);
}

/*  A str into the scratch heap, NUL-terminated; "" when bad. */
static char *rd_heap(rd_t *d)
{
    collab_mp_value_t v;
    char *s = d->heap + d->used;
    if (d->bad || collab_mp_read(&d->r, &v) != 0 || v.type != COLLAB_MP_STR) {
        d->bad = true;
        return (char *)(uintptr_t) "";
    }
    memcpy(s, v.ptr, v.len); /* the scratch is the blob's size plus a NUL per string */
    s[v.len] = '\0';
    d->used += (size_t)v.len + 1;
    return s;
}

static bool rd_array(rd_t *d, uint32_t n)
{
    collab_mp_value_t v;
    if (d->bad || collab_mp_read(&d->r, &v) != 0 || v.type != COLLAB_MP_ARRAY || v.len != n)
        d->bad = true;
    return !d->bad;
}

static int rd_agent(const rs_t *self, rd_t *d, collab_agent_t *a)
{
    char sealed[RS_SEALED_MAX];
    collab_mp_value_t v;
    if (!rd_array(d, 9))
        return COLLAB_E_MALFORMED;
    rd_str(d, a->id, sizeof a->id);
    a->role = (collab_role_t)rd_enum(d, COLLAB_ROLE_COUNT);
    rd_str(d, sealed, sizeof sealed);
    a->registered = rd_bool(d);
    if (d->bad || collab_mp_read(&d->r, &v) != 0 || v.type != COLLAB_MP_ARRAY ||
        v.len > COLLAB_MAX_CAPABILITIES)
        return COLLAB_E_MALFORMED;
    a->cap_count = (uint8_t)v.len;
    for (uint32_t i = 0; i < v.len; i++)
        rd_str(d, a->caps[i], sizeof a->caps[i]);
    a->last_seen = rd_u64(d);
    a->event_seq = rd_u64(d);
    uint64_t failures = rd_u64(d);
    a->failures = failures > UINT32_MAX ? UINT32_MAX : (uint32_t)failures;
    a->locked_until = rd_u64(d);
    if (d->bad)
        return COLLAB_E_MALFORMED;
    if (!self->vault || !sealed[0]) {
        if (strlen(sealed) >= sizeof a->pw_hash)
            return COLLAB_E_MALFORMED;
        memcpy(a->pw_hash, sealed, strlen(sealed) + 1);
        return 0;
    }
    if (collab_vault_unseal(self->vault, a->id, sealed, a->pw_hash, sizeof a->pw_hash) != 0)
        return COLLAB_E_AUTH_FAILED; /* another key, or not sealed in a sealed state */
    return 0;
}

static int rd_session(rd_t *d, collab_session_t *s)
{
    size_t rid_len = 0;
    if (!rd_array(d, 11))
        return COLLAB_E_MALFORMED;
    rd_str(d, s->token, sizeof s->token);
    s->handle = rd_u64(d);
    rd_str(d, s->agent_id, sizeof s->agent_id);
    s->role = (collab_role_t)rd_enum(d, COLLAB_ROLE_COUNT);
    s->created = rd_u64(d);
    s->last_activity = rd_u64(d);
    rd_str(d, s->peer, sizeof s->peer);
    uint8_t rid[COLLAB_RID_MAX + 1];
    rd_bytes(d, rid, sizeof rid, &rid_len);
    memcpy(s->rid, rid, rid_len);
    s->rid_len = (uint16_t)rid_len;
    s->subscribed = rd_bool(d);
    s->subscribed_all = rd_bool(d);
    rd_str(d, s->curve_key, sizeof s->curve_key);
    return d->bad ? COLLAB_E_MALFORMED : 0;
}

static int rd_project(rd_t *d, collab_project_t *p)
{
    if (!rd_array(d, 7))
        return COLLAB_E_MALFORMED;
    p->id = rd_u64(d);
    p->name = rd_heap(d);
    p->description = rd_heap(d);
    rd_str(d, p->owner, sizeof p->owner);
    p->closed = rd_bool(d);
    p->created = rd_u64(d);
    uint64_t n = rd_u64(d);
    p->task_count = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
    return d->bad ? COLLAB_E_MALFORMED : 0;
}

static int rd_task(rd_t *d, collab_task_t *t)
{
    if (!rd_array(d, 11))
        return COLLAB_E_MALFORMED;
    t->id = rd_u64(d);
    t->project_id = rd_u64(d);
    rd_str(d, t->type, sizeof t->type);
    t->title = rd_heap(d);
    t->description = rd_heap(d);
    t->result = rd_heap(d);
    t->status = (collab_task_status_t)rd_enum(d, COLLAB_TASK_STATUS_COUNT);
    rd_str(d, t->assigned_to, sizeof t->assigned_to);
    rd_str(d, t->assigned_by, sizeof t->assigned_by);
    t->created = rd_u64(d);
    t->updated = rd_u64(d);
    return d->bad ? COLLAB_E_MALFORMED : 0;
}

int rs_decode_record(const rs_t *self, char kind, const char *blob, size_t len, rs_rec_t *rec)
{
    memset(rec, 0, sizeof *rec);
    rd_t d = {.bad = false};
    collab_mp_reader_init(&d.r, blob, len);
    int rc = COLLAB_E_MALFORMED;
    if (kind == 'p' || kind == 't') {
        /* every string fits in the blob's bytes, plus one NUL per string (at most len) */
        if (!(d.heap = rec->scratch = malloc(2 * len + 4)))
            return COLLAB_E_NOMEM;
    }
    if (kind == 'a')
        rc = rd_agent(self, &d, &rec->a);
    else if (kind == 's')
        rc = rd_session(&d, &rec->s);
    else if (kind == 'p')
        rc = rd_project(&d, &rec->p);
    else if (kind == 't')
        rc = rd_task(&d, &rec->t);
    if (rc == 0 && !collab_mp_at_end(&d.r))
        rc = COLLAB_E_MALFORMED;
    if (rc)
        rs_rec_free(rec);
    return rc;
}

void rs_rec_free(rs_rec_t *rec)
{
    free(rec->scratch);
    rec->scratch = NULL;
}

int rs_rec_give(const collab_store_loader_t *cb, char kind, const rs_rec_t *rec, void *arg)
{
    switch (kind) {
    case 'a':
        return cb->agent ? cb->agent(arg, &rec->a) : 0;
    case 's':
        return cb->session ? cb->session(arg, &rec->s) : 0;
    case 'p':
        return cb->project ? cb->project(arg, &rec->p) : 0;
    case 't':
        return cb->task ? cb->task(arg, &rec->t) : 0;
    }
    return COLLAB_E_INTERNAL;
}

/* ---------------------------------------------------------------------------------------
   Stream ids */

static bool parse_u64(const char *s, size_t len, uint64_t *out)
{
    uint64_t v = 0;
    if (len == 0 || len > 20)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        uint64_t next = v * 10 + (uint64_t)(s[i] - '0');
        if (next / 10 != v)
            return false;
        v = next;
    }
    *out = v;
    return true;
}

bool rs_sid_parse(const char *s, size_t len, rs_sid_t *id)
{
    const char *dash = memchr(s, '-', len);
    if (!dash || len >= sizeof id->text || !parse_u64(s, (size_t)(dash - s), &id->ms) ||
        !parse_u64(dash + 1, len - (size_t)(dash - s) - 1, &id->seq))
        return false;
    memcpy(id->text, s, len);
    id->text[len] = '\0';
    return true;
}

int rs_sid_cmp(const rs_sid_t *a, const rs_sid_t *b)
{
    if (a->ms != b->ms)
        return a->ms < b->ms ? -1 : 1;
    if (a->seq != b->seq)
        return a->seq < b->seq ? -1 : 1;
    return 0;
}
