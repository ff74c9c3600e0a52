/*  fake_store.c: the in-memory store backend of the tests (see fake_store.h): changes
    copied into the open batch, and applied to small fixed tables at commit. */
#include "fake_store_int.h"

#include "collab_error.h"

#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

static char *copy_str(const char *s)
{
    return strdup(s ? s : "");
}

void fake_change_free(fchange_t *c)
{
    free(c->project.name);
    free(c->project.description);
    free(c->task.title);
    free(c->task.description);
    free(c->task.result);
    free((void *)c->event.data);
    free(c->except);
}

void fake_batch_free(fbatch_t *b)
{
    for (size_t i = 0; i < b->n; i++)
        fake_change_free(&b->c[i]);
    free(b->c);
    memset(b, 0, sizeof *b);
}

fchange_t *fake_batch_slot(fbatch_t *b)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 16;
        fchange_t *grown = realloc(b->c, cap * sizeof *grown);
        if (!grown)
            return NULL;
        b->c = grown;
        b->cap = cap;
    }
    fchange_t *c = &b->c[b->n++];
    memset(c, 0, sizeof *c);
    return c;
}

int fake_record(void *be, const collab_change_t *ch)
{
    fake_store_t *self = be;
    if (self->loop_down)
        return 0; /* an outage the loop has seen: dropped, as a shared store drops it */
    return fake_batch_add(&self->open, ch);
}

/*  A broadcast's event and the agents it skips, copied into c. */
static int copy_broadcast(fchange_t *c, const collab_change_t *ch)
{
    size_t n = ch->u.broadcast.nexcept;
    c->event = *ch->u.broadcast.ev;
    c->retain = ch->u.broadcast.retain;
    c->event.data = malloc(c->event.data_len + 1);
    c->except = calloc(n ? n : 1, sizeof *c->except);
    if (!c->event.data || !c->except)
        return COLLAB_E_NOMEM; /* the slot is freed with its batch */
    if (c->event.data_len)
        memcpy((void *)c->event.data, ch->u.broadcast.ev->data, c->event.data_len);
    for (size_t i = 0; i < n; i++)
        snprintf(c->except[i], sizeof c->except[i], "%s", ch->u.broadcast.except[i]);
    c->nexcept = n;
    return 0;
}

int fake_batch_add(fbatch_t *b, const collab_change_t *ch)
{
    fchange_t *c = fake_batch_slot(b);
    if (!c)
        return COLLAB_E_NOMEM;
    c->kind = ch->kind;
    c->cs = ch->changeset;
    switch (ch->kind) {
    case COLLAB_CHANGE_AGENT:
        c->agent = *ch->u.agent;
        break;
    case COLLAB_CHANGE_SESSION:
        c->session = *ch->u.session;
        break;
    case COLLAB_CHANGE_SESSION_DEL:
        snprintf(c->key, sizeof c->key, "%s", ch->u.key);
        break;
    case COLLAB_CHANGE_PROJECT:
        c->project = *ch->u.project;
        c->project.name = copy_str(ch->u.project->name);
        c->project.description = copy_str(ch->u.project->description);
        break;
    case COLLAB_CHANGE_PROJECT_DEL:
        c->id = ch->u.id;
        break;
    case COLLAB_CHANGE_TASK:
        c->task = *ch->u.task;
        c->task.title = copy_str(ch->u.task->title);
        c->task.description = copy_str(ch->u.task->description);
        c->task.result = copy_str(ch->u.task->result);
        break;
    case COLLAB_CHANGE_EVENT:
        c->event = *ch->u.event.ev;
        c->retain = ch->u.event.retain;
        c->event.data = malloc(c->event.data_len + 1);
        if (c->event.data_len)
            memcpy((void *)c->event.data, ch->u.event.ev->data, c->event.data_len);
        break;
    case COLLAB_CHANGE_BROADCAST:
        return copy_broadcast(c, ch);
    case COLLAB_CHANGE_META:
        snprintf(c->key, sizeof c->key, "%s", ch->u.meta.key);
        c->len = ch->u.meta.len < sizeof c->val ? ch->u.meta.len : sizeof c->val;
        memcpy(c->val, ch->u.meta.val, c->len);
        break;
    }
    return 0;
}

/* ---------------------------------------------------------------------------------------
   Applying a change to the tables */

static void put_agent(fake_store_t *self, const collab_agent_t *a)
{
    size_t i = 0;
    while (i < self->n_agents && strcmp(self->agents[i].id, a->id) != 0)
        i++;
    if (i == self->n_agents && self->n_agents < FAKE_MAX)
        self->n_agents++;
    if (i < FAKE_MAX)
        self->agents[i] = *a;
}

