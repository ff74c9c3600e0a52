/*  audit.c: the security log's HMAC chain (see audit.h): sealing a line, the head's file,
    and verifying files of lines against the key and, optionally, the head. */
#include "audit.h"

#include "collab_error.h"
#include "collab_hex.h"

#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define AUDIT_MAC_KEY  ",\"mac\":\""
#define AUDIT_LINE_MAX (1u << 20)         /* a longer line is not one the broker wrote */
#define AUDIT_SEQ_MAX  9007199254740992.0 /* 2^53: exact in a JSON number */

void collab_audit_head_format(const collab_audit_head_t *head, char *out, size_t cap)
{
    char hex[2 * COLLAB_AUDIT_MAC_LEN + 1];
    sodium_bin2hex(hex, sizeof hex, head->mac, sizeof head->mac);
    snprintf(out, cap, "%" PRIu64 ":%s", head->seq, hex);
}

static int hex_mac(const char *hex, size_t len, uint8_t mac[COLLAB_AUDIT_MAC_LEN])
{
    if (len != 2 * COLLAB_AUDIT_MAC_LEN ||
        collab_hex_decode(hex, len, mac, COLLAB_AUDIT_MAC_LEN) != COLLAB_AUDIT_MAC_LEN)
        return COLLAB_E_MALFORMED;
    return 0;
}

int collab_audit_head_parse(const char *text, size_t len, collab_audit_head_t *head)
{
    const char *colon = memchr(text, ':', len);
    uint64_t seq = 0;
    if (!colon || colon == text || colon - text > 20)
        return COLLAB_E_MALFORMED;
    for (const char *p = text; p < colon; p++) {
        uint64_t d = (uint64_t)(*p - '0');
        if (*p < '0' || *p > '9' || seq > (UINT64_MAX - d) / 10)
            return COLLAB_E_MALFORMED;
        seq = seq * 10 + d;
    }
    if (hex_mac(colon + 1, len - (size_t)(colon + 1 - text), head->mac) != 0)
        return COLLAB_E_MALFORMED;
    head->seq = seq;
    return 0;
}

int collab_audit_head_save(const char *path, const collab_audit_head_t *head)
{
    char tmp[4200], text[COLLAB_AUDIT_HEAD_TEXT + 1];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return COLLAB_E_IO;
    collab_audit_head_format(head, text, sizeof text - 1);
    size_t len = strlen(text);
    text[len++] = '\n';
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    bool ok = fd >= 0 && write(fd, text, len) == (ssize_t)len;
    ok = fd >= 0 && close(fd) == 0 && ok;
    if (ok && rename(tmp, path) == 0)
        return 0;
    unlink(tmp);
    return COLLAB_E_IO;
}

int collab_audit_head_load(const char *path, collab_audit_head_t *head)
{
    char text[COLLAB_AUDIT_HEAD_TEXT + 2];
    FILE *f = fopen(path, "rb");
    if (!f)
        return errno == ENOENT ? COLLAB_E_NOT_FOUND : COLLAB_E_IO;
    size_t n = fread(text, 1, sizeof text, f);
    fclose(f);
    if (n == 0 || n == sizeof text || text[n - 1] != '\n')
        return COLLAB_E_MALFORMED;
    return collab_audit_head_parse(text, n - 1, head);
}

void collab_audit_mac(const uint8_t key[COLLAB_AUDIT_KEY_LEN],
                      const uint8_t prev[COLLAB_AUDIT_MAC_LEN], const char *canon, size_t len,
                      uint8_t mac[COLLAB_AUDIT_MAC_LEN])
{
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, key, COLLAB_AUDIT_KEY_LEN);
    crypto_auth_hmacsha256_update(&st, prev, COLLAB_AUDIT_MAC_LEN);
    crypto_auth_hmacsha256_update(&st, (const uint8_t *)canon, len);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_memzero(&st, sizeof st);
}

