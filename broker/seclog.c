/*  seclog.c: the security log (see seclog.h). One JSON object per line, each written with
    one writev(2) on an O_APPEND descriptor (the log is low-volume; a short write is cut
    back so no partial line stays), rotated to PATH.1 when the next line would pass
    max_bytes. Chained lines (audit.h) start with "seq" and end with "mac". Refusals go
    through a fixed table of (peer, event) slots first (see seclog.h): each slot allows a
    few full lines per window and counts the rest until its aggregate line is written. */
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

#define OVERFLOW_SLOTS 32 /* peer "*", one per event, when the table is full */
#define EVENT_MAX      40
#define TICK_MS        250

/*  One (peer, event): its allowance of full lines per window, and what it counted. */
typedef struct {
    bool used;
    uint64_t hash;
    char peer[64];
    char event[EVENT_MAX];
    uint32_t allowance;    /* full lines per window */
    uint64_t window_ms;    /* 1 s for refusals, 1 min for failed logins */
    uint64_t window_start; /* of the current window */
    uint32_t written;      /* full lines in the current window */
    uint64_t pending;      /* counted, not written yet */
    uint64_t first, last;  /* times of the first and last pending */
} agg_slot_t;

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
    /* aggregation of refusals (every profile) */
    uint32_t failed_login_lines;
    uint64_t last_now, last_tick;
    uint64_t cap_second; /* the second cap_used counts in */
    uint32_t cap_used;   /* refusal lines written in it */
    uint64_t aggregated;
    size_t cursor; /* where the next tick starts, so a capped flush is fair */
    agg_slot_t slots[COLLAB_SECLOG_AGG_SLOTS];
    agg_slot_t overflow[OVERFLOW_SLOTS];
    agg_slot_t catchall; /* ("*", "*") when even the overflow is full */
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
    self->failed_login_lines = COLLAB_SECLOG_FAILED_LOGINS_DEFAULT;
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
    self->on_line = NULL; /* its owner may be half gone: the lines go beyond its head */
    collab_seclog_flush(self, self->last_now);
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

/*  Builds and writes one line from the pairs in ap. */
static int write_line(collab_seclog_t *self, uint64_t now_ms, const char *event, va_list ap)
{
    cJSON *obj = build(self, now_ms, event, ap);
    int rc = !obj            ? COLLAB_E_IO
             : self->chained ? emit_chained(self, now_ms, obj)
                             : emit_plain(self, obj);
    cJSON_Delete(obj);
    if (rc == 0)
        self->lines++;
    return rc;
}

static int write_pairs(collab_seclog_t *self, uint64_t now_ms, const char *event, ...)
{
    va_list ap;
    va_start(ap, event);
    int rc = write_line(self, now_ms, event, ap);
    va_end(ap);
    return rc;
}

/* ---- aggregation ---- */

static const char *const refusals[] = {
    "request_refused",        "rate_limited",          "replay",
    "binding_violation",      "peer_mismatch_warning", "login_locked_out",
    "change_password_failed",
};

int collab_seclog_is_refusal(const char *event)
{
    for (size_t i = 0; event && i < sizeof refusals / sizeof refusals[0]; i++)
        if (strcmp(event, refusals[i]) == 0)
            return 1;
    return 0;
}

void collab_seclog_set_failed_login_lines(collab_seclog_t *self, uint32_t per_minute)
{
    if (self)
        self->failed_login_lines = per_minute;
}

uint64_t collab_seclog_aggregated(const collab_seclog_t *self)
{
    return self ? self->aggregated : 0;
}

/*  Time since then; a clock that went back counts as a long time (windows end). */
static uint64_t since(uint64_t now, uint64_t then)
{
    return now >= then ? now - then : UINT64_MAX;
}

/*  FNV-1a over peer, a separator and event. */
static uint64_t key_hash(const char *peer, const char *event)
{
    uint64_t h = 1469598103934665603ULL;
    for (const char *p = peer; *p; p++)
        h = (h ^ (uint8_t)*p) * 1099511628211ULL;
    h = (h ^ 0xffu) * 1099511628211ULL;
    for (const char *p = event; *p; p++)
        h = (h ^ (uint8_t)*p) * 1099511628211ULL;
    return h;
}

static bool same_key(const agg_slot_t *a, uint64_t h, const char *peer, const char *event)
{
    return a->used && a->hash == h && strncmp(a->peer, peer, sizeof a->peer - 1) == 0 &&
           strncmp(a->event, event, sizeof a->event - 1) == 0;
}