static void put_session(fake_store_t *self, const collab_session_t *s)
{
    size_t i = 0;
    while (i < self->n_sessions && strcmp(self->sessions[i].token, s->token) != 0)
        i++;
    if (i == self->n_sessions && self->n_sessions < FAKE_MAX)
        self->n_sessions++;
    if (i < FAKE_MAX)
        self->sessions[i] = *s;
}

static void del_session(fake_store_t *self, const char *token)
{
    for (size_t i = 0; i < self->n_sessions; i++)
        if (strcmp(self->sessions[i].token, token) == 0)
            self->sessions[i] = self->sessions[--self->n_sessions];
}

static void free_project(collab_project_t *p)
{
    free(p->name);
    free(p->description);
}

static void free_task(collab_task_t *t)
{
    free(t->title);
    free(t->description);
    free(t->result);
}

/*  Kept ordered by id, as a load hands them back. */
static void put_project(fake_store_t *self, const collab_project_t *p)
{
    size_t i = 0;
    while (i < self->n_projects && self->projects[i].id < p->id)
        i++;
    if (i < self->n_projects && self->projects[i].id == p->id) {
        free_project(&self->projects[i]);
    } else {
        if (self->n_projects == FAKE_MAX)
            return;
        memmove(&self->projects[i + 1], &self->projects[i],
                (self->n_projects++ - i) * sizeof *self->projects);
    }
    self->projects[i] = *p;
    self->projects[i].name = copy_str(p->name);
    self->projects[i].description = copy_str(p->description);
}

static void put_task(fake_store_t *self, const collab_task_t *t)
{
    size_t i = 0;
    while (i < self->n_tasks && self->tasks[i].id < t->id)
        i++;
    if (i < self->n_tasks && self->tasks[i].id == t->id) {
        free_task(&self->tasks[i]);
    } else {
        if (self->n_tasks == FAKE_MAX)
            return;
        memmove(&self->tasks[i + 1], &self->tasks[i], (self->n_tasks++ - i) * sizeof *self->tasks);
    }
    self->tasks[i] = *t;
    self->tasks[i].title = copy_str(t->title);
    self->tasks[i].description = copy_str(t->description);
    self->tasks[i].result = copy_str(t->result);
}

static void del_project(fake_store_t *self, uint64_t id)
{
    size_t k = 0;
    for (size_t i = 0; i < self->n_tasks; i++)
        if (self->tasks[i].project_id == id)
            free_task(&self->tasks[i]);
        else
            self->tasks[k++] = self->tasks[i];
    self->n_tasks = k;
    k = 0;
    for (size_t i = 0; i < self->n_projects; i++)
        if (self->projects[i].id == id)
            free_project(&self->projects[i]);
        else
            self->projects[k++] = self->projects[i];
    self->n_projects = k;
}

static void put_event(fake_store_t *self, const collab_event_t *ev)
{
    if (self->n_events == sizeof self->events / sizeof *self->events)
        return;
    collab_event_t *e = &self->events[self->n_events++];
    *e = *ev;
    e->data = malloc(ev->data_len + 1);
    if (ev->data_len)
        memcpy((void *)e->data, ev->data, ev->data_len);
}

static void put_meta(fake_store_t *self, const fchange_t *c)
{
    size_t i = 0;
    while (i < self->n_meta && strcmp(self->meta[i].key, c->key) != 0)
        i++;
    if (i == self->n_meta && self->n_meta < FAKE_MAX)
        self->n_meta++;
    if (i == FAKE_MAX)
        return;
    snprintf(self->meta[i].key, sizeof self->meta[i].key, "%s", c->key);
    memcpy(self->meta[i].val, c->val, c->len);
    self->meta[i].len = c->len;
}

void fake_apply(fake_store_t *self, const fchange_t *c)
{
    switch (c->kind) {
    case COLLAB_CHANGE_AGENT:
        put_agent(self, &c->agent);
        break;
    case COLLAB_CHANGE_SESSION:
        put_session(self, &c->session);
        break;
    case COLLAB_CHANGE_SESSION_DEL:
        del_session(self, c->key);
        break;
    case COLLAB_CHANGE_PROJECT:
        put_project(self, &c->project);
        break;
    case COLLAB_CHANGE_PROJECT_DEL:
        del_project(self, c->id);
        break;
    case COLLAB_CHANGE_TASK:
        put_task(self, &c->task);
        break;
    case COLLAB_CHANGE_EVENT:
        put_event(self, &c->event);
        break;
    case COLLAB_CHANGE_META:
        put_meta(self, c);
        break;
    case COLLAB_CHANGE_BROADCAST: /* numbered per follower first (fake_commit_change) */
        break;
    }
}

void fake_tables_free(fake_store_t *self)
{
    for (size_t i = 0; i < self->n_projects; i++)
        free_project(&self->projects[i]);
    for (size_t i = 0; i < self->n_tasks; i++)
        free_task(&self->tasks[i]);
    for (size_t i = 0; i < self->n_events; i++)
        free((void *)self->events[i].data);
}
