/*  redis_conn.c: one blocking hiredis connection under deadlines (see redis_conn.h). hiredis
    reads and writes; this file owns the waiting (poll on the socket until the deadline, so
    a frozen server costs at most the command timeout) and the limits (the reader's object
    functions are wrapped to count a reply's elements and bytes). */
#include "redis_conn.h"
#include "collab_clock.h"
#include "collab_error.h"

#include <errno.h>
#include <hiredis/hiredis.h>
#include <poll.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#if defined(HIREDIS_MAJOR) && HIREDIS_MAJOR >= 1
typedef size_t elements_t; /* hiredis 1.x counts an array's elements in a size_t */
#else
typedef int elements_t;
#endif

#define ADDR_TEXT_MAX  300 /* "redis://[host]:port/db" or "unix://path?db=N", formatted */
#define QUOTE_MAX      160 /* bytes of Redis's own text quoted in a reason */
#define WRITE_SLICE_MS 10  /* the longest a write blocks: the deadline's overrun, at most */

struct collab_redis {
    collab_redis_addr_t addr;
    collab_redis_auth_t auth;
    bool has_auth;
    int connect_ms, command_ms;
    redisContext *ctx; /* NULL when not connected */
    size_t pending;    /* commands appended, replies not yet read */
    /* the reader's object functions: hiredis's (base), and ours that count (fns) */
    redisReplyObjectFunctions base, fns;
    size_t reply_elements, reply_bytes; /* of the reply being read */
    bool over_limit;
    char addr_text[ADDR_TEXT_MAX];
    char why[COLLAB_REDIS_WHY_MAX];
};

/* ---------------------------------------------------------------------------------------
   Reasons */

/*  Copies Redis's text for a reason: printable ASCII, others as '?', at most QUOTE_MAX. */
static void quote(char *dst, size_t cap, const char *src, size_t len)
{
    size_t n = len < cap - 1 ? len : cap - 1;
    for (size_t i = 0; i < n; i++)
        dst[i] = src[i] >= ' ' && src[i] < 0x7f ? src[i] : '?';
    dst[n] = '\0';
}

