/*  webclient.h: the web attacks' own HTTP client (docs/WEB.md 3), on libcurl.

    Why libcurl and not `curl` as a child process: one request is one function call whose
    status, headers and body come back as values, bounded, with a deadline, without quoting
    a JSON body, a cookie or a stolen session id into a command line (where `ps` would show
    them) and without parsing curl's own output; and libcurl is the HTTP client the curl tool
    itself is built on (Debian's libcurl4-openssl-dev, installed by scripts/deps). The attack
    never hand-rolls HTTP on the client side.

    One client is one attacker's browser-less session against one gateway: its own cookie
    jar (in memory), an optional bearer token, and the gateway's own Origin (a client that is
    no browser writes whatever Origin it likes). Requests are bounded: a
    body of at most WEBC_BODY_MAX bytes is kept, the rest refused as an error. */
#ifndef WEBCLIENT_H
#define WEBCLIENT_H

#include <stdbool.h>
#include <stddef.h>

#define WEBC_BODY_MAX (64 * 1024)

typedef struct webc webc_t;

/*  A reply: the HTTP status (0 when no reply came) and the body, NUL-terminated. */
typedef struct {
    long status;
    char *body; /* owned by the reply: webc_reply_free */
    size_t len;
    char error[64];    /* the body's "error" field, when it is a JSON error, else "" */
    char failure[160]; /* why no reply came (libcurl's message), else "" */
} webc_reply_t;

/*  A client for base (http://HOST:PORT/, the gateway's URL as collab-web prints it), with
    timeout_ms per request. Refuses a host outside loopback and the test namespaces unless
    mine (the lab's target rule). NULL after a message on stderr. */
webc_t *webc_new(const char *base, int timeout_ms, bool mine);
void webc_destroy(webc_t **w);

/*  The host and port of the client's base URL. */
const char *webc_host(const webc_t *w);
int webc_port(const webc_t *w);

/*  Sends "Authorization: Bearer TOKEN" on every later request (NULL: none). */
void webc_set_bearer(webc_t *w, const char *token);
/*  Sends "Cookie: VALUE" (e.g. "tc_session=ID") on every later request (NULL: none), on top
    of the cookies the client's own jar holds. */
void webc_set_cookie(webc_t *w, const char *value);
/*  Sends "X-CSRF-Token: TOKEN" and "Origin: ORIGIN" on every later request (NULL: none;
    the Origin is the gateway's own until changed). */
void webc_set_csrf(webc_t *w, const char *token, const char *origin);

/*  One request: method "GET" or "POST", path relative to the base ("api/me?x=1"; a leading
    '/' is allowed), body a JSON text for POST (NULL: none). Returns 0 when a reply came
    (whatever its status: read r->status), -1 when none did (r->failure says why). r must be
    freed with webc_reply_free in both cases. */
int webc_request(webc_t *w, const char *method, const char *path, const char *body,
                 webc_reply_t *r);
void webc_reply_free(webc_reply_t *r);

/*  POST /api/login {agent_id, password} with the attacker's own password: the reply as
    webc_request's. */
int webc_login(webc_t *w, const char *agent, const char *password, webc_reply_t *r);

/*  GET /api/me, then, when it names a CSRF token (strong csrf), sends it and the gateway's
    own origin on later requests. Returns the status of /api/me (0: no reply); agent and role
    (may be NULL) get its agent_id and role. */
long webc_me(webc_t *w, char *agent, size_t acap, char *role, size_t rcap);

#endif
