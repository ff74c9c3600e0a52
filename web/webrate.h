/*  webrate.h: token buckets for collab-web's own limits (docs/WEB.md 6): one per client
    address in a bounded table, one per web session (held by the session). Every web user
    reaches the bus from the gateway's one address, so the gateway limits each web client
    itself, before the bus. Pure: the caller gives the clock. */
#ifndef WEBRATE_H
#define WEBRATE_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    double tokens;
    int64_t last_ms;
    int started;
} web_bucket_t;

/*  Takes one token from b (refilled at per_s a second up to burst; a new bucket is full).
    Returns 0 when taken, or the milliseconds until one will be there (nothing taken). */
int64_t web_bucket_take(web_bucket_t *b, double per_s, double burst, int64_t now_ms);

/*  The same without taking: 0 when a token is there, else the milliseconds until one is. */
int64_t web_bucket_peek(web_bucket_t *b, double per_s, double burst, int64_t now_ms);

typedef struct web_rate web_rate_t;

/*  A table of at most cap buckets keyed by address (at most 63 bytes); when the slots an
    address may use are all taken, the one used longest ago is given to it (a full
    bucket again: the bound costs that much precision). NULL on bad arguments or memory. */
web_rate_t *web_rate_new(size_t cap, double per_s, double burst);
void web_rate_destroy(web_rate_t **self_p);

/*  web_bucket_take and web_bucket_peek on addr's bucket. */
int64_t web_rate_take(web_rate_t *self, const char *addr, int64_t now_ms);
int64_t web_rate_peek(web_rate_t *self, const char *addr, int64_t now_ms);

#endif
