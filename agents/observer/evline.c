/*  evline.c: an event as one line of text (see evline.h). */
#include "evline.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { F_QUOTE = 1, F_OPTIONAL = 2 }; /* free text in quotes; skipped when empty */

typedef struct {
    const char *label, *key;
    int flags;
} field_t;

typedef struct {
    const char *event;
    field_t f[7];
} evfmt_t;

#define PROJECT_FIELDS                                                                             \
    {                                                                                              \
        {"project", "project_id", 0}, {"name", "name", F_QUOTE},                                   \
        {                                                                                          \
            "by", "by", 0                                                                          \
        }                                                                                          \
    }

static const evfmt_t formats[] = {
    {"project_created",
     {{"project", "project_id", 0}, {"name", "name", F_QUOTE}, {"owner", "owner", 0}}},
    {"project_closed", PROJECT_FIELDS},
    {"project_deleted", PROJECT_FIELDS},
    {"task_assigned",
     {{"task", "task_id", 0},
      {"project", "project_id", 0},
      {"type", "type", 0},
      {"title", "title", F_QUOTE},
      {"to", "assigned_to", 0},
      {"by", "assigned_by", 0}}},
    {"task_reassigned",
     {{"task", "task_id", 0},
      {"project", "project_id", 0},
      {"title", "title", F_QUOTE},
      {"from", "from", 0},
      {"to", "to", 0},
      {"by", "by", 0}}},
    {"task_status_changed",
     {{"task", "task_id", 0},
      {"project", "project_id", 0},
      {"status", "status", 0},
      {"was", "previous", 0},
      {"by", "by", 0},
      {"result", "result", F_QUOTE | F_OPTIONAL}}},
    {"role_changed",
     {{"agent", "agent_id", 0}, {"role", "role", 0}, {"was", "previous", 0}, {"by", "by", 0}}},
    {"session_revoked", {{"handle", "handle", 0}, {"by", "by", 0}}},
    {"session_expired", {{"handle", "handle", 0}, {"reason", "reason", 0}}},
    {"session_evicted", {{"handle", "handle", 0}}},
};

/*  Writes " label=value" for a scalar entry; other types are left out. */
static void put_field(FILE *f, const char *label, const collab_map_entry_t *e, int flags,
                      bool sanitize)
{
    const collab_mp_value_t *v = &e->val;
    if (v->type == COLLAB_MP_STR && v->len == 0 && (flags & F_OPTIONAL))
        return;
    if (v->type == COLLAB_MP_UINT)
        fprintf(f, " %s=%llu", label, (unsigned long long)v->u);
    else if (v->type == COLLAB_MP_INT)
        fprintf(f, " %s=%lld", label, (long long)v->i);
    else if (v->type == COLLAB_MP_BOOL)
        fprintf(f, " %s=%s", label, v->b ? "true" : "false");
    else if (v->type == COLLAB_MP_STR) {
        fprintf(f, (flags & F_QUOTE) ? " %s=\"" : " %s=", label);
        agent_print_text(f, v->ptr, v->len, sanitize);
        if (flags & F_QUOTE)
            fputc('"', f);
    }
}

static void put_time(FILE *f, uint64_t ms)
{
    struct tm tm;
    time_t t = (time_t)(ms / 1000u);
    char buf[16];
    if (!localtime_r(&t, &tm) || strftime(buf, sizeof buf, "%H:%M:%S", &tm) == 0)
        snprintf(buf, sizeof buf, "??:??:??");
    fprintf(f, "%s.%03u", buf, (unsigned)(ms % 1000u));
}

void evline_print(FILE *f, const collab_event_msg_t *ev, bool sanitize)
{
    const evfmt_t *fmt = NULL;
    for (size_t i = 0; i < sizeof formats / sizeof formats[0] && !fmt; i++)
        if (strcmp(formats[i].event, ev->name) == 0)
            fmt = &formats[i];
    put_time(f, ev->timestamp);
    fprintf(f, " #%llu %-19s", (unsigned long long)ev->seq, ev->name);
    if (fmt) {
        for (size_t i = 0; i < 7 && fmt->f[i].label; i++) {
            const collab_map_entry_t *e = collab_map_find(&ev->map, fmt->f[i].key);
            if (e)
                put_field(f, fmt->f[i].label, e, fmt->f[i].flags, sanitize);
        }
    } else { /* an event this observer does not know: every scalar field */
        for (uint32_t i = 0; i < ev->map.count; i++) {
            char key[COLLAB_MAX_KEY_BYTES + 1];
            const collab_map_entry_t *e = &ev->map.e[i];
            snprintf(key, sizeof key, "%.*s", (int)e->key.len, e->key.ptr);
            for (char *k = key; *k; k++)
                if ((unsigned char)*k < 0x20 || *k == 0x7f)
                    *k = '?'; /* keys are not fields of the lab: never raw */
            put_field(f, key, e, F_QUOTE, sanitize);
        }
    }
    fputc('\n', f);
}
