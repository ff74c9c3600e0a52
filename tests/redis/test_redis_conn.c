/*  test_redis_conn.c: the connection's replies (broker/redis_conn.c). On a real
    redis-server (redisproc): a pipeline's replies in order, an error reply among them that
    leaves the connection up, OOM under noeviction as a clear COLLAB_E_QUOTA, EXEC's errors,
    SELECT, the pipeline's bound. On a fake server in this process, which writes raw bytes:
    a reply too large in elements or in bytes, a protocol error and a server that closes each
    break the connection with their own code, bounded in memory. */
#include "redis_conn.h"
#include "redisproc.h"
#include "collab_spawn.h"
#include "testutil.h"

#include <arpa/inet.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static redisproc_t *fx; /* the real server of the first tests */

static collab_redis_t *conn_to_url(const char *url, int command_ms)
{
    collab_redis_opts_t o = {.command_timeout_ms = command_ms};
    char err[256];
    if (!CHECK(collab_redis_addr_parse(url, &o.addr, err, sizeof err) == 0))
        return NULL;
    return collab_redis_new(&o);
}

static void test_pipeline(void)
{
    collab_redis_t *c = conn_to_url(redisproc_url(fx), 2000);
    collab_redis_reply_t *r = NULL;
    CHECK_OK(collab_redis_connect(c));
    CHECK_RC(collab_redis_read(c, &r), COLLAB_E_INTERNAL); /* nothing pending */
    for (int i = 0; i < 100; i++)
        CHECK_OK(collab_redis_appendf(c, "INCR %s", "counter"));
    CHECK_OK(collab_redis_appendf(c, "SET %s %s", "text", "a value with spaces; DEL counter"));
    CHECK_OK(collab_redis_appendf(c, "INCR %s", "text")); /* WRONGTYPE-like: not an integer */
    CHECK_OK(collab_redis_appendf(c, "GET %s", "text"));
    CHECK_EQ_INT(collab_redis_pending(c), 103);
    for (int i = 0; i < 100; i++) {
        CHECK_OK(collab_redis_read(c, &r));
        CHECK(r && r->type == REDIS_REPLY_INTEGER && r->integer == i + 1);
        collab_redis_reply_free(&r);
    }
    CHECK_OK(collab_redis_read(c, &r));
    collab_redis_reply_free(&r);
    CHECK_RC(collab_redis_read(c, &r), COLLAB_E_BAD_REQUEST);
    CHECK(r == NULL && strstr(collab_redis_why(c), "not an integer") != NULL);
    CHECK(collab_redis_connected(c));
    CHECK_OK(collab_redis_read(c, &r));
    CHECK(r && r->type == REDIS_REPLY_STRING && r->len == 32 &&
          memcmp(r->str, "a value with spaces; DEL counter", 32) == 0);
    collab_redis_reply_free(&r);
    CHECK_EQ_INT(collab_redis_pending(c), 0);
    /* the bound on what is pending */
    for (int i = 0; i < COLLAB_REDIS_PIPELINE_MAX; i++)
        CHECK_OK(collab_redis_appendf(c, "PING"));
    CHECK_RC(collab_redis_appendf(c, "PING"), COLLAB_E_LIMIT);
    for (int i = 0; i < COLLAB_REDIS_PIPELINE_MAX; i++) {
        CHECK_OK(collab_redis_read(c, &r));
        collab_redis_reply_free(&r);
    }
    /* a transaction: EXEC's elements carry their own errors */
    const char *const set[] = {"SET", "k", "v"}, *const incr[] = {"INCR", "k"};
    const size_t set_len[] = {3, 1, 1}, incr_len[] = {4, 1};
    CHECK_OK(collab_redis_appendf(c, "MULTI"));
    CHECK_OK(collab_redis_append(c, 3, set, set_len));
    CHECK_OK(collab_redis_append(c, 2, incr, incr_len));
    CHECK_OK(collab_redis_appendf(c, "EXEC"));
    for (int i = 0; i < 3; i++) {
        CHECK_OK(collab_redis_read(c, &r)); /* OK, QUEUED, QUEUED */
        collab_redis_reply_free(&r);
    }
    CHECK_OK(collab_redis_read(c, &r));
    if (CHECK(r && r->type == REDIS_REPLY_ARRAY && r->elements == 2)) {
        CHECK_EQ_INT(collab_redis_reply_code(r->element[0]), 0);
        CHECK_RC(collab_redis_reply_code(r->element[1]), COLLAB_E_BAD_REQUEST);
    }
    collab_redis_reply_free(&r);
    collab_redis_destroy(&c);
}

