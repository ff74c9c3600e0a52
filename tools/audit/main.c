/*  main.c: collab-audit, the defender's verifier of the chained security log (LAB.md
    control 14): every line's HMAC under the audit key, the seq numbers, the join between a
    rotated file and the next, and with --head the chain's head the broker exports beside the
    log (LOG.head). It links the broker's standalone classes only: no sockets, threads or
    SQLite. */
#include "audit.h"
#include "collab_error.h"
#include "vault.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <sodium.h>
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
            "usage: " PROG " verify [--key-file FILE] [--head LOG.head] LOG [LOG...]\n"
            "  Verifies the security log that collab-broker writes under audit = strong: each\n"
            "  line's \"mac\" (HMAC-SHA256 keyed with the audit key file, chained to the line\n"
            "  before), the \"seq\" numbers, and that consecutive files join: give a rotated\n"
            "  file first (security.log.1 security.log). Reports OK, or the first altered or\n"
            "  missing line by file, line number and seq, or the cut tail.\n"
            "  --key-file FILE  the audit key (default audit.key, as audit.key_file)\n"
            "  --head FILE      the chain's head (latest seq and mac) that the broker exports\n"
            "                   beside the log, as LOG.head, at each line: it must be in the log.\n"
            "  A cut tail is detected only with --head: the lines that remain after the last\n"
            "  ones are removed still form a valid chain, and without the head nothing says\n"
            "  that more lines existed; only a partial last line (no newline) shows. The\n"
            "  broker also keeps the head in its state, and checks the log against it at start.\n"
            "  Lines after the head are normal (written after the head was last exported).\n"
            "exit status: 0 the chain verifies; 1 tampered (a line altered, lines missing,\n"
            "  the tail cut, a partial last line); 2 usage, or a file or key that cannot be\n"
            "  read; 3 the log is not chained (written under audit = weak: nothing to verify).\n");
}

typedef struct {
    const char *key_file, *head;
    const char **logs;
    size_t nlogs;
} opts_t;

static int parse(int argc, char **argv, opts_t *o)
{
    static const struct option longs[] = {
        {"key-file", 1, 0, 'k'}, {"head", 1, 0, 's'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
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
            o->head = optarg;
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

/*  The head exported by the broker (audit.h). A missing file is no error when the log is
    not chained (a broker under audit = weak exports no head). Returns 0 or EXIT_USAGE. */
static int read_head(const char *path, bool chained, collab_audit_head_t *head, bool *found)
{
    int rc = collab_audit_head_load(path, head);
    *found = rc == 0;
    if (rc == COLLAB_E_NOT_FOUND && !chained)
        return 0;
    if (rc == COLLAB_E_MALFORMED)
        fprintf(stderr, PROG ": %s: the audit head in it is malformed\n", path);
    else if (rc != 0)
        fprintf(stderr, PROG ": %s: %s\n", path, strerror(errno));
    return rc == 0 ? 0 : EXIT_USAGE;
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
        printf("; the exported head (seq %" PRIu64 ") is there", head->seq);
    else if (head->seq)
        printf("; %s", r->detail);
    else if (!o->head)
        printf("; no --head: a cut tail would not show");
    if (head->seq && r->last.seq > head->seq)
        printf("; %" PRIu64 " line(s) after the head (since it was last exported)",
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
    collab_audit_head_t head = {0};
    bool chained = looks_chained(o.logs[0]), found = false;
    if (o.head && read_head(o.head, chained, &head, &found) != 0)
        return EXIT_USAGE;
    if (!chained && !found) { /* a head is exported only for a chain */
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
