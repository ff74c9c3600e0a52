/*  common.c: verdicts, narration, clients and the victim process (see attack.h). */
#include "attack.h"
#include "collab_clock.h"
#include "collab_spawn.h"

#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int verdict(verdict_t *v, int outcome, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->evidence, sizeof v->evidence, fmt, ap);
    va_end(ap);
    v->outcome = outcome;
    v->decided_by = NULL;
    return outcome;
}

int blocked(verdict_t *v, const char *control, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->evidence, sizeof v->evidence, fmt, ap);
    va_end(ap);
    v->outcome = ATTACK_BLOCKED;
    v->decided_by = control;
    return ATTACK_BLOCKED;
}

const char *control_of(int code, const char *fallback)
{
    switch (code) {
    case COLLAB_E_REPLAY:
    case COLLAB_E_NONCE_MISSING:
    case COLLAB_E_STALE_TIMESTAMP:
        return "replay";
    case COLLAB_E_SIGNATURE_MISSING:
    case COLLAB_E_BAD_SIGNATURE:
        return "signature_scope";
    case COLLAB_E_BINDING:
        return "peer_binding";
    case COLLAB_E_RATE_LIMITED:
        return "rate_limit";
    case COLLAB_E_LOCKED_OUT:
        return "login";
    case COLLAB_E_BAD_TEXT:
        return "text_fields";
    default:
        return fallback;
    }
}

/*  A ZMTP 3.0 greeting offering the NULL mechanism: signature, version 3.0, mechanism,
    as-server 0, filler (RFC 23). Its first 11 bytes are enough to get the peer's. */
static void zmtp_greeting(uint8_t g[64])
{
    memset(g, 0, 64);
    g[0] = 0xff;
    g[9] = 0x7f;
    g[10] = 3;
    memcpy(g + 12, "NULL", 4);
}

static int tcp_connect(const attack_opts_t *o, char *why, size_t cap)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *ai = NULL;
    char port[16];
    snprintf(port, sizeof port, "%d", o->port);
    int rc = getaddrinfo(o->host, port, &hints, &ai), fd = -1;
    if (rc != 0) {
        snprintf(why, cap, "%s: %s", o->host, gai_strerror(rc));
        return -1;
    }
    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        snprintf(why, cap, "nothing listens at %s (%s)", o->broker, strerror(errno));
        close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    return fd;
}

