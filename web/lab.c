/*  lab.c: the lab page's runs and bus view (lab.h). */
#include "lab.h"
#include "collab_clock.h"
#include "labproc.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REAP_MS     1000 /* a program that closed its pipes (or was told to stop) exits */
#define VERDICT_MAX 8192 /* collab-attack's verdict line */

struct web_lab {
    gateway_t *gw;
    lab_proc_t run, sniff;
    lab_feed_t *run_feed, *bus_feed;
    char attack[64];
    char verdict[VERDICT_MAX]; /* the run's last stdout line */
    int64_t started_ms, deadline_ms, next_keepalive;
};

/*  The first of the gateway's broker endpoints (a cluster's are a comma list). */
static void first_broker(const web_settings_t *set, char *out, size_t cap)
{
    snprintf(out, cap, "%.*s", (int)strcspn(set->broker, ","), set->broker);
}

static cJSON *one(const char *key, const char *value)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, key, value);
    return o;
}

static void bus_stop(web_lab_t *lab)
{
    if (!lab->sniff.live)
        return;
    lab_proc_signal(&lab->sniff, SIGTERM); /* collab-sniff ends a live capture cleanly */
    lab_proc_reap(&lab->sniff, REAP_MS);
    fprintf(stderr, "collab-web: lab: the bus view stopped\n");
}

/*  The bus view's last viewer went: no one watches the sniffer any more. */
static void bus_empty(void *arg)
{
    bus_stop(arg);
}

web_lab_t *lab_new(gateway_t *gw)
{
    web_lab_t *lab = calloc(1, sizeof *lab);
    if (!lab)
        return NULL;
    lab->gw = gw;
    lab->run_feed = lab_feed_new(true, NULL, NULL);
    lab->bus_feed = lab_feed_new(false, bus_empty, lab);
    if (!lab->run_feed || !lab->bus_feed) {
        lab_free(&lab);
        return NULL;
    }
    /* no run yet: a viewer is told so, and its stream ends */
    cJSON *none = cJSON_CreateObject();
    cJSON_AddNullToObject(none, "attack");
    cJSON_AddStringToObject(none, "message", "no attack has run yet");
    lab_feed_event(lab->run_feed, "done", none);
    lab_feed_finish(lab->run_feed);
    return lab;
}

size_t lab_poll_fill(web_lab_t *lab, zmq_pollitem_t *items)
{
    size_t n = lab_proc_fill(&lab->run, items);
    return n + lab_proc_fill(&lab->sniff, items + n);
}

static void run_line(void *arg, int stream, const char *line)
{
    web_lab_t *lab = arg;
    if (stream == 1)
        lab_feed_event(lab->run_feed, "line", one("line", line));
    else if (line[0])
        snprintf(lab->verdict, sizeof lab->verdict, "%s", line);
}

static void bus_line(void *arg, int stream, const char *line)
{
    web_lab_t *lab = arg;
    cJSON *rec = stream == 0 ? cJSON_Parse(line) : NULL;
    if (!cJSON_IsObject(rec)) {
        cJSON_Delete(rec);
        rec = one(stream == 0 ? "line" : "stderr", line);
    }
    lab_feed_event(lab->bus_feed, "bus", rec);
}

/*  The run's end: its verdict (from its --json line, or ERROR with why), then done. */
static void run_finish(web_lab_t *lab, int code, const char *why)
{
    cJSON *v = cJSON_CreateObject(), *line = why ? NULL : cJSON_Parse(lab->verdict);
    const char *verdict = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(line, "verdict"));
    const cJSON *evidence = cJSON_GetObjectItemCaseSensitive(line, "evidence");
    const cJSON *by = cJSON_GetObjectItemCaseSensitive(line, "decided_by");
    char text[256];
    if (!why && !verdict)
        snprintf(text, sizeof text, "collab-attack ended (exit %d) without a verdict line", code);
    cJSON_AddStringToObject(v, "attack", lab->attack);
    cJSON_AddStringToObject(v, "verdict", verdict ? verdict : "ERROR");
    if (verdict && evidence)
        cJSON_AddItemToObject(v, "evidence", cJSON_Duplicate(evidence, true));
    else
        cJSON_AddStringToObject(v, "evidence", why ? why : text);
    if (verdict && cJSON_IsString(by))
        cJSON_AddStringToObject(v, "decided_by", by->valuestring);
    else
        cJSON_AddNullToObject(v, "decided_by");
    fprintf(stderr, "collab-web: lab: %s ended: %s (exit %d)\n", lab->attack,
            verdict ? verdict : "ERROR", code);
    cJSON_Delete(line);
    lab_feed_event(lab->run_feed, "verdict", v);
    cJSON *done = cJSON_CreateObject();
    cJSON_AddStringToObject(done, "attack", lab->attack);
    cJSON_AddNumberToObject(done, "exit", code);
    cJSON_AddNumberToObject(done, "seconds", (double)(collab_mono_ms() - lab->started_ms) / 1000.0);
    lab_feed_event(lab->run_feed, "done", done);
    lab_feed_finish(lab->run_feed);
}

