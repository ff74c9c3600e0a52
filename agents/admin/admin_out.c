/*  admin_out.c: text tables and JSON for collab-admin (see admin_out.h). */
#include "admin_out.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

struct out_table {
    const out_col_t *cols;
    size_t ncols;
    bool sanitize;
    char **cells; /* rows * ncols, row-major */
    size_t rows, cap;
};

/*  A heap copy of a broker string, escaped or raw. */
static char *text_dup(const char *s, size_t len, bool sanitize)
{
    char *out = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&out, &n);
    if (!f)
        return NULL;
    agent_print_text(f, s, len, sanitize);
    fclose(f);
    return out;
}

static char *fmt_time(uint64_t ms)
{
    char buf[32];
    struct tm tm;
    time_t t = (time_t)(ms / 1000u);
    if (ms == 0 || !localtime_r(&t, &tm) ||
        strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm) == 0)
        return strdup("-");
    return strdup(buf);
}

static char *fmt_strlist(const collab_map_t *row, const char *key, bool sanitize)
{
    collab_mp_reader_t r;
    uint32_t n;
    char *out = NULL;
    size_t len = 0;
    if (collab_map_array(row, key, &r, &n) != 0)
        return strdup("-");
    FILE *f = open_memstream(&out, &len);
    if (!f)
        return NULL;
    for (uint32_t i = 0; i < n; i++) {
        collab_mp_value_t v;
        if (collab_mp_read(&r, &v) != 0 || v.type != COLLAB_MP_STR)
            break;
        if (i)
            fputc(',', f);
        agent_print_text(f, v.ptr, v.len, sanitize);
    }
    fclose(f);
    return out;
}

static char *make_cell(const out_table_t *t, const out_col_t *col, const collab_map_t *row)
{
    collab_span_t s;
    uint64_t u;
    bool b;
    char buf[32];
    switch (col->kind) {
    case OUT_STR:
        if (collab_map_str(row, col->key, &s) != 0)
            return strdup("-");
        return text_dup(s.ptr, s.len, t->sanitize);
    case OUT_UINT:
        if (collab_map_uint(row, col->key, &u) != 0)
            return strdup("-");
        snprintf(buf, sizeof buf, "%llu", (unsigned long long)u);
        return strdup(buf);
    case OUT_BOOL:
        if (collab_map_bool(row, col->key, &b) != 0)
            return strdup("-");
        return strdup(b ? "yes" : "no");
    case OUT_TIME:
        if (collab_map_uint(row, col->key, &u) != 0)
            return strdup("-");
        return fmt_time(u);
    case OUT_STRLIST:
        return fmt_strlist(row, col->key, t->sanitize);
    }
    return strdup("-");
}

out_table_t *out_table_new(const out_col_t *cols, size_t ncols, bool sanitize)
{
    out_table_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->cols = cols;
    self->ncols = ncols;
    self->sanitize = sanitize;
    return self;
}

void out_table_destroy(out_table_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    out_table_t *self = *self_p;
    for (size_t i = 0; i < self->rows * self->ncols; i++)
        free(self->cells[i]);
    free(self->cells);
    free(self);
    *self_p = NULL;
}

static int add_row(out_table_t *self, const collab_map_t *row)
{
    if (self->rows == self->cap) {
        size_t cap = self->cap ? 2 * self->cap : 16;
        char **cells = realloc(self->cells, cap * self->ncols * sizeof *cells);
        if (!cells)
            return COLLAB_E_NOMEM;
        self->cells = cells;
        self->cap = cap;
    }
    char **cell = self->cells + self->rows * self->ncols;
    for (size_t c = 0; c < self->ncols; c++)
        cell[c] = make_cell(self, &self->cols[c], row);
    self->rows++;
    for (size_t c = 0; c < self->ncols; c++)
        if (!cell[c])
            return COLLAB_E_NOMEM;
    return 0;
}

int out_table_add(out_table_t *self, const collab_map_t *data, const char *key)
{
    collab_mp_reader_t r;
    uint32_t n;
    int rc = collab_map_array(data, key, &r, &n);
    for (uint32_t i = 0; rc == 0 && i < n; i++) {
        collab_mp_reader_t peek = r;
        collab_mp_value_t v;
        collab_map_t row;
        const uint8_t *start = r.p;
        if (collab_mp_read(&peek, &v) != 0 || v.type != COLLAB_MP_MAP)
            return COLLAB_E_FIELD_TYPE;
        if ((rc = collab_mp_skip(&r, COLLAB_MAX_DEPTH, COLLAB_MAX_LIST_ENTRIES)) == 0 &&
            (rc = collab_map_parse(start, (size_t)(r.p - start), &row)) == 0)
            rc = add_row(self, &row);
    }
    return rc;
}

size_t out_table_rows(const out_table_t *self)
{
    return self->rows;
}

/*  Display width: code points when the text is valid UTF-8, else bytes. */
static size_t width_of(const char *s)
{
    size_t cp, len = strlen(s);
    return collab_utf8_check(s, len, &cp) == 0 ? cp : len;
}

static void print_cell(FILE *f, const char *s, size_t width, bool last)
{
    fputs(s, f);
    if (last)
        return;
    for (size_t w = width_of(s); w < width + 2; w++)
        fputc(' ', f);
}

void out_table_print(const out_table_t *self, FILE *f)
{
    size_t width[16] = {0};
    size_t nc = self->ncols < 16 ? self->ncols : 16;
    for (size_t c = 0; c < nc; c++) {
        width[c] = strlen(self->cols[c].header);
        for (size_t r = 0; r < self->rows; r++) {
            size_t w = width_of(self->cells[r * self->ncols + c]);
            width[c] = w > width[c] ? w : width[c];
        }
    }
    for (size_t c = 0; c < nc; c++)
        print_cell(f, self->cols[c].header, width[c], c + 1 == nc);
    fputc('\n', f);
    for (size_t r = 0; r < self->rows; r++) {
        for (size_t c = 0; c < nc; c++)
            print_cell(f, self->cells[r * self->ncols + c], width[c], c + 1 == nc);
        fputc('\n', f);
    }
}

void out_fields_print(const collab_map_t *data, bool sanitize, FILE *f)
{
    size_t width = 0;
    for (uint32_t i = 0; i < data->count; i++)
        width = data->e[i].key.len > width ? data->e[i].key.len : width;
    for (uint32_t i = 0; i < data->count; i++) {
        const collab_map_entry_t *e = &data->e[i];
        agent_print_text(f, e->key.ptr, e->key.len, sanitize);
        fprintf(f, "%*s", (int)(width + 2 - e->key.len), "");
        if (e->val.type == COLLAB_MP_UINT)
            fprintf(f, "%llu", (unsigned long long)e->val.u);
        else if (e->val.type == COLLAB_MP_INT)
            fprintf(f, "%lld", (long long)e->val.i);
        else if (e->val.type == COLLAB_MP_BOOL)
            fputs(e->val.b ? "yes" : "no", f);
        else if (e->val.type == COLLAB_MP_STR)
            agent_print_text(f, e->val.ptr, e->val.len, sanitize);
        else
            fputs("(not a scalar)", f);
        fputc('\n', f);
    }
}
