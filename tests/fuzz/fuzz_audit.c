/*  fuzz_audit.c: libFuzzer target for the security log as collab-audit verify reads it
    (broker/audit.c, collab_audit_verify_texts: what collab_audit_verify does with the files'
    bytes). The input is one log file, or two (a rotated PATH.1, then PATH) split at the
    first empty line, which no log line ever is. The key is the audit key the seeds were
    written under (bytes 0, 1, ... 31: see corpus_audit/README). Promises checked: a report
    that says OK counts its lines from first_seq to last.seq; verified again against its own
    head it is still OK with the head matched, and against a head one line further it is
    TRUNCATED; every detail is bounded text. The input's lines are also sealed as members of
    chained lines (check_sealed), so that the checks behind a right mac are fuzzed too.
   collab_audit_head_parse (the state's "SEQ:HEX") is fuzzed on the same bytes: what it accepts
   formats back to itself. */
#include "audit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void require(bool ok)
{
    if (!ok)
        abort();
}

static void check_report(const collab_audit_report_t *r, collab_audit_status_t st)
{
    require(r->status == st && st <= COLLAB_AUDIT_IO && st != COLLAB_AUDIT_IO);
    require(strcmp(collab_audit_status_name(st), "unknown") != 0);
    require(memchr(r->detail, '\0', sizeof r->detail) != NULL && r->detail[0] != '\0');
    if (st == COLLAB_AUDIT_OK && r->lines > 0)
        require(r->first_seq >= 1 && r->last.seq == r->first_seq + r->lines - 1);
    if (st == COLLAB_AUDIT_OK && r->lines == 0)
        require(r->first_seq == 0 && r->last.seq == 0);
}

static void check_head_text(const uint8_t *data, size_t size)
{
    collab_audit_head_t h, back;
    if (collab_audit_head_parse((const char *)data, size, &h) != 0)
        return;
    char text[COLLAB_AUDIT_HEAD_TEXT];
    collab_audit_head_format(&h, text, sizeof text);
    require(collab_audit_head_parse(text, strlen(text), &back) == 0);
    require(back.seq == h.seq && memcmp(back.mac, h.mac, sizeof h.mac) == 0);
}

/*  The input's lines (up to 16) as members of lines sealed under the key:
    {"seq":K,LINE} chained from seq 1, so the verifier meets lines whose macs are right and
    whose JSON is the fuzzer's. They may be refused only as malformed (not JSON, a bad
    prev_seq/prev_mac member), or on line 1 as altered (a valid prev_mac there names
    another chain); when accepted, every line counts. */
static void check_sealed(const uint8_t key[COLLAB_AUDIT_KEY_LEN], const char *text, size_t size)
{
    char *log = NULL;
    size_t len = 0, lines = 0;
    uint8_t prev[COLLAB_AUDIT_MAC_LEN] = {0}, mac[COLLAB_AUDIT_MAC_LEN];
    for (size_t at = 0; at < size && lines < 16; lines++) {
        const char *nl = memchr(text + at, '\n', size - at);
        size_t n = nl ? (size_t)(nl - (text + at)) : size - at;
        char head[40];
        int h = snprintf(head, sizeof head, "{\"seq\":%zu%s", lines + 1, n ? "," : "");
        char *canon = malloc((size_t)h + n + 1);
        require(canon != NULL);
        memcpy(canon, head, (size_t)h);
        memcpy(canon + h, text + at, n);
        canon[(size_t)h + n] = '}';
        char *line = collab_audit_seal_line(key, prev, canon, (size_t)h + n + 1, mac);
        require(line != NULL);
        size_t ll = (size_t)h + n + 1 + COLLAB_AUDIT_MAC_SUFFIX;
        require(strlen(line) == ll || memchr(text + at, '\0', n) != NULL);
        log = realloc(log, len + ll + 1);
        require(log != NULL);
        memcpy(log + len, line, ll);
        log[len + ll] = '\n';
        len += ll + 1;
        memcpy(prev, mac, sizeof prev);
        free(line);
        free(canon);
        at += n + 1;
    }
    const char *names[1] = {"sealed.log"};
    const char *texts[1] = {log ? log : ""};
    size_t lens[1] = {len};
    collab_audit_report_t rep;
    collab_audit_status_t st = collab_audit_verify_texts(key, names, texts, lens, 1, NULL, &rep);
    check_report(&rep, st);
    require(st == COLLAB_AUDIT_OK || st == COLLAB_AUDIT_MALFORMED ||
            (st == COLLAB_AUDIT_ALTERED && rep.line == 1));
    if (st == COLLAB_AUDIT_OK)
        require(rep.lines == lines && (lines == 0 || rep.last.seq == lines));
    free(log);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t key[COLLAB_AUDIT_KEY_LEN];
    for (int i = 0; i < COLLAB_AUDIT_KEY_LEN; i++)
        key[i] = (uint8_t)i;
    const char *text = (const char *)data;
    const char *names[2] = {"security.log.1", "security.log"};
    const char *texts[2] = {text, NULL};
    size_t lens[2] = {size, 0}, n = 1;
    const char *split = size >= 2 ? memmem(text, size, "\n\n", 2) : NULL;
    if (split) {
        lens[0] = (size_t)(split - text) + 1;
        texts[1] = split + 2;
        lens[1] = size - lens[0] - 1;
        n = 2;
    } else {
        names[0] = names[1];
    }
    collab_audit_report_t rep, again;
    collab_audit_status_t st = collab_audit_verify_texts(key, names, texts, lens, n, NULL, &rep);
    check_report(&rep, st);
    if (st == COLLAB_AUDIT_OK && rep.lines > 0) {
        collab_audit_head_t head = rep.last;
        st = collab_audit_verify_texts(key, names, texts, lens, n, &head, &again);
        check_report(&again, st);
        require(st == COLLAB_AUDIT_OK && again.head_matched && again.lines == rep.lines);
        head.seq++;
        st = collab_audit_verify_texts(key, names, texts, lens, n, &head, &again);
        check_report(&again, st);
        require(st == COLLAB_AUDIT_TRUNCATED && again.expected == head.seq);
    }
    check_head_text(data, size);
    check_sealed(key, text, size);
    return 0;
}
