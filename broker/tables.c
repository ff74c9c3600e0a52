/*  tables.c: in-memory state (see tables.h). Sessions and tasks are indexed with CZMQ's
    zhashx, keyed by pointers into the records themselves (no key copies); projects are an
    array in id order, since ids only grow. */
#include "tables.h"
#include "collab_error.h"

#include <czmq.h>
#include <sodium.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    collab_project_t p; /* first: a collab_project_t * is a proj_rec_t * */
    collab_task_t **tasks;
    size_t ntasks, cap;
} proj_rec_t;

struct collab_tables {
    collab_agent_t **agents; /* each its own allocation: pointers stay valid */
    size_t nagents, agents_cap;
    zhashx_t *agent_index; /* id -> collab_agent_t */
    zhashx_t *sessions;    /* token -> collab_session_t */
    zhashx_t *tasks;       /* &task->id -> collab_task_t */
    proj_rec_t **projects;
    size_t nproj, proj_cap;
    size_t follow_all; /* sessions subscribed to every event, over all agents */
};

static size_t u64_hash(const void *key)
{
    uint64_t x = *(const uint64_t *)key;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    return (size_t)x;
}

static int u64_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static zhashx_t *borrowed_key_hash(void)
{
    zhashx_t *h = zhashx_new();
    if (h) {
        zhashx_set_key_duplicator(h, NULL);
        zhashx_set_key_destructor(h, NULL);
    }
    return h;
}

collab_tables_t *collab_tables_new(void)
{
    collab_tables_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->sessions = borrowed_key_hash();
    self->tasks = borrowed_key_hash();
    self->agent_index = borrowed_key_hash();
    if (!self->sessions || !self->tasks || !self->agent_index) {
        collab_tables_destroy(&self);
        return NULL;
    }
    zhashx_set_key_hasher(self->tasks, u64_hash);
    zhashx_set_key_comparator(self->tasks, u64_cmp);
    return self;
}

static void task_free(collab_task_t *t)
{
    if (!t)
        return;
    free(t->title);
    free(t->description);
    free(t->result);
    free(t);
}

static void proj_free(proj_rec_t *r)
{
    for (size_t i = 0; i < r->ntasks; i++)
        task_free(r->tasks[i]);
    free(r->tasks);
    free(r->p.name);
    free(r->p.description);
    free(r);
}

void collab_tables_destroy(collab_tables_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    collab_tables_t *self = *self_p;
    if (self->sessions) {
        for (collab_session_t *s = zhashx_first(self->sessions); s; s = zhashx_next(self->sessions))
            free(s);
        zhashx_destroy(&self->sessions);
    }
    zhashx_destroy(&self->tasks);
    for (size_t i = 0; i < self->nproj; i++)
        proj_free(self->projects[i]);
    free(self->projects);
    for (size_t i = 0; i < self->nagents; i++) {
        sodium_memzero(self->agents[i], sizeof *self->agents[i]); /* the keys */
        free(self->agents[i]);
    }
    free(self->agents);
    zhashx_destroy(&self->agent_index);
    free(self);
    *self_p = NULL;
}

/*  Grows an array of elements of size elem so that it holds at least n+1. */
static int grow(void **arr, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return 0;
    size_t ncap = *cap ? *cap * 2 : 16;
    void *p = realloc(*arr, ncap * elem);
    if (!p)
        return COLLAB_E_NOMEM;
    *arr = p;
    *cap = ncap;
    return 0;
}

collab_agent_t *collab_tables_add_agent(collab_tables_t *self, const collab_agent_t *a)
{
    if (collab_tables_agent(self, a->id, strlen(a->id)))
        return NULL;
    if (grow((void **)&self->agents, &self->agents_cap, self->nagents, sizeof *self->agents))
        return NULL;
    collab_agent_t *dst = malloc(sizeof *dst);
    if (!dst)
        return NULL;
    *dst = *a;
    collab_sign_key_init(&dst->sign_key, dst->key);
    dst->sessions = NULL;
    dst->session_count = 0;
    dst->follow_all = 0;
    if (zhashx_insert(self->agent_index, dst->id, dst) != 0) {
        sodium_memzero(dst, sizeof *dst);
        free(dst);
        return NULL;
    }
    self->agents[self->nagents++] = dst;
    return dst;
}

/*  Looks up a key that is not NUL-terminated without copying it when it is short. */
static void *lookup_str(zhashx_t *h, const char *key, size_t len)
{
    char buf[COLLAB_MAX_SESSION_ID + 1];
    if (len >= sizeof buf)
        return NULL;
    memcpy(buf, key, len);
    buf[len] = '\0';
    return zhashx_lookup(h, buf);
}

