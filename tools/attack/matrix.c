/*  matrix.c: collab-attack matrix. Runs every attack of the catalogue under stage2, under
    hardened, and under stage2 with each single control strong, each cell against a fresh
    broker with a fresh state file on an ephemeral port (a cluster row: two fresh brokers on
    a fresh redis-server), and prints the table, marking every cell that differs from the
    catalogue's expectation. Cells run in parallel child processes (-j). */
#include "attack.h"
#include "catalogue.h"
#include "matrixint.h"
#include "cellstore.h"
#include "cellweb.h"
#include "collab_controls.h"
#include "collab_clock.h"
#include "collab_spawn.h"
#include "readfile.h"

#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/*  The full matrix's wall time with the default -j, measured on this project's 2-CPU
    machine while other builds shared it. 15 attacks x 16 configurations (load 4-6): -j 3
    (the default) 104 s, -j 2 137 s, -j 4 114 s. 16 attacks x 19 configurations, the first
    cluster row (store-snoop) included, while a sanitizer build ran (load 6-10): 175 s.
    22 attacks x 23 configurations, the four web rows included (24 cells, 18 of them with a
    headless Chromium), while a sanitizer build and other builds ran (load 7-9): 436 s.
    Stated in --help. */
#define MATRIX_MEASURED "436 s"

/*  What one cell's placeholders expand to. */
typedef struct {
    const char *dir;
    char broker2[64]; /* a cluster cell: tcp://127.0.0.1:PORT of broker b */
    char store[64];   /* a cluster cell: redis://127.0.0.1:PORT */
    bool locked;      /* a cluster cell under store_access strong: ACL users per broker */
    char web[80];     /* a web cell: the gateway's URL, http://127.0.0.1:PORT/ */
} cell_env_t;

/*  The password files of the victims: one AGENT.pw per line "agent password". */
static int write_passwords(const matrix_t *m, const char *dir)
{
    FILE *in = fopen(m->passwords, "r");
    char line[512], agent[128], pw[300], path[PATH_MAX + 200];
    if (!in)
        return -1;
    while (fgets(line, sizeof line, in))
        if (line[0] != '#' && sscanf(line, "%127s %299s", agent, pw) == 2) {
            snprintf(path, sizeof path, "%s/%s.pw", dir, agent);
            FILE *f = fopen(path, "w");
            if (f) {
                fchmod(fileno(f), 0600);
                fprintf(f, "%s\n", pw);
                fclose(f);
            }
        }
    fclose(in);
    return 0;
}

/*  Replaces {dir} {pw} {creds} {state} {log} {data} {broker2} {store} {web} in a catalogue
    argument. */
static void expand(const char *in, const cell_env_t *env, const matrix_t *m, char *out, size_t cap)
{
    static const char *const keys[] = {"{dir}",  "{pw}",      "{creds}", "{state}", "{log}",
                                       "{data}", "{broker2}", "{store}", "{web}"};
    enum { NKEYS = sizeof keys / sizeof keys[0] };
    const char *dir = env->dir;
    char vals[NKEYS][PATH_MAX + 64];
    snprintf(vals[0], sizeof vals[0], "%s", dir);
    snprintf(vals[1], sizeof vals[1], "%s/pw", dir);
    snprintf(vals[2], sizeof vals[2], "%s", m->creds);
    snprintf(vals[3], sizeof vals[3], "%s/state.db", dir);
    snprintf(vals[4], sizeof vals[4], "%s/security.log", dir);
    snprintf(vals[5], sizeof vals[5], "%s", m->data_dir);
    snprintf(vals[6], sizeof vals[6], "%s", env->broker2);
    snprintf(vals[7], sizeof vals[7], "%s", env->store);
    snprintf(vals[8], sizeof vals[8], "%s", env->web);
    size_t o = 0;
    while (*in && o + 1 < cap) {
        int hit = -1;
        for (int k = 0; k < NKEYS && hit < 0; k++)
            if (strncmp(in, keys[k], strlen(keys[k])) == 0)
                hit = k;
        if (hit < 0) {
            out[o++] = *in++;
            continue;
        }
        o += (size_t)snprintf(out + o, cap - o, "%s", vals[hit]);
        in += strlen(keys[hit]);
        if (o >= cap)
            o = cap - 1;
    }
    out[o] = '\0';
}

