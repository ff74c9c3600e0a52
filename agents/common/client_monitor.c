/*  client_monitor.c: the first connection's handshake, watched (see client_monitor.h). */
#include "client_monitor.h"
#include "collab_clock.h"
#include "collab_error.h"

#include <czmq.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define WATCHED                                                                                    \
    (ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |                        \
     ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL | ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
/*  A failed handshake, as opposed to its success or a connection lost later */
#define FAILED (WATCHED & ~ZMQ_EVENT_HANDSHAKE_SUCCEEDED)

struct client_monitor {
    void *sock; /* the watched socket, lent */
    void *pair; /* receives the monitor's events */
    bool lost;  /* a DISCONNECTED read since the last client_monitor_lost */
    bool down;  /* the last event read was a DISCONNECTED */
};

client_monitor_t *client_monitor_new(void *sock)
{
    static unsigned long counter; /* one inproc name per monitor of this process */
    char addr[96];
    client_monitor_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    snprintf(addr, sizeof addr, "inproc://collab-client-monitor-%p-%lu", (void *)self, counter++);
    self->sock = sock;
    if (zmq_socket_monitor(sock, addr, WATCHED | ZMQ_EVENT_DISCONNECTED) != 0 ||
        !(self->pair = zmq_socket(zsys_init(), ZMQ_PAIR)) || zmq_connect(self->pair, addr) != 0) {
        client_monitor_destroy(&self);
        return NULL;
    }
    return self;
}

/*  One event: its number, or 0 when the message is not an event frame pair (or none
    was there). The link's state follows it. */
static unsigned read_event(client_monitor_t *self)
{
    void *pair = self->pair;
    zmq_msg_t m;
    unsigned event = 0;
    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, pair, ZMQ_DONTWAIT) >= 6) {
        uint16_t e;
        memcpy(&e, zmq_msg_data(&m), sizeof e);
        event = e;
    }
    while (zmq_msg_more(&m)) /* the endpoint frame */
        if (zmq_msg_recv(&m, pair, ZMQ_DONTWAIT) < 0)
            break;
    zmq_msg_close(&m);
    if (event == ZMQ_EVENT_DISCONNECTED)
        self->lost = self->down = true;
    else if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED)
        self->down = false;
    return event;
}

int client_monitor_wait(client_monitor_t *self, int timeout_ms, int (*stop)(void))
{
    int64_t deadline = collab_mono_ms() + timeout_ms;
    zmq_pollitem_t item = {self->pair, 0, ZMQ_POLLIN, 0};
    for (int64_t left; !(stop && stop()) && (left = deadline - collab_mono_ms()) > 0;) {
        if (zmq_poll(&item, 1, (long)left) <= 0)
            continue;
        unsigned e = read_event(self);
        if (e == ZMQ_EVENT_HANDSHAKE_SUCCEEDED)
            return 0;
        if (e & FAILED)
            return COLLAB_E_IO;
    }
    return COLLAB_E_TIMEOUT;
}

void *client_monitor_socket(client_monitor_t *self)
{
    return self->pair;
}

bool client_monitor_lost(client_monitor_t *self)
{
    while (read_event(self))
        ;
    bool lost = self->lost;
    self->lost = false;
    return lost;
}

bool client_monitor_down(const client_monitor_t *self)
{
    return self->down;
}

void client_monitor_destroy(client_monitor_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    client_monitor_t *self = *self_p;
    if (self->sock)
        zmq_socket_monitor(self->sock, NULL, 0);
    if (self->pair) {
        int zero = 0;
        zmq_setsockopt(self->pair, ZMQ_LINGER, &zero, sizeof zero);
        zmq_close(self->pair);
    }
    free(self);
    *self_p = NULL;
}
