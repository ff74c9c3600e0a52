/*  fuzz_audit.c: libFuzzer target for the security log as collab-audit verify reads it
    (broker/audit.c, collab_audit_verify_texts: what collab_audit_verify does with the files'
    bytes). The input is one log file, or two (a rotated PATH.1, then PATH) split at the
    first empty line, which no log line ever is. The key is the audit key the seeds were
    written under (bytes 0, 1, ... 31: see corpus_audit/README). Promises checked: a report
    that says OK counts its lines from first_seq to last.seq; verified again against its own
    head it is still OK with the head matched, and against a head one line further it is
    TRUNCATED; every detail is bounded text. collab_audit_head_parse (the state's
    "SEQ:HEX") is fuzzed on the same bytes: what it accepts formats back to itself. */
#include "audit.h"

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
    return 0;
}
