/*  redis_conn.h: one blocking connection to Redis (hiredis), bounded in time and in memory:
    connect with a timeout, AUTH, SELECT, commands and pipelines each under a deadline, a
    start-up check that the server is durable and bounded, and a reconnect that the caller
    invokes when it chooses (no thread, no sleep, no retry loop in here). Never logs. */
#ifndef COLLAB_REDIS_CONN_H
#define COLLAB_REDIS_CONN_H

#include "redis_addr.h"
#include "redis_passfile.h"

#include <stdbool.h>
#include <stddef.h>

#define COLLAB_REDIS_CONNECT_TIMEOUT_MS 1000
#define COLLAB_REDIS_COMMAND_TIMEOUT_MS 500
/*  Commands appended and not yet read, at most. */
#define COLLAB_REDIS_PIPELINE_MAX 4096
/*  One reply holds at most this many array elements, nested ones included, and this many
    bytes of strings; a larger reply breaks the connection (COLLAB_E_TOO_LARGE). Its bytes are
    counted as they arrive, so a reply past the limit is never buffered whole. */
#define COLLAB_REDIS_REPLY_ELEMENTS_MAX (1 << 20)
#define COLLAB_REDIS_REPLY_BYTES_MAX    (64u << 20)
/*  collab_redis_why's sentence, at most (with its NUL). */
#define COLLAB_REDIS_WHY_MAX 320

typedef struct collab_redis collab_redis_t;
/*  A reply is hiredis's redisReply: include <hiredis/hiredis.h> to read one. Its lengths and
    element counts are within the limits above; a reader still checks type, len and
    elements before it uses a field. */
typedef struct redisReply collab_redis_reply_t;

typedef struct {
    collab_redis_addr_t addr;
    /* NULL, or a password ("" user: AUTH password; else AUTH user password). Copied, and
       wiped with the connection. */
    const collab_redis_auth_t *auth;
    int connect_timeout_ms; /* 0: COLLAB_REDIS_CONNECT_TIMEOUT_MS; TCP connect, per attempt */
    int command_timeout_ms; /* 0: COLLAB_REDIS_COMMAND_TIMEOUT_MS; each reply read */
} collab_redis_opts_t;

/*  A connection to opts->addr, not yet connected (collab_redis_connect does). NULL when out
    of memory or a timeout is negative. */
collab_redis_t *collab_redis_new(const collab_redis_opts_t *opts);

/*  Closes the connection and wipes the password. NULL-safe, idempotent, nulls *self_p. */
void collab_redis_destroy(collab_redis_t **self_p);

/*  Connects, and is also the reconnect: drops any connection first (replies still pending
    are lost), then connects within the connect timeout, sends AUTH when there is a password
    and SELECT when the database is not 0, each under the command timeout. A host name is
    resolved by the system's resolver, which that timeout does not bound: use an address
    where it matters. Returns 0; COLLAB_E_IO (refused, reset, no such socket),
    COLLAB_E_TIMEOUT, COLLAB_E_AUTH_FAILED (AUTH refused), COLLAB_E_BAD_REQUEST (SELECT
    refused) or another error-reply code below: then not connected, and collab_redis_why
    says why. */
int collab_redis_connect(collab_redis_t *self);

/*  Whether the connection is up: false before a connect and after an I/O error, a timeout
    or a reply that broke a limit, until the next successful collab_redis_connect. */
bool collab_redis_connected(const collab_redis_t *self);

/*  The last failure, as a sentence naming the address (printable ASCII; Redis's own text is
    quoted, never a password). Lent; "" after a success. */
const char *collab_redis_why(const collab_redis_t *self);

/*  Appends a command (argv[0..argc-1], binary-safe, argvlen[i] bytes each) to the pipeline
    without sending it. Returns 0; COLLAB_E_IO when not connected; COLLAB_E_LIMIT past
    COLLAB_REDIS_PIPELINE_MAX pending; COLLAB_E_NOMEM. */
int collab_redis_append(collab_redis_t *self, int argc, const char *const *argv,
                        const size_t *argvlen);

/*  The same with hiredis's format ("SET %s %b": each %s or %b is one argument, whatever
    spaces it holds, so a value cannot inject a command). */
