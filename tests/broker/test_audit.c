/*  test_audit.c: the chained security log: lines written by the seclog under a key verify,
    with their seq and the head reported to the caller; an altered line, a deleted line, a
    reordered pair, a line without mac, a cut tail (seen only against the head), a partial
    last line, the wrong key, and the head of another chain are each named by file, line and
    seq; rotation keeps the chain verifiable across files, each file on its own and the pair
    joined; a new file continues from a given head. */
#include "audit.h"
#include "seclog.h"
#include "testutil.h"

#include <cJSON.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/test_audit.XXXXXX";
static const uint8_t KEY[32] = "0123456789abcdef0123456789abcde";

static const char *tmp_path(const char *name)
{
    static char path[4][600];
    static int next;
    char *p = path[next++ % 4];
    snprintf(p, sizeof path[0], "%s/%s", tmpdir, name);
    return p;
}

/*  The heads the seclog reported: the last, and every one by seq. */
static collab_audit_head_t last_head, heads[64];
static int heads_seen;

static void on_line(void *arg, const collab_audit_head_t *h)
{
    (void)arg;
    last_head = *h;
    if (h->seq >= 1 && h->seq <= 64)
        heads[h->seq - 1] = *h;
    heads_seen++;
}

/*  Writes n chained events into path (a fresh chain), with a rotation limit. */
static void write_chain(const char *path, int n, uint64_t max_bytes)
{
    char err[256], who[32];
    collab_audit_head_t zero = {0};
    unlink(path);
    collab_seclog_t *log = collab_seclog_open(path, max_bytes, err, sizeof err);
    if (!CHECK(log != NULL))
        return;
    CHECK_OK(collab_seclog_chain(log, KEY, &zero, on_line, NULL));
    for (int i = 0; i < n; i++) {
        snprintf(who, sizeof who, "worker%d", i % 7);
        CHECK_OK(collab_seclog_emit(log, 1714566896789ULL + (uint64_t)i, "login_failed", "agent_id",
                                    who, "peer", "127.0.0.2", "seq", "999", "mac", "forged", NULL));
    }
    collab_seclog_destroy(&log);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = calloc(1, 1 << 20);
    size_t n = f && buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
    if (f)
        fclose(f);
    if (len)
        *len = n;
    return buf;
}

static void spit(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "wb");
    CHECK(f && fwrite(text, 1, len, f) == len);
    if (f)
        fclose(f);
}

/*  The byte offset of the start of line n (1-based), or the end. */
static size_t line_at(const char *text, int n)
{
    const char *p = text;
    for (int i = 1; i < n && p; i++) {
        p = strchr(p, '\n');
        p = p ? p + 1 : NULL;
    }
    return p ? (size_t)(p - text) : strlen(text);
}

static collab_audit_status_t verify1(const char *path, const collab_audit_head_t *head,
                                     collab_audit_report_t *r)
{
    const char *paths[1] = {path};
    return collab_audit_verify(KEY, paths, 1, head, r);
}

static void test_head_text(void)
{
    collab_audit_head_t h = {.seq = 18446744073709551615ULL}, back;
    for (int i = 0; i < 32; i++)
        h.mac[i] = (uint8_t)(i * 9);
    char text[COLLAB_AUDIT_HEAD_TEXT];
    collab_audit_head_format(&h, text, sizeof text);
    CHECK_EQ_INT(strlen(text), 20 + 1 + 64);
    CHECK_OK(collab_audit_head_parse(text, strlen(text), &back));
    CHECK_EQ_U64(back.seq, h.seq);
    CHECK_MEM(back.mac, 32, h.mac, 32);
    CHECK_RC(collab_audit_head_parse(text, strlen(text) - 1, &back), COLLAB_E_MALFORMED);
    CHECK_RC(collab_audit_head_parse(":00", 3, &back), COLLAB_E_MALFORMED);
    CHECK_RC(collab_audit_head_parse("12", 2, &back), COLLAB_E_MALFORMED);
    CHECK_RC(collab_audit_head_parse("99999999999999999999:00", 23, &back), COLLAB_E_MALFORMED);
}

/*  The head's file: saved whole (mode 0600, no temporary left), read back, a torn or
    missing file told apart. */