static void test_oom(void)
{
    collab_redis_t *c = conn_to_url(redisproc_url(fx), 2000);
    collab_redis_reply_t *r = NULL;
    CHECK_OK(collab_redis_connect(c));
    CHECK_OK(collab_redis_callf(c, &r, "SET %s %s", "before", "full"));
    collab_redis_reply_free(&r);
    CHECK_OK(collab_redis_callf(c, &r, "CONFIG SET maxmemory %s", "1"));
    collab_redis_reply_free(&r);
    CHECK_RC(collab_redis_callf(c, &r, "SET %s %s", "after", "full"), COLLAB_E_QUOTA);
    CHECK(r == NULL);
    if (!CHECK(strstr(collab_redis_why(c), "Redis is out of memory") &&
               strstr(collab_redis_why(c), "'OOM command not allowed")))
        fprintf(stderr, "  why: %s\n", collab_redis_why(c));
    CHECK(collab_redis_connected(c)); /* a refused write, not a broken connection */
    CHECK_OK(collab_redis_callf(c, &r, "GET %s", "before")); /* reads go on */
    CHECK(r && r->type == REDIS_REPLY_STRING && r->len == 4);
    collab_redis_reply_free(&r);
    CHECK_OK(collab_redis_callf(c, &r, "CONFIG SET maxmemory %s", "64mb"));
    collab_redis_reply_free(&r);
    collab_redis_destroy(&c);
}

static void test_select(void)
{
    char url[200];
    collab_redis_reply_t *r = NULL;
    snprintf(url, sizeof url, "%s/3", redisproc_url(fx));
    collab_redis_t *c3 = conn_to_url(url, 2000), *c0 = conn_to_url(redisproc_url(fx), 2000);
    CHECK_OK(collab_redis_connect(c3));
    CHECK_OK(collab_redis_connect(c0));
    CHECK_OK(collab_redis_callf(c3, &r, "SET %s %s", "in3", "x"));
    collab_redis_reply_free(&r);
    CHECK_OK(collab_redis_callf(c0, &r, "EXISTS %s", "in3"));
    CHECK(r && r->type == REDIS_REPLY_INTEGER && r->integer == 0);
    collab_redis_reply_free(&r);
    collab_redis_destroy(&c3);
    snprintf(url, sizeof url, "%s/99", redisproc_url(fx));
    c3 = conn_to_url(url, 2000);
    CHECK_RC(collab_redis_connect(c3), COLLAB_E_BAD_REQUEST);
    CHECK(strstr(collab_redis_why(c3), "out of range") != NULL);
    CHECK(!collab_redis_connected(c3));
    CHECK_RC(collab_redis_appendf(c3, "PING"), COLLAB_E_IO);
    CHECK_RC(collab_redis_read(c3, &r), COLLAB_E_IO);
    CHECK(strstr(collab_redis_why(c3), "not connected") != NULL);
    collab_redis_destroy(&c3);
    collab_redis_destroy(&c0);
}

/* ---------------------------------------------------------------------------------------
   A fake server: a listening socket in this process, which writes what the test says */

typedef struct {
    int listener, peer;
    collab_redis_t *c;
} fake_t;

/*  A listening socket on a free port of 127.0.0.1, and a connection to it, not yet
    connected. Returns 0 or -1. */
static int fake_listen(fake_t *f, int command_ms)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    char url[64];
    f->peer = -1;
    f->c = NULL;
    f->listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (f->listener < 0 || bind(f->listener, (struct sockaddr *)&a, sizeof a) != 0 ||
        listen(f->listener, 4) != 0 || getsockname(f->listener, (struct sockaddr *)&a, &len))
        return -1;
    snprintf(url, sizeof url, "redis://127.0.0.1:%d", ntohs(a.sin_port));
    f->c = conn_to_url(url, command_ms);
    return f->c ? 0 : -1;
}

/*  fake_listen, connected (no AUTH, database 0: the connect sends nothing, and the backlog
    completes it), and the server's end accepted. */
static int fake_open(fake_t *f)
{
    if (fake_listen(f, 2000) != 0 || collab_redis_connect(f->c) != 0)
        return -1;
    f->peer = accept(f->listener, NULL, NULL);
    return f->peer >= 0 ? 0 : -1;
}

static void fake_close(fake_t *f)
{
    collab_redis_destroy(&f->c);
    if (f->peer >= 0)
        close(f->peer);
    if (f->listener >= 0)
        close(f->listener);
}