char *collab_audit_seal_line(const uint8_t key[COLLAB_AUDIT_KEY_LEN],
                             const uint8_t prev[COLLAB_AUDIT_MAC_LEN], const char *canon,
                             size_t len, uint8_t mac[COLLAB_AUDIT_MAC_LEN])
{
    if (len < 3 || canon[0] != '{' || canon[len - 1] != '}')
        return NULL;
    char *line = malloc(len + COLLAB_AUDIT_MAC_SUFFIX + 1);
    if (!line)
        return NULL;
    collab_audit_mac(key, prev, canon, len, mac);
    size_t n = len - 1, k = strlen(AUDIT_MAC_KEY);
    memcpy(line, canon, n);
    memcpy(line + n, AUDIT_MAC_KEY, k);
    sodium_bin2hex(line + n + k, 2 * COLLAB_AUDIT_MAC_LEN + 1, mac, COLLAB_AUDIT_MAC_LEN);
    memcpy(line + n + k + 2 * COLLAB_AUDIT_MAC_LEN, "\"}", 3);
    return line;
}

const char *collab_audit_status_name(collab_audit_status_t st)
{
    static const char *const names[] = {"ok",      "altered",   "missing",  "malformed",
                                        "partial", "truncated", "not_head", "io"};
    return (unsigned)st < sizeof names / sizeof names[0] ? names[st] : "unknown";
}

/* ---------------------------------------------------------------------------------------
   Verification */

typedef struct {
    const uint8_t *key;
    const collab_audit_head_t *head; /* NULL or seq 0: none */
    collab_audit_report_t *rep;
    bool started; /* a line has verified: rep->last is the chain so far */
    const char *file;
    const char *prev_file;
    uint64_t line;
} verifier_t;

/*  One parsed line: its seq, and the previous head it names when it starts a file. */
typedef struct {
    uint64_t seq;
    bool has_prev;
    uint64_t prev_seq;
    uint8_t prev_mac[COLLAB_AUDIT_MAC_LEN];
    uint8_t mac[COLLAB_AUDIT_MAC_LEN];
    size_t canon_len; /* the line's bytes before ,"mac": (the '}' is added back) */
} parsed_t;

__attribute__((format(printf, 3, 4))) static bool failed(verifier_t *v, collab_audit_status_t st,
                                                         const char *fmt, ...)
{
    collab_audit_report_t *r = v->rep;
    r->status = st;
    r->file = v->file;
    r->line = v->line;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->detail, sizeof r->detail, fmt, ap);
    va_end(ap);
    return false;
}

static bool json_u64(const cJSON *obj, const char *key, uint64_t *out)
{
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsNumber(n) || n->valuedouble < 0 || n->valuedouble > AUDIT_SEQ_MAX ||
        n->valuedouble != (double)(uint64_t)n->valuedouble)
        return false;
    *out = (uint64_t)n->valuedouble;
    return true;
}

/*  Splits a line into its canonical part and mac, and reads seq and prev_*. */
static bool parse_line(const char *text, size_t len, parsed_t *p)
{
    size_t k = strlen(AUDIT_MAC_KEY), tail = k + 2 * COLLAB_AUDIT_MAC_LEN + 2;
    memset(p, 0, sizeof *p);
    if (len < tail + 2 || text[0] != '{' || memcmp(text + len - 2, "\"}", 2) != 0 ||
        memcmp(text + len - tail, AUDIT_MAC_KEY, k) != 0 ||
        hex_mac(text + len - tail + k, 2 * COLLAB_AUDIT_MAC_LEN, p->mac) != 0)
        return false;
    p->canon_len = len - tail;
    cJSON *obj = cJSON_ParseWithLength(text, len);
    bool ok = cJSON_IsObject(obj) && json_u64(obj, "seq", &p->seq) && p->seq > 0;
    const cJSON *pm = cJSON_GetObjectItemCaseSensitive(obj, "prev_mac");
    if (ok && pm) {
        p->has_prev = cJSON_IsString(pm) && json_u64(obj, "prev_seq", &p->prev_seq) &&
                      p->prev_seq + 1 == p->seq &&
                      hex_mac(pm->valuestring, strlen(pm->valuestring), p->prev_mac) == 0;
        ok = p->has_prev;
    }
    cJSON_Delete(obj);
    return ok;
}