collab_agent_t *collab_tables_agent(collab_tables_t *self, const char *id, size_t len)
{
    return lookup_str(self->agent_index, id, len);
}

size_t collab_tables_agent_count(const collab_tables_t *self)
{
    return self->nagents;
}

collab_agent_t *collab_tables_agent_at(collab_tables_t *self, size_t i)
{
    return i < self->nagents ? self->agents[i] : NULL;
}

collab_session_t *collab_tables_add_session(collab_tables_t *self, const collab_session_t *s)
{
    collab_agent_t *agent = collab_tables_agent(self, s->agent_id, strlen(s->agent_id));
    if (!agent)
        return NULL;
    collab_session_t *dst = malloc(sizeof *dst);
    if (!dst)
        return NULL;
    *dst = *s;
    if (zhashx_insert(self->sessions, dst->token, dst) != 0) {
        free(dst);
        return NULL;
    }
    dst->prev_of_agent = NULL;
    dst->next_of_agent = agent->sessions;
    if (agent->sessions)
        ((collab_session_t *)agent->sessions)->prev_of_agent = dst;
    agent->sessions = dst;
    agent->session_count++;
    if (dst->subscribed_all) {
        agent->follow_all++;
        self->follow_all++;
    }
    return dst;
}

collab_session_t *collab_tables_session(collab_tables_t *self, const char *token, size_t len)
{
    return lookup_str(self->sessions, token, len);
}

collab_session_t *collab_tables_session_by_handle(collab_tables_t *self, uint64_t handle)
{
    for (collab_session_t *s = zhashx_first(self->sessions); s; s = zhashx_next(self->sessions))
        if (s->handle == handle)
            return s;
    return NULL;
}

void collab_tables_remove_session(collab_tables_t *self, collab_session_t **s_p)
{
    collab_session_t *s = *s_p;
    if (!s)
        return;
    collab_agent_t *agent = collab_tables_agent(self, s->agent_id, strlen(s->agent_id));
    collab_session_t *prev = s->prev_of_agent, *next = s->next_of_agent;
    if (prev)
        prev->next_of_agent = next;
    else if (agent)
        agent->sessions = next;
    if (next)
        next->prev_of_agent = prev;
    if (agent) {
        agent->session_count--;
        if (s->subscribed_all) {
            agent->follow_all--;
            self->follow_all--;
        }
    }
    zhashx_delete(self->sessions, s->token);
    free(s);
    *s_p = NULL;
}

size_t collab_tables_session_count(const collab_tables_t *self)
{
    return zhashx_size(self->sessions);
}

collab_session_t *collab_tables_session_first(collab_tables_t *self)
{
    return zhashx_first(self->sessions);
}

collab_session_t *collab_tables_session_next(collab_tables_t *self)
{
    return zhashx_next(self->sessions);
}

void collab_tables_set_follow_all(collab_tables_t *self, collab_agent_t *agent, collab_session_t *s,
                                  bool all)
{
    if (all == s->subscribed_all)
        return;
    s->subscribed_all = all;
    if (all) {
        agent->follow_all++;
        self->follow_all++;
    } else {
        agent->follow_all--;
        self->follow_all--;
    }
}

size_t collab_tables_follow_all_count(const collab_tables_t *self)
{
    return self->follow_all;
}

collab_session_t *collab_tables_agent_sessions(collab_agent_t *agent)
{
    return agent->sessions;
}

int collab_tables_set_text(char **field, const char *s, size_t len)
{
    char *copy = malloc(len + 1);
    if (!copy)
        return COLLAB_E_NOMEM;
    if (len)
        memcpy(copy, s, len);
    copy[len] = '\0';
    free(*field);
    *field = copy;
    return 0;
}

static char *dup_or_empty(const char *s)
{
    return strdup(s ? s : "");
}