#define ARG(...) snprintf(args[n], sizeof args[n], __VA_ARGS__), argv[n] = args[n], n++
/*  The configuration that a cell's broker and its gateway (a web cell) both take: the
    profile, the key files in the cell's directory, the TEST-ONLY CURVE keys, the column's
    controls and the row's broker_set; appended to args/argv from n (at most 64). Returns
    the new n. */
static int config_args(const matrix_t *m, const cJSON *atk, const char *col, const cell_env_t *env,
                       char (*args)[PATH_MAX + 64], char **argv, int n)
{
    const char *dir = env->dir;
    ARG("--profile"), ARG("%s", strcmp(col, "hardened") == 0 ? "hardened" : "stage2");
    /* every key file the broker or the gateway may create lives in the cell's directory */
    ARG("--set"), ARG("state_at_rest.key_file=%s/state.key", dir);
    ARG("--set"), ARG("audit.key_file=%s/audit.key", dir);
    if (catalogue_is_web(atk))
        ARG("--set"), ARG("web.token_key_file=%s/web-token.key", dir);
    /* the TEST-ONLY CURVE keys of the sample data, whatever the working folder */
    ARG("--set"), ARG("transport.server_cert=%.2000s/curve/broker.cert", m->data_dir);
    ARG("--set"), ARG("transport.clients_dir=%.2000s/curve/clients", m->data_dir);
    int chain[CATALOGUE_MAX_CHAIN], nchain = catalogue_col_controls(col, chain);
    for (int i = 0; i < nchain; i++) /* the column's control, and those it requires */
        ARG("--set"), ARG("%s=strong", collab_control_name(chain[i]));
    const cJSON *set;
    cJSON_ArrayForEach(set, cJSON_GetObjectItemCaseSensitive(atk, "broker_set"))
    {
        if (cJSON_IsString(set) && n < 62) {
            ARG("--set");
            expand(set->valuestring, env, m, args[n], sizeof args[n]);
            argv[n] = args[n], n++;
        }
    }
    return n;
}

/*  The credentials of a cell's broker: the row's broker_credentials, or the test ones. */
static void cell_creds(const matrix_t *m, const cJSON *atk, const cell_env_t *env, char *out,
                       size_t cap)
{
    const char *bcreds =
        cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(atk, "broker_credentials"));
    if (bcreds) /* an attack may need the lab's real hashes (cost 12), not the cheap ones */
        expand(bcreds, env, m, out, cap);
    else
        snprintf(out, cap, "%s", m->creds);
}

/*  Starts the broker of one cell (node: its name in a cluster cell, else NULL); returns
    its pid and port, or pid -1 with the reason. */
