/*  passwd_main.c: collab-passwd, which hashes a password and prints one credentials-file
    entry {"agent_id","role","password_hash","hmac_key"} with a fresh HMAC key. */
#include "collab_error.h"
#include "collab_hex.h"
#include "collab_text.h"
#include "creds.h"

#include <cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define EXIT_USAGE 2

typedef struct {
    const char *scheme;
    int cost; /* -1: the scheme's default */
    const char *role;
    const char *key_hex;
    const char *password_file;
    const char *agent_id;
} opts_t;

static void usage(FILE *out)
{
    fprintf(out, "usage: collab-passwd [--scheme bcrypt|argon2id] [--cost N] [--role ROLE]\n"
                 "                     [--key HEX] [--password-file FILE] AGENT_ID\n"
                 "Reads the password from stdin (without echo on a terminal) or FILE, and prints\n"
                 "one credentials entry as JSON. Defaults: bcrypt cost 12 (argon2id cost 1),\n"
                 "role worker, a fresh random 32-byte HMAC key.\n");
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "collab-passwd: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n");
    usage(stderr);
    return EXIT_USAGE;
}

static int parse_cost(const char *s, int *cost)
{
    uint64_t v;
    if (collab_parse_u64(s, 0, 31, &v) != 0)
        return -1;
    *cost = (int)v;
    return 0;
}

static bool agent_id_valid(const char *s)
{
    size_t n = strlen(s);
    return n >= 1 && n <= COLLAB_MAX_AGENT_ID &&
           strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") == n;
}

