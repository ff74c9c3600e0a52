/*  client_link.c: the client's one socket, to the endpoint in use, and the move to the
    next endpoint (see collab_client.h, "Several endpoints"). */
#include "client_self.h"

#include <sodium.h>
#include <string.h>

/*  Makes sock a CURVE client of the broker's key. The socket keeps its own copy of the
    secret key; ours is wiped at once unless another socket may need it later. */
static int apply_curve(collab_client_t *self, zsock_t *sock)
{
    collab_client_opts_t *o = &self->opts;
    zcert_t *cert = zsys_has_curve() ? zcert_new_from(o->curve_public, o->curve_secret) : NULL;
    if (self->eps.n < 2)
        sodium_memzero(o->curve_secret, sizeof o->curve_secret);
    if (!cert)
        return -1;
    zcert_apply(cert, sock);
    zsock_set_curve_serverkey_bin(sock, o->curve_server);
    /* CZMQ lends its buffers as const; they are the cert's, wiped before it is freed */
    sodium_memzero((void *)zcert_secret_key(cert), COLLAB_CURVE_KEY_LEN);
    sodium_memzero((void *)zcert_secret_txt(cert), strlen(zcert_secret_txt(cert)));
    zcert_destroy(&cert);
    return 0;
}

int client_link_open(collab_client_t *self, bool watch)
{
    zsock_t *sock = zsock_new(ZMQ_DEALER);
    if (!sock)
        return COLLAB_E_IO;
    /* linger 0: when this socket is closed (a move, or the end), the requests it has not
       yet sent are dropped, so that none reaches a broker that comes back later */
    zsock_set_linger(sock, 0);
    zsock_set_maxmsgsize(sock, 2 * COLLAB_MAX_FRAME);
    client_monitor_t *mon =
        watch || self->eps.n > 1 ? client_monitor_new(zsock_resolve(sock)) : NULL;
    if ((self->opts.curve && apply_curve(self, sock) != 0) ||
        zsock_connect(sock, "%s", self->eps.ep[self->current]) != 0) {
        client_monitor_destroy(&mon);
        zsock_destroy(&sock);
        return COLLAB_E_IO;
    }
    client_monitor_destroy(&self->mon);
    zsock_destroy(&self->sock);
    self->mon = mon;
    self->sock = sock;
    self->raw = zsock_resolve(sock);
    return 0;
}

void client_link_move(collab_client_t *self, bool watch)
{
    size_t from = self->current;
    for (size_t i = 1; i < self->eps.n; i++) {
        self->current = (from + i) % self->eps.n;
        if (client_link_open(self, watch) == 0) {
            self->moves++;
            self->resubscribe = self->subscribed;
            return;
        }
    }
    self->current = from; /* none of the others opens: stay */
}

void client_link_check(collab_client_t *self)
{
    if (self->eps.n < 2 || !self->mon)
        return;
    client_monitor_lost(self->mon); /* a loss before this request takes nothing from it */
    if (client_monitor_down(self->mon))
        client_link_move(self, false);
}

void *collab_client_monitor_socket(collab_client_t *self)
{
    return self->eps.n > 1 && self->mon ? client_monitor_socket(self->mon) : NULL;
}

bool collab_client_link_lost(collab_client_t *self)
{
    if (self->eps.n < 2 || !self->mon)
        return false;
    bool lost = client_monitor_lost(self->mon);
    return lost || client_monitor_down(self->mon);
}

bool collab_client_move(collab_client_t *self)
{
    unsigned moves = self->moves;
    client_link_move(self, false);
    return self->moves != moves;
}

size_t collab_client_endpoint_count(const collab_client_t *self)
{
    return self->eps.n;
}
