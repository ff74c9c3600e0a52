/*  lg_class.c: the scale of a class (issue 18, bench/README.md "A class"). N agents
    (bench-aNNNN, --agents, default 5,000) connect at once, one DEALER each; each logs in
    (cost-4 hashes) and subscribes to its events, --login-window at a time so that the
    broker's hashing queue (hash.queue_max) never answers busy. Then one coordinator
    (bench-coord) works at a steady modest rate (--rate rounds per second): each round it
    assigns a task to the next of agents 1..N-1 in turn (task_assigned to that agent) and
    moves the measured agent's own task one step through the write scenario's cycle
    (in_progress, failed, reassign back: each sends the measured agent, agents[0], an
    event). The measured agent's event is timed from the causing request's send to its
    receipt, as in lg_event.c. The others' events are read as they come (the agent just
    assigned is read each round, every agent every SWEEP_MS), so nothing piles up, and are
    counted against the assignments made. At the end every agent sends a heartbeat: all
    must still be connected and logged in.

    Memory: the server's RSS is read before the agents connect and once all are in; against
    bench/echo (--echo) the same connections each make one round trip instead, so the
    difference per connection is the broker's own cost per agent, libzmq's share apart.
    The login time runs from the first login sent to the last answered; the CPU time of the
    broker's hashing pool (its threads at a positive nice, lg_proc_niced_cpu) meanwhile is
    given beside it, to be read against its budget (hash.budget_ms). */
#include "loadgen.h"
#include "collab_clock.h"

#include "lg_many.h"
#include "lg_setup.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zmq.h>

#define CLASS_PREFIX      "bench-a"
#define JOIN_TIMEOUT_MS   900000 /* 15 minutes for every login of the class */
#define ROUND_TIMEOUT_MS  5000
#define TASKS_PER_PROJECT 900 /* then a new project (limits.tasks_per_project is 1,000) */
#define SWEEP_NS          (500 * 1000000ull)
#define SETTLE_MS         5000 /* for the others' last events at the end */
#define DESC              "A task of the class benchmark."

typedef struct {
    bench_t *b;
    lg_agent_key_t *keys;
    size_t n;
    lg_conn_t *agents; /* agents[0] is the measured one */
    lg_conn_t coord;
    lg_pool_t scratch;
    uint64_t rid;
    uint64_t project, m_task;
    unsigned in_project; /* tasks of the current project */
    size_t next_agent;   /* the next assignment goes to agents[next_agent], 1..n-1 */
    unsigned step;       /* the measured agent's task: 0 in_progress, 1 failed, 2 reassign */
    uint64_t m_next_seq; /* the seq the measured agent expects next (0: any) */
    uint64_t assigned;   /* assignments to the others, answered ok */
    uint64_t others;     /* events the others received */
    uint64_t last_sweep;
    lg_hist_t *h; /* [0] the measured agent's events, [1] its writes' replies, [2] assignments */
    bool recording;
} class_t;

/* ---------------------------------------------------------------------------------------
   The coordinator's requests, timed, with the measured agent listening */

static int coord_send(class_t *r, int action, const uint8_t *pl, size_t plen, uint64_t *t0)
{
    lg_pool_clear(&r->scratch);
    if (lg_pool_add(&r->scratch, &r->coord.id, action, pl, plen, ++r->rid) != 0)
        return -1;
    *t0 = (uint64_t)collab_mono_ns();
    if (zmq_send(r->coord.sock, r->scratch.arena, r->scratch.frames[0].len, 0) < 0)
        return -1;
    r->coord.sent++;
    return 0;
}

