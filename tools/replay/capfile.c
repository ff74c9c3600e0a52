/*  capfile.c: the capture file reader (see capfile.h). */
#include "capfile.h"
#include "collab_hex.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#define MAX_FRAMES 64
#define INDEX_MAX  9007199254740992.0 /* 2^53 */

/*  Decodes a hex string into a new buffer. Returns it (free it) or NULL. */
static uint8_t *unhex(const char *s, size_t *len)
{
    size_t n = strlen(s);
    uint8_t *b = malloc(n / 2 + 1);
    if (b && collab_hex_decode(s, n, b, n / 2) < 0) {
        free(b);
        return NULL;
    }
    *len = n / 2;
    return b;
}

static void free_record(cap_record_t *r)
{
    for (size_t i = 0; i < r->nframes; i++)
        free(r->frames[i]);
    free(r->frames);
    free(r->lens);
}

static const char *load_frames(const cJSON *frames, cap_record_t *r)
{
    int n = cJSON_GetArraySize(frames);
    bool dropped = strcmp(r->dir, "dropped") == 0;
    if (!cJSON_IsArray(frames) || n < (dropped ? 0 : 1) || n > MAX_FRAMES)
        return "\"frames\" must be an array of 1 to 64 hex strings";
    if (n == 0)
        return NULL;
    r->frames = calloc((size_t)n, sizeof *r->frames);
    r->lens = calloc((size_t)n, sizeof *r->lens);
    if (!r->frames || !r->lens)
        return "out of memory";
    const cJSON *f;
    cJSON_ArrayForEach(f, frames)
    {
        if (!cJSON_IsString(f) ||
            !(r->frames[r->nframes] = unhex(f->valuestring, &r->lens[r->nframes])))
            return "a frame is not a hex string";
        r->nframes++;
    }
    return NULL;
}

static void hash_span(crypto_generichash_state *h, const void *p, size_t n)
{
    uint64_t len = n;
    crypto_generichash_update(h, (const unsigned char *)&len, sizeof len);
    if (n)
        crypto_generichash_update(h, p, n);
}

/*  r->ident: a request is itself whatever its action says (the weak signature scope leaves
    the action out, so collab-replay --set-action sends the same request under another
    name); anything else is its bytes. */
static void identify(cap_record_t *r)
{
    crypto_generichash_state h;
    collab_envelope_t e;
    crypto_generichash_init(&h, NULL, 0, sizeof r->ident);
    hash_span(&h, r->dir, strlen(r->dir));
    for (size_t i = 0; i < r->nframes; i++) {
        if (r->lens[i] && collab_envelope_decode(r->frames[i], r->lens[i], &e) == 0 &&
            e.kind == COLLAB_KIND_REQUEST) {
            uint64_t nums[3] = {e.version, e.request_id, (uint64_t)e.timestamp};
            crypto_generichash_update(&h, (const unsigned char *)nums, sizeof nums);
            hash_span(&h, e.agent_id.ptr, e.agent_id.len);
            hash_span(&h, e.session_id.ptr, e.session_id.len);
            hash_span(&h, e.nonce.ptr, e.nonce.len);
            hash_span(&h, e.payload.ptr, e.payload.len);
            hash_span(&h, e.signature.ptr, e.signature.len);
        } else {
            hash_span(&h, r->frames[i], r->lens[i]);
        }
    }
    crypto_generichash_final(&h, r->ident, sizeof r->ident);
}

/*  Fills *r from one JSON line; returns NULL or the reason it is refused. */
static const char *parse_record(const char *line, cap_record_t *r)
{
    cJSON *o = cJSON_Parse(line);
    const char *why = NULL;
    memset(r, 0, sizeof *r);
    if (!o || !cJSON_IsObject(o)) {
        cJSON_Delete(o);
        return "not a JSON object";
    }
    const cJSON *idx = cJSON_GetObjectItemCaseSensitive(o, "index");
    const cJSON *dir = cJSON_GetObjectItemCaseSensitive(o, "dir");
    const cJSON *act = cJSON_GetObjectItemCaseSensitive(o, "action");
    /* an index is a whole number collab-sniff counted up to: 1 to 2^53, where a double
       still holds every integer (and converting it is defined) */
    if (!cJSON_IsNumber(idx) || !(idx->valuedouble >= 1 && idx->valuedouble <= INDEX_MAX) ||
        (double)(uint64_t)idx->valuedouble != idx->valuedouble || !cJSON_IsString(dir))
        why = "\"index\" (a whole number from 1) and \"dir\" are required";
    if (!why) {
        snprintf(r->dir, sizeof r->dir, "%s", dir->valuestring);
        why = load_frames(cJSON_GetObjectItemCaseSensitive(o, "frames"), r);
    }
    if (!why) {
        r->index = (uint64_t)idx->valuedouble;
        if (cJSON_IsString(act))
            snprintf(r->action, sizeof r->action, "%s", act->valuestring);
        identify(r);
    }
    cJSON_Delete(o);
    return why;
}

