/*  http.c: libmicrohttpd glue (http.h): the daemon, the checks before a route, the
    answers and their headers, suspend and resume, one log line per request. */
#include "http.h"
#include "api.h"
#include "collab_clock.h"
#include "json.h"
#include "webstatic.h"
#include "bearer.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#define HTTP_CONNECTIONS_MAX 1024
#define HTTP_MEMORY_LIMIT    (32 * 1024) /* per connection: bounds the request headers */
#define HTTP_IDLE_TIMEOUT_S  60

static void queue(webreq_t *req)
{
    req->queued = true;
    MHD_queue_response(req->conn, req->status, req->resp);
    MHD_destroy_response(req->resp);
    req->resp = NULL;
}

void web_common_headers(const web_settings_t *set, struct MHD_Response *resp, bool api)
{
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    if (api)
        MHD_add_response_header(resp, "Cache-Control", "no-store");
    if (set->strong_session)
        MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
    if (set->strong_output)
        MHD_add_response_header(resp, "Content-Security-Policy",
                                "default-src 'self'; script-src 'self'; object-src 'none'; "
                                "base-uri 'none'; frame-ancestors 'none'");
}

void web_answer_response(webreq_t *req, unsigned status, struct MHD_Response *resp)
{
    if (req->answered) {
        MHD_destroy_response(resp);
        return;
    }
    req->answered = true;
    req->status = status;
    req->resp = resp;
    web_common_headers(gw_settings(req->gw), resp, strncmp(req->path, "/api/", 5) == 0);
    if (req->set_cookie[0])
        MHD_add_response_header(resp, "Set-Cookie", req->set_cookie);
    if (status == 429) {
        char secs[16];
        snprintf(secs, sizeof secs, "%u", req->retry_after_s ? req->retry_after_s : 1);
        MHD_add_response_header(resp, "Retry-After", secs);
    }
    if (req->suspended) {
        req->suspended = false;
        MHD_resume_connection(req->conn);
    }
}

void web_answer(webreq_t *req, unsigned status, cJSON *body)
{
    char *text = body ? cJSON_PrintUnformatted(body) : NULL;
    cJSON_Delete(body);
    if (!text) {
        static const char oom[] = "{\"error\":\"nomem\",\"message\":\"out of memory\"}";
        status = 500;
        text = strdup(oom);
    }
    struct MHD_Response *resp =
        text ? MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE) : NULL;
    if (!resp) {
        free(text);
        return; /* no memory even for that: the connection is closed when it ends */
    }
    MHD_add_response_header(resp, "Content-Type", "application/json");
    web_answer_response(req, status, resp);
}

void web_answer_error(webreq_t *req, unsigned status, const char *name, const char *message)
{
    web_answer(req, status, web_json_error(name, message));
}

void web_answer_bus(webreq_t *req, const collab_reply_t *reply, int rc)
{
    int code = rc ? rc : reply->code;
    const char *text = rc == 0 && reply->error[0] ? reply->error : collab_strerror(code);
    if (rc == COLLAB_E_SESSION_INVALID)
        text = "the web session ended";
    else if (rc == COLLAB_E_TIMEOUT) /* a write is never sent twice (docs/WEB.md 2) */
        text = "the bus did not answer in time: a change may or may not have been made; read "
               "the board before sending it again";
    web_answer_error(req, web_status_for(code), collab_errname(code), text);
}

