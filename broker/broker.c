/*  broker.c: building the broker: credentials, durable state loaded back into the tables,
    the hashing pool, the id generator, the security log and the ROUTER socket. */
#include "core.h"
#include "log.h"
#include "startup.h"

#include <czmq.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int load_agent(void *arg, const collab_agent_t *row)
{
    collab_broker_t *self = arg;
    collab_agent_t *a = collab_tables_agent(self->tables, row->id, strlen(row->id));
    if (!a)
        return 0; /* no longer in the credentials file: its state is kept but unused */
    a->role = row->role;
    if (row->pw_hash[0])
        snprintf(a->pw_hash, sizeof a->pw_hash, "%s", row->pw_hash);
    a->registered = row->registered;
    a->cap_count = row->cap_count;
    memcpy(a->caps, row->caps, sizeof a->caps);
    a->last_seen = row->last_seen;
    a->event_seq = row->event_seq;
    a->failures = row->failures;
    a->locked_until = row->locked_until;
    return 0;
}

static int load_session(void *arg, const collab_session_t *row)
{
    collab_broker_t *self = arg;
    collab_session_t s = *row;
    s.persisted_activity = s.last_activity;
    if (!collab_tables_agent(self->tables, s.agent_id, strlen(s.agent_id)))
        return 0;
    if (!collab_tables_add_session(self->tables, &s))
        return COLLAB_E_NOMEM;
    if (s.handle >= self->next_handle)
        self->next_handle = s.handle + 1;
    return 0;
}

static int load_project(void *arg, const collab_project_t *row)
{
    collab_broker_t *self = arg;
    if (!collab_tables_add_project(self->tables, row))
        return COLLAB_E_NOMEM;
    if (row->id >= self->next_project_id)
        self->next_project_id = row->id + 1;
    return 0;
}

static int load_task(void *arg, const collab_task_t *row)
{
    collab_broker_t *self = arg;
    if (!collab_tables_add_task(self->tables, row))
        return 0; /* a task whose project is gone: skipped */
    if (row->id >= self->next_task_id)
        self->next_task_id = row->id + 1;
    return 0;
}

static int load_state(collab_broker_t *self, char *err, size_t errlen)
{
    static const collab_store_loader_t loader = {load_agent, load_session, load_project, load_task};
    self->next_project_id = self->next_task_id = self->next_handle = 1;
    int rc = collab_store_load(self->store, &loader, self);
    if (rc) {
        snprintf(err, errlen, "%s: cannot load state: %s", self->cfg.state_path,
                 collab_strerror(rc));
        return rc;
    }
    uint64_t ids[3];
    if (collab_store_get_meta(self->store, "ids", ids, sizeof ids) == (int)sizeof ids) {
        if (ids[0] > self->next_project_id)
            self->next_project_id = ids[0];
        if (ids[1] > self->next_task_id)
            self->next_task_id = ids[1];
        if (ids[2] > self->next_handle)
            self->next_handle = ids[2];
    }
    return 0;
}

static int load_agents(collab_broker_t *self, char *err, size_t errlen)
{
    collab_creds_t *creds = collab_creds_load(self->cfg.credentials_path, err, errlen);
    if (!creds)
        return COLLAB_E_IO;
    int rc = 0;
    for (size_t i = 0; i < collab_creds_count(creds) && rc == 0; i++)
        if (!collab_tables_add_agent(self->tables, collab_creds_at(creds, i)))
            rc = COLLAB_E_NOMEM;
    const collab_agent_t *first = collab_creds_count(creds) ? collab_creds_at(creds, 0) : NULL;
    collab_password_dummy_like(first ? first->pw_hash : NULL, self->dummy_hash,
                               sizeof self->dummy_hash);
    collab_creds_destroy(&creds);
    if (rc)
        snprintf(err, errlen, "%s: out of memory", self->cfg.credentials_path);
    return rc;
}

static int open_socket(collab_broker_t *self, char *err, size_t errlen)
{
    zsock_t *sock = zsock_new(ZMQ_ROUTER);
    if (!sock) {
        snprintf(err, errlen, "cannot create the ROUTER socket");
        return COLLAB_E_IO;
    }
    self->zsock = sock;
    zsock_set_maxmsgsize(sock, (int)self->cfg.transport_max_msg);
    /* per connection: a sender past 100 unread messages is held back by TCP, not queued
       here (with 100,000, a storm from 16 connections queued 1.6 M messages: 228 MB, and
       the agents' requests waited behind the I/O thread's backlog) */
    zsock_set_rcvhwm(sock, 100);
    zsock_set_sndhwm(sock, 100000);
    zsock_set_linger(sock, 100);
    self->transport = collab_transport_new(&self->cfg, sock, err, errlen);
    if (!self->transport)
        return COLLAB_E_IO;
    int port = zsock_bind(sock, "%s", self->cfg.bind);
    if (port < 0) {
        snprintf(err, errlen, "cannot bind %s: %s", self->cfg.bind, zmq_strerror(zmq_errno()));
        return COLLAB_E_IO;
    }
    self->port = port;
    self->router = zsock_resolve(sock);
    char endpoint[64];
    snprintf(endpoint, sizeof endpoint, "inproc://collab-monitor-%p", (void *)self);
    int events = ZMQ_EVENT_DISCONNECTED | collab_transport_monitor_events(self->transport);
    if (zmq_socket_monitor(self->router, endpoint, events) == 0) {
        self->monitor = zmq_socket(zsys_init(), ZMQ_PAIR);
        if (self->monitor && zmq_connect(self->monitor, endpoint) != 0) {
            zmq_close(self->monitor);
            self->monitor = NULL;
        }
    }
    return 0;
}

