/*  webcfg.c: collab-web's settings (webcfg.h). */
#include "webcfg.h"

#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void web_settings_defaults(web_settings_t *set, const char *argv0)
{
    memset(set, 0, sizeof *set);
    collab_config_defaults(&set->cfg);
    web_settings_bind(set, "127.0.0.1:8080");
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0)
        exe[n] = '\0';
    else
        snprintf(exe, sizeof exe, "%s", argv0);
    const char *dir = dirname(exe);
    snprintf(set->static_dir, sizeof set->static_dir, "%s/static", dir);
    snprintf(set->attack_bin, sizeof set->attack_bin, "%.400s/../tools/attack/collab-attack", dir);
    snprintf(set->sniff_bin, sizeof set->sniff_bin, "%.400s/../tools/sniff/collab-sniff", dir);
    /* the source tree's catalogue, as collab-attack finds its files; else the working
       folder's */
    static const char built[] = COLLAB_SOURCE_DIR "/sample_data/attack_scenarios.json";
    snprintf(set->catalogue, sizeof set->catalogue, "%s",
             access(built, R_OK) == 0 ? built : "sample_data/attack_scenarios.json");
    set->rate_per_s = 20;
    set->rate_burst = 40;
    set->max_streams = 256;
    set->timeout_ms = 5000;
    set->login_timeout_ms = 15000;
}

int web_settings_bind(web_settings_t *set, const char *hostport)
{
    const char *colon = strrchr(hostport, ':');
    long port;
    if (!colon || colon == hostport || (size_t)(colon - hostport) >= sizeof set->bind_host ||
        collab_parse_long(colon + 1, 0, 65535, &port) != 0)
        return -1;
    snprintf(set->bind_host, sizeof set->bind_host, "%.*s", (int)(colon - hostport), hostport);
    set->bind_port = (uint16_t)port;
    return 0;
}

/*  The broker's bind as a client's endpoint: a wildcard host is reached on loopback. */
static void broker_from_bind(web_settings_t *set)
{
    const char *b = set->cfg.bind, *colon = strrchr(b, ':');
    if (strncmp(b, "tcp://*:", 8) == 0 || strncmp(b, "tcp://0.0.0.0:", 14) == 0)
        snprintf(set->broker, sizeof set->broker, "tcp://127.0.0.1%s", colon);
    else
        snprintf(set->broker, sizeof set->broker, "%s", b);
}

/*  CURVE: both keys or neither; under strong transport, neither given (nor --curve-dir, the
    agents' own certificates) means the TEST-ONLY pair of the sample data, as the other
    tools default to it: the broker's public certificate where the configuration says
    (transport.server_cert) and the gateway's own, web.cert_secret, beside it
    (sample_data/curve). */
static int curve_from_config(web_settings_t *set, char *err, size_t errlen)
{
    const collab_config_t *cfg = &set->cfg;
    if (!set->curve_server[0] != !set->curve_cert[0]) {
        snprintf(err, errlen, "CURVE needs both --curve-server-key and --curve-cert");
        return -1;
    }
    if (set->curve_server[0] || set->curve_dir[0] || !collab_strong(cfg, COLLAB_CTL_TRANSPORT))
        return 0;
    const char *slash = strrchr(cfg->curve_server_cert, '/');
    int dir = slash ? (int)(slash - cfg->curve_server_cert) : 1;
    snprintf(set->curve_server, sizeof set->curve_server, "%s", cfg->curve_server_cert);
    if (snprintf(set->curve_cert, sizeof set->curve_cert, "%.*s/web.cert_secret", dir,
                 slash ? cfg->curve_server_cert : ".") >= (int)sizeof set->curve_cert) {
        snprintf(err, errlen, "transport.server_cert: too long a path");
        return -1;
    }
    set->curve_test_pair = true;
    return 0;
}

int web_settings_from_config(web_settings_t *set, char *err, size_t errlen)
{
    const collab_config_t *cfg = &set->cfg;
    set->strong_session = collab_strong(cfg, COLLAB_CTL_WEB_SESSION);
    set->strong_csrf = collab_strong(cfg, COLLAB_CTL_CSRF);
    set->strong_output = collab_strong(cfg, COLLAB_CTL_WEB_OUTPUT);
    set->strong_token = collab_strong(cfg, COLLAB_CTL_WEB_TOKEN);
    if (!set->broker[0])
        broker_from_bind(set);
    if (cfg->web_bind[0] && web_settings_bind(set, cfg->web_bind) != 0) {
        snprintf(err, errlen, "web.bind: '%s' is not HOST:PORT", cfg->web_bind);
        return -1;
    }
    if (cfg->web_static_dir[0])
        snprintf(set->static_dir, sizeof set->static_dir, "%s", cfg->web_static_dir);
    snprintf(set->origin, sizeof set->origin, "%s", cfg->web_origin);
    set->rate_per_s = cfg->web_rate_per_s;
    set->rate_burst = cfg->web_rate_burst;
    set->max_streams = cfg->web_max_streams;
    set->lab_timeout_s = cfg->web_lab_timeout_s;
    set->capture = cfg->web_capture != 0;
    if (set->rate_burst < 1 || set->max_streams < 1) {
        snprintf(err, errlen, "web.rate_burst and web.max_streams must be at least 1");
        return -1;
    }
    return curve_from_config(set, err, errlen);
}