const char *web_header(const webreq_t *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *web_query(const webreq_t *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

void web_set_session_cookie(webreq_t *req, const websess_t *s)
{
    const web_settings_t *set = gw_settings(req->gw);
    if (set->strong_session)
        snprintf(req->set_cookie, sizeof req->set_cookie,
                 "%s=%s; Secure; Path=/; HttpOnly; SameSite=Strict%s", WEB_COOKIE_STRONG,
                 s ? s->id : "", s ? "" : "; Max-Age=0");
    else
        snprintf(req->set_cookie, sizeof req->set_cookie, "%s=%s; Path=/%s", WEB_COOKIE_WEAK,
                 s ? s->id : "", s ? "" : "; Max-Age=0");
}

/*  The session of a bearer token (control 21, bearer.c over helper webjwt's
    web/jwt_check.c: built with it only). Without it a request with one is refused. */
static websess_t *bearer_session(webreq_t *req, const char *token, const char **why)
{
    return web_bearer_session(gw_bearer(req->gw), gw_sessions(req->gw), token, why);
}

/*  The session the request presents: a bearer token; or under strong web_session only the
    __Host- cookie; under weak the tc_session cookie or ?session=. */
static websess_t *find_session(webreq_t *req, const char **why)
{
    const web_settings_t *set = gw_settings(req->gw);
    const char *auth = web_header(req, "Authorization");
    *why = "session_invalid";
    req->bearer = auth && strncasecmp(auth, "Bearer ", 7) == 0;
    if (req->bearer)
        return bearer_session(req, auth + 7, why);
    char id[COLLAB_MAX_SESSION_ID + 1];
    const char *cookies = web_header(req, "Cookie");
    if (set->strong_session) {
        if (!web_cookie_get(cookies, WEB_COOKIE_STRONG, id, sizeof id))
            return NULL;
    } else if (!web_cookie_get(cookies, WEB_COOKIE_WEAK, id, sizeof id)) {
        const char *q = web_query(req, "session");
        if (!q || strlen(q) >= sizeof id)
            return NULL;
        snprintf(id, sizeof id, "%s", q);
    }
    return web_session_id_ok(id) ? websess_find(gw_sessions(req->gw), id) : NULL;
}

bool web_csrf_strict_ok(webreq_t *req)
{
    const web_settings_t *set = gw_settings(req->gw);
    const char *origin = web_header(req, "Origin");
    if (!origin || strcmp(origin, set->origin) != 0)
        return false;
    return !req->sess || websess_csrf_ok(req->sess, web_header(req, WEB_CSRF_HEADER));
}

/*  Control 19 under strong: an exact Origin, and on a session's POST its token. */
static bool csrf_ok(webreq_t *req)
{
    const web_settings_t *set = gw_settings(req->gw);
    if (!set->strong_csrf || strcmp(req->method, "POST") != 0 || req->bearer)
        return true; /* a bearer token is a script's header, which no browser adds itself */
    return web_csrf_strict_ok(req);
}

static bool rate_ok(webreq_t *req, web_bucket_t *b)
{
    const web_settings_t *set = gw_settings(req->gw);
    int64_t now = collab_mono_ms();
    int64_t wait = b ? web_bucket_take(b, set->rate_per_s, set->rate_burst, now)
                     : web_rate_take(gw_rate(req->gw), req->addr, now);
    if (wait == 0)
        return true;
    req->retry_after_s = (unsigned)((wait + 999) / 1000);
    web_answer_error(req, 429, "rate_limited", "too many requests: retry later");
    return false;
}

/*  Every check a route's request passes, then the route. */
static void dispatch(webreq_t *req)
{
    const web_route_t *r = req->route;
    if (!rate_ok(req, NULL))
        return;
    if (!r) {
        if (strncmp(req->path, "/api/", 5) == 0 || strcmp(req->path, "/api") == 0)
            web_answer_error(req, 404, "not_found", "no such API route");
        else if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0)
            web_answer_error(req, 405, "method_not_allowed", "only GET for files");
        else
            web_static_serve(req);
        return;
    }
    if (strcmp(r->method, req->method) != 0) {
        web_answer_error(req, 405, "method_not_allowed", "wrong method for this route");
        return;
    }
    if (req->body_too_large) {
        web_answer_error(req, 413, "too_large", "the body is larger than 16 KiB");
        return;
    }
    if (r->session) {
        const char *why;
        req->sess = find_session(req, &why);
        if (!req->sess) {
            web_answer_error(req, 401, why,
                             req->bearer ? "bearer token refused"
                                         : "log in first (no valid web session)");
            return;
        }
        req->sess->last_used_ms = collab_mono_ms();
        if (!rate_ok(req, &req->sess->bucket))
            return;
    }
    if (!csrf_ok(req)) {
        web_answer_error(req, 403, "csrf", "cross-site request refused (Origin or token)");
        return;
    }
    if (r->body) {
        char err[160];
        if (!(req->values = malloc(sizeof *req->values))) {
            web_answer_error(req, 503, "nomem", "out of memory");
            return;
        }
        int rc = web_parse_body(req->body ? req->body : "", req->body_len, r->body, r->nbody,
                                req->values, err, sizeof err);
        if (rc) {
            web_answer_error(req, web_status_for(rc), collab_errname(rc), err);
            return;
        }
    }
    r->fn(req);
}

static void client_address(struct MHD_Connection *c, char *out, size_t cap)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(out, cap, "?");
    if (!ci || !ci->client_addr)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
                  (socklen_t)cap);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out,
                  (socklen_t)cap);
}