/*  The mac that the line must chain from, and the seq it must carry. */
static bool anchor(verifier_t *v, const parsed_t *p, bool first_in_file, uint8_t *prev,
                   uint64_t *expected)
{
    collab_audit_report_t *r = v->rep;
    if (!v->started) {
        *expected = p->has_prev ? p->seq : 1;
        if (p->has_prev)
            memcpy(prev, p->prev_mac, COLLAB_AUDIT_MAC_LEN);
        else
            memset(prev, 0, COLLAB_AUDIT_MAC_LEN);
        r->continued = p->has_prev;
        return true;
    }
    *expected = r->last.seq + 1;
    memcpy(prev, r->last.mac, COLLAB_AUDIT_MAC_LEN);
    if (first_in_file && !(p->has_prev && p->prev_seq == r->last.seq &&
                           sodium_memcmp(p->prev_mac, r->last.mac, COLLAB_AUDIT_MAC_LEN) == 0))
        return failed(v, p->seq > *expected ? COLLAB_AUDIT_MISSING : COLLAB_AUDIT_ALTERED,
                      "%s line 1 (seq %" PRIu64 ") does not continue %s, which ends at seq %" PRIu64
                      ": lines missing or a file replaced between them",
                      v->file, p->seq, v->prev_file, r->last.seq);
    return true;
}

/*  The state's head, where the chain reaches its seq (or names it as its start). */
static bool check_head(verifier_t *v, uint64_t seq, const uint8_t *mac)
{
    if (!v->head || v->head->seq == 0 || seq != v->head->seq)
        return true;
    if (sodium_memcmp(mac, v->head->mac, COLLAB_AUDIT_MAC_LEN) == 0) {
        v->rep->head_matched = true;
        return true;
    }
    return failed(v, COLLAB_AUDIT_NOT_HEAD,
                  "%s line %" PRIu64 " (seq %" PRIu64 ") is not the line the state's head names "
                  "(another mac): the log was rewritten or replaced",
                  v->file, v->line, seq);
}

static bool check_line(verifier_t *v, const char *text, size_t len, bool first_in_file)
{
    collab_audit_report_t *r = v->rep;
    parsed_t p;
    uint8_t prev[COLLAB_AUDIT_MAC_LEN], mac[COLLAB_AUDIT_MAC_LEN];
    uint64_t expected = 0;
    if (!parse_line(text, len, &p))
        return failed(v, COLLAB_AUDIT_MALFORMED,
                      "%s line %" PRIu64 ": not a chained line (no seq or mac, or not JSON)",
                      v->file, v->line);
    r->seq = p.seq;
    if (!anchor(v, &p, first_in_file, prev, &expected))
        return false;
    r->expected = expected;
    if (p.seq > expected)
        return failed(v, COLLAB_AUDIT_MISSING,
                      "%s line %" PRIu64 " (seq %" PRIu64 "): lines missing before it (seq %" PRIu64
                      " to %" PRIu64 ")",
                      v->file, v->line, p.seq, expected, p.seq - 1);
    /* the canonical text ends with the object's '}', which the line shares with its mac */
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, v->key, COLLAB_AUDIT_KEY_LEN);
    crypto_auth_hmacsha256_update(&st, prev, COLLAB_AUDIT_MAC_LEN);
    crypto_auth_hmacsha256_update(&st, (const uint8_t *)text, p.canon_len);
    crypto_auth_hmacsha256_update(&st, (const uint8_t *)"}", 1);
    crypto_auth_hmacsha256_final(&st, mac);
    sodium_memzero(&st, sizeof st);
    if (p.seq < expected || sodium_memcmp(mac, p.mac, sizeof mac) != 0)
        return failed(v, COLLAB_AUDIT_ALTERED,
                      "%s line %" PRIu64 " (seq %" PRIu64 "): altered: its mac does not verify",
                      v->file, v->line, p.seq);
    if (!v->started && p.has_prev && !check_head(v, p.prev_seq, p.prev_mac))
        return false;
    if (!check_head(v, p.seq, p.mac))
        return false;
    if (!v->started)
        r->first_seq = p.seq;
    v->started = true;
    r->last.seq = p.seq;
    memcpy(r->last.mac, p.mac, sizeof p.mac);
    r->lines++;
    return true;
}

/*  One raw line of n > 0 bytes (its '\n' included when it has one) at offset in the file;
    false at a failure. */
static bool verify_raw_line(verifier_t *v, const char *buf, size_t n, uint64_t offset,
                            bool last_file)
{
    v->line++;
    bool newline = buf[n - 1] == '\n';
    size_t len = n - newline;
    if (!newline) {
        v->rep->partial_offset = offset;
        return failed(v, last_file ? COLLAB_AUDIT_PARTIAL : COLLAB_AUDIT_MALFORMED,
                      "%s line %" PRIu64 ": partial last line (no newline): a torn write or a cut",
                      v->file, v->line);
    }
    if (len > AUDIT_LINE_MAX)
        return failed(v, COLLAB_AUDIT_MALFORMED, "%s line %" PRIu64 ": longer than 1 MiB", v->file,
                      v->line);
    return check_line(v, buf, len, v->line == 1);
}

