/*  broker.c: building the broker: credentials, durable state loaded back into the tables,
    the hashing pool, the id generator, the security log and the ROUTER socket. */
#include "broker_self.h"
#include "creds.h"
#include "log.h"
#include "startup.h"
#include "store_redis.h"

#include <czmq.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int load_agent(void *arg, const collab_agent_t *row)
{
    collab_broker_t *self = arg;
    /* an agent no longer in the credentials file: its state is kept but unused */
    (void)collab_tables_restore_agent(self->ctx.tables, row);
    return 0;
}

static int load_session(void *arg, const collab_session_t *row)
{
    collab_broker_t *self = arg;
    collab_session_t s = *row;
    s.persisted_activity = s.last_activity;
    s.verified_ms = collab_ctx_now(&self->ctx);
    if (!collab_tables_agent(self->ctx.tables, s.agent_id, strlen(s.agent_id)))
        return 0;
    if (!collab_tables_add_session(self->ctx.tables, &s))
        return COLLAB_E_NOMEM;
    if (s.handle >= self->ctx.next_handle)
        self->ctx.next_handle = s.handle + 1;
    return 0;
}

static int load_project(void *arg, const collab_project_t *row)
{
    collab_broker_t *self = arg;
    if (!collab_tables_add_project(self->ctx.tables, row))
        return COLLAB_E_NOMEM;
    if (row->id >= self->ctx.next_project_id)
        self->ctx.next_project_id = row->id + 1;
    return 0;
}

static int load_task(void *arg, const collab_task_t *row)
{
    collab_broker_t *self = arg;
    if (!collab_tables_add_task(self->ctx.tables, row))
        return 0; /* a task whose project is gone: skipped */
    if (row->id >= self->ctx.next_task_id)
        self->ctx.next_task_id = row->id + 1;
    return 0;
}

static int load_state(collab_broker_t *self, char *err, size_t errlen)
{
    static const collab_store_loader_t loader = {load_agent, load_session, load_project, load_task};
    self->ctx.next_project_id = self->ctx.next_task_id = self->ctx.next_handle = 1;
    int rc = collab_store_load(self->ctx.store, &loader, self);
    if (rc) {
        snprintf(err, errlen, "%s: cannot load state: %s", self->ctx.cfg.state_path,
                 collab_strerror(rc));
        return rc;
    }
    uint64_t ids[3];
    if (collab_store_get_meta(self->ctx.store, "ids", ids, sizeof ids) == (int)sizeof ids) {
        if (ids[0] > self->ctx.next_project_id)
            self->ctx.next_project_id = ids[0];
        if (ids[1] > self->ctx.next_task_id)
            self->ctx.next_task_id = ids[1];
        if (ids[2] > self->ctx.next_handle)
            self->ctx.next_handle = ids[2];
    }
    return 0;
}