/*  The replay cache and the token buckets exist only when their control is strong. */
static int open_guards(collab_broker_t *self, char *err, size_t errlen)
{
    const collab_config_t *c = &self->cfg;
    if (c->strong[COLLAB_CTL_REPLAY] &&
        !(self->replay =
              collab_replay_new(c->nonce_cache_max, c->replay_window_s, self->started_ms)))
        goto fail;
    /* the login and anonymous budgets left 0 take the per-address (peer) values */
    collab_rate_budgets_t b = {
        .agent_per_s = c->rate_agent_per_s,
        .agent_burst = c->rate_agent_burst,
        .login_per_s = c->rate_login_per_s > 0 ? c->rate_login_per_s : c->rate_peer_per_s,
        .login_burst = c->rate_login_burst ? c->rate_login_burst : c->rate_peer_burst,
        .anon_per_s = c->rate_anon_per_s > 0 ? c->rate_anon_per_s : c->rate_peer_per_s,
        .anon_burst = c->rate_anon_burst ? c->rate_anon_burst : c->rate_peer_burst,
    };
    if (c->strong[COLLAB_CTL_RATE_LIMIT] &&
        !(self->rate = collab_rate_gate_new(&b, COLLAB_RATE_BUCKETS_MAX)))
        goto fail;
    return 0;
fail:
    snprintf(err, errlen, "cannot set up the replay cache or the rate limits: out of memory");
    return COLLAB_E_NOMEM;
}

/*  Password hashing leaves one CPU to the loop and libzmq's I/O thread: with every CPU
    hashing, a login storm delays everyone else's requests however low the hashers'
    priority (measured: readers' p99 8x with 2 threads on 2 CPUs, 1.1-1.7x with 1). */
static unsigned hash_threads(const collab_config_t *cfg)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (cfg->hash_threads)
        return cfg->hash_threads;
    return cpus > 2 ? (unsigned)(cpus - 1) : 1;
}

collab_broker_t *collab_broker_new(const collab_config_t *cfg, bool reset_state, char *err,
                                   size_t errlen)
{
    collab_broker_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    self->cfg = *cfg;
    if (sodium_init() < 0) {
        snprintf(err, errlen, "libsodium failed to start");
        free(self);
        return NULL;
    }
    randombytes_buf(self->expired_key, sizeof self->expired_key);
    memset(self->expired_head, 0xff, sizeof self->expired_head); /* empty chains */
    self->started_ms = collab_now_ms();
    self->last_sweep_ms = self->last_flush_ms = self->last_stats_ms = self->started_ms;
    zsys_init();
    self->tables = collab_tables_new();
    if (!self->tables || load_agents(self, err, errlen) != 0)
        goto fail;
    /* one broker per state file; and bound before any state is touched, so that a broker
       that cannot bind leaves no new state file (nor security log) behind */
    if (!(self->lock = collab_statelock_acquire(cfg->state_path, err, errlen)) ||
        open_socket(self, err, errlen) != 0)
        goto fail;
    self->store = collab_store_open(cfg->state_path, reset_state, err, errlen);
    if (self->store)
        collab_store_set_retention(self->store, cfg->event_retention);
    /* the security log, the state key and any migration, before the state is loaded */
    if (!self->store || collab_startup(self, err, errlen) != 0 ||
        load_state(self, err, errlen) != 0)
        goto fail;
    self->ids = collab_idgen_new(cfg->strong[COLLAB_CTL_SESSION_IDS], 0);
    self->hasher = collab_hasher_new(hash_threads(cfg), cfg->hash_queue_max, 10);
    if (open_guards(self, err, errlen) != 0)
        goto fail;
    if (!self->ids || !self->hasher) {
        snprintf(err, errlen, "cannot start the id generator or the hashing threads");
        goto fail;
    }
    if (collab_store_start_writer(self->store) != 0) {
        snprintf(err, errlen, "%s: cannot start the writer thread", cfg->state_path);
        goto fail;
    }
    collab_seclog_emit(self->seclog, self->started_ms, "broker_started", "bind", cfg->bind,
                       "transport", collab_transport_curve(self->transport) ? "curve" : "null",
                       NULL);
    return self;
fail:
    collab_broker_destroy(&self);
    return NULL;
}

int collab_broker_port(const collab_broker_t *self)
{
    return self->port;
}

void collab_broker_destroy(collab_broker_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    collab_broker_t *self = *self_p;
    for (size_t i = self->pending_head; i < self->npending; i++) {
        zmq_msg_close(&self->pending[i].rid);
        zmq_msg_close(&self->pending[i].body);
    }
    free(self->pending);
    if (self->monitor) {
        zmq_socket_monitor(self->router, NULL, 0);
        zmq_close(self->monitor);
    }
    zsock_t *sock = self->zsock;
    zsock_destroy(&sock);
    collab_transport_destroy(&self->transport); /* zauth outlives the socket it serves */
    collab_hasher_destroy(&self->hasher);
    collab_replay_destroy(&self->replay);
    collab_rate_gate_destroy(&self->rate);
    if (self->store && collab_store_in_batch(self->store))
        collab_store_commit(self->store);
    collab_store_destroy(&self->store);
    collab_vault_destroy(&self->vault); /* after the store, which borrowed it */
    collab_idgen_destroy(&self->ids);
    collab_seclog_destroy(&self->seclog);
    collab_tables_destroy(&self->tables);
    collab_statelock_release(&self->lock); /* last: the state file is closed */
    free(self);
    *self_p = NULL;
}