static int append(capfile_t *cf, const cap_record_t *r)
{
    if ((cf->count & (cf->count - 1)) == 0) { /* grow at powers of two */
        cap_record_t *recs = realloc(cf->recs, (cf->count ? 2 * cf->count : 1) * sizeof *recs);
        if (!recs)
            return -1;
        cf->recs = recs;
    }
    cf->recs[cf->count++] = *r;
    return 0;
}

int capfile_parse(const char *buf, size_t len, const char *name, capfile_t *cf, char *err,
                  size_t errlen)
{
    char *line = NULL;
    size_t cap = 0, lineno = 0, off = 0;
    int rc = 0;
    memset(cf, 0, sizeof *cf);
    while (rc == 0 && off < len) {
        const char *nl = memchr(buf + off, '\n', len - off);
        size_t n = nl ? (size_t)(nl - (buf + off)) + 1 : len - off;
        cap_record_t r;
        const char *why = NULL;
        lineno++;
        if (n + 1 > cap) { /* the line as getline would give it: NUL-terminated */
            char *p = realloc(line, n + 1);
            if (!p) {
                snprintf(err, errlen, "%s:%zu: out of memory", name, lineno);
                rc = -1;
                break;
            }
            line = p;
            cap = n + 1;
        }
        memcpy(line, buf + off, n);
        line[n] = '\0';
        off += n;
        if (line[strspn(line, " \t\r\n")] == '\0')
            continue;
        why = parse_record(line, &r);
        if (!why && append(cf, &r) != 0)
            why = "out of memory";
        if (why) {
            free_record(&r);
            snprintf(err, errlen, "%s:%zu: %s", name, lineno, why);
            rc = -1;
        }
    }
    free(line);
    if (rc)
        capfile_free(cf);
    return rc;
}

int capfile_load(const char *path, capfile_t *cf, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int rc = 0;
    memset(cf, 0, sizeof *cf);
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    for (;;) { /* the whole file, however large: its records are all held anyway */
        if (cap - len < 4096) {
            char *p = cap <= SIZE_MAX / 2 ? realloc(buf, cap ? 2 * cap : 65536) : NULL;
            if (!p) {
                snprintf(err, errlen, "%s: out of memory", path);
                rc = -1;
                break;
            }
            buf = p;
            cap = cap ? 2 * cap : 65536;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) {
            if (ferror(f)) {
                snprintf(err, errlen, "%s: read error", path);
                rc = -1;
            }
            break;
        }
    }
    fclose(f);
    if (rc == 0)
        rc = capfile_parse(buf, len, path, cf, err, errlen);
    free(buf);
    return rc;
}

const cap_record_t *capfile_find(const capfile_t *cf, uint64_t index)
{
    for (size_t i = 0; i < cf->count; i++)
        if (cf->recs[i].index == index)
            return &cf->recs[i];
    return NULL;
}

const cap_record_t *capfile_repeat_of(const capfile_t *cf, const cap_record_t *r)
{
    if (r->nframes == 0)
        return NULL; /* dropped: nothing to compare */
    for (const cap_record_t *e = cf->recs; e < r; e++)
        if (e->nframes && memcmp(e->ident, r->ident, sizeof r->ident) == 0)
            return e;
    return NULL;
}

bool capfile_being_written(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    bool busy = fd >= 0 && flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    if (fd >= 0)
        close(fd);
    return busy;
}

void capfile_free(capfile_t *cf)
{
    for (size_t i = 0; i < cf->count; i++)
        free_record(&cf->recs[i]);
    free(cf->recs);
    cf->recs = NULL;
    cf->count = 0;
}
