/*  board.c: the observer's table of projects and tasks (see board.h). */
#include "board.h"
#include "evline.h"

#include <stdlib.h>
#include <string.h>

#define MAX_PROJECTS 10000
#define MAX_TASKS    100000
#define LOG_KEEP     200

typedef struct {
    uint64_t id;
    char *name, *owner, *status;
} project_t;

typedef struct {
    uint64_t id, project_id;
    char *title, *status, *worker;
} task_t;

struct board {
    bool sanitize;
    project_t *p;
    size_t np, capp;
    task_t *t;
    size_t nt, capt;
    char *log[LOG_KEEP]; /* a ring of the latest lines */
    size_t log_next, log_count;
};

board_t *board_new(bool sanitize)
{
    board_t *self = calloc(1, sizeof *self);
    if (self)
        self->sanitize = sanitize;
    return self;
}

static void project_free(project_t *p)
{
    free(p->name), free(p->owner), free(p->status);
}

static void task_free(task_t *t)
{
    free(t->title), free(t->status), free(t->worker);
}

void board_destroy(board_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    board_t *self = *self_p;
    for (size_t i = 0; i < self->np; i++)
        project_free(&self->p[i]);
    for (size_t i = 0; i < self->nt; i++)
        task_free(&self->t[i]);
    for (size_t i = 0; i < LOG_KEEP; i++)
        free(self->log[i]);
    free(self->p);
    free(self->t);
    free(self);
    *self_p = NULL;
}

size_t board_projects(const board_t *self)
{
    return self->np;
}

size_t board_tasks(const board_t *self)
{
    return self->nt;
}

/*  Replaces *dst with a copy of map[key] when that is a str. */
static void take_str(char **dst, const collab_map_t *m, const char *key)
{
    collab_span_t s;
    char *copy;
    if (collab_map_str(m, key, &s) != 0 || !(copy = collab_strndup(s.ptr, s.len)))
        return;
    free(*dst);
    *dst = copy;
}

static void set_str(char **dst, const char *s)
{
    char *copy = strdup(s);
    if (copy) {
        free(*dst);
        *dst = copy;
    }
}

/*  The project with this id, added (empty) when unknown and there is room. */
static project_t *project_get(board_t *self, uint64_t id, bool add)
{
    for (size_t i = 0; i < self->np; i++)
        if (self->p[i].id == id)
            return &self->p[i];
    if (!add || self->np >= MAX_PROJECTS)
        return NULL;
    if (self->np == self->capp) {
        size_t cap = self->capp ? 2 * self->capp : 16;
        project_t *p = realloc(self->p, cap * sizeof *p);
        if (!p)
            return NULL;
        self->p = p, self->capp = cap;
    }
    project_t *p = &self->p[self->np++];
    memset(p, 0, sizeof *p);
    p->id = id;
    return p;
}

static task_t *task_get(board_t *self, uint64_t id, bool add)
{
    for (size_t i = 0; i < self->nt; i++)
        if (self->t[i].id == id)
            return &self->t[i];
    if (!add || self->nt >= MAX_TASKS)
        return NULL;
    if (self->nt == self->capt) {
        size_t cap = self->capt ? 2 * self->capt : 64;
        task_t *t = realloc(self->t, cap * sizeof *t);
        if (!t)
            return NULL;
        self->t = t, self->capt = cap;
    }
    task_t *t = &self->t[self->nt++];
    memset(t, 0, sizeof *t);
    t->id = id;
    return t;
}

static void project_remove(board_t *self, uint64_t id)
{
    size_t k = 0;
    for (size_t i = 0; i < self->nt; i++) {
        if (self->t[i].project_id == id)
            task_free(&self->t[i]);
        else
            self->t[k++] = self->t[i];
    }
    self->nt = k;
    for (size_t i = 0; i < self->np; i++)
        if (self->p[i].id == id) {
            project_free(&self->p[i]);
            memmove(&self->p[i], &self->p[i + 1], (self->np - i - 1) * sizeof self->p[0]);
            self->np--;
            return;
        }
}

/*  Takes a project summary or details map into the board. */
static void project_from_map(board_t *self, const collab_map_t *m)
{
    uint64_t id;
    project_t *p;
    if (collab_map_uint(m, "project_id", &id) != 0 || !(p = project_get(self, id, true)))
        return;
    take_str(&p->name, m, "name");
    take_str(&p->owner, m, "owner");
    take_str(&p->status, m, "status");
}