/*  Sends a command, has the fake server answer with reply (len bytes), and reads it. */
static int fake_answer(fake_t *f, const char *reply, size_t len)
{
    collab_redis_reply_t *r = NULL;
    if (collab_redis_appendf(f->c, "PING") != 0 ||
        (len && write(f->peer, reply, len) != (ssize_t)len))
        return -1000;
    int rc = collab_redis_read(f->c, &r);
    collab_redis_reply_free(&r);
    return rc;
}

static void test_fake_replies(void)
{
    static const struct {
        const char *reply;
        int code;
        const char *why;
    } cases[] = {
        {"+PONG\r\n", 0, ""},
        {"*1048577\r\n", COLLAB_E_TOO_LARGE, "larger than 1048576 elements"},
        {"*-5\r\n", COLLAB_E_IO, "cannot read the reply"},
        {"!what\r\n", COLLAB_E_IO, "Protocol error"},
        {"$-7\r\n", COLLAB_E_IO, "cannot read the reply"},
        {"*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n*1\r\n:1\r\n", COLLAB_E_IO,
         "cannot read the reply"},
        {"", COLLAB_E_IO, "cannot read"}, /* the server closes */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        fake_t f;
        tu_current = cases[i].reply;
        if (!CHECK(fake_open(&f) == 0)) {
            fake_close(&f);
            continue;
        }
        if (!cases[i].reply[0])
            shutdown(f.peer, SHUT_WR);
        CHECK_RC(fake_answer(&f, cases[i].reply, strlen(cases[i].reply)), cases[i].code);
        if (!CHECK(strstr(collab_redis_why(f.c), cases[i].why) != NULL))
            fprintf(stderr, "  why: %s\n", collab_redis_why(f.c));
        CHECK(collab_redis_connected(f.c) == (cases[i].code == 0));
        fake_close(&f);
    }
    tu_current = "test_fake_replies";
}

/*  A worker process that reads the command (a close with unread bytes would reset the
    connection, and the reset drop what it wrote), then announces a bulk of 100 MB and
    writes 65 MiB of it, until the connection is closed on it (the test's wait kills it
    if it never is). */
static int write_huge(void *arg, int fd)
{
    (void)fd;
    int peer = accept(*(int *)arg, NULL, NULL);
    static char chunk[1 << 16];
    if (peer < 0 || read(peer, chunk, sizeof chunk) <= 0)
        return 1;
    memset(chunk, 'x', sizeof chunk);
    if (write(peer, "$100000000\r\n", 12) != 12)
        return 1;
    for (int i = 0; i < 65 * 16; i++)
        if (write(peer, chunk, sizeof chunk) != (ssize_t)sizeof chunk)
            return 0; /* closed on us, as it should be */
    while (read(peer, chunk, sizeof chunk) > 0)
        continue; /* the rest fitted in the socket's buffers: wait for the close */
    return 0;
}

static void test_fake_huge_bulk(void)
{
    fake_t f;
    collab_proc_t writer;
    collab_redis_reply_t *r = NULL;
    /* the writer is forked before the connection is made, so that it holds no copy of
       the client's end, and sees the close */
    if (!CHECK(fake_listen(&f, 20000) == 0) || /* 64 MiB in a sanitized build: seconds */
        !CHECK(collab_spawn_fn(&writer, write_huge, &f.listener, NULL) == 0)) {
        fake_close(&f);
        return;
    }
    CHECK_OK(collab_redis_connect(f.c));
    CHECK_OK(collab_redis_appendf(f.c, "GET %s", "big"));
    CHECK_RC(collab_redis_read(f.c, &r), COLLAB_E_TOO_LARGE);
    if (!CHECK(strstr(collab_redis_why(f.c), "larger than 67108864 bytes") != NULL))
        fprintf(stderr, "  why: %s\n", collab_redis_why(f.c));
    CHECK(!collab_redis_connected(f.c));
    CHECK(collab_spawn_wait(&writer, 10000) == 0);
    if (!CHECK(collab_spawn_code(&writer) == 0))
        fprintf(stderr, "  the writer exited with %d\n", collab_spawn_code(&writer));
    fake_close(&f);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    fx = redisproc_start(NULL);
    if (CHECK(fx != NULL)) {
        TU_RUN(test_pipeline);
        TU_RUN(test_oom);
        TU_RUN(test_select);
        redisproc_stop(&fx);
    }
    TU_RUN(test_fake_replies);
    TU_RUN(test_fake_huge_bulk);
    return tu_exit("test_redis_conn");
}
