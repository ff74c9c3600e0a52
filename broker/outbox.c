/*  outbox.c: held frames in a growing array used as a queue ([head, n) are held, in the
    order queued), each one malloc'd block holding its routing id and its bytes. */
#include "outbox.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint8_t *mem; /* rid, then the frame */
    size_t rid_len, len;
    uint64_t batch, changeset;
    uint64_t request_id; /* a reply's (collab_outbox_put_reply), for collab_outbox_refuse */
    bool reply;
    bool ok; /* a reply that said ok */
} held_t;

struct collab_outbox {
    collab_outbox_sink_fn sink;
    void *arg;
    held_t *q;
    size_t head, n, cap;
    uint8_t frame_buf[COLLAB_MAX_FRAME];
};

collab_outbox_t *collab_outbox_new(collab_outbox_sink_fn sink, void *arg)
{
    collab_outbox_t *self = calloc(1, sizeof *self);
    if (self) {
        self->sink = sink;
        self->arg = arg;
    }
    return self;
}

void collab_outbox_destroy(collab_outbox_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    collab_outbox_t *self = *self_p;
    for (size_t i = self->head; i < self->n; i++)
        free(self->q[i].mem);
    free(self->q);
    free(self);
    *self_p = NULL;
}

uint8_t *collab_outbox_frame_buf(collab_outbox_t *self)
{
    return self->frame_buf;
}

size_t collab_outbox_held(const collab_outbox_t *self)
{
    return self->n - self->head;
}

/*  Room for one more at the end: reuse the consumed front, else double. */
static int make_room(collab_outbox_t *self)
{
    if (self->n == self->cap && self->head > 0) {
        memmove(self->q, self->q + self->head, (self->n - self->head) * sizeof *self->q);
        self->n -= self->head;
        self->head = 0;
    }
    if (self->n < self->cap)
        return 0;
    size_t cap = self->cap ? self->cap * 2 : 64;
    held_t *q = realloc(self->q, cap * sizeof *q);
    if (!q)
        return COLLAB_E_NOMEM;
    self->q = q;
    self->cap = cap;
    return 0;
}

static int put(collab_outbox_t *self, const uint8_t *rid, size_t rid_len, const uint8_t *bytes,
               size_t len, uint64_t batch, uint64_t changeset, const uint64_t *request_id, bool ok)
{
    /* and it leaves after those before it */
    if (self->n > self->head && self->q[self->n - 1].batch > batch)
        batch = self->q[self->n - 1].batch;
    if (batch == 0) {
        self->sink(self->arg, rid, rid_len, bytes, len);
        return 0;
    }
    if (make_room(self) != 0)
        return COLLAB_E_NOMEM;
    uint8_t *mem = malloc(rid_len + len + 1);
    if (!mem)
        return COLLAB_E_NOMEM;
    memcpy(mem, rid, rid_len);
    if (len)
        memcpy(mem + rid_len, bytes, len);
    self->q[self->n++] = (held_t){
        mem, rid_len, len, batch, changeset, request_id ? *request_id : 0, request_id != NULL, ok};
    return 0;
}

int collab_outbox_put(collab_outbox_t *self, const uint8_t *rid, size_t rid_len,
                      const uint8_t *bytes, size_t len, uint64_t batch, uint64_t changeset)
{
    return put(self, rid, rid_len, bytes, len, batch, changeset, NULL, false);
}

int collab_outbox_put_reply(collab_outbox_t *self, const uint8_t *rid, size_t rid_len,
                            const uint8_t *bytes, size_t len, uint64_t batch, uint64_t changeset,
                            uint64_t request_id, bool ok)
{
    return put(self, rid, rid_len, bytes, len, batch, changeset, &request_id, ok);
}

void collab_outbox_release(collab_outbox_t *self, uint64_t committed)
{
    while (self->head < self->n && self->q[self->head].batch <= committed) {
        held_t *m = &self->q[self->head++];
        self->sink(self->arg, m->mem, m->rid_len, m->mem + m->rid_len, m->len);
        free(m->mem);
    }
    if (self->head == self->n)
        self->head = self->n = 0;
}

size_t collab_outbox_drop(collab_outbox_t *self, uint64_t changeset)
{
    size_t kept = self->head, dropped = 0;
    for (size_t i = self->head; i < self->n; i++) {
        if (self->q[i].changeset == changeset) {
            free(self->q[i].mem);
            dropped++;
        } else {
            self->q[kept++] = self->q[i];
        }
    }
    self->n = kept;
    if (self->head == self->n)
        self->head = self->n = 0;
    return dropped;
}

/*  Gives a held reply new bytes, in place: its routing id is kept, its position too. */
static int rebuild_reply(collab_outbox_t *self, held_t *m, collab_outbox_rebuild_fn rebuild,
                         void *arg)
{
    size_t len = rebuild(arg, m->request_id, self->frame_buf, sizeof self->frame_buf);
    if (len == 0)
        return COLLAB_E_INTERNAL;
    uint8_t *mem = realloc(m->mem, m->rid_len + len + 1);
    if (!mem)
        return COLLAB_E_NOMEM;
    memcpy(mem + m->rid_len, self->frame_buf, len);
    m->mem = mem;
    m->len = len;
    return 0;
}

int collab_outbox_refuse(collab_outbox_t *self, uint64_t changeset,
                         collab_outbox_rebuild_fn rebuild, void *arg, bool *was_ok)
{
    size_t kept = self->head;
    int replaced = 0;
    for (size_t i = self->head; i < self->n; i++) {
        held_t *m = &self->q[i];
        bool ok = m->ok;
        if (m->changeset == changeset && m->reply && !replaced &&
            rebuild_reply(self, m, rebuild, arg) == 0) {
            replaced = 1;
            m->ok = false;
            if (was_ok)
                *was_ok = ok;
        } else if (m->changeset == changeset) {
            free(m->mem); /* an event of the refused change, or a reply not rebuilt */
            continue;
        }
        self->q[kept++] = *m;
    }
    self->n = kept;
    if (self->head == self->n)
        self->head = self->n = 0;
    return replaced;
}

static bool is_lost(const uint64_t *lost, size_t nlost, uint64_t cs)
{
    for (size_t i = 0; i < nlost; i++)
        if (lost[i] == cs)
            return true;
    return false;
}

void collab_outbox_fail(collab_outbox_t *self, const uint64_t *lost, size_t nlost,
                        collab_outbox_rebuild_fn rebuild, void *arg, size_t *unanswered,
                        size_t *refused)
{
    *unanswered = *refused = 0;
    for (size_t i = self->head; i < self->n; i++) {
        held_t *m = &self->q[i];
        if (m->reply && m->changeset && is_lost(lost, nlost, m->changeset))
            (*unanswered)++;
        else if (m->reply && rebuild_reply(self, m, rebuild, arg) == 0) {
            self->sink(self->arg, m->mem, m->rid_len, m->mem + m->rid_len, m->len);
            (*refused)++;
        }
        free(m->mem);
    }
    self->head = self->n = 0;
}