static void test_head_file(void)
{
    const char *path = tmp_path("h.log.head");
    collab_audit_head_t h = {.seq = 42}, back = {0};
    memset(h.mac, 0xa5, sizeof h.mac);
    CHECK_RC(collab_audit_head_load(path, &back), COLLAB_E_NOT_FOUND);
    CHECK_OK(collab_audit_head_save(path, &h));
    h.seq = 43; /* saved again: replaced, not appended */
    CHECK_OK(collab_audit_head_save(path, &h));
    CHECK_OK(collab_audit_head_load(path, &back));
    CHECK_EQ_U64(back.seq, 43);
    CHECK_MEM(back.mac, 32, h.mac, 32);
    struct stat st;
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
    CHECK(st.st_size == 2 + 1 + 64 + 1);
    char tmp[300];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    CHECK(access(tmp, F_OK) != 0);
    FILE *f = fopen(path, "w"); /* torn: no newline */
    CHECK(f && fputs("43:a5a5", f) >= 0);
    if (f)
        fclose(f);
    CHECK_RC(collab_audit_head_load(path, &back), COLLAB_E_MALFORMED);
    CHECK_RC(collab_audit_head_save(tmp_path("no/such/dir.head"), &h), COLLAB_E_IO);
    unlink(path);
}

static void test_chain_verifies(void)
{
    const char *path = tmp_path("ok.log");
    heads_seen = 0;
    write_chain(path, 20, 0);
    CHECK_EQ_INT(heads_seen, 20);
    CHECK_EQ_U64(last_head.seq, 20);
    collab_audit_report_t r;
    CHECK_EQ_INT(verify1(path, NULL, &r), COLLAB_AUDIT_OK);
    CHECK_EQ_U64(r.lines, 20);
    CHECK_EQ_U64(r.first_seq, 1);
    CHECK_EQ_U64(r.last.seq, 20);
    CHECK_MEM(r.last.mac, 32, last_head.mac, 32);
    CHECK(!r.continued);
    CHECK_EQ_INT(verify1(path, &last_head, &r), COLLAB_AUDIT_OK);
    CHECK(r.head_matched);
    /* the lines: seq first, mac last, the caller's "seq" and "mac" dropped */
    size_t len;
    char *text = slurp(path, &len);
    CHECK(text && strncmp(text, "{\"seq\":1,\"ts\":", 14) == 0);
    CHECK(text && strstr(text, "\"forged\"") == NULL && strstr(text, "999") == NULL);
    cJSON *o = text ? cJSON_ParseWithLength(text, line_at(text, 2) - 1) : NULL;
    const cJSON *mac = cJSON_GetObjectItemCaseSensitive(o, "mac");
    CHECK(cJSON_IsString(mac) && strlen(mac->valuestring) == 64);
    cJSON_Delete(o);
    /* an earlier head of the same chain is fine: the lines after it are newer */
    CHECK_EQ_INT(verify1(path, &heads[9], &r), COLLAB_AUDIT_OK);
    CHECK(r.head_matched && r.last.seq == 20);
    /* another key: the first line already fails */
    const char *paths[1] = {path};
    uint8_t other[32] = {9};
    CHECK_EQ_INT(collab_audit_verify(other, paths, 1, NULL, &r), COLLAB_AUDIT_ALTERED);
    CHECK_EQ_U64(r.line, 1);
    free(text);
}

/*  Edits line n of the 20-line chain by replacing the first `from` on it with `to`. */
static void edit_line(const char *path, int n, const char *from, const char *to)
{
    size_t len;
    char *text = slurp(path, &len);
    char *line = text + line_at(text, n), *hit = strstr(line, from);
    if (CHECK(hit && hit < text + line_at(text, n + 1)))
        memcpy(hit, to, strlen(to)); /* same length */
    spit(path, text, len);
    free(text);
}

static void test_altered(void)
{
    const char *path = tmp_path("alt.log");
    collab_audit_report_t r;
    write_chain(path, 20, 0);
    edit_line(path, 7, "worker6", "worker0");
    CHECK_EQ_INT(verify1(path, NULL, &r), COLLAB_AUDIT_ALTERED);
    CHECK_EQ_U64(r.line, 7);
    CHECK_EQ_U64(r.seq, 7);
    CHECK_EQ_U64(r.lines, 6);
    CHECK_STR(r.file, path);
    CHECK(strstr(r.detail, "line 7 (seq 7)") && strstr(r.detail, "altered"));
    /* the seq itself changed: still line 7 */
    write_chain(path, 20, 0);
    edit_line(path, 7, "\"seq\":7", "\"seq\":9");
    CHECK(verify1(path, NULL, &r) != COLLAB_AUDIT_OK && r.line == 7);
    /* the mac replaced by another line's */
    write_chain(path, 20, 0);
    size_t len;
    char *text = slurp(path, &len);
    char *l3 = text + line_at(text, 3), *l4 = text + line_at(text, 4);
    memcpy(strstr(l3, "\"mac\":\"") + 7, strstr(l4, "\"mac\":\"") + 7, 64);
    spit(path, text, len);
    free(text);
    CHECK_EQ_INT(verify1(path, NULL, &r), COLLAB_AUDIT_ALTERED);
    CHECK_EQ_U64(r.line, 3);
}

