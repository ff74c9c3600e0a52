/*  audit.h: the chained security log (LAB.md control 14). Under the strong audit control
    every line of the security log is a JSON object whose first member is "seq" (1, 2, 3 ...
    across files and rotations) and whose last member is "mac":

        mac(n) = HMAC-SHA256(audit key, mac(n-1) || canonical(n))

    where mac(n-1) is the previous line's 32 raw bytes (32 zero bytes before seq 1) and
    canonical(n) is line n's bytes with its trailing `,"mac":"<64 hex>"` removed (that is,
    the object without its mac member, exactly as written). The first line of a file that
    does not start the chain names the previous head in "prev_seq" and "prev_mac" (hex), so
    each file can be checked on its own and two files can be checked to join. The chain's
    head (latest seq and mac) is kept in the broker's state, and exported beside the log
    (PATH.head) for collab-audit; whoever can write the log but lacks the key can neither
    forge a line nor cut the tail without the head showing it. Everything here is files in,
    a report out: no logging, no state, no sockets or threads. */
#ifndef COLLAB_AUDIT_H
#define COLLAB_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define COLLAB_AUDIT_KEY_LEN 32
#define COLLAB_AUDIT_MAC_LEN 32
/*  "SEQ:HEX" of a head: up to 20 digits, a colon, 64 hex digits and a NUL. */
#define COLLAB_AUDIT_HEAD_TEXT 86
/*  The bytes a chained line adds to its canonical text: ,"mac":"<64 hex>" before the } */
#define COLLAB_AUDIT_MAC_SUFFIX 73

/*  The chain's head: the latest line's seq and mac (seq 0: nothing written yet). */
typedef struct {
    uint64_t seq;
    uint8_t mac[COLLAB_AUDIT_MAC_LEN];
} collab_audit_head_t;

/*  "SEQ:HEX" (the state's meta value audit_head) into out (cap >= COLLAB_AUDIT_HEAD_TEXT). */
void collab_audit_head_format(const collab_audit_head_t *head, char *out, size_t cap);
/*  Parses "SEQ:HEX" of len bytes. Returns 0 or COLLAB_E_MALFORMED. */
int collab_audit_head_parse(const char *text, size_t len, collab_audit_head_t *head);

/*  The head's file beside the security log: PATH.head for the log PATH. */
#define COLLAB_AUDIT_HEAD_SUFFIX ".head"

/*  Writes head to path as one line "SEQ:HEX\n", mode 0600, atomically: into path.tmp,
    then renamed over path, so a reader sees the old head or the new one, never a mix.
    Returns 0, or COLLAB_E_IO (path is then as it was). */
int collab_audit_head_save(const char *path, const collab_audit_head_t *head);

/*  Reads a head file written by collab_audit_head_save. Returns 0, COLLAB_E_NOT_FOUND (no
    such file), COLLAB_E_IO, or COLLAB_E_MALFORMED (*head may then be partly written). */
int collab_audit_head_load(const char *path, collab_audit_head_t *head);

/*  HMAC-SHA256(key, prev || canon). */
void collab_audit_mac(const uint8_t key[COLLAB_AUDIT_KEY_LEN],
                      const uint8_t prev[COLLAB_AUDIT_MAC_LEN], const char *canon, size_t len,
                      uint8_t mac[COLLAB_AUDIT_MAC_LEN]);

/*  Chains one line: canon is a JSON object's text ending in '}' (no newline). Returns a
    heap line (the caller frees it) with the mac member appended, and its mac in *mac;
    NULL when canon is not an object's text or memory runs out. */
char *collab_audit_seal_line(const uint8_t key[COLLAB_AUDIT_KEY_LEN],
                             const uint8_t prev[COLLAB_AUDIT_MAC_LEN], const char *canon,
                             size_t len, uint8_t mac[COLLAB_AUDIT_MAC_LEN]);

typedef enum {
    COLLAB_AUDIT_OK,
    COLLAB_AUDIT_ALTERED,   /* a line's mac does not verify (edited, reordered, forged) */
    COLLAB_AUDIT_MISSING,   /* lines are missing before a line (its seq jumps ahead) */
    COLLAB_AUDIT_MALFORMED, /* a line is not a chained JSON line at all */
    COLLAB_AUDIT_PARTIAL,   /* the last line has no newline (a torn write, or a cut) */
    COLLAB_AUDIT_TRUNCATED, /* the log ends before the head the state names */
    COLLAB_AUDIT_NOT_HEAD,  /* the line at the head's seq is not the head the state names */
    COLLAB_AUDIT_IO,        /* a file could not be read */
} collab_audit_status_t;

/*  What a verification found: the first failure, or how far the chain goes. */
typedef struct {
    collab_audit_status_t status;
    const char *file;         /* where the failure is (one of the paths given) */
    uint64_t line;            /* its 1-based line number in that file */
    uint64_t seq;             /* the seq on that line (0 when unreadable) */
    uint64_t expected;        /* the seq expected there */
    uint64_t lines;           /* lines that verified */
    uint64_t first_seq;       /* seq of the first line verified (0: none) */
    collab_audit_head_t last; /* the last line that verified: the log's own head */
    bool continued;           /* the first file continues an earlier one */
    bool head_matched;        /* the state's head was found and matches */
    uint64_t partial_offset;  /* PARTIAL: byte offset of the torn line in the last file */
    char detail[320];         /* one sentence for people */
} collab_audit_report_t;

/*  Verifies the files in order (oldest first: PATH.1 then PATH) as one chain, under key.
    head, when not NULL and head->seq > 0, is the head stored in the state: the line with
    its seq must carry its mac, and the log must reach it (else TRUNCATED). Stops at the
    first failure. Returns rep->status. */
collab_audit_status_t collab_audit_verify(const uint8_t key[COLLAB_AUDIT_KEY_LEN],
                                          const char *const *paths, size_t n,
                                          const collab_audit_head_t *head,
                                          collab_audit_report_t *rep);

/*  The same for files already in memory: texts[i] (lens[i] bytes, need not be
    NUL-terminated) named names[i] in the report. Pure: no I/O. */
collab_audit_status_t collab_audit_verify_texts(const uint8_t key[COLLAB_AUDIT_KEY_LEN],
                                                const char *const *names, const char *const *texts,
                                                const size_t *lens, size_t n,
                                                const collab_audit_head_t *head,
                                                collab_audit_report_t *rep);

/*  A word for a status: "ok", "altered", "missing", ... */
const char *collab_audit_status_name(collab_audit_status_t st);

#endif
