/*  lab.h: the lab page's runs (docs/WEB.md 3-4): one attack at a time in the whole gateway
    (collab-attack against the gateway's own broker and URL, at most web.lab_timeout_s, its
    narration and verdict on the run feed), and the bus view (collab-sniff on loopback for
    the broker's port while someone watches). Their programs' pipes join the loop's zmq_poll
    set through lab_poll_fill and lab_poll_handle, the only hook gateway.c has for them. One
    thread, the loop's. */
#ifndef WEB_LAB_H
#define WEB_LAB_H

#include "labfeed.h"

#include <zmq.h>

#define LAB_POLL_MAX 4 /* the run's two pipes and the sniffer's */

typedef struct web_lab web_lab_t;

web_lab_t *lab_new(gateway_t *gw);

/*  The programs' open pipes as poll items (at most LAB_POLL_MAX); their count. */
size_t lab_poll_fill(web_lab_t *lab, zmq_pollitem_t *items);

/*  What is ready among items (matched by descriptor: a pipe closed since is skipped). */
void lab_poll_handle(web_lab_t *lab, const zmq_pollitem_t *items, size_t n);

/*  Each turn of the loop: a run past its time killed, a program that ended reaped, the
    feeds' keep-alives and ended sessions. */
void lab_tick(web_lab_t *lab, int64_t now_ms);

/*  Starts attack (a catalogue row the caller checked) for agent; web: the row needs the
    gateway's URL. Returns 0, COLLAB_E_BUSY while a run is on, or COLLAB_E_IO (err says why). */
int lab_run_start(web_lab_t *lab, const char *attack, bool web, const char *agent, char *err,
                  size_t errlen);

/*  The current or last run's feed, the bus view's feed (lent). */
lab_feed_t *lab_run_feed(web_lab_t *lab);
lab_feed_t *lab_bus_feed(web_lab_t *lab);

/*  Starts the sniffer unless it runs. Returns 0 or COLLAB_E_IO (err says why). */
int lab_bus_start(web_lab_t *lab, char *err, size_t errlen);

/*  At shutdown, before the daemon stops: the programs ended, every stream closed. */
void lab_stop(web_lab_t *lab);

/*  After the daemon stopped (no viewer left). */
void lab_free(web_lab_t **lab);

#endif