/*  Removes lines [from, to] (1-based) of path. */
static void cut_lines(const char *path, int from, int to)
{
    size_t len;
    char *text = slurp(path, &len);
    size_t a = line_at(text, from), b = line_at(text, to + 1);
    memmove(text + a, text + b, len - b);
    spit(path, text, len - (b - a));
    free(text);
}

static void test_deleted_and_reordered(void)
{
    const char *path = tmp_path("del.log");
    collab_audit_report_t r;
    write_chain(path, 20, 0);
    cut_lines(path, 9, 10);
    CHECK_EQ_INT(verify1(path, NULL, &r), COLLAB_AUDIT_MISSING);
    CHECK_EQ_U64(r.line, 9);
    CHECK_EQ_U64(r.seq, 11);
    CHECK_EQ_U64(r.expected, 9);
    CHECK(strstr(r.detail, "line 9 (seq 11)") && strstr(r.detail, "seq 9 to 10"));
    /* the first line gone */
    write_chain(path, 20, 0);
    cut_lines(path, 1, 1);
    CHECK_EQ_INT(verify1(path, NULL, &r), COLLAB_AUDIT_MISSING);
    CHECK_EQ_U64(r.line, 1);
    /* two lines swapped */
    write_chain(path, 20, 0);
    size_t len;
    char *text = slurp(path, &len);
    size_t a = line_at(text, 4), b = line_at(text, 5), c = line_at(text, 6);
    char *swapped = malloc(len);
    memcpy(swapped, text, a);
    memcpy(swapped + a, text + b, c - b);
    memcpy(swapped + a + (c - b), text + a, b - a);
    memcpy(swapped + c, text + c, len - c);
    spit(path, swapped, len);
    free(swapped);
    free(text);
    CHECK_EQ_INT(verify1(path, NULL, &r), COLLAB_AUDIT_MISSING);
    CHECK_EQ_U64(r.line, 4);
    /* a plain line in the middle */
    write_chain(path, 20, 0);
    text = slurp(path, &len);
    a = line_at(text, 5);
    const char plain[] = "{\"ts\":1,\"event\":\"login_ok\"}\n";
    char *more = malloc(len + sizeof plain);
    memcpy(more, text, a);
    memcpy(more + a, plain, sizeof plain - 1);
    memcpy(more + a + sizeof plain - 1, text + a, len - a);
    spit(path, more, len + sizeof plain - 1);
    free(more);
    free(text);
    CHECK_EQ_INT(verify1(path, NULL, &r), COLLAB_AUDIT_MALFORMED);
    CHECK_EQ_U64(r.line, 5);
}

static void test_cut_tail(void)
{
    const char *path = tmp_path("tail.log");
    collab_audit_report_t r;
    write_chain(path, 20, 0);
    collab_audit_head_t head = last_head;
    cut_lines(path, 18, 20);
    /* on its own the rest is a valid chain: only the head shows the cut */
    CHECK_EQ_INT(verify1(path, NULL, &r), COLLAB_AUDIT_OK);
    CHECK_EQ_U64(r.last.seq, 17);
    CHECK_EQ_INT(verify1(path, &head, &r), COLLAB_AUDIT_TRUNCATED);
    CHECK_EQ_U64(r.seq, 17);
    CHECK_EQ_U64(r.expected, 20);
    CHECK(strstr(r.detail, "tail cut") && strstr(r.detail, "seq 17") &&
          strstr(r.detail, "seq 20") && strstr(r.detail, "3 line(s) missing"));
    /* everything cut */
    spit(path, "", 0);
    CHECK_EQ_INT(verify1(path, &head, &r), COLLAB_AUDIT_TRUNCATED);
    CHECK_EQ_INT(verify1(path, NULL, &r), COLLAB_AUDIT_OK);
    /* a head of another chain with the same seq */
    write_chain(path, 20, 0);
    head.mac[0] ^= 1;
    CHECK_EQ_INT(verify1(path, &head, &r), COLLAB_AUDIT_NOT_HEAD);
    CHECK_EQ_U64(r.line, 20);
    /* a partial last line: a torn write, or a cut mid-line */
    size_t len;
    char *text = slurp(path, &len);
    size_t start = line_at(text, 20);
    spit(path, text, start + 30);
    free(text);
    CHECK_EQ_INT(verify1(path, NULL, &r), COLLAB_AUDIT_PARTIAL);
    CHECK_EQ_U64(r.line, 20);
    CHECK_EQ_U64(r.partial_offset, start);
    CHECK_EQ_U64(r.last.seq, 19);
}

static int count_lines(const char *path)
{
    char *text = slurp(path, NULL);
    int n = 0;
    for (char *p = text; p && *p; p++)
        n += *p == '\n';
    free(text);
    return n;
}

