/*  labfeed.h: the lab page's event streams (docs/WEB.md 3-4): one feed (a run's narration
    and verdict, the bus view) that several viewers watch, each viewer a suspended
    connection with its own bounded queue, as sse.c's streams are. A feed that keeps its
    history (a run's, at most LAB_FEED_HISTORY_MAX bytes) gives it to a new viewer first, so
    that an admin who opens the stream late sees the whole run. A finished feed ends its
    viewers' streams once their queues are sent. Each viewer is tied to the web session that
    opened it: once that session is gone (revoked, logged out, expired) its stream closes.
    One thread, the loop's. */
#ifndef WEB_LABFEED_H
#define WEB_LABFEED_H

#include "http.h"

#define LAB_FEED_HISTORY_MAX (256 * 1024)
#define LAB_FEED_VIEWERS_MAX 16 /* viewers of one feed at once, then 429 */

typedef struct lab_feed lab_feed_t;

/*  A new feed; history: keep what is sent for late viewers. on_empty(arg) is called when
    its last viewer goes (NULL: nothing). NULL on memory. */
lab_feed_t *lab_feed_new(bool history, void (*on_empty)(void *arg), void *arg);

/*  Starts again: the history dropped, the feed open. Viewers stay. */
void lab_feed_reset(lab_feed_t *f);

/*  Opens a stream on req for f: its history, then what comes. Answers req (an error too:
    429 with too many viewers). */
void lab_feed_open(lab_feed_t *f, webreq_t *req);

/*  Sends `event: NAME` with data (a JSON object, taken; NULL: {}) to every viewer. */
void lab_feed_event(lab_feed_t *f, const char *name, cJSON *data);

/*  The feed is over: every viewer's stream ends once its queue is sent; a viewer opened
    later gets the history, then its end. */
void lab_feed_finish(lab_feed_t *f);

/*  The viewers watching it. */
unsigned lab_feed_viewers(const lab_feed_t *f);

/*  Once in a while (the loop's tick): a keep-alive comment to each viewer (so that a
    closed connection is seen), and the viewers whose session is gone closed. */
void lab_feed_tick(lab_feed_t *f, gateway_t *gw, bool keepalive);

/*  Ends every viewer's stream now (at shutdown, before the daemon stops). */
void lab_feed_close_all(lab_feed_t *f);

/*  Frees the feed: only once no viewer is left (after the daemon stopped). */
void lab_feed_free(lab_feed_t **f);

#endif
