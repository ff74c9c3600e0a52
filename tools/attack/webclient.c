/*  webclient.c: the web attacks' HTTP client on libcurl (see webclient.h for why libcurl). */
#include "webclient.h"
#include "labtool.h"

#include <cJSON.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct webc {
    CURL *curl;
    char base[512]; /* ends with '/' */
    char host[128];
    int port;
    int timeout_ms;
    char bearer[4200];
    char cookie[1024];
    char csrf[160];
    char origin[256];
};

webc_t *webc_new(const char *base, int timeout_ms, bool mine)
{
    static bool global;
    if (!global && curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
        fprintf(stderr, "collab-attack: libcurl did not initialise\n");
        return NULL;
    }
    global = true;
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *port = NULL;
    bool ok = u && curl_url_set(u, CURLUPART_URL, base, 0) == CURLUE_OK &&
              curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
              strcmp(scheme, "http") == 0 &&
              curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
              curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK &&
              strlen(host) < 128 && strlen(base) < 500;
    webc_t *w = ok ? calloc(1, sizeof *w) : NULL;
    if (w) {
        size_t n = strlen(host);
        /* [::1] comes back with its brackets: the target rule wants the address */
        snprintf(w->host, sizeof w->host, "%.*s", host[0] == '[' ? (int)n - 2 : (int)n,
                 host + (host[0] == '['));
        w->port = atoi(port);
        snprintf(w->base, sizeof w->base, "%s%s", base, base[strlen(base) - 1] == '/' ? "" : "/");
        w->timeout_ms = timeout_ms;
        /* no browser: it writes the gateway's own Origin, as the gateway's pages would */
        snprintf(w->origin, sizeof w->origin, "%.*s", (int)strlen(w->base) - 1, w->base);
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    if (!ok || !w) {
        free(w);
        fprintf(stderr, "collab-attack: --web must be http://HOST:PORT/, not '%s'\n", base);
        return NULL;
    }
    if (!mine && !lab_target_allowed(w->host)) {
        fprintf(stderr,
                "collab-attack: refusing target %s: not loopback nor a test namespace "
                "(pass --target-is-mine if it is your own)\n",
                w->host);
        free(w);
        return NULL;
    }
    w->curl = curl_easy_init();
    if (!w->curl) {
        free(w);
        return NULL;
    }
    curl_easy_setopt(w->curl, CURLOPT_COOKIEFILE, ""); /* the in-memory cookie jar */
    curl_easy_setopt(w->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(w->curl, CURLOPT_PROTOCOLS_STR, "http");
    curl_easy_setopt(w->curl, CURLOPT_USERAGENT, "collab-attack");
    return w;
}

void webc_destroy(webc_t **w)
{
    if (w && *w) {
        curl_easy_cleanup((*w)->curl);
        free(*w);
        *w = NULL;
    }
}

const char *webc_host(const webc_t *w)
{
    return w->host;
}

int webc_port(const webc_t *w)
{
    return w->port;
}

void webc_set_bearer(webc_t *w, const char *token)
{
    snprintf(w->bearer, sizeof w->bearer, "%s", token ? token : "");
}

void webc_set_cookie(webc_t *w, const char *value)
{
    snprintf(w->cookie, sizeof w->cookie, "%s", value ? value : "");
}

void webc_set_csrf(webc_t *w, const char *token, const char *origin)
{
    snprintf(w->csrf, sizeof w->csrf, "%s", token ? token : "");
    snprintf(w->origin, sizeof w->origin, "%s", origin ? origin : "");
}

typedef struct {
    webc_reply_t *r;
    bool overflow;
} sink_t;

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
    sink_t *s = arg;
    size_t add = size * n;
    if (s->r->len + add > WEBC_BODY_MAX) {
        s->overflow = true;
        return 0; /* libcurl stops the transfer */
    }
    char *grown = realloc(s->r->body, s->r->len + add + 1);
    if (!grown)
        return 0;
    s->r->body = grown;
    memcpy(grown + s->r->len, data, add);
    s->r->len += add;
    grown[s->r->len] = '\0';
    return add;
}

static struct curl_slist *headers(const webc_t *w, bool json)
{
    struct curl_slist *h = NULL;
    char line[4400];
    if (json)
        h = curl_slist_append(h, "Content-Type: application/json");
    if (w->bearer[0]) {
        snprintf(line, sizeof line, "Authorization: Bearer %s", w->bearer);
        h = curl_slist_append(h, line);
    }
    if (w->csrf[0]) {
        snprintf(line, sizeof line, "X-CSRF-Token: %s", w->csrf);
        h = curl_slist_append(h, line);
    }
    if (w->origin[0]) {
        snprintf(line, sizeof line, "Origin: %s", w->origin);
        h = curl_slist_append(h, line);
    }
    return h;
}

int webc_request(webc_t *w, const char *method, const char *path, const char *body, webc_reply_t *r)
{
    memset(r, 0, sizeof *r);
    char url[1400];
    snprintf(url, sizeof url, "%s%s", w->base, path[0] == '/' ? path + 1 : path);
    sink_t sink = {r, false};
    struct curl_slist *h = headers(w, body != NULL);
    CURL *c = w->curl;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)(body ? strlen(body) : 0));
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_COOKIE, w->cookie[0] ? w->cookie : NULL);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)w->timeout_ms);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
    CURLcode rc = curl_easy_perform(c);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
    curl_slist_free_all(h);
    if (rc != CURLE_OK || sink.overflow) {
        snprintf(r->failure, sizeof r->failure, "%s %.80s: %s", method, url,
                 sink.overflow ? "reply body too large" : curl_easy_strerror(rc));
        return -1;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
    if (!r->body && !(r->body = calloc(1, 1)))
        return -1;
    cJSON *j = r->status >= 400 ? cJSON_Parse(r->body) : NULL;
    const char *e = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "error"));
    snprintf(r->error, sizeof r->error, "%s", e ? e : "");
    cJSON_Delete(j);
    return 0;
}

void webc_reply_free(webc_reply_t *r)
{
    free(r->body);
    r->body = NULL;
    r->len = 0;
}

int webc_login(webc_t *w, const char *agent, const char *password, webc_reply_t *r)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "agent_id", agent);
    cJSON_AddStringToObject(o, "password", password);
    char *body = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    int rc = body ? webc_request(w, "POST", "api/login", body, r) : -1;
    if (body) /* the password does not outlive the request */
        memset(body, 0, strlen(body));
    free(body);
    return rc;
}

long webc_me(webc_t *w, char *agent, size_t acap, char *role, size_t rcap)
{
    webc_reply_t r;
    long status = webc_request(w, "GET", "api/me", NULL, &r) == 0 ? r.status : 0;
    cJSON *j = status == 200 ? cJSON_Parse(r.body) : NULL;
    const char *a = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "agent_id"));
    const char *ro = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "role"));
    const char *csrf = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "csrf"));
    if (agent)
        snprintf(agent, acap, "%s", a ? a : "");
    if (role)
        snprintf(role, rcap, "%s", ro ? ro : "");
    if (csrf && strlen(csrf) < sizeof w->csrf) {
        char origin[200];
        snprintf(origin, sizeof origin, "%.*s", (int)strlen(w->base) - 1, w->base);
        webc_set_csrf(w, csrf, origin);
    }
    cJSON_Delete(j);
    webc_reply_free(&r);
    return status;
}