static int load_agents(collab_broker_t *self, char *err, size_t errlen)
{
    collab_creds_t *creds = collab_creds_load(self->ctx.cfg.credentials_path, err, errlen);
    if (!creds)
        return COLLAB_E_IO;
    int rc = 0;
    for (size_t i = 0; i < collab_creds_count(creds) && rc == 0; i++)
        if (!collab_tables_add_agent(self->ctx.tables, collab_creds_at(creds, i)))
            rc = COLLAB_E_NOMEM;
    const collab_agent_t *first = collab_creds_count(creds) ? collab_creds_at(creds, 0) : NULL;
    collab_password_dummy_like(first ? first->pw_hash : NULL, self->ctx.dummy_hash,
                               sizeof self->ctx.dummy_hash);
    collab_creds_destroy(&creds);
    if (rc)
        snprintf(err, errlen, "%s: out of memory", self->ctx.cfg.credentials_path);
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
    zsock_set_maxmsgsize(sock, (int)self->ctx.cfg.transport_max_msg);
    /* per connection: a sender past 100 unread messages is held back by TCP, not queued
       here (with 100,000, a storm from 16 connections queued 1.6 M messages: 228 MB, and
       the agents' requests waited behind the I/O thread's backlog) */
    zsock_set_rcvhwm(sock, 100);
    zsock_set_sndhwm(sock, 100000);
    zsock_set_linger(sock, 100);
    /* a class connecting at once: libzmq's default of 100 overflowed at 5,000 */
    zsock_set_backlog(sock, (int)self->ctx.cfg.transport_backlog);
    self->transport = collab_transport_new(&self->ctx.cfg, sock, err, errlen);
    if (!self->transport)
        return COLLAB_E_IO;
    int port = zsock_bind(sock, "%s", self->ctx.cfg.bind);
    if (port < 0) {
        snprintf(err, errlen, "cannot bind %s: %s", self->ctx.cfg.bind, zmq_strerror(zmq_errno()));
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
    const collab_config_t *c = &self->ctx.cfg;
    if (c->strong[COLLAB_CTL_REPLAY] &&
        !(self->ctx.replay =
              collab_replay_new(c->nonce_cache_max, c->replay_window_s, self->ctx.started_ms)))
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
        !(self->ctx.rate = collab_rate_gate_new(&b, COLLAB_RATE_BUCKETS_MAX)))
        goto fail;
    if (self->ctx.rate && c->store_url[0]) { /* a cluster: the budgets are the cluster's */
        collab_ratesync_opts_t o = {.address = c->store_url,
                                    .passfile =
                                        c->store_password_file[0] ? c->store_password_file : NULL,
                                    .prefix = c->store_prefix,
                                    .node = c->store_node,
                                    .command_timeout_ms = (int)c->store_timeout_ms,
                                    .sync_ms = c->rate_sync_ms,
                                    .agent_per_s = b.agent_per_s,
                                    .login_per_s = b.login_per_s,
                                    .anon_per_s = b.anon_per_s};
        return (self->ratesync = collab_ratesync_new(&o, self->ctx.rate, err, errlen))
                   ? 0
                   : COLLAB_E_BAD_REQUEST;
    }
    return 0;
fail:
    snprintf(err, errlen, "cannot set up the replay cache or the rate limits: out of memory");
    return COLLAB_E_NOMEM;
}

/*  Password hashing leaves one CPU to the loop and libzmq's I/O thread: with every CPU
    hashing, a login storm delays everyone else's requests however low the hashers'
    priority (measured: readers' p99 6.5-6.9x with 2 threads on 2 CPUs at SCHED_IDLE). */
static unsigned hash_threads(const collab_config_t *cfg)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (cfg->hash_threads)
        return cfg->hash_threads;
    return cpus > 2 ? (unsigned)(cpus - 1) : 1;
}

/*  The hashing pool: a tenth of the CPU's weight (nice 10), preemption points and a CPU
    budget (hasher.h). The default budget, 300 ms per second per CPU and at least 600, lets
    20 logins at bcrypt cost 12 (about 4.6 s of CPU here) finish in under 10 s while the bus
    keeps the rest (bench/README.md, "The login storm"). */
static collab_hasher_t *new_hasher(const collab_config_t *cfg)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned budget = cfg->hash_budget_ms;
    if (budget == 0)
        budget = cpus > 2 ? (unsigned)cpus * 300 : 600;
    collab_hasher_opts_t opts = {.threads = hash_threads(cfg),
                                 .queue_max = cfg->hash_queue_max,
                                 .nice_delta = 10,
                                 .budget_ms = budget,
                                 .slice_us = cfg->hash_slice_us};
    return collab_hasher_new(&opts);
}

/*  The context's way to the hashing pool. */
static int submit_hash(void *arg, collab_hash_job_t **job_p)
{
    collab_broker_t *self = arg;
    return collab_hasher_submit(self->hasher, job_p);
}

/*  The store: the SQLite file of state_path, held by this broker alone (its lock); or, with
    store = redis://..., the state a cluster shares (docs/DISTRIBUTED.md), under this
    broker's node name. */
static collab_store_t *open_store(const collab_config_t *cfg, bool reset_state, char *err,
                                  size_t errlen)
{
    if (!cfg->store_url[0]) /* its lock is held already */
        return collab_store_open(cfg->state_path, reset_state, err, errlen);
    if (reset_state) {
        snprintf(err, errlen,
                 "--reset-state: a shared store is not reset by one of its brokers "
                 "(start a fresh Redis, or use another store.prefix)");
        return NULL;
    }
    if (!cfg->store_node[0]) {
        snprintf(err, errlen,
                 "store = %s needs this broker's name in the cluster: --node NAME "
                 "(store.node)",
                 cfg->store_url);
        return NULL;
    }
    collab_store_redis_opts_t o = {
        .address = cfg->store_url,
        .passfile = cfg->store_password_file[0] ? cfg->store_password_file : NULL,
        .node = cfg->store_node,
        .prefix = cfg->store_prefix,
        .command_timeout_ms = (int)cfg->store_timeout_ms,
        .log_bound = cfg->store_log_bound,
        .session_idle_ms = cfg->idle_timeout_s * 1000u,
        .check_access = cfg->strong[COLLAB_CTL_STORE_ACCESS]};
    return collab_store_open_redis(&o, err, errlen);
}