/*  A frame for the measured agent: an event, timed from t0 when the round waits for one. */
static void m_frame(class_t *r, zmq_msg_t *msg, uint64_t t0, uint64_t t, bool *got)
{
    collab_envelope_t env;
    lg_conn_t *m = &r->agents[0];
    if (collab_envelope_decode(zmq_msg_data(msg), zmq_msg_size(msg), &env) != 0 ||
        env.kind != COLLAB_KIND_EVENT)
        return;
    if (r->m_next_seq && env.seq != r->m_next_seq) { /* a gap or a repeat */
        m->errors++;
        m->last_error = COLLAB_E_MALFORMED;
    }
    r->m_next_seq = env.seq + 1;
    m->done++;
    if (!got || *got)
        return; /* not caused by this round's write, or a second one: counted, not timed */
    *got = true;
    if (r->recording)
        lg_hist_add(&r->h[0], t - t0);
}

/*  A frame for the coordinator: the reply to rid (its data's key read into *out). */
static void c_frame(class_t *r, zmq_msg_t *msg, uint64_t rid, const char *key, uint64_t *out,
                    bool *replied)
{
    collab_envelope_t env;
    const uint8_t *b = zmq_msg_data(msg);
    size_t len = zmq_msg_size(msg);
    if (collab_envelope_decode(b, len, &env) != 0 || env.kind != COLLAB_KIND_REPLY ||
        env.request_id != rid)
        return;
    *replied = true;
    r->coord.done++;
    int rc = env.ok ? 0 : -(int)env.error_code;
    if (rc == 0 && key)
        rc = lg_reply_uint(b, len, key, out);
    if (rc) {
        r->coord.errors++;
        r->coord.last_error = rc;
    }
}

/*  Waits until the reply to rid is in (rid 0: none), and the measured agent's event when
    *got is false (got NULL: none), or until deadline_ns when want_all is false and nothing
    is awaited. Returns 0, or -1 on a timeout or a socket failure. */
static int await(class_t *r, uint64_t rid, uint64_t t0, const char *key, uint64_t *out, bool *got,
                 lg_hist_t *hreply, uint64_t deadline_ns, bool *replied)
{
    for (;;) {
        bool waiting = (rid && !*replied) || (got && !*got);
        uint64_t now = (uint64_t)collab_mono_ns();
        if (!waiting && (rid || got))
            return 0;
        if (now >= deadline_ns) {
            if (!waiting)
                return 0;
            fprintf(stderr,
                    "loadgen: the coordinator's request or its event took more than "
                    "%d ms\n",
                    ROUND_TIMEOUT_MS);
            return -1;
        }
        zmq_pollitem_t items[2] = {{r->coord.sock, 0, ZMQ_POLLIN, 0},
                                   {r->agents[0].sock, 0, ZMQ_POLLIN, 0}};
        if (zmq_poll(items, 2, (long)((deadline_ns - now) / 1000000u) + 1) < 0 && errno != EINTR)
            return -1;
        zmq_msg_t msg;
        zmq_msg_init(&msg);
        while (zmq_msg_recv(&msg, r->coord.sock, ZMQ_DONTWAIT) >= 0) {
            uint64_t t = (uint64_t)collab_mono_ns();
            bool was = *replied;
            c_frame(r, &msg, rid, key, out, replied);
            if (!was && *replied && r->recording && hreply)
                lg_hist_add(hreply, t - t0);
            zmq_msg_close(&msg);
            zmq_msg_init(&msg);
        }
        while (zmq_msg_recv(&msg, r->agents[0].sock, ZMQ_DONTWAIT) >= 0) {
            m_frame(r, &msg, t0, (uint64_t)collab_mono_ns(), got);
            zmq_msg_close(&msg);
            zmq_msg_init(&msg);
        }
        zmq_msg_close(&msg);
    }
}

/*  One request of the coordinator and its reply (and the measured agent's event when
    event). Returns 0 or -1; an error reply is counted, not fatal. */
static int coord_call(class_t *r, int action, const uint8_t *pl, size_t plen, bool event,
                      const char *key, uint64_t *out, lg_hist_t *hreply)
{
    uint64_t t0;
    bool replied = false, got = false;
    if (coord_send(r, action, pl, plen, &t0) != 0)
        return -1;
    uint64_t deadline = t0 + (uint64_t)ROUND_TIMEOUT_MS * 1000000u;
    return await(r, r->rid, t0, key, out, event ? &got : NULL, hreply, deadline, &replied);
}

