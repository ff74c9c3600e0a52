/*  mkagents.c: many benchmark agents at once, for the scale scenarios (scripts/bench's
    class and fanout): one credentials entry per line, {"agent_id", "role", "password_hash",
    "hmac_key"} as collab-passwd prints them, each with its own bcrypt salt and a fresh
    random HMAC key, in one process (collab-passwd makes one agent per process: 5,000 of
    them cost a minute of process starts on a loaded 2-CPU machine).
    Usage: mkagents --prefix P --first N --count N [--digits D] [--role R] [--cost C]
    (password on stdin); agent ids are P followed by the number, zero-padded to D digits. */
#include "collab.h"

#include <crypt.h>
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EXIT_USAGE 2

typedef struct {
    const char *prefix, *role;
    long first, count, digits, cost;
} opts_t;

static int usage(void)
{
    fprintf(stderr, "usage: mkagents --prefix P --first N --count N [--digits D (4)] "
                    "[--role R (worker)] [--cost C (4)] < password\n");
    return EXIT_USAGE;
}

static int parse_args(int argc, char **argv, opts_t *o)
{
    static const struct option longs[] = {
        {"prefix", 1, 0, 'p'}, {"first", 1, 0, 'f'}, {"count", 1, 0, 'n'}, {"digits", 1, 0, 'd'},
        {"role", 1, 0, 'r'},   {"cost", 1, 0, 'c'},  {0, 0, 0, 0}};
    *o = (opts_t){NULL, "worker", 0, -1, 4, 4};
    int ch;
    while ((ch = getopt_long(argc, argv, "", longs, NULL)) != -1) {
        long *num = ch == 'f'   ? &o->first
                    : ch == 'n' ? &o->count
                    : ch == 'd' ? &o->digits
                    : ch == 'c' ? &o->cost
                                : NULL;
        if (ch == 'p')
            o->prefix = optarg;
        else if (ch == 'r')
            o->role = optarg;
        else if (!num || collab_parse_long(optarg, 0, 10000000, num) != 0)
            return -1;
    }
    char role[40];
    snprintf(role, sizeof role, " %.30s ", o->role);
    bool ok =
        o->prefix && o->count >= 0 && o->digits <= 9 && o->cost >= 4 && o->cost <= 31 &&
        optind == argc && strlen(o->prefix) + (size_t)o->digits + 8 <= COLLAB_MAX_AGENT_ID &&
        strstr(" admin coordinator worker observer ", role) != NULL &&
        strspn(o->prefix, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") ==
            strlen(o->prefix);
    return ok ? 0 : -1;
}

/*  One entry: a fresh salt and key. Returns 0 or -1. */
static int print_agent(const opts_t *o, long i, const char *pw)
{
    char setting[CRYPT_GENSALT_OUTPUT_SIZE], hex[2 * COLLAB_KEY_LEN + 1];
    struct crypt_data data;
    uint8_t key[COLLAB_KEY_LEN];
    memset(&data, 0, sizeof data);
    if (!crypt_gensalt_rn("$2b$", (unsigned long)o->cost, NULL, 0, setting, sizeof setting))
        return -1;
    const char *hash = crypt_r(pw, setting, &data);
    if (!hash || hash[0] != '$')
        return -1;
    randombytes_buf(key, sizeof key);
    sodium_bin2hex(hex, sizeof hex, key, sizeof key);
    sodium_memzero(key, sizeof key);
    printf(
        "{\"agent_id\":\"%s%0*ld\",\"role\":\"%s\",\"password_hash\":\"%s\",\"hmac_key\":\"%s\"}\n",
        o->prefix, (int)o->digits, i, o->role, hash, hex);
    return 0;
}

int main(int argc, char **argv)
{
    opts_t o;
    char pw[COLLAB_PASSWORD_MAX + 2];
    if (parse_args(argc, argv, &o) != 0)
        return usage();
    if (!fgets(pw, sizeof pw, stdin)) {
        fprintf(stderr, "mkagents: no password on stdin\n");
        return EXIT_USAGE;
    }
    pw[strcspn(pw, "\r\n")] = '\0';
    if (sodium_init() < 0)
        return 1;
    for (long i = o.first; i < o.first + o.count; i++)
        if (print_agent(&o, i, pw) != 0) {
            fprintf(stderr, "mkagents: cannot hash with bcrypt (libcrypt)\n");
            return 1;
        }
    sodium_memzero(pw, sizeof pw);
    return fflush(stdout) == 0 ? 0 : 1;
}