collab_broker_t *collab_broker_new(const collab_config_t *cfg, bool reset_state, char *err,
                                   size_t errlen)
{
    collab_broker_t *self = calloc(1, sizeof *self);
    if (!self) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    self->ctx.cfg = *cfg;
    if (sodium_init() < 0) {
        snprintf(err, errlen, "libsodium failed to start");
        free(self);
        return NULL;
    }
    collab_ctx_init(&self->ctx);
    self->ctx.wall_ms = collab_broker_wall_ms;
    self->ctx.mono_ms = collab_broker_mono_ms;
    self->ctx.submit_hash = submit_hash;
    self->ctx.submit_arg = self;
    self->ctx.started_ms = collab_broker_wall_ms(NULL);
    if (!(self->ctx.outbox = collab_outbox_new(collab_broker_sink, self))) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    self->last_sweep_ms = self->last_flush_ms = self->last_stats_ms = self->ctx.started_ms;
    zsys_init();
    self->ctx.tables = collab_tables_new();
    self->ctx.readcache = collab_readcache_new();
    if (!self->ctx.tables || !self->ctx.readcache || load_agents(self, err, errlen) != 0)
        goto fail;
    /* one broker per state file; and bound before any state is touched, so that a broker
       that cannot bind leaves no new state file (nor security log) behind */
    if ((!cfg->store_url[0] &&
         !(self->lock = collab_statelock_acquire(cfg->state_path, err, errlen))) ||
        open_socket(self, err, errlen) != 0)
        goto fail;
    self->ctx.store = open_store(cfg, reset_state, err, errlen);
    if (self->ctx.store)
        collab_store_set_retention(self->ctx.store, cfg->event_retention);
    /* the security log, the state key and any migration, before the state is loaded */
    if (!self->ctx.store || collab_startup(&self->ctx, err, errlen) != 0 ||
        load_state(self, err, errlen) != 0)
        goto fail;
    self->ctx.ids = collab_idgen_new(cfg->strong[COLLAB_CTL_SESSION_IDS], 0);
    self->hasher = new_hasher(cfg);
    if (open_guards(self, err, errlen) != 0)
        goto fail;
    if (!self->ctx.ids || !self->hasher) {
        snprintf(err, errlen, "cannot start the id generator or the hashing threads");
        goto fail;
    }
    if (collab_store_start_writer(self->ctx.store) != 0) {
        snprintf(err, errlen, "%s: cannot start the writer thread", cfg->state_path);
        goto fail;
    }
    collab_seclog_emit(self->ctx.seclog, self->ctx.started_ms, "broker_started", "bind", cfg->bind,
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
    collab_outbox_destroy(&self->ctx.outbox); /* held frames were never acknowledged */
    if (self->monitor) {
        zmq_socket_monitor(self->router, NULL, 0);
        zmq_close(self->monitor);
    }
    zsock_t *sock = self->zsock;
    zsock_destroy(&sock);
    collab_transport_destroy(&self->transport); /* zauth outlives the socket it serves */
    collab_hasher_destroy(&self->hasher);
    collab_replay_destroy(&self->ctx.replay);
    collab_ratesync_destroy(&self->ratesync); /* before the gate it lends from */
    collab_rate_gate_destroy(&self->ctx.rate);
    if (self->ctx.store && collab_store_in_batch(self->ctx.store))
        collab_store_commit(self->ctx.store);
    collab_store_destroy(&self->ctx.store);
    collab_vault_destroy(&self->ctx.vault); /* after the store, which borrowed it */
    collab_idgen_destroy(&self->ctx.ids);
    collab_seclog_destroy(&self->ctx.seclog);
    collab_tables_destroy(&self->ctx.tables);
    collab_readcache_destroy(&self->ctx.readcache);
    collab_statelock_release(&self->lock); /* last: the state file is closed */
    free(self);
    *self_p = NULL;
}