/*  Printable ASCII of s, at most cap - 1 bytes, anything else as '?'. */
static void printable(const char *s, char *out, size_t cap)
{
    size_t i = 0;
    for (; s && s[i] && i + 1 < cap; i++)
        out[i] = s[i] >= ' ' && s[i] < 0x7f && s[i] != '"' ? s[i] : '?';
    out[i] = '\0';
}

static webreq_t *new_request(gateway_t *gw, struct MHD_Connection *c, const char *url,
                             const char *method)
{
    webreq_t *req = calloc(1, sizeof *req);
    if (!req)
        return NULL;
    req->gw = gw;
    req->conn = c;
    req->started_ms = collab_mono_ms();
    printable(method, req->method, sizeof req->method);
    if (strlen(url) < sizeof req->path)
        printable(url, req->path, sizeof req->path);
    client_address(c, req->addr, sizeof req->addr);
    printable(MHD_lookup_connection_value(c, MHD_HEADER_KIND, "User-Agent"), req->ua,
              sizeof req->ua);
    req->route = api_route(method, url);
    return req;
}

/*  Appends an upload chunk, up to WEB_BODY_MAX (beyond: refused when it ends). */
static void take_upload(webreq_t *req, const char *data, size_t n)
{
    if (req->body_too_large || n > WEB_BODY_MAX - req->body_len) {
        req->body_too_large = true;
        return;
    }
    if (!req->body && !(req->body = malloc(WEB_BODY_MAX))) {
        req->body_too_large = true;
        return;
    }
    memcpy(req->body + req->body_len, data, n);
    req->body_len += n;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **con_cls)
{
    (void)version;
    webreq_t *req = *con_cls;
    if (!req) {
        if (!(req = new_request(cls, c, url, method)))
            return MHD_NO;
        *con_cls = req;
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > WEB_BODY_MAX) { /* refused before it is read */
            web_answer_error(req, 413, "too_large", "the body is larger than 16 KiB");
            queue(req);
        }
        return MHD_YES;
    }
    if (*upload_size) {
        if (!req->answered)
            take_upload(req, upload_data, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    if (req->queued)
        return MHD_YES;
    if (!req->answered)
        dispatch(req);
    if (req->answered)
        queue(req);
    else {
        req->suspended = true; /* a bus call is under way: its answer resumes it */
        MHD_suspend_connection(c);
    }
    return MHD_YES;
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode why)
{
    (void)c;
    webreq_t *req = *con_cls;
    if (!req)
        return;
    gw_cancel(cls, req);
    fprintf(stderr, "collab-web: %s %s %s %u%s %lldms \"%s\"\n", req->addr, req->method, req->path,
            req->status, why == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (cut)",
            (long long)(collab_mono_ms() - req->started_ms), req->ua);
    if (req->resp)
        MHD_destroy_response(req->resp);
    if (req->job_free)
        req->job_free(req->job);
    free(req->body);
    free(req->values);
    free(req);
    *con_cls = NULL;
}

struct MHD_Daemon *http_start(gateway_t *gw, const web_settings_t *set, uint16_t *port, char *err,
                              size_t errlen)
{
    struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(set->bind_port)};
    if (inet_pton(AF_INET, set->bind_host, &sin.sin_addr) != 1) {
        snprintf(err, errlen, "--bind: '%s' is not an IPv4 address", set->bind_host);
        return NULL;
    }
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME, 0, NULL, NULL, on_request, gw,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
        gw, MHD_OPTION_CONNECTION_LIMIT, (unsigned)HTTP_CONNECTIONS_MAX,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)HTTP_MEMORY_LIMIT,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)HTTP_IDLE_TIMEOUT_S, MHD_OPTION_END);
    if (!d) {
        snprintf(err, errlen, "cannot listen on %s:%u", set->bind_host, (unsigned)set->bind_port);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_LISTEN_FD);
    struct sockaddr_in got;
    socklen_t len = sizeof got;
    if (!info || getsockname(info->listen_fd, (struct sockaddr *)&got, &len) != 0) {
        MHD_stop_daemon(d);
        snprintf(err, errlen, "cannot read the bound port");
        return NULL;
    }
    *port = ntohs(got.sin_port);
    return d;
}
