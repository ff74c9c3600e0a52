/*  labtool.c: the target rule, narration and verdict line of the lab's tools (see
    labtool.h). */
#include "labtool.h"

#include "collab_pack.h"
#include "collab_text.h"

#include <arpa/inet.h>
#include <cJSON.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool lab_target_allowed(const char *host)
{
    struct in_addr a4;
    struct in6_addr a6;
    if (strcmp(host, "localhost") == 0)
        return true;
    if (inet_pton(AF_INET, host, &a4) == 1) {
        uint32_t ip = ntohl(a4.s_addr);
        return (ip >> 24) == 127 || (ip >> 16) == ((10u << 8) | 231u);
    }
    return inet_pton(AF_INET6, host, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

int lab_target_parse(const char *tool, const char *endpoint, bool mine, char *host, size_t cap,
                     int *port)
{
    const char *p = strncmp(endpoint, "tcp://", 6) == 0 ? endpoint + 6 : NULL;
    const char *colon = p ? strrchr(p, ':') : NULL;
    long n;
    if (!colon || colon == p || (size_t)(colon - p) >= cap ||
        collab_parse_long(colon + 1, 1, 65535, &n) != 0) {
        fprintf(stderr, "%s: --broker must be tcp://HOST:PORT, not '%s'\n", tool, endpoint);
        return -1;
    }
    snprintf(host, cap, "%.*s", (int)(colon - p), p);
    size_t len = strlen(host);
    if (host[0] == '[' && len > 2 && host[len - 1] == ']') { /* [::1] */
        memmove(host, host + 1, len - 2);
        host[len - 2] = '\0';
    }
    if (!mine && !lab_target_allowed(host)) {
        fprintf(stderr,
                "%s: refusing target %s: not loopback nor a test namespace "
                "(pass --target-is-mine if it is your own)\n",
                tool, host);
        return -1;
    }
    *port = (int)n;
    return 0;
}

void lab_say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("  * ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void lab_verdict_print(const char *kind, const char *name, const char *verdict,
                       const char *evidence, bool with_decided_by, const char *decided_by,
                       bool json)
{
    if (json) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, kind, name);
        cJSON_AddStringToObject(o, "verdict", verdict);
        cJSON_AddStringToObject(o, "evidence", evidence);
        if (with_decided_by && decided_by)
            cJSON_AddStringToObject(o, "decided_by", decided_by);
        else if (with_decided_by)
            cJSON_AddNullToObject(o, "decided_by");
        char *s = cJSON_PrintUnformatted(o);
        printf("%s\n", s ? s : "{}");
        free(s);
        cJSON_Delete(o);
    } else {
        printf("%s: %s\n", verdict, evidence);
    }
    fflush(stdout);
}

size_t lab_pack_args(uint8_t *buf, size_t cap, va_list ap)
{
    const char *keys[32], *vals[32];
    uint32_t n = 0;
    for (const char *k; n < 32 && (k = va_arg(ap, const char *)) != NULL; n++) {
        keys[n] = k;
        vals[n] = va_arg(ap, const char *);
    }
    collab_pack_t p;
    collab_pack_init(&p, buf, cap);
    collab_pack_map(&p, n);
    for (uint32_t i = 0; i < n; i++) {
        collab_pack_str(&p, keys[i]);
        if (strncmp(vals[i], "u:", 2) == 0)
            collab_pack_uint(&p, strtoull(vals[i] + 2, NULL, 10));
        else if (strncmp(vals[i], "b:", 2) == 0)
            collab_pack_bool(&p, strcmp(vals[i] + 2, "true") == 0);
        else
            collab_pack_str(&p, strncmp(vals[i], "s:", 2) == 0 ? vals[i] + 2 : vals[i]);
    }
    size_t len;
    return collab_pack_finish(&p, &len) == 0 ? len : 0;
}
