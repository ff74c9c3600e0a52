/*  webparse.h: collab-web's pure parsers: a JSON request body checked against a field
    table (names, kinds and the protocol's bounds), the Cookie header, Last-Event-ID, a
    query parameter and a static file's path. Bytes in, values or an error out: no socket,
    no clock, no log, no allocation beyond cJSON's for the one body it parses. Fuzzed by
    tests/fuzz/fuzz_web_request.c. */
#ifndef WEBPARSE_H
#define WEBPARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WEB_BODY_MAX   16384 /* bytes of a request body */
#define WEB_FIELDS_MAX 8     /* fields of one body */

/*  What a field holds, and how it is checked. */
typedef enum {
    WEB_F_TEXT,  /* UTF-8 text of min..max code points, no control character but LF/TAB */
    WEB_F_AGENT, /* an agent id: 1..64 bytes of [A-Za-z0-9_.-] */
    WEB_F_IDENT, /* an identifier: 1..32 bytes of [a-z_] (role, status, task type) */
    WEB_F_UINT,  /* a JSON integer in min..max (at most 2^53) */
    WEB_F_SECRET /* a password: 1..256 bytes of UTF-8 text, anything in it */
} web_kind_t;

typedef struct {
    const char *name;
    web_kind_t kind;
    bool required;
    uint64_t min, max; /* code points (TEXT) or value (UINT); 0, 0: the kind's bounds */
} web_field_t;

/*  The fields found: value i belongs to spec[i]. Strings are NUL-terminated copies in
    buf (no NUL inside them: such text is refused). */
typedef struct {
    struct {
        bool present;
        const char *str; /* into buf */
        size_t len;
        uint64_t u;
    } v[WEB_FIELDS_MAX];
    char buf[WEB_BODY_MAX + WEB_FIELDS_MAX];
    size_t used;
} web_values_t;

/*  Parses body (len bytes, at most WEB_BODY_MAX, need not be NUL-terminated) as one JSON
    object whose members are all in spec (n entries, at most WEB_FIELDS_MAX), each of its
    kind and bounds, the required ones present. Returns 0, or a negative collab code
    (COLLAB_E_TOO_LARGE, COLLAB_E_MALFORMED, COLLAB_E_FIELD_MISSING, COLLAB_E_FIELD_TYPE,
    COLLAB_E_LIMIT, COLLAB_E_UTF8, COLLAB_E_BAD_TEXT) with the reason in err. */
int web_parse_body(const char *body, size_t len, const web_field_t *spec, size_t n,
                   web_values_t *out, char *err, size_t errlen);

/*  Finds cookie name in a Cookie header ("a=1; b=2"): copies its value (at most cap - 1
    bytes, else not found) into out. Returns true when found. */
bool web_cookie_get(const char *header, const char *name, char *out, size_t cap);

/*  Last-Event-ID: a whole decimal number of 1..2^53. Returns 0 and *seq, or -1. */
int web_parse_event_id(const char *text, uint64_t *seq);

/*  Whether a session id from a cookie or a query is well formed: 1..128 printable ASCII
    bytes without space, quote, semicolon, comma or backslash. */
bool web_session_id_ok(const char *id);

/*  Whether a URL path (already percent-decoded) may name a static file: starts with '/',
    at most 256 bytes, its components are 1..64 bytes of [A-Za-z0-9_.-] not starting with
    '.' nor holding "..", no empty component but a final '/'. Refuses "..", hidden files,
    backslashes. */
bool web_static_path_ok(const char *path);

/*  The Content-Type for a file name by its extension, "application/octet-stream" else. */
const char *web_content_type(const char *name);

#endif
