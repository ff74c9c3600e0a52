/*  redis_check.c: the start-up check that a Redis server is durable and bounded
    (collab_redis_check_durable in redis_conn.h): one row per setting, read with CONFIG GET,
    or from INFO when the ACL user may not run CONFIG. */
#include "redis_conn.h"
#include "collab_error.h"

#include <hiredis/hiredis.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    const char *name;      /* the CONFIG parameter, and the line of redis.conf */
    const char *want;      /* the value required; NULL: only read for a note */
    const char *section;   /* the INFO section that shows it, or NULL */
    const char *field;     /* its field there */
    const char *info_want; /* the value required there */
} setting_t;

static const setting_t settings[] = {
    {"appendonly", "yes", "persistence", "aof_enabled", "1"},
    {"appendfsync", "always", NULL, NULL, NULL},
    {"maxmemory-policy", "noeviction", "memory", "maxmemory_policy", "noeviction"},
    {"maxmemory", NULL, "memory", "maxmemory", NULL},
};
enum { N_SETTINGS = sizeof settings / sizeof settings[0], VALUE_MAX = 48 };

typedef struct {
    bool read;
    char value[VALUE_MAX]; /* printable ASCII; "(unreadable)" when it was not */
} seen_t;

__attribute__((format(printf, 2, 3))) static void add(collab_redis_durability_t *out,
                                                      const char *fmt, ...)
{
    size_t used = strnlen(out->text, sizeof out->text);
    if (used + 1 >= sizeof out->text)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->text + used, sizeof out->text - used, fmt, ap);
    va_end(ap);
}

static void keep(seen_t *s, const char *p, size_t len)
{
    s->read = true;
    bool printable = len < sizeof s->value;
    for (size_t i = 0; printable && i < len; i++)
        printable = p[i] >= ' ' && p[i] < 0x7f;
    if (!printable)
        snprintf(s->value, sizeof s->value, "(unreadable)");
    else {
        memcpy(s->value, p, len);
        s->value[len] = '\0';
    }
}

static bool is_string(const redisReply *r)
{
    return r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS) && r->str;
}

/*  CONFIG GET's name/value pairs, in any order. */
static void from_config(const redisReply *r, seen_t seen[N_SETTINGS])
{
    if (r->type != REDIS_REPLY_ARRAY || !r->element)
        return;
    for (size_t i = 0; i + 1 < r->elements; i += 2) {
        const redisReply *name = r->element[i], *value = r->element[i + 1];
        if (!is_string(name) || !is_string(value))
            continue;
        for (size_t k = 0; k < N_SETTINGS; k++)
            if (name->len == strlen(settings[k].name) &&
                memcmp(name->str, settings[k].name, name->len) == 0)
                keep(&seen[k], value->str, value->len);
    }
}

/*  The value of "field:value" lines (CRLF) in INFO's text. */
static void from_info_text(const redisReply *r, const char *field, seen_t *s)
{
    size_t flen = strlen(field);
    const char *p = r->str, *end = r->str + r->len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = (size_t)((nl ? nl : end) - p);
        if (n && p[n - 1] == '\r')
            n--;
        if (n > flen && memcmp(p, field, flen) == 0 && p[flen] == ':') {
            keep(s, p + flen + 1, n - flen - 1);
            return;
        }
        p = nl ? nl + 1 : end;
    }
}

/*  INFO, one section at a time. COLLAB_E_FORBIDDEN when no section may be read. */
static int from_info(collab_redis_t *self, seen_t seen[N_SETTINGS])
{
    bool any = false;
    for (size_t k = 0; k < N_SETTINGS; k++) {
        if (!settings[k].section || seen[k].read)
            continue;
        collab_redis_reply_t *r = NULL;
        int rc = collab_redis_callf(self, &r, "INFO %s", settings[k].section);
        if (rc == COLLAB_E_FORBIDDEN)
            continue;
        if (rc)
            return rc;
        any = true;
        for (size_t j = k; j < N_SETTINGS && is_string(r); j++)
            if (settings[j].section && strcmp(settings[j].section, settings[k].section) == 0)
                from_info_text(r, settings[j].field, &seen[j]);
        collab_redis_reply_free(&r);
    }
    return any ? 0 : COLLAB_E_FORBIDDEN;
}

/*  What was read, against what is required. */
static int judge(const seen_t seen[N_SETTINGS], collab_redis_durability_t *out)
{
    int wrong = 0;
    for (size_t k = 0; k < N_SETTINGS; k++) {
        const setting_t *s = &settings[k];
        const char *want = out->via_info ? s->info_want : s->want;
        if (!s->want || (!seen[k].read && out->via_info && !s->section))
            continue;
        if (!seen[k].read || strcmp(seen[k].value, want) != 0) {
            add(out, "%s%s%s is %s%s%s (want `%s %s`)",
                wrong++ ? "; " : "not durable and bounded: ", out->via_info ? "INFO's " : "",
                out->via_info ? s->field : s->name, seen[k].read ? "'" : "",
                seen[k].read ? seen[k].value : "not shown", seen[k].read ? "'" : "", s->name,
                s->want);
        }
    }
    if (wrong) {
        add(out, ": set it in redis.conf");
        return COLLAB_E_BAD_REQUEST;
    }
    for (size_t k = 0; k < N_SETTINGS; k++) {
        if (settings[k].want && !seen[k].read) {
            out->fsync_unchecked = true;
            add(out,
                "%s not checked: this user may not run CONFIG GET and INFO does not show "
                "it; the server must have `%s %s`. ",
                settings[k].name, settings[k].name, settings[k].want);
        }
        if (!settings[k].want && seen[k].read && strcmp(seen[k].value, "0") == 0)
            add(out, "%s is 0: memory is bounded only by the machine. ", settings[k].name);
    }
    return 0;
}

int collab_redis_check_durable(collab_redis_t *self, collab_redis_durability_t *out)
{
    seen_t seen[N_SETTINGS];
    memset(out, 0, sizeof *out);
    memset(seen, 0, sizeof seen);
    collab_redis_reply_t *r = NULL;
    int rc = collab_redis_callf(self, &r, "CONFIG GET %s %s %s %s", settings[0].name,
                                settings[1].name, settings[2].name, settings[3].name);
    if (rc == 0)
        from_config(r, seen);
    collab_redis_reply_free(&r);
    if (rc == COLLAB_E_FORBIDDEN) {
        out->via_info = true;
        rc = from_info(self, seen);
        if (rc == COLLAB_E_FORBIDDEN)
            add(out, "nothing could be checked: this user may run neither CONFIG GET nor INFO");
    }
    if (rc) {
        if (!out->text[0])
            add(out, "%s", collab_redis_why(self));
        return rc;
    }
    return judge(seen, out);
}