static void test_rotation(void)
{
    const char *path = tmp_path("rot.log"), *old = tmp_path("rot.log.1");
    const char *first = tmp_path("rot.first");
    collab_audit_report_t r;
    /* small files: about four lines each */
    char err[256];
    collab_audit_head_t zero = {0};
    collab_seclog_t *log = collab_seclog_open(path, 1200, err, sizeof err);
    if (!CHECK(log != NULL))
        return;
    collab_seclog_chain(log, KEY, &zero, on_line, NULL);
    int kept_first = 0;
    for (int i = 0; i < 30; i++) {
        CHECK_OK(collab_seclog_emit(log, 1000 + (uint64_t)i, "session_ended", "agent_id", "worker1",
                                    "reason", "idle", NULL));
        if (!kept_first && access(old, F_OK) == 0) {
            char cmd[1400];
            snprintf(cmd, sizeof cmd, "cp %s %s", old, first);
            kept_first = system(cmd) == 0;
        }
    }
    collab_seclog_destroy(&log);
    CHECK(kept_first);
    CHECK(count_lines(path) >= 2 && count_lines(old) >= 2);
    /* the new file starts by naming the previous head */
    char *text = slurp(path, NULL);
    CHECK(text && strstr(text, "\"event\":\"log_continued\"") && strstr(text, "\"prev_seq\":") &&
          strstr(text, "\"prev_mac\":\"") && strstr(text, "\"reason\":\"rotated\""));
    free(text);
    /* each file verifies alone, and the two join */
    CHECK_EQ_INT(verify1(path, &last_head, &r), COLLAB_AUDIT_OK);
    CHECK(r.continued && r.head_matched && r.last.seq == last_head.seq);
    CHECK_EQ_INT(verify1(old, NULL, &r), COLLAB_AUDIT_OK);
    const char *both[2] = {old, path};
    CHECK_EQ_INT(collab_audit_verify(KEY, both, 2, &last_head, &r), COLLAB_AUDIT_OK);
    CHECK(r.head_matched);
    CHECK_EQ_U64(r.last.seq, last_head.seq);
    CHECK_EQ_U64(r.lines, (uint64_t)(count_lines(old) + count_lines(path)));
    /* an older file does not join the current one: the lines between are missing */
    const char *gap[2] = {first, path};
    CHECK_EQ_INT(collab_audit_verify(KEY, gap, 2, NULL, &r), COLLAB_AUDIT_MISSING);
    CHECK_STR(r.file, path);
    CHECK_EQ_U64(r.line, 1);
    /* the wrong order either */
    const char *swapped[2] = {path, old};
    CHECK(collab_audit_verify(KEY, swapped, 2, NULL, &r) != COLLAB_AUDIT_OK);
    /* a head kept in the state that is in the older file: found when both are given */
    unlink(first);
}

/*  A log continued from a head (a new file after a move aside): its first line names it. */
static void test_continue_from_head(void)
{
    const char *path = tmp_path("cont.log");
    write_chain(path, 5, 0);
    collab_audit_head_t head = last_head;
    unlink(path);
    char err[256];
    collab_seclog_t *log = collab_seclog_open(path, 0, err, sizeof err);
    if (!CHECK(log != NULL))
        return;
    collab_seclog_chain(log, KEY, &head, on_line, NULL);
    CHECK_OK(collab_seclog_emit(log, 5000, "audit_tamper_detected", "detail", "test", NULL));
    collab_seclog_destroy(&log);
    CHECK_EQ_U64(last_head.seq, 7); /* the log_continued line, then the event */
    collab_audit_report_t r;
    CHECK_EQ_INT(verify1(path, &head, &r), COLLAB_AUDIT_OK);
    CHECK(r.continued && r.head_matched);
    CHECK_EQ_U64(r.first_seq, 6);
    CHECK_EQ_INT(count_lines(path), 2);
    /* a discarding log cannot be chained */
    log = collab_seclog_open(NULL, 0, err, sizeof err);
    CHECK_RC(collab_seclog_chain(log, KEY, &head, NULL, NULL), COLLAB_E_BAD_REQUEST);
    collab_seclog_destroy(&log);
    /* a file that cannot be read */
    CHECK_EQ_INT(verify1(tmp_path("absent.log"), NULL, &r), COLLAB_AUDIT_IO);
    unlink(path);
}

int main(void)
{
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    TU_RUN(test_head_text);
    TU_RUN(test_head_file);
    TU_RUN(test_chain_verifies);
    TU_RUN(test_altered);
    TU_RUN(test_deleted_and_reordered);
    TU_RUN(test_cut_tail);
    TU_RUN(test_rotation);
    TU_RUN(test_continue_from_head);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmpdir);
    return tu_exit("test_audit");
}