/*  Reads one file line by line; false at the first failure. */
static bool verify_file(verifier_t *v, const char *path, bool last_file)
{
    FILE *f = fopen(path, "rb");
    v->file = path;
    v->line = 0;
    if (!f)
        return failed(v, COLLAB_AUDIT_IO, "%s: %s", path, strerror(errno));
    char *buf = NULL;
    size_t cap = 0;
    uint64_t offset = 0;
    ssize_t n;
    bool ok = true;
    while (ok && (n = getline(&buf, &cap, f)) > 0) {
        ok = verify_raw_line(v, buf, (size_t)n, offset, last_file);
        offset += (uint64_t)n;
    }
    if (ok && ferror(f))
        ok = failed(v, COLLAB_AUDIT_IO, "%s: read error", path);
    free(buf);
    fclose(f);
    return ok;
}

/*  The same for a file's bytes in memory. */
static bool verify_text(verifier_t *v, const char *name, const char *text, size_t len,
                        bool last_file)
{
    v->file = name;
    v->line = 0;
    bool ok = true;
    for (size_t at = 0; ok && at < len;) {
        const char *nl = memchr(text + at, '\n', len - at);
        size_t n = nl ? (size_t)(nl - (text + at)) + 1 : len - at;
        ok = verify_raw_line(v, text + at, n, at, last_file);
        at += n;
    }
    return ok;
}

/*  After the last line: does the log reach the state's head? */
static void check_tail(verifier_t *v)
{
    collab_audit_report_t *r = v->rep;
    if (!v->head || v->head->seq == 0 || r->head_matched)
        return;
    if (r->lines > 0 && r->first_seq > v->head->seq) {
        snprintf(r->detail, sizeof r->detail,
                 "the state's head (seq %" PRIu64 ") is in an earlier file than those given",
                 v->head->seq);
        return;
    }
    r->status = COLLAB_AUDIT_TRUNCATED;
    r->seq = r->last.seq;
    r->expected = v->head->seq;
    if (r->lines == 0)
        snprintf(r->detail, sizeof r->detail,
                 "tail cut: the log is empty but the state's head is seq %" PRIu64, v->head->seq);
    else
        snprintf(r->detail, sizeof r->detail,
                 "tail cut: the log ends at seq %" PRIu64 " (%s line %" PRIu64
                 ") but the state's head is seq %" PRIu64 ": %" PRIu64 " line(s) missing",
                 r->last.seq, v->file, v->line, v->head->seq, v->head->seq - r->last.seq);
}

/*  Verifies n files, from paths (texts NULL) or from memory; the common ending. */
static collab_audit_status_t verify_all(const uint8_t *key, const char *const *names,
                                        const char *const *texts, const size_t *lens, size_t n,
                                        const collab_audit_head_t *head, collab_audit_report_t *rep)
{
    verifier_t v = {.key = key, .head = head, .rep = rep};
    memset(rep, 0, sizeof *rep);
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++) {
        ok = texts ? verify_text(&v, names[i], texts[i], lens[i], i + 1 == n)
                   : verify_file(&v, names[i], i + 1 == n);
        v.prev_file = names[i];
    }
    if (ok)
        check_tail(&v);
    if (rep->status == COLLAB_AUDIT_OK && rep->detail[0] == '\0')
        snprintf(rep->detail, sizeof rep->detail, "%" PRIu64 " line(s) verified", rep->lines);
    return rep->status;
}

collab_audit_status_t collab_audit_verify(const uint8_t key[COLLAB_AUDIT_KEY_LEN],
                                          const char *const *paths, size_t n,
                                          const collab_audit_head_t *head,
                                          collab_audit_report_t *rep)
{
    return verify_all(key, paths, NULL, NULL, n, head, rep);
}

collab_audit_status_t collab_audit_verify_texts(const uint8_t key[COLLAB_AUDIT_KEY_LEN],
                                                const char *const *names, const char *const *texts,
                                                const size_t *lens, size_t n,
                                                const collab_audit_head_t *head,
                                                collab_audit_report_t *rep)
{
    return verify_all(key, names, texts, lens, n, head, rep);
}
