/*  webcfg.h: collab-web's settings from the broker's own configuration (the same file, the
    same profile and --set: docs/WEB.md 2) and its command line. */
#ifndef WEB_CFG_H
#define WEB_CFG_H

#include "gw_self.h"

/*  The built-in settings: the broker's defaults, 127.0.0.1:8080, the `static` folder
    beside the binary (argv0's directory). */
void web_settings_defaults(web_settings_t *set, const char *argv0);

/*  Takes the web keys and the web controls from set->cfg, the broker's endpoint from its
    bind when set->broker is still empty, and, under strong transport with no CURVE keys
    given, the TEST-ONLY pair (set->curve_test_pair). Returns 0 or -1 with the reason in
    err (one CURVE key without the other, too). */
int web_settings_from_config(web_settings_t *set, char *err, size_t errlen);

/*  Parses "HOST:PORT" (IPv4, port 0..65535) into the settings. Returns 0 or -1. */
int web_settings_bind(web_settings_t *set, const char *hostport);

#endif
