/*  cellweb.c: a web cell's collab-web (see cellweb.h). */
#include "cellweb.h"
#include "collab_clock.h"
#include "collab_spawn.h"

#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define CELLWEB_START_MS 10000
#define CELLWEB_PREFIX   "collab-web: "

/*  The strong web token key (web.token_key_file) of the cell: 64 random hex digits in an
    owner-only file, the form collab-keygen --web-token-key writes. */
static int write_token_key(const char *path)
{
    unsigned char key[32];
    char hex[65];
    randombytes_buf(key, sizeof key);
    sodium_bin2hex(hex, sizeof hex, key, sizeof key);
    sodium_memzero(key, sizeof key);
    hex[64] = '\n';
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    bool ok = fd >= 0 && write(fd, hex, 65) == 65;
    sodium_memzero(hex, sizeof hex);
    if (fd >= 0 && close(fd) != 0)
        ok = false;
    return ok ? 0 : -1;
}

int cellweb_start(cellweb_t *w, const char *exe, const char *endpoint, const char *creds,
                  char *const *config, int nconfig, const char *token_key, const char *log_path,
                  char *reason, size_t rcap)
{
    const char *argv[80];
    char credset[600];
    int n = 0;
    memset(w, 0, sizeof *w);
    w->out = -1;
    if (token_key && write_token_key(token_key) != 0) {
        snprintf(reason, rcap, "cannot write the web token key %s", token_key);
        return -1;
    }
    snprintf(credset, sizeof credset, "credentials=%s", creds);
    argv[n++] = exe;
    argv[n++] = "--broker";
    argv[n++] = endpoint;
    argv[n++] = "--set";
    argv[n++] = credset;
    argv[n++] = "--bind";
    argv[n++] = "127.0.0.1:0";
    for (int i = 0; i < nconfig && n < 79; i++)
        argv[n++] = config[i];
    argv[n] = NULL;
    const collab_spawn_opts_t opts = {.out = COLLAB_SPAWN_PIPE,
                                      .err = COLLAB_SPAWN_FILE,
                                      .err_path = log_path,
                                      .death_signal = SIGTERM};
    collab_proc_t child;
    if (collab_spawn(&child, argv, &opts) != 0) {
        snprintf(reason, rcap, "cannot start %s", exe);
        return -1;
    }
    char buf[2048];
    size_t len = 0;
    long long deadline = collab_mono_ms() + CELLWEB_START_MS;
    while (len < sizeof buf - 1 && !w->url[0]) {
        struct pollfd p = {child.out, POLLIN, 0};
        long long left = deadline - collab_mono_ms();
        if (left <= 0 || poll(&p, 1, (int)left) <= 0)
            break;
        ssize_t r = read(child.out, buf + len, sizeof buf - 1 - len);
        if (r <= 0)
            break;
        len += (size_t)r;
        buf[len] = '\0';
        char *l = strstr(buf, CELLWEB_PREFIX "http://");
        char *nl = l ? strchr(l, '\n') : NULL;
        if (nl && nl - l - (long)strlen(CELLWEB_PREFIX) < (long)sizeof w->url)
            snprintf(w->url, sizeof w->url, "%.*s", (int)(nl - l - (long)strlen(CELLWEB_PREFIX)),
                     l + strlen(CELLWEB_PREFIX));
    }
    if (w->url[0]) { /* its stdout stays open: a write there must not kill it */
        w->pid = child.pid;
        w->out = child.out;
        return 0;
    }
    collab_spawn_close(&child);
    collab_spawn_kill(&child, SIGKILL);
    collab_spawn_wait(&child, -1);
    buf[len] = '\0';
    char *nl = strchr(buf, '\n');
    snprintf(reason, rcap, "collab-web did not start (%s): %.*s", log_path,
             nl ? (int)(nl - buf) : (int)len, buf);
    return -1;
}

void cellweb_stop(cellweb_t *w)
{
    if (w->pid <= 0)
        return;
    collab_proc_t child = {.pid = w->pid, .in = -1, .out = -1, .err = -1};
    collab_spawn_kill(&child, SIGTERM);
    if (collab_spawn_wait(&child, 5000) != 0) /* killed at the deadline and reaped */
        fprintf(stderr, "collab-attack matrix: collab-web (pid %d) ignored SIGTERM\n", (int)w->pid);
    w->pid = 0;
    if (w->out >= 0)
        close(w->out);
    w->out = -1;
}