static pid_t start_broker(const matrix_t *m, const cJSON *atk, const char *col,
                          const cell_env_t *env, const char *node, int *port, char *reason,
                          size_t rcap)
{
    const char *dir = env->dir;
    static char args[80][PATH_MAX + 64];
    char *argv[80];
    int n = 0;
    ARG("%s", m->broker_exe);
    ARG("--bind"), ARG("tcp://127.0.0.1:*");
    if (node && strcmp(node, "a") != 0) { /* {state} and {log} are broker a's */
        ARG("--state"), ARG("%s/state-%s.db", dir, node);
        ARG("--security-log"), ARG("%s/security-%s.log", dir, node);
    } else {
        ARG("--state"), ARG("%s/state.db", dir);
        ARG("--security-log"), ARG("%s/security.log", dir);
    }
    if (node) {
        ARG("--store"), ARG("%s", env->store);
        ARG("--node"), ARG("%s", node);
        if (env->locked)
            ARG("--store-password-file"), ARG("%s/%s.redispw", dir, node);
        /* a cell tests a control, not an outage: a store slowed by the machine's other work
           (fsync behind a disk-heavy image build once took over 500 ms at start) must not
           fail the cell */
        ARG("--set"), ARG("store.timeout_ms=5000");
    }
    ARG("--credentials");
    cell_creds(m, atk, env, args[n], sizeof args[n]), argv[n] = args[n], n++;
    ARG("--log-level"), ARG("error");
    n = config_args(m, atk, col, env, args, argv, n);
    argv[n] = NULL;
    const collab_spawn_opts_t opts = {
        .out = COLLAB_SPAWN_PIPE, .err = COLLAB_SPAWN_STDOUT, .death_signal = SIGTERM};
    collab_proc_t child;
    if (collab_spawn(&child, (const char *const *)argv, &opts) != 0)
        return -1;
    int fd = child.out;
    char buf[2048];
    size_t len = 0;
    long long deadline = collab_mono_ms() + 10000;
    *port = 0;
    while (len < sizeof buf - 1 && !*port) {
        struct pollfd p = {fd, POLLIN, 0};
        long long left = deadline - collab_mono_ms();
        if (left <= 0 || poll(&p, 1, (int)left) <= 0)
            break;
        ssize_t r = read(fd, buf + len, sizeof buf - 1 - len);
        if (r <= 0)
            break;
        len += (size_t)r;
        buf[len] = '\0';
        char *l = strstr(buf, "listening tcp://127.0.0.1:");
        if (l && strchr(l, '\n'))
            *port = atoi(l + strlen("listening tcp://127.0.0.1:"));
    }
    collab_spawn_close(&child);
    if (*port)
        return child.pid;
    collab_spawn_kill(&child, SIGKILL);
    collab_spawn_wait(&child, -1);
    buf[len] = '\0';
    char *nl = strchr(buf, '\n');
    snprintf(reason, rcap, "%.*s", nl ? (int)(nl - buf) : (int)len, buf);
    return -1;
}

/*  Starts a web cell's gateway beside its broker (port), with the broker's configuration;
    its URL into env->web. Returns 0, or -1 with the reason in the cell. */
static int start_web(const matrix_t *m, const cJSON *atk, const char *col, cell_env_t *env,
                     int port, cellweb_t *web, cell_t *cell)
{
    static char args[64][PATH_MAX + 64];
    char *argv[64], endpoint[64], creds[PATH_MAX + 64], log[PATH_MAX], key[PATH_MAX];
    int n = config_args(m, atk, col, env, args, argv, 0);
    int chain[CATALOGUE_MAX_CHAIN], nchain = catalogue_col_controls(col, chain);
    bool curve = strcmp(col, "hardened") == 0;
    for (int i = 0; i < nchain; i++)
        curve |= chain[i] == COLLAB_CTL_TRANSPORT;
    if (curve) /* CURVE on the bus: each agent's client with that agent's TEST-ONLY cert */
        ARG("--curve-dir"), ARG("%.2000s/curve", m->data_dir);
    snprintf(endpoint, sizeof endpoint, "tcp://127.0.0.1:%d", port);
    snprintf(log, sizeof log, "%.2000s/web.log", env->dir);
    snprintf(key, sizeof key, "%.2000s/web-token.key", env->dir); /* config_args names it */
    cell_creds(m, atk, env, creds, sizeof creds);
    if (cellweb_start(web, m->web_exe, endpoint, creds, argv, n, key, log, cell->reason,
                      sizeof cell->reason) != 0)
        return -1;
    snprintf(env->web, sizeof env->web, "%s", web->url);
    return 0;
}
#undef ARG

/*  The evidence and decided_by of an attack's --json verdict line (the whole output as
    the reason when it is no such line, e.g. a crash). */
