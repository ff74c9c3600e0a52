/*  sse.h: collab-web's event streams (text/event-stream, docs/WEB.md 2-3). A stream is a
    suspended connection with a bounded queue of bytes: an event of its web session's bus
    client is queued (`id: SEQ`, `event: NAME`, `data: JSON`, the event's data plus `ts`,
    the broker's Unix ms timestamp of the event) and the connection resumed;
    with nothing queued the reader suspends it again. A stream whose queue is full (a reader
    that does not read) is closed: the browser reconnects with Last-Event-ID, and the
    gateway asks the broker for what it missed (`subscribe since`). Each stream hands on
    only events newer than its own last one, so several streams of one session, resumed
    from different points, see no gap and no repeat. */
#ifndef WEB_SSE_H
#define WEB_SSE_H

#include "http.h"
#include "websess.h"

#define SSE_QUEUE_MAX (256 * 1024) /* bytes queued on one stream, then it is closed */

/*  GET /api/events: opens a stream on req's session, resuming after Last-Event-ID when
    given: at most web_max_streams in all (then 429) and WEB_STREAMS_PER_SESS per session
    (then the session's oldest stream is closed). */
int sse_open(webreq_t *req);

/*  Queues ev on each stream of s that has not had it. */
void sse_deliver(websess_t *s, const collab_event_msg_t *ev);

/*  Queues a keep-alive comment on each stream of s. */
void sse_keepalive(websess_t *s);

/*  Closes every stream of s (what is queued is still sent) and detaches them from it. */
void sse_close_session(websess_t *s);

#endif
