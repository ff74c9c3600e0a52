/*  loop.c: the broker's event loop. One poll over the ROUTER, the hashing pool's descriptor,
    the store's writer and the socket monitor; requests are read in batches, handled on
    zmq_msg_t without copies, and each batch's changes are handed to the store's writer
    thread, which commits them while the loop reads the next batch. A reply or event waits
    for the commit of the batch it reflects (group commit, pipelined). Timers expire idle
    sessions and write back activity times lazily. */
#include "apply.h"
#include "broker_self.h"
#include "collab_clock.h"
#include "dispatch.h"
#include "log.h"
#include "sessions.h"
#include "verdict.h"

#include <czmq.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void collab_broker_stop(collab_broker_t *self)
{
    self->stop = 1;
}

void collab_broker_stop_on(collab_broker_t *self, volatile sig_atomic_t *flag)
{
    self->stop_flag = flag;
}

static bool stopping(const collab_broker_t *self)
{
    return self->stop || (self->stop_flag && *self->stop_flag) || zsys_interrupted;
}

uint64_t collab_broker_wall_ms(void *arg)
{
    (void)arg;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t collab_broker_mono_ms(void *arg)
{
    (void)arg;
    return (uint64_t)collab_mono_ms();
}

void collab_broker_sink(void *arg, const uint8_t *rid, size_t rid_len, const uint8_t *bytes,
                        size_t len)
{
    collab_broker_t *self = arg;
    /* ROUTER drops a message for a peer that is gone or over its high-water mark. */
    if (zmq_send(self->router, rid, rid_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
        zmq_send(self->router, bytes, len, ZMQ_DONTWAIT) < 0)
        self->ctx.stats.dropped++;
}

/*  Lets the held replies and events of every committed batch go, in order, once the
    store's verdict on them is applied (a refused request answers conflict). A failed
    commit is fatal: nothing held was acknowledged, and the state on disk is the last
    committed one, so the broker stops rather than reply with state it could not keep.
    A shared store that cannot be reached is an outage instead (outage.c): what did commit
    is released, then the rest is refused until the store is back. */
static int release_committed(collab_broker_t *self)
{
    uint64_t committed;
    int rc = collab_store_committed(self->ctx.store, &committed);
    if (rc != 0 && rc != COLLAB_E_UNAVAILABLE)
        return COLLAB_E_IO;
    /* a cluster: what the shared store committed (this broker's batches and others') goes
       into the tables, and its events out, before the replies that reflect it */
    if (collab_apply_committed(&self->ctx) != 0)
        log_error("what the shared store committed could not be fully applied in memory");
    if (collab_verdict_release(&self->ctx, committed) != 0)
        log_error("a refused change could not be fully rolled back in memory");
    if (rc == COLLAB_E_UNAVAILABLE)
        collab_outage_step(&self->ctx, &self->outage);
    return 0;
}

/*  Hands the changes recorded so far to the writer (which may still be committing earlier
    ones). Returns 0 or COLLAB_E_IO (the writer has failed). */
static int submit_batch(collab_broker_t *self)
{
    if (!collab_store_in_batch(self->ctx.store))
        return 0;
    int rc = collab_store_submit(self->ctx.store);
    if (rc == COLLAB_E_UNAVAILABLE)
        return 0; /* dropped: an outage, which release_committed acts on */
    if (rc != 0)
        return COLLAB_E_IO;
    self->ctx.stats.commits++;
    return 0;
}

/*  The end of a loop turn: submits, then releases whatever is already committed. */
static int flush_batch(collab_broker_t *self)
{
    int rc = submit_batch(self);
    return rc ? rc : release_committed(self);
}

/*  Reads one message: the routing id, the first body frame, and counts (and discards)
    any further frames. */
static int read_message(collab_broker_t *self, zmq_msg_t *rid, zmq_msg_t *body, int *frames)
{
    *frames = 0;
    if (zmq_msg_recv(rid, self->router, ZMQ_DONTWAIT) < 0)
        return -1;
    if (!zmq_msg_more(rid))
        return 0;
    if (zmq_msg_recv(body, self->router, 0) < 0)
        return -1;
    *frames = 1;
    bool more = zmq_msg_more(body);
    while (more) {
        zmq_msg_t extra;
        zmq_msg_init(&extra);
        int r = zmq_msg_recv(&extra, self->router, 0);
        more = r >= 0 && zmq_msg_more(&extra);
        zmq_msg_close(&extra);
        if (r < 0)
            return -1;
        (*frames)++;
    }
    return 0;
}

static void drain_router(collab_broker_t *self)
{
    zmq_msg_t rid, body;
    for (uint32_t n = 0; n < self->ctx.cfg.batch_max; n++) {
        int frames = 0;
        zmq_msg_init(&rid);
        zmq_msg_init(&body);
        if (read_message(self, &rid, &body, &frames) == 0)
            collab_dispatch(&self->ctx, self->transport, &rid, &body, frames);
        else
            n = self->ctx.cfg.batch_max; /* nothing more to read now */
        /* an idle writer starts at once on what is handled so far rather than wait for
           the turn's end: its fsync is the longest wait here, and what arrives meanwhile
           joins the next commit (a failure here is met again, and acted on, by the turn's
           flush_batch) */
        if (collab_store_writer_idle(self->ctx.store))
            (void)submit_batch(self);
        zmq_msg_close(&body);
        zmq_msg_close(&rid);
    }
}

static void drain_hasher(collab_broker_t *self)
{
    collab_hash_job_t *job;
    while ((job = collab_hasher_take(self->hasher)) != NULL)
        collab_login_complete(&self->ctx, job);
}

/*  A handshake the transport refused (CURVE: unknown key, plaintext client ...): counted,
    and logged at most once a second (the client's libzmq keeps reconnecting). */
static void note_transport_event(collab_broker_t *self, uint16_t id, uint32_t value)
{
    bool log_due;
    uint64_t now = collab_broker_wall_ms(NULL);
    const char *why = collab_transport_on_event(self->transport, id, value, now, &log_due);
    self->ctx.stats.transport_refused = collab_transport_refused(self->transport);
    if (!why || !log_due)
        return;
    char total[24];
    snprintf(total, sizeof total, "%llu",
             (unsigned long long)collab_transport_refused(self->transport));
    collab_seclog_emit(self->ctx.seclog, now, "connection_refused", "reason", why, "refused_total",
                       total, NULL);
}

static void drain_monitor(collab_broker_t *self)
{
    zmq_msg_t ev;
    zmq_msg_init(&ev);
    while (zmq_msg_recv(&ev, self->monitor, ZMQ_DONTWAIT) >= 0) {
        if (zmq_msg_size(&ev) >= 6 && zmq_msg_more(&ev)) {
            uint16_t id;
            uint32_t value;
            memcpy(&id, zmq_msg_data(&ev), sizeof id);
            memcpy(&value, (uint8_t *)zmq_msg_data(&ev) + 2, sizeof value);
            if (id == ZMQ_EVENT_DISCONNECTED)
                self->ctx.stats.disconnects++;
            else
                note_transport_event(self, id, value);
        }
        zmq_msg_close(&ev);
        zmq_msg_init(&ev);
    }
    zmq_msg_close(&ev);
}

static void log_stats(collab_broker_t *self)
{
    const collab_counters_t *c = &self->ctx.stats;
    log_info("stats requests=%llu ok=%llu errors=%llu malformed=%llu dropped=%llu "
             "sessions=%zu logins_ok=%llu logins_failed=%llu commits=%llu",
             (unsigned long long)c->requests, (unsigned long long)c->replies_ok,
             (unsigned long long)c->replies_error, (unsigned long long)c->malformed,
             (unsigned long long)c->dropped, collab_tables_session_count(self->ctx.tables),
             (unsigned long long)c->logins_ok, (unsigned long long)c->logins_failed,
             (unsigned long long)c->commits);
}

/*  Returning freed memory to the system once the broker is quiet. glibc keeps what the
    broker and libzmq free after a burst (libzmq's pipes, buffers and sessions when
    connections close, messages after a flood) and reuses little of it: 5,000 connections
    opened and closed three times left 150, then 232, then 279 MB resident. malloc_trim(0)
    hands back every free page of every arena. It walks the heaps, so it runs only at the
    end of a second with fewer than TRIM_QUIET_REQUESTS requests (an agent writing every
    50 ms still leaves the broker quiet) and only when much has happened since the last
    trim: never on the hot path, at most once after each burst. */
#define TRIM_QUIET_REQUESTS  64
#define TRIM_MIN_REQUESTS    1000
#define TRIM_MIN_DISCONNECTS 100

static void trim_when_quiet(collab_broker_t *self, uint64_t now)
{
    const collab_counters_t *c = &self->ctx.stats;
    if (now < self->trim_tick_ms + 1000 && now >= self->trim_tick_ms)
        return;
    bool quiet = c->requests - self->trim_tick_requests < TRIM_QUIET_REQUESTS;
    self->trim_tick_ms = now;
    self->trim_tick_requests = c->requests;
    if (!quiet || (c->requests - self->trim_requests < TRIM_MIN_REQUESTS &&
                   c->disconnects - self->trim_disconnects < TRIM_MIN_DISCONNECTS))
        return;
    self->trim_requests = c->requests;
    self->trim_disconnects = c->disconnects;
#ifdef __GLIBC__
    malloc_trim(0);
    log_debug("returned freed memory to the system in %llu ms",
              (unsigned long long)(collab_broker_wall_ms(NULL) - now));
#endif
}

/*  A cluster's shared rate budgets: a sync's result into the buckets, the next snapshot
    handed over when the period is over (never a wait on Redis). */
static void sync_rates(collab_broker_t *self, uint64_t now)
{
    int r = collab_ratesync_tick(self->ratesync, collab_ctx_mono(&self->ctx), now);
    if (r > 0) {
        self->ctx.stats.rate_syncs++;
    } else if (r < 0) {
        if (self->ctx.stats.rate_sync_failures++ % 100 == 0) /* a line per 100 at most */
            log_warning("rate budgets not shared (the buckets go on alone): %s",
                        collab_ratesync_why(self->ratesync));
    }
}

static void run_timers(collab_broker_t *self, uint64_t now)
{
    if (self->ratesync)
        sync_rates(self, now);
    trim_when_quiet(self, now);
    if (now - self->last_sweep_ms >= 250) {
        self->last_sweep_ms = now;
        collab_session_sweep(&self->ctx, now);
    }
    collab_seclog_tick(self->ctx.seclog, now); /* refusal counts whose second is over */
    if (now - self->last_flush_ms >= (uint64_t)self->ctx.cfg.activity_flush_s * 1000u) {
        self->last_flush_ms = now;
        collab_session_flush_activity(&self->ctx);
    }
    if (self->ctx.cfg.stats_interval_s &&
        now - self->last_stats_ms >= (uint64_t)self->ctx.cfg.stats_interval_s * 1000u) {
        self->last_stats_ms = now;
        log_stats(self);
    }
}

int collab_broker_run(collab_broker_t *self)
{
    zmq_pollitem_t items[5] = {
        {self->router, 0, ZMQ_POLLIN, 0},
        {NULL, collab_hasher_fd(self->hasher), ZMQ_POLLIN, 0},
        {NULL, collab_store_fd(self->ctx.store), ZMQ_POLLIN, 0},
        {self->monitor, 0, ZMQ_POLLIN, 0},
        {NULL, self->ratesync ? collab_ratesync_fd(self->ratesync) : -1, ZMQ_POLLIN, 0},
    };
    int nitems = 3;
    if (self->monitor)
        nitems = 4;
    if (self->ratesync) { /* its fd wakes the loop; without a monitor, it takes slot 3 */
        items[nitems] = items[4];
        nitems++;
    }
    long wait_ms = self->ratesync && collab_ratesync_period(self->ratesync) < 250
                       ? (long)collab_ratesync_period(self->ratesync)
                       : 250;
    int rc = 0;
    while (!stopping(self)) {
        if (zmq_poll(items, nitems, wait_ms) < 0 && zmq_errno() != EINTR)
            break;
        if (items[0].revents & ZMQ_POLLIN)
            drain_router(self);
        if (items[1].revents & ZMQ_POLLIN)
            drain_hasher(self);
        if (self->monitor && (items[3].revents & ZMQ_POLLIN))
            drain_monitor(self);
        run_timers(self, collab_broker_wall_ms(NULL));
        if ((rc = flush_batch(self)) != 0) {
            log_error("state commit failed; stopping without acknowledging the batch");
            break;
        }
    }
    collab_session_flush_activity(&self->ctx);
    collab_seclog_flush(self->ctx.seclog,
                        collab_broker_wall_ms(NULL)); /* the counts, and their head, kept */
    int last = rc == 0 ? collab_store_commit(self->ctx.store) : 0;
    if (rc == 0 && ((last != 0 && last != COLLAB_E_UNAVAILABLE) || release_committed(self) != 0))
        rc = COLLAB_E_IO; /* an outage loses nothing acknowledged: not a failure to stop on */
    log_stats(self);
    return rc;
}
