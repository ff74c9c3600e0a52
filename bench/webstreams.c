/*  webstreams.c: the web benchmark's stream client (docs/WEB.md 8). It stands for N browsers:
    each logs in to collab-web (POST /api/login, its own web session) and opens the page's one
    event stream (GET /api/events, text/event-stream). Every event's `data` carries the
    broker's timestamp (`ts`, Unix ms, set when the broker made the event), so the delay from
    the event leaving the broker to its arrival here is now - ts, on the same machine's clock.
    libcurl's multi interface drives every connection from one thread; the streams are parsed
    line by line as the SSE format says (`id:`, `event:`, `data:`, a blank line ends one).

    It prints `ready streams=N` once every stream has its 200 and headers (the caller then
    starts the events), and at the end one line `result streams=N events=E per_stream_min=M
    p50_ms=.. p99_ms=.. max_ms=.. errors=X` with, given --pid (the gateway's), its resident
    memory after the logins and with every stream open, and the difference per stream.
    Usage: webstreams -h */
#include "collab_client.h"
#include "collab_clock.h"
#include "lg_hist.h"
#include "lg_proc.h"

#include <cJSON.h>
#include <curl/curl.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#define MAX_STREAMS 4096
#define LINE_MAX_B  16384 /* an event's data line at most (the gateway bounds events smaller) */
#define COOKIE_MAX  512

typedef struct {
    CURL *easy;
    char cookie[COOKIE_MAX];
    char line[LINE_MAX_B];
    size_t line_len;
    bool overflow; /* the current line was longer than LINE_MAX_B: dropped, counted */
    long status;
    bool ready;
    uint64_t events;
    char login_body[256];
} stream_t;

/*  The direct subscriber (--broker): the same agent on the bus itself, subscribed to every
    event, on its own thread. Its delay from the broker's timestamp covers what happens
    before an event leaves the broker (the commit, and its fsync), which the streams' delay
    covers too: the difference is the gateway's share. */
typedef struct {
    const char *broker, *creds, *agent, *password;
    pthread_t thread;
    atomic_bool stop, recording; /* set by the main thread, read by the subscriber */
    bool started;
    lg_hist_t hist;
    int rc;
} direct_t;

typedef struct {
    const char *url, *agent, *password;
    int streams, pid;
    double duration_s;
    long rss_logged_kb, rss_streams_kb;
    stream_t *s;
    lg_hist_t hist;
    uint64_t errors;
    direct_t direct;
} bench_t;

static void usage(FILE *out)
{
    fprintf(
        out,
        "usage: webstreams --url http://HOST:PORT --agent ID --password PW [--streams N]\n"
        "                  [--duration S] [--pid PID]\n"
        "  --streams N    browsers: each logs in and opens one event stream (default 200)\n"
        "  --duration S   seconds to collect events once every stream is open (default 10)\n"
        "  --pid PID      the gateway's process: its RSS after the logins and with the streams\n"
        "  stdout: `ready streams=N` when all are open, then one `result ...` line\n");
}

static uint64_t wall_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (uint64_t)tv.tv_sec * 1000u + (uint64_t)tv.tv_usec / 1000u;
}

/*  One complete SSE line of stream s: a `data:` line's JSON gives the event's delay. */
static void on_line(bench_t *b, stream_t *s, const char *line)
{
    if (strncmp(line, "data:", 5) != 0)
        return; /* id:, event:, a comment (keep-alive), the blank line between events */
    cJSON *j = cJSON_Parse(line + 5);
    const cJSON *ts = cJSON_GetObjectItemCaseSensitive(j, "ts");
    if (cJSON_IsNumber(ts) && ts->valuedouble > 0) {
        double now = (double)wall_ms(), d = now - ts->valuedouble;
        lg_hist_add(&b->hist, (uint64_t)((d < 0 ? 0 : d) * 1e6));
        s->events++;
    } else
        b->errors++;
    cJSON_Delete(j);
}

typedef struct {
    bench_t *b;
    stream_t *s;
} ctx_t;

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
    ctx_t *c = arg;
    stream_t *s = c->s;
    size_t len = size * n;
    for (size_t i = 0; i < len; i++) {
        char ch = data[i];
        if (ch == '\n') {
            if (!s->overflow) {
                s->line[s->line_len] = '\0';
                if (s->line_len > 0 && s->line[s->line_len - 1] == '\r')
                    s->line[s->line_len - 1] = '\0';
                on_line(c->b, s, s->line);
            } else
                c->b->errors++;
            s->line_len = 0;
            s->overflow = false;
        } else if (s->line_len + 1 < sizeof s->line)
            s->line[s->line_len++] = ch;
        else
            s->overflow = true;
    }
    return len;
}

/*  Keeps the first cookie of the login reply's Set-Cookie (name=value, attributes dropped). */
static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
    stream_t *s = arg;
    size_t len = size * n;
    static const char key[] = "set-cookie:";
    if (len > sizeof key - 1 && strncasecmp(data, key, sizeof key - 1) == 0 && !s->cookie[0]) {
        const char *v = data + sizeof key - 1;
        while (v < data + len && *v == ' ')
            v++;
        size_t vl = 0;
        while (v + vl < data + len && v[vl] != ';' && v[vl] != '\r' && v[vl] != '\n')
            vl++;
        if (vl < sizeof s->cookie)
            snprintf(s->cookie, sizeof s->cookie, "%.*s", (int)vl, v);
    }
    return len;
}

