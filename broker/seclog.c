/*  seclog.c: the security log (see seclog.h). One JSON object per line, each written with
    one writev(2) on an O_APPEND descriptor (the log is low-volume; a short write is cut
    back so no partial line stays), rotated to PATH.1 when the next line would pass
    max_bytes. Chained lines (audit.h) start with "seq" and end with "mac". */
#include "seclog.h"

#include "collab_error.h"

#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

struct collab_seclog {
    char *path;         /* NULL: the log discards */
    char *rotated;      /* path + ".1" */
    int fd;             /* -1 after a failed reopen; retried on the next line */
    uint64_t max_bytes; /* 0: never rotate */
    uint64_t size;      /* bytes in the current file */
    uint64_t lines;
    /* the chain (strong audit control) */
    bool chained;
    uint8_t key[COLLAB_AUDIT_KEY_LEN];
    collab_audit_head_t head;
    collab_seclog_head_fn on_line;
    void *on_line_arg;
};

/*  Opens for appending, owner-only: the log names agents and peers. */
static int open_append(const char *path, uint64_t *size)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    *size = (uint64_t)st.st_size;
    return fd;
}

collab_seclog_t *collab_seclog_open(const char *path, uint64_t max_bytes, char *err, size_t errlen)
{
    collab_seclog_t *self = calloc(1, sizeof *self);
    if (!self)
        goto fail;
    self->fd = -1;
    self->max_bytes = max_bytes;
    if (!path)
        return self;
    self->path = strdup(path);
    self->rotated = malloc(strlen(path) + 3);
    if (!self->path || !self->rotated)
        goto fail;
    snprintf(self->rotated, strlen(path) + 3, "%s.1", path);
    self->fd = open_append(path, &self->size);
    if (self->fd < 0)
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
    if (self->fd >= 0)
        close(self->fd);
    free(self->path);
    free(self->rotated);
    sodium_memzero(self->key, sizeof self->key);
    free(self);
    *self_p = NULL;
}

int collab_seclog_chain(collab_seclog_t *self, const uint8_t key[COLLAB_AUDIT_KEY_LEN],
                        const collab_audit_head_t *head, collab_seclog_head_fn on_line, void *arg)
{
    if (!self->path)
        return COLLAB_E_BAD_REQUEST;
    self->chained = true;
    memcpy(self->key, key, sizeof self->key);
    self->head = *head;
    self->on_line = on_line;
    self->on_line_arg = arg;
    return 0;
}

/*  Moves the full file aside (replacing the older one) and starts a new one. */
static int rotate(collab_seclog_t *self)
{
    if (self->fd >= 0)
        close(self->fd);
    int rc = rename(self->path, self->rotated) == 0 ? 0 : COLLAB_E_IO;
    self->fd = open_append(self->path, &self->size);
    return self->fd >= 0 ? rc : COLLAB_E_IO;
}

/*  An open file with room for n more bytes, rotating first when it has none. */
static int ready_file(collab_seclog_t *self, size_t n, bool *rotated)
{
    if (self->fd < 0 && (self->fd = open_append(self->path, &self->size)) < 0)
        return COLLAB_E_IO;
    if (self->max_bytes && self->size > 0 && self->size + n + 1 > self->max_bytes)
        *rotated = rotate(self) == 0; /* on failure, keep logging into whatever file is open */
    return self->fd >= 0 ? 0 : COLLAB_E_IO;
}