/*  Index of the project with this id, or of where it would go. */
static size_t proj_search(const collab_tables_t *self, uint64_t id)
{
    size_t lo = 0, hi = self->nproj;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (self->projects[mid]->p.id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

collab_project_t *collab_tables_add_project(collab_tables_t *self, const collab_project_t *p)
{
    size_t at = proj_search(self, p->id);
    if (at < self->nproj && self->projects[at]->p.id == p->id)
        return NULL;
    if (grow((void **)&self->projects, &self->proj_cap, self->nproj, sizeof *self->projects))
        return NULL;
    proj_rec_t *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->p = *p;
    r->p.name = dup_or_empty(p->name);
    r->p.description = dup_or_empty(p->description);
    r->p.task_count = 0;
    if (!r->p.name || !r->p.description) {
        proj_free(r);
        return NULL;
    }
    memmove(&self->projects[at + 1], &self->projects[at],
            (self->nproj - at) * sizeof *self->projects);
    self->projects[at] = r;
    self->nproj++;
    return &r->p;
}

static proj_rec_t *proj_rec(const collab_tables_t *self, uint64_t id)
{
    size_t at = proj_search(self, id);
    return at < self->nproj && self->projects[at]->p.id == id ? self->projects[at] : NULL;
}

collab_project_t *collab_tables_project(collab_tables_t *self, uint64_t id)
{
    proj_rec_t *r = proj_rec(self, id);
    return r ? &r->p : NULL;
}

void collab_tables_remove_project(collab_tables_t *self, uint64_t id)
{
    size_t at = proj_search(self, id);
    if (at >= self->nproj || self->projects[at]->p.id != id)
        return;
    proj_rec_t *r = self->projects[at];
    for (size_t i = 0; i < r->ntasks; i++)
        zhashx_delete(self->tasks, &r->tasks[i]->id);
    proj_free(r);
    memmove(&self->projects[at], &self->projects[at + 1],
            (self->nproj - at - 1) * sizeof *self->projects);
    self->nproj--;
}

size_t collab_tables_project_count(const collab_tables_t *self)
{
    return self->nproj;
}

collab_project_t *collab_tables_project_at(collab_tables_t *self, size_t i)
{
    return i < self->nproj ? &self->projects[i]->p : NULL;
}

uint32_t collab_tables_projects_owned(const collab_tables_t *self, const char *owner)
{
    uint32_t n = 0;
    for (size_t i = 0; i < self->nproj; i++)
        n += strcmp(self->projects[i]->p.owner, owner) == 0;
    return n;
}

collab_task_t *collab_tables_add_task(collab_tables_t *self, const collab_task_t *t)
{
    proj_rec_t *r = proj_rec(self, t->project_id);
    if (!r || zhashx_lookup(self->tasks, &t->id))
        return NULL;
    if (r->ntasks && r->tasks[r->ntasks - 1]->id > t->id)
        return NULL; /* ids only grow; the loader reads them in order */
    if (grow((void **)&r->tasks, &r->cap, r->ntasks, sizeof *r->tasks))
        return NULL;
    collab_task_t *dst = calloc(1, sizeof *dst);
    if (!dst)
        return NULL;
    *dst = *t;
    dst->title = dup_or_empty(t->title);
    dst->description = dup_or_empty(t->description);
    dst->result = dup_or_empty(t->result);
    if (!dst->title || !dst->description || !dst->result ||
        zhashx_insert(self->tasks, &dst->id, dst) != 0) {
        task_free(dst);
        return NULL;
    }
    r->tasks[r->ntasks++] = dst;
    r->p.task_count = (uint32_t)r->ntasks;
    return dst;
}

void collab_tables_remove_task(collab_tables_t *self, uint64_t id)
{
    collab_task_t *t = zhashx_lookup(self->tasks, &id);
    proj_rec_t *r = t ? proj_rec(self, t->project_id) : NULL;
    if (!r)
        return;
    size_t k = 0;
    for (size_t i = 0; i < r->ntasks; i++)
        if (r->tasks[i] != t)
            r->tasks[k++] = r->tasks[i];
    r->ntasks = k;
    r->p.task_count = (uint32_t)k;
    zhashx_delete(self->tasks, &id);
    task_free(t);
}

collab_task_t *collab_tables_task(collab_tables_t *self, uint64_t id)
{
    return zhashx_lookup(self->tasks, &id);
}

collab_task_t **collab_tables_project_tasks(collab_tables_t *self, uint64_t project_id,
                                            size_t *count)
{
    proj_rec_t *r = proj_rec(self, project_id);
    *count = r ? r->ntasks : 0;
    return r ? r->tasks : NULL;
}

collab_agent_t *collab_tables_restore_agent(collab_tables_t *self, const collab_agent_t *row)
{
    collab_agent_t *a = collab_tables_agent(self, row->id, strlen(row->id));
    if (!a)
        return NULL;
    a->role = row->role;
    if (row->pw_hash[0])
        snprintf(a->pw_hash, sizeof a->pw_hash, "%s", row->pw_hash);
    a->registered = row->registered;
    a->cap_count = row->cap_count;
    memcpy(a->caps, row->caps, sizeof a->caps);
    a->last_seen = row->last_seen;
    a->failures = row->failures;
    a->locked_until = row->locked_until;
    /* a sequence number given once is never given again, even to a refused event: the
       stream may show a gap, never two events with one number */
    if (row->event_seq > a->event_seq)
        a->event_seq = row->event_seq;
    return a;
}