static void read_verdict(const char *out, cell_t *cell)
{
    cJSON *j = cJSON_Parse(out);
    const char *ev = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "evidence"));
    const char *by = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "decided_by"));
    snprintf(cell->reason, sizeof cell->reason, "%.290s", ev ? ev : out);
    snprintf(cell->decided_by, sizeof cell->decided_by, "%s", by ? by : "");
    cJSON_Delete(j);
}

/*  Runs the attack of one cell as a child collab-attack; fills the cell. */
static void run_attack(const matrix_t *m, const cJSON *atk, const char *col, const cell_env_t *env,
                       int port, cell_t *cell)
{
    static char args[64][PATH_MAX + 64];
    char *argv[70];
    int n = 0;
    snprintf(args[n], sizeof args[n], "%s", m->self_exe), argv[n] = args[n], n++;
    snprintf(args[n], sizeof args[n], "%s",
             cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(atk, "attack"))),
        argv[n] = args[n], n++;
    snprintf(args[n], sizeof args[n], "--broker"), argv[n] = args[n], n++;
    snprintf(args[n], sizeof args[n], "tcp://127.0.0.1:%d", port), argv[n] = args[n], n++;
    snprintf(args[n], sizeof args[n], "--json"), argv[n] = args[n], n++;
    const cJSON *a;
    cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(atk, "args"))
    {
        if (cJSON_IsString(a) && n < 66) {
            expand(a->valuestring, env, m, args[n], sizeof args[n]);
            argv[n] = args[n], n++;
        }
    }
    if (strcmp(col, "transport") == 0 || strcmp(col, "hardened") == 0) {
        snprintf(args[n], sizeof args[n], "--curve-dir"), argv[n] = args[n], n++;
        snprintf(args[n], sizeof args[n], "%.2000s/curve", m->data_dir), argv[n] = args[n], n++;
    }
    argv[n] = NULL;
    cell->outcome = ATTACK_ERROR;
    const collab_spawn_opts_t opts = {
        .out = COLLAB_SPAWN_PIPE, .err = COLLAB_SPAWN_NULL, .death_signal = SIGTERM};
    collab_proc_t child;
    if (collab_spawn(&child, (const char *const *)argv, &opts) != 0)
        return;
    char out[2048];
    size_t len = 0;
    ssize_t r;
    while (len < sizeof out - 1 && (r = read(child.out, out + len, sizeof out - 1 - len)) > 0)
        len += (size_t)r;
    out[len] = '\0';
    collab_spawn_close(&child);
    collab_spawn_wait(&child, -1);
    int code = WIFEXITED(child.wstatus) ? WEXITSTATUS(child.wstatus) : ATTACK_ERROR;
    cell->outcome = code == ATTACK_SUCCEEDED || code == ATTACK_BLOCKED ? code : ATTACK_ERROR;
    read_verdict(out, cell);
}

/*  Whether the column sets store_access strong: its cluster's store then has ACL users. */
static bool locks_store(const char *col)
{
    int chain[CATALOGUE_MAX_CHAIN], n = catalogue_col_controls(col, chain);
    bool locked = strcmp(col, "hardened") == 0;
    for (int i = 0; i < n; i++)
        locked |= chain[i] == COLLAB_CTL_STORE_ACCESS;
    return locked;
}

/*  Starts a cluster cell's store and its broker b (broker a is started by the caller). */
static pid_t start_cluster(const matrix_t *m, const cJSON *atk, const char *col, cell_env_t *env,
                           cellstore_t *store, cell_t *cell)
{
    static const char *const nodes[] = {"a", "b"};
    int port = 0;
    env->locked = locks_store(col);
    if (cellstore_start(store, env->dir, env->locked, nodes, 2, cell->reason,
                        sizeof cell->reason) != 0)
        return -1;
    snprintf(env->store, sizeof env->store, "%s", store->url);
    pid_t b = start_broker(m, atk, col, env, "b", &port, cell->reason, sizeof cell->reason);
    if (b > 0)
        snprintf(env->broker2, sizeof env->broker2, "tcp://127.0.0.1:%d", port);
    return b;
}

