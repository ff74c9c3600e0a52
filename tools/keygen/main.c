/*  main.c: collab-keygen, the CURVE certificates of the transport control (LAB.md #12):
    one CZMQ certificate pair for the broker and one per agent, and the agents' public
    certificates gathered in the directory the broker allows (transport.clients_dir). With
    --web-token-key FILE, instead: the web gateway's 256-bit token key (control 21). */
#include <czmq.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define PROG     "collab-keygen"
#define PATH_CAP 1024

#define TEST_ONLY_WARNING "TEST-ONLY key, published with taskcollab: never use it outside the lab"

typedef struct {
    const char *dir;
    bool force, test_only;
} keygen_t;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: " PROG " [--force] [--test-only] DIR AGENT [AGENT...]\n"
            "       " PROG " [--force] --web-token-key FILE\n"
            "  Writes DIR/broker.cert and DIR/broker.cert_secret (kept when present), and for\n"
            "  each AGENT DIR/AGENT.cert and DIR/AGENT.cert_secret, with a copy of the public\n"
            "  certificate in DIR/clients/ (the broker's transport.clients_dir).\n"
            "  Give the broker --set transport.server_cert=DIR/broker.cert --set\n"
            "  transport.clients_dir=DIR/clients; give each agent --curve-cert\n"
            "  DIR/AGENT.cert_secret and --curve-server-key DIR/broker.cert.\n"
            "  --force      replace pairs that exist (their old keys stop working)\n"
            "  --test-only  label every certificate as a test key that must not be used for real\n"
            "  --web-token-key FILE  writes collab-web's token key instead (web.token_key_file):\n"
            "               32 random bytes as 64 hex digits, in a new owner-only (0600) file\n");
}

/*  An agent id as PROTOCOL.md allows it: 1-64 bytes of [A-Za-z0-9_.-], and no dot first
    (so that no name reaches outside DIR or hides). */
static bool valid_name(const char *name)
{
    size_t n = strlen(name);
    return n >= 1 && n <= 64 && name[0] != '.' &&
           strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") == n;
}

static bool exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

static int path_of(char *out, const char *dir, const char *sub, const char *name)
{
    int n = snprintf(out, PATH_CAP, "%s%s/%s.cert", dir, sub, name);
    if (n < 0 || n >= PATH_CAP) {
        fprintf(stderr, PROG ": path too long for %s\n", name);
        return -1;
    }
    return 0;
}

/*  A new pair saved as path and path_secret (mode 0600), labelled with its name and role. */
static zcert_t *new_pair(const keygen_t *k, const char *path, const char *name, const char *role)
{
    char secret[PATH_CAP + 8];
    zcert_t *cert = zcert_new();
    if (!cert)
        return NULL;
    zcert_set_meta(cert, "name", "%s", name);
    zcert_set_meta(cert, "role", "%s", role);
    zcert_set_meta(cert, "created-by", PROG);
    if (k->test_only)
        zcert_set_meta(cert, "warning", TEST_ONLY_WARNING);
    snprintf(secret, sizeof secret, "%s_secret", path);
    mode_t old = umask(077); /* the secret file is never readable by others, not even briefly */
    int rc = zcert_save(cert, path);
    umask(old);
    if (rc == 0)
        rc = chmod(path, 0644) | chmod(secret, 0600);
    if (rc != 0) {
        fprintf(stderr, PROG ": cannot write %s and %s\n", path, secret);
        zcert_destroy(&cert);
    }
    return cert;
}

/*  An existing broker pair is kept (unless --force), so that adding agents later does not
    change the key every agent was given. */
static int keep_broker(const char *path)
{
    char secret[PATH_CAP + 8];
    snprintf(secret, sizeof secret, "%s_secret", path);
    zcert_t *old = exists(secret) ? zcert_load(path) : NULL;
    if (!old) {
        fprintf(stderr, PROG ": %s is not a certificate pair; --force replaces it\n", path);
        return -1;
    }
    printf("broker  %s (kept)  public key %s\n", path, zcert_public_txt(old));
    zcert_destroy(&old);
    return 0;
}