static size_t discard(char *data, size_t size, size_t n, void *arg)
{
    (void)data;
    (void)arg;
    return size * n;
}

static uint64_t wall_ms(void);

static void *direct_run(void *arg)
{
    direct_t *d = arg;
    collab_client_opts_t o = {.endpoint = d->broker,
                              .agent_id = d->agent,
                              .password = d->password,
                              .timeout_ms = 5000,
                              .retries = 1};
    char err[256];
    o.has_key = collab_client_load_key(d->creds, d->agent, o.key, err, sizeof err) == 0;
    collab_client_t *c = collab_client_new(&o);
    d->rc = !c || collab_client_login(c) != 0 || collab_client_subscribe(c, true) != 0;
    if (d->rc)
        fprintf(stderr, "webstreams: the direct subscriber could not log in and subscribe\n");
    while (!d->rc && !atomic_load(&d->stop)) {
        collab_event_msg_t ev;
        if (collab_client_next_event(c, &ev, 100) != 0)
            continue;
        uint64_t now = wall_ms();
        if (atomic_load(&d->recording))
            lg_hist_add(&d->hist, (now > ev.timestamp ? now - ev.timestamp : 0) * 1000000u);
        collab_event_free(&ev);
    }
    collab_client_destroy(&c);
    return NULL;
}

/*  Logs every browser in, a few at a time (the broker hashes each password). */
static int login_all(bench_t *b)
{
    char url[512];
    snprintf(url, sizeof url, "%s/api/login", b->url);
    CURLM *m = curl_multi_init();
    struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: application/json");
    int next = 0, running = 0, done = 0, failed = 0;
    while (done < b->streams) {
        while (next < b->streams && running < 16) {
            stream_t *s = &b->s[next++];
            cJSON *body = cJSON_CreateObject();
            cJSON_AddStringToObject(body, "agent_id", b->agent);
            cJSON_AddStringToObject(body, "password", b->password);
            if (!cJSON_PrintPreallocated(body, s->login_body, sizeof s->login_body, 0))
                s->login_body[0] = '\0';
            cJSON_Delete(body);
            CURL *e = curl_easy_init();
            curl_easy_setopt(e, CURLOPT_URL, url);
            curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdr);
            curl_easy_setopt(e, CURLOPT_POSTFIELDS, s->login_body);
            curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
            curl_easy_setopt(e, CURLOPT_HEADERDATA, s);
            curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
            curl_easy_setopt(e, CURLOPT_TIMEOUT, 60L);
            curl_easy_setopt(e, CURLOPT_PRIVATE, s);
            curl_multi_add_handle(m, e);
            running++;
        }
        int still;
        curl_multi_perform(m, &still);
        curl_multi_poll(m, NULL, 0, 100, NULL);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(m, &left))) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            stream_t *s;
            long code = 0;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
            curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &code);
            if (msg->data.result != CURLE_OK || code != 200 || !s->cookie[0]) {
                fprintf(stderr, "webstreams: login %d: %s, HTTP %ld\n", (int)(s - b->s),
                        curl_easy_strerror(msg->data.result), code);
                failed++;
            }
            curl_multi_remove_handle(m, msg->easy_handle);
            curl_easy_cleanup(msg->easy_handle);
            running--;
            done++;
        }
    }
    curl_slist_free_all(hdr);
    curl_multi_cleanup(m);
    return failed ? -1 : 0;
}