static void stop_broker(pid_t pid)
{
    if (pid > 0) {
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
    }
}

static void run_cell(const matrix_t *m, const cJSON *atk, const char *col, cell_t *cell)
{
    char dir[] = "/tmp/collab-matrix-XXXXXX", pwdir[PATH_MAX], cmd[PATH_MAX + 32];
    int port = 0;
    bool cluster = catalogue_is_cluster(atk);
    const char *why = catalogue_not_applicable(atk, col);
    if (why) {
        cell->outcome = CATALOGUE_NOT_APPLICABLE;
        snprintf(cell->reason, sizeof cell->reason, "not run: %s %s", col, why);
        return;
    }
    if (!mkdtemp(dir)) {
        snprintf(cell->reason, sizeof cell->reason, "no temporary directory");
        return;
    }
    snprintf(pwdir, sizeof pwdir, "%s/pw", dir);
    mkdir(pwdir, 0700);
    write_passwords(m, pwdir);
    cell_env_t env = {.dir = dir};
    cellstore_t store = {.server = NULL};
    cellweb_t web = {.pid = 0, .out = -1};
    pid_t b = 0, a = -1;
    if (cluster)
        b = start_cluster(m, atk, col, &env, &store, cell);
    if (b >= 0)
        a = start_broker(m, atk, col, &env, cluster ? "a" : NULL, &port, cell->reason,
                         sizeof cell->reason);
    if (a < 0 || (catalogue_is_web(atk) && start_web(m, atk, col, &env, port, &web, cell) != 0)) {
        cell->outcome = -2;
    } else {
        run_attack(m, atk, col, &env, port, cell);
    }
    cellweb_stop(&web); /* the gateway before its broker, as its bus clients log out */
    stop_broker(a);
    stop_broker(b);
    if (cluster)
        cellstore_stop(&store);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "collab-attack matrix: could not remove %s\n", dir);
}

/*  One cell for a runner child to run. */
typedef struct {
    const matrix_t *m;
    int idx;
} cell_job_t;

/*  In a runner child: runs the cell and writes it to fd. */
static int run_cell_child(void *arg, int fd)
{
    const cell_job_t *job = arg;
    const matrix_t *m = job->m;
    cell_t c = {0};
    run_cell(m, m->cat.attacks[job->idx / m->cat.ncols], m->cat.cols[job->idx % m->cat.ncols], &c);
    ssize_t w = write(fd, &c, sizeof c);
    return w == (ssize_t)sizeof c ? 0 : 1;
}

/*  Runs every cell, at most m->jobs at a time, each in a child that reports through a pipe. */
static void run_all(const matrix_t *m, cell_t *cells)
{
    int total = m->cat.nattacks * m->cat.ncols, next = 0, running = 0;
    struct {
        pid_t pid;
        int fd, idx;
    } slot[16];
    while (next < total || running > 0) {
        while (running < m->jobs && next < total) {
            cell_job_t job = {m, next++};
            const collab_spawn_opts_t opts = {.out = COLLAB_SPAWN_PIPE, .death_signal = SIGTERM};
            collab_proc_t child;
            if (collab_spawn_fn(&child, run_cell_child, &job, &opts) != 0)
                break;
            slot[running].pid = child.pid, slot[running].fd = child.out,
            slot[running].idx = job.idx;
            running++;
        }
        struct pollfd p[16];
        for (int i = 0; i < running; i++)
            p[i] = (struct pollfd){slot[i].fd, POLLIN, 0};
        if (poll(p, (nfds_t)running, -1) <= 0)
            continue;
        for (int i = running - 1; i >= 0; i--) { /* downward: removal swaps in the last */
            if (!p[i].revents)
                continue;
            cell_t *c = &cells[slot[i].idx];
            if (read(slot[i].fd, c, sizeof *c) != (ssize_t)sizeof *c)
                snprintf(c->reason, sizeof c->reason, "the cell's runner failed");
            close(slot[i].fd);
            waitpid(slot[i].pid, NULL, 0);
            fprintf(stderr, ".");
            slot[i] = slot[--running];
        }
    }
    fprintf(stderr, "\n");
}

