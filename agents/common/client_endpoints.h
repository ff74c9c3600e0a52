/*  client_endpoints.h: the brokers an agent may use, given as one list "A,B,..." (--broker,
    COLLAB_BROKER, collab_client_opts_t.endpoint): split, bounded and checked, with no
    socket. The shape of each endpoint (tcp://HOST:PORT) is agent_cli's check; this is only
    the list. */
#ifndef CLIENT_ENDPOINTS_H
#define CLIENT_ENDPOINTS_H

#include <stddef.h>

#define COLLAB_CLIENT_MAX_ENDPOINTS 8
#define COLLAB_ENDPOINT_MAX         511 /* bytes in one endpoint */
/* bytes in a whole list, its commas included */
#define COLLAB_ENDPOINTS_MAX (COLLAB_CLIENT_MAX_ENDPOINTS * (COLLAB_ENDPOINT_MAX + 1))

typedef struct {
    char ep[COLLAB_CLIENT_MAX_ENDPOINTS][COLLAB_ENDPOINT_MAX + 1];
    size_t n;
} collab_endpoints_t;

/*  Splits list at its commas into out. Returns 0 with 1..COLLAB_CLIENT_MAX_ENDPOINTS
    endpoints, or -1 with the reason in err (out then holds nothing): an empty list or an
    empty item (",," or a comma at either end), too many, one too long, one given twice.
    Nothing is trimmed: "a, b" has " b" as its second endpoint, which the shape check
    refuses by name. */
int collab_endpoints_parse(const char *list, collab_endpoints_t *out, char *err, size_t errlen);

#endif