__attribute__((format(printf, 3, 4))) static int fail(collab_redis_t *self, int code,
                                                      const char *fmt, ...)
{
    int n = snprintf(self->why, sizeof self->why, "%s: ", self->addr_text);
    if (n >= 0 && (size_t)n < sizeof self->why) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(self->why + n, sizeof self->why - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return code;
}

static void close_ctx(collab_redis_t *self)
{
    if (self->ctx)
        redisFree(self->ctx);
    self->ctx = NULL;
    self->pending = 0;
}

/*  A failure after which the stream cannot be trusted: closed, to be reconnected. */
__attribute__((format(printf, 3, 4))) static int broken(collab_redis_t *self, int code,
                                                        const char *fmt, ...)
{
    char what[COLLAB_REDIS_WHY_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    close_ctx(self);
    return fail(self, code, "%s; connection closed", what);
}

/* ---------------------------------------------------------------------------------------
   Reply limits: hiredis calls these for each array and string of a reply */

static void *limited_array(const redisReadTask *task, elements_t elements)
{
    collab_redis_t *self = task->privdata;
    size_t n = elements > 0 ? (size_t)elements : 0;
    if (n > COLLAB_REDIS_REPLY_ELEMENTS_MAX - self->reply_elements) {
        self->over_limit = true;
        return NULL; /* the reader stops with an error */
    }
    self->reply_elements += n;
    return self->base.createArray(task, elements);
}

static void *limited_string(const redisReadTask *task, char *str, size_t len)
{
    collab_redis_t *self = task->privdata;
    if (len > COLLAB_REDIS_REPLY_BYTES_MAX - self->reply_bytes) {
        self->over_limit = true;
        return NULL;
    }
    self->reply_bytes += len;
    return self->base.createString(task, str, len);
}

static void limit_reader(collab_redis_t *self, redisContext *c)
{
    self->base = *c->reader->fn;
    self->fns = self->base;
    self->fns.createArray = limited_array;
    self->fns.createString = limited_string;
    c->reader->fn = &self->fns;
    c->reader->privdata = self;
}

/* ---------------------------------------------------------------------------------------
   Waiting under a deadline */

/*  Waits until the socket is ready for events or the deadline passes. */
static int wait_fd(collab_redis_t *self, short events, int64_t deadline)
{
    for (;;) {
        int64_t left = deadline - collab_mono_ms();
        if (left <= 0)
            return broken(self, COLLAB_E_TIMEOUT, "no reply within %d ms", self->command_ms);
        struct pollfd pf = {self->ctx->fd, events, 0};
        int r = poll(&pf, 1, (int)left);
        if (r > 0)
            return 0;
        if (r < 0 && errno != EINTR)
            return broken(self, COLLAB_E_IO, "poll: %s", strerror(errno));
    }
}

static int flush(collab_redis_t *self, int64_t deadline)
{
    int done = 0;
    while (!done) {
        int rc = wait_fd(self, POLLOUT, deadline);
        if (rc)
            return rc;
        if (redisBufferWrite(self->ctx, &done) != REDIS_OK)
            return broken(self, COLLAB_E_IO, "cannot send: %s", self->ctx->errstr);
    }
    return 0;
}

/*  Reads one whole reply into *reply, counting it against the limits. */
static int read_one(collab_redis_t *self, void **reply, int64_t deadline)
{
    redisContext *c = self->ctx;
    self->reply_elements = self->reply_bytes = 0;
    self->over_limit = false;
    for (;;) {
        if (redisGetReplyFromReader(c, reply) != REDIS_OK) {
            if (self->over_limit)
                return broken(self, COLLAB_E_TOO_LARGE,
                              "a reply is larger than %d elements or %u bytes",
                              COLLAB_REDIS_REPLY_ELEMENTS_MAX, COLLAB_REDIS_REPLY_BYTES_MAX);
            return broken(self, c->err == REDIS_ERR_OOM ? COLLAB_E_NOMEM : COLLAB_E_IO,
                          "cannot read the reply: %s", c->errstr);
        }
        if (*reply)
            return 0;
        if (c->reader->len - c->reader->pos > COLLAB_REDIS_REPLY_BYTES_MAX)
            return broken(self, COLLAB_E_TOO_LARGE, "a reply is larger than %u bytes",
                          COLLAB_REDIS_REPLY_BYTES_MAX);
        int rc = wait_fd(self, POLLIN, deadline);
        if (rc)
            return rc;
        if (redisBufferRead(c) != REDIS_OK)
            return broken(self, COLLAB_E_IO, "cannot read: %s", c->errstr);
    }
}

/* ---------------------------------------------------------------------------------------
   Error replies */

typedef struct {
    const char *word; /* the error's first word */
    int code;
    const char *meaning;
} reply_code_t;

static const reply_code_t reply_codes[] = {
    {"OOM", COLLAB_E_QUOTA,
     "Redis is out of memory (maxmemory reached under noeviction): the write was refused"},
    {"MISCONF", COLLAB_E_INTERNAL, "Redis cannot persist writes: the write was refused"},
    {"NOAUTH", COLLAB_E_AUTH_FAILED, "Redis wants authentication"},
    {"WRONGPASS", COLLAB_E_AUTH_FAILED, "Redis refused the user or password"},
    {"NOPERM", COLLAB_E_FORBIDDEN, "the ACL user may not run this"},
    {"LOADING", COLLAB_E_BUSY, "Redis is loading its data"},
    {"BUSY", COLLAB_E_BUSY, "Redis is busy running a script"},
    {"TRYAGAIN", COLLAB_E_BUSY, "Redis asks to try again"},
    {"MASTERDOWN", COLLAB_E_BUSY, "the replica has lost its master"},
};

static const reply_code_t *find_code(const redisReply *r)
{
    static const reply_code_t other = {"", COLLAB_E_BAD_REQUEST, "Redis refused the command"};
    for (size_t i = 0; i < sizeof reply_codes / sizeof reply_codes[0]; i++) {
        size_t w = strlen(reply_codes[i].word);
        if (r->str && r->len >= w && memcmp(r->str, reply_codes[i].word, w) == 0 &&
            (r->len == w || r->str[w] == ' '))
            return &reply_codes[i];
    }
    return &other;
}

int collab_redis_reply_code(const collab_redis_reply_t *reply)
{
    if (!reply || reply->type != REDIS_REPLY_ERROR)
        return 0;
    return find_code(reply)->code;
}

/* ---------------------------------------------------------------------------------------
   Commands */

static int appended(collab_redis_t *self, int rc)
{
    if (rc != REDIS_OK)
        return broken(self, self->ctx->err == REDIS_ERR_OOM ? COLLAB_E_NOMEM : COLLAB_E_IO,
                      "cannot queue the command: %s", self->ctx->errstr);
    self->pending++;
    return 0;
}

static int can_append(collab_redis_t *self)
{
    self->why[0] = '\0';
    if (!self->ctx)
        return fail(self, COLLAB_E_IO, "not connected");
    if (self->pending >= COLLAB_REDIS_PIPELINE_MAX)
        return fail(self, COLLAB_E_LIMIT, "%d commands are already pending",
                    COLLAB_REDIS_PIPELINE_MAX);
    return 0;
}

int collab_redis_append(collab_redis_t *self, int argc, const char *const *argv,
                        const size_t *argvlen)
{
    int rc = can_append(self);
    if (rc)
        return rc;
    return appended(self, redisAppendCommandArgv(self->ctx, argc, (const char **)argv, argvlen));
}

static int vappendf(collab_redis_t *self, const char *fmt, va_list ap)
{
    int rc = can_append(self);
    if (rc)
        return rc;
    return appended(self, redisvAppendCommand(self->ctx, fmt, ap));
}

int collab_redis_appendf(collab_redis_t *self, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = vappendf(self, fmt, ap);
    va_end(ap);
    return rc;
}

size_t collab_redis_pending(const collab_redis_t *self)
{
    return self->pending;
}

int collab_redis_read(collab_redis_t *self, collab_redis_reply_t **reply)
{
    *reply = NULL;
    self->why[0] = '\0';
    if (!self->ctx)
        return fail(self, COLLAB_E_IO, "not connected");
    if (self->pending == 0)
        return fail(self, COLLAB_E_INTERNAL, "no command is pending");
    int64_t deadline = collab_mono_ms() + self->command_ms;
    void *r = NULL;
    int rc = flush(self, deadline);
    if (rc == 0)
        rc = read_one(self, &r, deadline);
    if (rc)
        return rc;
    self->pending--;
    redisReply *got = r;
    if (got->type == REDIS_REPLY_ERROR) {
        const reply_code_t *c = find_code(got);
        char text[QUOTE_MAX];
        quote(text, sizeof text, got->str ? got->str : "", got->str ? got->len : 0);
        freeReplyObject(got);
        return fail(self, c->code, "%s: '%s'", c->meaning, text);
    }
    *reply = got;
    return 0;
}

int collab_redis_call(collab_redis_t *self, collab_redis_reply_t **reply, int argc,
                      const char *const *argv, const size_t *argvlen)
{
    *reply = NULL;
    int rc = collab_redis_append(self, argc, argv, argvlen);
    return rc ? rc : collab_redis_read(self, reply);
}

int collab_redis_callf(collab_redis_t *self, collab_redis_reply_t **reply, const char *fmt, ...)
{
    *reply = NULL;
    va_list ap;
    va_start(ap, fmt);
    int rc = vappendf(self, fmt, ap);
    va_end(ap);
    return rc ? rc : collab_redis_read(self, reply);
}

void collab_redis_reply_free(collab_redis_reply_t **reply_p)
{
    if (reply_p && *reply_p) {
        freeReplyObject(*reply_p);
        *reply_p = NULL;
    }
}

/* ---------------------------------------------------------------------------------------
   The connection */

static struct timeval ms_to_tv(int ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    return tv;
}

collab_redis_t *collab_redis_new(const collab_redis_opts_t *opts)
{
    if (!opts || opts->connect_timeout_ms < 0 || opts->command_timeout_ms < 0)
        return NULL;
    collab_redis_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->addr = opts->addr;
    if (opts->auth && opts->auth->password[0]) {
        self->auth = *opts->auth;
        self->has_auth = true;
    }
    self->connect_ms =
        opts->connect_timeout_ms ? opts->connect_timeout_ms : COLLAB_REDIS_CONNECT_TIMEOUT_MS;
    self->command_ms =
        opts->command_timeout_ms ? opts->command_timeout_ms : COLLAB_REDIS_COMMAND_TIMEOUT_MS;
    if (collab_redis_addr_format(&self->addr, self->addr_text, sizeof self->addr_text) != 0)
        snprintf(self->addr_text, sizeof self->addr_text, "redis (no address)");
    return self;
}

void collab_redis_destroy(collab_redis_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    collab_redis_t *self = *self_p;
    close_ctx(self);
    sodium_memzero(&self->auth, sizeof self->auth);
    free(self);
    *self_p = NULL;
}

bool collab_redis_connected(const collab_redis_t *self)
{
    return self->ctx != NULL;
}

const char *collab_redis_why(const collab_redis_t *self)
{
    return self->why;
}

/*  AUTH, then SELECT: a refusal closes the connection, so that none half set up is used. */
static int authenticate(collab_redis_t *self)
{
    collab_redis_reply_t *r = NULL;
    int rc = 0;
    if (self->has_auth && self->auth.user[0])
        rc = collab_redis_callf(self, &r, "AUTH %s %s", self->auth.user, self->auth.password);
    else if (self->has_auth)
        rc = collab_redis_callf(self, &r, "AUTH %s", self->auth.password);
    collab_redis_reply_free(&r);
    if (rc == 0 && self->addr.db != 0)
        rc = collab_redis_callf(self, &r, "SELECT %d", self->addr.db);
    collab_redis_reply_free(&r);
    if (rc)
        close_ctx(self); /* keeps the reason */
    return rc;
}

int collab_redis_connect(collab_redis_t *self)
{
    close_ctx(self);
    self->why[0] = '\0';
    struct timeval tv = ms_to_tv(self->connect_ms);
    int64_t start = collab_mono_ms();
    redisContext *c = self->addr.kind == COLLAB_REDIS_UNIX
                          ? redisConnectUnixWithTimeout(self->addr.path, tv)
                          : redisConnectWithTimeout(self->addr.host, self->addr.port, tv);
    int saved = errno;
    if (!c)
        return fail(self, COLLAB_E_NOMEM, "cannot connect: out of memory");
    if (c->err) {
        bool late = saved == ETIMEDOUT || collab_mono_ms() - start >= self->connect_ms;
        fail(self, late ? COLLAB_E_TIMEOUT : COLLAB_E_IO, "cannot connect: %s", c->errstr);
        redisFree(c);
        return late ? COLLAB_E_TIMEOUT : COLLAB_E_IO;
    }
    /* reads wait in poll, under the deadline; a write that fills the socket's buffer gives
       up after one slice with what it wrote, and the rest waits in poll too */
    struct timeval rcv = ms_to_tv(self->command_ms), snd = ms_to_tv(WRITE_SLICE_MS);
    if (setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &rcv, sizeof rcv) != 0 ||
        setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &snd, sizeof snd) != 0) {
        fail(self, COLLAB_E_IO, "cannot set the socket's timeouts: %s", strerror(errno));
        redisFree(c);
        return COLLAB_E_IO;
    }
    limit_reader(self, c);
    self->ctx = c;
    return authenticate(self);
}