/*  Appends text and a newline in one write; a short write is cut back off the file. */
static int append(collab_seclog_t *self, const char *text)
{
    size_t n = strlen(text);
    struct iovec iov[2] = {{(void *)text, n}, {"\n", 1}};
    ssize_t w;
    do
        w = writev(self->fd, iov, 2);
    while (w < 0 && errno == EINTR);
    if (w != (ssize_t)(n + 1)) {
        if (w > 0 && ftruncate(self->fd, (off_t)self->size) != 0)
            self->size += (uint64_t)w; /* could not cut it: at least count it */
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

/*  Keys only the chain writes: a caller's pair may not pose as one. */
static bool reserved(const char *key)
{
    return strcmp(key, "seq") == 0 || strcmp(key, "mac") == 0 || strcmp(key, "prev_seq") == 0 ||
           strcmp(key, "prev_mac") == 0;
}

/*  The line's object with "seq" (a placeholder, chained logs only), ts, time and event. */
static cJSON *new_line(const collab_seclog_t *self, uint64_t now_ms, const char *event)
{
    char when[48];
    iso_time(now_ms, when, sizeof when);
    cJSON *obj = cJSON_CreateObject();
    if (!obj || (self->chained && !cJSON_AddNumberToObject(obj, "seq", 0)) ||
        !cJSON_AddNumberToObject(obj, "ts", (double)now_ms) ||
        !cJSON_AddStringToObject(obj, "time", when) ||
        !cJSON_AddStringToObject(obj, "event", event ? event : "unknown")) {
        cJSON_Delete(obj);
        return NULL;
    }
    return obj;
}

/*  Builds the line's object; caller's keys that repeat an earlier key are dropped. */
static cJSON *build(const collab_seclog_t *self, uint64_t now_ms, const char *event, va_list ap)
{
    cJSON *obj = new_line(self, now_ms, event);
    const char *key;
    while (obj && (key = va_arg(ap, const char *)) != NULL) {
        const char *value = va_arg(ap, const char *);
        if (!value || reserved(key) || cJSON_GetObjectItemCaseSensitive(obj, key))
            continue;
        if (!cJSON_AddStringToObject(obj, key, value)) {
            cJSON_Delete(obj);
            return NULL;
        }
    }
    return obj;
}

/*  Numbers the object as the chain's next line, seals it and appends it. */
static int write_sealed(collab_seclog_t *self, cJSON *obj)
{
    uint8_t mac[COLLAB_AUDIT_MAC_LEN];
    cJSON_SetNumberValue(cJSON_GetObjectItemCaseSensitive(obj, "seq"),
                         (double)(self->head.seq + 1));
    char *canon = cJSON_PrintUnformatted(obj);
    char *line =
        canon ? collab_audit_seal_line(self->key, self->head.mac, canon, strlen(canon), mac) : NULL;
    int rc = line ? append(self, line) : COLLAB_E_NOMEM;
    free(line);
    cJSON_free(canon);
    if (rc)
        return rc;
    self->head.seq++;
    memcpy(self->head.mac, mac, sizeof mac);
    if (self->on_line)
        self->on_line(self->on_line_arg, &self->head);
    return 0;
}

/*  The first line of a file that continues the chain: it names the previous head. */
static int write_start(collab_seclog_t *self, uint64_t now_ms, bool rotated)
{
    char hex[2 * COLLAB_AUDIT_MAC_LEN + 1];
    sodium_bin2hex(hex, sizeof hex, self->head.mac, sizeof self->head.mac);
    cJSON *obj = new_line(self, now_ms, "log_continued");
    int rc = COLLAB_E_NOMEM;
    if (obj && cJSON_AddNumberToObject(obj, "prev_seq", (double)self->head.seq) &&
        cJSON_AddStringToObject(obj, "prev_mac", hex) &&
        cJSON_AddStringToObject(obj, "reason", rotated ? "rotated" : "new_file") &&
        (!rotated || cJSON_AddStringToObject(obj, "prev_file", self->rotated)))
        rc = write_sealed(self, obj);
    cJSON_Delete(obj);
    return rc;
}

static int emit_chained(collab_seclog_t *self, uint64_t now_ms, cJSON *obj)
{
    char *probe = cJSON_PrintUnformatted(obj);
    if (!probe)
        return COLLAB_E_NOMEM;
    size_t n = strlen(probe) + COLLAB_AUDIT_MAC_SUFFIX + 24; /* the seq's digits, roughly */
    cJSON_free(probe);
    bool rotated = false;
    int rc = ready_file(self, n, &rotated);
    if (rc == 0 && self->size == 0 && self->head.seq > 0)
        rc = write_start(self, now_ms, rotated);
    return rc ? rc : write_sealed(self, obj);
}

static int emit_plain(collab_seclog_t *self, cJSON *obj)
{
    char *text = cJSON_PrintUnformatted(obj);
    bool rotated = false;
    int rc = text ? ready_file(self, strlen(text), &rotated) : COLLAB_E_NOMEM;
    if (rc == 0)
        rc = append(self, text);
    cJSON_free(text);
    return rc;
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
    cJSON *obj = build(self, now_ms, event, ap);
    va_end(ap);
    int rc = !obj            ? COLLAB_E_IO
             : self->chained ? emit_chained(self, now_ms, obj)
                             : emit_plain(self, obj);
    cJSON_Delete(obj);
    if (rc == 0)
        self->lines++;
    return rc;
}

uint64_t collab_seclog_lines(const collab_seclog_t *self)
{
    return self ? self->lines : 0;
}