/* ---------------------------------------------------------------------------------------
   Rounds */

static int new_project(class_t *r)
{
    uint8_t pl[512];
    size_t plen = lg_payload_create_project(pl, sizeof pl, "class project", DESC);
    r->in_project = 0;
    r->project = 0;
    int rc =
        coord_call(r, COLLAB_ACT_CREATE_PROJECT, pl, plen, false, "project_id", &r->project, NULL);
    return rc == 0 && r->project ? 0 : -1;
}

static int assign(class_t *r, size_t agent, uint64_t *task)
{
    uint8_t pl[512];
    char title[64];
    if (r->in_project >= TASKS_PER_PROJECT && new_project(r) != 0)
        return -1;
    snprintf(title, sizeof title, "class task %u", r->in_project);
    size_t plen = lg_payload_assign_task(pl, sizeof pl, r->project, title, DESC, r->keys[agent].id);
    *task = 0;
    uint64_t errors = r->coord.errors;
    if (coord_call(r, COLLAB_ACT_ASSIGN_TASK, pl, plen, false, "task_id", task, &r->h[2]) != 0)
        return -1;
    r->in_project++;
    return r->coord.errors == errors ? 0 : 1;
}

/*  One round: an assignment to the next of the others, then the measured agent's write. */
static int round_once(class_t *r)
{
    size_t k = r->next_agent;
    r->next_agent = r->next_agent + 1 < r->n ? r->next_agent + 1 : 1;
    uint64_t task;
    int rc = r->n > 1 ? assign(r, k, &task) : 0;
    if (rc < 0)
        return -1;
    if (rc == 0 && r->n > 1) {
        r->assigned++;
        r->agents[k].sent++; /* the event it should receive */
    }
    uint8_t pl[128];
    size_t plen;
    int action = COLLAB_ACT_UPDATE_TASK_STATUS;
    if (r->step == 2) {
        action = COLLAB_ACT_REASSIGN_TASK;
        plen = lg_payload_reassign(pl, sizeof pl, r->m_task, r->keys[0].id);
    } else
        plen =
            lg_payload_update_status(pl, sizeof pl, r->m_task, r->step ? "failed" : "in_progress");
    r->step = (r->step + 1) % 3;
    if (coord_call(r, action, pl, plen, true, NULL, NULL, &r->h[1]) != 0)
        return -1;
    /* the agent just assigned (its event left with the reply), then now and then all */
    r->others += r->n > 1 ? lg_many_sweep(&r->agents[k], 1, SIZE_MAX) : 0;
    uint64_t now = (uint64_t)collab_mono_ns();
    if (now - r->last_sweep >= SWEEP_NS) {
        r->others += lg_many_sweep(r->agents, r->n, 0);
        r->last_sweep = now;
    }
    return 0;
}