static int run(bench_t *b)
{
    char url[512];
    snprintf(url, sizeof url, "%s/api/events", b->url);
    CURLM *m = curl_multi_init();
    ctx_t *ctx = calloc((size_t)b->streams, sizeof *ctx);
    if (!ctx)
        return -1;
    for (int i = 0; i < b->streams; i++) {
        stream_t *s = &b->s[i];
        ctx[i] = (ctx_t){b, s};
        s->easy = curl_easy_init();
        curl_easy_setopt(s->easy, CURLOPT_URL, url);
        curl_easy_setopt(s->easy, CURLOPT_COOKIE, s->cookie);
        curl_easy_setopt(s->easy, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(s->easy, CURLOPT_WRITEDATA, &ctx[i]);
        curl_easy_setopt(s->easy, CURLOPT_PRIVATE, s);
        curl_multi_add_handle(m, s->easy);
    }
    int nready = 0, still = 1;
    uint64_t start = 0, deadline = (uint64_t)collab_mono_ms() + 60000; /* to open them all */
    while (still) {
        curl_multi_perform(m, &still);
        for (int i = 0; nready < b->streams && i < b->streams; i++) {
            stream_t *s = &b->s[i];
            if (!s->ready) {
                curl_easy_getinfo(s->easy, CURLINFO_RESPONSE_CODE, &s->status);
                if (s->status == 200) {
                    s->ready = true;
                    nready++;
                }
            }
        }
        if (!start && nready == b->streams) {
            lg_proc_t p;
            if (b->pid > 0 && lg_proc_sample(b->pid, &p) == 0)
                b->rss_streams_kb = p.rss_kb;
            lg_hist_reset(&b->hist);                  /* only what arrives once all are open */
            atomic_store(&b->direct.recording, true); /* from now on, as the streams */
            printf("ready streams=%d\n", nready);
            fflush(stdout);
            start = (uint64_t)collab_mono_ms();
        }
        uint64_t now = (uint64_t)collab_mono_ms();
        if (start && now - start >= (uint64_t)(b->duration_s * 1000))
            break;
        if (!start && now > deadline) {
            fprintf(stderr, "webstreams: only %d of %d streams opened\n", nready, b->streams);
            break;
        }
        curl_multi_poll(m, NULL, 0, 50, NULL);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(m, &left)))
            if (msg->msg == CURLMSG_DONE) { /* a stream closed: the gateway dropped it */
                fprintf(stderr, "webstreams: a stream ended: %s\n",
                        curl_easy_strerror(msg->data.result));
                b->errors++;
            }
    }
    uint64_t min = UINT64_MAX;
    for (int i = 0; i < b->streams; i++) {
        min = b->s[i].events < min ? b->s[i].events : min;
        curl_multi_remove_handle(m, b->s[i].easy);
        curl_easy_cleanup(b->s[i].easy);
    }
    curl_multi_cleanup(m);
    free(ctx);
    if (b->direct.started) { /* stopped before its figures are read */
        atomic_store(&b->direct.stop, true);
        pthread_join(b->direct.thread, NULL);
        b->direct.started = false;
    }
    const lg_hist_t *dh = &b->direct.hist;
    printf("result streams=%d opened=%d events=%llu per_stream_min=%llu p50_ms=%.2f "
           "p99_ms=%.2f max_ms=%.2f errors=%llu rss_logged_kb=%ld rss_streams_kb=%ld "
           "bytes_per_stream=%.0f direct_events=%llu direct_p50_ms=%.2f direct_p99_ms=%.2f "
           "above_direct_p99_ms=%.2f\n",
           b->streams, nready, (unsigned long long)b->hist.total, (unsigned long long)min,
           lg_hist_quantile(&b->hist, 0.5) / 1e6, lg_hist_quantile(&b->hist, 0.99) / 1e6,
           (double)b->hist.max / 1e6, (unsigned long long)b->errors, b->rss_logged_kb,
           b->rss_streams_kb,
           b->rss_streams_kb && b->rss_logged_kb
               ? (double)(b->rss_streams_kb - b->rss_logged_kb) * 1024.0 / b->streams
               : 0.0,
           (unsigned long long)dh->total, lg_hist_quantile(dh, 0.5) / 1e6,
           lg_hist_quantile(dh, 0.99) / 1e6,
           dh->total ? (lg_hist_quantile(&b->hist, 0.99) - (double)lg_hist_quantile(dh, 0.99)) / 1e6
                     : 0.0);
    return start && nready == b->streams ? 0 : -1;
}

int main(int argc, char **argv)
{
    bench_t b = {.streams = 200, .duration_s = 10};
    static const struct option opts[] = {
        {"url", required_argument, NULL, 'u'},      {"agent", required_argument, NULL, 'a'},
        {"password", required_argument, NULL, 'p'}, {"streams", required_argument, NULL, 'n'},
        {"duration", required_argument, NULL, 'd'}, {"pid", required_argument, NULL, 'P'},
        {"broker", required_argument, NULL, 'B'},   {"creds", required_argument, NULL, 'C'},
        {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0}};
    int o;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (o) {
        case 'u':
            b.url = optarg;
            break;
        case 'a':
            b.agent = optarg;
            break;
        case 'p':
            b.password = optarg;
            break;
        case 'n':
            b.streams = atoi(optarg);
            break;
        case 'B':
            b.direct.broker = optarg;
            break;
        case 'C':
            b.direct.creds = optarg;
            break;
        case 'P':
            b.pid = atoi(optarg);
            break;
        case 'd':
            b.duration_s = atof(optarg);
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!b.url || !b.agent || !b.password || b.streams < 1 || b.streams > MAX_STREAMS ||
        !(b.duration_s > 0)) {
        usage(stderr);
        return 2;
    }
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
        return 1;
    b.s = calloc((size_t)b.streams, sizeof *b.s);
    int rc = 1;
    if (b.s && login_all(&b) == 0) {
        lg_proc_t p; /* the gateway with every web session, before any stream */
        if (b.pid > 0 && lg_proc_sample(b.pid, &p) == 0)
            b.rss_logged_kb = p.rss_kb;
        if (b.direct.broker && b.direct.creds) {
            b.direct.agent = b.agent;
            b.direct.password = b.password;
            b.direct.started = pthread_create(&b.direct.thread, NULL, direct_run, &b.direct) == 0;
        }
        rc = run(&b) == 0 ? 0 : 1;
    }
    free(b.s);
    curl_global_cleanup();
    return rc;
}
