/*  observer.c: the observer's event loop (see observer.h). */
#include "observer.h"
#include "collab_clock.h"
#include "agent_cli.h"
#include "agent_stop.h"
#include "board.h"
#include "evline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#define SLICE_MS     200   /* longest wait before the stop flag is looked at again */
#define HEARTBEAT_MS 60000 /* at most; a third of the session's idle timeout when shorter */

typedef struct {
    collab_client_t *c;
    observer_opts_t o;
    bool sanitize;
    board_t *board; /* NULL in line mode */
    long events;
    int exit_code; /* set when the loop ends on a failure */
    long long last_event, last_beat, beat_ms;
} self_t;

static void redraw(const self_t *self)
{
    struct winsize ws;
    int rows = 24, cols = 80;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col)
        rows = ws.ws_row, cols = ws.ws_col;
    board_draw(self->board, stdout, rows, cols);
}

static void on_event(self_t *self, const collab_event_msg_t *ev)
{
    if (!self->board) {
        evline_print(stdout, ev, self->sanitize);
        fflush(stdout);
        return;
    }
    char *line = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&line, &len);
    if (m) {
        evline_print(m, ev, self->sanitize);
        fclose(m);
        board_log(self->board, line, len ? len - 1 : 0); /* without its newline */
        free(line);
    }
    board_apply(self->board, ev);
    redraw(self);
}

/*  Keeps the session alive while nothing happens; the client logs in again and
    re-subscribes by itself if the session ended, and when the broker reports events this
    observer has not seen (pushed to its old connection while the broker restarted) it
    subscribes again from the last one seen, so they are replayed. Returns false when it
    could not (the observer then stops: it would see nothing more). */
static bool heartbeat(self_t *self)
{
    char before[COLLAB_MAX_SESSION_ID + 1];
    snprintf(before, sizeof before, "%s", collab_client_session(self->c));
    self->last_beat = collab_mono_ms();
    int rc = collab_client_heartbeat(self->c);
    bool gone = rc == COLLAB_E_SESSION_INVALID || rc == COLLAB_E_SESSION_EXPIRED;
    if (rc && !gone) {
        fprintf(stderr, "%s: heartbeat: %s\n", self->o.prog, collab_strerror(rc));
        return true; /* the broker may come back: ZeroMQ reconnects */
    }
    if (gone)
        fprintf(stderr, "%s: the session ended and logging in again failed\n", self->o.prog);
    else if (strcmp(before, collab_client_session(self->c)) != 0)
        fprintf(stderr, "%s: the session had ended: logged in again and re-subscribed\n",
                self->o.prog);
    return !gone;
}

/*  One wait for an event, bounded so that signals and limits are seen promptly. Returns
    false when the loop should end. */
static bool step(self_t *self)
{
    long long now = collab_mono_ms(), wait = SLICE_MS;
    if (self->o.until_idle_ms) {
        long long left = self->last_event + self->o.until_idle_ms - now;
        if (left <= 0)
            return false;
        wait = left < wait ? left : wait;
    }
    collab_event_msg_t ev;
    if (collab_client_next_event(self->c, &ev, (int)wait) == 0) {
        on_event(self, &ev);
        if (strncmp(ev.name, "session_", 8) == 0)
            self->last_beat = 0; /* maybe ours ended: the heartbeat logs in again */
        collab_event_free(&ev);
        self->last_event = collab_mono_ms();
        if (self->o.max_events && ++self->events >= self->o.max_events)
            return false;
    }
    if (collab_mono_ms() - self->last_beat >= self->beat_ms && !heartbeat(self)) {
        self->exit_code = AGENT_EXIT_AUTH;
        return false;
    }
    return true;
}

/*  Heartbeats often enough for the session's idle timeout (get_session_info). */
static void pick_heartbeat(self_t *self)
{
    collab_reply_t r;
    uint64_t idle_s = 0;
    self->beat_ms = HEARTBEAT_MS;
    if (self->o.heartbeat_ms > 0) {
        self->beat_ms = self->o.heartbeat_ms;
        return;
    }
    if (collab_client_request(self->c, "get_session_info", NULL, 0, &r) != 0)
        return;
    if (r.ok && collab_map_uint(&r.map, "idle_timeout_s", &idle_s) == 0 && idle_s > 0 &&
        idle_s * 1000 / 3 < HEARTBEAT_MS)
        self->beat_ms = (long long)(idle_s * 1000 / 3);
    collab_reply_free(&r);
}

static int start(self_t *self)
{
    pick_heartbeat(self);
    int rc = collab_client_subscribe(self->c, true);
    if (rc == 0 && self->board) {
        rc = board_load(self->board, self->c);
        if (rc == 0)
            redraw(self);
    }
    if (rc) {
        fprintf(stderr, "%s: cannot start watching: %s\n", self->o.prog, collab_strerror(rc));
        return agent_cli_exit_code(rc);
    }
    fprintf(stderr, "%s: watching every project and task event (role %s; broker text %s)\n",
            self->o.prog, collab_client_role(self->c), self->sanitize ? "escaped" : "printed raw");
    return 0;
}

int observer_run(collab_client_t *c, const observer_opts_t *opts)
{
    self_t self = {.c = c, .o = *opts, .sanitize = collab_client_controls(c)->sanitize_output};
    if (opts->table && !(self.board = board_new(self.sanitize)))
        return AGENT_EXIT_FAILED;
    self.last_event = self.last_beat = collab_mono_ms();
    int rc = start(&self);
    while (rc == 0 && !agent_stop_signal() && step(&self))
        ;
    rc = rc ? rc : self.exit_code;
    if (self.board)
        fputc('\n', stdout);
    fflush(stdout);
    if (rc != AGENT_EXIT_UNREACHABLE)
        collab_client_logout(c);
    board_destroy(&self.board);
    return rc;
}