/*  Rounds at b->rate per second until end_ns. */
static int rounds_until(class_t *r, uint64_t end_ns)
{
    uint64_t period = (uint64_t)(1e9 / r->b->rate), next = (uint64_t)collab_mono_ns();
    while (next < end_ns) {
        if (round_once(r) != 0)
            return -1;
        next += period;
        bool replied = false;
        uint64_t now = (uint64_t)collab_mono_ns();
        if (next > now && await(r, 0, now, NULL, NULL, NULL, NULL, next, &replied) != 0)
            return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------------------------------
   Setup */

static int open_agents(class_t *r, double *connect_s)
{
    r->agents = calloc(r->n, sizeof *r->agents);
    if (!r->agents)
        return -1;
    return lg_many_open(r->agents, r->n, r->b->ctx, r->b->endpoint, &r->b->curve, JOIN_TIMEOUT_MS,
                        connect_s);
}

/*  Reads the class's agents from the credentials (or makes up their names against echo). */
static int load_class(class_t *r)
{
    bench_t *b = r->b;
    if (!b->echo) {
        int n = lg_keys_load(b->creds, CLASS_PREFIX, b->agents, &r->keys);
        if (n < (int)b->agents) {
            fprintf(stderr, "loadgen: the class needs %u %sNNNN agents, %s has %d\n", b->agents,
                    CLASS_PREFIX, b->creds, n);
            return -1;
        }
    } else if (!(r->keys = calloc(b->agents, sizeof *r->keys)))
        return -1;
    for (size_t i = 0; b->echo && i < b->agents; i++)
        snprintf(r->keys[i].id, sizeof r->keys[i].id, "%s%04zu", CLASS_PREFIX, i);
    r->n = b->agents;
    return 0;
}

/*  The coordinator logs in, creates the first project and the measured agent's task. */
static int coord_setup(class_t *r)
{
    uint8_t pl[512];
    if (lg_conn_open(&r->coord, r->b->ctx, r->b->endpoint, &r->b->curve, 1) != 0 ||
        lg_become(r->b, &r->coord, "bench-coord", r->b->password) != 0)
        return -1;
    if (r->coord.id.nonce) {
        fprintf(stderr, "loadgen: the class scenario needs replay protection off (stage2)\n");
        return -1;
    }
    size_t plen = lg_payload_create_project(pl, sizeof pl, "class project", DESC);
    int rc = lg_rpc(&r->coord, COLLAB_ACT_CREATE_PROJECT, pl, plen, "project_id", &r->project);
    plen =
        lg_payload_assign_task(pl, sizeof pl, r->project, "the measured task", DESC, r->keys[0].id);
    if (rc == 0)
        rc = lg_rpc(&r->coord, COLLAB_ACT_ASSIGN_TASK, pl, plen, "task_id", &r->m_task);
    if (rc)
        fprintf(stderr, "loadgen: the coordinator's setup failed: %s\n", collab_strerror(rc));
    r->in_project = 1;
    r->next_agent = 1;
    return rc ? -1 : 0;
}

/* ---------------------------------------------------------------------------------------
   Phases */

/*  Connects and logs in (or, against echo, makes one round trip on) every agent's
    connection; prints the logins' phase and the memory line. */
static int join(class_t *r, lg_hist_t *h)
{
    bench_t *b = r->b;
    lg_mark_t m0, m1;
    lg_many_stats_t st;
    lg_many_opts_t o = {.kind = b->echo ? LG_MANY_PING : LG_MANY_JOIN,
                        .echo = b->echo,
                        .subscribe = true,
                        .window = b->login_window,
                        .password = b->password,
                        .timeout_ms = JOIN_TIMEOUT_MS};
    lg_mark(b, &m0);
    double hash0 = b->npids ? lg_proc_niced_cpu(b->pids[0]) : 0;
    double connect_s = 0;
    if (open_agents(r, &connect_s) != 0)
        return -1;
    for (size_t i = 0; b->echo && i < r->n; i++)
        lg_become(b, &r->agents[i], r->keys[i].id, b->password);
    lg_hist_reset(h);
    int rc = lg_many_run(r->agents, r->n, r->keys, &o, h, &st);
    double hash1 = b->npids ? lg_proc_niced_cpu(b->pids[0]) : 0;
    lg_mark(b, &m1);
    lg_report(b, "logins", r->agents, (unsigned)r->n, h, &m0);
    double login_s =
        st.last_first_ns > st.first_ns ? (double)(st.last_first_ns - st.first_ns) / 1e9 : 0;
    double all_s = st.last_ns > st.first_ns ? (double)(st.last_ns - st.first_ns) / 1e9 : 0;
    long grown = m1.p0.rss_kb - m0.p0.rss_kb;
    printf("result scenario=class label=%s phase=join mode=%s agents=%zu joined=%llu errors=%llu "
           "last_error=%s retries=%llu window=%u connect_s=%.3f login_s=%.3f all_s=%.3f "
           "hash_cpu_s=%.2f "
           "hash_cpu_per_s=%.3f rss_before_kb=%ld rss_after_kb=%ld bytes_per_agent=%.0f\n",
           b->label, b->echo ? "echo" : "broker", r->n, (unsigned long long)st.done,
           (unsigned long long)st.errors, st.last_error ? collab_errname(st.last_error) : "none",
           (unsigned long long)st.retries, o.window, connect_s, login_s, all_s, hash1 - hash0,
           login_s > 0 ? (hash1 - hash0) / login_s : 0.0, m0.p0.rss_kb, m1.p0.rss_kb,
           (double)grown * 1024.0 / (double)r->n);
    fflush(stdout);
    return rc;
}

/*  The coordinator's rounds: a warm-up, then the timed window; then the others' events are
    counted in and every agent sends a heartbeat. */
static int work(class_t *r)
{
    bench_t *b = r->b;
    lg_mark_t m;
    r->last_sweep = (uint64_t)collab_mono_ns();
    int rc = rounds_until(r, r->last_sweep + (uint64_t)(b->warmup * 1e9));
    if (rc != 0)
        return -1;
    for (int i = 0; i < 3; i++)
        lg_hist_reset(&r->h[i]);
    lg_conn_phase(&r->agents[0], NULL);
    lg_conn_phase(&r->coord, NULL);
    r->recording = true;
    lg_mark(b, &m);
    rc = rounds_until(r, m.t0 + (uint64_t)(b->duration * 1e9));
    r->recording = false;
    if (rc != 0)
        return -1;
    lg_report(b, "event", &r->agents[0], 1, &r->h[0], &m);
    lg_report(b, "cause", &r->coord, 1, &r->h[1], &m);
    lg_report(b, "assign", &r->coord, 1, &r->h[2], &m);
    /* the others' last events, then a heartbeat from everyone */
    uint64_t settle = (uint64_t)collab_mono_ns() + SETTLE_MS * 1000000ull;
    while (r->others < r->assigned && (uint64_t)collab_mono_ns() < settle) {
        r->others += lg_many_sweep(r->agents, r->n, 0);
        zmq_poll(NULL, 0, 10);
    }
    size_t missing = 0, extra = 0;
    for (size_t i = 1; i < r->n; i++) {
        missing += r->agents[i].done < r->agents[i].sent;
        extra += r->agents[i].done > r->agents[i].sent;
    }
    lg_many_stats_t st;
    lg_many_opts_t o = {
        .kind = LG_MANY_PING, .window = b->login_window, .timeout_ms = JOIN_TIMEOUT_MS};
    rc = lg_many_run(r->agents, r->n, NULL, &o, NULL, &st);
    lg_proc_t p = m.p0;
    lg_mark(b, &m);
    printf("result scenario=class label=%s phase=class mode=broker agents=%zu rate=%.1f "
           "assigned=%llu others_events=%llu agents_missing=%zu agents_extra=%zu alive=%llu "
           "alive_errors=%llu last_error=%s rss_kb=%ld rss_end_kb=%ld\n",
           b->label, r->n, b->rate, (unsigned long long)r->assigned, (unsigned long long)r->others,
           missing, extra, (unsigned long long)st.done, (unsigned long long)st.errors,
           st.last_error ? collab_errname(st.last_error) : "none", p.rss_kb, m.p0.rss_kb);
    fflush(stdout);
    return rc;
}

int lg_scenario_class(bench_t *b)
{
    class_t r = {.b = b};
    lg_hist_t *hj = malloc(sizeof *hj);
    r.h = calloc(3, sizeof *r.h);
    int rc = hj && r.h ? load_class(&r) : -1;
    if (rc == 0 && !b->echo)
        rc = coord_setup(&r);
    if (rc == 0)
        rc = join(&r, hj);
    if (rc == 0 && !b->echo)
        rc = work(&r);
    for (size_t i = 0; r.agents && i < r.n; i++)
        lg_conn_close(&r.agents[i]);
    lg_conn_close(&r.coord);
    lg_pool_free(&r.scratch);
    free(r.agents);
    free(r.keys);
    free(r.h);
    free(hj);
    return rc;
}
