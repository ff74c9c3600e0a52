/*  seclog.c: the security log (see seclog.h). One JSON object per line, flushed per line
    (the log is low-volume), rotated to PATH.1 when the next line would pass max_bytes. */
#include "seclog.h"

#include "collab_error.h"

#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct collab_seclog {
    char *path;         /* NULL: the log discards */
    char *rotated;      /* path + ".1" */
    FILE *file;         /* NULL after a failed reopen; retried on the next line */
    uint64_t max_bytes; /* 0: never rotate */
    uint64_t size;      /* bytes in the current file */
    uint64_t lines;
};

/*  Opens for appending, owner-only: the log names agents and peers. */
static FILE *open_append(const char *path, uint64_t *size)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return NULL;
    struct stat st;
    FILE *f = fstat(fd, &st) == 0 ? fdopen(fd, "a") : NULL;
    if (!f) {
        int saved = errno;
        close(fd);
        errno = saved;
        return NULL;
    }
    *size = (uint64_t)st.st_size;
    return f;
}

collab_seclog_t *collab_seclog_open(const char *path, uint64_t max_bytes, char *err, size_t errlen)
{
    collab_seclog_t *self = calloc(1, sizeof *self);
    if (!self)
        goto fail;
    self->max_bytes = max_bytes;
    if (!path)
        return self;
    self->path = strdup(path);
    self->rotated = malloc(strlen(path) + 3);
    if (!self->path || !self->rotated)
        goto fail;
    snprintf(self->rotated, strlen(path) + 3, "%s.1", path);
    self->file = open_append(path, &self->size);
    if (!self->file)
        goto fail;
    return self;
fail:
    if (err && errlen)
        snprintf(err, errlen, "%s: %s", path ? path : "(discard)", strerror(errno));
    collab_seclog_destroy(&self);
    return NULL;
}

void collab_seclog_destroy(collab_seclog_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    collab_seclog_t *self = *self_p;
    if (self->file)
        fclose(self->file);
    free(self->path);
    free(self->rotated);
    free(self);
    *self_p = NULL;
}

/*  Moves the full file aside (replacing the older one) and starts a new one. */
static int rotate(collab_seclog_t *self)
{
    if (self->file)
        fclose(self->file);
    self->file = NULL;
    int rc = rename(self->path, self->rotated) == 0 ? 0 : COLLAB_E_IO;
    self->file = open_append(self->path, &self->size);
    return self->file ? rc : COLLAB_E_IO;
}

static int write_line(collab_seclog_t *self, const char *text)
{
    size_t n = strlen(text);
    if (!self->file && !(self->file = open_append(self->path, &self->size)))
        return COLLAB_E_IO;
    if (self->max_bytes && self->size > 0 && self->size + n + 1 > self->max_bytes)
        rotate(self); /* on failure, keep logging into whatever file is open */
    if (!self->file)
        return COLLAB_E_IO;
    if (fwrite(text, 1, n, self->file) != n || fputc('\n', self->file) == EOF ||
        fflush(self->file) != 0) {
        clearerr(self->file);
        return COLLAB_E_IO;
    }
    self->size += n + 1;
    return 0;
}

/*  "2024-05-01T12:34:56.789Z" */
static void iso_time(uint64_t ms, char *buf, size_t cap)
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    if (!gmtime_r(&secs, &tm)) {
        snprintf(buf, cap, "invalid");
        return;
    }
    char base[32];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, cap, "%s.%03uZ", base, (unsigned)(ms % 1000));
}

/*  Builds the line's object; caller's keys that repeat an earlier key are dropped. */
static cJSON *build(uint64_t now_ms, const char *event, va_list ap)
{
    char when[48];
    iso_time(now_ms, when, sizeof when);
    cJSON *obj = cJSON_CreateObject();
    if (!obj || !cJSON_AddNumberToObject(obj, "ts", (double)now_ms) ||
        !cJSON_AddStringToObject(obj, "time", when) ||
        !cJSON_AddStringToObject(obj, "event", event ? event : "unknown"))
        goto fail;
    const char *key;
    while ((key = va_arg(ap, const char *)) != NULL) {
        const char *value = va_arg(ap, const char *);
        if (!value || cJSON_GetObjectItemCaseSensitive(obj, key))
            continue;
        if (!cJSON_AddStringToObject(obj, key, value))
            goto fail;
    }
    return obj;
fail:
    cJSON_Delete(obj);
    return NULL;
}

int collab_seclog_emit(collab_seclog_t *self, uint64_t now_ms, const char *event, ...)
{
    if (!self)
        return 0; /* like a discarding log */
    if (!self->path) {
        self->lines++;
        return 0;
    }
    va_list ap;
    va_start(ap, event);
    cJSON *obj = build(now_ms, event, ap);
    va_end(ap);
    char *text = obj ? cJSON_PrintUnformatted(obj) : NULL;
    int rc = text ? write_line(self, text) : COLLAB_E_IO;
    cJSON_free(text);
    cJSON_Delete(obj);
    if (rc == 0)
        self->lines++;
    return rc;
}

uint64_t collab_seclog_lines(const collab_seclog_t *self)
{
    return self ? self->lines : 0;
}
