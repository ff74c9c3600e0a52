/*  http.h: collab-web's libmicrohttpd glue: the daemon (epoll, suspend/resume), one request
    context per HTTP request, the checks every request passes before its route (rate limits,
    the web session, CSRF, the body's bounds), the answers with their headers and cookies,
    and one log line per request. */
#ifndef WEB_HTTP_H
#define WEB_HTTP_H

#include "gw_self.h"
#include "websess.h"

#include <cjson/cJSON.h>

typedef int (*web_handler_fn)(webreq_t *req);

/*  One route: the handler is called once the checks passed; it answers at once or later
    (after a bus call), and the connection is suspended meanwhile. */
typedef struct web_route {
    const char *method, *path;
    bool session;            /* a web session is required */
    const web_field_t *body; /* the JSON body's fields (NULL: no body) */
    size_t nbody;
    web_handler_fn fn;
} web_route_t;

struct webreq {
    gateway_t *gw;
    struct MHD_Connection *conn;
    const web_route_t *route;
    char method[8];
    char path[300]; /* the path only, never the query (it may hold a session); "" when the
                       request's was longer (no route and no file has such a path) */
    char addr[WEB_ADDR_MAX];
    char ua[160];
    char *body;
    size_t body_len;
    bool body_too_large;
    websess_t *sess; /* lent; NULL when the route needs none or it ended */
    web_values_t *values;
    bool suspended, answered, queued;
    bool bearer; /* the session came from a bearer token, not a cookie */
    unsigned status;
    struct MHD_Response *resp;
    char set_cookie[400];
    unsigned retry_after_s; /* a 429's Retry-After (at least 1) */
    int64_t started_ms;
    void *job; /* a handler's state across bus calls, freed with job_free */
    void (*job_free)(void *job);
};

/*  Starts the daemon on the settings' bind address (port 0: an ephemeral one) and writes
    the port it got into *port. NULL with the reason in err. */
struct MHD_Daemon *http_start(gateway_t *gw, const web_settings_t *set, uint16_t *port, char *err,
                              size_t errlen);

/*  Answers req with status and the JSON body (taken; NULL answers 500). Resumes the
    connection when it was suspended. A second answer is ignored. */
void web_answer(webreq_t *req, unsigned status, cJSON *body);
/*  {"error": name, "message": message} with status. */
void web_answer_error(webreq_t *req, unsigned status, const char *name, const char *message);
/*  The refusal of a bus call: the broker's error (name and text), or 504 timeout, or 401
    when the web session ended. */
void web_answer_bus(webreq_t *req, const collab_reply_t *reply, int rc);
/*  Answers with a response of the caller's (taken), e.g. a file or an event stream. */
void web_answer_response(webreq_t *req, unsigned status, struct MHD_Response *resp);

/*  A request header or query argument, or NULL (lent by libmicrohttpd). */
const char *web_header(const webreq_t *req, const char *name);
const char *web_query(const webreq_t *req, const char *name);

/*  The cookie that carries the web session, set (session not NULL) or cleared. */
void web_set_session_cookie(webreq_t *req, const websess_t *session);

/*  Adds the headers every response carries under the controls in force. */
void web_common_headers(const web_settings_t *set, struct MHD_Response *resp, bool api);

#endif
