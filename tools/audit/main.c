/*  main.c: collab-audit, the defender's verifier of the chained security log (LAB.md
    control 14): every line's HMAC under the audit key, the seq numbers, the join between a
    rotated file and the next, and with --state the head the broker keeps in its state. */
#include "audit.h"
#include "vault.h"

#include <getopt.h>
#include <inttypes.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROG           "collab-audit"
#define EXIT_OK        0
#define EXIT_TAMPERED  1
#define EXIT_USAGE     2
#define EXIT_UNCHAINED 3

static void usage(FILE *out)
{
    fprintf(out,
            "usage: " PROG " verify [--key-file FILE] [--state STATE.db] LOG [LOG...]\n"
            "  Verifies the security log that collab-broker writes under audit = strong: each\n"
            "  line's \"mac\" (HMAC-SHA256 keyed with the audit key file, chained to the line\n"
            "  before), the \"seq\" numbers, and that consecutive files join: give a rotated\n"
            "  file first (security.log.1 security.log). Reports OK, or the first altered or\n"
            "  missing line by file, line number and seq, or the cut tail.\n"
            "  --key-file FILE  the audit key (default audit.key, as audit.key_file)\n"
            "  --state FILE     the broker's state file, opened read-only: the chain's head\n"
            "                   stored there (latest seq and mac) must be in the log.\n"
            "  A cut tail is detected only with --state: the lines that remain after the last\n"
            "  ones are removed still form a valid chain, and without the head nothing says\n"
            "  that more lines existed; only a partial last line (no newline) shows. The head\n"
            "  is committed with the broker's state, which the log's writers cannot change.\n"
            "  Lines after the head are normal (written since the broker's last commit).\n"
            "exit status: 0 the chain verifies; 1 tampered (a line altered, lines missing,\n"
            "  the tail cut, a partial last line); 2 usage, or a file or key that cannot be\n"
            "  read; 3 the log is not chained (written under audit = weak: nothing to verify).\n");
}

typedef struct {
    const char *key_file, *state;
    const char **logs;
    size_t nlogs;
} opts_t;

static int parse(int argc, char **argv, opts_t *o)
{
    static const struct option longs[] = {
        {"key-file", 1, 0, 'k'}, {"state", 1, 0, 's'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    int c;
    o->key_file = "audit.key";
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : -1;
    }
    if (strcmp(argv[1], "verify") != 0) {
        fprintf(stderr, PROG ": unknown command '%s' (verify)\n", argv[1]);
        return EXIT_USAGE;
    }
    optind = 2;
    while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        if (c == 'k')
            o->key_file = optarg;
        else if (c == 's')
            o->state = optarg;
        else if (c == 'h') {
            usage(stdout);
            return -1;
        } else {
            usage(stderr);
            return EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, PROG ": verify: no log file given\n");
        return EXIT_USAGE;
    }
    o->logs = (const char **)&argv[optind];
    o->nlogs = (size_t)(argc - optind);
    return 0;
}

/*  What the state says: its audit setting and head. Returns 0 or EXIT_USAGE. */
static int read_state(const char *path, char *mode, size_t cap, collab_audit_head_t *head)
{
    char uri[4200];
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    snprintf(uri, sizeof uri, "file:%s?mode=ro", path);
    int rc = sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(db,
                                "SELECT key, value FROM meta WHERE key IN"
                                " ('audit', 'audit_head')",
                                -1, &st, NULL);
    bool bad = false;
    while (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
        const char *k = (const char *)sqlite3_column_text(st, 0);
        const char *v = (const char *)sqlite3_column_blob(st, 1);
        size_t n = (size_t)sqlite3_column_bytes(st, 1);
        if (k && strcmp(k, "audit") == 0)
            snprintf(mode, cap, "%.*s", (int)(n < cap ? n : cap - 1), v ? v : "");
        else if (n > 0 && collab_audit_head_parse(v, n, head) != 0)
            bad = true;
    }
    if (rc != SQLITE_OK || bad)
        fprintf(stderr, PROG ": %s: %s\n", path,
                bad ? "the audit head in its meta table is malformed" : sqlite3_errmsg(db));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return rc == SQLITE_OK && !bad ? 0 : EXIT_USAGE;
}

/*  True when the first line of path carries a mac (or the file is empty). */
static bool looks_chained(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *line = NULL;
    size_t cap = 0;
    ssize_t n = f ? getline(&line, &cap, f) : -1;
    bool chained = n <= 0 || (n > 80 && strstr(line, ",\"mac\":\"") != NULL);
    free(line);
    if (f)
        fclose(f);
    return chained;
}

static void report_ok(const opts_t *o, const collab_audit_report_t *r,
                      const collab_audit_head_t *head)
{
    printf("OK: %" PRIu64 " line(s) verified in %zu file(s), seq %" PRIu64 " to %" PRIu64, r->lines,
           o->nlogs, r->first_seq, r->last.seq);
    if (head->seq && r->head_matched)
        printf("; the state's head (seq %" PRIu64 ") is there", head->seq);
    else if (head->seq)
        printf("; %s", r->detail);
    else if (!o->state)
        printf("; no --state: a cut tail would not show");
    if (head->seq && r->last.seq > head->seq)
        printf("; %" PRIu64 " line(s) after the head (since the broker's last commit)",
               r->last.seq - head->seq);
    if (r->continued)
        printf("; %s continues an earlier file (give it first to check the join)", o->logs[0]);
    printf("\n");
}

int main(int argc, char **argv)
{
    opts_t o = {0};
    int rc = parse(argc, argv, &o);
    if (rc)
        return rc < 0 ? EXIT_OK : rc;
    char mode[16] = "";
    collab_audit_head_t head = {0};
    if (o.state && read_state(o.state, mode, sizeof mode, &head) != 0)
        return EXIT_USAGE;
    if (!looks_chained(o.logs[0]) && strcmp(mode, "chained") != 0) {
        printf("NOT CHAINED: %s carries no mac: it was written under audit = weak, and nothing "
               "in it can be verified\n",
               o.logs[0]);
        return EXIT_UNCHAINED;
    }
    uint8_t key[COLLAB_AUDIT_KEY_LEN];
    char err[600];
    if (collab_vault_key_file(o.key_file, false, key, err, sizeof err) != 0) {
        fprintf(stderr, PROG ": %s\n", err);
        return EXIT_USAGE;
    }
    collab_audit_report_t rep;
    collab_audit_status_t st = collab_audit_verify(key, o.logs, o.nlogs, &head, &rep);
    sodium_memzero(key, sizeof key);
    if (st == COLLAB_AUDIT_IO) {
        fprintf(stderr, PROG ": %s\n", rep.detail);
        return EXIT_USAGE;
    }
    if (st != COLLAB_AUDIT_OK) {
        printf("TAMPERED (%s): %s\n", collab_audit_status_name(st), rep.detail);
        return EXIT_TAMPERED;
    }
    report_ok(&o, &rep, &head);
    return EXIT_OK;
}