/*  Returns 0, or EXIT_USAGE after printing why. */
static int parse_args(int argc, char **argv, opts_t *o)
{
    static const struct option longopts[] = {{"scheme", required_argument, NULL, 's'},
                                             {"cost", required_argument, NULL, 'c'},
                                             {"role", required_argument, NULL, 'r'},
                                             {"key", required_argument, NULL, 'k'},
                                             {"password-file", required_argument, NULL, 'p'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    *o = (opts_t){"bcrypt", -1, "worker", NULL, NULL, NULL};
    int ch;
    while ((ch = getopt_long(argc, argv, "s:c:r:k:p:h", longopts, NULL)) != -1) {
        switch (ch) {
        case 's':
            o->scheme = optarg;
            break;
        case 'c':
            if (parse_cost(optarg, &o->cost) != 0)
                return usage_error("--cost: '%s' is not a number 0..31", optarg);
            break;
        case 'r':
            o->role = optarg;
            break;
        case 'k':
            o->key_hex = optarg;
            break;
        case 'p':
            o->password_file = optarg;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            return usage_error("unknown option");
        }
    }
    if (optind != argc - 1)
        return usage_error("expected exactly one AGENT_ID");
    o->agent_id = argv[optind];
    if (strcmp(o->scheme, "bcrypt") != 0 && strcmp(o->scheme, "argon2id") != 0)
        return usage_error("--scheme: '%s' is not bcrypt or argon2id", o->scheme);
    if (o->cost < 0)
        o->cost = strcmp(o->scheme, "bcrypt") == 0 ? 12 : 1;
    if (strcmp(o->scheme, "bcrypt") == 0 && o->cost < 4)
        return usage_error("--cost: bcrypt needs 4..31, not %d", o->cost);
    if (collab_role_lookup(o->role, strlen(o->role)) < 0)
        return usage_error("--role: '%s' is not admin, coordinator, worker or observer", o->role);
    if (!agent_id_valid(o->agent_id))
        return usage_error("AGENT_ID '%s' is not 1..64 of [A-Za-z0-9_.-]", o->agent_id);
    return 0;
}

/*  Reads one line (the newline dropped) into buf; returns its length or -1. */
static long read_line(FILE *in, char *buf, size_t cap)
{
    if (!fgets(buf, (int)cap, in))
        return -1;
    size_t n = strlen(buf);
    if (n > 0 && buf[n - 1] == '\n')
        buf[--n] = '\0';
    else if (n == cap - 1 && !feof(in))
        return -1; /* too long */
    if (n > 0 && buf[n - 1] == '\r')
        buf[--n] = '\0';
    return (long)n;
}

/*  Prompts on stderr and reads with echo off. */
static long read_tty(const char *prompt, char *buf, size_t cap)
{
    struct termios old, quiet;
    fputs(prompt, stderr);
    fflush(stderr);
    if (tcgetattr(STDIN_FILENO, &old) != 0)
        return -1;
    quiet = old;
    quiet.c_lflag &= ~(tcflag_t)ECHO;
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    long n = read_line(stdin, buf, cap);
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
    fputc('\n', stderr);
    return n;
}

/*  Returns the length, -1 when nothing usable was read, -2 after printing why. */
static long read_password(const opts_t *o, char *buf, size_t cap)
{
    if (o->password_file) {
        FILE *f = fopen(o->password_file, "re");
        if (!f) {
            fprintf(stderr, "collab-passwd: %s: %s\n", o->password_file, strerror(errno));
            return -2;
        }
        long n = read_line(f, buf, cap);
        fclose(f);
        return n;
    }
    if (!isatty(STDIN_FILENO))
        return read_line(stdin, buf, cap);
    char again[COLLAB_PASSWORD_MAX + 2];
    long n = read_tty("Password: ", buf, cap);
    long m = n < 0 ? -1 : read_tty("Repeat password: ", again, sizeof again);
    bool same = m == n && n >= 0 && sodium_memcmp(buf, again, (size_t)n) == 0;
    sodium_memzero(again, sizeof again);
    if (n >= 0 && !same) {
        fprintf(stderr, "collab-passwd: the passwords differ\n");
        return -2;
    }
    return n;
}

static int make_key(const opts_t *o, char hex[2 * COLLAB_KEY_LEN + 1])
{
    uint8_t key[COLLAB_KEY_LEN];
    if (!o->key_hex)
        randombytes_buf(key, sizeof key);
    else if (strlen(o->key_hex) != 2 * COLLAB_KEY_LEN ||
             collab_hex_decode(o->key_hex, strlen(o->key_hex), key, sizeof key) != sizeof key)
        return usage_error("--key: must be %d hex digits", 2 * COLLAB_KEY_LEN);
    sodium_bin2hex(hex, 2 * COLLAB_KEY_LEN + 1, key, sizeof key);
    sodium_memzero(key, sizeof key);
    return 0;
}

static int print_entry(const opts_t *o, const char *hash, const char *key_hex)
{
    cJSON *e = cJSON_CreateObject();
    char *text = NULL;
    if (e && cJSON_AddStringToObject(e, "agent_id", o->agent_id) &&
        cJSON_AddStringToObject(e, "role", o->role) &&
        cJSON_AddStringToObject(e, "password_hash", hash) &&
        cJSON_AddStringToObject(e, "hmac_key", key_hex))
        text = cJSON_PrintUnformatted(e);
    if (text)
        printf("%s\n", text);
    cJSON_free(text);
    cJSON_Delete(e);
    return text && fflush(stdout) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    opts_t o;
    char password[COLLAB_PASSWORD_MAX + 2];
    char key_hex[2 * COLLAB_KEY_LEN + 1];
    char hash[COLLAB_HASH_MAX];
    if (parse_args(argc, argv, &o) != 0)
        return EXIT_USAGE;
    if (sodium_init() < 0) {
        fprintf(stderr, "collab-passwd: libsodium failed to initialise\n");
        return 1;
    }
    if (make_key(&o, key_hex) != 0)
        return EXIT_USAGE;
    long n = read_password(&o, password, sizeof password);
    if (n <= 0 || n > COLLAB_PASSWORD_MAX) {
        if (n != -2)
            fprintf(stderr, "collab-passwd: no password read (1..%d bytes, one line)\n",
                    COLLAB_PASSWORD_MAX);
        sodium_memzero(password, sizeof password);
        return 1;
    }
    int rc = collab_password_hash(password, (size_t)n, o.scheme, o.cost, hash, sizeof hash);
    sodium_memzero(password, sizeof password);
    if (rc != 0) {
        fprintf(stderr, "collab-passwd: hashing failed: %s\n", collab_strerror(rc));
        return 1;
    }
    rc = print_entry(&o, hash, key_hex);
    sodium_memzero(key_hex, sizeof key_hex);
    return rc;
}
