/*  weblisten.h: the attacker's own little web server for the browser attacks (web-cookie-
    theft, web-csrf): a listener on a loopback address and a free port, on libmicrohttpd (the
    HTTP parsing is the library's, not ours). It answers every GET with one page given by
    the attack and records what each request brought: its path, the `session` of its query,
    its Referer and its Cookie header. Those records are the evidence of what the victim's
    real browser did. Its thread is libmicrohttpd's; the records are guarded by a mutex and
    a pipe wakes the attack's wait. */
#ifndef WEBLISTEN_H
#define WEBLISTEN_H

#include <stdbool.h>
#include <stddef.h>

#define WEBL_MAX_HITS 16

typedef struct {
    char path[256];
    char session[160]; /* the query's session=..., "" when none */
    char referer[1024];
    char cookie[1024];
} webl_hit_t;

typedef struct webl webl_t;

/*  Starts a listener on addr (an IPv4 loopback address) at a free port, answering every
    GET with page (text/html; copied). NULL after a message on stderr. */
webl_t *webl_start(const char *addr, const char *page);
void webl_stop(webl_t **l);

/*  Its URL, http://ADDR:PORT/ */
const char *webl_url(const webl_t *l);

/*  Waits (deadline) until a request whose path starts with prefix has come (prefix "" :
    any request but /favicon.ico); copies it into *hit. Returns true when one came. */
bool webl_wait(webl_t *l, const char *prefix, webl_hit_t *hit, int timeout_ms);

/*  How many requests came so far. */
int webl_count(webl_t *l);

/*  The value of NAME= in a URL's query (up to '&' or '#'), of [A-Za-z0-9_.~-] only, into out;
    false when absent, empty, too long or of other characters. */
bool webl_query_value(const char *url, const char *name, char *out, size_t cap);

#endif
