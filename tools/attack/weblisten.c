/*  weblisten.c: the attacker's listener on libmicrohttpd (see weblisten.h). */
#include "weblisten.h"
#include "collab_clock.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct webl {
    struct MHD_Daemon *d;
    char url[64];
    char *page;
    pthread_mutex_t lock;
    webl_hit_t hits[WEBL_MAX_HITS];
    int nhits;   /* kept (at most WEBL_MAX_HITS) */
    int total;   /* came */
    int wake[2]; /* a byte per request: the attack's poll wakes */
};

bool webl_query_value(const char *url, const char *name, char *out, size_t cap)
{
    const char *q = url ? strchr(url, '?') : NULL;
    const char *frag = url ? strchr(url, '#') : NULL;
    size_t n = strlen(name);
    out[0] = '\0';
    if (frag && q > frag) /* a '?' in the fragment starts no query */
        return false;
    for (const char *p = q; p && *p && *p != '#'; p = strpbrk(p + 1, "&#")) {
        if (*p == '#')
            break;
        if (strncmp(p + 1, name, n) != 0 || p[1 + n] != '=')
            continue;
        const char *v = p + 2 + n;
        size_t len =
            strspn(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.~-");
        if (len == 0 || len >= cap || (v[len] && v[len] != '&' && v[len] != '#'))
            return false;
        snprintf(out, cap, "%.*s", (int)len, v);
        return true;
    }
    return false;
}

static void copy_header(struct MHD_Connection *c, const char *name, char *out, size_t cap)
{
    const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, name);
    snprintf(out, cap, "%s", v ? v : "");
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_len, void **state)
{
    (void)version;
    (void)upload;
    webl_t *l = cls;
    static int first;
    if (!*state) { /* headers only so far: the body (none for a GET) comes next */
        *state = &first;
        return MHD_YES;
    }
    if (*upload_len) { /* a body is not read: dropped */
        *upload_len = 0;
        return MHD_YES;
    }
    webl_hit_t hit = {0};
    snprintf(hit.path, sizeof hit.path, "%s", url);
    const char *s = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "session");
    snprintf(hit.session, sizeof hit.session, "%s", s ? s : "");
    copy_header(c, MHD_HTTP_HEADER_REFERER, hit.referer, sizeof hit.referer);
    copy_header(c, MHD_HTTP_HEADER_COOKIE, hit.cookie, sizeof hit.cookie);
    pthread_mutex_lock(&l->lock);
    if (l->nhits < WEBL_MAX_HITS)
        l->hits[l->nhits++] = hit;
    l->total++;
    pthread_mutex_unlock(&l->lock);
    if (write(l->wake[1], "h", 1) < 0) { /* a full pipe already wakes the attack */
    }
    bool get = strcmp(method, "GET") == 0;
    const char *body = get && strcmp(url, "/") == 0 ? l->page : "ok\n";
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/html; charset=utf-8");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    enum MHD_Result rc = MHD_queue_response(c, get ? MHD_HTTP_OK : MHD_HTTP_METHOD_NOT_ALLOWED, r);
    MHD_destroy_response(r);
    return rc;
}

webl_t *webl_start(const char *addr, const char *page)
{
    webl_t *l = calloc(1, sizeof *l);
    struct sockaddr_in sa = {.sin_family = AF_INET};
    if (!l || inet_pton(AF_INET, addr, &sa.sin_addr) != 1 || !(l->page = strdup(page)) ||
        pipe2(l->wake, O_CLOEXEC | O_NONBLOCK) != 0) {
        fprintf(stderr, "collab-attack: cannot start a listener on '%s'\n", addr);
        if (l)
            free(l->page);
        free(l);
        return NULL;
    }
    pthread_mutex_init(&l->lock, NULL);
    l->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
                            on_request, l, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                            MHD_OPTION_CONNECTION_LIMIT, 32u, MHD_OPTION_CONNECTION_TIMEOUT, 10u,
                            MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)32768, MHD_OPTION_END);
    const union MHD_DaemonInfo *info =
        l->d ? MHD_get_daemon_info(l->d, MHD_DAEMON_INFO_BIND_PORT) : NULL;
    if (!info || !info->port) {
        fprintf(stderr, "collab-attack: the listener on %s did not start\n", addr);
        webl_stop(&l);
        return NULL;
    }
    snprintf(l->url, sizeof l->url, "http://%s:%u/", addr, (unsigned)info->port);
    return l;
}

void webl_stop(webl_t **lp)
{
    webl_t *l = lp ? *lp : NULL;
    if (!l)
        return;
    if (l->d)
        MHD_stop_daemon(l->d); /* joins its thread: nothing touches l after this */
    close(l->wake[0]);
    close(l->wake[1]);
    pthread_mutex_destroy(&l->lock);
    free(l->page);
    free(l);
    *lp = NULL;
}

const char *webl_url(const webl_t *l)
{
    return l->url;
}

int webl_count(webl_t *l)
{
    pthread_mutex_lock(&l->lock);
    int n = l->total;
    pthread_mutex_unlock(&l->lock);
    return n;
}

static bool find(webl_t *l, const char *prefix, webl_hit_t *hit)
{
    bool found = false;
    pthread_mutex_lock(&l->lock);
    for (int i = 0; i < l->nhits && !found; i++) {
        const webl_hit_t *h = &l->hits[i];
        if (prefix[0] ? strncmp(h->path, prefix, strlen(prefix)) == 0
                      : strcmp(h->path, "/favicon.ico") != 0) {
            *hit = *h;
            found = true;
        }
    }
    pthread_mutex_unlock(&l->lock);
    return found;
}

bool webl_wait(webl_t *l, const char *prefix, webl_hit_t *hit, int timeout_ms)
{
    long long deadline = collab_mono_ms() + timeout_ms;
    for (;;) {
        if (find(l, prefix, hit))
            return true;
        long long left = deadline - collab_mono_ms();
        struct pollfd p = {l->wake[0], POLLIN, 0};
        if (left <= 0 || poll(&p, 1, (int)left) < 0)
            return find(l, prefix, hit);
        char drain[64];
        while (read(l->wake[0], drain, sizeof drain) > 0)
            ;
    }
}