int att_transport(const attack_opts_t *o, char *mech, size_t cap)
{
    uint8_t g[64], peer[64];
    size_t got = 0;
    int fd = tcp_connect(o, mech, cap);
    if (fd < 0)
        return -1;
    zmtp_greeting(g);
    long long deadline = collab_mono_ms() + o->timeout_ms;
    /* only the signature and the major version: a CURVE server that read our NULL
       mechanism would hang up before its own greeting was sent */
    if (send(fd, g, 11, MSG_NOSIGNAL) != 11)
        got = sizeof peer + 1; /* marks the failure below */
    while (got < sizeof peer) {
        struct pollfd p = {fd, POLLIN, 0};
        long long left = deadline - collab_mono_ms();
        ssize_t r = left > 0 && poll(&p, 1, (int)left) > 0
                        ? recv(fd, peer + got, sizeof peer - got, 0)
                        : -1;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    if (got != sizeof peer || peer[0] != 0xff || (peer[9] & 1) != 1 || peer[10] < 3) {
        snprintf(mech, cap, "no ZMTP 3 greeting from %s", o->broker);
        return -1;
    }
    snprintf(mech, cap, "%.20s", (const char *)peer + 12);
    return 0;
}

int unanswered(const attack_opts_t *o, verdict_t *v, const char *what)
{
    char mech[160];
    if (att_transport(o, mech, sizeof mech) != 0)
        return verdict(v, ATTACK_ERROR, "a %s got no answer: %s", what, mech);
    if (strcmp(mech, "CURVE") == 0)
        return blocked(v, "transport",
                       "nothing readable: the broker speaks CURVE and answers no %s from a "
                       "client without an allowed key",
                       what);
    return verdict(v, ATTACK_ERROR, "a %s got no answer within %d ms (the broker speaks %s)", what,
                   o->timeout_ms, mech);
}

static const char *outcome_name(int outcome)
{
    return outcome == ATTACK_SUCCEEDED ? "SUCCEEDED"
           : outcome == ATTACK_BLOCKED ? "BLOCKED"
                                       : "ERROR";
}

int verdict_print(const char *attack, const verdict_t *v, bool json)
{
    lab_verdict_print("attack", attack, outcome_name(v->outcome), v->evidence, true,
                      v->outcome == ATTACK_BLOCKED ? v->decided_by : NULL, json);
    return v->outcome;
}

collab_client_t *own_client(const attack_opts_t *o, verdict_t *v)
{
    int code;
    collab_client_t *c = agent_cli_connect(&o->own, "collab-attack", &code);
    if (c) /* an attack observes what happens to its session: no silent re-login */
        collab_client_set_relogin(c, false);
    if (!c) /* the attack cannot run: that is no defence holding (never BLOCKED) */
        verdict(v, ATTACK_ERROR, "the attacker's own agent %s could not log in (%s)",
                o->own.agent_id,
                code == AGENT_EXIT_AUTH          ? "login refused: wrong password or unknown agent"
                : code == AGENT_EXIT_UNREACHABLE ? "the broker did not answer"
                : code == AGENT_EXIT_USAGE       ? "missing or unreadable credentials"
                                                 : "refused");
    return c;
}

collab_client_t *bare_client(const attack_opts_t *o, const char *agent_id, const char *source)
{
    char endpoint[512];
    if (source && *source)
        snprintf(endpoint, sizeof endpoint, "tcp://%s:0;%s:%d", source, o->host, o->port);
    else
        snprintf(endpoint, sizeof endpoint, "%s", o->broker);
    collab_client_opts_t co = {.endpoint = endpoint,
                               .agent_id = agent_id,
                               .password = "",
                               .timeout_ms = o->timeout_ms,
                               .retries = 0};
    return collab_client_new(&co);
}

int att_call(collab_client_t *c, collab_reply_t *r, const char *action, ...)
{
    uint8_t buf[4096];
    va_list ap;
    va_start(ap, action);
    size_t len = lab_pack_args(buf, sizeof buf, ap);
    va_end(ap);
    if (len == 0)
        return COLLAB_E_TOO_LARGE;
    collab_reply_t reply;
    int rc = collab_client_request(c, action, buf, len, &reply);
    if (rc)
        return rc;
    rc = reply.ok ? 0 : reply.code;
    if (rc == 0 && r)
        *r = reply;
    else
        collab_reply_free(&reply);
    return rc;
}

static void victim_drain(victim_t *vp);

static bool is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/*  The victim's password option: DIR/AGENT.pw from a directory, or the whole file of
    "agent password" lines for collab-victim to pick its own line (--passwords). */
static int password_args(const attack_opts_t *o, const char *agent, const char **argv, int n,
                         char *buf, size_t cap)
{
    if (is_dir(o->victim_passwords)) {
        snprintf(buf, cap, "%s/%s.pw", o->victim_passwords, agent);
        argv[n++] = "--password-file";
        argv[n++] = buf;
    } else {
        argv[n++] = "--passwords";
        argv[n++] = o->victim_passwords;
    }
    return n;
}

int victim_spawn_agent(victim_t *vp, const attack_opts_t *o, const char *agent, char *const argv[])
{
    const char *all[48];
    char pwfile[600];
    int n = 0;
    bool dir = is_dir(o->victim_passwords);
    if (!dir) { /* collab-victim reads the file and hands the password over a pipe */
        all[n++] = o->victim_exe;
        all[n++] = "--agent";
        all[n++] = agent;
        n = password_args(o, agent, all, n, pwfile, sizeof pwfile);
        all[n++] = "--exec";
    }
    for (int i = 0; argv[i] && n < 42; i++)
        all[n++] = argv[i];
    all[n++] = "--agent";
    all[n++] = agent;
    if (dir)
        n = password_args(o, agent, all, n, pwfile, sizeof pwfile);
    all[n] = NULL;
    return victim_spawn(vp, (char *const *)all);
}

void victim_last_words(victim_t *vp, char *out, size_t cap)
{
    victim_drain(vp);
    size_t end = vp->len;
    while (end > 0 && (vp->buf[end - 1] == '\n' || vp->buf[end - 1] == ' '))
        end--;
    size_t start = end;
    while (start > 0 && vp->buf[start - 1] != '\n')
        start--;
    snprintf(out, cap, "%.*s", (int)(end - start), vp->buf + start);
}

int victim_start(victim_t *vp, const attack_opts_t *o, const char *agent, const char *script,
                 const char *const *extra)
{
    const char *argv[40];
    int n = 0;
    char pwfile[600];
    argv[n++] = o->victim_exe;
    argv[n++] = "--broker";
    argv[n++] = o->broker;
    argv[n++] = "--agent";
    argv[n++] = agent;
    n = password_args(o, agent, argv, n, pwfile, sizeof pwfile);
    if (o->victim_key_file[0]) {
        argv[n++] = "--credentials";
        argv[n++] = o->victim_key_file;
    }
    char server[600], cert[600];
    if (o->curve_dir[0]) {
        snprintf(server, sizeof server, "%s/broker.cert", o->curve_dir);
        snprintf(cert, sizeof cert, "%s/%s.cert_secret", o->curve_dir, agent);
        argv[n++] = "--curve-server-key";
        argv[n++] = server;
        argv[n++] = "--curve-cert";
        argv[n++] = cert;
    }
    argv[n++] = "--script";
    argv[n++] = script;
    for (int i = 0; extra && extra[i] && n < 38; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    return victim_spawn(vp, (char *const *)argv);
}

int victim_spawn(victim_t *vp, char *const argv[])
{
    const collab_spawn_opts_t opts = {
        .out = COLLAB_SPAWN_PIPE, .err = COLLAB_SPAWN_STDOUT, .death_signal = SIGTERM};
    collab_proc_t child;
    memset(vp, 0, sizeof *vp);
    vp->status = -1;
    if (collab_spawn(&child, (const char *const *)argv, &opts) != 0)
        return -1;
    vp->pid = child.pid;
    vp->out = child.out;
    fcntl(vp->out, F_SETFL, O_NONBLOCK);
    return 0;
}

/*  Reads what is available; when the buffer is full the older half is dropped. */
static void victim_drain(victim_t *vp)
{
    for (;;) {
        if (vp->len == sizeof vp->buf - 1) {
            size_t half = sizeof vp->buf / 2;
            memmove(vp->buf, vp->buf + half, vp->len - half);
            vp->len -= half;
        }
        ssize_t r = read(vp->out, vp->buf + vp->len, sizeof vp->buf - 1 - vp->len);
        if (r <= 0)
            break;
        vp->len += (size_t)r;
    }
    vp->buf[vp->len] = '\0';
}

bool victim_expect(victim_t *vp, const char *prefix, char *value, size_t cap, int timeout_ms)
{
    long long deadline = collab_mono_ms() + timeout_ms;
    size_t plen = strlen(prefix);
    for (;;) {
        victim_drain(vp);
        for (char *line = vp->buf; line && *line;
             line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
            char *nl = strchr(line, '\n');
            if (nl && strncmp(line, prefix, plen) == 0) {
                if (value)
                    snprintf(value, cap, "%.*s", (int)(nl - line - (long)plen), line + plen);
                return true;
            }
        }
        long long left = deadline - collab_mono_ms();
        struct pollfd p = {vp->out, POLLIN, 0};
        if (left <= 0 || poll(&p, 1, (int)left) <= 0 ||
            (p.revents & (POLLHUP | POLLERR) && !(p.revents & POLLIN)))
            return false;
    }
}

bool victim_wait_bytes(victim_t *vp, const void *needle, size_t n, int timeout_ms)
{
    long long deadline = collab_mono_ms() + timeout_ms;
    for (;;) {
        victim_drain(vp);
        if (memmem(vp->buf, vp->len, needle, n))
            return true;
        long long left = deadline - collab_mono_ms();
        struct pollfd p = {vp->out, POLLIN, 0};
        if (left <= 0 || poll(&p, 1, (int)left) <= 0 || !(p.revents & POLLIN))
            return memmem(vp->buf, vp->len, needle, n) != NULL;
    }
}

int victim_wait(victim_t *vp, int timeout_ms)
{
    long long deadline = collab_mono_ms() + timeout_ms;
    int status;
    while (vp->pid > 0) {
        victim_drain(vp);
        pid_t r = waitpid(vp->pid, &status, WNOHANG);
        if (r == vp->pid) {
            vp->status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
            vp->pid = 0;
            break;
        }
        long long left = deadline - collab_mono_ms();
        struct pollfd p = {vp->out, POLLIN, 0};
        if (left <= 0) {
            victim_stop(vp);
            return -1;
        }
        poll(&p, 1, left > 50 ? 50 : (int)left); /* the pipe wakes us; EOF polls at once */
    }
    return vp->status;
}

void victim_stop(victim_t *vp)
{
    if (vp->pid > 0) {
        kill(vp->pid, SIGTERM);
        int status;
        while (waitpid(vp->pid, &status, 0) < 0 && errno == EINTR)
            ;
        vp->status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        vp->pid = 0;
    }
    if (vp->out > 0) {
        victim_drain(vp); /* its last words (a tally) are still in the pipe */
        close(vp->out);
        vp->out = -1;
    }
}