static void task_from_map(board_t *self, const collab_map_t *m)
{
    uint64_t id, pid = 0;
    task_t *t;
    if (collab_map_uint(m, "task_id", &id) != 0 || !(t = task_get(self, id, true)))
        return;
    if (collab_map_uint(m, "project_id", &pid) == 0)
        t->project_id = pid;
    take_str(&t->title, m, "title");
    take_str(&t->status, m, "status");
    take_str(&t->worker, m, "assigned_to");
    take_str(&t->worker, m, "to"); /* task_reassigned */
    if (pid && !project_get(self, pid, false)) {
        project_t *p = project_get(self, pid, true); /* known later, or never */
        if (p)
            set_str(&p->status, "?");
    }
}

void board_apply(board_t *self, const collab_event_msg_t *ev)
{
    uint64_t id = 0;
    const char *n = ev->name;
    if (strcmp(n, "project_created") == 0) {
        project_from_map(self, &ev->map);
        project_t *p = NULL;
        if (collab_map_uint(&ev->map, "project_id", &id) == 0 &&
            (p = project_get(self, id, false)) != NULL)
            set_str(&p->status, "open");
    } else if (strcmp(n, "project_closed") == 0) {
        project_t *p = NULL;
        if (collab_map_uint(&ev->map, "project_id", &id) == 0 &&
            (p = project_get(self, id, false)) != NULL)
            set_str(&p->status, "closed");
    } else if (strcmp(n, "project_deleted") == 0) {
        if (collab_map_uint(&ev->map, "project_id", &id) == 0)
            project_remove(self, id);
    } else if (strcmp(n, "task_assigned") == 0 || strcmp(n, "task_reassigned") == 0) {
        task_from_map(self, &ev->map);
        task_t *t = NULL;
        if (collab_map_uint(&ev->map, "task_id", &id) == 0 && (t = task_get(self, id, false)))
            set_str(&t->status, "assigned");
    } else if (strcmp(n, "task_status_changed") == 0) {
        task_from_map(self, &ev->map);
    }
}

void board_log(board_t *self, const char *line, size_t len)
{
    char *copy = collab_strndup(line, len);
    if (!copy)
        return;
    free(self->log[self->log_next]);
    self->log[self->log_next] = copy;
    self->log_next = (self->log_next + 1) % LOG_KEEP;
    if (self->log_count < LOG_KEEP)
        self->log_count++;
}

typedef void (*take_fn)(board_t *self, const collab_map_t *m);

/*  Calls fn for each map of the array data[key]. */
static void each_map(board_t *self, const collab_map_t *data, const char *key, take_fn fn)
{
    collab_mp_reader_t r;
    uint32_t n;
    if (collab_map_array(data, key, &r, &n) != 0)
        return;
    collab_map_t item;
    for (uint32_t i = 0; i < n && collab_map_array_next(&r, &item) == 0; i++)
        fn(self, &item);
}

/*  One read request with up to two uint fields (a NULL key is left out). Returns 0 with
 *r to free, or the request's or the reply's error code. */
static int read_call(collab_client_t *c, const char *action, const char *k1, uint64_t v1,
                     const char *k2, uint64_t v2, collab_reply_t *r)
{
    uint8_t buf[128];
    collab_pack_t p;
    size_t len;
    collab_pack_init(&p, buf, sizeof buf);
    collab_pack_map(&p, (k1 != NULL) + (k2 != NULL));
    if (k1)
        collab_pack_kv_uint(&p, k1, v1);
    if (k2)
        collab_pack_kv_uint(&p, k2, v2);
    collab_pack_finish(&p, &len);
    int rc = collab_client_request(c, action, buf, len, r);
    if (rc == 0 && !r->ok) {
        rc = r->code;
        collab_reply_free(r);
    }
    return rc;
}

/*  The offset of the next page, or 0 when this page was the last (or made no progress). */
static uint64_t next_page(const collab_reply_t *r, const char *key, uint64_t off)
{
    uint64_t next = 0;
    collab_map_uint(&r->map, key, &next);
    return next > off ? next : 0;
}

static int load_tasks(board_t *self, collab_client_t *c, uint64_t project_id)
{
    uint64_t off = 0;
    do {
        collab_reply_t r;
        int rc = read_call(c, "get_project", "project_id", project_id, "task_offset", off, &r);
        if (rc == COLLAB_E_NOT_FOUND)
            return 0; /* deleted meanwhile: its event will say so */
        if (rc)
            return rc;
        project_from_map(self, &r.map);
        each_map(self, &r.map, "tasks", task_from_map);
        off = next_page(&r, "next_task_offset", off);
        collab_reply_free(&r);
    } while (off);
    return 0;
}