/*  Fills each cell's expectation from the catalogue; returns the number of mismatches. */
static int compare(const matrix_t *m, cell_t *cells)
{
    int bad = 0;
    for (int a = 0; a < m->cat.nattacks; a++)
        for (int c = 0; c < m->cat.ncols; c++) {
            cell_t *cell = &cells[a * m->cat.ncols + c];
            int want = catalogue_expected(m->cat.attacks[a], m->cat.cols[c]);
            cell->expected_known = want >= 0 || want == CATALOGUE_NOT_APPLICABLE;
            cell->expected = want;
            bad += !cell->expected_known || cell->outcome != want;
        }
    return bad;
}

static int load_catalogue(matrix_t *m, const char *cols_arg)
{
    char err[PATH_MAX + 64] = "";
    char *text = agent_read_file(m->catalogue, 1u << 20, NULL, err, sizeof err);
    int rc = text ? catalogue_parse(&m->cat, text, m->only, cols_arg, err, sizeof err) : -1;
    free(text);
    if (rc != 0)
        fprintf(stderr, "collab-attack matrix: cannot read the catalogue: %s\n", err);
    return rc;
}

/*  The default parallelism: one cell more than CPUs. A cell mostly waits (a victim's
    timer, a session's lifetime, a reply, the broker's low-priority hashing pool) rather than
    computes, so one extra keeps the CPUs busy; more only slows the cells that measure time
    (enumerate-agents, flood) without finishing sooner. */
static int default_jobs(void)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    return cpus < 1 ? 2 : cpus >= 15 ? 16 : (int)cpus + 1;
}

static void matrix_usage(FILE *out)
{
    fprintf(out,
            "usage: collab-attack matrix [--json] [-j N] [--attacks a,b] [--configs c,d]\n"
            "                            [--json-out FILE] [--sample-data DIR] [--broker-exe F]\n"
            "Runs every attack of the catalogue under stage2, hardened and stage2 with each\n"
            "single control strong, each cell against a fresh broker on an ephemeral port\n"
            "(a cluster row: a fresh redis-server and two brokers, a and b), and compares\n"
            "each verdict with the catalogue (exit 1 when one differs). replay_scope's column\n"
            "is stage2+replay+replay_scope (it acts only on top of replay). A single-broker\n"
            "row is not run in the cluster controls' columns (shown as -). A web row\n"
            "(\"web\": true) starts collab-web beside its broker (--web-exe, default: beside\n"
            "this build) and runs under stage2, hardened and the web controls only.\n"
            "  -j N            cells at a time (default: CPUs + 1 = %d here, since a cell\n"
            "                  mostly waits); the full matrix (22 attacks x 23 configurations)\n"
            "                  took about " MATRIX_MEASURED " with the default (-j 3) on a shared\n"
            "                  2-CPU machine under load (15 x 16: 105 s; -j 2 137 s, -j 4 114 s)\n"
            "  --attacks LIST  only these attacks; --configs LIST only these columns (a\n"
            "                  column's name, or its control's: replay_scope)\n"
            "  --sample-data DIR  the catalogue, test credentials and passwords (default %s)\n"
            "  --broker-exe F  the broker (default: beside this build)\n"
            "  --json          cells as JSON: attack, config, verdict, expected, reason,\n"
            "                  decided_by; --json-out FILE writes that JSON to FILE and\n"
            "                  prints the table\n",
            default_jobs(), COLLAB_SOURCE_DIR "/sample_data");
}