/*  Programs whose pipes reached their end are reaped. */
static void settle(web_lab_t *lab)
{
    if (lab->run.live && lab_proc_eof(&lab->run)) {
        int code = lab_proc_reap(&lab->run, REAP_MS);
        run_finish(lab, code, NULL);
    }
    if (lab->sniff.live && lab_proc_eof(&lab->sniff)) {
        int code = lab_proc_reap(&lab->sniff, REAP_MS);
        char text[96];
        snprintf(text, sizeof text, "collab-sniff ended (exit %d)", code);
        lab_feed_event(lab->bus_feed, "bus", one("stderr", text));
        lab_feed_finish(lab->bus_feed);
    }
}

void lab_poll_handle(web_lab_t *lab, const zmq_pollitem_t *items, size_t n)
{
    lab_proc_handle(&lab->run, items, n);
    lab_proc_handle(&lab->sniff, items, n);
    settle(lab);
}

void lab_tick(web_lab_t *lab, int64_t now)
{
    if (lab->run.live && now >= lab->deadline_ms) {
        lab_proc_signal(&lab->run, SIGKILL);
        lab_proc_reap(&lab->run, REAP_MS);
        char why[96];
        snprintf(why, sizeof why, "timeout: killed after %u s (web.lab_timeout_s)",
                 gw_settings(lab->gw)->lab_timeout_s);
        run_finish(lab, -1, why);
    }
    settle(lab);
    bool keepalive = now >= lab->next_keepalive;
    if (keepalive)
        lab->next_keepalive = now + WEB_KEEPALIVE_MS;
    lab_feed_tick(lab->run_feed, lab->gw, keepalive);
    lab_feed_tick(lab->bus_feed, lab->gw, keepalive);
}

int lab_run_start(web_lab_t *lab, const char *attack, bool web, const char *agent, char *err,
                  size_t errlen)
{
    if (lab->run.live)
        return COLLAB_E_BUSY;
    const web_settings_t *set = gw_settings(lab->gw);
    char broker[COLLAB_ENDPOINTS_MAX], url[WEB_ADDR_MAX + 32];
    first_broker(set, broker, sizeof broker);
    const char *host = strcmp(set->bind_host, "0.0.0.0") == 0 ? "127.0.0.1" : set->bind_host;
    snprintf(url, sizeof url, "http://%s:%u/", host, (unsigned)set->bind_port);
    const char *argv[12] = {set->attack_bin, attack, "--json", "--broker", broker};
    int n = 5;
    if (web)
        argv[n++] = "--web", argv[n++] = url;
    if (set->curve_dir[0])
        argv[n++] = "--curve-dir", argv[n++] = set->curve_dir;
    argv[n] = NULL;
    snprintf(lab->attack, sizeof lab->attack, "%s", attack);
    lab->verdict[0] = '\0';
    if (lab_proc_start(&lab->run, argv, run_line, lab) != 0) {
        snprintf(err, errlen, "cannot start %s", set->attack_bin);
        return COLLAB_E_IO;
    }
    lab->started_ms = collab_mono_ms();
    lab->deadline_ms = lab->started_ms + (int64_t)set->lab_timeout_s * 1000;
    fprintf(stderr, "collab-web: lab: %s runs %s against %s\n", agent, attack, broker);
    lab_feed_reset(lab->run_feed);
    char cmd[LAB_LINE_MAX];
    size_t o = (size_t)snprintf(cmd, sizeof cmd, "$ collab-attack");
    for (int i = 1; i < n && o < sizeof cmd; i++)
        o += (size_t)snprintf(cmd + o, sizeof cmd - o, " %s", argv[i]);
    lab_feed_event(lab->run_feed, "line", one("line", cmd));
    return 0;
}

lab_feed_t *lab_run_feed(web_lab_t *lab)
{
    return lab->run_feed;
}

lab_feed_t *lab_bus_feed(web_lab_t *lab)
{
    return lab->bus_feed;
}

int lab_bus_start(web_lab_t *lab, char *err, size_t errlen)
{
    if (lab->sniff.live)
        return 0;
    const web_settings_t *set = gw_settings(lab->gw);
    char broker[COLLAB_ENDPOINTS_MAX];
    first_broker(set, broker, sizeof broker);
    const char *argv[] = {set->sniff_bin, "-i", "lo", "--broker", broker, "-w", "-", NULL};
    lab_feed_reset(lab->bus_feed);
    if (lab_proc_start(&lab->sniff, argv, bus_line, lab) != 0) {
        snprintf(err, errlen, "cannot start %s", set->sniff_bin);
        return COLLAB_E_IO;
    }
    fprintf(stderr, "collab-web: lab: the bus view started (%s)\n", broker);
    return 0;
}

void lab_stop(web_lab_t *lab)
{
    if (!lab)
        return;
    if (lab->run.live) {
        lab_proc_signal(&lab->run, SIGTERM);
        lab_proc_reap(&lab->run, REAP_MS);
        run_finish(lab, -1, "collab-web is stopping");
    }
    bus_stop(lab);
    lab_feed_close_all(lab->run_feed);
    lab_feed_close_all(lab->bus_feed);
}

void lab_free(web_lab_t **lab)
{
    if (!lab || !*lab)
        return;
    lab_stop(*lab);
    lab_feed_free(&(*lab)->run_feed);
    lab_feed_free(&(*lab)->bus_feed);
    free(*lab);
    *lab = NULL;
}
