/*  test_redis_addr.c: the Redis address parser (broker/redis_addr.c): good addresses give
    their parts and format back to the same address; each bad one is refused with a reason
    that says what is wrong. */
#include "redis_addr.h"
#include "testutil.h"

#include <stdio.h>
#include <string.h>

typedef struct {
    const char *text;
    collab_redis_kind_t kind;
    const char *host_or_path;
    int port, db;
} good_t;

static const good_t good[] = {
    {"redis://127.0.0.1:6379", COLLAB_REDIS_TCP, "127.0.0.1", 6379, 0},
    {"redis://localhost:1/15", COLLAB_REDIS_TCP, "localhost", 1, 15},
    {"redis://redis:65535/0", COLLAB_REDIS_TCP, "redis", 65535, 0},
    {"redis://cluster_redis-1.lab.example:7000", COLLAB_REDIS_TCP, "cluster_redis-1.lab.example",
     7000, 0},
    {"redis://[::1]:6380/2", COLLAB_REDIS_TCP, "::1", 6380, 2},
    {"redis://[fe80::1:2]:6379", COLLAB_REDIS_TCP, "fe80::1:2", 6379, 0},
    {"redis://[::ffff:127.0.0.1]:6379", COLLAB_REDIS_TCP, "::ffff:127.0.0.1", 6379, 0},
    {"redis://h:007/00065535", COLLAB_REDIS_TCP, "h", 7, 65535},
    {"unix:///run/redis/redis.sock", COLLAB_REDIS_UNIX, "/run/redis/redis.sock", 0, 0},
    {"unix:///tmp/r.sock?db=3", COLLAB_REDIS_UNIX, "/tmp/r.sock", 0, 3},
    {"unix:///s", COLLAB_REDIS_UNIX, "/s", 0, 0},
};

static void test_good(void)
{
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        collab_redis_addr_t a, again;
        char err[256], text[COLLAB_REDIS_ADDR_MAX + 1];
        tu_current = good[i].text;
        CHECK_OK(collab_redis_addr_parse(good[i].text, &a, err, sizeof err));
        CHECK_STR(err, "");
        CHECK_EQ_INT(a.kind, good[i].kind);
        CHECK_STR(a.kind == COLLAB_REDIS_TCP ? a.host : a.path, good[i].host_or_path);
        CHECK_EQ_INT(a.port, good[i].port);
        CHECK_EQ_INT(a.db, good[i].db);
        CHECK_OK(collab_redis_addr_format(&a, text, sizeof text));
        CHECK_OK(collab_redis_addr_parse(text, &again, err, sizeof err));
        CHECK(memcmp(&a, &again, sizeof a) == 0);
    }
    tu_current = "test_good";
}

typedef struct {
    const char *text;
    const char *reason; /* a part of the reason */
} bad_t;

static const bad_t bad[] = {
    {"", "no Redis address"},
    {"localhost:6379", "is not a Redis address"},
    {"http://h:1", "is not a Redis address"},
    {"rediss://h:6379", "TLS"},
    {"redis://", "host is missing"},
    {"redis://:6379", "host is missing"},
    {"redis://h", "port is missing"},
    {"redis://h:", "the port is missing"},
    {"redis://h:0", "outside 1..65535"},
    {"redis://h:65536", "outside 1..65535"},
    {"redis://h:99999999999999999999", "outside 1..65535"},
    {"redis://h:-1", "not a number"},
    {"redis://h:+1", "not a number"},
    {"redis://h:6379/", "database number is missing"},
    {"redis://h:6379/x", "not a number"},
    {"redis://h:6379/65536", "outside 0..65535"},
    {"redis://h:6379/1/2", "not a number"},
    {"redis://h:6379?db=1", "no query"},
    {"redis://h:6379#x", "no query or fragment"},
    {"redis://user:secret@h:6379", "user or password"},
    {"redis://:secret@h:6379", "user or password"},
    {"redis://::1:6379", "in brackets"},
    {"redis://[::1:6379", "no ']' closes"},
    {"redis://[::1]", "expected ':PORT' after ']'"},
    {"redis://[::1]6379", "expected ':PORT' after ']'"},
    {"redis://[]:6379", "host is missing"},
    {"redis://[::g]:6379", "is not an IPv6 address"},
    {"redis://[fe80::1%eth0]:6379", "percent-escapes"},
    {"redis://256.1.1.1:6379", "not an IPv4 address"},
    {"redis://1.2.3:6379", "not an IPv4 address"},
    {"redis://-h:6379", "not a valid name"},
    {"redis://h-:6379", "not a valid name"},
    {"redis://a..b:6379", "not a valid name"},
    {"redis://h.:6379", "not a valid name"},
    {"redis://h!:6379", "has '!'"},
    {"redis://h :6379", "blank"},
    {"redis://h:6379\n", "control character"},
    {"redis://h\xc3\xa9:6379", "not ASCII"},
    {"unix://", "absolute path"},
    {"unix://host/tmp/s", "absolute path"},
    {"unix://relative.sock", "absolute path"},
    {"unix:///tmp/", "ends with '/'"},
    {"unix:///", "ends with '/'"},
    {"unix:///tmp/s?", "unknown parameter"},
    {"unix:///tmp/s?database=1", "unknown parameter"},
    {"unix:///tmp/s?db=", "database number is missing"},
    {"unix:///tmp/s?db=1&x=2", "not a number"},
    {"unix:///tmp/s#x", "no fragment"},
};