static void set_sample_data(matrix_t *m, const char *dir)
{
    snprintf(m->data_dir, sizeof m->data_dir, "%.2000s", dir);
    snprintf(m->catalogue, sizeof m->catalogue, "%s/attack_scenarios.json", m->data_dir);
    snprintf(m->creds, sizeof m->creds, "%s/test_credentials.json", m->data_dir);
    snprintf(m->passwords, sizeof m->passwords, "%s/test_passwords.txt", m->data_dir);
}

/*  The matrix's options into m and *cols; 0, 1 for --help, or -1 (usage on stderr). */
static int parse_matrix(int argc, char **argv, matrix_t *m, const char **cols)
{
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        long n;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            matrix_usage(stdout);
            return 1;
        } else if (strcmp(argv[i], "--json") == 0)
            m->json = true;
        else if (strcmp(argv[i], "-j") == 0 && v && collab_parse_long(v, 1, 16, &n) == 0)
            m->jobs = (int)n, i++;
        else if (strcmp(argv[i], "--attacks") == 0 && v)
            m->only = argv[++i];
        else if (strcmp(argv[i], "--configs") == 0 && v)
            *cols = argv[++i];
        else if (strcmp(argv[i], "--json-out") == 0 && v)
            m->json_out = argv[++i];
        else if (strcmp(argv[i], "--broker-exe") == 0 && v)
            snprintf(m->broker_exe, sizeof m->broker_exe, "%s", argv[++i]);
        else if (strcmp(argv[i], "--web-exe") == 0 && v)
            snprintf(m->web_exe, sizeof m->web_exe, "%s", argv[++i]);
        else if (strcmp(argv[i], "--sample-data") == 0 && v)
            set_sample_data(m, argv[++i]);
        else {
            fprintf(stderr, "collab-attack matrix: bad option '%s'%s\n", argv[i],
                    strcmp(argv[i], "-j") == 0 ? " (1..16)" : "");
            matrix_usage(stderr);
            return -1;
        }
    }
    return 0;
}

int attack_matrix(int argc, char **argv, const char *self_exe)
{
    static matrix_t m;
    char dirbuf[PATH_MAX];
    const char *cols = NULL;
    snprintf(m.self_exe, sizeof m.self_exe, "%s", self_exe);
    snprintf(dirbuf, sizeof dirbuf, "%s", self_exe);
    snprintf(m.exe_dir, sizeof m.exe_dir, "%.2000s", dirname(dirbuf));
    snprintf(m.broker_exe, sizeof m.broker_exe, "%s/../../broker/collab-broker", m.exe_dir);
    snprintf(m.web_exe, sizeof m.web_exe, "%s/../../web/collab-web", m.exe_dir);
    set_sample_data(&m, COLLAB_SOURCE_DIR "/sample_data");
    m.jobs = default_jobs();
    int prc = parse_matrix(argc, argv, &m, &cols);
    if (prc != 0)
        return prc > 0 ? 0 : ATTACK_USAGE;
    if (load_catalogue(&m, cols) != 0)
        return ATTACK_USAGE;
    cell_t *cells = calloc((size_t)(m.cat.nattacks * m.cat.ncols), sizeof *cells);
    if (!cells)
        return ATTACK_ERROR;
    signal(SIGPIPE, SIG_IGN);
    fprintf(stderr, "collab-attack matrix: %d attacks x %d configurations, %d at a time\n",
            m.cat.nattacks, m.cat.ncols, m.jobs);
    run_all(&m, cells);
    int bad = compare(&m, cells);
    FILE *out = m.json_out ? fopen(m.json_out, "w") : NULL;
    if (out) {
        matrix_print_json(&m, cells, bad, out);
        if (fclose(out) != 0)
            out = NULL;
    }
    if (m.json_out && !out) {
        fprintf(stderr, "collab-attack matrix: cannot write %s\n", m.json_out);
        bad++;
    }
    if (m.json)
        matrix_print_json(&m, cells, bad, stdout);
    else
        matrix_print_table(&m, cells, bad);
    free(cells);
    catalogue_free(&m.cat);
    return bad ? 1 : 0;
}
