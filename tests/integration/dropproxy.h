/*  dropproxy.h: a proxy in front of one real broker, for failover tests. It has several
    front endpoints (ephemeral ports), each a broker as far as an agent can tell, and
    gives every agent connection its own connection to the broker, so sessions, events and
    peer addresses behave as without it. It drops, once each, the request or the reply of
    the actions it is given: a broker that died with a write in hand, before or after
    doing it. One thread; stopped and joined by destroy. */
#ifndef DROPPROXY_H
#define DROPPROXY_H

#include <stdbool.h>
#include <stddef.h>

#define DROP_PROXY_MAX_FRONTS 4
#define DROP_PROXY_MAX_RULES  8

typedef struct {
    const char *action;
    const char *status; /* update_task_status's status to match, or NULL: any request */
    bool request;       /* drop the request itself (not done); false: its reply (done) */
} drop_rule_t;

typedef struct drop_proxy drop_proxy_t;

/*  Starts a proxy to backend with nfront front endpoints and the rules (copied; each
    fires once, on whichever front it meets first). NULL on failure. */
drop_proxy_t *drop_proxy_new(const char *backend, size_t nfront, const drop_rule_t *rules,
                             size_t nrules);
/*  Front endpoint i ("tcp://127.0.0.1:PORT"). */
const char *drop_proxy_endpoint(const drop_proxy_t *self, size_t i);
/*  How many of the rules have fired so far. */
int drop_proxy_fired(drop_proxy_t *self);
/*  Stops the thread, closes everything; NULL-safe, nulls the pointer. */
void drop_proxy_destroy(drop_proxy_t **self_p);

#endif
