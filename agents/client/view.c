/*  view.c: the interactive client's output (see view.h). */
#include "view.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

void view_field(FILE *f, const collab_map_t *m, const char *key, const char *def, bool sanitize)
{
    collab_span_t s;
    if (collab_map_str(m, key, &s) == 0)
        agent_print_text(f, s.ptr, s.len, sanitize);
    else
        fputs(def, f);
}

/*  A str field padded to width (counted in bytes of what is shown: agent ids and the
    lab's identifiers are ASCII). */
static void view_padded(FILE *f, const collab_map_t *m, const char *key, int width, bool sanitize)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    if (!mem)
        return;
    view_field(mem, m, key, "-", sanitize);
    fclose(mem);
    fprintf(f, "%-*s ", width, buf);
    free(buf);
}

size_t view_each(const collab_map_t *data, const char *key,
                 void (*fn)(FILE *f, const collab_map_t *item, bool sanitize), FILE *f,
                 bool sanitize)
{
    collab_mp_reader_t r;
    uint32_t n, i;
    if (collab_map_array(data, key, &r, &n) != 0)
        return 0;
    collab_map_t item;
    for (i = 0; i < n && collab_map_array_next(&r, &item) == 0; i++)
        fn(f, &item, sanitize);
    return i;
}

static uint64_t u64(const collab_map_t *m, const char *key)
{
    uint64_t v = 0;
    collab_map_uint(m, key, &v);
    return v;
}

void view_project_heading(FILE *f)
{
    fprintf(f, "%-6s %-7s %-5s %-14s %s\n", "ID", "STATUS", "TASKS", "OWNER", "NAME");
}

void view_project_row(FILE *f, const collab_map_t *p, bool sanitize)
{
    fprintf(f, "%-6llu ", (unsigned long long)u64(p, "project_id"));
    view_padded(f, p, "status", 7, sanitize);
    fprintf(f, "%-5llu ", (unsigned long long)u64(p, "task_count"));
    view_padded(f, p, "owner", 14, sanitize);
    view_field(f, p, "name", "", sanitize);
    fputc('\n', f);
}

static void put_time(FILE *f, uint64_t ms)
{
    char buf[32];
    struct tm tm;
    time_t t = (time_t)(ms / 1000u);
    if (ms && localtime_r(&t, &tm) && strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm))
        fputs(buf, f);
    else
        fputs("-", f);
}

void view_project_head(FILE *f, const collab_map_t *p, bool sanitize)
{
    fprintf(f, "Project #%llu: ", (unsigned long long)u64(p, "project_id"));
    view_field(f, p, "name", "", sanitize);
    fputs("\n  owner: ", f);
    view_field(f, p, "owner", "-", sanitize);
    fputs("   status: ", f);
    view_field(f, p, "status", "-", sanitize);
    fputs("   created: ", f);
    put_time(f, u64(p, "created"));
    fputs("\n  description: ", f);
    view_field(f, p, "description", "", sanitize);
    fprintf(f, "\n  tasks: %llu\n", (unsigned long long)u64(p, "task_total"));
}

void view_task_heading(FILE *f)
{
    fprintf(f, "  %-6s %-11s %-14s %-12s %s\n", "TASK", "STATUS", "WORKER", "TYPE", "TITLE");
}

void view_task_row(FILE *f, const collab_map_t *t, bool sanitize)
{
    collab_span_t result;
    fprintf(f, "  %-6llu ", (unsigned long long)u64(t, "task_id"));
    view_padded(f, t, "status", 11, sanitize);
    view_padded(f, t, "assigned_to", 14, sanitize);
    view_padded(f, t, "type", 12, sanitize);
    view_field(f, t, "title", "", sanitize);
    fputc('\n', f);
    if (collab_map_str(t, "result", &result) == 0 && result.len > 0) {
        fputs("         result: ", f);
        agent_print_text(f, result.ptr, result.len, sanitize);
        fputc('\n', f);
    }
}