/*  A slot that counts nothing and whose window is over holds nothing worth keeping. */
static bool reclaimable(const agg_slot_t *a, uint64_t now)
{
    return !a->used || (a->pending == 0 && since(now, a->window_start) >= a->window_ms);
}

static void take(collab_seclog_t *self, agg_slot_t *a, uint64_t h, const char *peer,
                 const char *event, uint64_t now)
{
    bool login = strcmp(event, "login_failed") == 0;
    memset(a, 0, sizeof *a);
    a->used = true;
    a->hash = h;
    snprintf(a->peer, sizeof a->peer, "%s", peer);
    snprintf(a->event, sizeof a->event, "%s", event);
    a->allowance = login ? self->failed_login_lines : 1;
    a->window_ms = login ? 60000 : COLLAB_SECLOG_AGG_INTERVAL_MS;
    a->window_start = now;
}

/*  The (peer, event)'s slot in table, found or taken; NULL when the table is full. Probed
    from the key's home (its hash) up to the first unused slot: the tick rebuilds a table
    whose slots it frees (rehash), so no live key lies beyond an unused slot, and a flood
    of refusals costs a probe or two each, not a scan of the table. An absent key takes the
    first unused or reclaimable slot on its way. */
static agg_slot_t *lookup(collab_seclog_t *self, agg_slot_t *table, size_t n, const char *peer,
                          const char *event, uint64_t now)
{
    uint64_t h = key_hash(peer, event);
    agg_slot_t *spare = NULL;
    for (size_t k = 0; k < n; k++) {
        agg_slot_t *a = &table[(h + k) % n];
        if (!a->used) {
            spare = spare ? spare : a;
            break;
        }
        if (same_key(a, h, peer, event))
            return a;
        if (!spare && reclaimable(a, now))
            spare = a;
    }
    if (spare)
        take(self, spare, h, peer, event, now);
    return spare;
}

/*  Puts every used slot of table back at its first free place from its home, so that
    lookup's probe, which stops at an unused slot, reaches each of them again. */
static void rehash(agg_slot_t *table, size_t n)
{
    agg_slot_t old[COLLAB_SECLOG_AGG_SLOTS];
    memcpy(old, table, n * sizeof *table);
    memset(table, 0, n * sizeof *table);
    for (size_t i = 0; i < n; i++) {
        if (!old[i].used)
            continue;
        size_t at = old[i].hash % n;
        while (table[at].used)
            at = (at + 1) % n;
        table[at] = old[i];
    }
}

static agg_slot_t *slot_for(collab_seclog_t *self, const char *peer, const char *event,
                            uint64_t now)
{
    agg_slot_t *a = lookup(self, self->slots, COLLAB_SECLOG_AGG_SLOTS, peer, event, now);
    if (!a)
        a = lookup(self, self->overflow, OVERFLOW_SLOTS, "*", event, now);
    if (!a) {
        a = &self->catchall;
        if (!a->used)
            take(self, a, key_hash("*", "*"), "*", "*", now);
    }
    return a;
}

/*  Whether one more refusal line fits in this second's cap: full lines get half of it,
    aggregates the rest, so that a flood of new refusals cannot hold the counts back. */
static bool cap_allows(collab_seclog_t *self, uint64_t now, bool full)
{
    if (now / 1000 != self->cap_second) {
        self->cap_second = now / 1000;
        self->cap_used = 0;
    }
    uint32_t cap = full ? COLLAB_SECLOG_REFUSAL_LINES_PER_S / 2 : COLLAB_SECLOG_REFUSAL_LINES_PER_S;
    return self->cap_used < cap;
}

/*  Writes the slot's count as one line and clears it. */
static int write_aggregate(collab_seclog_t *self, agg_slot_t *a, uint64_t now)
{
    char count[24], from[48], to[48], interval[24];
    snprintf(count, sizeof count, "%llu", (unsigned long long)a->pending);
    snprintf(interval, sizeof interval, "%u", (unsigned)COLLAB_SECLOG_AGG_INTERVAL_MS);
    iso_time(a->first, from, sizeof from);
    iso_time(a->last, to, sizeof to);
    int rc =
        write_pairs(self, now, "refusals_aggregated", "peer", a->peer, "aggregated_event", a->event,
                    "count", count, "from", from, "to", to, "interval_ms", interval, NULL);
    if (rc == 0)
        a->pending = 0;
    return rc;
}