static int make_broker(const keygen_t *k)
{
    char path[PATH_CAP];
    if (path_of(path, k->dir, "", "broker") != 0)
        return -1;
    if (exists(path) && !k->force)
        return keep_broker(path);
    zcert_t *cert = new_pair(k, path, "broker", "broker");
    if (!cert)
        return -1;
    printf("broker  %s  public key %s\n", path, zcert_public_txt(cert));
    zcert_destroy(&cert);
    return 0;
}

static int make_agent(const keygen_t *k, const char *name)
{
    char path[PATH_CAP], pub[PATH_CAP];
    if (path_of(path, k->dir, "", name) != 0 || path_of(pub, k->dir, "/clients", name) != 0)
        return -1;
    if ((exists(path) || exists(pub)) && !k->force) {
        fprintf(stderr, PROG ": %s already has a certificate (%s); --force replaces it\n", name,
                path);
        return -1;
    }
    zcert_t *cert = new_pair(k, path, name, "agent");
    if (!cert)
        return -1;
    int rc = zcert_save_public(cert, pub);
    if (rc != 0)
        fprintf(stderr, PROG ": cannot write %s\n", pub);
    else
        printf("%-7s %s_secret (the agent's)  %s (allowed)  public key %s\n", name, path, pub,
               zcert_public_txt(cert));
    zcert_destroy(&cert);
    return rc;
}

/*  The web token key: 64 hex digits and a newline, the form web_jwt_key_load reads, in a
    file created owner-only (an existing one is kept unless --force; its mode is then reset
    to 0600 before the new key is written). */
static int make_web_token_key(const char *path, bool force)
{
    uint8_t key[32];
    char hex[2 * sizeof key + 1];
    int fd =
        open(path, O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | (force ? O_TRUNC : O_EXCL), 0600);
    if (fd < 0) {
        fprintf(stderr, PROG ": cannot create %s: %s%s\n", path, strerror(errno),
                errno == EEXIST ? " (--force replaces it)" : "");
        return -1;
    }
    randombytes_buf(key, sizeof key);
    sodium_bin2hex(hex, sizeof hex, key, sizeof key);
    hex[sizeof hex - 1] = '\n';
    int rc = fchmod(fd, 0600) == 0 && write(fd, hex, sizeof hex) == (ssize_t)sizeof hex ? 0 : -1;
    if (close(fd) != 0)
        rc = -1;
    sodium_memzero(key, sizeof key);
    sodium_memzero(hex, sizeof hex);
    if (rc != 0)
        fprintf(stderr, PROG ": cannot write %s\n", path);
    else
        printf("web token key %s (owner-only): give collab-web --set web.token_key_file=%s\n", path,
               path);
    return rc;
}

static int make_dirs(const char *dir)
{
    char clients[PATH_CAP];
    snprintf(clients, sizeof clients, "%s/clients", dir);
    if (zsys_dir_create("%s", clients) != 0) {
        fprintf(stderr, PROG ": cannot create %s\n", clients);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    keygen_t k = {0};
    const char *web_key = NULL;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--force") == 0)
            k.force = true;
        else if (strcmp(argv[i], "--web-token-key") == 0 && i + 1 < argc)
            web_key = argv[++i];
        else if (strcmp(argv[i], "--test-only") == 0)
            k.test_only = true;
        else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (web_key) {
        if (i != argc || k.test_only) {
            usage(stderr);
            return 2;
        }
        return sodium_init() < 0 || make_web_token_key(web_key, k.force) != 0 ? 1 : 0;
    }
    if (argc - i < 2) {
        usage(stderr);
        return 2;
    }
    k.dir = argv[i++];
    for (int j = i; j < argc; j++)
        if (!valid_name(argv[j]) || strcmp(argv[j], "broker") == 0) {
            fprintf(stderr, PROG ": '%s' is not an agent id ([A-Za-z0-9_.-], 1-64, not 'broker')\n",
                    argv[j]);
            return 2;
        }
    zsys_init();
    zsys_handler_set(NULL);
    int rc = !zsys_has_curve() || make_dirs(k.dir) != 0 || make_broker(&k) != 0;
    for (; i < argc && rc == 0; i++)
        rc = make_agent(&k, argv[i]) != 0;
    zsys_shutdown();
    return rc ? 1 : 0;
}