static void test_bad(void)
{
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        collab_redis_addr_t a;
        char err[256];
        memset(&a, 0x5a, sizeof a);
        tu_current = bad[i].text;
        CHECK_RC(collab_redis_addr_parse(bad[i].text, &a, err, sizeof err), COLLAB_E_BAD_REQUEST);
        if (!CHECK(strstr(err, bad[i].reason) != NULL))
            fprintf(stderr, "  reason was: %s\n", err);
        CHECK_EQ_INT(a.kind, 0); /* nothing half-parsed is left */
        CHECK_EQ_INT(a.host[0], 0);
    }
    tu_current = "test_bad";
}

static void test_limits(void)
{
    char text[COLLAB_REDIS_ADDR_MAX + 64], err[256], small[8];
    collab_redis_addr_t a;
    /* a host of 253 bytes (labels of 63) is the longest */
    int n = snprintf(text, sizeof text, "redis://");
    for (int i = 0; i < 4; i++)
        n += snprintf(text + n, sizeof text - (size_t)n, "%.*s%s", i < 3 ? 63 : 61,
                      "hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh",
                      i < 3 ? "." : "");
    snprintf(text + n, sizeof text - (size_t)n, ":1");
    CHECK_OK(collab_redis_addr_parse(text, &a, err, sizeof err));
    CHECK_EQ_INT(strlen(a.host), 253);
    snprintf(text + n, sizeof text - (size_t)n, "h:1");
    CHECK_RC(collab_redis_addr_parse(text, &a, err, sizeof err), COLLAB_E_BAD_REQUEST);
    CHECK(strstr(err, "at most 253") != NULL);
    /* a label of 64 */
    snprintf(text, sizeof text, "redis://%.*s:1", 64,
             "hhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhhh");
    CHECK_RC(collab_redis_addr_parse(text, &a, err, sizeof err), COLLAB_E_BAD_REQUEST);
    /* a socket path of 107 bytes, then 108 */
    memset(text, 0, sizeof text);
    memcpy(text, "unix:///", 8);
    memset(text + 8, 'p', 106);
    CHECK_OK(collab_redis_addr_parse(text, &a, err, sizeof err));
    CHECK_EQ_INT(strlen(a.path), 107);
    text[8 + 106] = 'p';
    CHECK_RC(collab_redis_addr_parse(text, &a, err, sizeof err), COLLAB_E_BAD_REQUEST);
    CHECK(strstr(err, "at most 107") != NULL);
    /* the whole text: 512 bytes at most */
    memset(text, 'a', sizeof text - 1);
    text[sizeof text - 1] = '\0';
    CHECK_RC(collab_redis_addr_parse(text, &a, err, sizeof err), COLLAB_E_BAD_REQUEST);
    CHECK(strstr(err, "longer than 512") != NULL);
    /* no reason buffer, a tiny one, a NULL text */
    CHECK_RC(collab_redis_addr_parse("x", &a, NULL, 0), COLLAB_E_BAD_REQUEST);
    CHECK_RC(collab_redis_addr_parse("x", &a, small, sizeof small), COLLAB_E_BAD_REQUEST);
    CHECK_EQ_INT(strlen(small), sizeof small - 1);
    CHECK_RC(collab_redis_addr_parse(NULL, &a, err, sizeof err), COLLAB_E_BAD_REQUEST);
    /* formatting into too small a buffer */
    CHECK_OK(collab_redis_addr_parse("redis://[::1]:6379/9", &a, err, sizeof err));
    CHECK_RC(collab_redis_addr_format(&a, small, sizeof small), COLLAB_E_TOO_LARGE);
    CHECK_STR(small, "");
    CHECK_OK(collab_redis_addr_format(&a, text, sizeof text));
    CHECK_STR(text, "redis://[::1]:6379/9");
}

int main(void)
{
    TU_RUN(test_good);
    TU_RUN(test_bad);
    TU_RUN(test_limits);
    return tu_exit("test_redis_addr");
}