int collab_redis_appendf(collab_redis_t *self, const char *fmt, ...);

/*  Commands appended and not yet read. */
size_t collab_redis_pending(const collab_redis_t *self);

/*  Sends what is appended and reads the reply of the oldest pending command, within the
    command timeout counted from this call (a write that blocks may overrun it by 10 ms). *reply is
   the reply (0), or NULL: 0                     a reply that is not an error (an array's elements
   may be: EXEC's are checked with collab_redis_reply_code) a Redis error reply   its code from
   collab_redis_reply_code; the connection stays up and the next pending reply can be read
      COLLAB_E_TIMEOUT      no whole reply within the command timeout
      COLLAB_E_IO           not connected, an I/O error, the server closed, a protocol error
      COLLAB_E_TOO_LARGE    the reply broke a limit above
      COLLAB_E_NOMEM        out of memory
    After TIMEOUT, IO, TOO_LARGE or NOMEM the connection is closed and marked broken (a
    late reply would be taken for the next command's): the caller reconnects when it
    chooses. Nothing pending: COLLAB_E_INTERNAL. */
int collab_redis_read(collab_redis_t *self, collab_redis_reply_t **reply);

/*  One command and its reply: collab_redis_append then collab_redis_read (with nothing else
    pending; a pipeline's replies come first otherwise). Codes as collab_redis_read. */
int collab_redis_call(collab_redis_t *self, collab_redis_reply_t **reply, int argc,
                      const char *const *argv, const size_t *argvlen);

/*  collab_redis_call with collab_redis_appendf's format. */
int collab_redis_callf(collab_redis_t *self, collab_redis_reply_t **reply, const char *fmt, ...);

/*  Frees a reply. NULL-safe, nulls *reply_p. */
void collab_redis_reply_free(collab_redis_reply_t **reply_p);

/*  The code of a reply: 0 unless it is an error reply, whose first word says:
      OOM                        COLLAB_E_QUOTA       maxmemory reached under noeviction:
                                                      the write was refused, nothing lost
      MISCONF                    COLLAB_E_INTERNAL    the server cannot persist (AOF/RDB)
      NOAUTH WRONGPASS           COLLAB_E_AUTH_FAILED
      NOPERM                     COLLAB_E_FORBIDDEN   the ACL user may not run it
      LOADING BUSY TRYAGAIN      COLLAB_E_BUSY        retry later
      MASTERDOWN
      anything else (ERR,        COLLAB_E_BAD_REQUEST
      WRONGTYPE, EXECABORT...)  */
int collab_redis_reply_code(const collab_redis_reply_t *reply);

/*  What the start-up check found. */
typedef struct {
    bool via_info;        /* CONFIG GET was refused to this user: read from INFO instead */
    bool fsync_unchecked; /* appendfsync could not be read (INFO does not show it) */
    char text[512];       /* why the server is refused, or what could not be checked; "" */
} collab_redis_durability_t;

/*  The start-up check: the server must be durable and bounded, i.e. `appendonly yes`,
    `appendfsync always` (an acknowledged write is on disk) and `maxmemory-policy
    noeviction` (running out of memory refuses writes, never silently drops a nonce or a
    revocation). Read with CONFIG GET. When the ACL user may not run CONFIG (NOPERM), the
    check falls back to INFO (persistence: aof_enabled; memory: maxmemory_policy), which does
    not show appendfsync: it is then accepted unchecked, with fsync_unchecked set and said
    in out->text for the caller to log, since a least-privilege user is what store_access
    asks for and the operator who set it up owns the server's configuration. Returns 0 (every
    setting read is right; out->text names what was not read, and notes `maxmemory 0`),
    COLLAB_E_BAD_REQUEST (a setting is wrong: out->text names each, with its value and the
    line that fixes it), COLLAB_E_FORBIDDEN (neither CONFIG nor INFO may be run: nothing
    could be checked), or a code of collab_redis_read. Call it after each connect: a server
    restarted since may run another configuration. */
int collab_redis_check_durable(collab_redis_t *self, collab_redis_durability_t *out);

#endif
