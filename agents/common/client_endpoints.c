/*  client_endpoints.c: the list of broker endpoints, split (see client_endpoints.h). */
#include "client_endpoints.h"

#include <stdio.h>
#include <string.h>

/*  Adds the item [p, p + len) of list to out, or says why not. */
static int add_one(collab_endpoints_t *out, const char *list, const char *p, size_t len, char *err,
                   size_t errlen)
{
    if (len == 0) {
        snprintf(err, errlen,
                 "'%s' has an empty endpoint (endpoints are separated by single commas)", list);
        return -1;
    }
    if (out->n == COLLAB_CLIENT_MAX_ENDPOINTS) {
        snprintf(err, errlen, "'%s' lists more than %d endpoints", list,
                 COLLAB_CLIENT_MAX_ENDPOINTS);
        return -1;
    }
    if (len > COLLAB_ENDPOINT_MAX) {
        snprintf(err, errlen, "endpoint %zu of the list is longer than %d bytes", out->n + 1,
                 COLLAB_ENDPOINT_MAX);
        return -1;
    }
    memcpy(out->ep[out->n], p, len);
    out->ep[out->n][len] = '\0';
    for (size_t i = 0; i < out->n; i++)
        if (strcmp(out->ep[i], out->ep[out->n]) == 0) {
            snprintf(err, errlen, "'%s' is listed twice", out->ep[i]);
            return -1;
        }
    out->n++;
    return 0;
}

int collab_endpoints_parse(const char *list, collab_endpoints_t *out, char *err, size_t errlen)
{
    out->n = 0;
    if (!list || !*list) {
        snprintf(err, errlen, "no broker endpoint given");
        return -1;
    }
    for (const char *p = list;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (add_one(out, list, p, len, err, errlen) != 0) {
            out->n = 0;
            return -1;
        }
        if (!comma)
            return 0;
        p = comma + 1;
    }
}