int board_load(board_t *self, collab_client_t *c)
{
    uint64_t off = 0;
    do {
        collab_reply_t r;
        int rc = read_call(c, "list_projects", "offset", off, NULL, 0, &r);
        if (rc)
            return rc;
        each_map(self, &r.map, "projects", project_from_map);
        off = next_page(&r, "next_offset", off);
        collab_reply_free(&r);
    } while (off);
    for (size_t i = 0; i < self->np; i++) {
        int rc = load_tasks(self, c, self->p[i].id);
        if (rc)
            return rc;
    }
    return 0;
}

/*  Writes at most width code points of already rendered text, then pads to width + 1
    (pad false: no padding, for the last column). */
static void put_clipped(FILE *f, const char *s, size_t len, size_t width, bool pad)
{
    size_t i = 0, w = 0;
    while (i < len) {
        size_t n = 1;
        while (i + n < len && ((unsigned char)s[i + n] & 0xc0) == 0x80)
            n++;
        if (w == width)
            break;
        fwrite(s + i, 1, n, f);
        i += n, w++;
    }
    for (; pad && w <= width; w++)
        fputc(' ', f);
}

/*  Broker text (escaped or raw as the board says) in a column of the given width. */
static void put_cell(const board_t *self, FILE *f, const char *s, size_t width, bool pad)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    if (!m)
        return;
    if (s)
        agent_print_text(m, s, strlen(s), self->sanitize);
    else
        fputs("?", m);
    fclose(m);
    put_clipped(f, buf, len, width, pad);
    free(buf);
}

static void draw_project(const board_t *self, FILE *f, const project_t *p, size_t cols)
{
    fprintf(f, "#%-6llu ", (unsigned long long)p->id);
    put_cell(self, f, p->status, 7, true);
    put_cell(self, f, p->owner, 14, true);
    put_cell(self, f, p->name, cols > 32 ? cols - 32 : 8, false);
    fputc('\n', f);
}

static void draw_task(const board_t *self, FILE *f, const task_t *t, size_t cols)
{
    fprintf(f, "   task #%-6llu ", (unsigned long long)t->id);
    put_cell(self, f, t->status, 11, true);
    put_cell(self, f, t->worker, 12, true);
    put_cell(self, f, t->title, cols > 44 ? cols - 44 : 8, false);
    fputc('\n', f);
}

/*  Draws as many project and task lines as fit in budget; returns the lines used. */
static int draw_table(const board_t *self, FILE *f, int budget, size_t cols)
{
    int used = 0;
    size_t drawn = 0, total = self->np + self->nt;
    for (size_t i = 0; i < self->np && used < budget - 1; i++) {
        draw_project(self, f, &self->p[i], cols);
        used++, drawn++;
        for (size_t k = 0; k < self->nt && used < budget - 1; k++)
            if (self->t[k].project_id == self->p[i].id) {
                draw_task(self, f, &self->t[k], cols);
                used++, drawn++;
            }
    }
    if (drawn < total) {
        fprintf(f, "... and more (%zu projects, %zu tasks in all)\n", self->np, self->nt);
        used++;
    }
    return used;
}

void board_draw(const board_t *self, FILE *f, int rows, int cols)
{
    rows = rows < 8 ? 8 : rows;
    cols = cols < 60 ? 60 : cols;
    size_t want = (size_t)(rows / 3 > 3 ? rows / 3 : 3);
    size_t nlog = self->log_count < want ? self->log_count : want;
    int budget = rows - (int)nlog - 3; /* heading, events separator, the cursor line */
    fputs("\x1b[H\x1b[2J", f);
    fprintf(f, "taskcollab observer: %zu projects, %zu tasks   (Ctrl-C quits)\n", self->np,
            self->nt);
    draw_table(self, f, budget, (size_t)cols);
    fputs("---- latest events ----\n", f);
    for (size_t i = 0; i < nlog; i++) {
        const char *line = self->log[(self->log_next + LOG_KEEP - nlog + i) % LOG_KEEP];
        put_clipped(f, line, strlen(line), (size_t)cols, false);
        fputc('\n', f);
    }
    fflush(f);
}