/*  The slot's count, when its interval is over (or force) and the cap allows. Returns
    false when the cap held it back. */
static bool flush_slot(collab_seclog_t *self, agg_slot_t *a, uint64_t now, bool force)
{
    if (!a->used || a->pending == 0)
        return true;
    if (!force && since(now, a->first) < COLLAB_SECLOG_AGG_INTERVAL_MS)
        return true;
    if (!force && !cap_allows(self, now, false))
        return false;
    if (write_aggregate(self, a, now) == 0 && !force)
        self->cap_used++;
    return true;
}

/*  Flushes and frees slots in turn from the cursor; where the cap stops it, the next run
    starts, so that under a lasting flood every count gets its line in turn. A table that
    lost slots is rehashed. */
static void each_slot(collab_seclog_t *self, uint64_t now, bool force)
{
    const size_t n = COLLAB_SECLOG_AGG_SLOTS + OVERFLOW_SLOTS + 1;
    unsigned freed = 0; /* 1: a slot of the table, 2: of the overflow */
    for (size_t k = 0; k < n; k++) {
        size_t i = (self->cursor + k) % n;
        agg_slot_t *a = i < COLLAB_SECLOG_AGG_SLOTS ? &self->slots[i]
                        : i < n - 1                 ? &self->overflow[i - COLLAB_SECLOG_AGG_SLOTS]
                                                    : &self->catchall;
        if (!flush_slot(self, a, now, force)) {
            self->cursor = i;
            break;
        }
        if (a->used && reclaimable(a, now)) {
            a->used = false;
            freed |= i < COLLAB_SECLOG_AGG_SLOTS ? 1 : 2;
        }
    }
    if (freed & 1)
        rehash(self->slots, COLLAB_SECLOG_AGG_SLOTS);
    if (freed & 2)
        rehash(self->overflow, OVERFLOW_SLOTS);
}

void collab_seclog_tick(collab_seclog_t *self, uint64_t now_ms)
{
    if (!self || !self->path || since(now_ms, self->last_tick) < TICK_MS)
        return;
    self->last_tick = now_ms;
    if (now_ms > self->last_now)
        self->last_now = now_ms;
    each_slot(self, now_ms, false);
}

void collab_seclog_flush(collab_seclog_t *self, uint64_t now_ms)
{
    if (self && self->path)
        each_slot(self, now_ms, true);
}

/*  The first "peer" the pairs give (as build() keeps it), or "". */
static const char *find_peer(va_list ap)
{
    va_list cp;
    va_copy(cp, ap);
    const char *key, *peer = "";
    while ((key = va_arg(cp, const char *)) != NULL) {
        const char *value = va_arg(cp, const char *);
        if (value && strcmp(key, "peer") == 0) {
            peer = value;
            break;
        }
    }
    va_end(cp);
    return peer;
}

/*  Whether this refusal is written in full (true) or counted into its slot. */
static bool admit_refusal(collab_seclog_t *self, const char *event, const char *peer, uint64_t now)
{
    agg_slot_t *a = slot_for(self, peer, event, now);
    if (a->pending && since(now, a->first) >= COLLAB_SECLOG_AGG_INTERVAL_MS)
        flush_slot(self, a, now, false); /* its interval is over: the count goes first */
    if (since(now, a->window_start) >= a->window_ms) {
        a->window_start = now;
        a->written = 0;
    }
    if (a->written < a->allowance && cap_allows(self, now, true)) {
        a->written++;
        self->cap_used++;
        return true;
    }
    if (a->pending++ == 0)
        a->first = now;
    a->last = now;
    self->aggregated++;
    return false;
}

int collab_seclog_emit(collab_seclog_t *self, uint64_t now_ms, const char *event, ...)
{
    if (!self)
        return 0; /* like a discarding log */
    if (!self->path) {
        self->lines++;
        return 0;
    }
    if (now_ms > self->last_now)
        self->last_now = now_ms;
    va_list ap;
    va_start(ap, event);
    int rc = 0;
    bool counted = event &&
                   (collab_seclog_is_refusal(event) || strcmp(event, "login_failed") == 0) &&
                   !admit_refusal(self, event, find_peer(ap), now_ms);
    if (!counted)
        rc = write_line(self, now_ms, event, ap);
    va_end(ap);
    return rc;
}

uint64_t collab_seclog_lines(const collab_seclog_t *self)
{
    return self ? self->lines : 0;
}
